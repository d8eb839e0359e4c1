"""``neurosim bench neurosa-threshold``: the effect of NeuroSA's threshold form, the authors' code
``ln(B·U + ε)`` (default) against the paper's printed ``log(U/B + ε)`` (docs/neurosa.md).

Same runs otherwise (published constants, annealer laid out over the run, same seeds): Gset G1 and G15
(Max-Cut, best cut and mean of the replicas' best cuts) and NeuroBench MIS instances (best set
size), ``--iterations`` iterations × ``--replicas`` replicas, per form. Compile time apart.
"""

from __future__ import annotations

import os
import sys

import numpy as np

FORMS = ("code", "paper")


def add_arguments(parser):
    parser.add_argument("--gset", default=None, help="Gset directory (default ../shared/data/gset)")
    parser.add_argument("--graphs", default="G1,G15")
    parser.add_argument("--mis", default="250:0.05:0,1000:0.01:0", help="NeuroBench instances n:density:seed")
    parser.add_argument("--iterations", type=float, default=2e6)
    parser.add_argument("--replicas", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--json", action="store_true")


def main(args):
    import neurosim as ns
    from neurosim import mis
    from neurosim.models import NeuroSA

    from ._maxcut import compile_cache
    from ._report import environment, markdown_table, record_section, repo_root

    gdir = args.gset or os.path.join(repo_root() or os.getcwd(), "..", "shared", "data", "gset")
    probs = [(g, ns.MaxCut.from_gset(os.path.join(gdir, f"{g}.txt")), "cut") for g in _csv(args.graphs)]
    for spec in _csv(args.mis):
        n, d, s = spec.split(":")
        probs.append((f"neurobench {n}/{d}/{s}", mis.neurobench(int(n), float(d), int(s)), "set_size"))
    steps = int(args.iterations)
    env = environment()
    rows = []
    with compile_cache():
        for name, p, fig in probs:
            for form in FORMS:
                best, means, secs = [], [], []
                for seed in range(args.seeds):
                    r = ns.run(NeuroSA(p, threshold_form=form), p, steps=steps, replicas=args.replicas, seed=seed, chunk=min(steps, 1 << 16))
                    v = np.asarray(r.report[fig], dtype=np.float64)
                    best.append(v.max())
                    means.append(v.mean())
                    secs.append(r.time_run)
                rows.append({"problem": name, "form": form, "best (max over seeds)": f"{max(best):g}",
                             "best per seed": " ".join(f"{b:g}" for b in best), "mean of replicas": f"{np.mean(means):.2f}",
                             "run s per seed": f"{np.mean(secs):.1f}"})
                print(rows[-1], file=sys.stderr, flush=True)
    cmd = (f"neurosim bench neurosa-threshold --graphs {args.graphs} --mis {args.mis} --iterations {args.iterations:g} "
           f"--replicas {args.replicas} --seeds {args.seeds}")
    md = (f"Command: `{cmd}`. NeuroSA, published constants (C = 8e4, T0 = 0.3125, B = 2.5), annealer laid out over "
          f"{steps:g} iterations (not the published 1e8), {args.replicas} replicas, seeds 0–{args.seeds - 1}; Max-Cut: cut, MIS: "
          "repaired set size (larger is better). *code* = `ln(B·U + ε)` (the authors' code, the default), *paper* = "
          "`log(U/B + ε)` as printed.\n\n" + markdown_table(rows))
    record_section("neurosa-threshold", md, {"rows": rows, "command": cmd}, env=env)
    print(md)
    return rows


def _csv(s):
    return [v for v in s.split(",") if v]
