"""``neurosim bench qscore``: the Q-score run recorded in docs/benchmarks.md (+ β-curve figure).

Runs :func:`neurosim.qscore.run_qscore` and, side by side on the same instances up to
``--dwave-max-n``, dwave-samplers simulated annealing (when the ``bench`` extra is installed).
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from .. import qscore as q
from ._report import default_docs_dir, markdown_table, record_section

QUICK_SIZES = "200,500,1000,2000"


def add_arguments(parser) -> None:
    q.add_arguments(parser)
    parser.add_argument("--dwave-max-n", type=int, default=5000, help="run dwave-samplers SA on sizes up to this N (0: never; default 5000)")
    parser.add_argument("--quick", action="store_true", help=f"smoke run: sizes {QUICK_SIZES}, 10 s limit, 50 sweeps")
    parser.add_argument("--docs", default=None, help="docs directory to write (default: the checkout's docs/)")
    parser.add_argument("--variant", default=None, help="record as section qscore/VARIANT (e.g. 'large', 'gpu') instead of replacing 'qscore'")


def dwave_sa(seed: int, n: int, *, num_sweeps: int = 1000, num_reads: int = 1) -> dict | None:
    """dwave-samplers SA on instance (seed, n), through an edge list (fine for the N it can reach)."""
    try:
        import dimod
        from dwave.samplers import SimulatedAnnealingSampler
    except ImportError:
        return None
    e = q.edges_reference(seed, n)
    t0 = time.perf_counter()
    bqm = dimod.BinaryQuadraticModel.from_numpy_vectors(np.zeros(n), (e[:, 0], e[:, 1], np.ones(len(e))), 0.0, dimod.SPIN)
    ss = SimulatedAnnealingSampler().sample(bqm, num_reads=num_reads, num_sweeps=num_sweeps, seed=seed)
    elapsed = time.perf_counter() - t0
    s = ss.record.sample[np.argmin(ss.record.energy)]
    part = s > 0
    cut = int(np.count_nonzero(part[e[:, 0]] != part[e[:, 1]]))
    return {"seed": seed, "cut": cut, "beta": q.beta(n, cut), "time_s": elapsed}


def _plot(out: dict, dwave: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    ns_ = [r["n"] for r in out["results"]]
    ax.plot(ns_, [r["beta"] for r in out["results"]], "o-", label="neurosim (packed popcount SA)")
    for r in out["results"]:
        ax.plot([r["n"]] * len(r["instances"]), [i["beta"] for i in r["instances"]], ".", color="C0", alpha=0.4)
    if dwave:
        ks = sorted(dwave)
        ax.plot(ks, [np.mean([i["beta"] for i in dwave[k]]) for k in ks], "s--", label="dwave-samplers SA")
    ax.axhline(q.BETA_THRESHOLD, color="k", lw=0.8, ls=":", label="β = 0.2")
    ax.set_xscale("log")
    ax.set_xlabel("N (vertices of G(N, ½))")
    ax.set_ylabel("β(N)")
    ax.set_ylim(0, 1.3)
    ax.set_title(f"Q-score {out['qscore']:,} ({out['time_limit_s']:.0f} s/instance limit)")
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(args) -> dict:
    if args.quick:
        args.sizes, args.time_limit, args.sweeps = QUICK_SIZES, min(args.time_limit, 10.0), min(args.sweeps, 50)
        args.dwave_max_n = min(args.dwave_max_n, 1000)
    docs = args.docs or default_docs_dir()
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    out = q.run_qscore(q._parse_sizes(args.sizes), instances=args.instances, time_limit=args.time_limit, sweeps=args.sweeps,
                       replicas=args.replicas, seed0=args.seed, save=args.save, log=log)
    dwave = {}
    for r in out["results"]:
        if r["n"] <= args.dwave_max_n:
            rows = [dwave_sa(i["seed"], r["n"]) for i in r["instances"]]
            if rows and rows[0] is not None:
                dwave[r["n"]] = rows
                log(f"dwave SA N={r['n']}: β={np.mean([x['beta'] for x in rows]):.3f} time={np.mean([x['time_s'] for x in rows]):.1f}s")
    out["dwave_sa"] = {str(k): v for k, v in dwave.items()}

    table = []
    for r in out["results"]:
        inst = r["instances"]
        row = {
            "N": r["n"],
            "β (mean)": r["beta"],
            "β min": min(i["beta"] for i in inst),
            "instances": len(inst),
            "time/instance s": float(np.mean([i["time_s"] for i in inst])),
            "sweeps": int(np.mean([i["sweeps"] + i["greedy_sweeps"] for i in inst])),
            "generate s": float(np.mean([i["generate_s"] for i in inst])),
        }
        if r["n"] in dwave:
            row["dwave SA β"] = float(np.mean([x["beta"] for x in dwave[r["n"]]]))
            row["dwave SA s"] = float(np.mean([x["time_s"] for x in dwave[r["n"]]]))
        table.append(row)
    cols = list(table[0].keys()) + [c for c in ("dwave SA β", "dwave SA s") if c not in table[0]]
    fig_dir = os.path.join(docs, "figures")
    os.makedirs(fig_dir, exist_ok=True)
    fig_name = "qscore_beta.png" if not args.variant else f"qscore_beta_{args.variant}.png"
    _plot(out, dwave, os.path.join(fig_dir, fig_name))
    md = (
        f"**Q-score = {out['qscore']:,}** (largest N with mean β > 0.2; {args.instances} instances per N, "
        f"{out['time_limit_s']:.0f} s limit per instance for the solver; graph generation timed apart). "
        f"Peak resident memory of the run: {out['peak_memory_bytes'] / 2**30:.2f} GiB.\n\n"
        f"Command: `neurosim bench qscore --sizes {args.sizes} --instances {args.instances} --time-limit {args.time_limit:g}"
        f" --sweeps {args.sweeps}`. Instances are `(seed, N)` of the public rule in `neurosim.qscore` "
        f"(seeds {args.seed}…{args.seed + args.instances - 1}); dwave-samplers SA (1000 sweeps, 1 read) runs on the same instances "
        f"up to N = {args.dwave_max_n}.\n\n" + markdown_table(table, cols, floatfmt="{:.3f}") + f"\n\n![β(N)](figures/{fig_name})\n"
    )
    record_section("qscore", md, out, docs_dir=docs, variant=args.variant)
    return out
