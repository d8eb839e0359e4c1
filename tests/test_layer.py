"""The chip layer (neurosim.hardware.chip_layer), the mapping geometry, measured activity and the
mapping in every result under a profile. References are independent: exact enumeration of the
random integers, brute-force loops over edges, exact Boltzmann distributions."""

import itertools
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns
from neurosim.hardware import FLOAT_REPORT, LOIHI2, SPINNAKER2, chip_layer, ln_q
from neurosim.hardware._activity import measure_activity
from neurosim.models import NEBM, SA, Gibbs

TINY = dict(neurons_per_core=3, cores_per_chip=4)  # several cores on a 10-node problem


def ring_graph(n=10, chords=((0, 5), (2, 7))):
    A = np.zeros((n, n))
    for i in range(n):
        A[i, (i + 1) % n] = A[(i + 1) % n, i] = 1.0
    for i, j in chords:
        A[i, j] = A[j, i] = 1.0
    return ns.MaxCut.from_graph(A, name="ring")


# ------------------------------------------------------------------------------- arithmetic
@pytest.mark.parametrize("frac", [8, 12])
def test_ln_q_error_over_every_24_bit_integer(frac):
    r = np.arange(1 << 24, dtype=np.uint32)
    got = np.asarray(ln_q(jnp.asarray(r), 24, frac)).astype(np.float64) / 2**frac
    ref = np.log((r + 0.5) / 2**24)
    assert np.abs(got - ref).max() <= 2.0e-4 + 0.5 * 2.0**-frac
    assert got.max() <= 0


def test_integer_heat_bath_fires_with_the_logistic_probability():
    """Every 24-bit random integer enumerated: P(fire | drive, T) within 0.002 of σ(drive/T)."""
    chip = chip_layer(LOIHI2, ns.SymmetricMatrix.from_dense(np.array([[0, 1.0], [1.0, 0]])), scale=1.0)
    b = jnp.asarray(np.arange(1 << 24, dtype=np.uint32) << 8)  # the hash words whose top 24 bits are r
    # one fused kernel per (drive, T) instead of op-by-op passes over 2^24 words (28 s → ~2 s)
    fire_rate = jax.jit(lambda d, T: jnp.mean(chip.heat_bath(d, T, b).astype(jnp.float32)))
    for T in (1.0, 7.5):
        for drive in (-20, -3, 0, 2, 11):
            p = float(fire_rate(jnp.int32(drive), jnp.float32(T)))
            assert abs(p - 1 / (1 + math.exp(-drive / T))) < 0.002, (T, drive, p)


def test_float_layer_is_the_identity():
    W = ns.SymmetricMatrix.from_dense(np.array([[0, 0.3], [0.3, 0]]))
    for hw in (None, SPINNAKER2):
        chip = chip_layer(hw, W, [0.1, -0.2])
        assert not chip.integer and chip.report() == FLOAT_REPORT and chip.weights(W) is W
        v = jnp.asarray([[1e9, -1e9]], jnp.float32)
        out, over = chip.saturate(v)
        assert np.array_equal(np.asarray(out), np.asarray(v)) and not bool(over.any())
    assert chip_layer(None, W).mapping is None and chip_layer(SPINNAKER2, W).mapping.cores == 1


# ------------------------------------------------------------------------------- mapping geometry
def test_mapping_geometry_by_hand():
    g = ring_graph()
    hw = LOIHI2.replace(**TINY)
    m = chip_layer(hw, g.to_ising().J).mapping
    # 10 neurons, 3 per core → cores 0..3 hold [0,1,2] [3,4,5] [6,7,8] [9]; mesh 2×2
    assert m.cores == 4 and m.mesh == (2, 2) and m.core_of.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3]
    assert m.core_xy.tolist() == [[0, 0], [1, 0], [0, 1], [1, 1]]
    edges = [(i, (i + 1) % 10) for i in range(10)] + [(0, 5), (2, 7)]
    for i in range(10):
        nbrs = [b for a, b in edges if a == i] + [a for a, b in edges if b == i]
        dst = {}
        for j in nbrs:
            dst[m.core_of[j]] = dst.get(m.core_of[j], 0) + 1
        lo, hi = m.syn_indptr[i], m.syn_indptr[i + 1]
        assert dict(zip(m.syn_dst_core[lo:hi].tolist(), m.syn_count[lo:hi].tolist())) == dst
        others = [c for c in dst if c != m.core_of[i]]
        assert m.fanout_cores[i] == len(others)
        assert m.hops_of[i] == sum(int(np.abs(m.core_xy[c] - m.core_xy[m.core_of[i]]).sum()) for c in others)


