"""Hardware profiles (neurosim.hardware): clz Metropolis, quantisation report, saturation,
random numbers, temperature register, core mapping and capacity refusals.

References are independent of the implementation: the clz acceptance probability is derived in
closed form (below), quantisation errors and mappings are computed by hand."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns
from neurosim import random as nsr
from neurosim.hardware import LOIHI2, PROFILES, SPINNAKER2, HardwareProfile


def clz_closed_form(dC, T_hat, bits):
    """P(accept) of the clz test for a uniform ``bits``-bit r.

    For ΔC < 0 the test always accepts. For ΔC ≥ 0 it accepts iff r = 0 or clz(r) > ΔC/T̂, i.e.
    clz(r) ≥ k with k = ⌊ΔC/T̂⌋ + 1; clz(r) ≥ k ⇔ r < 2^(bits−k), which has probability 2^−k
    for k ≤ bits, and for k > bits only r = 0 passes (2^−bits). So P = 2^−min(⌊ΔC/T̂⌋+1, bits)."""
    if dC < 0:
        return 1.0
    return 2.0 ** -min(math.floor(dC / T_hat) + 1, bits)


# ------------------------------------------------------------------------------- clz test
@pytest.mark.parametrize("bits", [6, 8])
def test_clz_accept_exact_by_enumeration(bits):
    """Every r of a small word: the fraction accepted is exactly the closed form."""
    hw = LOIHI2.replace(rng_bits=bits)
    r = jnp.arange(1 << bits, dtype=jnp.uint32)[None, :]
    for T_hat in (1, 3, 7):
        dCs = np.arange(-5, T_hat * (bits + 2) + 2)
        acc = hw.clz_accept(jnp.asarray(dCs, jnp.int32)[:, None], jnp.int32(T_hat), r)
        frac = np.asarray(acc).mean(axis=1)
        want = [clz_closed_form(int(d), T_hat, bits) for d in dCs]
        np.testing.assert_array_equal(frac, want)


def test_clz_of_zero_and_top_bit():
    hw = LOIHI2
    r = jnp.asarray([0, 1, (1 << 23), (1 << 24) - 1, 5], jnp.uint32)
    np.testing.assert_array_equal(np.asarray(hw.clz(r)), [24, 23, 0, 0, 21])
    hw8 = LOIHI2.replace(rng_bits=8)
    np.testing.assert_array_equal(np.asarray(hw8.clz(jnp.asarray([0, 1, 128, 255], jnp.uint32))), [8, 7, 0, 0])


def test_clz_accept_measured_with_the_profile_generator():
    """Over 2^20 draws of the profile's 24-bit generator the acceptance frequency matches the
    closed form for each ΔC/T̂ (5σ binomial bounds)."""
    hw = LOIHI2
    N = 1 << 20
    words = nsr.replica_keys(3, np.arange(64, dtype=np.uint32))[:, 0]
    r = hw.random_bits(words[:, None], nsr.counters(N // 64, 7)).reshape(-1)
    assert int(r.max()) < (1 << 24)
    T_hat = 4
    ratios = [0, 0.5, 1, 2, 3.75, 5, 8, 12]
    for ratio in ratios:
        dC = int(round(ratio * T_hat))
        p = clz_closed_form(dC, T_hat, 24)
        f = float(jnp.mean(hw.clz_accept(jnp.int32(dC), jnp.int32(T_hat), r)))
        sigma = math.sqrt(p * (1 - p) / N)
        assert abs(f - p) <= 5 * sigma + 1e-12, (ratio, f, p)


def test_clz_is_exp_rounded_down_to_a_power_of_two():
    """With T̂ = T/log2(e), 2^-(ΔC/T̂) = e^{-ΔC/T}; the clz probability 2^-(⌊ΔC/T̂⌋+1) lies in
    [½·e^{-ΔC/T}, e^{-ΔC/T}): below the exact Metropolis rate by at most a factor 2."""
    T = 3.0
    T_hat = T / math.log2(math.e)
    for dC in np.linspace(0, 40, 81):
        p = clz_closed_form(dC, T_hat, 24)
        e = math.exp(-dC / T)
        assert 0.5 * e * (1 - 1e-12) <= p < e


# ------------------------------------------------------------------------------- quantisation
def crafted_qubo():
    # W = 2Q: pair coefficients 3.0, 0.7 and 0.002; biases -1.0, 0.35, 0.0, 2.0
    Q = np.zeros((4, 4))
    for (i, j), w in {(0, 1): 3.0, (1, 2): 0.7, (2, 3): 0.002}.items():
        Q[i, j] = Q[j, i] = w / 2
    Q[np.diag_indices(4)] = [-1.0, 0.35, 0.0, 2.0]
    return ns.QUBO.from_matrix(Q)


def test_int8_quantisation_report_on_a_crafted_qubo():
    qubo = crafted_qubo()
    W = qubo.Q.scaled(2.0)
    qz = LOIHI2.quantize(W, qubo.q)
    scale = 127 / 3.0  # the largest |W| = 3 maps to 127
    assert qz.scale == pytest.approx(scale)
    # by hand: 0.7·scale = 29.63 → 30 (error 0.3/scale); 0.002·scale = 0.085 → 0 (collapses, error 0.002);
    # biases: 0.35·scale = 14.82 → 15, 2·scale = 84.67 → 85, -1·scale = -42.33 → -42
    w_err = max(abs(30 / scale - 0.7), 0.002)
    b_err = max(abs(15 / scale - 0.35), abs(85 / scale - 2.0), abs(42 / scale - 1.0))
    assert qz.max_weight_error == pytest.approx(w_err)
    assert qz.max_bias_error == pytest.approx(b_err)
    assert qz.max_error == pytest.approx(max(w_err, b_err))
    assert qz.collapsed.tolist() == [[2, 3]]
    assert qz.collapsed_bias.tolist() == []
    assert not qz.exact
    np.testing.assert_array_equal(qz.bias, [-42, 15, 0, 85])
    dense = qz.W.to_dense()
    assert dense[0, 1] == dense[1, 0] == 127 and dense[1, 2] == 30 and dense[2, 3] == 0
    rep = qz.report()
    assert rep["n_collapsed"] == 1 and rep["collapsed"] == [[2, 3]] and rep["max_abs_weight"] == 127
    assert "1 couplings and 0 biases collapsed" in str(qz) and "(2, 3)" in str(qz)


def test_collapsed_bias_and_integer_problems_stay_exact():
    # a bias far below the weight scale collapses and is listed
    W = ns.SymmetricMatrix.from_dense(np.array([[0, 100.0], [100.0, 0]]))
    qz = LOIHI2.quantize(W, np.array([0.1, -50.0]))
    assert qz.collapsed_bias.tolist() == [0]
    # integer coefficients get an integer scale: MIS (W = λ = 2, q = -1) is exact
    p = ns.mis.generate(30, 0.2, 0) if hasattr(ns, "mis") else None
    from neurosim import mis

    p = mis.generate(30, 0.2, 0)
    qubo = p.to_qubo()
    qz = LOIHI2.quantize(qubo.Q.scaled(2.0), qubo.q)
    assert qz.exact and qz.scale == 63.0 and qz.max_error == 0
    # narrower weights: 3 bits → weight_max 3, scale floor(3/2) = 1
    qz3 = LOIHI2.replace(weight_bits=3).quantize(qubo.Q.scaled(2.0), qubo.q)
    assert qz3.scale == 1.0 and qz3.exact


def test_auto_scale_keeps_biases_inside_the_state_word():
    # weights ±1 (→ 127·…) but a bias of 300: with 10-bit state (±511) the scale drops to ⌊511/300⌋ = 1
    W = ns.SymmetricMatrix.from_dense(np.array([[0, 1.0], [1.0, 0]]))
    qz = LOIHI2.replace(state_bits=10).quantize(W, np.array([300.0, -2.0]))
    assert qz.scale == 1.0 and qz.bias.tolist() == [300, -2] and qz.exact
    assert LOIHI2.quantize(W, np.array([300.0, -2.0])).scale == 127.0


def test_quantize_refuses_out_of_range_scale_and_bias():
    W = ns.SymmetricMatrix.from_dense(np.array([[0, 1.0], [1.0, 0]]))
    with pytest.raises(ValueError, match="int8 range"):
        LOIHI2.quantize(W, np.zeros(2), scale=200.0)
    with pytest.raises(ValueError, match="24-bit state range"):
        LOIHI2.quantize(W, np.array([2.0**24, 0.0]), scale=1.0)


def test_float_profile_does_not_quantise():
    qubo = crafted_qubo()
    qz = SPINNAKER2.quantize(qubo.Q.scaled(2.0), qubo.q)
    assert qz.exact and qz.scale == 1.0 and qz.weight_bits is None
    assert not SPINNAKER2.integer and LOIHI2.integer


# ------------------------------------------------------------------------------- state words
def test_saturate_clips_and_flags_per_replica():
    hw = LOIHI2.replace(state_bits=10)  # range -512..511
    v = jnp.asarray([[0, 511, -512], [600, 0, 0], [0, -513, 3]], jnp.int32)
    c, over = hw.saturate(v)
    np.testing.assert_array_equal(np.asarray(c), [[0, 511, -512], [511, 0, 0], [0, -512, 3]])
    np.testing.assert_array_equal(np.asarray(over), [False, True, True])


def test_random_bits_width_and_uniformity():
    for bits in (8, 24, 32):
        hw = LOIHI2.replace(rng_bits=bits)
        w = nsr.replica_keys(0, np.arange(16, dtype=np.uint32))[:, 0]
        r = np.asarray(hw.random_bits(w[:, None], nsr.counters(4096, 0)), dtype=np.float64)
        assert r.max() < 2.0**bits
        u = (r + 0.5) / 2.0**bits
        assert abs(u.mean() - 0.5) < 5 * math.sqrt(1 / 12 / u.size)


def test_temperature_register():
    hw = LOIHI2
    # T̂ = round(T·scale·ln 2), clipped to [1, 2^16 − 1]
    assert int(hw.temperature_int(10.0, 3.0)) == round(30 * math.log(2))
    assert int(hw.temperature_int(1e9, 1.0)) == 65535
    assert int(hw.temperature_int(1e-9, 1.0)) == 1
    assert int(LOIHI2.replace(temperature_bits=8).temperature_int(1e9, 1.0)) == 255


def test_profile_validation_and_registry():
    assert PROFILES["loihi2"] is LOIHI2 and PROFILES["spinnaker2"] is SPINNAKER2
    with pytest.raises(ValueError, match="weight_bits"):
        LOIHI2.replace(weight_bits=1)
    with pytest.raises(ValueError, match="state_bits"):
        LOIHI2.replace(weight_bits=8, state_bits=6)
    with pytest.raises(ValueError, match="unknown hardware profile field"):
        LOIHI2.replace(bogus=3)
    with pytest.raises(ValueError, match="metropolis"):
        LOIHI2.replace(metropolis="tanh")
    assert LOIHI2.replace(weight_bits=4).label() == "loihi2[w4,s24,r24]"
    assert LOIHI2.weight_max == 127 and LOIHI2.state_max == 2**23 - 1 and LOIHI2.state_min == -(2**23)
    assert isinstance(LOIHI2, HardwareProfile) and LOIHI2.sources


# ------------------------------------------------------------------------------- mapping
def ring(n):
    i = np.arange(n)
    return ns.SymmetricMatrix.from_edges(n, i, (i + 1) % n, np.ones(n))


def circulant4(n):
    i = np.arange(n)
    return ns.SymmetricMatrix.from_edges(n, np.concatenate([i, i]), np.concatenate([(i + 1) % n, (i + 2) % n]), np.ones(2 * n))


TOY = LOIHI2.replace(cores_per_chip=4, neurons_per_core=10, synapses_per_chip=4 * 25, neurons_per_chip=40)


def test_mapping_neuron_bound_by_hand():
    # ring of 20: 2 synapses per neuron, 10 neurons per core fit (20 ≤ 25 synapses) → 2 cores
    m = TOY.map(ring(20))
    assert m.cores == 2 and m.chips == 1
    assert m.neurons_per_core.tolist() == [10, 10] and m.synapses_per_core.tolist() == [20, 20]
    np.testing.assert_array_equal(m.core_of, np.repeat([0, 1], 10))
    # cross-core neighbours: 0–19, 9–10 → neurons 0, 9, 10, 19 each reach one other core
    assert np.flatnonzero(m.fanout_cores).tolist() == [0, 9, 10, 19] and m.fanout_cores.sum() == 4
    spikes = np.zeros((3, 20), np.int8)
    spikes[0, [0, 1, 2]] = 1
    spikes[1, [9, 10]] = 1
    assert m.traffic(spikes).tolist() == [1, 2, 0]
    assert m.expected_traffic(0.5) == 2.0


def test_mapping_synapse_bound_by_hand():
    # 4 synapses per neuron: 25 per core → 6 neurons per core (24 synapses)
    m = TOY.map(circulant4(22))
    assert m.neurons_per_core.tolist() == [6, 6, 6, 4] and m.synapses_per_core.tolist() == [24, 24, 24, 16]
    m12 = TOY.map(circulant4(12))
    assert m12.cores == 2
    # neighbours i±1, i±2; cores {0..5}, {6..11}: neurons 0,1,4,5,6,7,10,11 reach the other core
    assert np.flatnonzero(m12.fanout_cores).tolist() == [0, 1, 4, 5, 6, 7, 10, 11]
    rep = m12.report()
    assert rep["cores"] == 2 and rep["cross_core_packets_if_all_flip"] == 8 and rep["max_synapses_per_core"] == 24


def test_too_large_for_the_system_is_refused_with_the_numbers():
    # 25 neurons × 4 synapses → 5 cores of ≤ 6 → 2 chips of 4 cores, but chips=1
    with pytest.raises(ValueError) as e:
        TOY.map(circulant4(25))
    msg = str(e.value)
    assert "5 cores = 2 chips" in msg and "chips=1" in msg and "25 neurons" in msg and "100 synapses" in msg
    assert TOY.replace(chips=2).map(circulant4(25)).chips == 2
    # one neuron whose fan-in exceeds a core
    star = ns.SymmetricMatrix.from_edges(31, np.zeros(30, int), np.arange(1, 31), np.ones(30))
    with pytest.raises(ValueError, match="30 incoming synapses, more than one core holds \\(25\\)"):
        TOY.map(star)


def test_loihi2_one_chip_holds_8192_x_128_neurons():
    n = 128 * 8192
    empty = ns.SymmetricMatrix.from_edges(n, np.zeros(0, int), np.zeros(0, int), np.zeros(0))
    assert LOIHI2.map(empty).cores == 128
    big = ns.SymmetricMatrix.from_edges(n + 1, np.zeros(0, int), np.zeros(0, int), np.zeros(0))
    with pytest.raises(ValueError) as e:
        LOIHI2.map(big)
    assert "1048577 neurons" in str(e.value) and "129 cores = 2 chips" in str(e.value)
    assert LOIHI2.replace(chips=2).map(big).chips == 2


def test_model_refuses_a_problem_too_large_for_one_chip():
    from neurosim.models import SA

    p = ns.MaxCut(circulant4(25))
    with pytest.raises(ValueError, match="2 chips"):
        SA(p, hardware=TOY)


def test_spinnaker2_memory_bound_mapping_by_hand():
    # 96 KB per PE; 16 B per neuron + 8 B per synapse; 4 synapses per neuron → 48 B → 2048 per PE
    m = SPINNAKER2.map(circulant4(5000))
    assert m.neurons_per_core.tolist() == [2048, 2048, 904]
    assert m.memory_per_core.max() == 2048 * 48 <= 96 * 1024
    assert SPINNAKER2.cores_per_chip == 152
