"""neurosim: a JAX simulator for neuromorphic Ising machines."""

from . import _xla

_xla.apply_defaults()  # before anything below touches a JAX backend (see _xla.py)

from . import random, schedules
from ._graphs import MIS, MaxCut, read_gset, write_gset
from ._matrix import SymmetricMatrix
from ._model import AbstractModel
from ._problems import QUBO, Ising, bits_to_spins, brute_force, spins_to_bits
from ._run import RunResult, run
from ._saveat import SaveAt
from ._synapses import AbstractSynapses, DenseSynapses, EllSynapses, SegmentSynapses, synapses

__version__ = "0.1.0"

__all__ = [
    "AbstractModel", "AbstractSynapses", "DenseSynapses", "EllSynapses", "Ising", "MIS", "MaxCut", "QUBO",
    "RunResult", "SaveAt", "SegmentSynapses", "SymmetricMatrix", "bits_to_spins", "brute_force", "random",
    "read_gset", "run", "schedules", "spins_to_bits", "synapses", "write_gset",
]
