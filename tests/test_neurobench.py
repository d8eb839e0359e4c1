"""NeuroBench QUBO-MIS workload: the generator against an independent networkx construction, the
published optima of small instances, the score, and the shipped BKS table."""

import networkx as nx
import numpy as np
import pytest

from neurosim import mis
from neurosim.bench import _neurobench_bks as bks

# NeuroBench system_benchmarks QUBO/costs.json (its brute-force optima, n < 50): (n, density, seed) -> cost
PUBLISHED = {(10, 0.05, 2): -9, (10, 0.1, 3): -8, (10, 0.25, 4): -5, (25, 0.05, 0): -15, (25, 0.05, 1): -18,
             (25, 0.1, 0): -12, (25, 0.25, 3): -10, (25, 0.01, 2): -23}


@pytest.mark.parametrize("n, density, seed", [(10, 0.01, 0), (25, 0.25, 3), (100, 0.05, 1), (250, 0.1, 4), (500, 0.01, 2)])
def test_instance_is_networkx_gnm_edge_for_edge_with_q_minus_i_plus_4a(n, density, seed):
    g = nx.gnm_random_graph(n, int(0.5 * density * n * n), seed=seed)
    A = nx.to_numpy_array(g, nodelist=range(n))
    p = mis.neurobench(n, density, seed)
    r, c, _ = p.adjacency.coo()
    assert {(int(u), int(v)) for u, v in zip(r, c) if u < v} == {(min(u, v), max(u, v)) for u, v in g.edges()}
    Q = p.to_qubo().matrix()
    np.testing.assert_array_equal(Q, -np.eye(n) + 4.0 * A)  # -w_diag I + (w_off/2) A
    x = np.random.default_rng(seed).integers(0, 2, size=(20, n)).astype(np.int8)
    np.testing.assert_allclose(p.energy(x), np.einsum("ri,ij,rj->r", x, -np.eye(n) + 4.0 * A, x))
    assert p.penalty == 4.0 and p.conflict_energy == 8.0


@pytest.mark.parametrize("key", sorted(PUBLISHED))
def test_exact_optima_equal_neurobench_published_costs(key):
    size, _, proven = mis.exact_mis(mis.neurobench(*key), time_limit=30)
    assert proven and -size == PUBLISHED[key]


def test_bks_gap_and_bad_arguments():
    np.testing.assert_allclose(mis.bks_gap([-90, -100, -101, 0], -100), [0.1, 0.0, 0.01, 1.0])
    with pytest.raises(ValueError, match="bks_cost"):
        mis.bks_gap(-1, 0)
    for bad in (dict(n=0, density=0.1), dict(n=10, density=1.5), dict(n=10, density=0.1, w_off=2.0)):
        with pytest.raises(ValueError, match="neurobench"):
            mis.neurobench(seed=0, **bad)


def test_shipped_bks_table_is_consistent_with_the_instances():
    table = bks.read_table()
    if not table:
        pytest.skip("no BKS table shipped")
    rows = [r for k, r in table.items() if k[0] <= 25][:6] + [r for k, r in table.items() if r["method"] == "tabu"][:2]
    for row in rows:
        p = mis.neurobench(int(row["n"]), float(row["density"]), int(row["seed"]))
        assert row["bks_cost"] < 0
        if row["method"] == "exact":
            assert -mis.exact_mis(p, time_limit=30)[0] == row["bks_cost"]
        else:
            assert row["reads"] >= 1 and -row["bks_cost"] <= p.n
        if row.get("exact_cost"):
            assert int(row["exact_cost"]) <= row["bks_cost"]


def test_bks_table_round_trip(tmp_path):
    out = tmp_path / "bks.csv"
    assert bks.main(["--sizes", "10", "--densities", "0.25", "--seeds", "2", "--out", str(out)]) == 0
    assert bks.main(["--sizes", "10", "--densities", "0.25", "--seeds", "2", "--out", str(out)]) == 0  # resumes: nothing new
    text = out.read_text()
    assert text.count("\n10,0.25,2,") == 1 and "# run: python -m neurosim.bench._neurobench_bks" in text
    assert bks.bks_cost(10, 0.25, 2, path=str(out)) == -5
    assert bks.bks_cost(10, 0.25, 3, path=str(out)) is None
