"""Five parallel replicas against one replica run five times longer (paper Fig. 3e), on G15.

Each trial of the parallel strategy takes the best of 5 replicas of N iterations; each trial of the
long strategy runs 1 replica for 5·N iterations (its annealer stretched to the longer run). Same
total work; the figure compares the distributions over trials.

    python examples/neurosa_parallel.py            # N = 4e5, 24 trials each, ~1 min
    python examples/neurosa_parallel.py --n 2e7    # the paper's scale (long)
"""

import json
import os
import sys


import neurosim as ns
from neurosim import plot
from neurosim.models import NeuroSA

from _gset_example import graph, parser, setup



def main():
    ap = parser(__doc__)
    ap.add_argument("--n", type=float, default=4e5, help="iterations of each parallel replica")
    ap.add_argument("--trials", type=int, default=24)
    args, gdir, bk = setup(ap)
    p = graph(gdir, "G15")
    ref = bk["G15"]
    N = int(args.n)
    show = sys.stderr.isatty()

    short = ns.run(NeuroSA(p, delta=2e-3 * 1e8 / N), p, steps=N, replicas=5 * args.trials, seed=args.seed, progress=show)
    parallel = short.report["cut"].reshape(args.trials, 5).max(axis=1) / ref
    long = ns.run(NeuroSA(p, delta=2e-3 * 1e8 / (5 * N)), p, steps=5 * N, replicas=args.trials, seed=args.seed + 1, progress=show)
    single = long.report["cut"] / ref
    for label, v in (("5 parallel × N", parallel), ("1 × 5N", single)):
        print(f"{label:16s} cut/best known: mean {v.mean():.4f} sd {v.std():.4f} min {v.min():.4f} max {v.max():.4f}")
    fig = plot.solution_kde({f"best of 5 parallel replicas × {N:.0e}": parallel, f"1 replica × {5 * N:.0e}": single},
                            title=f"G15: 5 parallel replicas vs one 5× longer ({args.trials} trials each)")
    path = os.path.join(args.out, "neurosa_parallel_g15.png")
    fig.savefig(path, dpi=120)
    with open(path.replace(".png", ".json"), "w") as fh:
        json.dump({"graph": "G15", "best_known": ref, "n": N, "trials": args.trials, "seed": args.seed,
                   "parallel_best_of_5": (parallel * ref).astype(int).tolist(), "single_5n": (single * ref).astype(int).tolist(),
                   "run_s": {"parallel": short.time_run, "single": long.time_run}}, fh, indent=1)
    print(f"figure {os.path.abspath(path)}")


if __name__ == "__main__":
    main()
