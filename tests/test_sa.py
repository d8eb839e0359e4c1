"""Stochastic-refractory SA neuron (models/_sa.py): acceptance laws, refractory rates, exactness of
the integer path, the event-driven field, overflow reporting, the integer annealer, ground states.

References are independent of the implementation: closed-form acceptance probabilities, renewal
rates of the refractory process, two-state Metropolis chains, brute-force enumeration."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns
from neurosim import mis
from neurosim import random as nsr
from neurosim.hardware import LOIHI2
from neurosim.models import SA
from neurosim.models._sa import default_temperatures


def clz_closed_form(dC, T_hat, bits=24):
    """P(accept) of the clz test (derivation in tests/test_hardware.py)."""
    if dC < 0:
        return 1.0
    return 2.0 ** -min(math.floor(dC / T_hat) + 1, bits)


def linear_qubo(q):
    """Independent neurons: no couplings, linear terms q (the flip cost from x = 0 is q_i)."""
    n = len(q)
    return ns.QUBO(ns.SymmetricMatrix.from_dense(np.zeros((n, n))), np.asarray(q, float))


def one_step_flip_fraction(model, R, seed=0):
    """Fraction of replicas in which each neuron flipped in one step from x = 0."""
    keys = nsr.replica_keys(seed, np.arange(R, dtype=np.uint32))
    st = model.init(jnp.zeros((R, model.n), jnp.int8), key=nsr.step_words(keys, 0, salt=1))
    st, out = jax.jit(lambda s: model.step(s, jnp.int32(0), key=nsr.step_words(keys, 0)))(st)
    return np.asarray(out["spikes"], np.float64).mean(axis=0)


def within(f, p, N, k=5.0):
    return abs(f - p) <= k * math.sqrt(max(p * (1 - p), 1e-12) / N) + 1e-12


# ------------------------------------------------------------------------------- acceptance laws
def test_loihi_clz_acceptance_measured_matches_closed_form():
    T_hat = 3
    dCs = [-4, -1, 0, 1, 2, 3, 4, 5, 7, 9, 12, 16, 22, 30, 45, 71, 80]
    copies, R = 16, 2048
    q = np.repeat(dCs, copies).astype(float)
    # scale=1 keeps q as integers; T = T̂/ln 2 makes the integer temperature register exactly T̂
    m = SA(linear_qubo(q), hardware=LOIHI2, scale=1.0, schedule="constant", T_start=T_hat / math.log(2), max_events=1)
    assert int(m.t_hat0) == T_hat << 8
    frac = one_step_flip_fraction(m, R).reshape(len(dCs), copies).mean(axis=1)
    for dC, f in zip(dCs, frac):
        assert within(f, clz_closed_form(dC, T_hat), R * copies), (dC, f, clz_closed_form(dC, T_hat))


def test_float_clz_and_exp_acceptance_measured():
    T = 2.7 / math.log(2)  # T̂ = T·ln 2 = 2.7: integer ΔC never sits on a step of ΔC/T̂
    dCs = [-2.0, 0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0]
    copies, R = 16, 2048
    q = np.repeat(dCs, copies)
    clz = SA(linear_qubo(q), acceptance="clz", schedule="constant", T_start=T, max_events=1)
    fc = one_step_flip_fraction(clz, R).reshape(len(dCs), copies).mean(axis=1)
    ex = SA(linear_qubo(q), acceptance="exp", schedule="constant", T_start=T, max_events=1)
    fe = one_step_flip_fraction(ex, R, seed=1).reshape(len(dCs), copies).mean(axis=1)
    for dC, a, b in zip(dCs, fc, fe):
        assert within(a, clz_closed_form(dC, 2.7), R * copies), ("clz", dC, a)
        assert within(b, min(1.0, math.exp(-dC / T)), R * copies), ("exp", dC, b)


@pytest.mark.parametrize("acceptance", ["exp", "clz"])
def test_independent_neurons_sample_the_two_state_metropolis_law(acceptance):
    """One neuron alone is a two-state Metropolis chain: 0→1 with P = a(q), 1→0 with P = 1 (q > 0),
    so P(x = 1) = a/(1 + a) in the stationary state. a = e^{-q/T} (exp) or the clz closed form."""
    q = np.array([0.3, 1.0, 2.5])
    T = 1.3
    m = SA(linear_qubo(q), acceptance=acceptance, refractory="none", schedule="constant", T_start=T)
    res = ns.run(m, linear_qubo(q), steps=400, replicas=512, seed=5, save=ns.SaveAt(every=4, what=("state",)))
    x = np.asarray(res.records["state"][10:], np.float64)  # after burn-in
    frac = x.reshape(-1, 3).mean(axis=0)
    for qi, f in zip(q, frac):
        a = math.exp(-qi / T) if acceptance == "exp" else clz_closed_form(qi, T * math.log(2))
        p = a / (1 + a)
        # samples 4 steps apart are nearly independent; allow for the residual correlation
        assert abs(f - p) < 6 * math.sqrt(p * (1 - p) / x.shape[0] / x.shape[1] * 3), (qi, f, p)


# ------------------------------------------------------------------------------- refractory
def zero_problem(n):
    return linear_qubo(np.zeros(n))


def steady_flip_rate(model, n, steps=240, R=32):
    res = ns.run(model, zero_problem(n), steps=steps, replicas=R, seed=2, save=ns.SaveAt(every=1, what=("flips",)))
    return float(np.asarray(res.records["flips"][40:], np.float64).mean()) / n


@pytest.mark.parametrize(
    "kw,rate",
    [
        (dict(refractory="none"), 1.0),
        # lava: period = b8 >> 4 ∈ 0..15, mean 7.5 → a flip every 1 + 7.5 steps
        (dict(refractory="lava", refract_scaling=4), 1 / 8.5),
        (dict(refractory="lava", refract_scaling=6), 1 / 2.5),  # 0..3, mean 1.5
        (dict(refractory="constant", refract_max=3), 1 / 4),
        (dict(refractory="uniform", refract_max=9), 1 / 5.5),  # 0..9, mean 4.5
    ],
)
def test_refractory_period_sets_the_flip_rate(kw, rate):
    """With ΔC = 0 everywhere every free neuron flips (exp(0) = 1 > u); a neuron is then blocked for
    its refractory period, so the flip rate is the renewal rate 1/(1 + E[period])."""
    n = 64
    m = SA(zero_problem(n), schedule="constant", T_start=1.0, max_events=1, **kw)
    assert abs(steady_flip_rate(m, n) - rate) < 0.03 * rate + 0.002


def test_refractory_lowers_the_flip_fraction_on_a_real_problem():
    p = mis.generate(60, 0.2, 0)
    rates = {}
    for refr in ("none", "lava"):
        m = SA(p, refractory=refr, schedule="constant", T_start=2.0, max_events=2)
        res = ns.run(m, p, steps=200, replicas=16, seed=0, save=ns.SaveAt(every=1, what=("flips",)))
        rates[refr] = float(np.asarray(res.records["flips"][20:]).mean()) / p.n
    assert rates["lava"] < 0.5 * rates["none"]


# ------------------------------------------------------------------------------- exactness
def small_integer_qubo(n=14, seed=0):
    rng = np.random.default_rng(seed)
    Q = rng.integers(-5, 6, size=(n, n)).astype(float)
    Q = np.triu(Q, 1)
    Q = Q + Q.T
    Q[np.diag_indices(n)] = rng.integers(-6, 7, size=n)
    return ns.QUBO.from_matrix(Q)


def test_integer_path_is_bit_identical_chunked_repeated_and_plain_vs_jit():
    p = mis.generate(30, 0.15, 1)
    m = SA(p, hardware=LOIHI2, steps=120, max_events=2)
    save = ns.SaveAt(every=6, what=("state", "energy", "overflow", "temperature"))
    a = ns.run(m, p, steps=120, replicas=6, seed=3, save=save)
    b = ns.run(m, p, steps=120, replicas=6, seed=3, save=save, chunk=18)
    for k in a.records:
        np.testing.assert_array_equal(a.records[k], b.records[k])
    np.testing.assert_array_equal(a.best_state, b.best_state)
    np.testing.assert_array_equal(a.final_state, b.final_state)
    # repeated runs, and plain (op-by-op) vs jitted steps
    R = 2
    keys = nsr.replica_keys(9, np.arange(R, dtype=np.uint32))
    st0 = m.init(None, key=nsr.step_words(keys, 0, salt=1))
    jstep = jax.jit(lambda s, t: m.step(s, t, key=nsr.step_words(keys, t))[0])

    def jitted(n):
        s = st0
        for t in range(n):
            s = jstep(s, jnp.int32(t))
        return s

    sj, again = jitted(40), jitted(40)
    for name in ("s", "z", "temp", "overflow", "energy"):
        np.testing.assert_array_equal(np.asarray(getattr(sj, name)), np.asarray(getattr(again, name)), err_msg=name)
    sj = jitted(2)
    with jax.disable_jit():
        sp = st0
        for t in range(2):
            sp = m.step(sp, jnp.int32(t), key=nsr.step_words(keys, jnp.int32(t)))[0]
    for name in ("s", "z", "temp", "overflow", "energy"):
        np.testing.assert_array_equal(np.asarray(getattr(sj, name)), np.asarray(getattr(sp, name)), err_msg=name)


def test_float_path_is_identical_chunked():
    p = small_integer_qubo(12, 1)
    m = SA(p, steps=90, max_events=2)
    save = ns.SaveAt(every=10, what=("state", "energy"))
    a = ns.run(m, p, steps=90, replicas=5, seed=1, save=save)
    b = ns.run(m, p, steps=90, replicas=5, seed=1, save=save, chunk=30)
    np.testing.assert_array_equal(a.records["state"], b.records["state"])
    np.testing.assert_array_equal(a.records["energy"], b.records["energy"])


@pytest.mark.parametrize("fmt,hardware", [("dense", None), ("dense", LOIHI2), ("ell", LOIHI2), ("segment", None)])
def test_event_driven_field_equals_the_full_product(fmt, hardware):
    """After many steps (quiet and busy ones: max_events=2 forces the whole-field branch often) the
    incrementally updated input z equals W·x exactly (integer weights: exact in float32 too), and
    the energy output equals the problem's energy of the state (the cost integrator)."""
    p = mis.generate(90, 0.08, 2)
    m = SA(p, hardware=hardware, synapse_format=fmt, max_events=2, steps=100)
    R = 4
    keys = nsr.replica_keys(0, np.arange(R, dtype=np.uint32))
    st = m.init(None, key=nsr.step_words(keys, 0, salt=1))
    step = jax.jit(lambda s, t: m.step(s, t, key=nsr.step_words(keys, t)))
    flips = []
    for t in range(100):
        st, out = step(st, jnp.int32(t))
        flips.append(np.asarray(out["flips"]))
        if t % 10 == 9:
            np.testing.assert_allclose(np.asarray(out["energy"]), p.energy(np.asarray(st.x)), atol=1e-4)
    flips = np.array(flips)
    assert flips.max() > 2 and (flips.max(axis=1) <= 2).any()  # both branches ran
    W = p.to_qubo().Q.scaled(2.0).to_dense() * m.scale
    np.testing.assert_array_equal(np.asarray(st.z, np.float64), np.asarray(st.x, np.float64) @ W)


