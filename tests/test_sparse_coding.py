"""Binary sparse coding: the QUBO against its definition, the stored exact optima, the exact solver,
iterated warm starting, the data generator and the CLI on stored QUBOs."""

import itertools
import json

import numpy as np
import pytest

import neurosim as ns
from neurosim._build import load_problem
from neurosim.hardware import LOIHI2
from neurosim.models import NEBM
from neurosim.sparse_coding import (
    load_dictionary, load_image, load_instances, one_flip_descent, qubo_energy, solve_qubo_exact,
    sparse_coding_energy, sparse_coding_matrix, sparse_coding_qubo, tiles, warm_start,
)
from neurosim.sparse_coding._warm import run_seed
from neurosim.sparse_coding.generate import generate_case, stored_qubo


def _all_states(n):
    return np.array(list(itertools.product((0, 1), repeat=n)), dtype=np.int8)


def _small_case(n=10, m=6, seed=0, lam=0.25):
    rng = np.random.default_rng(seed)
    return rng.random(m), rng.normal(size=(m, n)) * 0.5, lam


def test_qubo_equals_reconstruction_error_plus_l0_on_every_state():
    x, D, lam = _small_case()
    X = _all_states(D.shape[1])
    direct = np.array([np.sum((x - D @ a) ** 2) + lam * a.sum() for a in X.astype(np.float64)])  # by definition
    np.testing.assert_allclose(sparse_coding_energy(X, x, D, lam), direct, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sparse_coding_qubo(x, D, lam).energy(X), direct, rtol=1e-12, atol=1e-12)
    Q, off = sparse_coding_matrix(x, D, lam)
    np.testing.assert_allclose(qubo_energy(Q, X, off), direct, rtol=1e-12, atol=1e-12)
    assert np.allclose(Q, Q.T)


@pytest.fixture(scope="module")
def instances():
    return {64: load_instances(64), 128: load_instances(128)}


def test_stored_instances_are_consistent(instances):
    assert len(instances[64]) == 16 and len(instances[128]) == 4
    img = load_image(28)
    for n, insts in instances.items():
        for inst in insts:
            Q, x = inst.Q, inst.exact_state.astype(np.float64)
            assert Q.shape == (n, n) and np.array_equal(Q, Q.T)
            assert set(np.unique(inst.exact_state)) <= {0, 1}
            assert inst.energy(x) == pytest.approx(inst.exact_energy, abs=1e-9)
            # the QUBO is the tile's sparse-coding energy (stored in float32)
            np.testing.assert_array_equal(inst.patch, tiles(img, inst.patch_size)[inst.tile])
            Q32, off = stored_qubo(inst.patch, inst.D, inst.lam)
            np.testing.assert_allclose(Q, Q32.astype(np.float64), rtol=1e-6, atol=1e-6)
            assert inst.offset == pytest.approx(off, rel=1e-12)
            assert inst.exact_energy == pytest.approx(sparse_coding_energy(x, inst.patch, inst.D, inst.lam), rel=1e-5)
            # no single flip and no pair of flips improves the optimum
            q = np.diag(Q)
            z = Q @ x - q * x
            d1 = (1 - 2 * x) * (q + 2 * z)
            assert d1.min() >= -1e-9, (inst.name, d1.min())
            s = 1 - 2 * x
            d2 = d1[:, None] + d1[None, :] + 2 * Q * np.outer(s, s)
            np.fill_diagonal(d2, 0.0)
            assert d2.min() >= -1e-9, (inst.name, d2.min())
            # what the CLI reader makes of the file has the same energy
            p = load_problem(inst.path, "qubo")
            assert float(p.energy(inst.exact_state)) == pytest.approx(inst.exact_energy, abs=1e-9)
            with np.load(inst.path) as f:
                assert bool(f["proven"]) and f["lower_bound"] <= inst.exact_energy <= f["lower_bound"] + 1e-8


def test_stored_optimum_reproved_and_no_better_annealed_state(instances):
    """Cross-check of one stored 64-variable optimum: the solver re-proves it from scratch (no
    incumbent), and simulated annealing with many replicas finds nothing lower."""
    inst = instances[64][3]
    r = solve_qubo_exact(inst.Q, inst.offset, u=np.sum(inst.D**2, axis=0))  # no incumbent given
    assert r.proven and r.energy == pytest.approx(inst.exact_energy, abs=1e-9)
    p = inst.problem
    res = ns.run(ns.models.SA(p, steps=400), p, steps=400, replicas=64, seed=0)
    assert res.best_energy.min() >= inst.exact_energy - 1e-9


@pytest.mark.parametrize("kind", ["sparse-coding", "generic"])
def test_exact_solver_against_enumeration(kind):
    rng = np.random.default_rng(3)
    for trial in range(3):
        if kind == "sparse-coding":
            x, D, lam = _small_case(n=15, m=8, seed=trial, lam=0.2)
            Q, off = sparse_coding_matrix(x, D, lam)
            u = np.sum(D * D, axis=0)
        else:  # indefinite QUBO: the solver picks its own diagonal shift
            A = rng.normal(size=(14, 14))
            Q, off, u = (A + A.T) / 2, float(rng.normal()), None
        X = _all_states(len(Q))
        E = qubo_energy(Q, X, off)
        r = solve_qubo_exact(Q, off, u=u)
        assert r.proven and r.energy == pytest.approx(E.min(), abs=1e-9)
        assert qubo_energy(Q, r.state, off) == pytest.approx(r.energy, abs=1e-12)