def test_activity_by_hand():
    g = ring_graph()
    m = chip_layer(LOIHI2.replace(**TINY), g.to_ising().J).mapping
    rng = np.random.default_rng(0)
    raster = rng.random((5, 3, 10)) < 0.3
    act = measure_activity(m, raster, np.arange(5) * 7, 40, "all")
    edges = [(i, (i + 1) % 10) for i in range(10)] + [(0, 5), (2, 7)]
    for s, r in itertools.product(range(5), range(3)):
        fired = np.flatnonzero(raster[s, r])
        syn = np.zeros(m.cores, int)
        packets = hops = 0
        for i in fired:
            nb = [b for a, b in edges if a == i] + [a for a, b in edges if b == i]
            for j in nb:
                syn[m.core_of[j]] += 1
            reached = {m.core_of[j] for j in nb} - {m.core_of[i]}
            packets += len(reached)
            hops += sum(int(np.abs(m.core_xy[c] - m.core_xy[m.core_of[i]]).sum()) for c in reached)
        assert act.syn_events[s, r].tolist() == syn.tolist()
        assert act.packets[s, r] == packets and act.hops[s, r] == hops
        assert act.spikes[s, r].tolist() == np.bincount(m.core_of[fired], minlength=m.cores).tolist()
        assert act.updates[s, r].tolist() == m.neurons_per_core.tolist()
    rep = act.report()
    assert rep["cross_core_packets_per_step"]["max"] == act.packets.max()


# ------------------------------------------------------------------------------- Gibbs chip paths
def boltzmann(ising, T):
    states = np.array(list(itertools.product([-1, 1], repeat=ising.n)), dtype=np.int8)
    e = ising.energy(states)
    p = np.exp(-(e - e.min()) / T)
    return states, p / p.sum()


@pytest.mark.parametrize("rule", ["gibbs", "metropolis"])
def test_gibbs_under_loihi2_samples_the_boltzmann_distribution(rule):
    """Integer couplings stay exact under int8; the heat bath's logistic threshold is within 0.002
    of σ, so random-scan Gibbs on the chip samples Boltzmann (TV distance of 4096 replicas after
    400 steps; the clz Metropolis rule does NOT: its staircase acceptance biases it, so it is only
    checked to be close, with a looser bound)."""
    J = np.array([[0, 1, -2, 0, 1], [1, 0, 1, 0, 0], [-2, 1, 0, 1, 0], [0, 0, 1, 0, -1], [1, 0, 0, -1, 0]], float)
    ising = ns.Ising.from_dense(J, np.array([0.0, 1.0, 0.0, -1.0, 0.0]))
    T = 2.0
    model = Gibbs(ising, rule=rule, temperature=T, hardware=LOIHI2, sites="independent")
    assert model.chip.integer and model.quantization.exact
    res = ns.run(model, ising, steps=400, replicas=4096, seed=1)
    states, p = boltzmann(ising, T)
    idx = {tuple(s): k for k, s in enumerate(states.tolist())}
    counts = np.bincount([idx[tuple(s)] for s in res.final_state.tolist()], minlength=len(p))
    tv = 0.5 * np.abs(counts / counts.sum() - p).sum()
    assert tv < (0.05 if rule == "gibbs" else 0.2), tv
    again = ns.run(Gibbs(ising, rule=rule, temperature=T, hardware=LOIHI2, sites="independent"), ising, steps=400, replicas=4096, seed=1)
    assert np.array_equal(again.final_state, res.final_state)  # integer path: bit-identical


