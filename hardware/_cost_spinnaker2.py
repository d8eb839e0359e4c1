"""SpiNNaker2 cost-model constants (a priori; no quantitative published figure could be read here).

SpiNNaker2 runs neurons in software on ARM Cortex-M4F processing elements (PEs, one "core" of the
mapping each), so the per-operation costs are cycle counts times a clock period and an energy per
cycle. Höppner et al. 2021 (arXiv:2103.08392), Gonzalez et al. 2024 (arXiv:2401.04491) and Mayr et
al. 2019 (arXiv:1911.02385) describe the PE (22FDX, adaptive body biasing, DVFS driven by spiking
activity), the NoC and the packet formats, but their clock, per-cycle energy and power figures were
not readable in this session (the search corpus returned abstracts only). Every number below is
therefore an assumption that says what it stands for; change them with ``SPINNAKER2_COST.replace``.
"""

from ._cost import Constant, CostModel

_CLOCK_HZ = 200e6  # assumption: PE clock at the low-voltage DVFS level
_E_CYCLE = 10e-12  # assumption: energy of one active M4F cycle including SRAM access, J
_CYC = f"cycles at an assumed {_CLOCK_HZ / 1e6:.0f} MHz PE clock"


def _t(cycles):
    return cycles / _CLOCK_HZ


def _e(cycles):
    return cycles * _E_CYCLE


SPINNAKER2_COST = CostModel(
    name="spinnaker2",
    neuron_update_s=Constant(_t(40), "s", f"assumption: one ON-OFF neuron update in software = 40 {_CYC}"),
    synop_s=Constant(_t(8), "s", f"assumption: one synaptic event (load index + float weight, accumulate) = 8 {_CYC}"),
    spike_s=Constant(_t(20), "s", f"assumption: sending one multicast packet from a PE = 20 {_CYC}"),
    hop_s=Constant(10e-9, "s", "assumption: NoC router latency per hop, 10 ns"),
    barrier_s=Constant(
        2e-6, "s", "assumption: one round trip to the global arbiter that NeuroSA uses across PEs (request + grant through the NoC), 2 µs"
    ),
    barrier_per_chip_s=Constant(1e-6, "s", "assumption: extra arbiter round-trip time per additional chip (chip-to-chip links), 1 µs"),
    neuron_update_j=Constant(_e(40), "J", "assumption: 40 cycles × an assumed 10 pJ per active PE cycle"),
    synop_j=Constant(_e(8), "J", "assumption: 8 cycles × an assumed 10 pJ per active PE cycle"),
    spike_j=Constant(_e(20), "J", "assumption: 20 cycles × an assumed 10 pJ per active PE cycle"),
    hop_j=Constant(2e-12, "J", "assumption: NoC energy per packet hop, 2 pJ"),
    static_w_per_chip=Constant(0.1, "W", "assumption: chip-level static power (NoC, memory controller, I/O) at low voltage, 0.1 W"),
    static_w_per_core=Constant(1e-3, "W", "assumption: static + idle power of one used PE with body biasing, 1 mW"),
)