def test_exact_solver_limits_and_errors():
    x, D, lam = _small_case(n=12, seed=5)
    Q, off = sparse_coding_matrix(x, D, lam)
    r = solve_qubo_exact(Q, off, time_limit=0.0)
    assert not r.proven and r.lower_bound <= r.energy
    with pytest.raises(ValueError, match="Q"):
        solve_qubo_exact(np.ones((3, 4)))
    with pytest.raises(ValueError, match="symmetric"):
        solve_qubo_exact(np.triu(np.ones((3, 3))))
    with pytest.raises(ValueError, match="incumbent"):
        solve_qubo_exact(Q, incumbent=np.full(12, 2))
    d = one_flip_descent(Q, np.ones(12, np.int8)).astype(np.float64)
    q = np.diag(Q)
    assert ((1 - 2 * d) * (q + 2 * (Q @ d - q * d))).min() >= -1e-12


def _warm_problem():
    x, D, lam = _small_case(n=20, m=12, seed=7, lam=0.15)
    return sparse_coding_qubo(x, D, lam)


@pytest.mark.parametrize("hardware", [None, LOIHI2])
def test_warm_start_chains_runs_and_never_gets_worse(hardware):
    p = _warm_problem()
    m = NEBM(p, steps=200, hardware=hardware, T_end=0.5)  # a warm end: runs differ, some get worse
    w = warm_start(m, p, runs=8, steps=200, every=20, replicas=3, seed=4)
    assert w.run_best.shape == (8, 3) and w.cumulative_best.shape == (8, 3)
    assert np.any(np.diff(w.run_best, axis=0) > 0)  # some run's own best is worse than the previous run's
    # the reported best never increases, and it is the minimum over the runs so far
    assert np.all(np.diff(w.cumulative_best, axis=0) <= 0)
    np.testing.assert_array_equal(w.cumulative_best, np.minimum.accumulate(w.run_best, axis=0))
    assert w.best_energy == pytest.approx(p.energy(w.best_state), abs=1e-12) == pytest.approx(w.cumulative_best[-1].min())
    # run r+1 starts from the best state of run r
    for r in range(7):
        np.testing.assert_allclose(p.energy(w.run_init[r + 1]), w.run_best[r], atol=1e-12)
    # a run is exactly what the engine returns for the same seed and start (300-sample capture)
    for r in (0, 1):
        e = ns.run(m, p, steps=200, replicas=3, seed=run_seed(4, r), best_every=20, init=w.run_init[r])
        np.testing.assert_array_equal(e.best_energy, w.run_best[r])
    first = ns.run(m, p, steps=200, replicas=3, seed=run_seed(4, 0), best_every=20)  # random start
    np.testing.assert_array_equal(first.best_energy, w.run_best[0])


def test_warm_start_from_overall_best_and_errors():
    p = _warm_problem()
    m = NEBM(p, steps=100, T_end=0.5)
    w = warm_start(m, p, runs=5, steps=100, every=20, replicas=2, seed=1, restart_from="best")
    for r in range(4):
        np.testing.assert_allclose(p.energy(w.run_init[r + 1]), w.cumulative_best[r], atol=1e-12)
    for kw, name in ((dict(runs=0), "runs"), (dict(every=0), "every"), (dict(steps=-1), "steps"),
                     (dict(replicas=0), "replicas"), (dict(restart_from="worst"), "restart_from")):
        with pytest.raises(ValueError, match=name):
            warm_start(m, p, **kw)


def test_stored_dictionary_learning_converged():
    for atoms in (64, 128):
        h = load_dictionary(atoms)
        err, spars = h["error"], h["sparsity"]
        assert spars[-1] <= 0.1  # target sparsity reached
        assert abs(err[-1] - err[-2]) <= 0.01 * err[-2]  # reconstruction error settled
        assert err[-1] < err[0]
        assert np.all(np.linalg.norm(h["D"], axis=0) > 0)


def test_generate_small_case(tmp_path):
    paths = generate_case(7, 8, str(tmp_path), learn_kwargs=dict(epochs=2, steps_per_epoch=5, sweeps=5), log=lambda *a: None)
    assert len(paths) == 17
    insts = load_instances(8, directory=str(tmp_path))
    X = _all_states(8)
    for inst in insts:
        assert inst.energy(inst.exact_state) == pytest.approx(inst.energy(X).min(), abs=1e-9)


def test_cli_solves_stored_qubo_with_nebm_on_loihi(instances, capsys):
    from neurosim._cli import main

    inst = instances[64][3]
    rc = main(["solve", inst.path, "--problem", "qubo", "--model", "nebm", "--hardware", "loihi2", "--steps", "6000",
               "--replicas", "4", "--best-every", "20", "--json", "--no-progress"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["best_energy"] >= inst.exact_energy - 1e-9
    assert out["best_energy"] <= inst.exact_energy * 1.05  # one 6000-step run, as in the paper
