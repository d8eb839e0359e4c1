"""NeuroSA (ON–OFF pairs + Fowler–Nordheim annealer): firing law, stationary laws, ground states,
determinism, exact energy tracking, options and bad input."""

import math

import equinox as eqx
import jax.numpy as jnp
import networkx as nx
import numpy as np
import pytest

import neurosim as ns
from neurosim import random as nsr
from neurosim.models import NeuroSA
from neurosim.schedules import Constant

from conftest import random_ising


def _ising_small(n=6, seed=1, scale=0.6):
    rng = np.random.default_rng(seed)
    J = np.triu(rng.normal(size=(n, n)) * scale, 1)
    J = J + J.T
    return ns.Ising.from_dense(J, 0.4 * rng.normal(size=n))


def _ten_node_graph():
    # connected, with exactly two ground states (s and −s)
    return ns.MaxCut.from_graph(nx.gnm_random_graph(10, 22, seed=1))


def _compressed(steps):
    # the published annealer, compressed in time so that `steps` iterations end at the published
    # final temperature (δ ∝ 1/steps)
    return dict(delta=2e-3 * 1e8 / steps)


# ----------------------------------------------------------------------------- firing law
def _one_step(model, states, R, seed=0, t=0):
    keys = nsr.replica_keys(seed, np.arange(R))
    st = model.init(jnp.asarray(states), key=nsr.step_words(keys, 0, salt=1))
    site = np.asarray(st.site)

    @eqx.filter_jit
    def step(m, st, k):
        new, out = m.step(st, jnp.int32(t), key=k)
        return new.s, out["event"], out["site"]

    s, event, sites = step(model, st, nsr.step_words(keys, t))
    return site, np.asarray(s).T, {"event": event, "site": sites}


@pytest.mark.parametrize("noise", ["exponential", "gaussian", "uniform"])
def test_random_scan_firing_probability_matches_formula(noise):
    """Monte Carlo: each pair fires with min(1, (e^{g/T} − ε)/B) (exponential noise), or the
    Gaussian/uniform law with the same mean ln B − 1 and unit variance."""
    p = _ising_small(6, seed=2, scale=0.8)
    T, B, eps = 0.7, 2.5, 1e-6
    m = NeuroSA(p, schedule=Constant(T), noise=noise, sites="independent")
    R = 60_000
    s0 = np.array([1, -1, 1, 1, -1, -1], np.int8)
    site, s1, out = _one_step(m, np.broadcast_to(s0, (R, 6)), R)
    gain = -p.flip_deltas(s0)  # −ΔH per site
    fired = s1[np.arange(R), site] != s0[site]
    mean = math.log(B) - 1.0
    for i in range(6):
        sel = site == i
        x = gain[i] / T
        if noise == "exponential":
            expected = min(1.0, max(0.0, (math.exp(x) - eps) / B))
        elif noise == "gaussian":
            expected = 0.5 * (1 + math.erf((x - mean) / math.sqrt(2)))
        else:
            expected = min(1.0, max(0.0, (x - mean) / math.sqrt(12) + 0.5))
        k = sel.sum()
        assert k > 5000
        sd = math.sqrt(max(expected * (1 - expected), 1e-12) / k)
        assert abs(fired[sel].mean() - expected) < 5 * sd + 1e-9, (i, fired[sel].mean(), expected)
    # the reported event matches the flip direction: ON spike when s goes −1 → +1
    ev = np.asarray(out["event"])
    np.testing.assert_array_equal(ev, np.where(fired, -s0[site], 0))


def test_shared_sites_all_replicas_test_the_same_pair_with_the_same_law():
    p = _ising_small(5, seed=3)
    T = 1.3
    m = NeuroSA(p, schedule=Constant(T), site_seed=11)
    R = 40_000
    s0 = np.array([1, 1, -1, 1, -1], np.int8)
    site, s1, out = _one_step(m, np.broadcast_to(s0, (R, 5)), R)
    assert site.ndim == 0
    np.testing.assert_array_equal(np.asarray(out["site"]), np.full(R, site))
    g = -p.flip_deltas(s0)[site]
    expected = min(1.0, (math.exp(g / T) - 1e-6) / 2.5)
    frac = np.mean(s1[:, site] != s0[site])
    assert abs(frac - expected) < 5 * math.sqrt(expected * (1 - expected) / R) + 1e-9
    # other pairs untouched
    others = np.delete(np.arange(5), site)
    np.testing.assert_array_equal(s1[:, others], np.broadcast_to(s0[others], (R, 4)))


