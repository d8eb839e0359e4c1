"""NeuroSA under chip profiles: the cross-PE arbiter's selection law and stationary law against exact
enumeration (SpiNNaker2), per-PE random numbers, and the integer neuron (Loihi 2) bit for bit against a
plain-Python reference of the same integer arithmetic, its threshold error, determinism and bad input."""

import itertools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import networkx as nx
import numpy as np
import pytest

import neurosim as ns
from neurosim import random as nsr
from neurosim.hardware import LOIHI2, SPINNAKER2
from neurosim.models import NeuroSA
from neurosim.schedules import Constant


def _ising_small(n=6, seed=1, scale=0.6):
    rng = np.random.default_rng(seed)
    J = np.triu(rng.normal(size=(n, n)) * scale, 1)
    J = J + J.T
    return ns.Ising.from_dense(J, 0.4 * rng.normal(size=n))


def _states(n):
    x = ns._problems.all_states(n)
    return 2 * x.astype(np.int64) - 1, 1 << np.arange(n - 1, -1, -1)


def _fire_probs(p, S, T, B=2.5, eps=1e-6):
    return np.clip((np.exp(-p.flip_deltas(S) / T) - eps) / B, 0.0, 1.0)


# 6 pairs on PEs of 4 and 2 (a small PE so that the hierarchy is visible)
S2_SMALL = SPINNAKER2.replace(neurons_per_core=4)


def _pe_of(n, per_pe):
    return np.arange(n) // per_pe


def selection_probs(pf, pe, hierarchical=True):
    """Exact P(pair j is the one that flips) for independent firing probabilities ``pf`` (n,):
    hierarchical: Σ_F P(F)·1[j ∈ F]/(#PEs with a candidate · #candidates on j's PE); else 1/|F|."""
    n = len(pf)
    out = np.zeros(n)
    for F in itertools.product((0, 1), repeat=n):
        F = np.array(F, bool)
        if not F.any():
            continue
        pF = np.prod(np.where(F, pf, 1 - pf))
        if hierarchical:
            per = np.bincount(pe[F], minlength=pe.max() + 1)
            out[F] += pF / (np.count_nonzero(per) * per[pe[F]])
        else:
            out[F] += pF / F.sum()
    return out


def _one_step(model, s0, R, t=0, seed=0):
    keys = nsr.replica_keys(seed, np.arange(R))
    st = model.init(jnp.asarray(np.broadcast_to(s0, (R, len(s0)))), key=nsr.step_words(keys, 0, salt=1))
    step = eqx.filter_jit(lambda m, st, k: m.step(st, jnp.int32(t), key=k)[1])
    return jax.tree_util.tree_map(np.asarray, step(model, st, nsr.step_words(keys, t)))


def test_cross_pe_arbiter_selection_law_is_the_stated_one():
    """One step from a fixed state, 100k replicas: which pair flips matches
    P(j) = E[1/#active PEs · 1/#candidates on j's PE], and the test can tell it from the uniform arbiter."""
    p = _ising_small(6, seed=4, scale=0.9)
    T = 1.5
    s0 = np.array([1, -1, 1, 1, 1, 1], np.int8)  # pairs 4 and 5 (the small PE) both always fire
    m = NeuroSA(p, mode="arbiter", schedule=Constant(T), hardware=S2_SMALL)
    assert m.chip.mapping.cores == 2
    pe = np.asarray(m.onchip.core_of)
    np.testing.assert_array_equal(pe, _pe_of(6, 4))
    pf = _fire_probs(p, s0.astype(np.int64)[None], T)[0]
    exact = selection_probs(pf, pe)
    uniform = selection_probs(pf, pe, hierarchical=False)
    R = 100_000
    out = _one_step(m, s0, R)
    fired = out["event"] != 0
    freq = np.bincount(out["site"][fired], minlength=6) / R
    sd = np.sqrt(exact * (1 - exact) / R)
    np.testing.assert_array_less(np.abs(freq - exact), 5 * sd + 1e-6)
    assert np.max(np.abs(exact - uniform) / (sd + 1e-9)) > 20  # the two laws are far apart here
    # the flip is the chosen pair's, in its own direction; "active" counts every candidate
    np.testing.assert_array_equal(out["event"][fired], -s0[out["site"][fired]])
    assert abs(out["active"].mean() - pf.sum()) < 5 * math.sqrt(np.sum(pf * (1 - pf)) / R)


