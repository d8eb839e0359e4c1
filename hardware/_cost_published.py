"""Published chip-level figures the cost models are calibrated on and checked against.

Each entry: value, unit, what it measures, and its source. Only figures whose wording could be
read in this session (or that issue 12 quotes from the paper) are listed; the per-operation
constants live with the models (``_cost_loihi2.py``, ``_cost_spinnaker2.py``).
"""

from __future__ import annotations

import dataclasses

_PIERRO = "Pierro, Stratmann, Fonseca Guerra, Risbud, Shea, Rao Mangalore, Wild, 'Solving QUBO on the Loihi 2 Neuromorphic Processor', arXiv:2408.03076 (2024)"
_NEUROSA = "Chen et al., 'ON-OFF Neuromorphic ISING Machines using Fowler-Nordheim Annealers' (NeuroSA), arXiv:2406.05224 / Nat. Commun. 2025"


@dataclasses.dataclass(frozen=True)
class Published:
    value: float | None
    unit: str
    what: str
    source: str


PUBLISHED = {
    "loihi2_mis_mean_power_w": Published(
        2.62, "W", "average Loihi 2 power while solving the paper's MIS QUBO workloads", f"{_PIERRO}, power/energy figure (Fig. 3; as quoted in issue 12)"
    ),
    "loihi2_mis_first_feasible_s": Published(
        1e-3, "s", "time to a first feasible MIS solution on Loihi 2, the fastest case ('as little as 1 ms')", f"{_PIERRO}, abstract"
    ),
    "cpu_sa_power_w": Published(87.78, "W", "CPU power of the simulated-annealing baseline (dwave-neal) in the paper", f"{_PIERRO}, Fig. 3 (as quoted in issue 12)"),
    "cpu_tabu_power_w": Published(97.56, "W", "CPU power of the tabu-search baseline in the paper", f"{_PIERRO}, Fig. 3 (as quoted in issue 12)"),
    "loihi2_energy_advantage": Published(
        37.0, "x", "Loihi 2 up to 37x more energy efficient than the CPU baselines (= 97.56 W / 2.62 W = 37.2: the runs are compared at equal timeouts)",
        f"{_PIERRO}, abstract; the ratio arithmetic is ours",
    ),
    "spinnaker2_neurosa_energy_below_cpu": Published(
        None, "", "NeuroSA on SpiNNaker2 reaches its solutions on G11, G14, G15 (800 nodes) with less energy than the CPU run (qualitative: no number could be read here)",
        f"{_NEUROSA}, Fig. 3h",
    ),
}
