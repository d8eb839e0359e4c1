"""What a run returns (:class:`RunResult`) and its JSON form."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np


def _vartype(problem) -> str:
    """``"BINARY"`` (0/1: QUBO, MIS) or ``"SPIN"`` (±1: Ising, Max-Cut), dimod's names."""
    from ._problems import QUBO

    native = getattr(problem, "native", "qubo" if isinstance(problem, QUBO) else "ising")
    return "BINARY" if native == "qubo" else "SPIN"


@dataclasses.dataclass
class RunResult:
    """What a run returns. Energies are re-evaluated on the host in float64 with the original problem.

    Attributes:
        best_energy: (R,) each replica's best energy (float64, problem units).
        samples: (R, n) int8 each replica's best state **in the problem's variables** (:attr:`vartype`:
            0/1 for QUBO and MIS, ±1 for Ising and Max-Cut, whose sign is the side of the partition),
            whatever the model's native form; ``best_sample`` is the best of them.
        final_samples: (R, n) int8 the states at the end of the run, in the problem's variables.
        best_state / final_state: the same in the *model's* native variables (±1 for Gibbs and
            NeuroSA, 0/1 for SA and NEBM).
        records: name → array with leading axis = record index (then replicas).
        record_steps: (K,) global step index of each record.
        report: extra figures of merit of the best states (``cut`` for Max-Cut, ``set_size`` and
            ``feasible`` for MIS), each (R,).
        overflow: (R,) bool, replicas whose integer state saturated (chip profiles), or None when the
            model has no such flag.
        quantization: the hardware profile's quantisation report (collapsed coefficients, errors), or None.
        time_compile: seconds from the call to the first step (validation, set-up, initialisation,
            compilation) plus later compilations; time_run: seconds running steps.
        steps / steps_requested: steps done and asked for; ``partial`` when fewer were done (a run
            stopped by ``stop_after_chunks`` or an interrupt, ``interrupted`` names the signal).
        resumed_from: the step the run resumed from (0: started afresh).
    """

    problem: Any
    model: str
    params: dict
    hardware: str | None
    steps: int
    replicas: int
    seed: int
    replica_ids: np.ndarray
    best_energy: np.ndarray
    best_state: np.ndarray
    final_state: np.ndarray
    records: dict
    record_steps: np.ndarray
    report: dict
    time_compile: float
    time_run: float
    device: str
    resumed_from: int = 0
    samples: np.ndarray | None = None
    final_samples: np.ndarray | None = None
    overflow: np.ndarray | None = None
    quantization: dict | str | None = None
    steps_requested: int | None = None
    interrupted: str | None = None
    mapping: dict | None = None  # under a profile: cores, chips, per-core load, measured traffic, quantisation
    chip: dict | None = None  # under a profile with a cost model: ChipCost.to_json()

    @property
    def best_index(self) -> int:
        return int(np.argmin(self.best_energy))

    @property
    def overall_best_energy(self) -> float:
        return float(self.best_energy[self.best_index])

    @property
    def overall_best_state(self) -> np.ndarray:
        return self.best_state[self.best_index]

    @property
    def best_sample(self) -> np.ndarray:
        """The best replica's best state in the problem's variables (:attr:`vartype`)."""
        return self.samples[self.best_index]

    @property
    def vartype(self) -> str:
        return _vartype(self.problem)

    @property
    def partial(self) -> bool:
        return self.steps_requested is not None and self.steps < self.steps_requested

    def loss_lines(self) -> list[str]:
        """One line per kind of precision loss (saturated replicas, collapsed coefficients); empty if none."""
        lines = []
        if self.overflow is not None and np.any(self.overflow):
            lines.append(f"overflow: {int(np.sum(self.overflow))} of {len(self.overflow)} replicas saturated their integer "
                         "state (results of those replicas are not what the float model would give)")
        q = self.quantization if isinstance(self.quantization, dict) else {}  # a float chip reports a string
        collapsed = int(q.get("n_collapsed", 0)) + int(q.get("n_collapsed_bias", 0))
        if collapsed:
            lines.append(f"quantisation: {q.get('n_collapsed', 0)} couplings and {q.get('n_collapsed_bias', 0)} biases collapsed "
                         f"to 0 at int{q.get('weight_bits')} (scale {q.get('scale', float('nan')):.4g}); max error {q.get('max_error', float('nan')):.3g}")
        return lines

    def to_json(self) -> dict:
        out = {
            "problem": self.problem.describe(),
            "model": self.model,
            "params": self.params,
            "hardware": self.hardware,
            "steps": self.steps,
            "steps_requested": self.steps_requested if self.steps_requested is not None else self.steps,
            "partial": self.partial,
            "replicas": self.replicas,
            "seed": self.seed,
            "vartype": self.vartype,
            "best_energy": self.overall_best_energy,
            "best_state": self.best_sample.astype(int).tolist() if self.samples is not None else self.overall_best_state.astype(int).tolist(),
            "replica_best_energy": self.best_energy.tolist(),
            "overflow": None if self.overflow is None else np.asarray(self.overflow).astype(bool).tolist(),
            "resumed_from": int(self.resumed_from),
            "time_s": {"compile": self.time_compile, "run": self.time_run},
            "device": self.device,
        }
        if self.interrupted:
            out["interrupted"] = self.interrupted
        if self.quantization is not None:
            out["quantization"] = self.quantization
        if self.mapping is not None:
            out["mapping"] = self.mapping
        if self.chip is not None:
            out["chip"] = self.chip
        if "cut" in self.report:
            cuts = np.asarray(self.report["cut"])
            out["best_cut"] = float(cuts.max())
            out["replica_best_cut"] = cuts.tolist()
            side = np.asarray(out["best_state"]) > 0
            out["best_partition"] = [np.flatnonzero(~side).tolist(), np.flatnonzero(side).tolist()]
        if "set_size" in self.report:
            sizes = np.asarray(self.report["set_size"])
            out["best_set_size"] = int(sizes.max())
            out["replica_set_size"] = sizes.tolist()
            out["replica_feasible"] = np.asarray(self.report["feasible"]).astype(bool).tolist()
        return out


def _problem_native(problem, states, model_native: str):
    """``states`` (model-native ±1 or 0/1) converted to the problem's native variables."""
    native = "qubo" if _vartype(problem) == "BINARY" else "ising"
    states = np.asarray(states)
    if native == model_native:
        return states.astype(np.int8)
    return ((states + 1) // 2).astype(np.int8) if native == "qubo" else (2 * states.astype(np.int8) - 1).astype(np.int8)
