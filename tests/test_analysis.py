"""Spike-train analysis (binning, PCA, distances, KDE) and the figure functions."""

import numpy as np
import pytest

from neurosim import analysis, plot


def test_bin_spikes_matches_direct_sums_with_overlap():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, size=(101, 7))
    counts, centres = analysis.bin_spikes(x, 10, 3)
    starts = np.arange(0, 101 - 10 + 1, 3)
    np.testing.assert_array_equal(counts, np.stack([x[a : a + 10].sum(0) for a in starts]))
    np.testing.assert_allclose(centres, starts + 4.5)
    t = np.arange(101) * 5.0 + 2
    _, c2 = analysis.bin_spikes(x, 10, 3, times=t)
    np.testing.assert_allclose(c2, np.array([t[a : a + 10].mean() for a in starts]))
    c3, _ = analysis.bin_spikes(x, 10)  # default hop: half a window
    assert c3.shape[0] == len(np.arange(0, 92, 5))


def test_bin_spikes_rejects_bad_input():
    with pytest.raises(ValueError, match="width"):
        analysis.bin_spikes(np.zeros((5, 2)), 0)
    with pytest.raises(ValueError, match="width"):
        analysis.bin_spikes(np.zeros((5, 2)), 6)
    with pytest.raises(ValueError, match="shape"):
        analysis.bin_spikes(np.zeros(5), 2)


def test_pca_recovers_synthetic_low_dimensional_structure():
    """Poisson spike trains of 60 neurons driven by 3 latent signals: the top 3 principal components
    span the loading subspace and carry most of the binned variance; a 4th carries little."""
    rng = np.random.default_rng(1)
    T, n, d = 6000, 60, 3
    t = np.arange(T)
    latent = np.stack([np.sin(2 * np.pi * t / 900), np.cos(2 * np.pi * t / 1400), np.sign(np.sin(2 * np.pi * t / 2300))], 1)
    L = rng.normal(size=(n, d))
    rate = np.clip(0.3 + 0.12 * latent @ L.T, 0, None)
    spikes = rng.poisson(rate)
    scores, centres, explained = analysis.pca_trajectory(spikes, 40, 10, k=4)
    _, comps, _ = analysis.pca(analysis.bin_spikes(spikes, 40, 10)[0], 3)
    # principal angles between span(comps) and span(L): all cosines close to 1
    Q, _ = np.linalg.qr(L)
    cos = np.linalg.svd(comps @ Q, compute_uv=False)
    assert cos.min() > 0.95, cos
    assert explained[:3].sum() > 0.7 and explained[2] > 10 * explained[3], explained
    # the latent signals are linearly recoverable from the 3-D trajectory
    lat_w = analysis.bin_spikes(latent, 40, 10)[0] / 40
    X = np.c_[scores[:, :3], np.ones(len(scores))]
    resid = lat_w - X @ np.linalg.lstsq(X, lat_w, rcond=None)[0]
    assert np.all(1 - resid.var(0) / lat_w.var(0) > 0.9)
    # control: unstructured spikes have no dominant 3-D subspace
    _, _, flat = analysis.pca_trajectory(rng.poisson(0.3, size=(T, n)), 40, 10, k=3)
    assert flat.sum() < 0.25


def test_pca_shapes_and_sign_convention():
    X = np.random.default_rng(2).normal(size=(50, 5))
    s, c, e = analysis.pca(X, 2)
    assert s.shape == (50, 2) and c.shape == (2, 5) and e.shape == (2,)
    np.testing.assert_allclose(c @ c.T, np.eye(2), atol=1e-12)
    assert np.all(c[np.arange(2), np.argmax(np.abs(c), 1)] > 0)
    with pytest.raises(ValueError, match="k="):
        analysis.pca(X, 6)


def test_hamming_with_and_without_global_flip():
    refs = np.array([[1, -1, 1, 1], [-1, 1, -1, -1]])
    states = np.array([[[1, -1, 1, 1], [1, 1, 1, 1]], [[-1, 1, -1, 1], [-1, -1, -1, -1]]])
    d = analysis.hamming(states, refs)
    np.testing.assert_array_equal(d, [[[0, 4], [1, 3]], [[3, 1], [3, 1]]])
    np.testing.assert_array_equal(analysis.hamming(states, refs[0], symmetric=True), [[0, 1], [1, 1]])


def test_events_to_spikes_and_active_neurons():
    site = np.array([0, 2, 2, 1, 0, 3])
    event = np.array([1, -1, 0, 1, -1, 1])
    on, off = analysis.events_to_spikes(site, event, 4)
    np.testing.assert_array_equal(on.sum(0), [1, 1, 0, 1])
    np.testing.assert_array_equal(off.sum(0), [1, 0, 1, 0])
    np.testing.assert_array_equal(analysis.active_neurons(on + off, 3, 3), [2, 3])
    with pytest.raises(ValueError, match="site"):
        analysis.events_to_spikes(site, event, 3)


def test_kde_is_a_density_centred_on_the_data():
    v = np.random.default_rng(3).normal(0.995, 0.002, size=400)
    g, d = analysis.kde(v)
    assert abs(np.trapezoid(d, g) - 1) < 1e-3
    assert abs(g[np.argmax(d)] - 0.995) < 0.001
    g1, d1 = analysis.kde([1.0, 1.0, 1.0])  # identical values still give a finite, normalised bump
    assert np.isfinite(d1).all() and abs(np.trapezoid(d1, g1) - 1) < 1e-2
    np.testing.assert_allclose(analysis.normalized([3000, 3050], 3050), [3000 / 3050, 1.0])


def test_figures_build_and_save(tmp_path):
    rng = np.random.default_rng(4)
    on = (rng.random((300, 12)) < 0.02).astype(np.int8)
    off = (rng.random((300, 12)) < 0.02).astype(np.int8)
    steps = np.arange(300)
    T = 2.0 / np.log1p(steps + 2.0)
    figs = [
        plot.raster(on, off, title="raster"),
        plot.convergence(steps, rng.integers(0, 50, (300, 3)).cumsum(0), best_known=7000),
        plot.threshold_trace(steps, T * np.log(2.5 * rng.random(300) + 1e-6), T),
        plot.active_histogram(rng.integers(0, 10, 500)),
        plot.pca_trajectory_3d(rng.normal(size=(40, 3)), explained=[0.5, 0.2, 0.1]),
        plot.solution_kde({"G1": rng.normal(0.995, 0.002, 20), "G15": rng.normal(0.993, 0.003, 20)}),
        plot.solution_kde({"G1": np.full(8, 1.0), "G11": 1 - rng.integers(0, 4, 8) / 564}, ridge=True, marks=(0.99, 1.0)),
        plot.distance_trace(steps, rng.integers(0, 12, (300, 2)), labels=["s*", "-s*"]),
    ]
    for k, f in enumerate(figs):
        path = tmp_path / f"f{k}.png"
        f.savefig(path, dpi=40)
        assert path.stat().st_size > 1000
