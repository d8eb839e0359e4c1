"""Gibbs random scan with shared sites at compiled speed: many steps of all replicas in one custom call.

A shared-site random-scan step (``Gibbs(mode="sequential")``, the default ``sites="shared"``) tests one
spin in every replica: a sum of the spin's neighbour rows (contiguous over replicas), one random word
and one test per replica. In XLA:CPU's compiled ``while`` loop this runs at ≈ 140 M updates/s on G1 ×
1024 replicas (AVX-512, 2 cores) — a few µs of loop, dynamic-slice and fusion boundaries per step for
≈ 50 k additions — while dwave-samplers' one-core annealer runs ≈ 30 M/s (issue 16's target: 15×).
Here (``neurosim/_fastscan.cc``):

1. XLA computes, for every step of the call, the tested spin (the model's shared site sequence) and
   the acceptance probability of *every value the field can take* — the fields lie on a lattice
   ``1/scale`` (Max-Cut: J = ±½), so a table of ``L`` values per step, with the model's own jnp
   expression (``σ(2f/T)`` or ``exp(−2·s·f/T)``);
2. a C++ loop, vectorised over replicas and split over the CPUs in replica slabs, sums the fields in
   exact integers, hashes each replica's random word exactly as ``neurosim.random`` does, tests,
   flips and updates the energy with the jax path's float32 operations.

So the chain is bit for bit the jax path's (``tests/test_fastscan.py``), provided XLA evaluates the
tabulated probabilities as it does per replica, which the test also checks. Used when the model is
float (no chip profile), the weights and biases lie on such a lattice (:func:`lattice`), the backend is
a CPU, nothing but the energy is recorded and the library builds (``neurosim/_ffibuild.py``);
``NEUROSIM_FASTSCAN=0`` turns it off. Otherwise the step-by-step jax path runs (same results).
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np

from . import _ffibuild

_SRC = "_fastscan.cc"
_TARGET = "neurosim_gibbs_scan"
#: floats of the per-call probability table at most (steps × lattice values)
MAX_TABLE = 1 << 20
#: lattice values per step at most (beyond, the jax path runs)
MAX_LATTICE = 1 << 13


def available() -> bool:
    return _ffibuild.load(_SRC, {_TARGET: "NeurosimGibbsScan"}, flags=_ffibuild.native_arch(), env_switch="NEUROSIM_FASTSCAN")


def error() -> str | None:
    return _ffibuild.error(_SRC)


def lattice(w, deg, h, max_shift: int = 16):
    """``(scale, fmax)`` when every weight and bias is an integer multiple of ``1/scale`` (a power of two)
    and every field satisfies ``|f|·scale ≤ fmax`` with the table small enough; else None.

    Exactness: with ``fmax ≤ 2^23`` every partial sum of a field is an integer multiple of ``1/scale``
    below 2^24 of them, so the jax path's float32 sums are exact in any order."""
    w = np.asarray(w, np.float64)
    h = np.asarray(h, np.float64)
    deg = np.asarray(deg)
    if w.size == 0 and h.size == 0:
        return None
    for k in range(max_shift + 1):
        sc = float(2**k)
        if np.all(w * sc == np.round(w * sc)) and np.all(h * sc == np.round(h * sc)):
            mask = np.arange(w.shape[1])[None, :] < deg[:, None] if w.ndim == 2 else True
            bound = (np.abs(w) * mask).sum(axis=-1) + np.abs(h)
            fmax = int(np.round(bound.max(initial=0.0) * sc))
            if fmax > 2**23 or 2 * fmax + 1 > MAX_LATTICE:
                return None
            return 2**k, fmax
    return None


