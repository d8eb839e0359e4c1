"""The counter-based generator: uniformity, independence across neurons/steps/replicas, determinism."""

import jax.numpy as jnp
import numpy as np

from neurosim import random as nsr


def _u(keys, step, n=4096, stream=0):
    w = nsr.step_words(keys, step)
    return np.asarray(nsr.uniform(w[:, None], nsr.counters(n, stream)))


def test_uniform_chi_square_and_moments():
    keys = nsr.replica_keys(1, np.arange(64))
    u = np.concatenate([_u(keys, t).ravel() for t in range(4)])  # 1M numbers
    counts = np.histogram(u, bins=256, range=(0, 1))[0]
    expected = u.size / 256
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 255 + 5 * np.sqrt(2 * 255)  # 5 sigma
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / u.size)
    assert u.min() > 0 and u.max() < 1


def test_no_correlation_between_neighbours_steps_replicas_streams():
    keys = nsr.replica_keys(2, np.arange(256))
    a = _u(keys, 10) - 0.5
    b = _u(keys, 11) - 0.5
    c = _u(keys, 10, stream=1) - 0.5
    tol = 5 / np.sqrt(a.size) / 12 * 1.0
    for x, y in [(a[:, :-1], a[:, 1:]), (a, b), (a[:-1], a[1:]), (a, c)]:
        corr = (x * y).mean() / (1 / 12)
        assert abs(corr) < 5 / np.sqrt(x.size), corr
    del tol


def test_replica_numbers_depend_only_on_its_id():
    k_all = nsr.replica_keys(9, np.arange(10))
    k_sub = nsr.replica_keys(9, np.array([3, 7]))
    np.testing.assert_array_equal(_u(k_all, 5)[[3, 7]], _u(k_sub, 5))


def test_randint_range_and_uniformity():
    keys = nsr.replica_keys(0, np.arange(1000))
    for n in (1, 7, 800, 70000):
        b = nsr.bits(nsr.step_words(keys, 1)[:, None], nsr.counters(200))
        r = np.asarray(nsr.randint(b, n))
        assert r.min() >= 0 and r.max() < n
        if n == 7:
            counts = np.bincount(r.ravel(), minlength=7)
            assert np.all(np.abs(counts / r.size - 1 / 7) < 0.005)


def test_normal_moments():
    keys = nsr.replica_keys(0, np.arange(128))
    w = nsr.step_words(keys, 3)[:, None]
    z = np.asarray(nsr.to_normal(nsr.bits(w, nsr.counters(2048, 0)), nsr.bits(w, nsr.counters(2048, 1))))
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    assert abs((z**3).mean()) < 0.03 and abs((z**4).mean() - 3) < 0.06
    assert z.dtype == jnp.float32
