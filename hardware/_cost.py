"""First-order chip cost model: a mapped run's measured activity → chip time and energy.

Per sampled step ``s`` and replica ``r`` (activity from :mod:`hardware._activity`, counts per core):

    core time_c  = updates_c·neuron_update_s + syn_events_c·synop_s + spikes_c·spike_s
    step time    = max_c core time_c                       (the slowest core sets the pace)
                 + (hops / packets)·hop_s                  (mean router path of this step's packets)
                 + barrier_s + barrier_per_chip_s·(chips − 1)   (end-of-step synchronisation)
    dynamic      = Σ_c (updates_c·neuron_update_j + syn_events_c·synop_j + spikes_c·spike_j) + hops·hop_j
    static power = static_w_per_chip·chips + static_w_per_core·cores
    energy       = Σ_steps dynamic + static power × time       (exactly, by construction)

Steps between two samples take the values of the sample before them (the first sample also
stands for the steps before it), so a run with constant activity costs exactly ``steps ×`` one
step. **Per replica**: the chip runs one replica per mapped copy of the network; every figure is
that of one copy running one replica (its own cores and chips, static power included), averaged
over the replicas. R replicas on R copies cost R× the energy in the same time.

Every constant is a :class:`Constant` (value, unit, source: a citation or ``"assumption: …"``);
``model.replace(synop_j=30e-12)`` overrides any of them. :func:`hardware._cost_fit.calibrate`
fits the free ones to published figures.
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Constant:
    value: float
    unit: str
    source: str

    def describe(self) -> dict:
        return {"value": self.value, "unit": self.unit, "source": self.source}


_TIME = ("neuron_update_s", "synop_s", "spike_s", "hop_s", "barrier_s", "barrier_per_chip_s")
_ENERGY = ("neuron_update_j", "synop_j", "spike_j", "hop_j")
_STATIC = ("static_w_per_chip", "static_w_per_core")
FIELDS = _TIME + _ENERGY + _STATIC

PER_REPLICA = (
    "per replica: one replica on one mapped copy of the network (its cores and chips, static power included), "
    "mean over replicas; R replicas on R copies cost R x the energy in the same time"
)


@dataclasses.dataclass(frozen=True)
class CostModel:
    """Constants of one chip's cost model; see the module docstring for the formulas."""

    name: str
    neuron_update_s: Constant
    synop_s: Constant
    spike_s: Constant
    hop_s: Constant
    barrier_s: Constant
    barrier_per_chip_s: Constant
    neuron_update_j: Constant
    synop_j: Constant
    spike_j: Constant
    hop_j: Constant
    static_w_per_chip: Constant
    static_w_per_core: Constant
    calibrated: str = "not calibrated: a-priori constants"

    def __post_init__(self):
        for f in FIELDS:
            c = getattr(self, f)
            if not isinstance(c, Constant):
                raise ValueError(f"CostModel {self.name}: {f} must be a Constant, got {type(c).__name__}")
            if not (np.isfinite(c.value) and c.value >= 0):
                raise ValueError(f"CostModel {self.name}: {f} must be a finite value ≥ 0, got {c.value!r}")

    def replace(self, **changes) -> "CostModel":
        """A copy with constants changed; a plain number keeps the unit and is marked as an override."""
        bad = [k for k in changes if k not in FIELDS and k not in ("name", "calibrated")]
        if bad:
            raise ValueError(f"unknown cost-model constant(s) {bad}; constants: {list(FIELDS)}")
        out = {}
        for k, v in changes.items():
            if k in FIELDS and not isinstance(v, Constant):
                old = getattr(self, k)
                v = Constant(float(v), old.unit, f"override (was {old.value:.4g} {old.unit}: {old.source})")
            out[k] = v
        return dataclasses.replace(self, **out)

    def value(self, field: str) -> float:
        return float(getattr(self, field).value)

    def describe(self) -> dict:
        return {"name": self.name, "calibrated": self.calibrated, **{f: getattr(self, f).describe() for f in FIELDS}}

    # ------------------------------------------------------------------ estimate
    def step_costs(self, mapping, activity) -> dict:
        """Per sampled step and replica ``(S, R)`` arrays: time parts (s) and energy parts (J)."""
        v = self.value
        upd, spk, syn = (np.asarray(getattr(activity, k), dtype=np.float64) for k in ("updates", "spikes", "syn_events"))
        packets = np.asarray(activity.packets, dtype=np.float64)
        hops = np.asarray(activity.hops, dtype=np.float64)
        if upd.ndim != 3 or upd.shape != spk.shape or upd.shape != syn.shape or packets.shape != upd.shape[:2] or hops.shape != packets.shape:
            raise ValueError(
                f"activity: updates/spikes/syn_events must share a (S, R, cores) shape and packets/hops be (S, R); "
                f"got {upd.shape}, {spk.shape}, {syn.shape}, {packets.shape}, {hops.shape}"
            )
        if upd.shape[0] == 0:
            raise ValueError("activity has no sampled steps: nothing to estimate the chip cost from")
        chips = int(mapping.chips)
        core_t = upd * v("neuron_update_s") + syn * v("synop_s") + spk * v("spike_s")
        return {
            "compute_s": core_t.max(axis=-1),
            "comm_s": np.divide(hops, packets, out=np.zeros_like(hops), where=packets > 0) * v("hop_s"),
            "sync_s": np.full(packets.shape, v("barrier_s") + v("barrier_per_chip_s") * max(chips - 1, 0)),
            "neuron_j": upd.sum(axis=-1) * v("neuron_update_j"),
            "synop_j": syn.sum(axis=-1) * v("synop_j"),
            "spike_j": spk.sum(axis=-1) * v("spike_j"),
            "hop_j": hops * v("hop_j"),
        }

    def estimate(self, mapping, activity) -> "ChipCost":
        """Chip time and energy of the run whose activity was measured (see the module docstring)."""
        parts = self.step_costs(mapping, activity)
        steps = int(activity.steps)
        sample = np.asarray(activity.sample_steps, dtype=np.int64)
        if steps < 1 or len(sample) != parts["compute_s"].shape[0] or np.any(np.diff(sample) <= 0) or sample[0] < 0 or sample[-1] >= steps:
            raise ValueError(f"activity: sample_steps must be increasing step indices in [0, {steps}), got {sample[:8].tolist()}…")
        weights = _segment_lengths(sample, steps)  # steps each sample stands for
        step_t = parts["compute_s"] + parts["comm_s"] + parts["sync_s"]  # (S, R)
        step_e = parts["neuron_j"] + parts["synop_j"] + parts["spike_j"] + parts["hop_j"]
        time_r = weights @ step_t  # (R,) seconds per replica
        dyn_r = weights @ step_e
        static_w = self.value("static_w_per_chip") * int(mapping.chips) + self.value("static_w_per_core") * int(mapping.cores)
        time_s = float(time_r.mean())
        dynamic_j = float(dyn_r.mean())
        static_j = static_w * time_s
        breakdown = {k: float((weights @ p).mean()) for k, p in parts.items()}
        breakdown["static_j"] = static_j
        return ChipCost(
            model=self.name,
            calibrated=self.calibrated,
            steps=steps,
            replicas=int(step_t.shape[1]),
            cores=int(mapping.cores),
            chips=int(mapping.chips),
            time_s=time_s,
            dynamic_j=dynamic_j,
            static_j=static_j,
            energy_j=dynamic_j + static_j,
            static_w=static_w,
            step_time_mean_s=time_s / steps,
            step_time_max_s=float(step_t.max()),
            breakdown=breakdown,
            time_per_replica_s=time_r,
            energy_per_replica_j=dyn_r + static_w * time_r,
            _bounds=np.concatenate([[0], sample[1:], [steps]]).astype(np.int64),
            _step_time=step_t.mean(axis=1),
            _step_dynamic=step_e.mean(axis=1),
        )