def plan(table, h) -> tuple:
    """``(lattice, min_replicas)`` for a model's shared-site table and biases: :func:`lattice` (None: the
    kernel cannot be used), and the fewest replicas for which it pays — it tabulates ``L = 2·fmax + 1``
    probabilities per step whatever the replica count, so it needs ``R·mean degree ≥ L`` (measured
    crossover, docs/performance.md)."""
    lat = lattice(np.asarray(table.w), np.asarray(table.deg), np.asarray(h))
    if lat is None:
        return None, 1
    deg = max(1, int(np.asarray(table.deg).mean()))
    return lat, max(1, -(-(2 * lat[1] + 1) // deg))


def eligible(model, state) -> bool:
    return (getattr(model, "mode", None) == "sequential" and getattr(model, "sites", None) == "shared"
            and getattr(model, "hardware", None) is None and getattr(model, "scan_lattice", None) is not None
            and state.s.ndim == 2 and state.s.shape[1] >= getattr(model, "scan_min_replicas", 1) and available())


def _table(model, t):
    """Acceptance probability per step ``t`` and lattice value, by the model's own expression."""
    scale, fmax = model.scan_lattice
    v = (jnp.arange(-fmax, fmax + 1, dtype=jnp.int32).astype(jnp.float32) * jnp.float32(1.0 / scale))[None, :]
    T = jnp.broadcast_to(model.schedule(t), t.shape).astype(jnp.float32)[:, None]  # a Constant gives a scalar
    return model._acceptance(v, T)


def _call(model, s, energy, best_e, best_s, t_start, nsteps: int, block: int, capture: bool, keys):
    scale, fmax = model.scan_lattice
    t = t_start + jnp.arange(nsteps, dtype=jnp.int32)
    tab = model.table
    wq = jnp.round(tab.w * jnp.float32(scale)).astype(jnp.int32)
    hq = jnp.round(model.h * jnp.float32(scale)).astype(jnp.int32)
    R, n = s.shape[1], s.shape[0]
    shapes = (jax.ShapeDtypeStruct(s.shape, jnp.int8), jax.ShapeDtypeStruct((R,), jnp.float32),
              jax.ShapeDtypeStruct((R,), jnp.float32), jax.ShapeDtypeStruct((R, n) if capture else (1, 1), jnp.int8),
              jax.ShapeDtypeStruct((nsteps // block, R), jnp.float32))
    return jax.ffi.ffi_call(_TARGET, shapes, vmap_method="sequential")(
        s, energy.astype(jnp.float32), best_e.astype(jnp.float32), best_s.astype(jnp.int8),
        model._site(t), _table(model, t), keys.astype(jnp.uint32), tab.nb, wq, tab.deg, hq,
        jnp.reshape(jnp.asarray(t_start, jnp.int32), (1,)),
        kmin=np.int64(-fmax), scale=np.int64(scale), metropolis=np.int64(model.rule == "metropolis"),
        block=np.int64(block), capture=np.int64(capture), threads=np.int64(int(os.environ.get("NEUROSIM_SCAN_THREADS", "0"))))


def _steps_per_call(model, block: int) -> int:
    L = 2 * model.scan_lattice[1] + 1
    return max(block, (MAX_TABLE // L) // block * block)


def scan_steps(model, state, t_start, nsteps: int, keys):
    """The state after ``nsteps`` steps from ``t_start`` and its energy (no capture)."""
    s, energy = state.s, state.energy
    dummy = jnp.zeros((1, 1), jnp.int8)
    per = _steps_per_call(model, 1)
    done = 0
    while done < nsteps:  # python loop over static sizes
        k = min(per, nsteps - done)
        s, energy, _, _, _ = _call(model, s, energy, energy, dummy, t_start + done, k, k, False, keys)
        done += k
    return model._with_prefetch(s, energy, t_start + nsteps), energy


def scan_blocks(model, state, best_e, best_s, t_start, n_blocks: int, block: int, keys):
    """``n_blocks`` capture blocks of ``block`` steps, the engine's best-state capture after each:
    (state, best_e, best_s, energy after each block (n_blocks, R))."""
    per_call = max(1, _steps_per_call(model, block) // block)
    calls, rest = divmod(n_blocks, per_call)
    R = state.s.shape[1]
    carry = (state.s, state.energy, best_e, best_s, jnp.zeros((n_blocks, R), jnp.float32))

    def one(c, t0, k, at):
        s, e, be, bs, eb = c
        s, e, be2, bs2, ebk = _call(model, s, e, be, bs, t0, k * block, block, True, keys)
        return s, e.astype(state.energy.dtype), be2.astype(best_e.dtype), bs2.astype(best_s.dtype), jax.lax.dynamic_update_slice(eb, ebk, (at, 0))

    if calls:
        carry = jax.lax.fori_loop(0, calls, lambda c, cc: one(cc, t_start + c * per_call * block, per_call, c * per_call), carry)
    if rest:
        carry = one(carry, t_start + calls * per_call * block, rest, calls * per_call)
    s, e, be, bs, eb = carry
    return model._with_prefetch(s, e, t_start + n_blocks * block), be, bs, eb