def _hier_matrix(p, T, pe):
    n = p.n
    S, w = _states(n)
    pf = _fire_probs(p, S, T)
    P = np.zeros((1 << n, 1 << n))
    for a in range(1 << n):
        sel = selection_probs(pf[a], pe)
        for j in range(n):
            P[a, a ^ w[j]] = sel[j]
        P[a, a] = 1.0 - P[a].sum()
    return P


def _stationary(P):
    vals, vecs = np.linalg.eig(P.T)
    v = np.real(vecs[:, np.argmin(np.abs(vals - 1))])
    return v / v.sum()


def _empirical(model, p, steps, every, burn, R=2048, seed=0):
    r = ns.run(model, p, steps=steps, replicas=R, seed=seed, save=ns.SaveAt(every=every, what=("state",)))
    st = r.records["state"][r.record_steps >= burn]
    _, w = _states(p.n)
    idx = ((st.reshape(-1, p.n) + 1) // 2).astype(np.int64) @ w
    return np.bincount(idx, minlength=1 << p.n) / idx.size


def test_cross_pe_arbiter_stationary_law_matches_exact_transition_matrix():
    p = _ising_small(6, seed=1)
    T = 1.0
    m = NeuroSA(p, mode="arbiter", schedule=Constant(T), hardware=S2_SMALL)
    P = _hier_matrix(p, T, np.asarray(m.onchip.core_of))
    np.testing.assert_allclose(P.sum(1), 1.0, atol=1e-12)
    pi = _stationary(P)
    emp = _empirical(m, p, steps=600, every=4, burn=120)
    tv = 0.5 * np.abs(emp - pi).sum()
    assert tv < 0.03, tv


def test_spinnaker2_random_scan_firing_law_with_per_pe_words():
    """Independent sites, so that one step tests every pair (on 3 PEs) in some replicas."""
    p = _ising_small(6, seed=2, scale=0.8)
    T = 0.7
    m = NeuroSA(p, schedule=Constant(T), sites="independent", hardware=SPINNAKER2.replace(neurons_per_core=2))
    assert m.chip.mapping.cores == 3
    R = 60_000
    s0 = np.array([1, -1, 1, 1, -1, -1], np.int8)
    out = _one_step(m, s0, R)
    pf = _fire_probs(p, s0.astype(np.int64)[None], T)[0]
    for i in range(6):
        sel = out["site"] == i
        k = sel.sum()
        assert k > 5000
        frac = np.mean(out["event"][sel] != 0)
        assert abs(frac - pf[i]) < 5 * math.sqrt(max(pf[i] * (1 - pf[i]), 1e-12) / k) + 1e-9


def test_spinnaker2_words_come_from_the_pe_and_differ_from_the_float_path():
    """Same chain law, different random words: the PE's generator, not the float path's step word."""
    p = ns.MaxCut.from_graph(nx.gnm_random_graph(10, 22, seed=1))
    a = ns.run(NeuroSA(p, horizon=2000), p, steps=2000, replicas=4, seed=3)
    b = ns.run(NeuroSA(p, horizon=2000, hardware=SPINNAKER2), p, steps=2000, replicas=4, seed=3)
    c = ns.run(NeuroSA(p, horizon=2000, hardware=SPINNAKER2), p, steps=2000, replicas=4, seed=3, chunk=700)
    assert not np.array_equal(a.final_state, b.final_state)
    np.testing.assert_array_equal(b.final_state, c.final_state)


# ----------------------------------------------------------------------------- Loihi 2 integers
M32 = 0xFFFFFFFF


def _t32(x):
    for k, c in enumerate((17, 0xED5AD4BB, 11, 0xAC4C1B51, 15, 0x31848BAB, 14)):
        x = (x ^ (x >> c)) if k % 2 == 0 else (x * c) & M32
    return x


def _lb32(x):
    for k, c in enumerate((16, 0x7FEB352D, 15, 0x846CA68B, 16)):
        x = (x ^ (x >> c)) if k % 2 == 0 else (x * c) & M32
    return x


def _log2_q14(N):
    """The layer's documented log2 (clz octave + quartic in the Q15 mantissa), in Python integers."""
    e = N.bit_length() - 1
    F = ((N << (31 - e)) >> 16) & 0x7FFF
    g = ((1346 * F) >> 15) - 3917
    g = ((g * F) >> 15) + 7188
    return (e << 14) + (F >> 1) + ((g * ((F * ((1 << 15) - F)) >> 15)) >> 15)


def _reference_ln(r, rb, b_fx, b_shift, eps_fx, frac):
    """``2^frac · ln(B·U + ε)`` by the documented integer steps, in Python integers."""
    d = _log2_q14(b_fx * (2 * r + 1) + eps_fx) - ((rb + 1 + b_shift) << 14)
    q23 = (d >> 7) * 45426 + (((d & 127) * 45426) >> 7)
    k = 23 - frac
    return (q23 + (1 << (k - 1))) >> k


def _reference_scan(m, p, s, site, keys, steps):
    """The LOIHI2 random scan in Python integers, from the documented arithmetic (one list per step)."""
    c = m.onchip
    hw = m.hardware
    q = m.quantization
    A = np.rint(q.W.to_dense()).astype(np.int64)
    b = q.bias.astype(np.int64)
    n, R = s.shape
    sk0, sk1 = (int(v) for v in np.asarray(m.site_key))
    smax = (1 << (hw.state_bits - 1)) - 1
    fn = m.schedule
    unit = c.scale * 256
    out = []
    for t in range(steps):
        i = site
        kt = np.asarray(nsr.step_words(keys, t)).astype(np.int64)
        T = float(fn.T0) / math.log1p((float(fn.t0) + (t // c.t_stride) * c.t_stride * float(fn.delta)) / float(fn.C))
        T_hat = int(min(max(round(T * unit), 1), (1 << 24) - 1))
        local = i - int(np.asarray(c.pe_start)[int(np.asarray(c.core_of)[i])])
        pe = int(np.asarray(c.core_of)[i])
        new = s.copy()
        for rep in range(R):
            word = _t32(int(kt[rep]) ^ _lb32(pe + (5 << 24)))
            r = _t32(word ^ _lb32(local + (6 << 24))) >> (32 - hw.rng_bits)
            L = _reference_ln(r, hw.rng_bits, c.b_fx, c.b_shift, c.eps_fx, c.ln_frac)
            mu = (T_hat * L) >> (8 + c.ln_frac)  # exact floor (Python integers)
            g = -int(s[i, rep]) * int(A[i] @ s[:, rep] + b[i])
            if min(max(g, -smax - 1), smax) > mu:
                new[i, rep] = -s[i, rep]
        s = new
        a = _t32((sk1 + (t + 1) * 0x9E3779B9) & M32)
        w = _t32(_t32(sk0 ^ a))  # step_words(site_key, t + 1), then bits(·, 0)
        site = (((w >> 16) * n + (((w & 0xFFFF) * n) >> 16)) >> 16)
        out.append(s.copy())
    return out


def test_loihi2_scan_is_bit_exact_against_an_integer_reference():
    p = ns.Ising.from_dense(*_real_problem(10, seed=5))
    m = NeuroSA(p, hardware=LOIHI2, horizon=400, T0=0.3125 * 4)
    assert m.quantization is not None and m.quantization.weight_bits == 8
    R, steps = 3, 400
    keys = nsr.replica_keys(7, np.arange(R))
    st = m.init(None, key=nsr.step_words(keys, 0, salt=1))
    ref = _reference_scan(m, p, np.asarray(st.s).astype(np.int64), int(st.site), keys, steps)
    step = eqx.filter_jit(lambda m, st, k, t: m.step(st, t, key=k))
    flips = 0
    for t in range(steps):
        prev = np.asarray(st.s)
        st, out = step(m, st, nsr.step_words(keys, t), jnp.int32(t))
        np.testing.assert_array_equal(np.asarray(st.s), ref[t], err_msg=f"step {t}")
        flips += int(np.sum(prev != np.asarray(st.s)))
    assert 50 < flips < steps * R  # the reference saw both firing and non-firing tests


def _real_problem(n, seed):
    rng = np.random.default_rng(seed)
    J = np.triu(rng.normal(size=(n, n)), 1) * (rng.random((n, n)) < 0.6)
    return J + J.T, 0.3 * rng.normal(size=n)


@pytest.mark.parametrize("frac", [9, 4, 0])
def test_integer_log_error_against_the_float_threshold(frac):
    """Every 24-bit random integer (exhaustive): |L_int − ln(B·U + ε)| ≤ the output's half LSB
    2^-(frac+1) plus the layer's log2 error (≤ 1.1e-4·ln 2 + 3·2^-14) and B, ε rounding; and the
    integer μ against T̂·ln(B·U + ε) for a mid-range register."""
    p = _ising_small(6)
    m = NeuroSA(p, hardware=LOIHI2, ln_frac=frac)
    r = jnp.arange(1 << 24, dtype=jnp.uint32)
    L = np.asarray(eqx.filter_jit(lambda c, r: c.log_fixed(r))(m.onchip, r)) / 2.0**frac
    U = (np.arange(1 << 24) + 0.5) / 2**24
    exact = np.log(2.5 * U + 1e-6)
    err = np.abs(L - exact)
    bound = 2.0 ** -(frac + 1) + 3e-4
    assert err.max() < bound, err.max()
    assert err.max() > 0.9 * 2.0 ** -(frac + 1)  # the bound is the rounding's, not slack
    # spot values against the plain-integer reference
    c = m.onchip
    for k in (0, 1, 7, 12345, (1 << 23) + 5, (1 << 24) - 1):
        assert int(L[k] * 2**frac) == _reference_ln(k, 24, c.b_fx, c.b_shift, c.eps_fx, frac)
    T_hat = 5000 * 256 + 77
    mu = np.asarray(eqx.filter_jit(lambda c, r: c.threshold_int(r, jnp.int32(T_hat)))(c, r[::4097]))
    np.testing.assert_array_less(np.abs(mu - T_hat / 256 * exact[::4097]), T_hat / 256 * bound + 1)


def test_loihi2_firing_probability_close_to_the_float_law():
    p = _ising_small(6, seed=2, scale=0.8)
    T = 0.7
    m = NeuroSA(p, schedule=Constant(T), sites="independent", hardware=LOIHI2)
    R = 60_000
    s0 = np.array([1, -1, 1, 1, -1, -1], np.int8)
    out = _one_step(m, s0, R)
    pf = _fire_probs(p, s0.astype(np.int64)[None], T)[0]
    for i in range(6):
        sel = out["site"] == i
        frac = np.mean(out["event"][sel] != 0)
        # int8 weights move a gain by ≤ max_error·(degree+1); allow that on top of the sampling error
        slack = pf[i] * (math.exp(m.quantization.max_error * 7 / T) - 1) + 0.003
        assert abs(frac - pf[i]) < 5 * math.sqrt(max(pf[i] * (1 - pf[i]), 1e-12) / sel.sum()) + slack


def test_loihi2_bit_identical_across_runs_chunks_batches_and_jit():
    p = ns.Ising.from_dense(*_real_problem(30, seed=2))
    m = NeuroSA(p, hardware=LOIHI2, horizon=1500)
    what = ("energy", "state", "event", "site", "temperature", "threshold")
    save = ns.SaveAt(every=50, what=what)
    a = ns.run(m, p, steps=1500, replicas=4, seed=1, save=save)
    b = ns.run(m, p, steps=1500, replicas=4, seed=1, save=save, chunk=400)
    c = ns.run(NeuroSA(p, hardware=LOIHI2, horizon=1500), p, steps=1500, seed=1, replica_ids=[2])
    for k in what:
        np.testing.assert_array_equal(a.records[k], b.records[k])
    np.testing.assert_array_equal(a.final_state[2], c.final_state[0])
    # the energy kept by the chip (integers, in problem units) is the quantised problem's energy
    q = m.quantization
    Aq, bq = q.W.to_dense() / q.scale, q.bias / q.scale
    S = a.records["state"].astype(np.float64)
    e_q = -0.25 * np.einsum("kri,ij,krj->kr", S, Aq, S) - 0.5 * S @ bq + p.to_ising().offset
    np.testing.assert_allclose(a.records["energy"], e_q, rtol=1e-5, atol=1e-4)
    # jit vs op-by-op
    keys = nsr.replica_keys(1, np.arange(2))
    st0 = m.init(None, key=nsr.step_words(keys, 0, salt=1))

    def steps(st):
        for t in range(5):
            st, _ = m.step(st, jnp.int32(t), key=nsr.step_words(keys, t))
        return st

    with jax.disable_jit():
        s_eager = np.asarray(steps(st0).s)
    np.testing.assert_array_equal(s_eager, np.asarray(eqx.filter_jit(steps)(st0).s))


def test_loihi2_temperature_register_and_overflow():
    g = ns.MaxCut.from_graph(nx.gnm_random_graph(40, 300, seed=2))
    m = NeuroSA(g, hardware=LOIHI2, horizon=10**6)
    c = m.onchip
    last = (10**6 - 1) // c.t_stride * c.t_stride
    T_end = 0.3125 / math.log1p((1 + 0.2 * last) / 8e4)
    assert int(c.t_table[-1]) == round(T_end * c.scale * 256)
    assert int(c.t_table.max()) == (1 << 24) - 1  # the 16.8 register saturates at the hot start
    # the hottest register value covers the largest gain a flip can have (docs)
    assert int(c.t_table[0]) >> 8 >= np.abs(np.rint(m.quantization.W.to_dense())).sum(1).max()
    # a state word too narrow for the fields raises the sticky flag
    narrow = NeuroSA(g, hardware=LOIHI2.replace(state_bits=9), horizon=2000)
    r = ns.run(narrow, g, steps=2000, replicas=2, seed=0, save=ns.SaveAt(every=2000, what=("overflow",)))
    assert r.records["overflow"].all()
    ok = ns.run(m, g, steps=2000, replicas=2, seed=0, save=ns.SaveAt(every=2000, what=("overflow",)))
    assert not ok.records["overflow"].any()


def test_chip_paths_solve_a_small_maxcut():
    p = ns.MaxCut.from_graph(nx.gnm_random_graph(10, 22, seed=1))
    e0 = ns.brute_force(p)[0]
    for hw in (SPINNAKER2, LOIHI2):
        r = ns.run(NeuroSA(p, horizon=20_000, hardware=hw), p, steps=20_000, replicas=8, seed=0)
        np.testing.assert_allclose(r.best_energy, e0)
    r = ns.run(NeuroSA(p, horizon=3000, mode="arbiter", hardware=S2_SMALL), p, steps=3000, replicas=8, seed=0)
    np.testing.assert_allclose(r.best_energy, e0)


def test_bad_chip_options_raise():
    p = _ising_small(6)
    for kw, word in [(dict(hardware="loihi2"), "hardware"), (dict(hardware=LOIHI2, mode="arbiter"), "arbiter"),
                     (dict(hardware=LOIHI2, noise="gaussian"), "noise"), (dict(hardware=LOIHI2.replace(rng_bits=28)), "rng_bits"),
                     (dict(hardware=LOIHI2, ln_frac=10), "ln_frac"), (dict(hardware=LOIHI2.replace(chips=1, neurons_per_core=1, cores_per_chip=2)), "chips")]:
        with pytest.raises(ValueError, match=word):
            NeuroSA(p, **kw)


@pytest.mark.parametrize("hw", [LOIHI2, SPINNAKER2])
def test_chip_annealer_follows_the_run(hw):
    """At its defaults NeuroSA lays its annealer over the run under a profile too (issue 13 item 1): the
    Loihi 2 temperature register table is rebuilt for the run's length and ends where the float one does."""
    from neurosim import mis

    p = mis.neurobench(60, 0.1, 0)
    steps = 20_000
    m = NeuroSA(p, hardware=hw)
    f = NeuroSA(p).with_run_length(steps)
    c = m.with_run_length(steps)
    assert float(c.schedule(steps - 1)) == float(f.schedule(steps - 1))
    if hw is LOIHI2:
        unit = c.chip.scale * 256  # register = round(T · scale · 2^8)
        last = int(c.onchip.t_table[-1])
        assert abs(last - float(f.schedule(steps - 1)) * unit) <= 1
        old = m.onchip  # laid over the published 1e8 iterations: still hot at the run's end
        assert int(old.t_table[min((steps - 1) // old.t_stride, old.t_table.shape[0] - 1)]) > 2 * last
    r = ns.run(m, p, steps=steps, replicas=4, seed=0)
    best = -float(np.min(r.best_energy))
    assert best >= 0.9 * mis.exact_mis(p, time_limit=60)[0]
