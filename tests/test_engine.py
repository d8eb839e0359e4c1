"""The engine loop: determinism, chunking, checkpoints, recording, sharding, bad input."""

import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns
from neurosim.models import Gibbs

from conftest import random_ising


def _problem():
    return ns.MaxCut.from_graph(__import__("networkx").random_regular_graph(4, 60, seed=3))


def _model(p, mode="sequential"):
    return Gibbs(p, mode=mode, schedule=ns.schedules.Geometric.anneal(3.0, 0.1, 600))


@pytest.mark.parametrize("mode", ["sequential", "synchronous"])
def test_same_seed_same_result_and_different_seed_differs(mode):
    p = _problem()
    m = _model(p, mode)
    a = ns.run(m, p, steps=600, replicas=4, seed=7)
    b = ns.run(m, p, steps=600, replicas=4, seed=7)
    c = ns.run(m, p, steps=600, replicas=4, seed=8)
    np.testing.assert_array_equal(a.best_state, b.best_state)
    np.testing.assert_array_equal(a.final_state, b.final_state)
    assert not np.array_equal(a.final_state, c.final_state)


@pytest.mark.parametrize("mode", ["sequential", "synchronous"])
def test_chunked_equals_one_piece(mode):
    p = _problem()
    m = _model(p, mode)
    save = ns.SaveAt(every=10, what=("energy", "state", "best_energy"), sum=("spikes",))
    one = ns.run(m, p, steps=605, replicas=3, seed=1, save=save, best_every=5)
    for chunk in (10, 50, 130):
        part = ns.run(m, p, steps=605, replicas=3, seed=1, save=save, best_every=5, chunk=chunk)
        np.testing.assert_array_equal(one.final_state, part.final_state)
        np.testing.assert_array_equal(one.best_state, part.best_state)
        for k in one.records:
            np.testing.assert_array_equal(one.records[k], part.records[k])
    np.testing.assert_array_equal(one.record_steps, np.arange(9, 605, 10))


def test_replica_result_independent_of_batch():
    p = _problem()
    m = _model(p)
    big = ns.run(m, p, steps=300, replicas=8, seed=5)
    small = ns.run(m, p, steps=300, replica_ids=[2, 6], seed=5)
    np.testing.assert_array_equal(big.final_state[[2, 6]], small.final_state)
    np.testing.assert_array_equal(big.best_state[[2, 6]], small.best_state)


def test_checkpoint_resume_equals_uninterrupted(tmp_path):
    p = _problem()
    m = _model(p)
    save = ns.SaveAt(every=20, what=("energy",))
    full = ns.run(m, p, steps=400, replicas=4, seed=2, save=save)
    ck = tmp_path / "run.npz"
    first = ns.run(m, p, steps=400, replicas=4, seed=2, save=save, chunk=100, checkpoint=str(ck), stop_after_chunks=2)
    assert first.steps == 200 and ck.exists()
    resumed = ns.run(m, p, steps=400, replicas=4, seed=2, save=save, chunk=100, checkpoint=str(ck))
    assert resumed.resumed_from == 200
    np.testing.assert_array_equal(full.final_state, resumed.final_state)
    np.testing.assert_array_equal(full.best_state, resumed.best_state)
    np.testing.assert_array_equal(full.records["energy"], resumed.records["energy"])
    # A checkpoint of another run is refused, not mixed in.
    with pytest.raises(ValueError, match="different run"):
        ns.run(m, p, steps=400, replicas=4, seed=3, save=save, checkpoint=str(ck))


def test_best_energy_is_exact_energy_of_best_state():
    p = random_ising(12, seed=4)
    m = Gibbs(p, mode="sequential", temperature=0.5)
    r = ns.run(m, p, steps=500, replicas=5, seed=0, best_every=1, save=ns.SaveAt(every=1, what=("energy",)))
    np.testing.assert_allclose(r.best_energy, p.energy(r.best_state))
    # best_every=1: the captured best is the minimum of the recorded trajectory.
    np.testing.assert_allclose(r.best_energy, r.records["energy"].min(axis=0), rtol=1e-5, atol=1e-4)


def test_recorded_energy_matches_host_energy_of_recorded_state():
    p = random_ising(15, seed=1)
    for mode in ("sequential", "synchronous"):
        m = Gibbs(p, mode=mode, temperature=1.0)
        r = ns.run(m, p, steps=200, replicas=3, seed=0, save=ns.SaveAt(every=7, what=("energy", "state")))
        np.testing.assert_allclose(r.records["energy"], p.energy(r.records["state"]), rtol=1e-5, atol=1e-4)


def test_record_memory_refused_with_number():
    p = _problem()
    m = _model(p)
    with pytest.raises(MemoryError, match="bytes"):
        ns.run(m, p, steps=10_000, replicas=4, save=ns.SaveAt(every=1, what=("state",), max_bytes=1000))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(steps=0), "steps"),
        (dict(steps=-5), "steps"),
        (dict(steps=10, replicas=0), "replicas"),
        (dict(steps=10, replicas=-2), "replicas"),
        (dict(steps=10, save=ns.SaveAt(what=("nonsense",))), "nonsense"),
        (dict(steps=10, init=np.zeros(60)), "values"),
    ],
)
def test_bad_run_arguments(kwargs, match):
    p = _problem()
    with pytest.raises(ValueError, match=match):
        ns.run(_model(p), p, **kwargs)


