"""NeuroSA on chip profiles over Gset (paper Fig. 3g in shape): cuts under SPINNAKER2 / LOIHI2 with the
published constants, as distributions normalised to the best-known cut, beside the float CPU runs.

Runs (one graph at a time, results appended to ``<out>/neurosa_chip_gset.json`` as each graph ends, so
a long job can be watched and resumed)::

    python examples/neurosa_chip_gset.py --hardware spinnaker2 --graphs G1,G15,G22 --steps 1e8
    python examples/neurosa_chip_gset.py --hardware loihi2 --graphs G1,G15 --steps 1e8 --tag rerun
    python examples/neurosa_chip_gset.py --figure --out docs/figures   # the figure from the JSON

Mode: random scan, shared site sequence (the model's default), 8 replicas, seed 0. The float CPU runs
beside them are read from ``docs/figures/neurosa_gset_distribution.json`` (hardware=None, same settings).
By default everything is written to ``./neurosa_chip_out`` (``--out docs/figures`` for the docs).
"""

import hashlib
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _gset_example as gx  # noqa: E402

import neurosim as ns  # noqa: E402
from neurosim.hardware import PROFILES  # noqa: E402
from neurosim.models import NeuroSA  # noqa: E402

DATA = "neurosa_chip_gset.json"


def _digest(a) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]


def run_graph(gdir, name, hw_name, steps, replicas, seed, mode):
    p = gx.graph(gdir, name)
    hw = None if hw_name == "none" else PROFILES[hw_name]
    m = NeuroSA(p, hardware=hw, horizon=steps, mode=mode)
    t = time.perf_counter()
    r = ns.run(m, p, steps=steps, replicas=replicas, seed=seed)
    dt = time.perf_counter() - t
    out = {"n": p.n, "cuts": [int(c) for c in np.asarray(r.report["cut"])], "run_s": dt, "mode": mode,
           "best_state_sha": _digest(r.best_state), "final_state_sha": _digest(r.final_state)}
    if m.hardware is not None:
        out["cores"] = m.chip.mapping.cores
        out["quantization"] = m.chip.report()
    return out


def _load(path):
    return json.load(open(path)) if os.path.exists(path) else {"runs": {}}


def main():
    ap = gx.parser(__doc__)
    ap.set_defaults(out=os.path.join(os.getcwd(), "neurosa_chip_out"))
    ap.add_argument("--hardware", default="spinnaker2", choices=["none", *PROFILES])
    ap.add_argument("--graphs", default="G1,G15,G22")
    ap.add_argument("--steps", type=float, default=1e8)
    ap.add_argument("--replicas", type=int, default=8)
    ap.add_argument("--mode", default="random_scan", choices=["random_scan", "arbiter"])
    ap.add_argument("--tag", default="", help="a label kept apart from the first run (e.g. 'rerun')")
    ap.add_argument("--figure", action="store_true", help="only draw the figure from the JSON")
    args, gdir, best = gx.setup(ap)
    path = os.path.join(args.out, DATA)
    if args.figure:
        print(figure(_load(path), best, args.out))
        return
    steps = int(args.steps)
    for name in args.graphs.split(","):
        key = f"{args.hardware}/{args.mode}/{steps}/{name}" + (f"/{args.tag}" if args.tag else "")
        res = run_graph(gdir, name, args.hardware, steps, args.replicas, args.seed, args.mode)
        res.update(best_known=int(best[name]), profile=args.hardware, steps=steps, seed=args.seed, replicas=args.replicas)
        res["min_ratio"] = min(res["cuts"]) / best[name]
        data = _load(path)  # re-read: another job may have written meanwhile
        data["runs"][key] = res
        with open(path + ".tmp", "w") as f:
            json.dump(data, f, indent=1)
        os.replace(path + ".tmp", path)
        print(key, res["cuts"], f"min/best {res['min_ratio']:.4f}", f"{res['run_s']:.0f} s", flush=True)


def figure(data, best, out):
    """Violin-like rows (rug + kernel density) of cut / best known per graph: float CPU vs each profile."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    here = os.path.dirname(os.path.abspath(__file__))
    fl = json.load(open(os.path.join(here, "..", "docs", "figures", "neurosa_gset_distribution.json")))["graphs"]
    series = {"float32 CPU (hardware=None)": {g: v["cuts"] for g, v in fl.items()}}
    for key, v in data["runs"].items():
        hw, mode, steps, g, *tag = key.split("/")
        if tag or int(steps) != 100_000_000 or mode != "random_scan":
            continue
        series.setdefault(f"{hw} (random scan)", {})[g] = v["cuts"]
    graphs = sorted({g for s in series.values() for g in s}, key=lambda g: int(g[1:]))
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(graphs) + 1.4))
    width = 0.8 / len(series)
    for k, (label, cuts) in enumerate(series.items()):
        for row, g in enumerate(graphs):
            if g not in cuts:
                continue
            x = np.asarray(cuts[g], float) / best[g]
            y0 = row - 0.4 + (k + 0.5) * width
            grid = np.linspace(0.985, 1.0005, 300)
            bw = max(2e-4, x.std() * 0.9 * len(x) ** -0.2)
            dens = np.exp(-0.5 * ((grid[:, None] - x[None, :]) / bw) ** 2).sum(1)
            dens = 0.45 * width * dens / dens.max()
            ax.fill_between(grid, y0 - dens, y0 + dens, color=f"C{k}", alpha=0.35, lw=0, label=label if row == 0 else None)
            ax.plot(x, np.full_like(x, y0), "|", color=f"C{k}", ms=6)
            ax.plot(x.min(), y0, "o", color=f"C{k}", ms=3)
    ax.axvline(1.0, color="k", lw=0.7, ls=":")
    ax.axvline(0.99, color="r", lw=0.7, ls="--")
    ax.set_yticks(range(len(graphs)), graphs)
    ax.set_xlim(0.985, 1.0005)
    ax.set_xlabel("cut / best-known cut (8 replicas per graph and setting; dot = worst replica; dashed: 0.99)")
    ax.set_title("NeuroSA, published constants, 1e8 iterations, random scan: float CPU vs chip profiles", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    path = os.path.join(out, "neurosa_chip_gset.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


if __name__ == "__main__":
    main()
