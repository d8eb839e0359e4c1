"""Graph problems: Max-Cut and maximum independent set, built from networkx graphs, edge lists,
numpy matrices or Gset files. Each reports its own figure of merit (cut value, feasible set size)
next to the energy."""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from ._matrix import SymmetricMatrix
from ._problems import QUBO, Ising, _abs_total, _as_01, _as_pm1
from ._validate import check_energy_range, problem_size, real_array, vertex_ids


def _weights_from(graph, n: int | None, weight: str | None) -> tuple[SymmetricMatrix, list | None]:
    """Accepts a networkx graph, an (m, 2|3) edge array/list, a dense/sparse numpy matrix, or a
    SymmetricMatrix. Returns the symmetric weight matrix and the node labels (networkx only).
    ``weight=None``: every listed edge gets weight 1 (MIS: an edge is a conflict whatever its weight,
    so an edge of weight 0 is kept, not dropped)."""
    if isinstance(graph, SymmetricMatrix):
        return graph, None
    try:
        import networkx as nx
    except ImportError:  # pragma: no cover - networkx is a dependency
        nx = None
    if nx is not None and isinstance(graph, nx.Graph):
        if graph.is_directed():
            raise ValueError("Max-Cut/MIS need an undirected graph; got a directed networkx graph")
        labels = list(graph.nodes())
        index = {v: k for k, v in enumerate(labels)}
        ends = [(index[u], index[v]) for u, v in graph.edges()]
        w = [1.0 if weight is None else d.get(weight, 1.0) for _, _, d in graph.edges(data=True)]
        ij = np.array(ends, dtype=np.int64).reshape(-1, 2)
        w = real_array(np.array(w, dtype=object) if w else np.zeros(0), f"edge attribute {weight!r}")
        return SymmetricMatrix.from_edges(len(labels), ij[:, 0], ij[:, 1], w, name="graph", combine="error"), labels
    arr = np.asarray(graph)
    if arr.dtype.kind not in "biuf":
        if arr.ndim != 2:
            raise _not_a_graph(graph, arr)
        real_array(arr, "graph")  # refuses complex, string and non-number entries with a clear message
        arr = arr.astype(np.float64)
    square = arr.ndim == 2 and arr.shape[0] == arr.shape[1]
    # A 2×2 or 3×3 array is read as an adjacency matrix when it is a valid one (symmetric, zero
    # diagonal): as an edge list it would always list a pair twice or hold a self-loop.
    if square and (arr.shape[1] not in (2, 3) or (np.array_equal(arr, arr.T) and not np.any(np.diag(arr)))):
        real_array(arr, "adjacency matrix")  # finite and within float32, also where only the pattern counts
        if weight is None:
            arr = (arr != 0).astype(np.float64)
        return SymmetricMatrix.from_dense(arr, name="adjacency matrix", keep_dense=None), None
    if arr.ndim == 2 and arr.shape[1] in (2, 3):
        ids = vertex_ids(arr[:, :2], "edge list vertex ids")
        if n is None:
            n = int(ids.max()) + 1 if len(ids) else 0
        n = problem_size(n, "n")
        w = real_array(arr[:, 2], "edge list weights") if arr.shape[1] == 3 else np.ones(len(arr))
        if weight is None:  # MIS: every listed edge is a conflict, whatever its (finite) weight
            w = np.ones(len(arr))
        return SymmetricMatrix.from_edges(n, ids[:, 0], ids[:, 1], w, name="edge list", combine="error"), None
    raise _not_a_graph(graph, arr)


def _not_a_graph(graph, arr) -> ValueError:
    return ValueError(
        "graph must be a networkx.Graph, an (m, 2) or (m, 3) edge array, a square adjacency matrix, or a SymmetricMatrix; "
        f"got {type(graph).__name__} with shape {getattr(arr, 'shape', None)}"
    )


@dataclasses.dataclass(frozen=True, eq=False)
class MaxCut:
    """Max-Cut of a weighted undirected graph. ``cut(s) = Σ_(i,j)∈E w_ij (1 - s_i s_j) / 2``.

    The Ising form has ``H(s) = -cut(s)`` exactly (``J = -w/2``, ``h = 0``, ``offset = -Σw/2``), so the
    engine's best energy is minus the best cut.
    """

    weights: SymmetricMatrix
    name: str = "maxcut"
    labels: list | None = None
    native = "ising"

    def __post_init__(self):
        problem_size(self.weights.n, "the graph's number of vertices n")
        check_energy_range(self.name, _abs_total(self.weights))

    @classmethod
    def from_graph(cls, graph, *, n: int | None = None, weight: str = "weight", name: str = "maxcut") -> "MaxCut":
        w, labels = _weights_from(graph, n, weight)
        return cls(w, name, labels)

    @classmethod
    def from_gset(cls, path: str | os.PathLike) -> "MaxCut":
        n, i, j, w = read_gset(path)
        name = os.path.splitext(os.path.basename(os.fspath(path)))[0]
        return cls(SymmetricMatrix.from_edges(n, i, j, w, name=os.fspath(path), combine="error"), name)

    @property
    def n(self) -> int:
        return self.weights.n

    @property
    def total_weight(self) -> float:
        return 0.5 * self.weights.total()

    def cut(self, states) -> np.ndarray:
        s = _as_pm1(states, self.n)
        return 0.5 * (self.total_weight - 0.5 * self.weights.quadratic(s))

    def energy(self, states) -> np.ndarray:
        return -self.cut(states)

    def to_ising(self) -> Ising:
        return Ising(self.weights.scaled(-0.5), np.zeros(self.n), -0.5 * self.total_weight, name=self.name)

    def to_qubo(self) -> QUBO:
        return self.to_ising().to_qubo()

    def report(self, states) -> dict:
        return {"cut": self.cut(states)}

    def describe(self) -> dict:
        return {"name": self.name, "n": self.n, "m": self.weights.num_edges}


