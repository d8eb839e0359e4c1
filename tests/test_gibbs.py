"""The Gibbs baseline against exact enumeration; plain / jit / vmap agreement."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns
from neurosim import random as nsr
from neurosim._problems import all_states
from neurosim.models import Gibbs

from conftest import random_ising


def _boltzmann(problem, T):
    x = all_states(problem.n)
    e = problem.energy(2 * x - 1)
    p = np.exp(-(e - e.min()) / T)
    return p / p.sum()


@pytest.mark.parametrize("rule, sites", [("gibbs", "shared"), ("metropolis", "shared"), ("gibbs", "independent")])
def test_sequential_samples_boltzmann_distribution(rule, sites):
    """10 spins, fixed T: the empirical distribution over 2^10 states has TV distance < 0.02."""
    n, T = 10, 1.5
    p = random_ising(n, seed=11)
    p = ns.Ising(p.J.scaled(0.5), 0.5 * p.h, p.offset)
    exact = _boltzmann(p, T)
    m = Gibbs(p, mode="sequential", rule=rule, temperature=T, sites=sites)
    R, steps, every = 2048, 12000, 20  # ~1M samples, two sweeps apart, after burn-in
    r = ns.run(m, p, steps=steps, replicas=R, seed=3, save=ns.SaveAt(every=every, what=("state",)))
    states = r.records["state"][100:]  # drop burn-in
    idx = ((states > 0).astype(np.int64) * (1 << np.arange(n - 1, -1, -1))).sum(-1).ravel()
    emp = np.bincount(idx, minlength=1 << n) / idx.size
    tv = 0.5 * np.abs(emp - exact).sum()
    assert tv < 0.02, tv


def test_shared_sites_same_site_in_every_replica_and_replica_independent_of_batch():
    p = random_ising(12, seed=4)
    m = Gibbs(p, mode="sequential", temperature=0.7)
    full = ns.run(m, p, steps=300, replicas=6, seed=2, save=ns.SaveAt(every=1, what=(), sum=("spikes",)))
    part = ns.run(m, p, steps=300, replica_ids=[4, 1], seed=2)
    np.testing.assert_array_equal(part.final_state, full.final_state[[4, 1]])
    spikes = full.records["spikes"]  # (steps, R, n): at most one spike per step, always at the shared site
    assert spikes.sum(axis=-1).max() == 1
    fired = np.nonzero(spikes.sum(axis=1))  # (step, site) where some replica flipped
    for t, i in zip(*fired):
        assert spikes[t, :, :].sum(axis=0)[i] >= 1 and spikes[t, :, :].sum(axis=0).nonzero()[0].tolist() == [i]


def test_sequential_finds_ground_state_when_annealed():
    p = random_ising(12, seed=2)
    e0, _, _ = ns.brute_force(p)
    m = Gibbs(p, mode="sequential", schedule=ns.schedules.Geometric.anneal(3.0, 0.02, 3000))
    r = ns.run(m, p, steps=3000, replicas=8, seed=0)
    assert r.overall_best_energy == pytest.approx(e0)


def test_synchronous_heat_bath_matches_formula():
    """One synchronous step from a fixed state: each spin is +1 with probability σ(2 f_i / T)."""
    p = random_ising(6, seed=7)
    T = 1.3
    m = Gibbs(p, mode="synchronous", temperature=T)
    R = 20000
    s0 = np.tile(np.array([1, -1, 1, 1, -1, -1], dtype=np.int8), (R, 1))
    st = m.init(jnp.asarray(s0), key=jnp.zeros(R, jnp.uint32))
    keys = nsr.replica_keys(0, np.arange(R))
    st2, _ = m.step(st, jnp.int32(0), key=nsr.step_words(keys, 0))
    f = p.J.matvec(s0[0].astype(float)) + p.h
    expected = 1 / (1 + np.exp(-2 * f / T))
    freq = (np.asarray(st2.s) > 0).mean(0)
    assert np.all(np.abs(freq - expected) < 5 * np.sqrt(expected * (1 - expected) / R) + 1e-3)


@pytest.mark.parametrize("mode, sites", [("sequential", "shared"), ("sequential", "independent"), ("synchronous", "shared")])
def test_plain_jit_vmap_agree(mode, sites):
    p = random_ising(9, seed=1)
    m = Gibbs(p, mode=mode, temperature=0.8, sites=sites)
    R = 4
    keys = nsr.replica_keys(5, np.arange(R))
    st0 = m.init(None, key=nsr.step_words(keys, 0, salt=1))

    def advance(st, k):
        for t in range(5):
            st, out = m.step(st, jnp.int32(t), key=nsr.step_words(k, t))
        return st, out["energy"]

    plain = advance(st0, keys)
    jitted = jax.jit(advance)(st0, keys)
    # vmap over single-replica slices: inside the model the replica axis has length 1 (shared scalar
    # leaves such as the shared site are not mapped)
    ax = m.state_replica_axis
    axes = jax.tree_util.tree_map(lambda x: None if x.ndim == 0 else ax % x.ndim, st0)

    def one(st, k):
        st = jax.tree_util.tree_map(lambda x, a: x if a is None else jnp.expand_dims(x, a), st, axes)
        st, e = advance(st, k[None])
        return jax.tree_util.tree_map(lambda x, a: x if a is None else jnp.squeeze(x, a), st, axes), e[0]

    vm = jax.vmap(one, in_axes=(axes, 0), out_axes=(axes, 0))(st0, keys)
    for a, b, c in zip(jax.tree_util.tree_leaves(plain), jax.tree_util.tree_leaves(jitted), jax.tree_util.tree_leaves(vm)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)
        np.testing.assert_allclose(np.asarray(a), np.asarray(c), rtol=1e-6)
    # tracked energy equals the host energy of the state
    np.testing.assert_allclose(np.asarray(plain[1]), p.energy(np.asarray(m.read(plain[0]))), rtol=1e-5, atol=1e-5)


def test_bad_model_parameters():
    p = random_ising(4)
    with pytest.raises(ValueError, match="mode"):
        Gibbs(p, mode="parallel")
    with pytest.raises(ValueError, match="temperature"):
        Gibbs(p, temperature=0.0)
    with pytest.raises(ValueError, match="sites must be 'shared' or 'independent', got 'all'"):
        Gibbs(p, sites="all")
    from neurosim._build import build_model

    with pytest.raises(ValueError, match="unknown model"):
        build_model("nonexistent", p)
