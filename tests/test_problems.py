"""Problems: exact conversion by enumeration, Gset reader against hand counts, builders, bad input."""

import networkx as nx
import numpy as np
import pytest

import neurosim as ns
from neurosim._problems import all_states

from conftest import random_ising


@pytest.mark.parametrize("n, seed", [(1, 0), (5, 1), (9, 2), (12, 3)])
def test_qubo_ising_energies_equal_on_every_state(n, seed):
    ising = random_ising(n, seed=seed)
    x = all_states(n)
    s = 2 * x.astype(np.int8) - 1
    q = ising.to_qubo()
    np.testing.assert_allclose(q.energy(x), ising.energy(s), rtol=1e-12, atol=1e-9)
    back = q.to_ising()
    np.testing.assert_allclose(back.energy(s), ising.energy(s), rtol=1e-12, atol=1e-9)
    # and starting from a QUBO with an upper-triangular input matrix
    rng = np.random.default_rng(seed)
    Q = np.triu(rng.normal(size=(n, n)))
    qubo = ns.QUBO.from_matrix(Q, 0.5, symmetrize=True)
    direct = np.einsum("ki,ij,kj->k", x.astype(float), Q, x.astype(float)) + 0.5
    np.testing.assert_allclose(qubo.energy(x), direct, atol=1e-9)
    np.testing.assert_allclose(qubo.to_ising().energy(s), direct, atol=1e-9)


def test_flip_deltas_match_energy_differences():
    ising = random_ising(8, seed=5)
    rng = np.random.default_rng(0)
    s = rng.choice([-1, 1], size=(4, 8))
    d = ising.flip_deltas(s)
    for i in range(8):
        t = s.copy()
        t[:, i] *= -1
        np.testing.assert_allclose(d[:, i], ising.energy(t) - ising.energy(s), atol=1e-9)
    q = ising.to_qubo()
    x = (s > 0).astype(int)
    dq = q.flip_deltas(x)
    np.testing.assert_allclose(dq, d, atol=1e-9)


def test_maxcut_energy_is_minus_cut_and_brute_force():
    g = nx.gnp_random_graph(10, 0.5, seed=1)
    for u, v in g.edges():
        g[u][v]["weight"] = float((u * 7 + v) % 5 - 2) or 1.0
    p = ns.MaxCut.from_graph(g)
    x = all_states(10)
    s = 2 * x - 1
    cut_by_hand = np.array([sum(d["weight"] for a, b, d in g.edges(data=True) if st[a] != st[b]) for st in s])
    np.testing.assert_allclose(p.cut(s), cut_by_hand)
    np.testing.assert_allclose(p.to_ising().energy(s), -cut_by_hand)
    np.testing.assert_allclose(p.to_qubo().energy(x), -cut_by_hand)
    e0, ground, _ = ns.brute_force(p)
    assert e0 == -cut_by_hand.max()
    assert len(ground) >= 2  # s and -s
    np.testing.assert_array_equal(p.cut(ground), cut_by_hand.max())


def test_mis_qubo_minimisers_are_maximum_independent_sets():
    g = nx.gnp_random_graph(11, 0.3, seed=4)
    p = ns.MIS.from_graph(g, penalty=1.0)
    e0, ground, _ = ns.brute_force(p)
    best = max(len(c) for c in nx.find_cliques(nx.complement(g)))
    assert -e0 == best
    assert p.is_independent(ground).all()
    # repair never reports an infeasible set
    bad = np.ones((2, 11), dtype=np.int8)
    rep = p.report(bad)
    assert not rep["feasible"].any()
    assert p.is_independent(p.repair(bad)).all()
    assert (rep["set_size"] > 0).all()
    with pytest.raises(ValueError, match="penalty"):
        ns.MIS.from_graph(g, penalty=0.5)


def test_gset_reader_g1_matches_hand_count_and_witness(gset_dir):
    path = gset_dir / "G1.txt"
    lines = [l.split() for l in path.read_text().splitlines() if l.strip()]
    n, m = map(int, lines[0])
    p = ns.MaxCut.from_gset(path)
    assert (p.n, p.weights.num_edges) == (n, m) == (800, 19176)
    hexstr = (gset_dir / "witness" / "G1_cut11624.hex").read_text().strip()
    v = int(hexstr, 16)
    side = np.array([(v >> (799 - i)) & 1 for i in range(800)])
    # hand count straight from the file's lines
    hand = sum(float(w) for i, j, w in lines[1:] if side[int(i) - 1] != side[int(j) - 1])
    assert hand == 11624
    assert p.cut(2 * side - 1) == 11624


def test_gset_reader_tolerates_crlf_spaces_and_missing_newline(tmp_path):
    f = tmp_path / "g.txt"
    f.write_bytes(b"4 3  \r\n1 2 1\r\n 2 3 -1 \r\n\r\n3 4 1")
    n, i, j, w = ns.read_gset(f)
    assert n == 4 and list(i) == [0, 1, 2] and list(j) == [1, 2, 3] and list(w) == [1, -1, 1]


