"""The stored sparse-coding QUBOs (``neurosim/data/sparse_coding``, made by ``generate.py``)."""

from __future__ import annotations

import dataclasses
import glob
import os

import numpy as np

from .._problems import QUBO


def data_dir() -> str:
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "sparse_coding")


@dataclasses.dataclass(frozen=True, eq=False)
class Instance:
    """One stored QUBO with its proven optimum and what it was built from (float64 views)."""

    path: str
    Q: np.ndarray  # (n, n) full symmetric, diagonal = linear terms
    offset: float
    exact_state: np.ndarray  # int8 (n,)
    exact_energy: float
    lam: float
    patch: np.ndarray  # (pixels,) the tile
    tile: int
    patch_size: int
    image_size: int
    D: np.ndarray  # (pixels, atoms)

    @property
    def name(self) -> str:
        return os.path.splitext(os.path.basename(self.path))[0]

    @property
    def n(self) -> int:
        return self.Q.shape[0]

    @property
    def sparsity(self) -> float:
        """Fraction of active atoms in the exact optimum."""
        return float(np.mean(self.exact_state))

    @property
    def problem(self) -> QUBO:
        return QUBO.from_matrix(self.Q, self.offset, name=self.name)

    def energy(self, states) -> np.ndarray:
        x = np.asarray(states, dtype=np.float64)
        return np.einsum("...i,ij,...j->...", x, self.Q, x) + self.offset

    def reconstruction(self, state) -> np.ndarray:
        """``D a``: the tile as coded by the 0/1 state ``a``."""
        return self.D @ np.asarray(state, dtype=np.float64)


def instance_files(atoms: int | None = None, directory: str | None = None) -> list[str]:
    """Sorted paths of the stored QUBO files (all, or the ``atoms``-variable ones)."""
    d = directory or data_dir()
    pat = f"sc{atoms}_t*.npz" if atoms is not None else "sc*_t*.npz"
    return sorted(glob.glob(os.path.join(d, pat)))


def load_instance(path: str) -> Instance:
    with np.load(path) as z:
        dpath = os.path.join(os.path.dirname(path), str(z["dictionary"]))
        with np.load(dpath) as dz:
            D = dz["D"].astype(np.float64)
        return Instance(
            path=path, Q=z["Q"].astype(np.float64), offset=float(z["offset"]), exact_state=z["exact_state"].astype(np.int8),
            exact_energy=float(z["exact_energy"]), lam=float(z["lam"]), patch=z["patch"].astype(np.float64),
            tile=int(z["tile"]), patch_size=int(z["patch_size"]), image_size=int(z["image_size"]), D=D,
        )


def load_instances(atoms: int, directory: str | None = None) -> list[Instance]:
    files = instance_files(atoms, directory)
    if not files:
        raise FileNotFoundError(f"no stored {atoms}-variable sparse-coding QUBOs in {directory or data_dir()} "
                                f"(run python -m neurosim.sparse_coding.generate)")
    return [load_instance(f) for f in files]


def load_dictionary(atoms: int, directory: str | None = None) -> dict:
    """The stored dictionary and its learning history as a dict of arrays."""
    path = os.path.join(directory or data_dir(), f"dictionary{atoms}.npz")
    with np.load(path) as z:
        return {k: z[k] for k in z.files}
