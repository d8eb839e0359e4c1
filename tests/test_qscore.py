"""Q-score: seed-generated G(N, ½) instances, the packed popcount kernel, β and the CLI."""

import argparse
import itertools
import json
import os

import jax
import jax.numpy as jnp
import networkx as nx
import numpy as np
import pytest

from neurosim import qscore as q
from neurosim import random as nsr
from neurosim._bitgraph import cut_values, from_adjacency, pack_bits, random_states, sweep, unpack_bits


def _dense(edges, n):
    a = np.zeros((n, n), np.uint8)
    a[edges[:, 0], edges[:, 1]] = 1
    a[edges[:, 1], edges[:, 0]] = 1
    return a


@pytest.mark.parametrize("seed,n", [(0, 70), (12345, 33), (2**32 - 1, 260)])
def test_packed_generator_matches_the_numpy_rule(seed, n):
    g = q.qscore_graph(seed, n)
    a = np.asarray(unpack_bits(g.bits, g.n_pad))
    assert not a[n:].any() and not a[:, n:].any()  # padding is edge-free
    np.testing.assert_array_equal(a[:n, :n], _dense(q.edges_reference(seed, n), n))
    np.testing.assert_array_equal(np.asarray(g.deg)[:n], a[:n, :n].sum(1))


def test_edge_count_is_binomial_half():
    n = 1500
    g = q.qscore_graph(7, n)
    m = int(np.asarray(g.deg, np.int64).sum()) // 2
    pairs = n * (n - 1) / 2
    assert abs(m - pairs / 2) < 5 * np.sqrt(pairs / 4)
    # different seeds give different graphs (overlap ≈ ½ of the pairs)
    h = q.qscore_graph(8, n)
    same = int(np.asarray(jax.lax.population_count(~(g.bits ^ h.bits) & g.bits)).sum()) // 2
    assert abs(same - m / 2) < 5 * np.sqrt(m / 4)


def test_cut_recount_matches_networkx():
    n, seed = 90, 5
    edges = q.edges_reference(seed, n)
    G = nx.Graph()
    G.add_nodes_from(range(n))
    G.add_edges_from(edges.tolist())
    rng = np.random.default_rng(0)
    for _ in range(3):
        part = rng.random(n) < 0.5
        assert q.count_cut(seed, n, part) == nx.cut_size(G, np.flatnonzero(part).tolist())


def test_count_cut_rejects_wrong_length_and_bad_seed():
    with pytest.raises(ValueError, match="partition"):
        q.count_cut(0, 10, np.zeros(9))
    with pytest.raises(ValueError, match="seed"):
        q.qscore_graph(-1, 10)


def test_beta_formula():
    assert q.beta(1000, 1000**2 / 8) == 0.0
    assert q.beta(100, 1250 + 178) == pytest.approx(1.0)


def test_greedy_sweeps_end_in_a_local_optimum_and_track_the_cut():
    n = 200
    g = q.qscore_graph(3, n, block=64)
    a = np.asarray(unpack_bits(g.bits, g.n_pad))[:n, :n].astype(np.int64)
    X = random_states(g, 1, 3)
    cut = cut_values(g, X)
    keys = nsr.replica_keys(1, np.arange(3))
    for k in range(40):
        X, gain, flips = sweep(g, X, nsr.step_words(keys, k), jnp.float32(0), block=64)
        cut = cut + np.asarray(gain)
        np.testing.assert_array_equal(cut, cut_values(g, X))
        if int(np.asarray(flips).sum()) == 0:
            break
    assert int(np.asarray(flips).sum()) == 0
    s = 2 * np.asarray(unpack_bits(X, n)).astype(np.int64) - 1
    gains = s * (s @ a)  # cut change of flipping each spin
    assert gains.max() <= 0


def test_metropolis_sweeps_sample_the_boltzmann_distribution():
    # fixed-order sequential Metropolis leaves exp(cut/T) invariant: compare the cut histogram of
    # many replicas with exact enumeration on a 6-vertex graph
    adj = _dense(np.array([[0, 1], [1, 2], [2, 3], [3, 0], [0, 2], [3, 4], [4, 5], [5, 1], [2, 5]]), 6)
    g = from_adjacency(adj, block=32)
    T, R = 1.3, 4096
    states = np.array(list(itertools.product([0, 1], repeat=6)))
    cuts = np.array([(adj * (s[:, None] != s[None, :])).sum() // 2 for s in states])
    p = np.exp(cuts / T)
    p /= p.sum()
    X = random_states(g, 11, R)
    keys = nsr.replica_keys(11, np.arange(R))
    for k in range(25):
        X, _, _ = sweep(g, X, nsr.step_words(keys, k), jnp.float32(T), block=32)
    got = np.bincount(cut_values(g, X), minlength=cuts.max() + 1) / R
    want = np.bincount(cuts, weights=p, minlength=cuts.max() + 1)
    sd = np.sqrt(want * (1 - want) / R)
    assert np.all(np.abs(got - want) < 5 * sd + 1e-3), (got, want)


def test_anneal_reaches_high_beta_and_is_reproducible():
    n = 600
    g = q.qscore_graph(1, n)
    a = q.anneal(g, seed=2, sweeps=30, time_limit=None)
    b = q.anneal(g, seed=2, sweeps=30, time_limit=None)
    assert a["cut"] == b["cut"] and np.array_equal(a["partition"], b["partition"])
    assert q.beta(n, a["cut"]) > 0.8  # dwave-samplers SA reaches β ≈ 1 (SPEC §8)
    assert q.count_cut(1, n, a["partition"]) == a["cut"]
    with pytest.raises(ValueError, match="replicas"):
        q.anneal(g, replicas=0)


def test_cli_json_and_save(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    q.add_arguments(parser)
    args = parser.parse_args(["--sizes", "64,200", "--instances", "3", "--sweeps", "10", "--save", str(tmp_path), "--json"])
    out = q.main(args)
    printed = json.loads(capsys.readouterr().out)
    assert printed["qscore"] == out["qscore"] == 200
    assert [r["n"] for r in printed["results"]] == [64, 200]
    for r in printed["results"]:
        assert len(r["instances"]) == 3
        assert r["beta"] == pytest.approx(np.mean([i["beta"] for i in r["instances"]]))
        assert set(r["instances"][0]) >= {"seed", "cut", "beta", "time_s"}
    assert printed["peak_memory_bytes"] > 0
    inst = printed["results"][1]["instances"][2]
    meta = json.load(open(os.path.join(tmp_path, f"gnp_n200_seed{inst['seed']}.json")))
    part = q.load_partition(os.path.join(tmp_path, meta["partition_file"]), 200)
    assert q.count_cut(meta["seed"], 200, part) == inst["cut"] == meta["cut"]
    with pytest.raises(ValueError, match="sizes"):
        q.main(parser.parse_args(["--sizes", "10,x"]))
