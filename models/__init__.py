"""Neuron models. Each is one file; :data:`MODELS` maps the CLI name to the class."""

from ._gibbs import Gibbs
from ._nebm import NEBM
from ._neurosa import NeuroSA
from ._sa import SA

MODELS = {
    "gibbs": Gibbs,
    "nebm": NEBM,
    "neurosa": NeuroSA,
    "sa": SA,
}

__all__ = ["Gibbs", "NEBM", "NeuroSA", "SA", "MODELS"]
