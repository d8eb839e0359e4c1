"""Chip profiles. Each chip is one file; :data:`PROFILES` maps the CLI name to the profile."""

from ._loihi2 import LOIHI2
from ._mapping import Mapping
from ._profile import HardwareProfile, Quantized
from ._spinnaker2 import SPINNAKER2

PROFILES: dict = {
    "loihi2": LOIHI2,
    "spinnaker2": SPINNAKER2,
}

__all__ = ["PROFILES", "HardwareProfile", "Quantized", "Mapping", "LOIHI2", "SPINNAKER2"]
