"""MIS workloads like the Loihi 2 QUBO paper's (Pierro et al. 2024, Fig. 2): generator, exact
reference solutions and the gap metric.

* :func:`neurobench` — NeuroBench's QUBO-MIS workload exactly: ``networkx.gnm_random_graph(n,
  int(0.5·density·n²), seed=seed)``, ``Q = −w_diag·I + (w_off/2)·A`` with w_diag = 1, w_off = 8, cost
  ``xᵀQx``; score :func:`bks_gap` ``= |c − c_BKS| / |c_BKS|``.
* :func:`generate` — an Erdős–Rényi graph G(n, p = density) drawn with
  ``networkx.gnp_random_graph(n, density, seed=seed)``, as an :class:`~neurosim.MIS` QUBO with
  ``Q_uu = −1`` and ``Q_uv = Q_vu = λ`` (default 1: a conflict costs 2λ = 2) in the full matrix, the Loihi 2
  paper's eq. 25 convention.
* :func:`exact_mis` — the maximum independent set, proven optimal: a branch and bound over the
  complement's cliques with a greedy-colouring bound (Tomita–Seki MCQ, fast for dense graphs), or
  HiGHS's MILP (``scipy.optimize.milp``, the ``bench`` extra; faster for sparse graphs) — the
  one expected to be faster goes first, within a time limit. Returns ``proven=False`` with the best
  set found when the limit is hit.
* :func:`gap_percent` — ``100·|min(C, 0) − C_BKS| / |C_BKS|`` with C the QUBO cost of the
  *repaired* (feasible) set, so an infeasible state is never counted as a set.
"""

from __future__ import annotations

import time

import numpy as np

from ._graphs import MIS


NEUROBENCH_SIZES = (10, 25, 50, 100, 250, 500, 1000, 2500, 5000)
NEUROBENCH_DENSITIES = (0.01, 0.05, 0.10, 0.25)
NEUROBENCH_SEEDS = (0, 1, 2, 3, 4)


def neurobench(n: int, density: float, seed: int = 0, *, w_diag: float = 1.0, w_off: float = 8.0) -> MIS:
    """NeuroBench's QUBO-MIS instance (n, density, seed), edge for edge: ``G(n, m)`` with
    ``m = int(0.5·density·n²)`` edges (``networkx.gnm_random_graph``, NeuroBench's generator) and the
    full matrix ``Q = −w_diag·I + (w_off/2)·A``, i.e. an :class:`~neurosim.MIS` with λ = w_off/2 (= 4).
    The QUBO's energy ``xᵀQx`` is NeuroBench's cost (``−|S|`` on an independent set S when
    w_diag = 1). NeuroBench requires ``w_off > 2·w_diag``; only w_diag = 1 is an :class:`MIS`."""
    import networkx as nx

    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"neurobench: n must be a positive int, got {n!r}")
    if not 0.0 <= float(density) <= 1.0:
        raise ValueError(f"neurobench: density must be in [0, 1], got {density!r}")
    if float(w_diag) != 1.0 or not float(w_off) > 2.0 * float(w_diag):
        raise ValueError(f"neurobench: needs w_diag = 1 and w_off > 2·w_diag, got w_diag={w_diag!r}, w_off={w_off!r}")
    m = int(0.5 * float(density) * int(n) ** 2)
    g = nx.gnm_random_graph(int(n), m, seed=int(seed))
    edges = np.array(sorted((min(u, v), max(u, v)) for u, v in g.edges()), dtype=np.int64).reshape(-1, 2)
    return MIS.from_graph(edges, n=int(n), penalty=0.5 * float(w_off), name=f"neurobench-{n}_{float(density):g}_{seed}")


def bks_gap(cost, bks_cost) -> np.ndarray:
    """NeuroBench's optimality score ``|c − c_BKS| / |c_BKS|`` (QUBO costs; thresholds 0.1, 0.05, 0.01)."""
    b = float(bks_cost)
    if b == 0:
        raise ValueError("bks_gap: bks_cost must be nonzero")
    return np.abs(np.asarray(cost, dtype=np.float64) - b) / abs(b)


def generate(n: int, density: float, seed: int = 0, *, penalty: float = 1.0) -> MIS:
    """A random MIS instance G(n, density) with the given seed (same graph for the same arguments)."""
    import networkx as nx

    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if not 0.0 <= density <= 1.0:
        raise ValueError(f"density must be in [0, 1], got {density!r}")
    g = nx.gnp_random_graph(int(n), float(density), seed=int(seed))
    g.add_nodes_from(range(int(n)))
    edges = np.array(sorted(g.edges()), dtype=np.int64).reshape(-1, 2)
    prob = MIS.from_graph(edges, n=int(n), penalty=penalty, name=f"mis-n{n}-d{density:g}-s{seed}")
    return prob


