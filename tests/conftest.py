import os
import pathlib

import jax
import numpy as np
import pytest

# Tests run in float32 like the simulator; strict promotion catches accidental float64/int mixing.
jax.config.update("jax_numpy_dtype_promotion", "strict")

REPO = pathlib.Path(__file__).resolve().parents[1]
GSET = pathlib.Path(os.environ.get("NEUROSIM_GSET", REPO.parent / "shared" / "data" / "gset"))


@pytest.fixture
def gset_dir():
    if not (GSET / "G1.txt").exists():
        pytest.skip(f"Gset data not found at {GSET} (set NEUROSIM_GSET)")
    return GSET


def random_ising(n, seed=0, density=1.0, fields=True):
    """A small random Ising problem with Gaussian couplings (test helper)."""
    import neurosim as ns

    rng = np.random.default_rng(seed)
    J = rng.normal(size=(n, n)) * (rng.random((n, n)) < density)
    J = np.triu(J, 1)
    J = J + J.T
    h = rng.normal(size=n) if fields else np.zeros(n)
    return ns.Ising.from_dense(J, h, offset=float(rng.normal()))
