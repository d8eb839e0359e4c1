"""Neuron models. Each is one file; :data:`MODELS` maps the CLI name to the class."""

from ._gibbs import Gibbs
from ._sa import SA

MODELS = {
    "gibbs": Gibbs,
    "sa": SA,
}

__all__ = ["Gibbs", "SA", "MODELS"]
