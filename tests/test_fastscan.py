"""The compiled Gibbs shared-site scan (neurosim/_fastscan.py) against the step-by-step jax path.

Same seed, same model: energy records, best energies and states and final states equal bit for bit,
for the heat-bath and Metropolis rules, with and without biases, at replica counts that exercise the
kernel's vector tiles, their remainders and its thread slabs. The jax path is selected with
NEUROSIM_FASTSCAN=0 (read at trace time, so the engine's cache of compiled segments is cleared)."""

from pathlib import Path

import jax
import jax.numpy as jnp
import networkx as nx
import numpy as np
import pytest

import neurosim as ns
import neurosim._segment as segment
from neurosim import _fastscan
from neurosim.hardware import LOIHI2
from neurosim.models import Gibbs

GSET = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "gset"

pytestmark = pytest.mark.skipif(not _fastscan.available(), reason=f"compiled scan unavailable: {_fastscan.error()}")


def _run(monkeypatch, fast: bool, model, problem, steps, replicas, **kw):
    monkeypatch.setenv("NEUROSIM_FASTSCAN", "1" if fast else "0")
    segment._COMPILED.clear()
    try:
        return ns.run(model, problem, steps=steps, replicas=replicas, seed=kw.pop("seed", 5), **kw)
    finally:
        segment._COMPILED.clear()


def _used(monkeypatch):
    calls = []
    for name in ("scan_blocks", "scan_steps"):
        real = getattr(_fastscan, name)
        monkeypatch.setattr(_fastscan, name, lambda *a, _r=real, **k: calls.append(1) or _r(*a, **k))
    return calls


def _same(a, b):
    assert np.array_equal(a.best_energy, b.best_energy)
    assert np.array_equal(np.asarray(a.best_sample), np.asarray(b.best_sample))
    assert np.array_equal(np.asarray(a.final_state), np.asarray(b.final_state))
    for k in a.records:
        assert np.array_equal(np.asarray(a.records[k]), np.asarray(b.records[k])), k


def _mis(n=60, seed=2):
    return ns.MIS.from_graph(nx.gnm_random_graph(n, 3 * n, seed=seed))  # QUBO: biases as well as couplings


@pytest.mark.parametrize("rule", ["gibbs", "metropolis"])
@pytest.mark.parametrize("replicas", [3, 70, 200])
def test_trajectory_is_the_jax_paths(monkeypatch, rule, replicas):
    p = ns.MaxCut.from_graph(nx.random_regular_graph(5, 90, seed=1))
    m = Gibbs(p, rule=rule)
    assert m.scan_lattice is not None
    calls = _used(monkeypatch)
    save = ns.SaveAt(every=500, what=("energy",))
    fast = _run(monkeypatch, True, m, p, 6000 + 37, replicas, save=save)  # + a tail that is no whole record
    assert calls, "the compiled scan was not used"
    ref = _run(monkeypatch, False, m, p, 6000 + 37, replicas, save=save)
    _same(fast, ref)


@pytest.mark.parametrize("rule", ["gibbs", "metropolis"])
def test_with_biases_and_a_constant_temperature(monkeypatch, rule):
    p = _mis()
    m = Gibbs(p, rule=rule, temperature=0.7)
    assert m.scan_lattice is not None and float(np.abs(np.asarray(m.h)).max()) > 0
    calls = _used(monkeypatch)
    fast = _run(monkeypatch, True, m, p, 4000, 96)
    assert calls
    _same(fast, _run(monkeypatch, False, m, p, 4000, 96))


def test_gset_g1_trajectory(monkeypatch):
    if not (GSET / "G1.txt").exists():
        pytest.skip("Gset data not found")
    p = ns.MaxCut.from_gset(GSET / "G1.txt")
    m = Gibbs(p)
    save = ns.SaveAt(every=2000, what=("energy", "best_energy"))
    _same(_run(monkeypatch, True, m, p, 20_000, 130, save=save), _run(monkeypatch, False, m, p, 20_000, 130, save=save))


def test_tabulated_acceptance_is_the_per_replica_expression():
    """The kernel's table and the jax path's per-replica evaluation give the same float32 bits."""
    p = ns.MaxCut.from_graph(nx.random_regular_graph(7, 40, seed=3))
    for rule in ("gibbs", "metropolis"):
        m = Gibbs(p, rule=rule)
        scale, fmax = m.scan_lattice
        t = jnp.arange(0, 3000, 7, dtype=jnp.int32)
        tab = jax.jit(lambda tt: _fastscan._table(m, tt))(t)
        k = jnp.arange(-fmax, fmax + 1, dtype=jnp.int32)
        v = k.astype(jnp.float32) / scale
        per = jax.jit(lambda tt: jax.vmap(lambda T: m._acceptance(v, T))(jnp.broadcast_to(m.schedule(tt), tt.shape)))(t)
        assert tab.dtype == jnp.float32 and np.array_equal(np.asarray(tab), np.asarray(per))


def test_lattice_detection():
    w = np.array([[0.5, -0.5, 0.0], [0.25, 0.0, 0.0]])
    deg = np.array([2, 1])
    assert _fastscan.lattice(w, deg, np.array([0.0, 0.75])) == (4, 4)  # |0.5|+|-0.5| → 1·4; 0.25+0.75 → 4
    assert _fastscan.lattice(np.array([[0.1]]), np.array([1]), np.array([0.0])) is None  # not dyadic
    assert _fastscan.lattice(np.array([[3e6]]), np.array([1]), np.array([0.0])) is None  # table too large


def test_few_replicas_take_the_jax_path(monkeypatch):
    """Below scan_min_replicas the per-step table costs more than the step: the jax path runs."""
    p = ns.MaxCut.from_graph(nx.random_regular_graph(5, 90, seed=1))
    m = Gibbs(p)
    assert m.scan_min_replicas > 1
    calls = _used(monkeypatch)
    _run(monkeypatch, True, m, p, 500, m.scan_min_replicas - 1)
    assert not calls


def test_not_used_under_a_chip_profile_or_off_the_lattice(monkeypatch):
    p = ns.MaxCut.from_graph(nx.random_regular_graph(3, 30, seed=0))
    assert Gibbs(p, hardware=LOIHI2).scan_lattice is None
    J = ns.SymmetricMatrix.from_dense(np.where(nx.to_numpy_array(nx.random_regular_graph(3, 30, seed=0)) > 0, 0.1, 0.0))
    q = ns.Ising(J, np.zeros(30))
    m = Gibbs(q)
    assert m.scan_lattice is None
    calls = _used(monkeypatch)
    ns.run(m, q, steps=300, replicas=4, seed=0)
    assert not calls
