"""neurosim: a JAX simulator for neuromorphic Ising machines."""

import os as _os

# In a source checkout, models/ and hardware/ sit beside this package (pyproject.toml maps them to
# neurosim.models and neurosim.hardware when installed). Python started at the repo root imports this
# directory, which shadows an installed neurosim: let it find them in the checkout too.
_checkout = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if not _os.path.isdir(_os.path.join(__path__[0], "models")) and _os.path.isfile(_os.path.join(_checkout, "models", "__init__.py")):
    __path__.append(_checkout)

from . import _xla

_xla.apply_defaults()  # before anything below touches a JAX backend (see _xla.py)

from . import _jaxcache

_jaxcache.enable()  # persistent compilation cache under ~/.cache/neurosim (see _jaxcache.py)

from . import random, schedules
from ._graphs import MIS, MaxCut, read_gset, write_gset
from ._formats import load_problem
from ._matrix import SymmetricMatrix
from ._model import AbstractModel
from ._problems import QUBO, Ising, bits_to_spins, brute_force, spins_to_bits
from ._run import RunResult, run
from ._saveat import SaveAt
from ._synapses import AbstractSynapses, DenseSynapses, EllSynapses, SegmentSynapses, synapses

__version__ = "0.1.0"

__all__ = [
    "AbstractModel", "AbstractSynapses", "DenseSynapses", "EllSynapses", "Ising", "MIS", "MaxCut", "QUBO", "load_problem",
    "RunResult", "SaveAt", "SegmentSynapses", "SymmetricMatrix", "bits_to_spins", "brute_force", "random",
    "read_gset", "run", "schedules", "spins_to_bits", "synapses", "write_gset",
]
