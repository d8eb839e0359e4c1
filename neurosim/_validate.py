"""Checks shared by the problem builders: real numeric arrays, integral vertex ids, and coefficients
the simulator's float32 arithmetic can hold. Each refusal is a one-line ``ValueError`` naming the
argument, the offending value and what was expected."""

from __future__ import annotations

import numbers

import numpy as np

#: The simulator computes fields and energies in float32: no coefficient, and no sum of them that a
#: field or an energy can reach, may exceed this.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def real_array(values, name: str, *, allow_bool: bool = True) -> np.ndarray:
    """``values`` as a float64 array, refusing what a plain ``np.asarray(…, float)`` would coerce
    silently: complex numbers (imaginary part dropped), strings (``"1.5"`` parsed) and objects."""
    arr = np.asarray(values)
    kind = arr.dtype.kind
    if kind == "O":
        flat = arr.ravel()
        for k, v in enumerate(flat):
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
                where = np.unravel_index(k, arr.shape) if arr.ndim else ()
                raise ValueError(f"{name} must hold real numbers; found {v!r} ({type(v).__name__}) at index {tuple(int(i) for i in where)}")
        arr = arr.astype(np.float64)
        kind = "f"
    if kind == "c":
        raise ValueError(f"{name} must be real; got a complex array (dtype {arr.dtype}), whose imaginary part would be dropped")
    if kind in "USV":
        raise ValueError(f"{name} must be numeric; got dtype {arr.dtype} (strings are not parsed as numbers)")
    if kind == "b" and not allow_bool:
        raise ValueError(f"{name} must be numeric, not boolean")
    if kind not in "biuf":
        raise ValueError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    with np.errstate(over="ignore"):
        out = arr.astype(np.float64)
    check_coefficients(name, out)
    return out


def check_coefficients(name: str, values: np.ndarray) -> None:
    """Finite and within float32's range, naming the first bad entry."""
    values = np.asarray(values)
    bad = ~np.isfinite(values)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} contains a non-finite value {values[idx]!r} at index {idx}")
    big = np.abs(values) > FLOAT32_MAX
    if big.any():
        idx = tuple(int(i) for i in np.argwhere(big)[0])
        raise ValueError(
            f"{name} has {float(values[idx]):g} at index {idx}, beyond {FLOAT32_MAX:.4g}, the largest float32 the simulator computes in"
        )


def check_energy_range(name: str, bound: float) -> None:
    """``bound``: the largest |energy| or |field| the coefficients can produce (a sum of |values|)."""
    if not bound <= FLOAT32_MAX:
        raise ValueError(
            f"{name}: the coefficients' absolute values sum to {bound:.4g}, so fields and energies can reach it, beyond "
            f"{FLOAT32_MAX:.4g}, the largest float32 the simulator computes in; rescale the problem"
        )


def vertex_ids(values, name: str) -> np.ndarray:
    """Integral, finite vertex ids as int64 (float ids like 1.7 are refused, not truncated)."""
    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        if arr.dtype.kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
            raise ValueError(f"{name}: vertex id {int(arr.max())} does not fit in int64")
        return arr.astype(np.int64)
    flt = real_array(arr, name, allow_bool=False)
    frac = flt != np.round(flt)
    if frac.any():
        k = tuple(int(i) for i in np.argwhere(frac)[0])
        raise ValueError(f"{name}: vertex ids must be integers, found {flt[k]!r} at index {k}")
    if flt.size and np.abs(flt).max() >= 2.0**53:
        raise ValueError(f"{name}: vertex id {np.abs(flt).max():g} is too large to be exact in a float array")
    return flt.astype(np.int64)


def problem_size(n, name: str = "n") -> int:
    """A positive int number of variables (bool and fractional n refused)."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (numbers.Integral, np.integer)):
        if isinstance(n, (float, np.floating)) and float(n).is_integer():
            n = int(n)
        else:
            raise ValueError(f"{name} must be an integer number of variables, got {n!r}")
    n = int(n)
    if n < 1:
        raise ValueError(f"{name}={n}: a problem needs at least one variable")
    if n > 2**31 - 1:
        raise ValueError(f"{name}={n}: more variables than the simulator indexes (int32, at most {2**31 - 1})")
    need, have = 32 * n, _host_memory()
    if have and need > have // 2:  # a header's n alone must not exhaust the host (four float64 vectors)
        raise ValueError(f"{name}={n}: its per-variable float64 vectors alone need {need / 2**30:.1f} GiB, over half of this host's {have / 2**30:.1f} GiB")
    return n


def _host_memory() -> int:
    try:
        import os

        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not available on this platform: no check
        return 0
