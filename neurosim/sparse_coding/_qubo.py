"""The binary sparse-coding QUBO (SPEC §3).

For a patch ``x`` (m pixels), a dictionary ``D`` (m × p, one basis vector per column) and a sparsity
penalty λ, the energy of a binary code ``a`` is ``||x − D a||² + λ ||a||₀``. Expanding with
``a_i² = a_i``: ``xᵀx − 2 Σ_i a_i x·D_i + Σ_ij a_i a_j D_i·D_j + λ Σ_i a_i``, i.e. a QUBO with

* ``Q_ii = −2 x·D_i + D_i·D_i + λ``   (linear terms on the diagonal)
* ``Q_ij = D_i·D_j``                  (i ≠ j; each pair appears twice in ``Σ_ij``)
* ``offset = xᵀx``.
"""

from __future__ import annotations

import numpy as np

from .._problems import QUBO


def _check(x, D, lam):
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    D = np.asarray(D, dtype=np.float64)
    if D.ndim != 2 or D.shape[0] != x.shape[0]:
        raise ValueError(f"dictionary D must have shape (pixels={x.shape[0]}, atoms), got {D.shape}")
    if not np.isfinite(lam) or lam < 0:
        raise ValueError(f"lam must be a finite number ≥ 0, got {lam!r}")
    return x, D, float(lam)


def sparse_coding_matrix(x, D, lam: float) -> tuple[np.ndarray, float]:
    """Full symmetric ``Q`` (diagonal = linear terms) and ``offset`` with ``E(a) = aᵀQa + offset``."""
    x, D, lam = _check(x, D, lam)
    Q = D.T @ D
    Q[np.diag_indices_from(Q)] += -2.0 * (D.T @ x) + lam
    return Q, float(x @ x)


def sparse_coding_qubo(x, D, lam: float, *, name: str = "sparse-coding") -> QUBO:
    """The QUBO whose energy is ``||x − D a||² + λ ||a||₀`` on every binary ``a``."""
    Q, offset = sparse_coding_matrix(x, D, lam)
    return QUBO.from_matrix(Q, offset, name=name)


def sparse_coding_energy(a, x, D, lam: float) -> np.ndarray:
    """``||x − D a||² + λ ||a||₀`` computed directly (for checks), ``a`` of shape (..., p)."""
    x, D, lam = _check(x, D, lam)
    a = np.asarray(a, dtype=np.float64)
    r = x - a @ D.T
    return np.sum(r * r, axis=-1) + lam * np.count_nonzero(a, axis=-1)
