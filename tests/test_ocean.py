"""neurosim.ocean: dimod's own sampler conformance tests, exact BQM conversion, optimum on small QUBOs."""

import subprocess
import sys
import unittest
import warnings

import numpy as np
import pytest

dimod = pytest.importorskip("dimod")
import dimod.testing  # noqa: E402

import neurosim as ns  # noqa: E402
from neurosim.ocean import NeurosimSampler, from_bqm, to_bqm  # noqa: E402


def fast_sampler():
    """Few steps and reads: dimod's conformance BQMs have at most 3 variables."""
    return NeurosimSampler(steps=32, num_reads=2, seed=0)


@dimod.testing.load_sampler_bqm_tests(fast_sampler)
class TestDimodConformance(unittest.TestCase):
    def test_api(self):
        dimod.testing.assert_sampler_api(fast_sampler())


def _random_bqm(n, vartype, seed, labels):
    rng = np.random.default_rng(seed)
    bqm = dimod.BQM(vartype)
    for v in labels:
        bqm.add_variable(v, float(rng.integers(-5, 6)) / 4)
    for a in range(n):
        for b in range(a + 1, n):
            if rng.random() < 0.5:
                bqm.add_interaction(labels[a], labels[b], float(rng.integers(-8, 9)) / 8)
    bqm.offset = 0.1 + seed  # not a binary fraction: offsets must pass exactly
    return bqm


LABELS = ["x", ("a", 1), 7, frozenset({2}), "y", (0,), -3, "z"]


@pytest.mark.parametrize("vartype", ["SPIN", "BINARY"])
def test_from_bqm_energies_and_round_trip_exact(vartype):
    bqm = _random_bqm(len(LABELS), vartype, 3, LABELS)
    problem, labels = from_bqm(bqm)
    assert labels == LABELS
    assert isinstance(problem, ns.Ising if vartype == "SPIN" else ns.QUBO)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, size=(50, len(LABELS)))
    states = 2 * x - 1 if vartype == "SPIN" else x
    np.testing.assert_allclose(problem.energy(states), bqm.energies((states, labels)), rtol=0, atol=1e-12)
    back = to_bqm(problem, labels)
    assert back.vartype is bqm.vartype
    assert back.offset == bqm.offset  # exact
    assert dict(back.linear) == dict(bqm.linear)
    nonzero = {frozenset(k): w for k, w in bqm.quadratic.items() if w != 0}  # zero couplings are dropped
    assert {frozenset(k): w for k, w in back.quadratic.items()} == nonzero
    dimod.testing.assert_consistent_bqm(back)


@pytest.mark.parametrize("vartype", ["SPIN", "BINARY"])
def test_to_bqm_either_vartype_same_energies(vartype):
    g = ns.MaxCut.from_graph(np.array([[0, 1, 2], [1, 0, 0], [2, 0, 0]], float))
    bqm = to_bqm(g, ["p", "q", "r"], vartype=vartype)
    s = np.array([[1, -1, -1], [1, 1, -1], [-1, -1, -1]])
    z = s if vartype == "SPIN" else (s + 1) // 2
    np.testing.assert_allclose(bqm.energies((z, ["p", "q", "r"])), g.energy(s), atol=1e-12)
    np.testing.assert_allclose(-bqm.energies((z, ["p", "q", "r"])), g.cut(s), atol=1e-12)


def test_to_bqm_rejects_bad_labels():
    q = ns.QUBO.from_matrix(np.eye(2))
    with pytest.raises(ValueError, match="labels has 1"):
        to_bqm(q, ["a"])
    with pytest.raises(ValueError, match="distinct"):
        to_bqm(q, ["a", "a"])


@pytest.mark.parametrize("model", ["sa", "gibbs", "nebm", "neurosa"])
def test_sample_qubo_finds_brute_force_optimum_at_defaults(model):
    rng = np.random.default_rng(11)
    n = 12
    labels = [f"v{i}" for i in range(n)]
    Q = {}
    for i in range(n):
        Q[(labels[i], labels[i])] = float(rng.integers(-6, 3))
        for j in range(i + 1, n):
            if rng.random() < 0.4:
                Q[(labels[i], labels[j])] = float(rng.integers(-4, 5))
    e0, _, _ = ns.brute_force(from_bqm(dimod.BQM.from_qubo(Q))[0])
    sampleset = NeurosimSampler(model=model).sample_qubo(Q, num_reads=8, seed=5)
    assert sampleset.vartype is dimod.BINARY
    assert set(sampleset.variables) == set(labels)
    dimod.testing.assert_sampleset_energies(sampleset, dimod.BQM.from_qubo(Q))
    assert sampleset.first.energy == pytest.approx(e0, abs=1e-9)


def test_sampleset_energies_equal_neurosim_and_info():
    bqm = _random_bqm(8, "SPIN", 4, LABELS)
    sampleset = NeurosimSampler(model="gibbs").sample(bqm, num_reads=3, steps=200, seed=1)
    problem, labels = from_bqm(bqm)
    column = {v: k for k, v in enumerate(sampleset.variables)}
    states = sampleset.record.sample[:, [column[v] for v in labels]]
    assert set(np.unique(states)) <= {-1, 1}
    np.testing.assert_allclose(sampleset.record.energy, problem.energy(states), atol=1e-9)
    info = sampleset.info
    assert set(info["timing"]) == {"compile", "run"} and info["timing"]["compile"] > 0
    assert info["device"].startswith("cpu") or ":" in info["device"]
    assert info["model"] == "Gibbs" and info["steps"] == 200 and info["seed"] == 1
    assert "mapping" in info and info["hardware"] is None


def test_hardware_by_name_and_model_class():
    from neurosim.models import SA

    Q = {(0, 0): -1.0, (0, 1): 2.0, (1, 1): -1.0, (1, 2): -1.0}
    sampleset = NeurosimSampler(model=SA, hardware="loihi2").sample_qubo(Q, num_reads=4, steps=100, seed=0)
    assert sampleset.info["hardware"] is not None and "loihi" in str(sampleset.info["hardware"]).lower()
    assert sampleset.first.energy == pytest.approx(-2.0)


def test_seed_reproducible_and_num_reads():
    bqm = _random_bqm(6, "BINARY", 2, list("abcdef"))
    a = NeurosimSampler(model="nebm").sample(bqm, num_reads=5, steps=50, seed=9)
    b = NeurosimSampler(model="nebm").sample(bqm, num_reads=5, steps=50, seed=9)
    assert len(a) == 5
    np.testing.assert_array_equal(a.record.sample, b.record.sample)


def test_bad_arguments():
    s = NeurosimSampler(steps=10)
    with pytest.raises(ValueError, match="unknown model"):
        s.sample_ising({0: 1.0}, {}, model="nope")
    with pytest.raises(ValueError, match="num_reads"):
        s.sample_ising({0: 1.0}, {}, num_reads=0)
    with pytest.raises(ValueError, match="has no parameter"):
        s.sample_ising({0: 1.0}, {}, model="sa", mode="sequential")
    with pytest.raises(ValueError, match="no parameter"):
        NeurosimSampler(bogus=1)
    with pytest.warns(dimod.exceptions.SamplerUnknownArgWarning):
        s.sample_ising({0: 1.0}, {}, not_a_parameter=3)


def test_import_neurosim_does_not_import_dimod():
    code = "import sys, neurosim; assert 'dimod' not in sys.modules, 'dimod imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
