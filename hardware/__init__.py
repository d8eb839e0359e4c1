"""Chip profiles. Each chip is one file; :data:`PROFILES` maps the CLI name to the profile."""

from ._layer import FLOAT_REPORT, ChipLayer, chip_layer, ln_q, log2_q14, logistic_q8, mul_shift
from ._cost import ChipCost, Constant, CostModel
from ._cost_fit import Measurement, calibrate
from ._cost_published import PUBLISHED
from ._loihi2 import LOIHI2
from ._mapping import Mapping
from ._profile import HardwareProfile, Quantized
from ._spinnaker2 import SPINNAKER2, SPINNAKER2_DRAM, spinnaker2

PROFILES: dict = {
    "loihi2": LOIHI2,
    "spinnaker2": SPINNAKER2,
    "spinnaker2_dram": SPINNAKER2_DRAM,
}

__all__ = [
    "CostModel", "ChipCost", "Constant", "Measurement", "calibrate", "PUBLISHED",
    "PROFILES", "HardwareProfile", "Quantized", "Mapping", "LOIHI2", "SPINNAKER2", "SPINNAKER2_DRAM", "spinnaker2",
    "ChipLayer", "chip_layer", "FLOAT_REPORT", "ln_q", "log2_q14", "logistic_q8", "mul_shift",
]
