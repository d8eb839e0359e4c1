"""Matplotlib figures of recorded runs (any model). Each function returns a ``Figure``; saving it is
the caller's job (``fig.savefig(path)``).

Figures are built with :class:`matplotlib.figure.Figure` directly (no pyplot state), so they work
headless and never pop up windows.

| function | shows |
|---|---|
| :func:`raster` | ON and OFF spikes of one replica in two colours |
| :func:`convergence` | cut / energy over time with the best-known value marked |
| :func:`threshold_trace` | sampled noisy thresholds with their envelope ``T·ln(B·q + ε)`` |
| :func:`active_histogram` | histogram of the number of active neurons over time |
| :func:`pca_trajectory_3d` | 3-D PCA trajectory coloured by time |
| :func:`solution_kde` | kernel densities of normalised solution quality (per graph / setting) |
| :func:`distance_trace` | Hamming distance to reference states over time |
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from . import analysis

ON_COLOR = "tab:red"
OFF_COLOR = "tab:blue"


def _fig(figsize=(6.4, 4.0), **kw):
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot(**kw)


def raster(on, off=None, *, times=None, title: str | None = None, max_neurons: int | None = None, markersize: float = 2.0):
    """Spike raster of one replica: ``on`` and ``off`` are ``(T, n)`` arrays (nonzero = spike).

    ``off=None`` draws ``on`` as generic spikes (one colour). ``times`` ``(T,)`` labels the x axis
    (default: step index). ``max_neurons`` keeps the first neurons only (readability)."""
    on = np.asarray(on)
    if on.ndim != 2:
        raise ValueError(f"on must be (T, n), got shape {on.shape}")
    t = np.arange(on.shape[0]) if times is None else np.asarray(times)
    fig, ax = _fig((7.0, 3.6))
    sl = slice(None) if max_neurons is None else slice(0, max_neurons)
    for arr, color, label in ((on, ON_COLOR, "ON" if off is not None else "spike"), (off, OFF_COLOR, "OFF")):
        if arr is None:
            continue
        ti, ni = np.nonzero(np.asarray(arr)[:, sl])
        ax.scatter(t[ti], ni, s=markersize**2, marker="|" if on.shape[1] <= 64 else ".", color=color, label=label, linewidths=1.0)
    ax.set_xlabel("iteration")
    ax.set_ylabel("neuron (pair) index")
    ax.legend(loc="upper right", fontsize="small", markerscale=3)
    if title:
        ax.set_title(title)
    return fig


def convergence(steps, values, *, best_known: float | None = None, running_best: bool = True, ylabel: str = "cut",
                title: str | None = None, labels=None, logx: bool = False):
    """Cut (or energy) over time. ``values``: ``(K,)`` or ``(K, R)`` (one line per replica).

    ``running_best`` adds the running maximum (cut; pass ``ylabel`` containing "energy" for a running
    minimum). ``best_known`` draws a dashed horizontal line."""
    steps = np.asarray(steps)
    v = np.asarray(values, dtype=np.float64)
    v = v[:, None] if v.ndim == 1 else v
    if v.shape[0] != steps.shape[0]:
        raise ValueError(f"values have {v.shape[0]} records but steps has {steps.shape[0]}")
    fig, ax = _fig()
    minimise = "energy" in ylabel.lower()
    for r in range(v.shape[1]):
        lab = None if labels is None else labels[r]
        line = ax.plot(steps, v[:, r], lw=0.8, alpha=0.6, label=lab)[0]
        if running_best:
            acc = np.minimum.accumulate(v[:, r]) if minimise else np.maximum.accumulate(v[:, r])
            ax.plot(steps, acc, lw=1.4, color=line.get_color())
    if best_known is not None:
        ax.axhline(best_known, color="k", ls="--", lw=1.0, label=f"best known {best_known:g}")
        lo = np.nanmin(v) if not minimise else np.nanmin(v)
        hi = best_known
        pad = 0.02 * abs(hi - lo) if hi != lo else 1.0
        if not minimise:
            ax.set_ylim(max(lo, best_known * 0.9) - pad, best_known + 4 * pad)
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel(ylabel)
    if best_known is not None or labels is not None:
        ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return fig


def threshold_trace(steps, threshold, temperature, *, B: float = 2.5, eps: float = 1e-6, title: str | None = None,
                    logx: bool = False, symlog: bool = True):
    """Sampled noisy thresholds ``μ`` (``(K,)`` or ``(K, R)``) against time, with the envelope of the
    exponential noise ``T·ln(B·q + ε)`` for quantiles q = 0.05, 0.5, 0.95 and the upper bound q = 1."""
    steps = np.asarray(steps)
    mu = np.asarray(threshold, dtype=np.float64)
    mu = mu[:, None] if mu.ndim == 1 else mu
    T = np.broadcast_to(np.asarray(temperature, dtype=np.float64), steps.shape)
    fig, ax = _fig()
    ax.scatter(np.repeat(steps, mu.shape[1]), mu.ravel(), s=2, alpha=0.3, color="tab:gray", label="μ samples")
    for q, ls in ((1.0, "-"), (0.95, "--"), (0.5, ":"), (0.05, "--")):
        ax.plot(steps, T * np.log(B * q + eps), color="tab:purple", ls=ls, lw=1.0, label=f"T·ln(B·{q:g}+ε)")
    ax.plot(steps, T, color="tab:orange", lw=1.2, label="temperature T")
    if logx:
        ax.set_xscale("log")
    if symlog:
        ax.set_yscale("symlog", linthresh=1.0)
    ax.set_xlabel("iteration")
    ax.set_ylabel("threshold μ")
    ax.legend(fontsize="x-small", ncol=2)
    if title:
        ax.set_title(title)
    return fig


def active_histogram(active, *, bins=None, title: str | None = None, xlabel: str = "active neurons"):
    """Histogram of the number of active neurons (e.g. the arbiter's ``active`` record) over time."""
    a = np.asarray(active).ravel()
    fig, ax = _fig()
    if bins is None:
        hi = int(a.max()) if a.size else 1
        bins = np.arange(-0.5, hi + 1.5, max(1, (hi + 1) // 60))
    ax.hist(a, bins=bins, color="tab:green", alpha=0.8, density=True)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("fraction of time")
    if title:
        ax.set_title(title)
    return fig


def pca_trajectory_3d(scores, times=None, *, explained=None, title: str | None = None, cmap: str = "viridis"):
    """3-D trajectory of the first three principal components, coloured by time."""
    X = np.asarray(scores)
    if X.ndim != 2 or X.shape[1] < 3:
        raise ValueError(f"scores must be (W, ≥3), got shape {X.shape}")
    t = np.arange(X.shape[0]) if times is None else np.asarray(times)
    fig = Figure(figsize=(5.6, 4.8), layout="constrained")
    ax = fig.add_subplot(projection="3d")
    ax.plot(X[:, 0], X[:, 1], X[:, 2], color="0.75", lw=0.5)
    sc = ax.scatter(X[:, 0], X[:, 1], X[:, 2], c=t, cmap=cmap, s=6)
    fig.colorbar(sc, ax=ax, shrink=0.6, pad=0.12, label="iteration")
    names = [f"PC{k + 1}" + ("" if explained is None else f" ({100 * explained[k]:.0f} %)") for k in range(3)]
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_zlabel(names[2])
    if title:
        ax.set_title(title)
    return fig


def solution_kde(groups: dict, *, xlabel: str = "cut / best known", title: str | None = None, rug: bool = True, xlim=None,
                 ridge: bool = False, marks=(1.0,)):
    """Kernel densities of normalised solution quality, one curve per group (``{label: values}``).

    ``ridge=False``: the densities overlaid on one axis. ``ridge=True``: one row per group (the paper's
    Fig. 3 layout), each density scaled to a unit peak so that narrow and wide distributions are both
    readable; the row shows the group's values as a rug and its minimum as a dot. ``marks``: x values
    drawn as dotted vertical lines (default 1.0, the best known)."""
    groups = {k: np.asarray(v, dtype=np.float64).ravel() for k, v in groups.items()}
    allv = np.concatenate(list(groups.values())) if groups else np.zeros(1)
    lo, hi = (float(allv.min()), float(allv.max())) if xlim is None else xlim
    span = max(hi - lo, 1e-3)
    grid = np.linspace(lo - 0.15 * span, hi + 0.15 * span, 400)
    if ridge:
        fig, ax = _fig((6.4, 1.0 + 0.55 * max(1, len(groups))))
        for row, (label, v) in enumerate(reversed(list(groups.items()))):
            _, d = analysis.kde(v, grid)
            d = 0.85 * d / d.max()
            line = ax.plot(grid, row + d, lw=1.2)[0]
            ax.fill_between(grid, row, row + d, alpha=0.25, color=line.get_color())
            if rug:
                ax.plot(v, np.full_like(v, row + 0.04), "|", color=line.get_color(), ms=7)
            ax.plot([v.min()], [row], "o", color=line.get_color(), ms=3)
        ax.set_yticks(np.arange(len(groups)))
        ax.set_yticklabels([f"{k} (N={v.size})" for k, v in reversed(list(groups.items()))], fontsize="small")
        ax.set_ylim(-0.2, len(groups) + 0.1)
    else:
        fig, ax = _fig()
        for label, v in groups.items():
            _, d = analysis.kde(v, grid)
            line = ax.plot(grid, d, label=f"{label} (N={v.size})")[0]
            ax.fill_between(grid, d, alpha=0.15, color=line.get_color())
            if rug:
                ax.plot(v, np.full_like(v, -0.02 * max(1.0, d.max())), "|", color=line.get_color(), ms=8)
        ax.set_ylabel("density")
        ax.legend(fontsize="small")
    for x in marks or ():
        if grid[0] <= x <= grid[-1]:
            ax.axvline(x, color="0.4", ls=":", lw=1)
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title)
    return fig


def distance_trace(steps, distances, *, labels=None, title: str | None = None, ylabel: str = "Hamming distance"):
    """Distance to reference states over time: ``distances`` ``(K, m)`` (one line per reference)."""
    d = np.asarray(distances)
    d = d[:, None] if d.ndim == 1 else d
    fig, ax = _fig((7.0, 3.2))
    for k in range(d.shape[1]):
        ax.step(steps, d[:, k], where="post", lw=1.0, label=None if labels is None else labels[k])
    ax.set_xlabel("iteration")
    ax.set_ylabel(ylabel)
    if labels is not None:
        ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return fig


def convergence_spread(steps, values, *, best_known: float | None = None, ylabel: str = "best cut", title: str | None = None):
    """Running best of each replica over time on a log step axis: the median replica, the band
    between the worst and the best replica, and the best over all replicas. ``values``: ``(K, R)``."""
    steps = np.asarray(steps, dtype=np.float64) + 1.0  # step index 0 on a log axis: plot step + 1
    v = np.asarray(values, dtype=np.float64)
    v = v[:, None] if v.ndim == 1 else v
    if v.shape[0] != steps.shape[0]:
        raise ValueError(f"values have {v.shape[0]} records but steps has {steps.shape[0]}")
    fig, ax = _fig()
    ax.fill_between(steps, v.min(axis=1), v.max(axis=1), color="tab:blue", alpha=0.25, lw=0, label=f"replica range ({v.shape[1]} replicas)")
    ax.plot(steps, np.median(v, axis=1), color="tab:blue", lw=1.2, label="median replica")
    ax.plot(steps, v.max(axis=1), color="k", lw=1.4, label="best replica")
    if best_known is not None:
        ax.axhline(best_known, color="k", ls="--", lw=1.0, label=f"optimum {best_known:g}")
    ax.set_xscale("log")
    ax.set_xlabel("iteration + 1")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small", loc="lower right")
    if title:
        ax.set_title(title)
    return fig


def raster_windows(on, off=None, *, times=None, title: str | None = None):
    """Raster of windowed spike counts of one replica (``(T, n)``; nonzero = spiked in the window):
    ON spikes as red ticks in the upper half of each neuron's row, OFF as blue ticks in the lower half,
    so the two never hide each other; neuron ticks are integers."""
    from matplotlib.ticker import MaxNLocator

    on = np.asarray(on)
    t = np.arange(on.shape[0]) if times is None else np.asarray(times)
    fig, ax = _fig((7.0, 3.6))
    for arr, color, label, dy in ((on, ON_COLOR, "ON" if off is not None else "spike", 0.18 if off is not None else 0.0),
                                  (off, OFF_COLOR, "OFF", -0.18)):
        if arr is None:
            continue
        ti, ni = np.nonzero(np.asarray(arr))
        ax.scatter(t[ti], ni + dy, s=9, marker="|", color=color, label=label, linewidths=1.0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(-0.6, on.shape[1] - 0.4)
    ax.set_xlabel("iteration")
    ax.set_ylabel("neuron (pair) index")
    ax.legend(loc="upper right", fontsize="small", markerscale=2)
    if title:
        ax.set_title(title)
    return fig


def solution_histogram(groups: dict, *, xlabel: str = "cut / optimum", title: str | None = None, upper: float = 1.0):
    """Histogram of the replicas' solution qualities per group, bins ending at ``upper`` (a ratio to
    the optimum cannot exceed 1, so nothing is drawn past it, unlike a kernel density)."""
    fig, ax = _fig()
    values = np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in groups.values()])
    lo = float(values.min()) if values.size else upper - 0.1
    lo = min(lo, upper - 1e-3)
    bins = np.linspace(lo - 1e-9, upper, 21)
    for name, v in groups.items():
        ax.hist(np.minimum(np.asarray(v, dtype=np.float64), upper), bins=bins, alpha=0.6, label=f"{name} ({len(np.ravel(v))} replicas)")
    ax.set_xlim(bins[0], upper)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("replicas")
    ax.legend(fontsize="small", loc="upper left")
    if title:
        ax.set_title(title)
    return fig
