"""Neuron models. Each is one file; :data:`MODELS` maps the CLI name to the class."""

from ._gibbs import Gibbs

MODELS = {
    "gibbs": Gibbs,
}

__all__ = ["Gibbs", "MODELS"]
