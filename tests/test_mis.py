"""MIS workloads (neurosim.mis): generator, exact solver vs brute force, repair, gap metric."""

import itertools

import numpy as np
import pytest

import neurosim as ns
from neurosim import mis


def brute_force_mis(n, edges):
    """Largest independent set by enumerating all 2^n subsets (independent reference)."""
    nb = [0] * n
    for u, v in edges:
        nb[u] |= 1 << v
        nb[v] |= 1 << u
    best = 0
    for mask in range(1 << n):
        size = bin(mask).count("1")
        if size <= best:
            continue
        m = mask
        ok = True
        while m:
            v = (m & -m).bit_length() - 1
            if nb[v] & mask:
                ok = False
                break
            m &= m - 1
        if ok:
            best = size
    return best


def edge_list(p):
    r, c, _ = p.adjacency.coo()
    keep = r < c
    return list(zip(r[keep].tolist(), c[keep].tolist()))


@pytest.mark.parametrize("method", ["bb", "milp"])
@pytest.mark.parametrize("n,density,seed", [(8, 0.3, 0), (12, 0.2, 1), (14, 0.5, 2), (16, 0.15, 3), (15, 0.8, 4), (10, 0.0, 5)])
def test_exact_mis_matches_brute_force(method, n, density, seed):
    if method == "milp":
        pytest.importorskip("scipy.optimize")
    p = mis.generate(n, density, seed)
    size, x, proven = mis.exact_mis(p, method=method, time_limit=30)
    assert proven
    assert size == brute_force_mis(n, edge_list(p))
    assert x.sum() == size and bool(p.is_independent(x))


def test_exact_mis_time_limit_returns_feasible_unproven():
    p = mis.generate(300, 0.1, 0)
    size, x, proven = mis.exact_mis(p, method="bb", time_limit=0.05)
    assert not proven
    assert bool(p.is_independent(x)) and x.sum() == size >= mis.greedy_mis(p).sum()


def test_generate_is_deterministic_and_has_the_qubo_of_the_spec():
    a, b = mis.generate(30, 0.2, 7), mis.generate(30, 0.2, 7)
    assert edge_list(a) == edge_list(b)
    assert edge_list(a) != edge_list(mis.generate(30, 0.2, 8))
    # E(x) = xᵀQx = -|S| + 2λ·(edges inside S), λ = penalty = Q_uv of the full matrix (paper eq. 25)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, size=(50, 30)).astype(np.int8)
    inside = np.array([sum(int(s[u] and s[v]) for u, v in edge_list(a)) for s in x])
    np.testing.assert_allclose(a.energy(x), -x.sum(1) + 2.0 * inside)
    c = mis.generate(30, 0.2, 7, penalty=3.5)
    np.testing.assert_allclose(c.energy(x), -x.sum(1) + 7.0 * inside)
    full = c.to_qubo().matrix()  # Q_uu = -1, Q_uv = Q_vu = λ on edges
    np.testing.assert_allclose(np.einsum("ri,ij,rj->r", x, full, x), c.energy(x))
    assert {full[u, v] for u, v in edge_list(c)} == {3.5}
    # density: G(n, p) has p·n(n-1)/2 edges on average
    big = mis.generate(400, 0.15, 0)
    m = len(edge_list(big))
    exp = 0.15 * 400 * 399 / 2
    assert abs(m - exp) < 5 * np.sqrt(exp)


def test_repair_never_returns_an_infeasible_set():
    rng = np.random.default_rng(1)
    for seed, density in [(0, 0.05), (1, 0.3), (2, 0.9)]:
        p = mis.generate(40, density, seed)
        states = rng.integers(0, 2, size=(64, 40)).astype(np.int8)
        states[0] = 1  # every vertex chosen
        states[1] = 0
        fixed = p.repair(states)
        assert fixed.shape == states.shape
        assert np.all(p.is_independent(fixed))
        assert np.all(fixed <= states)  # repair only removes vertices
        # an already independent set is left unchanged
        ok = p.is_independent(states)
        np.testing.assert_array_equal(fixed[ok], states[ok])
        # the reported set size is of the repaired set
        rep = p.report(states)
        np.testing.assert_array_equal(rep["set_size"], fixed.sum(1))
        np.testing.assert_array_equal(rep["feasible"], ok)
        np.testing.assert_array_equal(mis.feasible_cost(p, states), -fixed.sum(1))


def test_gap_percent_formula():
    # 100·|min(C, 0) − C_BKS| / |C_BKS|
    assert mis.gap_percent(-10, -10) == 0.0
    assert mis.gap_percent(-8, -10) == pytest.approx(20.0)
    assert mis.gap_percent(0, -10) == pytest.approx(100.0)
    assert mis.gap_percent(5, -10) == pytest.approx(100.0)  # a positive cost counts as 0
    np.testing.assert_allclose(mis.gap_percent(np.array([-1.0, -3.0, -4.0]), -4), [75.0, 25.0, 0.0])
    with pytest.raises(ValueError):
        mis.gap_percent(-1, 0)


def test_greedy_is_independent_and_maximal():
    p = mis.generate(60, 0.1, 3)
    x = mis.greedy_mis(p)
    assert bool(p.is_independent(x))
    # maximal: every vertex outside the set has a neighbour inside it
    adj = p.adjacency.to_dense() != 0
    for v in np.flatnonzero(x == 0):
        assert adj[v, x == 1].any()


def test_exact_mis_rejects_unknown_method():
    with pytest.raises(ValueError, match="method"):
        mis.exact_mis(mis.generate(5, 0.5, 0), method="magic")


def test_generate_validates():
    with pytest.raises(ValueError):
        mis.generate(0, 0.1)
    with pytest.raises(ValueError):
        mis.generate(10, 1.5)
    with pytest.raises(ValueError):
        ns.MIS.from_graph(np.array([[0, 1]]), penalty=0.5)
    for bad in (float("inf"), float("nan")):
        with pytest.raises(ValueError, match="finite number > 0.5"):
            ns.MIS.from_graph(np.array([[0, 1]]), penalty=bad)


def test_brute_force_reference_itself():
    # the reference on graphs whose MIS is known by hand
    assert brute_force_mis(5, [(i, (i + 1) % 5) for i in range(5)]) == 2  # C5
    assert brute_force_mis(4, list(itertools.combinations(range(4), 2))) == 1  # K4
    assert brute_force_mis(6, []) == 6


def _greedy_repair_reference(adjacency_dense, x):
    """The greedy rule written the slow, obvious way: recount conflicts after every removal."""
    x = x.copy()
    while True:
        inside = (adjacency_dense @ x) * x
        if inside.max(initial=0) <= 0:
            return x
        x[int(np.argmax(inside))] = 0


@pytest.mark.parametrize("dense", [False, True])
def test_repair_follows_the_greedy_rule_exactly(dense):
    rng = np.random.default_rng(7)
    p = mis.generate(60, 0.2, 3)
    A = p.adjacency.to_dense()
    if dense:
        p = mis.MIS.from_graph(A, penalty=p.penalty)
        assert p.adjacency.is_dense
    states = rng.integers(0, 2, size=(16, 60)).astype(np.int8)
    states[0] = 1
    got = p.repair(states)
    for s, g in zip(states, got):
        np.testing.assert_array_equal(g, _greedy_repair_reference(A, s.astype(np.float64)))
