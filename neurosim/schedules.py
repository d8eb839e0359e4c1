"""Temperature schedules as data.

Each schedule is an ``eqx.Module`` whose constants are array leaves, evaluated at the (int32) step
index inside the compiled step: changing a value never triggers a recompile, only changing the
schedule's *type* does. All return float32 temperatures.

| schedule | T(t) |
|---|---|
| :class:`Constant` | ``T0`` |
| :class:`Linear` | ``max(T_min, T0 - ΔT·t)`` (SPEC 4.1: ``T(t+1) = max(T_min, T(t) - ΔT)``) |
| :class:`Geometric` | ``max(T_min, T0·r^t)`` |
| :class:`InverseTime` | ``T0 / (1 + t/τ)`` (the "1/t" ablation) |
| :class:`Exponential` | ``T0·exp(-t/τ)`` (the "e^{-t}" ablation) |
| :class:`FowlerNordheim` | ``T0 / ln(1 + (t0 + t·δ)/C)`` (NeuroSA's FN annealer) |
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax.numpy as jnp


def _f32(x):
    return jnp.asarray(x, dtype=jnp.float32)


def _tf(t):
    return jnp.asarray(t).astype(jnp.float32)


def _check_endpoints(T_start, T_end, steps) -> None:
    """An anneal runs between two finite temperatures > 0 over a positive whole number of steps."""
    import math
    import numbers

    for name, T in (("T_start", T_start), ("T_end", T_end)):
        if isinstance(T, bool) or not isinstance(T, numbers.Real) or not math.isfinite(T) or T <= 0:
            raise ValueError(f"{name} must be a finite number > 0, got {T!r}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"an anneal needs a positive integer number of steps, got {steps!r}")


class AbstractSchedule(eqx.Module):
    """``T = schedule(t)`` for an int step index ``t``."""

    @abc.abstractmethod
    def __call__(self, t) -> jnp.ndarray: ...

    @classmethod
    def anneal(cls, T_start: float, T_end: float, steps: int, **kw) -> "AbstractSchedule":
        """A schedule of this type that goes from ``T_start`` at t=0 to ``T_end`` at t=steps-1."""
        raise NotImplementedError(f"{cls.__name__} has no anneal() constructor")


class Constant(AbstractSchedule):
    T0: jnp.ndarray

    def __init__(self, T0: float):
        self.T0 = _f32(T0)

    def __call__(self, t):
        return self.T0


class Linear(AbstractSchedule):
    T0: jnp.ndarray
    dT: jnp.ndarray
    T_min: jnp.ndarray

    def __init__(self, T0: float, dT: float, T_min: float = 0.0):
        self.T0, self.dT, self.T_min = _f32(T0), _f32(dT), _f32(T_min)

    def __call__(self, t):
        return jnp.maximum(self.T_min, self.T0 - self.dT * _tf(t))

    @classmethod
    def anneal(cls, T_start, T_end, steps, **kw):
        _check_endpoints(T_start, T_end, steps)
        return cls(T_start, (T_start - T_end) / max(1, steps - 1), T_end)


class Geometric(AbstractSchedule):
    T0: jnp.ndarray
    ratio: jnp.ndarray
    T_min: jnp.ndarray

    def __init__(self, T0: float, ratio: float, T_min: float = 0.0):
        self.T0, self.ratio, self.T_min = _f32(T0), _f32(ratio), _f32(T_min)

    def __call__(self, t):
        return jnp.maximum(self.T_min, self.T0 * jnp.exp(jnp.log(self.ratio) * _tf(t)))

    @classmethod
    def anneal(cls, T_start, T_end, steps, **kw):
        _check_endpoints(T_start, T_end, steps)
        return cls(T_start, (T_end / T_start) ** (1.0 / max(1, steps - 1)), T_end)


class InverseTime(AbstractSchedule):
    T0: jnp.ndarray
    tau: jnp.ndarray

    def __init__(self, T0: float, tau: float = 1.0):
        self.T0, self.tau = _f32(T0), _f32(tau)

    def __call__(self, t):
        return self.T0 / (1.0 + _tf(t) / self.tau)

    @classmethod
    def anneal(cls, T_start, T_end, steps, **kw):
        _check_endpoints(T_start, T_end, steps)
        return cls(T_start, max(1, steps - 1) / (T_start / T_end - 1.0))


class Exponential(AbstractSchedule):
    T0: jnp.ndarray
    tau: jnp.ndarray

    def __init__(self, T0: float, tau: float):
        self.T0, self.tau = _f32(T0), _f32(tau)

    def __call__(self, t):
        return self.T0 * jnp.exp(-_tf(t) / self.tau)

    @classmethod
    def anneal(cls, T_start, T_end, steps, **kw):
        _check_endpoints(T_start, T_end, steps)
        import math

        return cls(T_start, max(1, steps - 1) / math.log(T_start / T_end))


class FowlerNordheim(AbstractSchedule):
    """``T_n = T0 / ln(1 + t_n / C)``, ``t_n = t0 + n·δ`` (NeuroSA; published C=8e4, T0=0.3125, t0=1, δ=2e-3).

    Evaluated as ``T0 / log1p((t0 + n·δ)/C)`` so the early, tiny arguments keep full precision."""

    T0: jnp.ndarray
    C: jnp.ndarray
    t0: jnp.ndarray
    delta: jnp.ndarray

    def __init__(self, T0: float = 0.3125, C: float = 8e4, t0: float = 1.0, delta: float = 2e-3):
        self.T0, self.C, self.t0, self.delta = _f32(T0), _f32(C), _f32(t0), _f32(delta)

    def __call__(self, t):
        return self.T0 / jnp.log1p((self.t0 + _tf(t) * self.delta) / self.C)


SCHEDULES = {
    "constant": Constant,
    "linear": Linear,
    "geometric": Geometric,
    "inverse": InverseTime,
    "1/t": InverseTime,
    "exponential": Exponential,
    "exp": Exponential,
    "fn": FowlerNordheim,
    "fowler-nordheim": FowlerNordheim,
}