def _segment_lengths(sample: np.ndarray, steps: int) -> np.ndarray:
    """Steps each sample stands for: from it to the next sample (the first also covers steps before it)."""
    bounds = np.concatenate([[0], sample[1:], [steps]])
    return np.diff(bounds).astype(np.float64)


@dataclasses.dataclass(frozen=True, eq=False)
class ChipCost:
    """Estimated chip time and energy of one run (per replica, mean over replicas)."""

    model: str
    calibrated: str
    steps: int
    replicas: int
    cores: int
    chips: int
    time_s: float
    dynamic_j: float
    static_j: float
    energy_j: float
    static_w: float
    step_time_mean_s: float
    step_time_max_s: float
    breakdown: dict
    time_per_replica_s: np.ndarray
    energy_per_replica_j: np.ndarray
    _bounds: np.ndarray
    _step_time: np.ndarray
    _step_dynamic: np.ndarray

    @property
    def mean_power_w(self) -> float:
        return self.energy_j / self.time_s if self.time_s > 0 else 0.0

    def time_at(self, step_indices) -> np.ndarray:
        """Chip seconds elapsed once step ``i`` (0-based) is done, i.e. after steps 0…i (mean over
        replicas): ``time_at(steps − 1) == time_s``. Record ``k`` of a run with ``SaveAt(every=e)``
        is taken after step ``(k+1)·e − 1``, so ``time_at(record_steps)`` is the records' chip time."""
        return self._elapsed(step_indices, self._step_time, "time_at")

    def energy_at(self, step_indices) -> np.ndarray:
        """Joules used once step ``i`` is done (dynamic so far + static power × ``time_at(i)``)."""
        return self._elapsed(step_indices, self._step_dynamic, "energy_at") + self.static_w * self.time_at(step_indices)

    def _elapsed(self, step_indices, per_step, what) -> np.ndarray:
        t = np.asarray(step_indices, dtype=np.int64)
        if np.any(t < 0) or np.any(t >= self.steps):
            raise ValueError(f"{what}: step indices must be in [0, {self.steps}), got min {t.min()} max {t.max()}")
        lengths = np.diff(self._bounds)
        start = np.concatenate([[0.0], np.cumsum(lengths * per_step)])
        j = np.searchsorted(self._bounds, t, side="right") - 1
        return start[j] + per_step[j] * (t - self._bounds[j] + 1)

    def to_json(self) -> dict:
        return {
            "model": self.model,
            "calibrated": self.calibrated,
            "convention": PER_REPLICA,
            "steps": self.steps,
            "replicas": self.replicas,
            "cores": self.cores,
            "chips": self.chips,
            "time_s": self.time_s,
            "energy_j": self.energy_j,
            "mean_power_w": self.mean_power_w,
            "step_time_s": {"mean": self.step_time_mean_s, "max": self.step_time_max_s},
            "dynamic_j": self.dynamic_j,
            "static_j": self.static_j,
            "static_w": self.static_w,
            "breakdown": dict(self.breakdown),
        }

    def __str__(self) -> str:
        return (
            f"{self.model}: {self.time_s:.4g} s, {self.energy_j:.4g} J ({self.mean_power_w:.3g} W), "
            f"{self.step_time_mean_s * 1e6:.3g} µs per step (max {self.step_time_max_s * 1e6:.3g}) on {self.cores} cores / {self.chips} chips, per replica"
        )
