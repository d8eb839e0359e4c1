"""Synapse formats (dense, ELL, segment, bit planes) against a float64 numpy matrix product."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns
from neurosim._bitsynapses import BitSynapses, bit_cost_ok, integer_unit, pack_bits, unpack_bits
from neurosim._synapses import synapses

FORMATS = ("dense", "ell", "segment", "bits")


def _matrix(n, values, density=0.2, seed=0):
    rng = np.random.default_rng(seed)
    A = np.triu(rng.random((n, n)) < density, 1) * rng.choice(values, size=(n, n))
    A = A + A.T
    return A, ns.SymmetricMatrix.from_dense(A, keep_dense=False)


@pytest.mark.parametrize("values", [[1.0], [-0.5], [1.0, -1.0], [2.0, -1.0, 3.0], [0.25, -0.75]])
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_operation_matches_numpy(fmt, values):
    n, R = 70, 5
    A, M = _matrix(n, values)
    syn = synapses(M, format=fmt, dtype=jnp.float32)
    rng = np.random.default_rng(1)
    s = rng.choice([-1, 1], size=(R, n)).astype(np.int8)
    x = rng.choice([0, 1], size=(R, n)).astype(np.int8)
    np.testing.assert_allclose(np.asarray(syn.field(jnp.asarray(s, jnp.float32))), s @ A, atol=1e-5)
    np.testing.assert_allclose(np.asarray(syn.field(jnp.asarray(x, jnp.float32))), x @ A, atol=1e-5)
    i = rng.integers(0, n, R).astype(np.int32)
    lf = syn.local_field(jnp.asarray(s, jnp.float32), jnp.asarray(i))
    np.testing.assert_allclose(np.asarray(lf), (s @ A)[np.arange(R), i], atol=1e-5)
    idx = rng.integers(0, n, (R, 3)).astype(np.int32)
    dx = rng.normal(size=(R, 3)).astype(np.float32)
    f0 = rng.normal(size=(R, n)).astype(np.float32)
    expected = f0 + np.einsum("rk,nrk->rn", dx, A[:, idx])
    out = syn.add_columns(jnp.asarray(f0), jnp.asarray(idx), jnp.asarray(dx))
    np.testing.assert_allclose(np.asarray(out), expected, atol=1e-5)


def test_bit_planes_spin_and_bit_fields_are_exact_integers():
    A, M = _matrix(200, [1.0, -2.0, 3.0], density=0.3, seed=3)
    syn = BitSynapses(M, dtype=jnp.int32)
    rng = np.random.default_rng(2)
    s = rng.choice([-1, 1], size=(4, 200)).astype(np.int8)
    out = syn.field_spins(jnp.asarray(s))
    assert out.dtype == jnp.int32
    np.testing.assert_array_equal(np.asarray(out), (s.astype(np.int64) @ A.astype(np.int64)))
    x = (s > 0).astype(np.int8)
    np.testing.assert_array_equal(np.asarray(syn.field_bits(jnp.asarray(x))), x.astype(np.int64) @ A.astype(np.int64))
    # the same under jit and vmap over a leading axis
    f = jax.jit(lambda syn, s: syn.field_spins(s))(syn, jnp.asarray(s))
    np.testing.assert_array_equal(np.asarray(f), np.asarray(out))
    fv = jax.vmap(lambda row: syn.field_spins(row))(jnp.asarray(s)[:, None, :])[:, 0]
    np.testing.assert_array_equal(np.asarray(fv), np.asarray(out))


def test_pack_bits_layout():
    x = np.zeros((2, 40), np.int8)
    x[0, [0, 5, 31, 32, 39]] = 1
    words = np.asarray(pack_bits(jnp.asarray(x), 2))
    assert words.dtype == np.uint32
    # strided layout: neuron j is bit j // 2 of word j % 2
    assert words[0, 0] == (1 | 1 << 16) and words[0, 1] == (1 << 2 | 1 << 15 | 1 << 19)
    assert words[1].tolist() == [0, 0]
    np.testing.assert_array_equal(np.asarray(unpack_bits(jnp.asarray(words), 40)), x)


def test_integer_unit_and_eligibility():
    assert integer_unit(_matrix(30, [1.0, -1.0])[1]) == 1.0
    assert integer_unit(_matrix(30, [2.0, 3.0])[1]) == 1.0  # 2 and 3 share unit 1
    assert integer_unit(_matrix(30, [0.1, 0.137])[1]) is None  # not commensurate
    assert integer_unit(_matrix(30, [1.0, 40.0])[1]) is None  # needs too many planes
    with pytest.raises(ValueError, match="small integer multiples"):
        BitSynapses(_matrix(30, [0.1, 0.137])[1])
    # sparse giant graphs are not worth it: a ring on 10 000 neurons (degree 2, 313 words per row)
    n = 10_000
    ring = ns.SymmetricMatrix.from_edges(n, np.arange(n), (np.arange(n) + 1) % n, np.ones(n))
    assert not bit_cost_ok(ring)
    assert bit_cost_ok(_matrix(800, [1.0], density=0.06)[1])


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown synapse format 'csc'"):
        synapses(_matrix(10, [1.0])[1], format="csc")


def test_gibbs_synchronous_same_trajectory_with_bit_planes_and_dense():
    """The popcount full recompute and the event-driven dense update are the same dynamics: with
    integer couplings the fields are exact in both, so the spin trajectories are identical."""
    from neurosim.models import Gibbs

    A, M = _matrix(90, [1.0, -1.0], density=0.15, seed=4)
    problem = ns.Ising(M, np.zeros(90), 0.0)
    sched = ns.schedules.Geometric.anneal(3.0, 0.1, 60)
    runs = {}
    for fmt in ("bits", "dense"):
        model = Gibbs(problem, mode="synchronous", schedule=sched, synapse_format=fmt)
        assert isinstance(model.syn, BitSynapses) == (fmt == "bits")
        runs[fmt] = ns.run(model, problem, steps=60, replicas=6, seed=3, save=ns.SaveAt(every=1, what=("state", "energy")))
    np.testing.assert_array_equal(runs["bits"].records["state"], runs["dense"].records["state"])
    np.testing.assert_allclose(runs["bits"].records["energy"], runs["dense"].records["energy"], atol=1e-4)
    assert not np.all(runs["bits"].records["state"][0] == runs["bits"].records["state"][-1])  # it moved


def test_gibbs_picks_bit_planes_for_integer_couplings_only():
    from neurosim.models import Gibbs

    _, M = _matrix(90, [1.0], density=0.15)
    assert isinstance(Gibbs(ns.MaxCut(M), mode="synchronous").syn, BitSynapses)
    assert not isinstance(Gibbs(ns.MaxCut(M), mode="sequential").syn, BitSynapses)
    _, G = _matrix(90, [0.3, -1.7], density=0.15)
    assert not isinstance(Gibbs(ns.Ising(G, np.zeros(90), 0.0), mode="synchronous").syn, BitSynapses)


@pytest.mark.parametrize("fmt", ["ell", "segment"])
def test_full_field_in_replica_blocks_is_identical(fmt, monkeypatch):
    """Big batches are evaluated a block of replicas at a time (bounded temporaries); every replica's
    field must be bit-for-bit the one of an unblocked evaluation, whatever the block size."""
    import neurosim._synapses as nsyn

    A, M = _matrix(90, [0.3, -1.7, 2.5], density=0.4, seed=5)
    syn = synapses(M, format=fmt, dtype=jnp.float32)
    x = jnp.asarray(np.random.default_rng(4).normal(size=(2, 7, 90)).astype(np.float32))
    whole = np.asarray(jax.jit(lambda s, x: s.field(x))(syn, x))
    work = int(syn.idx.size) if fmt == "ell" else int(syn.cols.size)
    for per_block in (1, 3, 5):  # 14 replicas: uneven blocks and padding
        monkeypatch.setattr(nsyn, "MAX_TEMP_ELEMENTS", per_block * work)
        np.testing.assert_array_equal(np.asarray(jax.jit(lambda s, x: s.field(x))(syn, x)), whole)
    np.testing.assert_allclose(whole, np.asarray(x) @ A, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("n", [40, 800, 1100])  # 2 words (one tree), 25 (one tree), 35 (chunks of 16 + rest)
def test_carry_save_popcount_equals_direct_popcount(n):
    """The AVX2 path (carry-save compression, neurosim/_csapop.py) gives the direct popcount's integers,
    with positive and negative planes of several bit weights."""
    A, M = _matrix(n, [1.0, -2.0, 3.0, -5.0], density=0.3, seed=n)
    syn = BitSynapses(M, dtype=jnp.int32)
    rng = np.random.default_rng(n)
    X = jnp.asarray(rng.integers(0, 2**32, size=(3, syn.words), dtype=np.uint32))
    direct = np.asarray(jax.jit(lambda X: syn._counts_direct(X))(X))
    csa = np.asarray(jax.jit(lambda X: syn._counts_csa(X))(X))
    np.testing.assert_array_equal(csa, direct)
    s = rng.choice([-1, 1], size=(3, n)).astype(np.int8)
    np.testing.assert_array_equal(np.asarray(syn.field_spins(jnp.asarray(s))), s.astype(np.int64) @ A.astype(np.int64))


def test_popcount_path_follows_the_backend_and_instruction_set(monkeypatch):
    from neurosim import _csapop, _cpuinfo

    monkeypatch.delenv("NEUROSIM_POPCOUNT", raising=False)
    monkeypatch.setattr(_cpuinfo, "cpu_features", lambda: {"AVX2": True, "AVX-512F": True, "AVX512-VPOPCNTDQ": True, "NEON": False})
    monkeypatch.setenv("XLA_FLAGS", "")
    assert not _csapop.use_csa()  # one-instruction vector popcount: direct
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_max_isa=AVX2")
    assert _csapop.use_csa()  # capped to AVX2: carry-save
    monkeypatch.setattr(_cpuinfo, "cpu_features", lambda: {"AVX2": True, "AVX-512F": False, "AVX512-VPOPCNTDQ": False, "NEON": False})
    monkeypatch.setenv("XLA_FLAGS", "")
    assert _csapop.use_csa()
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    assert not _csapop.use_csa()  # GPUs take the generic path
    monkeypatch.setenv("NEUROSIM_POPCOUNT", "csa")
    assert _csapop.use_csa()
