"""SpiNNaker2 (sources in docs/loihi2.md, section SpiNNaker2).

* 152 ARM Cortex-M4F processing elements (PEs) per chip in 38 quad-PE groups, 128 KB SRAM per PE,
  a single-precision FPU per PE (so weights and state are float32: no quantisation), a true random
  number generator per PE (32-bit words), exp/log in software (the exact Metropolis test is
  affordable). NeuroSA ran on it with a global arbiter across PEs.
* capacity is memory-bound: this profile assumes 96 KB of each PE's 128 KB for neuron state and
  synapses (the rest for code, stack and buffers), 16 bytes per neuron (spin, field, threshold,
  bookkeeping) and 8 bytes per synapse (float32 weight + 32-bit index). These three figures are
  modelling assumptions, not published numbers: change them with ``SPINNAKER2.replace(...)``.
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
