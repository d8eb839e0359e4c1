"""Distribution of NeuroSA's best cuts normalised to the best known, per Gset graph (paper Fig. 3 style:
kernel density over replicas).

    python examples/neurosa_gset_distribution.py                 # 1e6 iterations (compressed annealer) × 8 replicas, ~1-2 min
    python examples/neurosa_gset_distribution.py --full          # 1e8 iterations, every graph in the Gset folder (long)
    python examples/neurosa_gset_distribution.py --source bench  # plot the 1e8-iteration runs recorded by
                                                                 #   `neurosim bench neurosa --part quality`
    python examples/neurosa_gset_distribution.py --source json --full   # redraw from the saved values

The per-replica cuts are saved next to the figure (same name, ``.json``). The full run takes ~8 min
on the 2-core CPU with the XLA:CPU setting ``import neurosim`` applies by default (docs/neurosa.md,
"Performance"; ``NEUROSIM_XLA_DEFAULTS=0`` turns it off and makes the run several times slower).
"""

import json
import os
import sys

import numpy as np

import neurosim as ns
from neurosim import plot
from neurosim.models import NeuroSA

from _gset_example import graph, parser, setup

HERE = os.path.dirname(os.path.abspath(__file__))
SHORT_GRAPHS = ("G1", "G11", "G12", "G13", "G14", "G15", "G22")


def main():
    ap = parser(__doc__)
    ap.add_argument("--source", choices=["run", "bench", "json"], default="run")
    ap.add_argument("--steps", type=float, default=1e6)
    ap.add_argument("--replicas", type=int, default=8)
    ap.add_argument("--full", action="store_true", help="1e8 iterations on every graph in the Gset folder")
    args, gdir, bk = setup(ap)

    groups = {}
    raw = {}
    name = "neurosa_gset_distribution.png" if args.full else "neurosa_gset_distribution_short.png"
    json_path = os.path.join(args.out, name.replace(".png", ".json"))
    if args.source == "json":
        saved = json.load(open(json_path))
        groups = {g: np.asarray(r["cuts"]) / r["best_known"] for g, r in saved["graphs"].items()}
        label = f"{saved['steps']:.0e} iterations"
    elif args.source == "bench":
        path = os.path.join(HERE, "..", "docs", "benchmarks", "neurosa-quality.json")
        rows = json.load(open(path))["data"]
        for r in rows:
            groups[r["graph"]] = np.asarray(r["cuts"]) / r["best_known"]
        label = f"{rows[0]['steps']:.0e} iterations (recorded benchmark)"
        name = "neurosa_gset_distribution.png"
    else:
        steps = int(1e8 if args.full else args.steps)
        graphs = sorted((f[:-4] for f in os.listdir(gdir) if f.startswith("G") and f.endswith(".txt")), key=lambda g: int(g[1:])) if args.full else SHORT_GRAPHS
        for g in graphs:
            p = graph(gdir, g)
            r = ns.run(NeuroSA(p, delta=2e-3 * 1e8 / steps), p, steps=steps, replicas=args.replicas, seed=args.seed, progress=sys.stderr.isatty())
            groups[g] = r.report["cut"] / bk[g]
            raw[g] = {"n": p.n, "best_known": bk[g], "cuts": np.asarray(r.report["cut"]).astype(int).tolist(), "run_s": r.time_run}
            print(f"{g}: cut / best known min {groups[g].min():.4f} mean {groups[g].mean():.4f} max {groups[g].max():.4f}  ({r.time_run:.1f} s)", flush=True)
        label = f"{steps:.0e} iterations"
        with open(json_path, "w") as fh:
            json.dump({"steps": steps, "replicas": args.replicas, "seed": args.seed, "graphs": raw}, fh, indent=1)
    fig = plot.solution_kde(groups, title=f"NeuroSA best cut / best known, {label}", ridge=True, marks=(0.99, 1.0))
    fig.savefig(os.path.join(args.out, name), dpi=120)
    allv = np.concatenate(list(groups.values()))
    print(f"all {allv.size} runs in [{allv.min():.4f}, {allv.max():.4f}]; figure {os.path.abspath(os.path.join(args.out, name))}")


if __name__ == "__main__":
    main()
