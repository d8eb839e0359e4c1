"""Exact conversion between dimod binary quadratic models and neurosim problems (needs dimod).

dimod writes ``E = Σ_v a_v z_v + Σ_(u,v) b_uv z_u z_v + c`` with each interaction listed once. neurosim's
forms (``neurosim._problems``) split each pair symmetrically:

* SPIN → :class:`~neurosim.Ising` ``-1/2 sᵀJs - hᵀs + offset``: ``J_uv = -b_uv``, ``h = -a``;
* BINARY → :class:`~neurosim.QUBO` ``Σ_ij Q_ij x_i x_j + qᵀx + offset``: ``Q_uv = Q_vu = b_uv / 2``, ``q = a``.

Both directions scale by exact powers of two (or negate), so a round trip returns the same
coefficients and offset bit for bit.
"""

from __future__ import annotations

import numpy as np

from ._matrix import SymmetricMatrix
from ._problems import QUBO, Ising


def _dimod():
    try:
        import dimod
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ImportError("neurosim.ocean needs dimod: pip install 'neurosim[ocean]'") from None
    return dimod


def from_bqm(bqm, *, name: str = "bqm"):
    """``(problem, labels)``: an :class:`~neurosim.Ising` (SPIN) or :class:`~neurosim.QUBO` (BINARY) with
    variable k standing for ``labels[k]`` (the BQM's variables in their order; any hashable labels).
    A BQM without variables is refused (a neurosim problem has at least one variable)."""
    dimod = _dimod()
    if not isinstance(bqm, dimod.BinaryQuadraticModel):
        raise ValueError(f"from_bqm expects a dimod.BinaryQuadraticModel, got {type(bqm).__name__}")
    labels = list(bqm.variables)
    n = len(labels)
    lin, (row, col, quad), offset = bqm.to_numpy_vectors(variable_order=labels)
    lin = np.asarray(lin, dtype=np.float64)
    quad = np.asarray(quad, dtype=np.float64)
    if bqm.vartype is dimod.SPIN:
        J = SymmetricMatrix.from_edges(n, row, col, -quad, name="BQM quadratic")
        return Ising(J, -lin, float(offset), name=name), labels
    Q = SymmetricMatrix.from_edges(n, row, col, 0.5 * quad, name="BQM quadratic")
    return QUBO(Q, lin, float(offset), name=name), labels


def problem_vartype(problem) -> str:
    """"SPIN" for an Ising-native problem (Ising, Max-Cut), "BINARY" for a QUBO-native one (QUBO, MIS)."""
    native = getattr(problem, "native", "qubo" if isinstance(problem, QUBO) else "ising")
    return "BINARY" if native == "qubo" else "SPIN"


def to_bqm(problem, labels=None, *, vartype: str | None = None):
    """A ``dimod.BinaryQuadraticModel`` with the same energy as ``problem`` on every state.

    ``labels``: one hashable label per variable (default: the problem's ``labels`` if it has them,
    else 0..n-1). ``vartype``: "SPIN" or "BINARY" (default: the problem's own variables)."""
    dimod = _dimod()
    n = problem.n
    if labels is None:
        labels = getattr(problem, "labels", None) or list(range(n))
    labels = list(labels)
    if len(labels) != n:
        raise ValueError(f"labels has {len(labels)} entries but the problem has {n} variables")
    if len(set(labels)) != n:
        raise ValueError("labels must be distinct")
    vt = (vartype or problem_vartype(problem)).upper()
    if vt not in ("SPIN", "BINARY"):
        raise ValueError(f"vartype must be 'SPIN' or 'BINARY', got {vartype!r}")
    if vt == "SPIN":
        ising = problem.to_ising()
        r, c, v = ising.J.upper_edges()
        lin, quad, offset = -ising.h, -v, ising.offset
    else:
        qubo = problem.to_qubo()
        r, c, v = qubo.Q.upper_edges()
        lin, quad, offset = qubo.q, 2.0 * v, qubo.offset
    return dimod.BinaryQuadraticModel.from_numpy_vectors(
        np.asarray(lin, dtype=np.float64), (r, c, np.asarray(quad, dtype=np.float64)), float(offset), vt, variable_order=labels
    )
