"""``calibrate``: fit a cost model's free constants to measured (published) figures, with held-out errors.

A :class:`Measurement` pairs a published figure with a function that predicts it from a cost
model (it closes over the mapped activity of the runs it stands for). :func:`calibrate` fits
the free constants by least squares on ``log(predicted / published)`` (so a factor 2 too high
counts as much as a factor 2 too low), in log space (constants stay positive), by damped
Gauss–Newton with finite-difference derivatives. Its report gives, for every figure, the
a-priori prediction, the fitted one, and the **held-out** prediction: the figure predicted by a
model fitted to all the *other* figures (leave-one-out). The held-out errors are the model's
stated error; the fit errors alone would flatter it.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from ._cost import Constant, CostModel


@dataclasses.dataclass(frozen=True)
class Measurement:
    name: str
    value: float
    unit: str
    source: str
    predict: Callable[[CostModel], float]


def calibrate(cost_model: CostModel, measurements, free=("static_w_per_chip",), *, iterations: int = 60):
    """Fit ``free`` constants of ``cost_model`` to ``measurements``; returns ``(fitted model, report)``."""
    measurements = list(measurements)
    free = tuple(free)
    if not measurements:
        raise ValueError("calibrate: no measurements given")
    for f in free:
        if cost_model.value(f) <= 0:
            raise ValueError(f"calibrate: free constant {f} must start > 0 (log-space fit), it is {cost_model.value(f)!r}")
    for m in measurements:
        if not m.value > 0:
            raise ValueError(f"calibrate: measurement {m.name!r} must be > 0, got {m.value!r}")
    fitted = _fit(cost_model, measurements, free, iterations)
    rows = []
    for i, m in enumerate(measurements):
        others = measurements[:i] + measurements[i + 1 :]
        held = _fit(cost_model, others, free, iterations) if others else cost_model
        row = {"name": m.name, "published": m.value, "unit": m.unit, "source": m.source}
        for key, model in (("a_priori", cost_model), ("fitted", fitted), ("held_out", held)):
            p = float(m.predict(model))
            row[key] = p
            row[f"{key}_error_percent"] = 100.0 * (p / m.value - 1.0)
        rows.append(row)
    names = ", ".join(m.name for m in measurements)
    changes = {}
    for f in free:
        old = getattr(cost_model, f)
        new = fitted.value(f)
        changes[f] = Constant(new, old.unit, f"calibrated to [{names}] (a priori {old.value:.4g} {old.unit}: {old.source})")
    fitted = cost_model.replace(calibrated=f"calibrated: {', '.join(free)} fitted to [{names}]", **changes)
    worst = max(abs(np.log(max(r["held_out"], 1e-300) / r["published"])) for r in rows)
    report = {
        "free": list(free),
        "constants": {f: {"a_priori": cost_model.value(f), "fitted": fitted.value(f), "unit": getattr(cost_model, f).unit} for f in free},
        "measurements": rows,
        "stated_error_factor": float(np.exp(worst)),
        "note": "held_out = predicted by a model fitted to the other figures only (leave-one-out); stated_error_factor = worst held-out ratio",
    }
    return fitted, report


def _fit(model: CostModel, measurements, free, iterations) -> CostModel:
    theta = np.log([model.value(f) for f in free])
    theta0 = theta.copy()
    target = np.log([m.value for m in measurements])

    def residuals(th):
        cm = model.replace(**{f: float(np.exp(t)) for f, t in zip(free, th)})
        pred = np.array([float(m.predict(cm)) for m in measurements])
        return np.log(np.maximum(pred, 1e-300)) - target

    r = residuals(theta)
    lam = 1e-3
    for _ in range(iterations):
        J = np.empty((len(r), len(theta)))
        for k in range(len(theta)):
            d = np.zeros_like(theta)
            d[k] = 1e-4
            J[:, k] = (residuals(theta + d) - r) / 1e-4
        A = J.T @ J
        step = -np.linalg.solve(A + lam * np.diag(np.diag(A) + 1e-12), J.T @ r)
        step = np.clip(step, -3.0, 3.0)  # at most a factor 20 per iteration
        cand = np.clip(theta + step, theta0 - 12.0, theta0 + 12.0)
        rc = residuals(cand)
        if rc @ rc < r @ r:
            theta, r, lam = cand, rc, lam * 0.3
            if np.max(np.abs(step)) < 1e-7:
                break
        else:
            lam *= 10.0
            if lam > 1e8:
                break
    return model.replace(**{f: float(np.exp(t)) for f, t in zip(free, theta)})
