"""Noise and schedule ablation on G15 (paper Fig. 3): exponential noise with the Fowler–Nordheim (log)
annealer against Gaussian / uniform noise (same mean and variance) and against 1/t and e^{-t}
schedules (same start and end temperatures).

    python examples/neurosa_ablation.py          # 1e6 iterations × 16 replicas per setting, ~1-2 min
    python examples/neurosa_ablation.py --full   # 1e8 iterations (long)

The per-replica cuts are saved next to the figure (``neurosa_ablation_g15.json``). The full run takes
~5-10 min on the 2-core CPU with the XLA:CPU setting ``import neurosim`` applies by default
(docs/neurosa.md, "Performance").
"""

import json
import os
import sys

import numpy as np

import neurosim as ns
from neurosim import plot
from neurosim.models import NeuroSA

from _gset_example import graph, parser, setup

SETTINGS = {
    "exponential noise, FN (log)": dict(noise="exponential", schedule="fn"),
    "Gaussian noise, FN (log)": dict(noise="gaussian", schedule="fn"),
    "uniform noise, FN (log)": dict(noise="uniform", schedule="fn"),
    "exponential noise, 1/t": dict(noise="exponential", schedule="inverse"),
    "exponential noise, e^-t": dict(noise="exponential", schedule="exp"),
}


def main():
    ap = parser(__doc__)
    ap.add_argument("--steps", type=float, default=1e6)
    ap.add_argument("--replicas", type=int, default=16)
    ap.add_argument("--full", action="store_true")
    args, gdir, bk = setup(ap)
    p = graph(gdir, "G15")
    ref = bk["G15"]
    steps = int(1e8 if args.full else args.steps)
    delta = 2e-3 * 1e8 / steps  # every schedule spans the same temperatures over `steps` iterations
    groups, raw = {}, {}
    for label, kw in SETTINGS.items():
        m = NeuroSA(p, delta=delta, horizon=steps, **kw)
        r = ns.run(m, p, steps=steps, replicas=args.replicas, seed=args.seed, progress=sys.stderr.isatty())
        groups[label] = r.report["cut"] / ref
        raw[label] = {"params": kw, "cuts": np.asarray(r.report["cut"]).astype(int).tolist(), "run_s": r.time_run}
        v = groups[label]
        print(f"{label:32s} cut/best known: mean {v.mean():.4f} sd {v.std():.4f} min {v.min():.4f} max {v.max():.4f}", flush=True)
    fig = plot.solution_kde(groups, title=f"G15 ablation, {steps:.0e} iterations × {args.replicas} replicas", ridge=True,
                            marks=(0.99, 1.0))
    path = os.path.join(args.out, "neurosa_ablation_g15.png")
    with open(path.replace(".png", ".json"), "w") as fh:
        json.dump({"graph": "G15", "best_known": ref, "steps": steps, "replicas": args.replicas, "seed": args.seed, "settings": raw}, fh, indent=1)
    fig.savefig(path, dpi=120)
    print(f"figure {os.path.abspath(path)}")


if __name__ == "__main__":
    main()
