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
from typing import NamedTuple

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


class Series(NamedTuple):
    """One solver on one (n, density): per timeout, gap% mean and s.d. over the seeds that have a point
    there (``with_point``) of the ``seeds`` instances of that (n, density)."""

    taus: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    with_point: np.ndarray
    seeds: int

    @property
    def complete(self) -> np.ndarray:
        return self.with_point == self.seeds


def fig2_series(instances, solver: str) -> dict:
    """``{(n, density): Series}`` for one solver. A timeout that only some seeds were run at (e.g. 100 s
    at seed 0) is kept and flagged (``with_point < seeds``); the plot draws it apart, as an open marker,
    so a mean over fewer seeds is never read as the mean over all of them."""
    out = {}
    for (n, d), insts in groups(instances).items():
        taus = sorted({p["timeout_s"] for i in insts for p in i["points"] if p["solver"] == solver})
        rows = []
        for tau in taus:
            g = [v for v in (gap_at(i, solver, tau) for i in insts) if v is not None]
            rows.append((tau, 100 * float(np.mean(g)), 100 * float(np.std(g)), len(g)))
        if rows:
            t, m, sd, k = (np.array(c) for c in zip(*rows))
            out[(n, d)] = Series(t, m, sd, k.astype(int), len(insts))
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
                _draw(ax, series[s][(n, d)], colours(k), s)
                seeds = series[s][(n, d)].seeds
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
    lines = ["NeuroBench QUBO-MIS, the Loihi 2 paper's Fig. 2 view: gap% mean ± s.d. over seeds"]
    lines += sorted({f"{e.get('device')} ({e.get('cpu_isa')})" for e in envs})
    if any((~x.complete).any() for per in series.values() for x in per.values()):
        lines.append("open markers, dashed: a timeout run at fewer seeds (mean over those seeds)")
    fig.suptitle("\n".join(lines), fontsize=8)
    top = 1 - (0.012 * len(lines) + 0.01) * 10 / (2.6 * len(ds))
    fig.tight_layout(rect=(0, 0.04 + 0.02 * ((len(solvers) - 1) // 5), 1, top))
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return series


def _draw(ax, x: Series, colour, label):
    full = x.complete
    ax.plot(x.taus[full], x.mean[full], marker="o", ms=3, color=colour, label=label)
    ax.fill_between(x.taus[full], np.maximum(x.mean[full] - x.sd[full], 0), x.mean[full] + x.sd[full], color=colour, alpha=0.15, lw=0)
    if (~full).any():
        # joined to the last full point so the eye follows the solver, dashed because it is fewer seeds
        last = np.flatnonzero(full)[-1:] if full.any() else np.array([], int)
        idx = np.concatenate([last, np.flatnonzero(~full)])
        ax.plot(x.taus[idx], x.mean[idx], ls="--", lw=0.8, color=colour)
        ax.plot(x.taus[~full], x.mean[~full], ls="none", marker="o", ms=4, mfc="none", color=colour)


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
    from ._neurobench import _csv
    try:
        series = plot_fig2(args.json, args.out, sizes=_csv(args.sizes, int), densities=_csv(args.densities, float),
                           solvers=args.solvers, bks_path=args.bks)
    except (ValueError, OSError) as e:
        raise SystemExit(f"neurobench fig2: {e}")
    print(f"{args.out}: {len(series)} solver(s), {len(next(iter(series.values())))} panel(s)")


if __name__ == "__main__":
    main()