@pytest.mark.parametrize(
    "content, line, what",
    [
        (b"4 2\n1 2 1\n2 3\n", 3, "expected 'i j w'"),
        (b"4 2\n1 2 1\n2 x 1\n", 3, "integers"),
        (b"4 2\n1 2 1\n2 5 1\n", 3, "outside"),
        (b"4 2\n1 2 1\n3 3 1\n", 3, "self-loop"),
        (b"4 3\n1 2 1\n2 3 1\n", 1, "m=3"),
        (b"4\n1 2 1\n", 1, "header"),
        (b"4 2\n1 2 1\n2 1 1\n", 3, "twice"),
        (b"4 1\n1 2 nan\n", 2, "not finite"),
    ],
)
def test_gset_reader_rejects_malformed_with_file_and_line(tmp_path, content, line, what):
    f = tmp_path / "bad.txt"
    f.write_bytes(content)
    with pytest.raises(ValueError) as exc:
        ns.read_gset(f)
    assert f"{f}:{line}" in str(exc.value)
    assert what in str(exc.value)


def test_matrix_validation_names_the_entry():
    J = np.zeros((3, 3))
    J[0, 1] = 1.0
    with pytest.raises(ValueError, match=r"symmetric.*\[0,1\]"):
        ns.Ising.from_dense(J)
    J[1, 0] = 1.0
    J[2, 2] = 0.5
    with pytest.raises(ValueError, match="diagonal"):
        ns.Ising.from_dense(J)
    J[2, 2] = 0
    J[0, 1] = J[1, 0] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        ns.Ising.from_dense(J)
    with pytest.raises(ValueError, match="non-finite"):
        ns.QUBO.from_matrix(np.array([[1.0, np.inf], [np.inf, 0.0]]))
    with pytest.raises(ValueError, match="h"):
        ns.Ising.from_dense(np.zeros((2, 2)), h=[np.nan, 0])


def test_builders_accept_networkx_edges_and_matrices():
    g = nx.cycle_graph(6)
    a = ns.MaxCut.from_graph(g)
    b = ns.MaxCut.from_graph(np.array([[i, (i + 1) % 6] for i in range(6)]))
    c = ns.MaxCut.from_graph(nx.to_numpy_array(g))
    s = np.array([1, -1, 1, -1, 1, -1])
    assert a.cut(s) == b.cut(s) == c.cut(s) == 6
    with pytest.raises(ValueError, match="self-loop"):
        ns.MaxCut.from_graph(np.array([[0, 0], [0, 1]]), n=3)
    with pytest.raises(ValueError, match="networkx"):
        ns.MaxCut.from_graph("not a graph")


def test_cli_problem_files(tmp_path):
    from neurosim._build import load_problem

    f = tmp_path / "q.txt"
    f.write_text("3 4\n1 1 -1\n2 2 -1\n1 2 2\n2 3 0.5\n")
    q = load_problem(str(f), "qubo")
    x = all_states(3)
    direct = -x[:, 0] - x[:, 1] + 2 * x[:, 0] * x[:, 1] + 0.5 * x[:, 1] * x[:, 2]
    np.testing.assert_allclose(q.energy(x), direct)
    np.savez(tmp_path / "p.npz", Q=q.matrix(), offset=1.5)
    q2 = load_problem(str(tmp_path / "p.npz"))
    np.testing.assert_allclose(q2.energy(x), direct + 1.5)


def test_many_states_of_a_big_graph_are_evaluated_in_bounded_memory(monkeypatch):
    """Host-side energies of many replicas switch from one edge × state temporary to a dense product or
    to blocks of states; all three give the same values (up to float64 rounding)."""
    import neurosim._matrix as nm

    rng = np.random.default_rng(7)
    n = 60
    r, c = np.triu_indices(n, 1)
    keep = rng.random(len(r)) < 0.3
    w = rng.normal(size=keep.sum())
    M = ns.SymmetricMatrix.from_edges(n, r[keep], c[keep], w)
    x = rng.choice([-1.0, 1.0], size=(3, 11, n))
    direct = M.quadratic(x)
    A = np.zeros((n, n))
    A[r[keep], c[keep]] = w
    A += A.T
    np.testing.assert_allclose(direct, np.einsum("abi,ij,abj->ab", x, A, x), rtol=1e-12, atol=1e-9)
    monkeypatch.setattr(nm, "_HOST_TEMP_ELEMENTS", 5 * len(M.vals))  # 33 states: over the limit
    np.testing.assert_allclose(M.quadratic(x), direct, rtol=1e-12, atol=1e-9)  # dense product
    monkeypatch.setattr(nm, "_HOST_DENSE_MAX_N", 10)
    np.testing.assert_allclose(M.quadratic(x), direct, rtol=1e-12, atol=1e-9)  # blocks of 5 states
