"""Intel Loihi 2 (sources in docs/loihi2.md).

* 128 neurocores per chip, up to 8192 neurons per core, 1 M neurons and 120 M synapses per chip,
  6 embedded x86 (Lakemont) cores; chips tile into multi-chip systems (Kapoho Point: 8 chips).
* synaptic weights: 8-bit signed integers (with a shared exponent per synapse group, which a common
  scale factor models); neuron state: 24-bit signed integers; graded spikes carry integer payloads.
* one 24-bit pseudo-random number per neuron per step; no exp/log/division in neuron microcode, so
  the SA neuron uses the clz Metropolis test; the temperature register is 16-bit unsigned (Lava's
  annealing process refuses ``max_temperature ≥ 2^16``).
"""

from ._cost_loihi2 import LOIHI2_COST_CALIBRATED
from ._profile import HardwareProfile

LOIHI2 = HardwareProfile(
    name="loihi2",
    weight_bits=8,
    state_bits=24,
    rng_bits=24,
    temperature_bits=16,
    metropolis="clz",
    cores_per_chip=128,
    neurons_per_core=8192,
    neurons_per_chip=1 << 20,
    synapses_per_chip=120_000_000,
    memory_per_core=None,
    chips=1,
    cost=LOIHI2_COST_CALIBRATED,
    sources=(
        "Intel Labs, 'Taking Neuromorphic Computing to the Next Level with Loihi 2', technology brief (2021)",
        "Orchard et al., 'Efficient Neuromorphic Signal Processing with Loihi 2', IEEE SiPS 2021, arXiv:2111.03746",
        "Pierro et al., 'Solving QUBO on the Loihi 2 Neuromorphic Processor', arXiv:2408.03076 (2024)",
        "lava-nc/lava-optimization: solvers/generic/annealing/process.py (16-bit temperature), "
        "qubo/simulated_annealing (refract_scaling), scif/models.py (24-bit state)",
    ),
)