@dataclasses.dataclass(frozen=True, eq=False)
class MIS:
    """Maximum independent set as a QUBO ``E(x) = xᵀQx`` in the Loihi 2 paper's convention (its eq. 25,
    also NeuroBench's): the *full symmetric* matrix has ``Q_uu = −1`` and ``Q_uv = Q_vu = λ`` on every
    edge, with λ = ``penalty``. Both triangles count, so ``E(x) = −Σ_u x_u + 2λ Σ_(u,v)∈E x_u x_v``: a
    conflict costs ``2λ`` (:attr:`conflict_energy`). With λ > 1/2 every minimiser is a maximum
    independent set. The default λ = 1 (a conflict costs 2) is the QUBO neurosim used before the
    convention was made explicit, when ``penalty = 2`` meant the per-conflict energy; NeuroBench uses
    λ = w_off/2 = 4 (:func:`neurosim.mis.neurobench`). Reported set sizes are always of feasible sets:
    infeasible states are repaired (greedy removal of the vertex with most conflicts) and flagged."""

    adjacency: SymmetricMatrix
    penalty: float = 1.0
    name: str = "mis"
    labels: list | None = None
    native = "qubo"

    def __post_init__(self):
        problem_size(self.adjacency.n, "the graph's number of vertices n")
        # finite too: λ = inf would make every conflict energy inf and every energy comparison NaN
        if not (self.penalty > 0.5 and np.isfinite(self.penalty)):
            raise ValueError(
                f"MIS penalty λ (Q_uv of the full symmetric matrix, a conflict costs 2λ) must be a finite number > 0.5 so that "
                f"minimisers are independent sets, got {self.penalty!r}"
            )

    @property
    def conflict_energy(self) -> float:
        """Energy of one edge inside the set: ``2λ`` (Q_uv + Q_vu)."""
        return 2.0 * self.penalty

    @classmethod
    def from_graph(cls, graph, *, penalty: float = 1.0, n: int | None = None, name: str = "mis") -> "MIS":
        w, labels = _weights_from(graph, n, None)  # every listed edge, whatever its weight (0 included)
        r, c, _ = w.coo()
        adj = SymmetricMatrix(w.n, r, c, np.ones(len(r)), None) if not w.is_dense else SymmetricMatrix.from_dense(
            (w.dense != 0).astype(float), name="adjacency"
        )
        return cls(adj, float(penalty), name, labels)

    @property
    def n(self) -> int:
        return self.adjacency.n

    def to_qubo(self) -> QUBO:
        # QUBO.Q is the full symmetric off-diagonal matrix (E = Σ_ij Q_ij x_i x_j): Q_uv = λ as in eq. 25
        return QUBO(self.adjacency.scaled(self.penalty), -np.ones(self.n), 0.0, name=self.name)

    def to_ising(self) -> Ising:
        return self.to_qubo().to_ising()

    def energy(self, states) -> np.ndarray:
        return self.to_qubo().energy(states)

    def conflicts(self, states) -> np.ndarray:
        """Number of edges with both ends in the set."""
        x = _as_01(states, self.n)
        return 0.5 * self.adjacency.quadratic(x)

    def is_independent(self, states) -> np.ndarray:
        return self.conflicts(states) == 0

    def repair(self, states) -> np.ndarray:
        """Make each state independent by removing, one at a time, the chosen vertex with the most
        chosen neighbours (ties: lowest index). Returns int8 states of the same shape."""
        x = _as_01(states, self.n).astype(np.int8).reshape(-1, self.n).copy()
        # chosen-neighbour weight of every vertex, kept up to date as vertices leave (one row per removal,
        # not a matvec: the same greedy order, O(degree) a step)
        load = self.adjacency.matvec(x.astype(np.float64))
        for k in range(x.shape[0]):
            while True:
                inside = load[k] * x[k]
                v = int(np.argmax(inside))
                if inside[v] <= 0:
                    break
                x[k, v] = 0
                cols, vals = self.adjacency.row(v)
                load[k, cols] -= vals
        return x.reshape(np.shape(states))

    def report(self, states) -> dict:
        feasible = self.is_independent(states)
        repaired = self.repair(states)
        return {"feasible": feasible, "set_size": repaired.sum(axis=-1).astype(np.int64)}

    def describe(self) -> dict:
        return {"name": self.name, "n": self.n, "m": self.adjacency.num_edges}


# --------------------------------------------------------------------------- Gset reader
def read_gset(path: str | os.PathLike):
    """Read a Gset/rudy file: first line ``n m``, then ``m`` lines ``i j w`` (1-indexed, each edge once).

    The grammar is ``neurosim._grammar``'s (shared with every text format): LF, CRLF or CR line
    endings, spaces/tabs between fields, blank lines skipped. Anything else (wrong field count,
    non-numbers, ``1_0``, control characters, ids outside 1..n, self-loops, duplicate edges, an edge
    count that disagrees with the header) raises a one-line ``ValueError`` naming the file and line.
    Returns ``(n, i, j, w)`` with 0-indexed int64 vertex arrays and float64 weights.
    """
    from ._formats_text import read_n_m

    e = read_n_m(os.fspath(path), diagonal=False, what="Gset graph")
    return e.n, e.i, e.j, e.v


def write_gset(path: str | os.PathLike, problem: MaxCut) -> None:
    i, j, w = problem.weights.upper_edges()
    with open(path, "w") as fh:
        fh.write(f"{problem.n} {len(i)}\n")
        for a, b, c in zip(i, j, w):
            fh.write(f"{a + 1} {b + 1} {int(c) if float(c).is_integer() else c}\n")