def test_unknown_saveat_every():
    with pytest.raises(ValueError, match="every"):
        ns.SaveAt(every=0)


def test_problem_size_mismatch():
    p = _problem()
    with pytest.raises(ValueError, match="n=60"):
        ns.run(_model(p), random_ising(5), steps=10)


def test_user_record_function():
    p = _problem()
    m = _model(p)
    fn = lambda state, outs: (m.read(state) > 0).sum(axis=-1)  # noqa: E731 - magnetisation count per replica
    r = ns.run(m, p, steps=100, replicas=2, save=ns.SaveAt(every=10, what=("state",), fn=fn))
    np.testing.assert_array_equal(r.records["fn"], (r.records["state"] > 0).sum(axis=-1))


def test_compiled_chunks_are_reused_across_runs_with_new_values():
    """A second model of the same structure reuses the compiled loop (no compile time) and still
    sees its own array values (here a different schedule): results equal a fresh compilation's."""
    from neurosim import _run

    p = _problem()
    hot = Gibbs(p, mode="sequential", schedule=ns.schedules.Geometric.anneal(3.0, 0.1, 500))
    cold = Gibbs(p, mode="sequential", schedule=ns.schedules.Geometric.anneal(0.5, 0.01, 500))
    ns.run(hot, p, steps=500, replicas=3, seed=1)
    cached = len(_run._COMPILED)
    reused = ns.run(cold, p, steps=500, replicas=3, seed=1)
    assert len(_run._COMPILED) == cached  # nothing compiled (time_compile still counts the set-up)
    _run._COMPILED.clear()
    fresh = ns.run(cold, p, steps=500, replicas=3, seed=1)
    compiled = len(_run._COMPILED)
    assert compiled >= 1 and fresh.time_compile > 0.0
    np.testing.assert_array_equal(reused.final_state, fresh.final_state)
    np.testing.assert_array_equal(reused.best_energy, fresh.best_energy)
    # a different static option is a different program
    ns.run(Gibbs(p, mode="sequential", rule="metropolis", temperature=0.5), p, steps=500, replicas=3, seed=1)
    assert len(_run._COMPILED) > compiled


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(steps=True), "steps"),
        (dict(steps=10.0), "steps"),
        (dict(steps=10, best_every=0), "best_every"),
        (dict(steps=10, best_every=True), "best_every"),
        (dict(steps=10, seed=1.5), "seed"),
        (dict(steps=10, seed=-1), "seed"),
        (dict(steps=10, seed=2**64), "seed"),
        (dict(steps=10, seed=True), "seed"),
        (dict(steps=10, replicas=True), "replicas"),
        (dict(steps=10, replica_ids=[1, 1]), "repeat"),
        (dict(steps=10, replica_ids=[0.5, 1.7]), "integers"),
    ],
)
def test_coercions_are_refused(kwargs, match):
    p = _problem()
    with pytest.raises(ValueError, match=match):
        ns.run(_model(p), p, **kwargs)


def test_large_seeds_do_not_alias_small_ones():
    p = _problem()
    m = _model(p)
    runs = {s: ns.run(m, p, steps=50, replicas=2, seed=s).final_state for s in (0, 2**32, 2**33 + 5, 5)}
    assert not np.array_equal(runs[0], runs[2**32]) and not np.array_equal(runs[5], runs[2**33 + 5])
    np.testing.assert_array_equal(ns.run(m, p, steps=50, replicas=2, seed=2**32).final_state, runs[2**32])


@pytest.mark.parametrize("bad", [float("nan"), -1.0, 0.0, float("inf")])
def test_anneal_end_points_must_be_finite_and_positive(bad):
    for kind in (ns.schedules.Geometric, ns.schedules.Linear, ns.schedules.InverseTime, ns.schedules.Exponential):
        with pytest.raises(ValueError, match="T_start"):
            kind.anneal(bad, 0.1, 100)
        with pytest.raises(ValueError, match="T_end"):
            kind.anneal(3.0, bad, 100)


class _SlowInit(ns.AbstractModel):
    """A trivial model whose init takes 0.3 s of host time (as a model dispatching many small ops does)."""

    size: int

    @property
    def n(self):
        return self.size

    def init(self, states, *, key):
        import time

        time.sleep(0.3)
        return self.random_states(key)

    def step(self, state, t, *, key):
        return state, {"energy": jnp.zeros(state.shape[0], jnp.float32)}

    def read(self, state):
        return state


def test_time_compile_counts_initialisation():
    """Everything before the first step is compile/set-up time, including the model's init."""
    from neurosim import _run, _setup

    p = random_ising(6, seed=1)
    _run._COMPILED.clear(), _run._SHAPES.clear(), _setup._JITTED.clear()  # a cold start: init is traced (0.3 s)
    r = ns.run(_SlowInit(6), p, steps=10, replicas=2)
    assert r.time_compile >= 0.3 > r.time_run


def test_whole_run_memory_is_estimated_before_anything_is_allocated():
    """--replicas 1e7 on an 800-node graph: refused with the numbers and what to change, before
    the state is allocated (no XLA out-of-memory)."""
    p = ns.MaxCut.from_graph(nx_random(800))
    m = Gibbs(p, mode="synchronous", temperature=1.0)
    with pytest.raises(MemoryError, match=r"GiB.*fewer replicas \(about [\d,]+ fit\)"):
        ns.run(m, p, steps=100, replicas=10**7)


def nx_random(n):
    return __import__("networkx").gnm_random_graph(n, 4 * n, seed=1)