# ------------------------------------------------------------------------------- overflow
def test_24bit_overflow_is_detected_and_sticky():
    """Neuron 0's bias sits 100 below the 24-bit rail; while neuron 1 is on, the input adds 127 and
    q + z leaves the range. Neuron 1 (bias +1000) switches off at once, so later steps are in range,
    but the flag stays set; a replica that starts with neuron 1 off never overflows."""
    rail = 2**23 - 1
    Q = np.array([[rail - 100, 63.5], [63.5, 1000.0]])  # W_01 = 2·63.5 = 127
    p = ns.QUBO.from_matrix(Q)
    m = SA(p, hardware=LOIHI2, scale=1.0, schedule="constant", T_start=0.5)
    init = np.array([[0, 1], [0, 0]], np.int8)
    res = ns.run(m, p, steps=20, replicas=2, seed=0, init=init, save=ns.SaveAt(every=1, what=("overflow", "state")))
    over = np.asarray(res.records["overflow"])
    assert over[:, 0].all() and not over[:, 1].any()
    assert (np.asarray(res.records["state"])[2:, 0, 1] == 0).all()  # the cause is gone …
    assert over[-1, 0]  # … the flag is not


def test_cost_integrator_falls_back_to_float_when_int32_could_wrap():
    # 300 biases of 2^22 (scale 1): 2·Σ|q| = 2.5e9 > 2^31, so the int32 cost sum could wrap
    p = linear_qubo(np.full(300, 2.0**22))
    m = SA(p, hardware=LOIHI2, scale=1.0, max_events=1)
    assert not m._exact_energy and SA(small_integer_qubo(8), hardware=LOIHI2)._exact_energy
    keys = nsr.replica_keys(0, np.arange(2, dtype=np.uint32))
    x = np.ones((2, 300), np.int8)
    st = m.init(jnp.asarray(x), key=nsr.step_words(keys, 0, salt=1))
    np.testing.assert_allclose(np.asarray(st.energy, np.float64), p.energy(x), rtol=1e-6)


