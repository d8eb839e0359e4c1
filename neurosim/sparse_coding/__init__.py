"""Binary sparse coding (SPEC §3, §7): image patches, dictionary learning, QUBOs, exact optima,
iterated warm starting. See docs/sparse_coding.md."""

from ._data import Instance, instance_files, load_dictionary, load_instance, load_instances
from ._dictionary import DictionaryResult, anneal_codes, learn_dictionary
from ._exact import ExactResult, one_flip_descent, qubo_energy, solve_qubo_exact
from ._images import load_image, sliding_patches, tiles, training_patches, untile
from ._qubo import sparse_coding_energy, sparse_coding_matrix, sparse_coding_qubo
from ._warm import WarmStartResult, warm_start

__all__ = [
    "DictionaryResult",
    "ExactResult",
    "Instance",
    "instance_files",
    "load_dictionary",
    "load_instance",
    "load_instances",
    "one_flip_descent",
    "qubo_energy",
    "solve_qubo_exact",
    "anneal_codes",
    "learn_dictionary",
    "load_image",
    "sliding_patches",
    "sparse_coding_energy",
    "sparse_coding_matrix",
    "sparse_coding_qubo",
    "tiles",
    "training_patches",
    "untile",
    "warm_start",
    "WarmStartResult",
]