def test_gibbs_under_spinnaker2_is_the_float32_reference():
    g = ring_graph()
    for mode in ("sequential", "synchronous"):
        a = ns.run(Gibbs(g, mode=mode, temperature=0.7), g, steps=300, replicas=4, seed=3)
        b = ns.run(Gibbs(g, mode=mode, temperature=0.7, hardware=SPINNAKER2), g, steps=300, replicas=4, seed=3)
        assert np.array_equal(a.final_state, b.final_state) and np.array_equal(a.best_energy, b.best_energy)
        assert a.mapping is None and b.mapping["quantization"] == FLOAT_REPORT


# ------------------------------------------------------------------------------- refusal and results
@pytest.mark.parametrize("cls", [Gibbs, SA, NEBM])
def test_a_problem_that_does_not_fit_is_refused_before_the_run(cls):
    small = LOIHI2.replace(neurons_per_core=2, cores_per_chip=2)  # 4 neurons per chip, 10 needed
    with pytest.raises(ValueError, match=r"needs 5 cores = 3 chips .* chips=1"):
        cls(ring_graph(), hardware=small)


def test_result_mapping_traffic_matches_the_runs_own_spikes():
    """SA under a small-core Loihi 2: the sampler's measured packets equal those computed by hand from
    the spikes the run records itself (64 steps: all are sampled)."""
    g = ring_graph()
    hw = LOIHI2.replace(**TINY)
    model = SA(g, hardware=hw, steps=64)
    res = ns.run(model, g, steps=64, replicas=4, seed=5, save=ns.SaveAt(every=1, what=("spikes",)))
    spikes = res.records["spikes"]  # (64, 4, n) flips of each step
    m = model.chip.mapping
    packets = spikes.astype(np.int64) @ m.fanout_cores
    meas = res.mapping["measured"]
    assert meas["sampled_steps"] == 64 and meas["sampled_replicas"] == 4
    assert meas["cross_core_packets_per_step"]["mean"] == pytest.approx(packets.mean())
    assert meas["cross_core_packets_per_step"]["max"] == packets.max()
    assert res.mapping["cores"] == 4 and res.mapping["quantization"]["weight_bits"] == 8
    assert res.mapping["max_neurons_per_core"] == 3 and res.mapping["mean_neurons_per_core"] == 2.5
    out = res.to_json()
    assert out["mapping"]["measured"]["spikes_per_step"]["mean"] == pytest.approx(spikes.sum(-1).mean())
    json.dumps(out)
    # hardware=None: no mapping at all, and the same states as ever
    plain = ns.run(SA(g, steps=64), g, steps=64, replicas=4, seed=5)
    assert plain.mapping is None and "mapping" not in plain.to_json()


