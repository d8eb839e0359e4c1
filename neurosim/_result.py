"""What a run returns (:class:`RunResult`) and its JSON form."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np


@dataclasses.dataclass
class RunResult:
    """What a run returns. Energies are re-evaluated on the host in float64 with the original problem.

    Attributes:
        best_energy: (R,) each replica's best energy (float64, problem units).
        best_state: (R, n) int8 native variables of each replica's best state.
        final_state: (R, n) int8 variables at the end of the run.
        records: name → array with leading axis = record index (then replicas).
        record_steps: (K,) global step index of each record.
        report: extra figures of merit of the best states (``cut`` for Max-Cut, ``set_size`` and
            ``feasible`` for MIS), each (R,).
        time_compile / time_run: seconds spent compiling and running (excluding compile).
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

    def to_json(self) -> dict:
        out = {
            "problem": self.problem.describe(),
            "model": self.model,
            "params": self.params,
            "hardware": self.hardware,
            "steps": self.steps,
            "replicas": self.replicas,
            "seed": self.seed,
            "best_energy": self.overall_best_energy,
            "best_state": self.overall_best_state.astype(int).tolist(),
            "replica_best_energy": self.best_energy.tolist(),
            "time_s": {"compile": self.time_compile, "run": self.time_run},
            "device": self.device,
        }
        if "cut" in self.report:
            cuts = np.asarray(self.report["cut"])
            out["best_cut"] = float(cuts.max())
            out["replica_best_cut"] = cuts.tolist()
        if "set_size" in self.report:
            sizes = np.asarray(self.report["set_size"])
            out["best_set_size"] = int(sizes.max())
            out["replica_set_size"] = sizes.tolist()
            out["replica_feasible"] = np.asarray(self.report["feasible"]).astype(bool).tolist()
        if self.mapping is not None:
            out["mapping"] = self.mapping
        if self.chip is not None:
            out["chip"] = self.chip
        return out


def _problem_native(problem, states, model_native: str):
    """``states`` (model-native ±1 or 0/1) converted to the problem's native variables."""
    from ._problems import QUBO

    native = getattr(problem, "native", "qubo" if isinstance(problem, QUBO) else "ising")
    if native == model_native:
        return states
    return ((states + 1) // 2).astype(np.int8) if native == "qubo" else (2 * states.astype(np.int8) - 1).astype(np.int8)
