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

import ctypes
import hashlib
import os
import shutil
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np

_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_fastchain.cc")
_TARGET = "neurosim_neurosa_chain"
_STATE: dict = {}  # "lib": ctypes handle or None once tried; "error": why not
#: iterations per custom call at most (bounds the precomputed site/threshold arrays: 8 bytes each)
MAX_BLOCK = 1 << 16


def _cache_dir() -> str:
    return os.environ.get("NEUROSIM_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "neurosim")


def _compiler() -> str | None:
    return os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")


def build(verbose: bool = False) -> str | None:
    """Path of the compiled library (building it if needed), or None with the reason in ``_STATE``."""
    cxx = _compiler()
    if cxx is None:
        _STATE["error"] = "no C++ compiler (set CXX or install g++/clang++)"
        return None
    src = open(_SRC, "rb").read()
    import jaxlib

    tag = hashlib.sha256(src + cxx.encode() + jaxlib.__version__.encode() + sys.platform.encode()).hexdigest()[:16]
    out = os.path.join(_cache_dir(), f"fastchain-{tag}.so")
    if os.path.exists(out):
        return out
    os.makedirs(_cache_dir(), exist_ok=True)
    tmp = f"{out}.{os.getpid()}.tmp"
    # -ffp-contract=off: no fused multiply-add, so each float32 operation rounds as XLA's does
    cmd = [cxx, "-O2", "-std=c++17", "-shared", "-fPIC", "-ffp-contract=off", "-fno-fast-math",
           "-I", jax.ffi.include_dir(), _SRC, "-o", tmp]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        _STATE["error"] = f"C++ build failed: {exc}"
        return None
    if res.returncode != 0:
        _STATE["error"] = "C++ build failed: " + res.stderr[-2000:]
        if verbose:
            print(_STATE["error"], file=sys.stderr)
        return None
    os.replace(tmp, out)  # atomic: concurrent builders race harmlessly
    return out


def available() -> bool:
    """Can the fused chain run here? (CPU backend, not disabled, library built and registered.)"""
    if os.environ.get("NEUROSIM_FASTCHAIN", "1") == "0" or jax.default_backend() != "cpu":
        return False
    if "lib" not in _STATE:
        path = build()
        lib = None
        if path is not None:
            try:
                lib = ctypes.CDLL(path)
                jax.ffi.register_ffi_target(_TARGET, jax.ffi.pycapsule(lib.NeurosimNeurosaChain), platform="cpu")
            except Exception as exc:  # noqa: BLE001 - any failure means: use the jax path
                _STATE["error"] = f"loading {path} failed: {exc}"
                lib = None
        _STATE["lib"] = lib
    return _STATE["lib"] is not None


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
