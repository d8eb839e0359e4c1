"""NeuroSA on Gset G15 (n = 800, best known cut 3050): cut convergence, the noisy threshold with its
envelope and the PCA trajectory of the binned spikes (paper Fig. 2).

    python examples/neurosa_g15.py           # 2e6 iterations (annealer compressed in time), ~1 min
    python examples/neurosa_g15.py --full    # the published 1e8 iterations (several minutes)
"""

import os
import sys

import numpy as np

import neurosim as ns
from neurosim import analysis, plot
from neurosim.models import NeuroSA

from _gset_example import graph, parser, setup



def main():
    ap = parser(__doc__)
    ap.add_argument("--steps", type=float, default=2e6)
    ap.add_argument("--full", action="store_true", help="1e8 iterations with the published constants")
    ap.add_argument("--replicas", type=int, default=4)
    args, gdir, bk = setup(ap)
    p = graph(gdir, "G15")
    ref = bk.get("G15")

    steps = int(1e8 if args.full else args.steps)
    model = NeuroSA(p, delta=2e-3 * 1e8 / steps)  # δ ∝ 1/steps: same start and end temperature
    every = steps // 2000
    save = ns.SaveAt(every=every, what=("energy", "best_energy", "threshold", "temperature"), sum=("on_spikes", "off_spikes"))
    r = ns.run(model, p, steps=steps, replicas=args.replicas, seed=args.seed, save=save, progress=sys.stderr.isatty())
    rec, t = r.records, r.record_steps
    cuts = r.report["cut"]
    print(f"G15, {steps:.0e} iterations × {args.replicas} replicas: best cuts {cuts.astype(int).tolist()} "
          f"(best known {ref}; min ratio {cuts.min() / ref:.4f}); run {r.time_run:.1f} s")

    fig = plot.convergence(t, -rec["best_energy"], best_known=ref, running_best=False, ylabel="best cut so far",
                           title=f"G15: best cut per replica ({steps:.0e} iterations)", logx=True)
    fig.savefig(os.path.join(args.out, "neurosa_g15_convergence.png"), dpi=120)

    fig = plot.threshold_trace(t, rec["threshold"], rec["temperature"], title="G15: noisy threshold μ = T·ln(B·U+ε) and its envelope", logx=True)
    fig.savefig(os.path.join(args.out, "neurosa_g15_threshold.png"), dpi=120)

    # PCA of replica 0's spike counts (each record already sums `every` iterations), late half of the run
    spikes = (rec["on_spikes"] + rec["off_spikes"])[:, 0].astype(np.float64)
    half = len(t) // 2
    scores, centres, explained = analysis.pca_trajectory(spikes[half:], 20, 5, times=t[half:])
    fig = plot.pca_trajectory_3d(scores, centres, explained=explained, title="G15: PCA trajectory (second half of the anneal)")
    fig.savefig(os.path.join(args.out, "neurosa_g15_pca.png"), dpi=120)
    print(f"figures written to {os.path.abspath(args.out)}")


if __name__ == "__main__":
    main()
