"""A single NeuroSA chain at compiled speed: many random-scan iterations in one XLA custom call.

With one replica, a NeuroSA step is a few scalar operations and XLA:CPU's per-iteration cost of its
``while`` loop (≈ 70–120 ns) is the whole cost: 8–14 M it/s, where the same algorithm as a plain
compiled loop (numba, one core) runs 2–3× faster (issue 16). Here a block of iterations (the engine's
capture block, ``n`` iterations) is split in two:

1. what does not depend on the chain — the tested pair of every iteration (the shared site
   sequence) and its noisy threshold ``T_t · ln(B·U + ε)`` — is computed by XLA for the whole block at
   once, vectorised, by the model's own jnp code;
2. the sequential part — field of the pair from its neighbour row, fire test, flip, energy — runs as a
   C++ loop (``neurosim/_fastchain.cc``) called through ``jax.ffi``.

The C++ loop does the float32 operations of ``RowTable.row_sum`` in the same order (no FMA
contraction, no fast-math), so the chain is bit for bit the jax path's (tests/test_fastchain.py
compares states, energies and best cuts for the same seed). That holds as long as XLA evaluates the
vectorised thresholds exactly as it does one at a time, which the test also checks.

The library is built on first use with the system C++ compiler against the headers jaxlib ships
(``jax.ffi.include_dir()``), cached in ``$NEUROSIM_CACHE`` (default ``~/.cache/neurosim``) under
a hash of the source, the compiler and jaxlib's version. No compiler, a failed build, a non-CPU
backend, ``NEUROSIM_FASTCHAIN=0``, or a run that records more than the energy: the model's
step-by-step jax path runs instead (same results).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from . import _ffibuild

_SRC = "_fastchain.cc"
_TARGET = "neurosim_neurosa_chain"
#: iterations per custom call at most (bounds the precomputed site/threshold arrays: 8 bytes each)
MAX_BLOCK = 1 << 16


def available() -> bool:
    """Can the fused chain run here? (CPU backend, not disabled, library built and registered.)"""
    return _ffibuild.load(_SRC, {_TARGET: "NeurosimNeurosaChain"}, flags=["-O2"], env_switch="NEUROSIM_FASTCHAIN")


def error() -> str | None:
    """Why the fused chain is unavailable (None when it loaded or was not tried)."""
    return _ffibuild.error(_SRC)


def _call(model, s, energy, best_e, best_s, t_start, nsteps: int, block: int, capture: bool, keys):
    """One custom call: ``nsteps`` iterations from global step ``t_start`` (a multiple of ``block``)."""
    from neurosim import random as nsr

    t = t_start + jnp.arange(nsteps, dtype=jnp.int32)
    words = nsr.step_words(keys[0], t)  # the engine's step word of replica 0, every step of the call
    b1, b2 = model._words(words, None)
    mu = model._threshold(model.schedule(t), b1, b2).astype(jnp.float32)
    sites = model._next_site(t, None).astype(jnp.int32)
    tab = model.table
    shapes = (jax.ShapeDtypeStruct(s.shape, jnp.int8), jax.ShapeDtypeStruct((1,), jnp.float32),
              jax.ShapeDtypeStruct((1,), jnp.float32), jax.ShapeDtypeStruct(best_s.shape, jnp.int8),
              jax.ShapeDtypeStruct((nsteps // block,), jnp.float32))
    return jax.ffi.ffi_call(_TARGET, shapes)(
        s, energy, best_e.astype(jnp.float32), best_s.astype(jnp.int8), sites, mu, tab.nb, tab.w, tab.deg, model.b,
        chunk=np.int64(tab.chunk_wide), exact=np.int64(bool(getattr(tab, "exact", False))),
        block=np.int64(block), capture=np.int64(capture))


def scan_steps(model, state, t_start, nsteps: int, keys):
    """The random-scan state after ``nsteps`` iterations from ``t_start`` and its energy (no capture)."""
    s, energy = state.s, state.energy
    dummy = jnp.zeros((1, s.shape[0]), jnp.int8)
    done = 0
    while done < nsteps:  # python loop over static sizes (one call unless nsteps > MAX_BLOCK)
        k = min(MAX_BLOCK, nsteps - done)
        s, energy, _, _, _ = _call(model, s, energy, energy, dummy, t_start + done, k, k, False, keys)
        done += k
    return _with_prefetch(model, state, s, energy, t_start + nsteps), energy


def scan_blocks(model, state, best_e, best_s, t_start, n_blocks: int, block: int, keys):
    """``n_blocks`` capture blocks of ``block`` iterations from ``t_start``, the engine's best-state
    capture after each: (state, best_e, best_s, energy after each block (n_blocks,))."""
    per_call = max(1, MAX_BLOCK // block)  # blocks per custom call
    calls, rest = divmod(n_blocks, per_call)
    carry = (state.s, state.energy, best_e, best_s, jnp.zeros((n_blocks,), jnp.float32))

    def one(c, t0, k, at):
        s, e, be, bs, eb = c
        s, e, be, bs, ebk = _call(model, s, e, be, bs, t0, k * block, block, True, keys)
        return s, e, be.astype(best_e.dtype), bs.astype(best_s.dtype), jax.lax.dynamic_update_slice(eb, ebk, (at,))

    if calls:
        carry = jax.lax.fori_loop(0, calls, lambda c, cc: one(cc, t_start + c * per_call * block, per_call, c * per_call), carry)
    if rest:
        carry = one(carry, t_start + calls * per_call * block, rest, calls * per_call)
    s, e, be, bs, eb = carry
    return _with_prefetch(model, state, s, e, t_start + n_blocks * block), be, bs, eb


def _with_prefetch(model, state, s, energy, t_next):
    i, row, u = model._prefetch(s, t_next, None)  # the pair tested next, as the step-by-step path keeps it
    return type(state)(s, energy, i, row, u)


def eligible(model, state) -> bool:
    """Float model (no chip profile), shared-site random scan with one replica, on a CPU backend where
    the library loads."""
    return (getattr(model, "mode", None) == "random_scan" and getattr(model, "sites", None) == "shared"
            and getattr(model, "hardware", None) is None and getattr(model, "onchip", None) is None
            and state.s.ndim == 2 and state.s.shape[1] == 1 and available())