def test_no_overflow_on_ordinary_problems():
    p = small_integer_qubo(14, 2)
    m = SA(p, hardware=LOIHI2, steps=100)
    res = ns.run(m, p, steps=100, replicas=4, seed=0, save=ns.SaveAt(every=100, what=("overflow",)))
    assert not np.asarray(res.records["overflow"]).any()


# ------------------------------------------------------------------------------- annealer
@pytest.mark.parametrize("schedule", ["geometric", "linear"])
def test_integer_annealer_follows_the_float_schedule(schedule):
    p = mis.generate(30, 0.2, 0)
    steps = 400
    fl = SA(p, steps=steps, schedule=schedule, T_start=3.0, T_end=0.2, max_events=1)
    hw = SA(p, steps=steps, schedule=schedule, T_start=3.0, T_end=0.2, hardware=LOIHI2, max_events=1)
    sv = ns.SaveAt(every=20, what=("temperature",))
    tf = np.asarray(ns.run(fl, p, steps=steps, replicas=2, seed=0, save=sv).records["temperature"])[:, 0]
    th = np.asarray(ns.run(hw, p, steps=steps, replicas=2, seed=0, save=sv).records["temperature"])[:, 0]
    quantum = 1.0 / (hw.scale * math.log(2) * 256)  # one unit of the register's fraction
    # the register moves every `t_hat_every` steps, so it may lag by one decrement
    tick = int(hw.t_hat_step) * quantum if schedule == "linear" else 0.0
    np.testing.assert_allclose(th, tf, rtol=0.02, atol=4 * quantum + tick)
    assert th[-1] >= 0.2 * 0.98 and np.all(np.diff(th) <= 0)


