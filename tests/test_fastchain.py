"""The fused single-chain NeuroSA kernel (neurosim/_fastchain.py) against the step-by-step jax path.

Same seed, same model: the energy records, best energies and states and the final states must be
equal bit for bit. The jax path is selected with NEUROSIM_FASTCHAIN=0 (read at trace time, so the
engine's cache of compiled segments is cleared between the two runs)."""

import os
from pathlib import Path

import numpy as np
import pytest

import neurosim as ns
import neurosim._segment as segment
from neurosim import _fastchain
from neurosim.models import NeuroSA

GSET = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "gset"

pytestmark = pytest.mark.skipif(not _fastchain.available(), reason=f"fused chain unavailable: {_fastchain.error()}")


def _run(monkeypatch, fast: bool, model, problem, steps, **kw):
    monkeypatch.setenv("NEUROSIM_FASTCHAIN", "1" if fast else "0")
    segment._COMPILED.clear()
    try:
        return ns.run(model, problem, steps=steps, replicas=1, seed=kw.pop("seed", 3), **kw)
    finally:
        segment._COMPILED.clear()


def _same(a, b):
    assert np.array_equal(a.best_energy, b.best_energy)
    assert np.array_equal(a.best_state, b.best_state)
    assert np.array_equal(np.asarray(a.final_state), np.asarray(b.final_state))
    assert a.records.keys() == b.records.keys()
    for k in a.records:
        assert np.array_equal(np.asarray(a.records[k]), np.asarray(b.records[k])), k


def _used(monkeypatch):
    """Count the traces that took the fused kernel."""
    calls = []
    real = _fastchain.scan_blocks
    monkeypatch.setattr(_fastchain, "scan_blocks", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


@pytest.mark.parametrize("graph", ["G1", "G15"])
def test_gset_trajectory_is_the_jax_paths(monkeypatch, graph):
    if not (GSET / f"{graph}.txt").exists():
        pytest.skip("Gset data not found")
    p = ns.MaxCut.from_gset(GSET / f"{graph}.txt")
    steps = 12_000
    m = NeuroSA(p, horizon=steps)
    calls = _used(monkeypatch)
    save = ns.SaveAt(every=800, what=("energy",))
    fast = _run(monkeypatch, True, m, p, steps + 123, save=save)  # + a tail that is not a whole record
    assert calls, "the fused kernel was not used"
    ref = _run(monkeypatch, False, m, p, steps + 123, save=save)
    _same(fast, ref)
    assert fast.report["cut"][0] == ref.report["cut"][0] > 0


def test_float_weights_and_fields_take_the_serial_sum(monkeypatch):
    # non-integer couplings and fields: the kernel re-sums each tested field in the jax path's order
    rng = np.random.default_rng(1)
    n = 60
    a = np.triu(rng.normal(size=(n, n)) * (rng.random((n, n)) < 0.2), 1)
    prob = ns.Ising.from_dense(a + a.T, h=rng.normal(size=n) * 0.3)
    m = NeuroSA(prob, horizon=8000, T0=0.5)
    assert not m.table.exact
    fast = _run(monkeypatch, True, m, prob, 8000, save=ns.SaveAt(every=1000, what=("energy",)))
    ref = _run(monkeypatch, False, m, prob, 8000, save=ns.SaveAt(every=1000, what=("energy",)))
    _same(fast, ref)


def test_recording_more_than_the_energy_falls_back(monkeypatch):
    if not (GSET / "G15.txt").exists():
        pytest.skip("Gset data not found")
    p = ns.MaxCut.from_gset(GSET / "G15.txt")
    m = NeuroSA(p, horizon=5000)
    calls = _used(monkeypatch)
    save = ns.SaveAt(every=1000, what=("energy", "site"), sum=("spikes",))
    fast = _run(monkeypatch, True, m, p, 5000, save=save)
    assert not calls
    ref = _run(monkeypatch, False, m, p, 5000, save=save)
    _same(fast, ref)


@pytest.mark.slow  # numba compiles its loop (≈ 5–10 s)
def test_numba_reference_follows_the_same_chain(monkeypatch):
    from neurosim.bench import _numba_chain

    if not _numba_chain.available() or not (GSET / "G1.txt").exists():
        pytest.skip("numba or Gset data not installed")
    p = ns.MaxCut.from_gset(GSET / "G1.txt")
    steps = 20_000
    m = NeuroSA(p, horizon=steps)
    ref = _numba_chain.run_chain(m, steps, seed=0, every=1000)
    fast = _run(monkeypatch, True, m, p, steps, seed=0, save=ns.SaveAt(every=1000, what=("energy",)))
    assert np.array_equal(np.asarray(fast.records["energy"])[:, 0], ref["trajectory"])
    assert np.array_equal(np.asarray(fast.final_state)[0], ref["state"])
