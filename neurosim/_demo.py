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
        # The published FN constants anneal over 1e8 iterations; a short demo run stretches the
        # annealer's clock (δ) so that it reaches the same final temperature in `steps` iterations.
        return "neurosa", build_model("neurosa", problem, steps=steps, delta=2e-3 * 1e8 / steps)
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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(out, exist_ok=True)
    paths = []
    steps = res.record_steps
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(steps, -res.records["energy"], lw=0.5, alpha=0.3)
    ax.plot(steps, -res.records["best_energy"].min(axis=1), "k", lw=1.5, label="best cut (all replicas)")
    ax.axhline(opt_cut, color="r", ls="--", label="exact optimum")
    ax.set_xlabel("step")
    ax.set_ylabel("cut")
    ax.legend(loc="lower right")
    fig.tight_layout()
    paths.append(os.path.join(out, "convergence.png"))
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)

    if spike_names:
        counts = sum(res.records[k][:, 0, :].astype(np.float64) for k in spike_names)  # replica 0: (T, n)
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
        colors = {"on_spikes": "tab:red", "off_spikes": "tab:blue", "spikes": "k"}
        for k in spike_names:
            t, i = np.nonzero(res.records[k][:, 0, :])
            axes[0].scatter(steps[t], i, s=2, c=colors[k], label=k)
        axes[0].set_xlabel("step")
        axes[0].set_ylabel("neuron")
        axes[0].set_title("spike raster (replica 0, windowed)")
        axes[0].legend(loc="upper right", markerscale=4)
        x = counts - counts.mean(axis=0)
        u, s, _ = np.linalg.svd(x, full_matrices=False)
        pcs = u[:, :2] * s[:2]
        sc = axes[1].scatter(pcs[:, 0], pcs[:, 1], c=steps, s=6, cmap="viridis")
        axes[1].plot(pcs[:, 0], pcs[:, 1], lw=0.3, c="grey")
        axes[1].set_xlabel("PC1")
        axes[1].set_ylabel("PC2")
        axes[1].set_title("PCA of windowed spike counts")
        fig.colorbar(sc, ax=axes[1], label="step")
        fig.tight_layout()
        paths.append(os.path.join(out, "raster_pca.png"))
        fig.savefig(paths[-1], dpi=120)
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.hist(res.report["cut"] / opt_cut, bins=20, color="tab:green")
    ax.set_xlabel("best cut / optimum (per replica)")
    ax.set_ylabel("replicas")
    fig.tight_layout()
    paths.append(os.path.join(out, "distribution.png"))
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    return paths