def test_temperature_register_is_16_bit():
    p = mis.generate(20, 0.2, 0)
    m = SA(p, hardware=LOIHI2, schedule="constant", T_start=1e6)
    assert int(m.t_hat0) >> 8 == 2**16 - 1


# ------------------------------------------------------------------------------- quantisation
def test_model_reports_quantisation_and_energies_in_problem_units():
    Q = np.zeros((4, 4))
    for (i, j), w in {(0, 1): 3.0, (1, 2): 0.7, (2, 3): 0.002}.items():
        Q[i, j] = Q[j, i] = w / 2
    Q[np.diag_indices(4)] = [-1.0, 0.35, 0.0, 2.0]
    p = ns.QUBO.from_matrix(Q)
    m = SA(p, hardware=LOIHI2, steps=50)
    assert m.quantization.collapsed.tolist() == [[2, 3]]
    assert m.scale == pytest.approx(127 / 3)
    d = m.describe()
    assert d["quantization"]["n_collapsed"] == 1 and d["hardware"] == "loihi2[w8,s24,r24]"
    res = ns.run(m, p, steps=50, replicas=4, seed=0)
    np.testing.assert_allclose(res.best_energy, p.energy(res.best_state))


# ------------------------------------------------------------------------------- ground states
@pytest.mark.parametrize("hardware", [None, LOIHI2])
def test_sa_reaches_the_brute_force_ground_state(hardware):
    p = small_integer_qubo(14, 0)
    e0, _, _ = ns.brute_force(p)
    m = SA(p, hardware=hardware, steps=1500)
    if hardware is not None:
        assert m.quantization.exact  # integer coefficients stay exact in int8
    res = ns.run(m, p, steps=1500, replicas=16, seed=0)
    assert res.overall_best_energy == pytest.approx(e0)


