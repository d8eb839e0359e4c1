"""SpiNNaker2 (sources in docs/loihi2.md, section SpiNNaker2).

* 152 ARM Cortex-M4F processing elements (PEs) per chip in 38 quad-PE groups, 128 KB SRAM per PE,
  a single-precision FPU per PE (so weights and state are float32: no quantisation), a true random
  number generator per PE (32-bit words), exp/log in software (the exact Metropolis test is
  affordable). NeuroSA ran on it with a global arbiter across PEs.
* capacity is memory-bound: this profile assumes 96 KB of each PE's 128 KB for neuron state and
  synapses (the rest for code, stack and buffers), 16 bytes per neuron (spin, field, threshold,
  bookkeeping) and 8 bytes per synapse (float32 weight + 32-bit index). These three figures are
  modelling assumptions, not published numbers: change them with ``SPINNAKER2.replace(...)``.
* synapses in DRAM (``SPINNAKER2_DRAM``, ``spinnaker2(synapses="dram")``): each chip has 2 GB of
  LPDDR4 DRAM (two LPDDR4 PHYs, package-on-package; SpiNNaker2 datasheet v0.03, 2021), where
  sPyNNaker-style synaptic rows live and are fetched by DMA when a spike arrives. Then the SRAM
  holds neuron state only and the synapse budget is the DRAM's: 2 GiB / 8 B = 268 M per chip. The
  NeuroSA paper's "more than 152,000 neurons with more than 152 million synapses" is 1000 neurons
  and 1 M synapses per PE: ``spinnaker2(synapses="dram", neurons_per_pe=1000, synapses_per_pe=10**6)``
  reproduces it exactly (1000 neurons per core is SpiNNaker's real-time throughput convention, not a
  memory bound). How the two figures reconcile: docs/loihi2.md, "SpiNNaker2 capacity".
"""

from ._cost_spinnaker2 import SPINNAKER2_COST
from ._profile import HardwareProfile

_PES = 152
_MEM = 96 * 1024
_BYTES_SYN = 8

SPINNAKER2 = HardwareProfile(
    name="spinnaker2",
    weight_bits=None,
    state_bits=None,
    rng_bits=32,
    temperature_bits=None,
    metropolis="exp",
    cores_per_chip=_PES,
    neurons_per_core=_MEM // 16,
    neurons_per_chip=_PES * (_MEM // 16),
    synapses_per_chip=_PES * (_MEM // _BYTES_SYN),
    memory_per_core=_MEM,
    bytes_per_neuron=16,
    bytes_per_synapse=_BYTES_SYN,
    chips=1,
    cost=SPINNAKER2_COST,
    sources=(
        "Höppner et al., 'The SpiNNaker 2 Processing Element Architecture for Hybrid Digital Neuromorphic Computing', arXiv:2103.08392 (2021)",
        "Gonzalez et al., 'SpiNNaker2: A Large-Scale Neuromorphic System for Event-Based and Asynchronous Machine Learning', arXiv:2401.04491 (2024)",
        "Mayr, Höppner, Furber, 'SpiNNaker 2: A 10 Million Core Processor System for Brain Simulation and Machine Learning', arXiv:1911.02385 (2019)",
    ),
)


_DRAM = 2 << 30  # bytes of LPDDR4 per chip


def spinnaker2(*, synapses: str = "sram", sram_per_pe: int = _MEM, dram_per_chip: int = _DRAM, bytes_per_neuron: int = 16,
               bytes_per_synapse: int = _BYTES_SYN, neurons_per_pe: int | None = None, synapses_per_pe: int | None = None,
               chips: int = 1) -> HardwareProfile:
    """A SpiNNaker2 profile with its capacity assumptions spelled out (see the module docstring).

    ``synapses="sram"``: neurons and synapses share ``sram_per_pe`` bytes of each PE's SRAM (the
    default profile, ~934 k neurons or ~1.9 M synapses per chip). ``"dram"``: synapses live in the
    chip's ``dram_per_chip`` bytes of DRAM, SRAM holds neurons only. ``neurons_per_pe`` /
    ``synapses_per_pe`` cap the per-PE counts further (e.g. the NeuroSA paper's 1000 and 10^6)."""
    if synapses not in ("sram", "dram"):
        raise ValueError(f"synapses must be 'sram' or 'dram', got {synapses!r}")
    npe = sram_per_pe // bytes_per_neuron if neurons_per_pe is None else min(int(neurons_per_pe), sram_per_pe // bytes_per_neuron)
    if synapses == "sram":
        spe = sram_per_pe // bytes_per_synapse
        syn_bytes = bytes_per_synapse
    else:
        spe = dram_per_chip // bytes_per_synapse // _PES
        syn_bytes = 0  # not in SRAM
    if synapses_per_pe is not None:
        spe = min(spe, int(synapses_per_pe))
    return SPINNAKER2.replace(
        name="spinnaker2" if synapses == "sram" else "spinnaker2_dram",
        neurons_per_core=int(npe), neurons_per_chip=_PES * int(npe), synapses_per_chip=_PES * int(spe),
        memory_per_core=int(sram_per_pe), bytes_per_neuron=int(bytes_per_neuron), bytes_per_synapse=int(syn_bytes), chips=int(chips),
    )


SPINNAKER2_DRAM = spinnaker2(synapses="dram")
