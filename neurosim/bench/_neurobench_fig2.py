"""The Loihi 2 paper's Fig. 2 drawn from recorded ``bench neurobench`` runs: gap% against the timeout.

One panel per (density, n); in each, every chosen solver's gap% (the paper's eq. 24,
``100·|min(C,0) − C_BKS|/|C_BKS|``, which for a repaired state is 100 × NeuroBench's BKS-gap) as the mean
over the seeds with a ±1 s.d. band, on a log time axis. Several recorded runs can be drawn together
(e.g. τ ≤ 1 s from one run and τ = 10 s from another): their points are pooled per instance and all of
them are rescored against the current BKS table first, so every point of a panel has the same reference.
Run::

    python -m neurosim.bench._neurobench_fig2 docs/benchmarks/neurobench-ft-avx2-seeds0-4.json ... \\
        --out docs/figures/neurobench_fig2.png [--sizes 250,500,1000] [--solver 'neurosa float' ...]
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from ._neurobench_report import gap_at, groups, solvers_of


def pooled_instances(json_paths, bks_path: str | None = None) -> tuple[list, list]:
    """``(instances, envs)``: the instances of every run, rescored against the BKS table, with the points
    of one (n, density, seed) from several runs pooled. The same solver at the same τ in two runs is an
    error (which of the two would be drawn is not ours to pick)."""
    from ._neurobench import retarget
    from ._neurobench_bks import read_table

    table = read_table(bks_path)
    pooled: dict = {}
    envs = []
    for path in json_paths:
        with open(path) as fh:
            rec = json.load(fh)
        if rec["data"]["scenario"] != "ft":
            raise ValueError(f"{path}: scenario {rec['data']['scenario']!r}; Fig. 2 needs fixed-timeout ('ft') runs")
        retarget(rec["data"], table)
        envs.append(rec["env"])
        for inst in rec["data"]["instances"]:
            key = (inst["n"], inst["density"], inst["seed"])
            have = pooled.setdefault(key, {**inst, "points": [], "_from": {}, "_refs": []})
            have["_refs"].append((inst["bks"], inst["bks_how"]))
            for p in inst["points"]:
                slot = (p["solver"], p["timeout_s"])
                if slot in have["_from"]:
                    raise ValueError(f"{path}: {p['solver']} at τ = {p['timeout_s']:g} s on n={key[0]} density={key[1]:g} "
                                     f"seed={key[2]} is also in {have['_from'][slot]}")
                have["_from"][slot] = path
                have["points"].append(p)
    instances = []
    for _, have in sorted(pooled.items()):
        inst = {k: v for k, v in have.items() if k not in ("_from", "_refs")}
        _common_reference(inst, have["_refs"])
        instances.append(inst)
    return instances, envs


def _common_reference(inst, refs):
    """Score pooled points against one reference: the table's (or exact) BKS when a run had it, else the
    best any of the runs found (each run alone only knew its own best)."""
    if len({b for b, _ in refs}) == 1:
        return
    from ._neurobench import score

    listed = [(b, how) for b, how in refs if not how.startswith("best of this run")]
    inst["bks"], inst["bks_how"] = listed[0] if listed else (min(b for b, _ in refs), "best of the pooled runs (not in the BKS table)")
    inst["best_run"] = min(p["cost"] for p in inst["points"])
    score(inst["points"], inst["bks"])


def fig2_series(instances, solver: str) -> dict:
    """``{(n, density): (taus, mean gap%, s.d. gap%, seeds)}`` for one solver, over the timeouts at which
    every seed of that (n, density) has a point (a τ that some seeds lack is left out, not averaged
    over fewer seeds)."""
    out = {}
    for (n, d), insts in groups(instances).items():
        taus = sorted({p["timeout_s"] for i in insts for p in i["points"] if p["solver"] == solver})
        rows = []
        for tau in taus:
            g = [gap_at(i, solver, tau) for i in insts]
            if all(v is not None for v in g):
                rows.append((tau, 100 * float(np.mean(g)), 100 * float(np.std(g))))
        if rows:
            t, m, s = (np.array(c) for c in zip(*rows))
            out[(n, d)] = (t, m, s, len(insts))
    return out


def plot_fig2(json_paths, out: str, *, sizes=None, densities=None, solvers=None, bks_path=None) -> dict:
    """Draw the Fig. 2 panels into ``out`` (a .png/.pdf/.svg path); returns ``{solver: fig2_series}``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    instances, envs = pooled_instances(json_paths, bks_path)
    instances = [i for i in instances if (sizes is None or i["n"] in sizes) and (densities is None or i["density"] in densities)]
    if not instances:
        raise ValueError(f"plot_fig2: no instance of sizes {sizes} and densities {densities} in {list(json_paths)}")
    known = solvers_of(instances)
    solvers = known if solvers is None else list(solvers)
    unknown = [s for s in solvers if s not in known]
    if unknown:
        raise ValueError(f"plot_fig2: solver(s) {unknown} not in these runs; they have {known}")
    series = {s: fig2_series(instances, s) for s in solvers}
    ns = sorted({i["n"] for i in instances})
    ds = sorted({i["density"] for i in instances})
    fig, axes = plt.subplots(len(ds), len(ns), figsize=(3.2 * len(ns), 2.6 * len(ds)), sharex=True, squeeze=False)
    colours = plt.get_cmap("tab10" if len(solvers) <= 10 else "tab20")
    for r, d in enumerate(ds):
        for c, n in enumerate(ns):
            ax = axes[r][c]
            seeds = 0
            for k, s in enumerate(solvers):
                if (n, d) not in series[s]:
                    continue
                t, m, sd, seeds = series[s][(n, d)]
                ax.plot(t, m, marker="o", ms=3, color=colours(k), label=s)
                ax.fill_between(t, np.maximum(m - sd, 0), m + sd, color=colours(k), alpha=0.15, lw=0)
            ax.set_xscale("log")
            ax.set_title(f"n = {n}, density {100 * d:g} %, {seeds} seed(s)", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
            if c == 0:
                ax.set_ylabel("gap % (eq. 24)", fontsize=8)
            if r == len(ds) - 1:
                ax.set_xlabel("timeout τ (s)", fontsize=8)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(solvers), 5), fontsize=7, frameon=False)
    machines = "; ".join(sorted({f"{e.get('device')} ({e.get('cpu_isa')})" for e in envs}))
    fig.suptitle(f"NeuroBench QUBO-MIS, the Loihi 2 paper's Fig. 2 view: mean ± s.d. over seeds\n{machines}", fontsize=9)
    fig.tight_layout(rect=(0, 0.04 + 0.02 * ((len(solvers) - 1) // 5), 1, 0.95))
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return series


def _csv(s, conv):
    return None if s is None else [conv(v) for v in s.split(",")]


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m neurosim.bench._neurobench_fig2", description=__doc__.split("\n\n")[0])
    ap.add_argument("json", nargs="+", help="recorded runs (docs/benchmarks/neurobench-ft*.json)")
    ap.add_argument("--out", required=True, help="figure path (.png, .pdf, .svg)")
    ap.add_argument("--sizes", default=None, help="comma list of n (default: every n in the runs)")
    ap.add_argument("--densities", default=None, help="comma list of densities (default: every one in the runs)")
    ap.add_argument("--solver", action="append", default=None, dest="solvers",
                    help="a solver as the runs spell it, e.g. 'neurosa loihi2[w8,s24,r24]'; repeat for more (default: all)")
    ap.add_argument("--bks", default=None, help="BKS table (default: the package's)")
    args = ap.parse_args(argv)
    try:
        series = plot_fig2(args.json, args.out, sizes=_csv(args.sizes, int), densities=_csv(args.densities, float),
                           solvers=args.solvers, bks_path=args.bks)
    except (ValueError, OSError) as e:
        raise SystemExit(f"neurobench fig2: {e}")
    print(f"{args.out}: {len(series)} solver(s), {len(next(iter(series.values())))} panel(s)")


if __name__ == "__main__":
    main()