def test_sa_finds_the_exact_mis_of_a_small_graph():
    p = mis.generate(50, 0.1, 3)
    size, _, proven = mis.exact_mis(p)
    assert proven
    for hw in (None, LOIHI2):
        res = ns.run(SA(p, hardware=hw, steps=1000, max_events=2), p, steps=1000, replicas=16, seed=1)
        assert res.report["set_size"].max() == size


def test_default_temperatures_from_the_couplings():
    # Max-Cut with unit weights: J = -1/2, so T_hot = 2·median|J| = 1 and T_cold = 1/ln 1000
    g = ns.MaxCut.from_graph(np.array([[0, 1], [1, 2], [2, 3], [3, 0]]))
    hot, cold = default_temperatures(g.to_qubo())
    assert hot == pytest.approx(1.0) and cold == pytest.approx(1 / math.log(1000))
    # the weakest coupling sets T_cold, floored at 1/100 of the median
    w = np.array([[0, 1, 1.0], [1, 2, 1.0], [2, 3, 1.0], [3, 0, 0.2]])
    hot, cold = default_temperatures(ns.MaxCut.from_graph(w).to_qubo())
    assert hot == pytest.approx(1.0) and cold == pytest.approx(0.2 / math.log(1000))
    w[3, 2] = 1e-6
    _, cold = default_temperatures(ns.MaxCut.from_graph(w).to_qubo())
    assert cold == pytest.approx(0.01 / math.log(1000))


def test_auto_refract_scaling_lengthens_the_period_on_dense_problems():
    from neurosim.models._sa import auto_refract_scaling

    # mean period (255 >> s)/2; the largest s ≤ 4 with 1 + period ≥ mean degree / 20
    assert auto_refract_scaling(mis.generate(60, 0.2, 0).to_qubo()) == 4  # degree ~12: Lava-like
    dense = mis.generate(400, 0.9, 0)  # degree ~360 → 18: s = 3 gives 16.5 < 18, s = 2 gives 32.5
    assert auto_refract_scaling(dense.to_qubo()) == 2
    assert SA(dense, max_events=1).refract_scaling == 2
    assert SA(dense, refract_scaling=4, max_events=1).refract_scaling == 4


def test_validation():
    p = small_integer_qubo(6)
    with pytest.raises(ValueError, match="no exp"):
        SA(p, hardware=LOIHI2, acceptance="exp")
    with pytest.raises(ValueError, match="refractory"):
        SA(p, refractory="forever")
    with pytest.raises(ValueError, match="refract_scaling"):
        SA(p, refract_scaling=9)
    with pytest.raises(ValueError, match="max_events"):
        SA(p, max_events=0)
    with pytest.raises(ValueError, match="schedule"):
        SA(p, schedule="cosine")


# ------------------------------------------------------------------------------- long runs (must-show)
@pytest.mark.slow
@pytest.mark.parametrize("name,best", [("G1", 11624), ("G15", 3050), ("G22", 13359)])
@pytest.mark.parametrize("hardware", [None, LOIHI2])
def test_gset_within_one_percent_of_best_known(gset_dir, name, best, hardware):
    g = ns.MaxCut.from_gset(gset_dir / f"{name}.txt")
    res = ns.run(SA(g, hardware=hardware, steps=3000), g, steps=3000, replicas=8, seed=0)
    assert res.report["cut"].max() >= 0.99 * best


@pytest.mark.slow
@pytest.mark.parametrize("hardware", [None, LOIHI2])
def test_mis_250_reaches_the_exact_optimum_with_long_runs(hardware):
    p = mis.generate(150, 0.15, 0)
    size, _, proven = mis.exact_mis(p, time_limit=120)
    assert proven
    res = ns.run(SA(p, hardware=hardware, steps=20000), p, steps=20000, replicas=32, seed=0)
    assert res.report["set_size"].max() == size