# ------------------------------------------------------------------------------- the example model
def _pbit_module():
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / "pbit_chip.py"
    spec = importlib.util.spec_from_file_location("pbit_chip", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("hw", [None, LOIHI2, SPINNAKER2], ids=["none", "loihi2", "spinnaker2"])
def test_pbit_example_samples_boltzmann_and_finds_the_optimum(hw):
    PBit = _pbit_module().PBit
    J = np.array([[0, 1, -2, 0, 1], [1, 0, 1, 0, 0], [-2, 1, 0, 1, 0], [0, 0, 1, 0, -1], [1, 0, 0, -1, 0]], float)
    ising = ns.Ising.from_dense(J, np.array([0.0, 1.0, 0.0, -1.0, 0.0]))
    T = 2.0
    res = ns.run(PBit(ising, schedule=ns.schedules.Constant(T), hardware=hw), ising, steps=300, replicas=4096, seed=2)
    states, p = boltzmann(ising, T)
    idx = {tuple(s): k for k, s in enumerate(states.tolist())}
    counts = np.bincount([idx[tuple(s)] for s in res.final_state.tolist()], minlength=len(p))
    assert 0.5 * np.abs(counts / counts.sum() - p).sum() < 0.05
    # annealed, it finds the maximum cut of a 12-node graph
    rng = np.random.default_rng(0)
    A = np.triu(rng.random((12, 12)) < 0.4, 1).astype(float)
    g = ns.MaxCut.from_graph(A + A.T)
    best = -ns.brute_force(g)[0]
    sched = ns.schedules.Geometric.anneal(3.0, 0.05, 3000)
    res = ns.run(PBit(g, schedule=sched, hardware=hw), g, steps=3000, replicas=8, seed=0)
    assert res.report["cut"].max() == best
    assert (res.mapping is None) == (hw is None)


# ------------------------------------------------------------------------------- SpiNNaker2 capacity
def test_spinnaker2_capacity_profiles():
    from neurosim.hardware import SPINNAKER2_DRAM, spinnaker2

    assert spinnaker2() == SPINNAKER2
    assert (SPINNAKER2.neurons_per_chip, SPINNAKER2.synapses_per_chip) == (152 * 6144, 152 * 12288)
    paper = spinnaker2(synapses="dram", neurons_per_pe=1000, synapses_per_pe=10**6)
    assert (paper.neurons_per_chip, paper.synapses_per_chip) == (152_000, 152_000_000)
    assert SPINNAKER2_DRAM.synapses_per_chip == 152 * ((2 << 30) // 8 // 152)
    # a dense 400-node graph: in SRAM each PE holds ⌊96 KB / (16 + 8·399) B⌋ = 30 neurons → 14 PEs;
    # with synapses in DRAM all 400 neurons fit one PE's SRAM (400·16 B)
    W = ns.SymmetricMatrix.from_dense(np.ones((400, 400)) - np.eye(400))
    m_sram, m_dram = SPINNAKER2.map(W), SPINNAKER2_DRAM.map(W)
    assert m_sram.neurons_per_core.max() == (96 * 1024) // (16 + 8 * 399) and m_sram.cores == -(-400 // 30)
    assert m_dram.cores == 1


# ------------------------------------------------------------------------------- CLI: every model × profile
@pytest.mark.parametrize("hw", ["loihi2", "spinnaker2"])
@pytest.mark.parametrize("model", ["gibbs", "sa", "nebm", "neurosa"])
def test_cli_solve_json_carries_hardware_mapping_and_quantisation(tmp_path, capsys, model, hw):
    from neurosim._cli import main

    g = ring_graph(12, chords=((0, 6), (3, 9)))
    path = tmp_path / "ring.txt"
    ns.write_gset(path, g)
    rc = main(["solve", str(path), "--model", model, "--hardware", hw, "--steps", "300", "--replicas", "2", "--json", "--no-progress"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["hardware"] == hw and out["mapping"]["cores"] >= 1
    meas = out["mapping"]["measured"]
    assert meas["sampled_steps"] > 0 and meas["cross_core_packets_per_step"]["max"] >= 0
    q = out["mapping"]["quantization"]
    assert (q == FLOAT_REPORT) if hw == "spinnaker2" else (q["weight_bits"] == 8)


def test_models_table_has_every_cell_supported():
    from neurosim.hardware._support import support_table

    models, profiles, cells = support_table()
    assert {"gibbs", "sa", "nebm", "neurosa"} <= set(models) and {"none", "loihi2", "spinnaker2"} <= set(profiles)
    assert all(v == "yes" for v in cells.values()), {k: v for k, v in cells.items() if v != "yes"}


def test_chip_cost_and_record_chip_time_under_a_profile():
    g = ring_graph()
    res = ns.run(SA(g, hardware=LOIHI2, steps=96), g, steps=96, replicas=2, seed=1, save=ns.SaveAt(every=8, what=("energy",)))
    t = res.records["chip_time_s"]
    assert res.chip is not None and res.chip["time_s"] > 0 and len(t) == len(res.record_steps) == 12
    assert np.all(np.diff(t) > 0) and t[-1] == pytest.approx(res.chip["time_s"])
    assert "chip" in res.to_json()


def test_integer_gibbs_is_bit_identical_across_chunking():
    g = ring_graph()
    for mode in ("sequential", "synchronous"):
        a = ns.run(Gibbs(g, mode=mode, temperature=0.8, hardware=LOIHI2), g, steps=250, replicas=3, seed=4)
        b = ns.run(Gibbs(g, mode=mode, temperature=0.8, hardware=LOIHI2), g, steps=250, replicas=3, seed=4, chunk=7)
        assert np.array_equal(a.final_state, b.final_state) and np.array_equal(a.best_state, b.best_state)
