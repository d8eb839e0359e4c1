"""XLA:CPU settings the simulator's loops want, applied at import when it is still possible.

XLA:CPU runs each iteration of a ``while`` loop as separately launched kernels (~50–100 ns each)
unless the loop body touches fewer than ``xla_cpu_small_while_loop_byte_threshold`` bytes (default
1024), in which case the whole loop is compiled as one function. A random-scan step (one neuron per
replica) does a few hundred bytes of work per replica, so with more than a handful of replicas the
launch overhead dominates. Raising the threshold compiles the simulation loops as single functions:
measured on the 2-core CPU, NeuroSA 1.2–9× faster (docs/neurosa.md), Gibbs random scan ~2–4×
faster (docs/performance.md). Results are bit-identical.

The value is 4 MiB, not "everything": a loop compiled as one function runs on one thread, so a loop
whose single iteration touches megabytes (a synchronous step of 1024 replicas × 800 neurons) is
faster left to XLA's multi-threaded kernels. Measured on the 2-core CPU (M updates/s, threshold
10⁹ → 4 MiB): Gibbs synchronous G1 × 1024 replicas 533 → 680–840, NeuroSA G15 × 1024 297 → 385,
Gibbs random scan G1 × 1024 155 → 180; 1–64 replicas unchanged.

The option is read when JAX creates its CPU backend, so it must be in ``XLA_FLAGS`` before the first
computation. ``import neurosim`` adds it when (a) the user has not set the option, (b) the
environment does not say ``NEUROSIM_XLA_DEFAULTS=0``, and (c) no JAX backend exists yet. Otherwise
nothing changes (and :func:`small_loop_threshold` reports what is in effect).
"""

from __future__ import annotations

import os

OPTION = "xla_cpu_small_while_loop_byte_threshold"
VALUE = 4 * 1024 * 1024  # bytes touched by one loop iteration (see above)
_EXTRA = "--xla_backend_extra_options="


def _backends_started() -> bool:
    try:
        from jax._src import xla_bridge

        return bool(getattr(xla_bridge, "_backends", {}))
    except Exception:  # private API moved: assume started, change nothing
        return True


def with_small_loop_threshold(flags: str, value: int = VALUE) -> str:
    """``flags`` (an XLA_FLAGS string) with the option added, merged into an existing
    ``--xla_backend_extra_options=k=v,...`` if there is one."""
    parts = flags.split()
    for k, p in enumerate(parts):
        if p.startswith(_EXTRA):
            parts[k] = f"{p},{OPTION}={value}" if p != _EXTRA else f"{_EXTRA}{OPTION}={value}"
            return " ".join(parts)
    return " ".join(parts + [f"{_EXTRA}{OPTION}={value}"])


def apply_defaults() -> bool:
    """Add the option to ``XLA_FLAGS`` if allowed (see module docstring). Returns whether it did."""
    flags = os.environ.get("XLA_FLAGS", "")
    if OPTION in flags or os.environ.get("NEUROSIM_XLA_DEFAULTS", "1") == "0" or _backends_started():
        return False
    os.environ["XLA_FLAGS"] = with_small_loop_threshold(flags)
    return True


def small_loop_threshold() -> int | None:
    """The threshold requested in ``XLA_FLAGS`` (None: XLA's default of 1024 bytes)."""
    for p in os.environ.get("XLA_FLAGS", "").split():
        if p.startswith(_EXTRA):
            for kv in p[len(_EXTRA):].split(","):
                if kv.startswith(OPTION + "="):
                    return int(kv.split("=", 1)[1])
    return None