# ----------------------------------------------------------------------------- stationary laws
def _enumerate(n):
    x = ns._problems.all_states(n)
    return (2 * x.astype(np.int64) - 1), (1 << np.arange(n - 1, -1, -1))


def _fire_probs(p, S, T, B=2.5, eps=1e-6):
    g = -p.flip_deltas(S)  # (2^n, n)
    return np.clip((np.exp(g / T) - eps) / B, 0.0, 1.0)


def _arbiter_matrix(p, T):
    """Exact transition matrix of the arbiter chain: each pair fires independently with p_i, one of
    the firing pairs is picked uniformly and flips."""
    n = p.n
    S, w = _enumerate(n)
    P = np.zeros((1 << n, 1 << n))
    pf = _fire_probs(p, S, T)
    for a in range(1 << n):
        pa = pf[a]
        for j in range(n):
            # distribution of the number of *other* firing pairs (Poisson-binomial, by DP)
            dist = np.zeros(n)
            dist[0] = 1.0
            for i in range(n):
                if i != j:
                    dist[1:] = dist[1:] * (1 - pa[i]) + dist[:-1] * pa[i]
                    dist[0] *= 1 - pa[i]
            P[a, a ^ w[j]] = pa[j] * np.sum(dist / np.arange(1, n + 1))
        P[a, a] = 1.0 - P[a].sum()
    return P


def _scan_matrix(p, T):
    n = p.n
    S, w = _enumerate(n)
    pf = _fire_probs(p, S, T)
    P = np.zeros((1 << n, 1 << n))
    for a in range(1 << n):
        for j in range(n):
            P[a, a ^ w[j]] = pf[a, j] / n
        P[a, a] = 1.0 - P[a].sum()
    return P


def _stationary(P):
    vals, vecs = np.linalg.eig(P.T)
    v = np.real(vecs[:, np.argmin(np.abs(vals - 1))])
    return v / v.sum()


