"""``neurosim demo``: a model on a generated Max-Cut graph, checked against the exact optimum."""

from __future__ import annotations

import os
import time

import numpy as np


def demo_graph(n: int, seed: int):
    """A connected Erdős–Rényi graph G(n, 0.5) with integer weights in {1, 2, 3} (generated, no data files)."""
    import networkx as nx

    import neurosim as ns

    rng = np.random.default_rng(seed)
    g = nx.gnp_random_graph(n, 0.5, seed=int(rng.integers(2**31)))
    for u, v in g.edges():
        g[u][v]["weight"] = float(rng.integers(1, 4))
    return ns.MaxCut.from_graph(g, name=f"demo-G({n},0.5)-seed{seed}")


def _default_model(problem, steps):
    from neurosim._build import build_model, model_registry

    if "neurosa" in model_registry():
        # The published FN constants anneal over 1e8 iterations; build_model lays the annealer out
        # over the demo's `steps` (horizon), so it reaches the same final temperature.
        return "neurosa", build_model("neurosa", problem, steps=steps)
    return "gibbs", build_model("gibbs", problem, steps=steps, mode="sequential", schedule="geometric", T_start=5.0, T_end=0.05)


def demo(*, model: str | None = None, n: int = 20, steps: int = 20_000, replicas: int = 64, seed: int = 0, out: str = "neurosim-demo") -> dict:
    import neurosim as ns
    from neurosim._build import build_model

    if n > 24:
        raise ValueError(f"the demo's exact reference enumerates 2^n states; n={n} is above 24")
    problem = demo_graph(n, seed)
    t0 = time.perf_counter()
    e_opt, ground, _ = ns.brute_force(problem, max_n=24)
    t_exact = time.perf_counter() - t0
    opt_cut = float(problem.cut(ground[0]))
    if model is None:
        name, m = _default_model(problem, steps)
    else:
        name = model
        m = build_model(model, problem, steps=steps)
    rec_every = max(1, steps // 400)
    spike_names = tuple(k for k in ("on_spikes", "off_spikes", "spikes") if k in m.observables)
    save = ns.SaveAt(every=rec_every, what=("energy", "best_energy"), sum=spike_names)
    res = ns.run(m, problem, steps=steps, replicas=replicas, seed=seed, save=save, progress=False)
    cuts = np.asarray(res.report["cut"])
    hit = cuts >= opt_cut - 1e-9
    print(f"neurosim demo: Max-Cut on {problem.name} (n={problem.n}, m={problem.weights.num_edges})")
    print(f"  exact optimum (enumeration of 2^{n} states, {t_exact:.1f} s): cut = {opt_cut:g}")
    print(f"  {name}: {replicas} replicas × {steps:,} steps in {res.time_run:.2f} s (+{res.time_compile:.1f} s compile) on {res.device}")
    print(f"  best cut {cuts.max():g}  ({cuts.max() / opt_cut:.2%} of optimum); replicas at the optimum: {hit.sum()}/{replicas}")
    figures = _figures(res, problem, opt_cut, spike_names, out)
    print(f"  figures: {', '.join(figures)}")
    return {
        "problem": problem.describe(), "model": name, "steps": steps, "replicas": replicas, "seed": seed,
        "optimum_cut": opt_cut, "best_cut": float(cuts.max()), "replicas_at_optimum": int(hit.sum()),
        "found_optimum": bool(hit.any()), "time_s": {"compile": res.time_compile, "run": res.time_run},
        "device": res.device, "figures": figures,
    }


def _figures(res, problem, opt_cut, spike_names, out) -> list[str]:
    os.makedirs(out, exist_ok=True)
    paths = []
    for name, fig in demo_figures(res, opt_cut, spike_names).items():
        paths.append(os.path.join(out, name))
        fig.savefig(paths[-1], dpi=120)
    return paths


def demo_figures(res, opt_cut, spike_names) -> dict:
    """The standard figures, drawn with :mod:`neurosim.plot`: convergence of the replicas' best cuts
    on a log step axis (median, range, best) against the exact optimum; the spike raster of replica 0
    (ON above / OFF below each neuron's row, integer neuron ticks); the PCA trajectory of its windowed
    spike counts; a histogram of the replicas' best cut / optimum (≤ 1)."""
    from neurosim import analysis, plot

    steps = res.record_steps
    figs = {"convergence.png": plot.convergence_spread(steps, -res.records["best_energy"], best_known=opt_cut,
                                                       title="best cut of each replica so far")}
    if spike_names:
        pair = "on_spikes" in spike_names and "off_spikes" in spike_names
        first = res.records["on_spikes" if pair else spike_names[0]][:, 0, :]
        second = res.records["off_spikes"][:, 0, :] if pair else None
        figs["raster.png"] = plot.raster_windows(first, second, times=steps, title=f"spikes of replica 0 (windows of {steps[1] - steps[0] if len(steps) > 1 else 1} steps)")
        counts = first.astype(np.float64) + (0 if second is None else second)
        if counts.shape[0] > 3 and np.ptp(counts, axis=0).any():
            scores, _, explained = analysis.pca(counts, min(3, *counts.shape))
            if scores.shape[1] == 3:
                figs["pca.png"] = plot.pca_trajectory_3d(scores, steps, explained=explained, title="PCA of windowed spike counts (replica 0)")
    figs["distribution.png"] = plot.solution_histogram({res.model: res.report["cut"] / opt_cut}, xlabel="best cut / exact optimum")
    return figs
