"""The benchmark suite's building blocks (the full run is `neurosim bench suite`)."""

import numpy as np
import pytest

import neurosim as ns
from neurosim import qscore as q
from neurosim.bench import _suite as suite


def test_loglog_fit_recovers_exponents():
    x = np.array([100, 200, 400, 800])
    assert suite.loglog_fit(x, 3e-6 * x**1.5) == pytest.approx(1.5)
    assert suite.loglog_fit(x, np.full(4, 7.0)) == pytest.approx(0.0, abs=1e-12)


def test_parse_variant():
    assert suite.parse_variant("gibbs:mode=synchronous:temperature=0.5") == ("gibbs", {"mode": "synchronous", "temperature": 0.5})
    with pytest.raises(ValueError, match="nosuchmodel"):
        suite.parse_variant("nosuchmodel")


def test_dense_instance_is_the_qscore_graph():
    p = suite.dense_half(120, seed=4)
    e = q.edges_reference(4, 120)
    a = np.zeros((120, 120))
    a[e[:, 0], e[:, 1]] = a[e[:, 1], e[:, 0]] = 1
    np.testing.assert_array_equal(p.weights.to_dense(), a)


def test_measure_reports_rates_and_memory(monkeypatch):
    import collections

    import networkx as nx

    from neurosim import _segment

    # An empty compile cache for this test: a loop compiled by an earlier test would otherwise be
    # reused and the measured compile time could be 0 (the test failed only after other tests).
    monkeypatch.setattr(_segment, "_COMPILED", collections.OrderedDict())
    p = ns.MaxCut.from_graph(nx.random_regular_graph(4, 64, seed=0), name="rr")
    r = suite.measure("gibbs:mode=synchronous", p, 4, target_s=0.02)
    assert r["neuron_updates_per_s"] == pytest.approx(r["iterations_per_s"] * 64)
    assert r["steps"] >= 20 and r["run_s"] > 0 and r["compile_s"] > 0
    # synapses (ELL or dense) + state grow with the replicas
    assert suite.memory_bytes(ns.models.Gibbs(p), 64) > suite.memory_bytes(ns.models.Gibbs(p), 1)
