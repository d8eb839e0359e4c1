"""``neurosim bench neurosa``: NeuroSA speed (vs a plain NumPy/Python loop) and Gset solution quality.

Two parts, recorded as separate sections of docs/benchmarks.md:

* ``speed``: iterations per second (all replicas together) of the NeuroSA model on G1 and G15 with
  1 / 64 / 1024 replicas, side by side in the same process with two plain-NumPy references written
  from the paper: a per-iteration Python loop (the style of the authors' CPU code) and a loop over
  iterations vectorised over replicas.
* ``quality``: with the published constants, 1e8 iterations and 8 replicas per graph, each replica's
  best cut against the best-known cut on G1, G11, G14, G15, G22 (the issue's must-show: all ≥ 0.99).
  Graphs can be run one at a time (``--graphs G15``); results merge into the recorded table.

``--quick`` shrinks everything to a smoke run of a few seconds (results are then not recorded unless
``--record`` is given).
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time

import numpy as np

SPEED_GRAPHS = ("G1", "G15")
QUALITY_GRAPHS = ("G1", "G11", "G14", "G15", "G22")
REPLICAS = (1, 64, 1024)


# ----------------------------------------------------------------------------- data
def gset_dir(path: str | None = None) -> str | None:
    """The Gset folder: ``path``, ``$NEUROSIM_GSET``, or ``../shared/data/gset`` next to the checkout."""
    from ._report import repo_root

    cands = [path, os.environ.get("NEUROSIM_GSET")]
    root = repo_root()
    if root:
        cands.append(os.path.join(os.path.dirname(root), "shared", "data", "gset"))
    for c in cands:
        if c and os.path.exists(os.path.join(c, "G1.txt")):
            return c
    return None


def best_known(gdir: str) -> dict:
    """``{graph name: best-known cut}`` from ``best_known.csv`` in the Gset folder."""
    out = {}
    path = os.path.join(gdir, "best_known.csv")
    if os.path.exists(path):
        for line in open(path).read().splitlines()[1:]:
            parts = line.split(",")
            if len(parts) >= 4 and parts[3].strip().lstrip("-").isdigit():
                out[parts[0]] = int(parts[3])
    return out


# ----------------------------------------------------------------------------- plain references
def _ising_arrays(problem):
    ising = problem.to_ising()
    A = 2.0 * ising.J.to_dense()
    b = 2.0 * np.asarray(ising.h, dtype=np.float64)
    return A, b, float(ising.offset)


def plain_loop(problem, iters: int, *, seed: int = 0, T0=0.3125, C=8e4, t0=1.0, delta=2e-3, B=2.5, eps=1e-6):
    """The algorithm as a plain per-iteration Python loop over NumPy arrays (one replica).

    Written from the paper: pick a pair uniformly, threshold ``μ = T_n ln(B U + ε)``, flip when the gain
    ``-s_p u_p`` exceeds it, update the membrane potentials with the flipped spin's row.
    Returns (final energy, seconds)."""
    A, b, offset = _ising_arrays(problem)
    n = A.shape[0]
    rng = random.Random(seed)
    s = np.where(np.random.default_rng(seed).random(n) < 0.5, -1.0, 1.0)
    u = A @ s + b
    e = -0.25 * s @ (u + b) + offset
    start = time.perf_counter()
    for k in range(iters):
        p = rng.randrange(n)
        T = T0 / math.log1p((t0 + k * delta) / C)
        mu = T * math.log(B * rng.random() + eps)
        g = -s[p] * u[p]
        if g > mu:
            s[p] = -s[p]
            u += (2.0 * s[p]) * A[p]
            e -= g
    return e, time.perf_counter() - start


def batched_loop(problem, iters: int, replicas: int, *, seed: int = 0, T0=0.3125, C=8e4, t0=1.0, delta=2e-3, B=2.5, eps=1e-6):
    """A Python loop over iterations, vectorised over replicas with NumPy. Returns (energies, seconds)."""
    A, b, offset = _ising_arrays(problem)
    n = A.shape[0]
    rng = np.random.default_rng(seed)
    s = np.where(rng.random((replicas, n)) < 0.5, -1.0, 1.0)
    u = s @ A + b
    e = -0.25 * np.sum(s * (u + b), axis=1) + offset
    rows = np.arange(replicas)
    start = time.perf_counter()
    for k in range(iters):
        p = rng.integers(0, n, size=replicas)
        T = T0 / math.log1p((t0 + k * delta) / C)
        mu = T * np.log(B * rng.random(replicas) + eps)
        sp = s[rows, p]
        g = -sp * u[rows, p]
        f = g > mu
        if f.any():
            r = rows[f]
            s[r, p[f]] = -sp[f]
            u[r] += (-2.0 * sp[f])[:, None] * A[p[f]]
            e[f] -= g[f]
    return e, time.perf_counter() - start


# ----------------------------------------------------------------------------- parts
def _neurosa_rate(problem, replicas, steps, **params):
    import neurosim as ns
    from neurosim.models import NeuroSA

    model = NeuroSA(problem, **params)
    r = ns.run(model, problem, steps=steps, replicas=replicas, seed=0)
    return steps * replicas / r.time_run, r.time_run, r.time_compile


def run_speed(gdir, *, quick: bool = False, graphs=SPEED_GRAPHS, replicas=REPLICAS) -> list[dict]:
    import neurosim as ns

    target = 2e6 if quick else 3e7  # iterations (all replicas) per measurement
    plain_iters = 20_000 if quick else 200_000
    rows = []
    for g in graphs:
        problem = ns.MaxCut.from_gset(os.path.join(gdir, f"{g}.txt"))
        _, dt = plain_loop(problem, plain_iters)
        plain = plain_iters / dt
        for R in replicas:
            steps = int(max(2_000, target // R))
            rate, run_s, comp_s = _neurosa_rate(problem, R, steps)
            row = {"graph": g, "replicas": R, "steps": steps, "neurosa_it_s": rate, "run_s": run_s, "compile_s": comp_s,
                   "plain_loop_it_s": plain, "speedup_vs_plain": rate / plain}
            if R > 1:
                rate_ind, _, _ = _neurosa_rate(problem, R, max(2_000, steps // 4), sites="independent")
                row["independent_sites_it_s"] = rate_ind
                b_iters = max(200, (plain_iters // 10) // max(1, R // 64))
                _, bdt = batched_loop(problem, b_iters, R)
                row["numpy_batched_it_s"] = b_iters * R / bdt
            rows.append(row)
            print(f"{g} R={R}: neurosa {rate / 1e6:.1f} M it/s ({rate / plain:.0f}× plain loop {plain / 1e3:.0f} k it/s)"
                  + (f", independent sites {row['independent_sites_it_s'] / 1e6:.1f} M it/s, numpy-batched {row['numpy_batched_it_s'] / 1e6:.2f} M it/s" if R > 1 else ""), flush=True)
    return rows


def run_quality(gdir, *, graphs=QUALITY_GRAPHS, steps: int = 100_000_000, replicas: int = 8, seed: int = 0, progress: bool | None = None) -> list[dict]:
    import neurosim as ns
    from neurosim.models import NeuroSA

    bk = best_known(gdir)
    rows = []
    for g in graphs:
        problem = ns.MaxCut.from_gset(os.path.join(gdir, f"{g}.txt"))
        # Runs shorter than the published 1e8 iterations compress the annealer in time (δ ∝ 1/steps)
        # so that they still end at the published final temperature.
        delta = 2e-3 * 1e8 / steps
        model = NeuroSA(problem, delta=delta)
        show = sys.stderr.isatty() if progress is None else progress
        r = ns.run(model, problem, steps=steps, replicas=replicas, seed=seed, progress=show)
        cuts = np.asarray(r.report["cut"], dtype=float)
        ref = bk.get(g)
        row = {"graph": g, "n": problem.n, "best_known": ref, "steps": steps, "replicas": replicas, "seed": seed, "delta": delta,
               "cuts": cuts.tolist(), "min_cut": float(cuts.min()), "mean_cut": float(cuts.mean()), "max_cut": float(cuts.max()),
               "min_ratio": float(cuts.min() / ref) if ref else None, "run_s": r.time_run, "compile_s": r.time_compile}
        rows.append(row)
        print(f"{g}: cuts {cuts.astype(int).tolist()} best known {ref}; min ratio {row['min_ratio']:.4f}; {r.time_run:.1f} s", flush=True)
    return rows


# ----------------------------------------------------------------------------- CLI
def add_arguments(parser):
    parser.add_argument("--part", choices=["speed", "quality", "all"], default="all")
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds (not recorded unless --record)")
    parser.add_argument("--record", action="store_true", help="record even a --quick run")
    parser.add_argument("--graphs", default=None, help="comma-separated graphs for the quality part (default G1,G11,G14,G15,G22)")
    parser.add_argument("--steps", type=float, default=1e8, help="iterations per quality run (default 1e8, the published length)")
    parser.add_argument("--replicas", type=int, default=8, help="replicas per quality run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gset", default=None, help="Gset folder (default $NEUROSIM_GSET or ../shared/data/gset)")


def _speed_markdown(rows) -> str:
    from ._report import markdown_table

    table = [{"graph": r["graph"], "replicas": r["replicas"], "NeuroSA (M it/s)": r["neurosa_it_s"] / 1e6,
              "independent sites (M it/s)": r.get("independent_sites_it_s", float("nan")) / 1e6,
              "plain loop (k it/s)": r["plain_loop_it_s"] / 1e3, "NumPy batched (M it/s)": r.get("numpy_batched_it_s", float("nan")) / 1e6,
              "speed-up vs plain loop": r["speedup_vs_plain"]} for r in rows]
    return ("NeuroSA iterations per second, all replicas together (`neurosim bench neurosa --part speed`). "
            "*plain loop*: the algorithm as a per-iteration Python loop over NumPy arrays (one replica, "
            "`plain_loop` in `neurosim/bench/_neurosa.py`); *NumPy batched*: a Python loop over iterations "
            "vectorised over replicas. NeuroSA default = shared site sequence; *independent sites* = "
            "`sites=\"independent\"`.\n\n" + markdown_table(table, floatfmt="{:.3g}"))


def _quality_markdown(rows) -> str:
    from ._report import markdown_table

    table = [{"graph": r["graph"], "n": r["n"], "best known": r["best_known"], "replicas": r["replicas"],
              "iterations": f"{r['steps']:.0e}", "min cut": r["min_cut"], "mean cut": r["mean_cut"], "max cut": r["max_cut"],
              "min / best known": r["min_ratio"], "all ≥ 0.99": bool(r["min_ratio"] is not None and r["min_ratio"] >= 0.99),
              "run (s)": r["run_s"]} for r in rows]
    return ("NeuroSA with the published constants (C = 8e4, T0 = 0.3125, t0 = 1, δ = 2e-3, B = 2.5, ε = 1e-6; "
            "random scan, shared site sequence), each replica's best cut (`neurosim bench neurosa --part quality`). "
            "The paper reports all runs within (0.989, 1.00) of the best known.\n\n" + markdown_table(table, floatfmt="{:.4g}"))


def main(args) -> dict:
    from ._report import default_docs_dir, record_section

    gdir = gset_dir(args.gset)
    if gdir is None:
        raise SystemExit("Gset graphs not found: pass --gset or set NEUROSIM_GSET")
    record = args.record or not args.quick
    out: dict = {}
    if args.part in ("speed", "all"):
        rows = run_speed(gdir, quick=args.quick)
        out["speed"] = rows
        if record:
            record_section("neurosa", _speed_markdown(rows), rows, variant="speed")
    if args.part in ("quality", "all"):
        graphs = tuple(args.graphs.split(",")) if args.graphs else QUALITY_GRAPHS
        steps = int(args.steps)
        replicas = args.replicas
        if args.quick:
            graphs, steps, replicas = graphs[:1] if args.graphs else ("G11",), min(steps, 200_000), min(replicas, 4)
        rows = run_quality(gdir, graphs=graphs, steps=steps, replicas=replicas, seed=args.seed)
        out["quality"] = rows
        if record:
            # merge with graphs recorded earlier (graphs can be run one at a time)
            path = os.path.join(default_docs_dir(), "benchmarks", "neurosa-quality.json")
            merged = {}
            if os.path.exists(path):
                try:
                    merged = {r["graph"]: r for r in json.load(open(path))["data"]}
                except (OSError, ValueError, KeyError, TypeError):
                    merged = {}
            merged.update({r["graph"]: r for r in rows})
            order = [g for g in QUALITY_GRAPHS if g in merged] + sorted(g for g in merged if g not in QUALITY_GRAPHS)
            all_rows = [merged[g] for g in order]
            record_section("neurosa", _quality_markdown(all_rows), all_rows, variant="quality")
    return out