def _empirical(model, p, steps, every, burn, R=2048, seed=0):
    r = ns.run(model, p, steps=steps, replicas=R, seed=seed, save=ns.SaveAt(every=every, what=("state",)))
    st = r.records["state"][r.record_steps >= burn]  # (K, R, n)
    _, w = _enumerate(p.n)
    idx = (((st.reshape(-1, p.n) + 1) // 2).astype(np.int64) @ w)
    return np.bincount(idx, minlength=1 << p.n) / idx.size


@pytest.mark.parametrize("mode,sites", [("arbiter", "independent"), ("random_scan", "independent"), ("random_scan", "shared")])
def test_stationary_distribution_matches_exact_transition_matrix(mode, sites):
    """Shared sites too: every replica is the same chain; the common site sequence only correlates
    the replicas (the empirical law pools them over time)."""
    p = _ising_small(6, seed=1)
    T = 1.0
    P = _arbiter_matrix(p, T) if mode == "arbiter" else _scan_matrix(p, T)
    pi = _stationary(P)
    np.testing.assert_allclose(P.sum(1), 1.0, atol=1e-12)
    m = NeuroSA(p, mode=mode, schedule=Constant(T), sites=sites)
    every = 4 if mode == "arbiter" else 12
    emp = _empirical(m, p, steps=every * 150, every=every, burn=every * 30)
    tv = 0.5 * np.abs(emp - pi).sum()
    E = p.energy(2 * ns._problems.all_states(6) - 1)
    boltz = np.exp(-(E - E.min()) / T)
    boltz /= boltz.sum()
    tv_boltz = 0.5 * np.abs(emp - boltz).sum()
    assert tv < 0.03, tv
    assert tv < 0.3 * tv_boltz, (tv, tv_boltz)  # the test can tell the chain's law from Boltzmann's


# ----------------------------------------------------------------------------- optimisation
@pytest.mark.parametrize("kw", [dict(), dict(sites="independent"), dict(mode="arbiter")])
def test_ten_node_graph_reaches_a_ground_state(kw):
    p = _ten_node_graph()
    e0, ground, _ = ns.brute_force(p)
    assert len(ground) == 2 and np.array_equal(ground[0], -ground[1])  # s and −s
    steps = 20_000
    r = ns.run(NeuroSA(p, **_compressed(steps), **kw), p, steps=steps, replicas=8, seed=0)
    np.testing.assert_allclose(r.best_energy, e0)
    assert all(any(np.array_equal(b, g) for g in ground) for b in r.best_state)


def test_seed_reproducible_and_seed_dependent():
    p = _ten_node_graph()
    save = ns.SaveAt(every=50, what=("energy", "event", "site", "state"))
    for kw in (dict(), dict(sites="independent"), dict(mode="arbiter")):
        m = NeuroSA(p, **_compressed(2000), **kw)
        a = ns.run(m, p, steps=2000, replicas=3, seed=5, save=save)
        # the default mode also in chunks (the prefetched pair must carry across chunk boundaries)
        b = ns.run(m, p, steps=2000, replicas=3, seed=5, save=save, chunk=300 if not kw else None)
        c = ns.run(m, p, steps=2000, replicas=3, seed=6, save=save)
        for k in a.records:
            np.testing.assert_array_equal(a.records[k], b.records[k])
        np.testing.assert_array_equal(a.best_state, b.best_state)
        assert not np.array_equal(a.records["state"], c.records["state"])


def test_replica_independent_of_batch():
    """A replica's trajectory depends on (seed, replica id, step) only — also with shared sites."""
    p = _ten_node_graph()
    m = NeuroSA(p, **_compressed(1000))
    full = ns.run(m, p, steps=1000, replicas=4, seed=2)
    one = ns.run(m, p, steps=1000, seed=2, replica_ids=[2])
    np.testing.assert_array_equal(full.final_state[2], one.final_state[0])


def test_trajectory_independent_of_batch_size_and_chunk_width():
    """Few replicas sum the neighbour rows in wide chunks, many replicas in narrow ones: the sum runs
    in the same order, so a replica's trajectory is bit-identical either way (real weights, fields)."""
    p = random_ising(40, seed=4, density=0.6, fields=True)
    for kw in (dict(), dict(chunk=3), dict(sites="independent")):
        m = NeuroSA(p, schedule=Constant(0.7), **kw)
        few = ns.run(m, p, steps=3000, seed=3, replica_ids=[5, 17])
        many = ns.run(m, p, steps=3000, seed=3, replica_ids=np.arange(24))
        np.testing.assert_array_equal(few.final_state, many.final_state[[5, 17]])
        np.testing.assert_array_equal(few.best_energy, many.best_energy[[5, 17]])


@pytest.mark.parametrize("kw", [dict(), dict(sites="independent"), dict(mode="arbiter"), dict(noise="gaussian")])
def test_tracked_energy_is_exact_with_fields_and_real_weights(kw):
    p = random_ising(12, seed=3, density=0.5, fields=True)
    m = NeuroSA(p, schedule=Constant(0.8), **kw)
    r = ns.run(m, p, steps=3000, replicas=4, seed=1, save=ns.SaveAt(every=100, what=("energy", "state")))
    host = p.energy(r.records["state"])
    np.testing.assert_allclose(r.records["energy"], host, rtol=1e-5, atol=1e-3)


def test_maxcut_pm1_weights_and_energy_is_minus_cut(gset_dir):
    p = ns.MaxCut.from_gset(gset_dir / "G11.txt")  # toroidal, ±1 weights
    steps = 30_000
    r = ns.run(NeuroSA(p, **_compressed(steps)), p, steps=steps, replicas=4, seed=0, save=ns.SaveAt(every=steps, what=("energy", "state")))
    np.testing.assert_array_equal(r.records["energy"][-1], -p.cut(r.records["state"][-1]))
    assert r.report["cut"].min() > 0.85 * 564


# ----------------------------------------------------------------------------- options
def test_schedules_and_observables():
    p = _ten_node_graph()
    fn = NeuroSA(p)
    T = [float(fn.schedule(jnp.int32(t))) for t in (0, 10**6, 10**8 - 1)]
    assert T[0] == pytest.approx(0.3125 / math.log1p(1 / 8e4), rel=1e-4)
    assert T[2] == pytest.approx(0.3125 / math.log1p((1 + 2e-3 * (1e8 - 1)) / 8e4), rel=1e-4)
    for name in ("inverse", "exp"):
        sch = NeuroSA(p, schedule=name).schedule
        assert float(sch(jnp.int32(0))) == pytest.approx(T[0], rel=1e-4)
        assert float(sch(jnp.int32(10**8 - 1))) == pytest.approx(T[2], rel=1e-3)
    save = ns.SaveAt(every=1, what=("on_spikes", "off_spikes", "event", "site", "threshold", "temperature", "active"))
    for mode in ("random_scan", "arbiter"):
        r = ns.run(NeuroSA(p, mode=mode, schedule=Constant(0.5)), p, steps=200, replicas=2, seed=0, save=save)
        rec = r.records
        assert rec["on_spikes"].shape == (200, 2, 10) and rec["on_spikes"].dtype == np.int8
        ev = rec["event"]
        np.testing.assert_array_equal(rec["on_spikes"].sum(-1), (ev > 0).astype(int))
        np.testing.assert_array_equal(rec["off_spikes"].sum(-1), (ev < 0).astype(int))
        k = np.nonzero(ev != 0)
        assert np.all(rec["on_spikes"][k[0], k[1], rec["site"][k]] + rec["off_spikes"][k[0], k[1], rec["site"][k]] == 1)
        assert np.all((rec["active"] >= 0) & (rec["active"] <= 10))
        if mode == "arbiter":
            assert np.all((rec["active"] > 0) == (ev != 0))  # a flip iff some pair is above threshold


def test_horizon_compresses_the_published_annealer():
    p = _ten_node_graph()
    full, short = NeuroSA(p), NeuroSA(p, horizon=1e6)  # a float, as parsed from the command line
    assert float(short.schedule.delta) == pytest.approx(0.2)
    assert float(short.schedule(jnp.int32(10**6 - 1))) == pytest.approx(float(full.schedule(jnp.int32(10**8 - 1))), rel=1e-5)
    assert float(NeuroSA(p, horizon=10**6, delta=1e-3).schedule.delta) == pytest.approx(1e-3)  # explicit δ wins
    with pytest.raises(ValueError, match="horizon"):
        NeuroSA(p, horizon=2.5)


def test_bad_parameters_raise():
    p = _ten_node_graph()
    for kw, word in [(dict(mode="sync"), "mode"), (dict(noise="pink"), "noise"), (dict(schedule="linear"), "schedule"),
                     (dict(B=0), "B"), (dict(C=-1.0), "C"), (dict(eps=2.0), "eps"), (dict(sites="some"), "sites"),
                     (dict(horizon=0), "horizon"), (dict(chunk=0), "chunk"), (dict(hardware="loihi2"), "hardware")]:
        with pytest.raises(ValueError, match=word):
            NeuroSA(p, **kw)


def test_cli_builds_neurosa(tmp_path):
    from neurosim._build import build_model

    p = _ten_node_graph()
    m = build_model("neurosa", p, steps=1000, mode="arbiter", noise="uniform", schedule="exp", horizon=1000)
    assert m.mode == "arbiter" and m.noise == "uniform"
    for bad, word in [({"mode": "sync"}, "mode"), ({"noise": "pink"}, "noise"), ({"sites": "all"}, "sites"),
                      ({"schedule": "linear"}, "schedule"), ({"horizon": 0}, "horizon"), ({"colour": 1}, "colour")]:
        with pytest.raises(ValueError, match=word):
            build_model("neurosa", p, steps=1000, **bad)


@pytest.mark.slow
def test_gset_g15_short_anneal_is_within_two_percent(gset_dir):
    p = ns.MaxCut.from_gset(gset_dir / "G15.txt")
    steps = 2_000_000
    r = ns.run(NeuroSA(p, **_compressed(steps)), p, steps=steps, replicas=8, seed=0)
    assert r.report["cut"].min() >= 0.98 * 3050
