"""NEBM neuron (SPEC §4.1): the update against its equations, the exp-free sigmoid against σ, local
minima at T → 0, integer-mode determinism, parameter validation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns
from neurosim import random as nsr
from neurosim.hardware import LOIHI2
from neurosim.models import NEBM, MODELS
from neurosim.models._nebm import _mul_shift, logistic_q8


def _sc_problem(n=12, m=9, seed=0, lam=0.3):
    """A small sparse-coding-like QUBO (dense, mixed signs)."""
    from neurosim.sparse_coding import sparse_coding_qubo

    rng = np.random.default_rng(seed)
    D = rng.normal(size=(m, n)) * 0.35
    x = rng.random(m)
    return sparse_coding_qubo(x, D, lam)


def _flip_deltas(Q, x):
    q = np.diag(Q)
    z = x @ Q - q * x
    return (1 - 2 * x) * (q + 2 * z)


def test_registered():
    assert MODELS["nebm"] is NEBM


def test_deterministic_update_by_hand():
    """2 neurons, Q = [[-1, 2], [2, -1]]: every value below worked out by hand from the equations."""
    p = ns.QUBO.from_matrix(np.array([[-1.0, 2.0], [2.0, -1.0]]))
    m = NEBM(p, alpha=0.5, gamma=0.0, rho=0.5, kappa=0.25, spike="deterministic", schedule=ns.schedules.Constant(1.0))
    keys = nsr.replica_keys(0, np.arange(1))
    st = m.init(jnp.zeros((1, 2), jnp.int8), key=nsr.step_words(keys, 0, salt=1))
    # drive = −(q + z) with z = 2·Q_12·a_other = 4·a_other
    expected = [  # (v, a, r, energy) after each step
        (1.0, 1, 1.0, 2.0),  # v = 0.5·0 + 1 − 0.25·0 = 1 > 0: both fire; E(1,1) = −1 −1 + 2·2 = 2
        (-2.75, 0, 0.5, 0.0),  # v = 0.5·1 − 3 − 0.25·1
        (-0.5, 0, 0.25, 0.0),  # v = 0.5·(−2.75) + 1 − 0.25·0.5
        (0.6875, 1, 1.125, 2.0),  # v = 0.5·(−0.5) + 1 − 0.25·0.25
    ]
    for t, (v, a, r, e) in enumerate(expected):
        st, out = m.step(st, jnp.int32(t), key=nsr.step_words(keys, t))
        np.testing.assert_allclose(np.asarray(st.v), v, rtol=0, atol=1e-6)
        np.testing.assert_array_equal(np.asarray(st.a), a)
        np.testing.assert_allclose(np.asarray(st.r), r, rtol=0, atol=1e-6)
        np.testing.assert_allclose(np.asarray(out["energy"]), e, atol=1e-6)


@pytest.mark.parametrize("noise", ["uniform", "gaussian"])
def test_stochastic_update_matches_equations_in_numpy(noise):
    """Float mode, several steps, all terms on: recompute every step in float64 numpy from the same
    random words (uniform/normal built here from the raw hash bits) and compare."""
    p = _sc_problem(n=10, seed=1)
    Q = p.matrix()
    q, W = np.diag(Q), 2.0 * (Q - np.diag(np.diag(Q)))
    alpha, gamma, rho, kappa = 0.7, 0.8, 0.6, 0.3
    sched = ns.schedules.Linear(2.0, 0.1, 0.2)
    m = NEBM(p, alpha=alpha, gamma=gamma, rho=rho, kappa=kappa, schedule=sched, noise=noise)
    R, n = 6, p.n
    keys = nsr.replica_keys(3, np.arange(R))
    st = m.init(None, key=nsr.step_words(keys, 0, salt=1))
    a = np.asarray(st.a).astype(np.float64)
    v = np.zeros((R, n))
    r = np.zeros((R, n))

    def unif(b):
        return ((b >> 8).astype(np.float64) + 0.5) * 2.0**-24

    for t in range(12):
        word = np.asarray(nsr.step_words(keys, t))
        b_spike = np.asarray(nsr.bits(word[:, None], nsr.counters(n, 0)))
        b_noise = np.asarray(nsr.bits(word[:, None], nsr.counters(n, 1)))
        if noise == "uniform":
            xi = (2.0 * unif(b_noise) - 1.0) * np.sqrt(3.0)
        else:
            b2 = np.asarray(nsr.bits(word[:, None], nsr.counters(n, 2)))
            xi = np.sqrt(-2.0 * np.log(unif(b_noise))) * np.cos(2.0 * np.pi * unif(b2))
        T = max(0.2, 2.0 - 0.1 * t)
        z = a @ W
        v = alpha * v - (q + z) - kappa * r + gamma * T * xi
        P = 1.0 / (1.0 + np.exp(-v / T))
        u = unif(b_spike)
        assert np.abs(u - P).min() > 1e-5  # no decision so close that float32 could round it the other way
        a = (u < P).astype(np.float64)
        r = rho * r + a
        st, out = m.step(st, jnp.int32(t), key=jnp.asarray(word))
        np.testing.assert_allclose(np.asarray(st.v), v, rtol=1e-4, atol=1e-4)
        np.testing.assert_array_equal(np.asarray(st.a), a.astype(np.int8))
        np.testing.assert_allclose(np.asarray(st.r), r, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(np.asarray(st.z), a @ W, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(np.asarray(out["energy"]), p.energy(a), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(np.asarray(out["temperature"]), T, rtol=1e-6)


def test_integer_update_matches_equations_in_numpy():
    """Integer (Loihi 2) mode: every state word recomputed in int64 numpy from the documented
    fixed-point rules, with the logistic threshold from ``logistic_q8`` (checked separately)."""
    p = _sc_problem(n=10, seed=2)
    alpha, gamma, rho, kappa = 0.75, 0.6, 0.5, 0.2
    m = NEBM(p, alpha=alpha, gamma=gamma, rho=rho, kappa=kappa, hardware=LOIHI2, steps=50)
    qz = m.quantization
    W = qz.W.to_dense().astype(np.int64)
    qb = qz.bias.astype(np.int64)
    dv, dr = round((1 - alpha) * 4096), round((1 - rho) * 4096)
    k_int, g_int = round(kappa * qz.scale), round(gamma * np.sqrt(3) * 256)
    table = np.asarray(m.t_table).astype(np.int64)
    R, n = 5, p.n
    keys = nsr.replica_keys(7, np.arange(R))
    st = m.init(None, key=nsr.step_words(keys, 0, salt=1))
    a = np.asarray(st.a).astype(np.int64)
    v = np.zeros((R, n), np.int64)
    r = np.zeros((R, n), np.int64)
    for t in range(20):
        word = np.asarray(nsr.step_words(keys, t))
        b_spike = np.asarray(nsr.bits(word[:, None], nsr.counters(n, 0))).astype(np.int64)
        b_noise = np.asarray(nsr.bits(word[:, None], nsr.counters(n, 1))).astype(np.int64)
        Treg = table[t]
        drive = -(qb + a @ W)
        push = (k_int * r) >> 8
        amp = min((Treg * g_int) >> 16, (1 << 19) - 1)
        eta = (amp * ((b_noise >> 21) - 1024)) >> 10
        v = v - ((v * dv) >> 12) + drive - push + eta
        L = np.asarray(logistic_q8(jnp.asarray((b_spike >> 8).astype(np.uint32)))).astype(np.int64)
        a = (v > (Treg * L) >> 16).astype(np.int64)
        r = r - ((r * dr) >> 12) + (a << 8)
        st, out = m.step(st, jnp.int32(t), key=jnp.asarray(word))
        np.testing.assert_array_equal(np.asarray(st.v), v)
        np.testing.assert_array_equal(np.asarray(st.r), r)
        np.testing.assert_array_equal(np.asarray(st.a), a)
        np.testing.assert_array_equal(np.asarray(st.z), a @ W)
        assert not np.asarray(out["overflow"]).any()
        e_int = ((a * (2 * qb + a @ W)).sum(-1)) // 2
        np.testing.assert_allclose(np.asarray(out["energy"]), e_int / qz.scale + p.offset, rtol=1e-6, atol=1e-5)


def test_integer_logistic_threshold_is_sigmoid_over_all_random_numbers():
    """All 2^24 random words: L is within 0.005 of logit(p) and P(fire | v) = P(⌊T̂L⌋ < v) is within
    0.001 of σ(v/T) at every integer v, for small, medium and the largest temperatures."""
    f = jax.jit(logistic_q8)
    L = np.concatenate([np.asarray(f(jnp.arange(k << 22, (k + 1) << 22, dtype=jnp.uint32))) for k in range(4)])
    u = np.arange(1 << 24, dtype=np.float64)
    p = (u + 0.5) / 2.0**24
    assert np.abs(L / 256.0 - np.log(p / (1 - p))).max() < 0.005
    Ls = np.sort(L)
    mul = jax.jit(lambda T, l: _mul_shift(T, l, 16))
    for T_reg in (256, 3000, 12345, (1 << 24) - 1):
        thr = np.asarray(mul(jnp.int32(T_reg), jnp.asarray(Ls)))
        T = T_reg / 256.0
        v = np.arange(int(-18 * T) - 2, int(18 * T) + 3, max(1, int(T / 64)))
        P = np.searchsorted(thr, v, side="left") / 2.0**24
        assert np.abs(P - 1.0 / (1.0 + np.exp(-v / T))).max() < 1e-3, T_reg


def test_mul_shift_exact():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 1 << 24, 20000)
    b = rng.integers(-(1 << 13) + 1, 1 << 13, 20000)
    for s in (12, 16, 24):
        np.testing.assert_array_equal(np.asarray(_mul_shift(jnp.asarray(a, jnp.int32), jnp.asarray(b, jnp.int32), s)), (a * b) >> s)


@pytest.mark.parametrize("hardware", [None, LOIHI2])
def test_spike_probability_is_sigmoid_statistically(hardware):
    """α = κ = γ = 0, fixed T, one step from a fixed state: the firing frequency of each neuron over
    many replicas matches σ(drive/T) within 4.5 binomial standard deviations."""
    p = _sc_problem(n=8, seed=5)
    Q = p.matrix()
    R = 20000
    a0 = np.zeros((R, p.n), np.int8)
    a0[:, [1, 4]] = 1
    T = float(np.median(np.abs(np.diag(Q) + 2 * (Q - np.diag(np.diag(Q))) @ a0[0])))  # drives of order T
    m = NEBM(p, alpha=0.0, gamma=0.0, kappa=0.0, schedule=ns.schedules.Constant(T), hardware=hardware)
    keys = nsr.replica_keys(11, np.arange(R))
    st = m.init(jnp.asarray(a0), key=nsr.step_words(keys, 0, salt=1))
    st, _ = jax.jit(lambda s: m.step(s, jnp.int32(0), key=nsr.step_words(keys, 0)))(st)
    freq = np.asarray(st.a).mean(axis=0)
    if hardware is None:
        drive = -(np.diag(Q) + 2 * (Q - np.diag(np.diag(Q))) @ a0[0])
    else:
        qz = m.quantization
        drive = -(qz.bias + qz.W.to_dense() @ a0[0]) / qz.scale
        T = float(m.t_table[0]) / 256.0 / qz.scale
    P = 1.0 / (1.0 + np.exp(-drive / T))
    sd = np.sqrt(P * (1 - P) / R) + 1e-4
    assert np.all(np.abs(freq - P) < 4.5 * sd), (freq, P)
    assert P.max() - P.min() > 0.3 and np.sum((P > 0.2) & (P < 0.8)) >= 4  # the sigmoid's slope, not only its tails


@pytest.mark.parametrize("hardware", [None, LOIHI2])
def test_noise_off_T_to_zero_reaches_local_minimum(hardware):
    """γ = 0, κ = 0 and T annealed to ~0: every replica ends in a 1-flip local minimum of the energy
    (of the quantised energy in integer mode, which is what the chip minimises)."""
    p = _sc_problem(n=24, m=16, seed=3, lam=0.2)
    m = NEBM(p, steps=300, gamma=0.0, kappa=0.0, T_end=1e-5, hardware=hardware)
    r = ns.run(m, p, steps=400, replicas=16, seed=2)
    if hardware is None:
        Q = p.matrix()
    else:
        qz = m.quantization
        Q = qz.W.to_dense() / 2.0 + np.diag(qz.bias.astype(np.float64))  # W = 2 Q_off in weight units
    d = _flip_deltas(Q, r.final_state.astype(np.float64))
    assert np.all(d >= -1e-9), d.min()


def test_finds_small_optimum():
    p = _sc_problem(n=14, m=10, seed=4)
    e0, _, _ = ns.brute_force(p)
    m = NEBM(p, steps=2000)
    r = ns.run(m, p, steps=2000, replicas=8, seed=0, best_every=20)
    assert r.overall_best_energy == pytest.approx(e0, abs=1e-9)


def test_integer_bit_identical_plain_jit_chunked_and_batch():
    p = _sc_problem(n=12, seed=6)
    m = NEBM(p, hardware=LOIHI2, steps=90)  # the event-driven path is checked against this one below
    save = ns.SaveAt(every=3, what=("energy", "spikes"))
    a = ns.run(m, p, steps=90, replicas=5, seed=1, save=save)
    b = ns.run(m, p, steps=90, replicas=5, seed=1, save=save, chunk=30)
    for k in a.records:
        np.testing.assert_array_equal(a.records[k], b.records[k])
    np.testing.assert_array_equal(a.best_state, b.best_state)
    part = ns.run(m, p, steps=90, replica_ids=[3, 0], seed=1)
    np.testing.assert_array_equal(part.final_state, a.final_state[[3, 0]])
    # plain (op by op) against jitted stepping
    keys = nsr.replica_keys(1, np.arange(5))
    st0 = m.init(None, key=nsr.step_words(keys, 0, salt=1))

    def go(st):
        for t in range(25):
            st, _ = m.step(st, jnp.int32(t), key=nsr.step_words(keys, t))
        return st

    def body(t, st):
        return m.step(st, t, key=nsr.step_words(keys, t))[0]

    plain = go(st0)  # op by op, each primitive dispatched on its own
    jitted = jax.jit(lambda st: jax.lax.fori_loop(0, 25, body, st))(st0)
    for name in ("a", "v", "r", "z", "overflow"):  # every integer state word
        np.testing.assert_array_equal(np.asarray(getattr(plain, name)), np.asarray(getattr(jitted, name)), err_msg=name)


def test_event_driven_equals_full_product():
    """The event-driven field update (changed neurons send ±W columns) equals the full product, in
    one step for float and integer weights and over a whole integer run."""
    p = _sc_problem(n=16, seed=8)
    rng = np.random.default_rng(0)
    a = jnp.asarray(rng.random((6, 16)) < 0.3, jnp.int8)
    a_new = a.at[:, :5].set(1 - a[:, :5]).at[0].set(1 - a[0])  # replica 0: every neuron changes (dense fallback)
    for hw in (None, LOIHI2):
        full, event = NEBM(p, hardware=hw, max_events=0), NEBM(p, hardware=hw, max_events=6)
        st = full.init(a, key=jnp.zeros(6, jnp.uint32))
        changed = a_new != a
        dx = (a_new.astype(jnp.int32) - a.astype(jnp.int32)).astype(st.z.dtype)
        z_full = jax.jit(lambda *xs: full._update_field(*xs))(st.z, a_new, changed, dx)
        z_event = jax.jit(lambda *xs: event._update_field(*xs))(st.z, a_new, changed, dx)
        z_ref = full.init(a_new, key=jnp.zeros(6, jnp.uint32)).z
        if hw is None:
            np.testing.assert_allclose(np.asarray(z_event), np.asarray(z_ref), rtol=1e-5, atol=1e-5)
        else:
            np.testing.assert_array_equal(np.asarray(z_event), np.asarray(z_ref))
        np.testing.assert_array_equal(np.asarray(z_full), np.asarray(z_ref))
    res = [ns.run(NEBM(p, hardware=LOIHI2, max_events=k, steps=60), p, steps=60, replicas=4, seed=3,
                  save=ns.SaveAt(every=1, what=("spikes",))) for k in (0, 3)]
    np.testing.assert_array_equal(res[1].records["spikes"], res[0].records["spikes"])


def test_any_schedule():
    p = _sc_problem(n=10, seed=9)
    sched = ns.schedules.InverseTime(2.0, 30.0)
    for hw in (None, LOIHI2):
        m = NEBM(p, schedule=sched, steps=80, hardware=hw)
        r = ns.run(m, p, steps=80, replicas=3, seed=4, save=ns.SaveAt(every=4, what=("temperature",)))
        T = r.records["temperature"][:, 0]
        np.testing.assert_allclose(T, 2.0 / (1.0 + r.record_steps / 30.0), rtol=1e-3 if hw else 1e-6)


def test_overflow_is_flagged():
    p = _sc_problem(n=12, seed=10)
    m = NEBM(p, hardware=LOIHI2.replace(state_bits=12), alpha=0.95)
    r = ns.run(m, p, steps=50, replicas=2, seed=0, save=ns.SaveAt(every=50, what=("overflow",)))
    assert r.records["overflow"].any()


def test_bad_parameters_name_the_parameter():
    p = _sc_problem(n=6, seed=0)
    bad = [
        (dict(alpha=1.0), "alpha"), (dict(alpha=-0.1), "alpha"), (dict(rho=1.0), "rho"), (dict(rho=-1), "rho"),
        (dict(gamma=-1.0), "gamma"), (dict(kappa=-0.5), "kappa"), (dict(kappa=float("nan")), "kappa"),
        (dict(spike="maybe"), "spike"), (dict(noise="pink"), "noise"), (dict(steps=0), "steps"),
        (dict(T_start=0.0), "T_start"), (dict(T_end=-1.0), "T_end"), (dict(schedule="cosine"), "schedule"),
        (dict(schedule=3), "schedule"), (dict(max_events=-1), "max_events"),
        (dict(noise="gaussian", hardware=LOIHI2), "noise"), (dict(kappa=1e4, hardware=LOIHI2), "kappa"),
        (dict(gamma=1e3, hardware=LOIHI2), "gamma"),
    ]
    for kw, name in bad:
        with pytest.raises(ValueError, match=name):
            NEBM(p, **kw)
