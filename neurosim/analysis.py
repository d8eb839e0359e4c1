"""Spike-train and solution analysis on recorded runs (pure NumPy, any model's records).

The paper's analyses (Chen et al., Nat. Commun. 16, 3086 (2025), Figs 1–3) on arrays:

* :func:`bin_spikes` — counts in a sliding window with overlap (window ``width``, hop ``hop``);
* :func:`pca` / :func:`pca_trajectory` — principal components by SVD of the binned, centred counts:
  the low-dimensional trajectory of the network (Figs 1i, 2d);
* :func:`hamming` — distance of states to reference states (e.g. the two ground states ``s`` and
  ``-s`` of a Max-Cut problem), optionally up to the global spin flip;
* :func:`active_neurons` — number of distinct neurons that fired in each window;
* :func:`events_to_spikes` — dense ON/OFF spike arrays from compact per-step event records
  (``site`` and ``event`` of a one-flip-per-step model);
* :func:`kde` / :func:`normalized` — kernel density of solution quality normalised to the best known
  (Fig. 3 style).

Conventions: time is the leading axis; spike arrays are ``(T, n)`` (one replica) with counts ≥ 0.
"""

from __future__ import annotations

import numpy as np


def _check_int(name, value, minimum=1):
    if not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer ≥ {minimum}, got {value!r}")
    return int(value)


def bin_spikes(spikes, width: int, hop: int | None = None, *, times=None):
    """Spike counts in sliding windows.

    Args:
        spikes: ``(T, n)`` spike counts per time bin (0/1 events, or counts already summed over a
            recording stride).
        width: window length in bins.
        hop: distance between consecutive windows (default ``width // 2``: 50 % overlap).
        times: optional ``(T,)`` time of each bin (e.g. ``RunResult.record_steps``).

    Returns:
        ``(counts, centres)``: ``counts`` ``(W, n)`` with ``counts[w] = spikes[w·hop : w·hop + width].sum(0)``
        and ``centres`` ``(W,)`` the mean time (or bin index) of each window.
    """
    x = np.asarray(spikes)
    if x.ndim != 2:
        raise ValueError(f"spikes must have shape (T, n), got {x.shape}")
    width = _check_int("width", width)
    hop = max(1, width // 2) if hop is None else _check_int("hop", hop)
    T = x.shape[0]
    if width > T:
        raise ValueError(f"width={width} is longer than the spike train (T={T})")
    starts = np.arange(0, T - width + 1, hop)
    csum = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0, dtype=np.float64)])
    counts = csum[starts + width] - csum[starts]
    t = np.arange(T, dtype=np.float64) if times is None else np.asarray(times, dtype=np.float64)
    if t.shape != (T,):
        raise ValueError(f"times must have shape ({T},), got {t.shape}")
    tc = np.concatenate([[0.0], np.cumsum(t)])
    centres = (tc[starts + width] - tc[starts]) / width
    return counts, centres


