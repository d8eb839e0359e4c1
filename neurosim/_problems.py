"""Ising and QUBO problems, exact conversion between them, energies for many states at once.

Conventions (SPEC §3):

* Ising: ``H(s) = -1/2 Σ_ij J_ij s_i s_j - Σ_i h_i s_i + offset`` with s ∈ {-1, +1}^n, J symmetric,
  zero diagonal (so each edge appears twice in the double sum and contributes ``-J_ij s_i s_j``).
* QUBO: ``E(x) = Σ_ij Q_ij x_i x_j + offset`` with x ∈ {0, 1}^n, Q symmetric; the diagonal holds the
  linear terms (x_i² = x_i). Stored as the off-diagonal part ``Q`` (a :class:`SymmetricMatrix`, so
  each pair's coefficient is split ``Q_ij = Q_ji``) plus the diagonal ``q``.

With ``x = (1 + s) / 2`` the two are equal on every state; :meth:`QUBO.to_ising` and
:meth:`Ising.to_qubo` are exact inverses (up to float rounding of the coefficients).

Every problem type (also :class:`~neurosim.MaxCut`, :class:`~neurosim.MIS`, sparse-coding QUBOs)
exposes ``to_ising()``, ``to_qubo()``, ``n``, ``name`` and ``report(states)``; models ask for the
form they work in and the engine reports energies in the problem's own units.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np

from ._matrix import SymmetricMatrix
from ._validate import check_energy_range, problem_size, real_array


def _as_pm1(states, n: int) -> np.ndarray:
    s = np.asarray(states)
    if s.shape[-1] != n:
        raise ValueError(f"states have {s.shape[-1]} variables, the problem has {n}")
    if s.dtype == bool:
        return np.where(s, 1.0, -1.0)
    s = s.astype(np.float64)
    if not np.all((s == 1) | (s == -1)):
        raise ValueError("Ising states must be ±1 (or boolean)")
    return s


def _as_01(states, n: int) -> np.ndarray:
    x = np.asarray(states)
    if x.shape[-1] != n:
        raise ValueError(f"states have {x.shape[-1]} variables, the problem has {n}")
    x = x.astype(np.float64)
    if not np.all((x == 0) | (x == 1)):
        raise ValueError("QUBO states must be 0/1 (or boolean)")
    return x


@dataclasses.dataclass(frozen=True, eq=False)
class Ising:
    """``H(s) = -1/2 sᵀJs - hᵀs + offset`` over s ∈ {±1}^n."""

    J: SymmetricMatrix
    h: np.ndarray
    offset: float = 0.0
    name: str = "ising"
    native = "ising"

    def __post_init__(self):
        if not isinstance(self.J, SymmetricMatrix):  # ``Ising(J_numpy, h)``, as docs/usage.md shows
            object.__setattr__(self, "J", SymmetricMatrix.from_dense(self.J, name="J"))
        problem_size(self.J.n, "J's size n")
        h = _vector(self.h, "h", self.J.n, "J")
        offset = _scalar(self.offset, "offset")
        object.__setattr__(self, "h", h)
        object.__setattr__(self, "offset", offset)
        check_energy_range(self.name, 0.5 * _abs_total(self.J) + float(np.abs(h).sum()) + abs(offset))

    @classmethod
    def from_dense(cls, J, h=None, offset: float = 0.0, *, name: str = "ising") -> "Ising":
        J = SymmetricMatrix.from_dense(J, name="J")
        return cls(J, np.zeros(J.n) if h is None else h, offset, name)

    @property
    def n(self) -> int:
        return self.J.n

    def energy(self, states) -> np.ndarray:
        """Energies of ±1 states of shape (..., n), exact in float64."""
        s = _as_pm1(states, self.n)
        return -0.5 * self.J.quadratic(s) - s @ self.h + self.offset

    def flip_deltas(self, states) -> np.ndarray:
        """ΔH of flipping each spin, shape (..., n): ``2 s_i (Σ_j J_ij s_j + h_i)``."""
        s = _as_pm1(states, self.n)
        return 2.0 * s * (self.J.matvec(s) + self.h)

    def to_ising(self) -> "Ising":
        return self

    def to_qubo(self) -> "QUBO":
        # s = 2x - 1:  -1/2 Σ J (2x_i-1)(2x_j-1) - Σ h (2x-1) + c
        #   = -2 Σ_ij J x_i x_j + 2 Σ_i x_i Σ_j J_ij - 1/2 ΣJ - 2 Σ h x + Σ h + c
        Q = self.J.scaled(-2.0)
        q = 2.0 * self.J.row_sums() - 2.0 * self.h
        offset = -0.5 * self.J.total() + float(self.h.sum()) + self.offset
        return QUBO(Q, q, offset, name=self.name)

    def report(self, states) -> dict:
        return {}

    def describe(self) -> dict:
        return {"name": self.name, "n": self.n, "m": self.J.num_edges}


@dataclasses.dataclass(frozen=True, eq=False)
class QUBO:
    """``E(x) = Σ_ij Q_ij x_i x_j + Σ_i q_i x_i + offset`` over x ∈ {0,1}^n (Q off-diagonal, symmetric)."""

    Q: SymmetricMatrix
    q: np.ndarray
    offset: float = 0.0
    name: str = "qubo"
    native = "qubo"

    def __post_init__(self):
        if not isinstance(self.Q, SymmetricMatrix):  # a numpy off-diagonal part, like ``Ising(J, h)``
            object.__setattr__(self, "Q", SymmetricMatrix.from_dense(self.Q, name="Q (off-diagonal part; linear terms go in q)"))
        problem_size(self.Q.n, "Q's size n")
        q = _vector(self.q, "linear terms q", self.Q.n, "Q")
        offset = _scalar(self.offset, "offset")
        object.__setattr__(self, "q", q)
        object.__setattr__(self, "offset", offset)
        check_energy_range(self.name, _abs_total(self.Q) + float(np.abs(q).sum()) + abs(offset))

    @classmethod
    def from_matrix(cls, Q, offset: float = 0.0, *, name: str = "qubo", symmetrize: bool = False) -> "QUBO":
        """From a full matrix whose diagonal holds the linear terms.

        ``symmetrize=True`` accepts an upper-triangular (or any) matrix and uses ``(Q + Qᵀ)/2``, which has
        the same energy on every state; otherwise Q must already be symmetric.
        """
        Q = real_array(Q, "Q")
        if Q.ndim != 2 or Q.shape[0] != Q.shape[1]:
            raise ValueError(f"Q must be a square 2-D matrix, got shape {Q.shape}")
        if symmetrize:
            Q = 0.5 * (Q + Q.T)
        elif not np.array_equal(Q, Q.T):
            i, j = (int(k) for k in np.argwhere(Q != Q.T)[0])
            raise ValueError(
                f"Q must be symmetric (Q[{i},{j}]={Q[i, j]!r}, Q[{j},{i}]={Q[j, i]!r}); for an upper-triangular Q "
                "(or any Q) meaning E = xᵀQx pass symmetrize=True, which uses (Q + Qᵀ)/2 with the same energies"
            )
        diag = np.diag(Q).copy()
        off = Q - np.diag(diag)
        return cls(SymmetricMatrix.from_dense(off, name="Q"), diag, offset, name)

    @property
    def n(self) -> int:
        return self.Q.n

    def matrix(self) -> np.ndarray:
        """The full symmetric matrix, diagonal = linear terms."""
        m = self.Q.to_dense()
        m[np.diag_indices(self.n)] = self.q
        return m

    def energy(self, states) -> np.ndarray:
        x = _as_01(states, self.n)
        return self.Q.quadratic(x) + x @ self.q + self.offset

    def flip_deltas(self, states) -> np.ndarray:
        """ΔE of flipping each bit: ``(q_i + 2 Σ_j Q_ij x_j)(1 - 2 x_i)``."""
        x = _as_01(states, self.n)
        return (self.q + 2.0 * self.Q.matvec(x)) * (1.0 - 2.0 * x)

    def to_qubo(self) -> "QUBO":
        return self

    def to_ising(self) -> Ising:
        # x = (1+s)/2:  Σ_{i≠j} Q (1+s_i)(1+s_j)/4 + Σ q (1+s)/2 + c
        J = self.Q.scaled(-0.5)
        h = -0.5 * self.Q.row_sums() - 0.5 * self.q
        offset = 0.25 * self.Q.total() + 0.5 * float(self.q.sum()) + self.offset
        return Ising(J, h, offset, name=self.name)

    def report(self, states) -> dict:
        return {}

    def describe(self) -> dict:
        return {"name": self.name, "n": self.n, "m": self.Q.num_edges}


def _vector(values, name: str, n: int, matrix: str) -> np.ndarray:
    v = real_array(values, name).reshape(-1)
    if v.shape[0] != n:
        raise ValueError(f"{name} has length {v.shape[0]} but {matrix} is {n}×{n}")
    return v


def _scalar(value, name: str) -> float:
    v = real_array(value, name)
    if v.size != 1:
        raise ValueError(f"{name} must be one number, got an array of shape {v.shape}")
    return float(v.reshape(()))


def _abs_total(m: SymmetricMatrix) -> float:
    """Σ|entries| (both directions) of a coupling matrix."""
    return float(np.abs(m.dense).sum()) if m.is_dense else float(np.abs(m.vals).sum())


def spins_to_bits(s) -> np.ndarray:
    return (np.asarray(s) > 0).astype(np.int8)


def bits_to_spins(x) -> np.ndarray:
    return np.where(np.asarray(x) > 0, 1, -1).astype(np.int8)


def brute_force(problem, *, max_n: int = 20, chunk: int = 1 << 16):
    """Exact ground states by enumeration (n ≤ ``max_n``; for tests and small references).

    Returns ``(ground_energy, ground_states, energies)`` where ground_states are all minimisers in the
    problem's native variables (±1 for Ising-native problems, 0/1 for QUBO-native ones) and
    ``energies`` is the energy of every state, indexed by the binary number of x (x_0 most significant).
    """
    n = problem.n
    if n > max_n:
        raise ValueError(f"brute force enumerates 2^n states; n={n} exceeds max_n={max_n}")
    qubo = problem.to_qubo()
    Qfull = qubo.matrix()
    energies = np.empty(1 << n)
    weights = 1 << np.arange(n - 1, -1, -1)
    for start in range(0, 1 << n, chunk):
        idx = np.arange(start, min(start + chunk, 1 << n))
        x = ((idx[:, None] & weights) > 0).astype(np.float64)
        energies[start : start + len(idx)] = np.einsum("ki,ij,kj->k", x, Qfull, x) + qubo.offset
    e0 = energies.min()
    tol = 1e-9 * max(1.0, abs(e0))
    best = np.flatnonzero(energies <= e0 + tol)
    x = ((best[:, None] & weights) > 0).astype(np.int8)
    native = getattr(problem, "native", "qubo" if isinstance(problem, QUBO) else "ising")
    states = x if native == "qubo" else bits_to_spins(x)
    return float(e0), states, energies


def all_states(n: int) -> np.ndarray:
    """All 2^n bit vectors in enumeration order (x_0 most significant), int8."""
    return np.array(list(itertools.product((0, 1), repeat=n)), dtype=np.int8)