def _edges(problem: MIS) -> np.ndarray:
    r, c, _ = problem.adjacency.coo()
    keep = r < c
    return np.stack([r[keep], c[keep]], axis=1)


def _bb_clique(n: int, edges: np.ndarray, lower: int, deadline: float | None):
    """Max clique of the complement of (n, edges) = MIS, by MCQ branch and bound on int bitsets."""
    full = (1 << n) - 1
    nb = [0] * n
    for u, v in edges.tolist():
        nb[u] |= 1 << v
        nb[v] |= 1 << u
    adj = [(full & ~nb[v]) & ~(1 << v) for v in range(n)]
    best = [lower, 0]
    nodes = [0]

    def colour_order(P):
        out = []
        k = 0
        while P:
            k += 1
            Q = P
            while Q:
                low = Q & -Q
                v = low.bit_length() - 1
                out.append((v, k))
                P &= ~low
                Q &= ~low & ~adj[v]
        return out

    def expand(size, cur, P):
        nodes[0] += 1
        if deadline is not None and (nodes[0] & 1023) == 0 and time.perf_counter() > deadline:
            raise TimeoutError
        for v, c in reversed(colour_order(P)):
            if size + c <= best[0]:
                return
            bit = 1 << v
            NP = P & adj[v]
            if NP:
                expand(size + 1, cur | bit, NP)
            elif size + 1 > best[0]:
                best[0], best[1] = size + 1, cur | bit
            P &= ~bit

    import sys

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 4 * n + 100))
    try:
        expand(0, 0, full)
        proven = True
    except TimeoutError:
        proven = False
    finally:
        sys.setrecursionlimit(old)
    x = np.array([(best[1] >> i) & 1 for i in range(n)], dtype=np.int8)
    return x, proven


def _milp(n: int, edges: np.ndarray, time_limit: float):
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    m = len(edges)
    cons = []
    if m:
        A = coo_matrix((np.ones(2 * m), (np.repeat(np.arange(m), 2), edges.ravel())), shape=(m, n))
        cons = [LinearConstraint(A, -np.inf, 1)]
    res = milp(-np.ones(n), constraints=cons, integrality=np.ones(n), bounds=Bounds(0, 1), options={"time_limit": float(time_limit)})
    if res.x is None:
        return np.zeros(n, np.int8), False
    return (res.x > 0.5).astype(np.int8), res.status == 0


def greedy_mis(problem: MIS) -> np.ndarray:
    """Minimum-degree greedy independent set (a quick lower bound)."""
    n = problem.n
    adj = [set() for _ in range(n)]
    for u, v in _edges(problem).tolist():
        adj[u].add(v)
        adj[v].add(u)
    alive = set(range(n))
    x = np.zeros(n, np.int8)
    while alive:
        v = min(alive, key=lambda u: (len(adj[u] & alive), u))
        x[v] = 1
        alive -= adj[v] | {v}
    return x


def exact_mis(problem: MIS, *, time_limit: float = 60.0, method: str = "auto"):
    """``(size, x, proven)``: a maximum independent set (``proven=True``) or, when ``time_limit``
    seconds pass first, the best set found (``proven=False``). ``method``: 'auto', 'bb' or 'milp'."""
    if method not in ("auto", "bb", "milp"):
        raise ValueError(f"method must be 'auto', 'bb' or 'milp', got {method!r}")
    n = problem.n
    edges = _edges(problem)
    density = 2 * len(edges) / max(1, n * (n - 1))
    x0 = greedy_mis(problem)
    if method == "auto":
        try:
            import scipy.optimize  # noqa: F401

            method = "bb" if density >= 0.1 or n <= 60 else "milp"
        except ImportError:
            method = "bb"
    if method == "milp":
        x, proven = _milp(n, edges, time_limit)
    else:
        x, proven = _bb_clique(n, edges, int(x0.sum()) - 1, time.perf_counter() + time_limit)
    if x.sum() < x0.sum():
        x = x0
    if not problem.is_independent(x):  # never hand back an infeasible set
        x = problem.repair(x)
        proven = False
    return int(x.sum()), x, bool(proven)


def feasible_cost(problem: MIS, states) -> np.ndarray:
    """QUBO cost of the repaired (feasible) states: ``−set size`` (float64, shape (...,))."""
    return -problem.repair(states).sum(axis=-1).astype(np.float64)


def gap_percent(cost, best_known_cost) -> np.ndarray:
    """``100·|min(C, 0) − C_BKS| / |C_BKS|`` (the paper's metric; C and C_BKS QUBO costs)."""
    c = np.minimum(np.asarray(cost, dtype=np.float64), 0.0)
    b = float(best_known_cost)
    if b == 0:
        raise ValueError("best_known_cost must be nonzero")
    return 100.0 * np.abs(c - b) / abs(b)