def pca(X, k: int = 3, *, center: bool = True):
    """Principal components of the rows of ``X`` ``(N, d)`` by SVD.

    Returns ``(scores, components, explained)``: ``scores`` ``(N, k)`` the projections, ``components``
    ``(k, d)`` orthonormal directions, ``explained`` ``(k,)`` fraction of the total variance of each.
    Signs are fixed so that the largest-magnitude entry of each component is positive."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (samples, features), got shape {X.shape}")
    k = _check_int("k", k)
    if k > min(X.shape):
        raise ValueError(f"k={k} exceeds min(samples, features) = {min(X.shape)}")
    Xc = X - X.mean(axis=0) if center else X
    U, S, Vt = np.linalg.svd(Xc, full_matrices=False)
    comps = Vt[:k]
    sign = np.sign(comps[np.arange(k), np.argmax(np.abs(comps), axis=1)])
    sign[sign == 0] = 1.0
    comps = comps * sign[:, None]
    scores = Xc @ comps.T
    total = float(np.sum(S**2))
    explained = (S[:k] ** 2) / total if total > 0 else np.zeros(k)
    return scores, comps, explained


def pca_trajectory(spikes, width: int, hop: int | None = None, *, k: int = 3, times=None):
    """The paper's PCA trajectory: spikes binned in overlapping windows, then PCA.

    Returns ``(scores (W, k), centres (W,), explained (k,))``."""
    counts, centres = bin_spikes(spikes, width, hop, times=times)
    scores, _, explained = pca(counts, k)
    return scores, centres, explained


def hamming(states, refs, *, symmetric: bool = False):
    """Hamming distances between states ``(..., n)`` and references ``(m, n)`` (or ``(n,)``).

    ``symmetric=True`` counts a state and its global flip as the same (Ising ``s ~ -s``):
    ``min(d, n - d)``. Returns ``(..., m)`` (or ``(...)`` for a single reference)."""
    s = np.asarray(states)
    r = np.asarray(refs)
    single = r.ndim == 1
    r = np.atleast_2d(r)
    if s.shape[-1] != r.shape[-1]:
        raise ValueError(f"states have {s.shape[-1]} variables, references {r.shape[-1]}")
    d = np.sum(s[..., None, :] != r, axis=-1)
    if symmetric:
        d = np.minimum(d, s.shape[-1] - d)
    return d[..., 0] if single else d


def active_neurons(spikes, width: int, hop: int | None = None):
    """Number of distinct neurons with at least one spike in each window. Returns ``(W,)``."""
    counts, _ = bin_spikes(spikes, width, hop)
    return np.sum(counts > 0, axis=1)


def events_to_spikes(site, event, n: int):
    """Dense ``(T, n)`` ON and OFF spike arrays (int8) from per-step ``site`` (tested/flipped neuron) and
    ``event`` (+1 ON spike, -1 OFF spike, 0 none) records of one replica, each ``(T,)``."""
    site = np.asarray(site).astype(np.int64)
    event = np.asarray(event)
    if site.shape != event.shape or site.ndim != 1:
        raise ValueError(f"site and event must be 1-D of the same length, got {site.shape} and {event.shape}")
    if site.size and (site.min() < 0 or site.max() >= n):
        raise ValueError(f"site values must lie in [0, {n})")
    on = np.zeros((site.size, n), np.int8)
    off = np.zeros((site.size, n), np.int8)
    t = np.arange(site.size)
    on[t[event > 0], site[event > 0]] = 1
    off[t[event < 0], site[event < 0]] = 1
    return on, off


def normalized(values, best_known):
    """Solution quality normalised to the best known: ``values / best_known`` (cuts; for energies
    pass both as positive magnitudes)."""
    bk = float(best_known)
    if bk == 0:
        raise ValueError("best_known must be non-zero")
    return np.asarray(values, dtype=np.float64) / bk


def kde(values, grid=None, *, bandwidth: float | None = None, points: int = 256):
    """Gaussian kernel density estimate of 1-D ``values``.

    ``bandwidth`` defaults to Scott's rule ``σ·N^(-1/5)`` (with a floor for identical values).
    Returns ``(grid, density)``; the density integrates to 1 over the real line."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise ValueError("kde needs at least one finite value")
    if bandwidth is None:
        sd = float(np.std(v, ddof=1)) if v.size > 1 else 0.0
        scale = sd if sd > 0 else max(1e-3, 1e-3 * abs(float(v.mean())))
        bandwidth = scale * v.size ** (-0.2)
    if not bandwidth > 0:
        raise ValueError(f"bandwidth must be > 0, got {bandwidth!r}")
    if grid is None:
        grid = np.linspace(v.min() - 4 * bandwidth, v.max() + 4 * bandwidth, points)
    grid = np.asarray(grid, dtype=np.float64)
    z = (grid[:, None] - v[None, :]) / bandwidth
    dens = np.exp(-0.5 * z**2).sum(axis=1) / (v.size * bandwidth * np.sqrt(2 * np.pi))
    return grid, dens
