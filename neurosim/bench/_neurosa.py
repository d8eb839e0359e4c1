"""``neurosim bench neurosa``: NeuroSA speed (vs a plain NumPy/Python loop) and Gset solution quality.

Two parts, recorded as separate sections of docs/benchmarks.md:

* ``speed``: iterations per second (all replicas together) of the NeuroSA model on G1 and G15 with
  1 / 8 / 64 / 1024 replicas, side by side in the same run with two plain-NumPy references written
  from the paper: a per-iteration Python loop (the style of the authors' CPU code) and a loop over
  iterations vectorised over replicas. NeuroSA is measured twice, each time in a fresh child process:
  with XLA's default flags, and with XLA:CPU's small-loop threshold raised
  (:data:`TUNED_XLA_FLAG`), which makes XLA compile the whole step loop as one function instead of
  dispatching its kernels one by one. Then the time of 1e8 iterations × 8 replicas on G15 (the
  published run length), measured in both settings (``--quick``: extrapolated from 1e6).
* ``quality``: with the published constants, 1e8 iterations and 8 replicas per graph, each replica's
  best cut against the best-known cut on G1, G11, G14, G15, G22 (the issue's must-show: all ≥ 0.99).
  Graphs can be run one at a time (``--graphs G15``); results merge into the recorded table.

``--quick`` shrinks everything to a smoke run (results are then not recorded unless ``--record`` is
given).
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time

import numpy as np

from .._xla import with_small_loop_threshold
from ._data import best_known_cuts as best_known  # (the examples import these two names from here)
from ._data import find_gset as gset_dir

SPEED_GRAPHS = ("G1", "G15")
QUALITY_GRAPHS = ("G1", "G11", "G14", "G15", "G22")
REPLICAS = (1, 8, 64, 1024)
TARGET_IT_S = 50e6  # the target on the 2-core CPU
TARGET_SPEEDUP = 250.0

#: XLA:CPU option raising the byte threshold under which a while loop is compiled as one function
#: (default 1024 bytes per iteration) to neurosim's default; must be in ``XLA_FLAGS`` before JAX compiles.
TUNED_XLA_FLAG = with_small_loop_threshold("")


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
def _neurosa_rate(problem, replicas, steps, *, reps: int = 1, **params):
    """Best of ``reps`` runs: (iterations/s over all replicas, run seconds, compile seconds)."""
    import neurosim as ns
    from neurosim.models import NeuroSA

    model = NeuroSA(problem, **params)
    best = None
    for _ in range(max(1, reps)):
        r = ns.run(model, problem, steps=steps, replicas=replicas, seed=0)
        if best is None or r.time_run < best.time_run:
            best = r
    return steps * replicas / best.time_run, best.time_run, best.time_compile


def _single_chain_refs(problem, steps: int, reps: int) -> dict:
    """One chain, in this process beside neurosim's own rate: the step-by-step jax path
    (``NEUROSIM_FASTCHAIN=0``) and, when numba is installed, the compiled reference loop with the same
    random numbers (``_numba_chain``), best of ``reps`` each, alternated with neurosim's runs."""
    import neurosim._segment as segment
    from neurosim import _fastchain
    from neurosim.models import NeuroSA

    from . import _numba_chain

    out = {"fused_chain": _fastchain.available()}
    old = os.environ.get("NEUROSIM_FASTCHAIN")
    os.environ["NEUROSIM_FASTCHAIN"] = "0"
    segment._COMPILED.clear()  # the switch is read when a segment is traced
    try:
        out["jax_path_it_s"] = _neurosa_rate(problem, 1, steps, reps=reps)[0]
    finally:
        os.environ.pop("NEUROSIM_FASTCHAIN") if old is None else os.environ.__setitem__("NEUROSIM_FASTCHAIN", old)
        segment._COMPILED.clear()
    if _numba_chain.available():
        model = NeuroSA(problem, horizon=steps)
        best, same = 0.0, True
        for _ in range(max(1, reps)):
            ref = _numba_chain.run_chain(model, steps, seed=0)
            fast = _neurosa_rate(problem, 1, steps, reps=1)[0]  # alternated with the reference
            best = max(best, ref["it_s"])
            out["it_s_alternated"] = max(out.get("it_s_alternated", 0.0), fast)
        # the same chain: neurosim's final state for this seed equals the reference loop's
        import neurosim as ns

        r = ns.run(model, problem, steps=steps, replicas=1, seed=0)
        same = bool(np.array_equal(np.asarray(r.final_state)[0], ref["state"]))
        out.update({"numba_it_s": best, "numba_same_final_state": same})
    return out


def _steps_for(R: int, quick: bool) -> int:
    target = 4e6 if quick else 1e8  # iterations, all replicas together
    return int(min(3_000_000, max(20_000, target // R)))


def _xla_env(tuned: bool) -> dict:
    env = dict(os.environ)
    flags = [f for f in env.get("XLA_FLAGS", "").split() if "xla_cpu_small_while_loop_byte_threshold" not in f]
    if tuned:
        flags.append(TUNED_XLA_FLAG)
    env["XLA_FLAGS"] = " ".join(flags)
    # `import neurosim` raises the threshold itself unless told not to (neurosim/_xla.py)
    env["NEUROSIM_XLA_DEFAULTS"] = "1" if tuned else "0"
    return env


def _child(job: dict, tuned: bool) -> list:
    """Run ``job`` (see :func:`_child_main`) in a fresh Python process with default or tuned XLA flags."""
    import subprocess

    out = subprocess.run([sys.executable, "-m", "neurosim.bench._neurosa", json.dumps(job)], env=_xla_env(tuned),
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"NeuroSA speed child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _child_main(job: dict) -> list:
    import neurosim as ns
    from neurosim.models import NeuroSA

    problem = ns.MaxCut.from_gset(os.path.join(job["gdir"], f"{job['graph']}.txt"))
    rows = []
    if job["kind"] == "rates":
        for R in job["replicas"]:
            steps = _steps_for(R, job["quick"])
            rate, run_s, comp_s = _neurosa_rate(problem, R, steps, reps=job["reps"])
            row = {"replicas": R, "steps": steps, "it_s": rate, "run_s": run_s, "compile_s": comp_s}
            if R == 1:
                row.update(_single_chain_refs(problem, steps, job["reps"]))
            if R > 1:
                row["independent_it_s"] = _neurosa_rate(problem, R, max(2_000, steps // 8), sites="independent")[0]
            rows.append(row)
    else:  # "long": the published run length on one graph
        steps, R = job["steps"], job["replicas"]
        r = ns.run(NeuroSA(problem, delta=2e-3 * 1e8 / steps), problem, steps=steps, replicas=R, seed=0)
        rows.append({"steps": steps, "replicas": R, "run_s": r.time_run, "compile_s": r.time_compile,
                     "cuts": np.asarray(r.report["cut"]).tolist()})
    return rows


def run_speed(gdir, *, quick: bool = False, graphs=SPEED_GRAPHS, replicas=REPLICAS, long_steps: int | None = None) -> dict:
    """Rates table (rows per graph × replicas) and the 1e8 × 8 G15 timing, both XLA settings."""
    plain_iters = 20_000 if quick else 300_000
    reps = 1 if quick else 2
    rows = []
    for g in graphs:
        import neurosim as ns

        problem = ns.MaxCut.from_gset(os.path.join(gdir, f"{g}.txt"))
        _, dt = plain_loop(problem, plain_iters)
        plain = plain_iters / dt
        job = {"kind": "rates", "gdir": gdir, "graph": g, "replicas": list(replicas), "quick": quick, "reps": reps}
        default = {r["replicas"]: r for r in _child(job, tuned=False)}
        tuned = {r["replicas"]: r for r in _child(job, tuned=True)}
        for R in replicas:
            d, t = default[R], tuned[R]
            row = {"graph": g, "replicas": R, "steps": d["steps"], "neurosa_it_s": d["it_s"], "neurosa_tuned_it_s": t["it_s"],
                   "run_s": d["run_s"], "compile_s": d["compile_s"], "tuned_run_s": t["run_s"],
                   "plain_loop_it_s": plain, "speedup_vs_plain": d["it_s"] / plain, "tuned_speedup_vs_plain": t["it_s"] / plain}
            if R == 1:  # the single chain against the compiled reference loop, same (tuned = default) process
                row.update({k: t[k] for k in ("fused_chain", "jax_path_it_s", "numba_it_s", "numba_same_final_state", "it_s_alternated") if k in t})
                if "numba_it_s" in t:
                    print(f"{g} R=1: neurosim {t['it_s'] / 1e6:.1f} M it/s (fused chain: {t['fused_chain']}; alternated with the loop "
                          f"{t['it_s_alternated'] / 1e6:.1f}), step-by-step jax path {t['jax_path_it_s'] / 1e6:.1f}, numba loop "
                          f"{t['numba_it_s'] / 1e6:.1f} M it/s (same final state: {t['numba_same_final_state']})", flush=True)
            if R > 1:
                row["independent_sites_it_s"] = d["independent_it_s"]
                row["independent_sites_tuned_it_s"] = t["independent_it_s"]
                b_iters = max(200, (plain_iters // 10) // max(1, R // 8))
                _, bdt = batched_loop(problem, b_iters, R)
                row["numpy_batched_it_s"] = b_iters * R / bdt
            rows.append(row)
            print(f"{g} R={R}: neurosa {d['it_s'] / 1e6:.1f} M it/s default XLA, {t['it_s'] / 1e6:.1f} M it/s tuned "
                  f"({d['it_s'] / plain:.0f}× / {t['it_s'] / plain:.0f}× the plain loop, {plain / 1e3:.0f} k it/s)"
                  + (f"; independent sites {row['independent_sites_it_s'] / 1e6:.2f} / {row['independent_sites_tuned_it_s'] / 1e6:.2f} M it/s,"
                     f" numpy-batched {row['numpy_batched_it_s'] / 1e6:.2f} M it/s" if R > 1 else ""), flush=True)

    # The published run length: 1e8 iterations × 8 replicas on G15.
    steps = int(long_steps or (1_000_000 if quick else 100_000_000))
    long = {"graph": "G15", "replicas": 8, "steps": steps, "target_steps": 100_000_000}
    for label, tuned in (("default", False), ("tuned", True)):
        r = _child({"kind": "long", "gdir": gdir, "graph": "G15", "steps": steps, "replicas": 8}, tuned=tuned)[0]
        long[f"{label}_run_s"] = r["run_s"]
        long[f"{label}_time_1e8_s"] = r["run_s"] * 1e8 / steps
        long[f"{label}_cuts"] = r["cuts"]
        print(f"G15 {steps:.0e} iterations × 8 replicas, {label} XLA: {r['run_s']:.1f} s"
              + ("" if steps == 100_000_000 else f" (→ {long[f'{label}_time_1e8_s']:.0f} s for 1e8)")
              + f"; cuts {r['cuts']}", flush=True)
    return {"rates": rows, "long": long}


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
               "min_ratio": float(cuts.min() / ref) if ref else None, "run_s": r.time_run, "compile_s": r.time_compile,
               "xla": "tuned" if "xla_cpu_small_while_loop_byte_threshold" in os.environ.get("XLA_FLAGS", "") else "default"}
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
    parser.add_argument("--long-steps", type=float, default=None,
                        help="speed part: iterations of the G15 × 8-replica timing run (default 1e8; --quick 1e6, extrapolated)")


def _speed_markdown(res) -> str:
    from ._report import markdown_table

    rows, long = res["rates"], res["long"]
    table = [{"graph": r["graph"], "replicas": r["replicas"],
              "NeuroSA, default XLA (M it/s)": r["neurosa_it_s"] / 1e6,
              "NeuroSA, tuned XLA (M it/s)": r["neurosa_tuned_it_s"] / 1e6,
              "× plain loop (default / tuned)": f"{r['speedup_vs_plain']:.0f} / {r['tuned_speedup_vs_plain']:.0f}",
              "≥ 50 M it/s (default / tuned)": f"{'yes' if r['neurosa_it_s'] >= TARGET_IT_S else 'no'} / {'yes' if r['neurosa_tuned_it_s'] >= TARGET_IT_S else 'no'}",
              "independent sites (M it/s, default / tuned)": (f"{r['independent_sites_it_s'] / 1e6:.3g} / {r['independent_sites_tuned_it_s'] / 1e6:.3g}"
                                                               if "independent_sites_it_s" in r else ""),
              "plain loop (k it/s)": r["plain_loop_it_s"] / 1e3,
              "NumPy batched (M it/s)": f"{r['numpy_batched_it_s'] / 1e6:.3g}" if "numpy_batched_it_s" in r else ""} for r in rows]
    chains = [{"graph": r["graph"], "neurosim (M it/s)": r["neurosa_tuned_it_s"] / 1e6,
               "neurosim, alternated with the loop (M it/s)": r["it_s_alternated"] / 1e6,
               "step-by-step jax path (M it/s)": r["jax_path_it_s"] / 1e6, "numba loop (M it/s)": r["numba_it_s"] / 1e6,
               "neurosim / numba": min(r["neurosa_tuned_it_s"], r["it_s_alternated"]) / r["numba_it_s"],
               "same final state": r["numba_same_final_state"], "fused chain": r["fused_chain"]}
              for r in rows if r["replicas"] == 1 and "numba_it_s" in r]
    measured = long["steps"] == long["target_steps"]
    how = "measured" if measured else f"extrapolated from {long['steps']:.0e} iterations"
    txt = ("NeuroSA iterations per second, all replicas together (`neurosim bench neurosa --part speed`), random scan "
           "with the shared site sequence (the default). *default XLA*: XLA:CPU as JAX ships it (a process started with "
           "`NEUROSIM_XLA_DEFAULTS=0`); *tuned XLA*: the same code with "
           f"`XLA_FLAGS={TUNED_XLA_FLAG}`, which `import neurosim` sets by default (XLA:CPU then compiles the step loop "
           "as one function instead of dispatching its kernels one by one; see docs/neurosa.md, \"Performance\"). "
           "*plain loop*: the algorithm as a per-iteration Python loop over NumPy arrays (one replica, `plain_loop` in "
           "`neurosim/bench/_neurosa.py`); *NumPy batched*: a Python loop over iterations vectorised over replicas; "
           "*independent sites*: `sites=\"independent\"`. Target: ≥ 50 M it/s and ≥ 250× the plain loop.\n\n"
           + markdown_table(table, floatfmt="{:.3g}"))
    if chains:
        txt += ("\n\n**One chain against a compiled loop.** *numba loop*: the same algorithm as a plain loop compiled by "
                "numba (one core; `neurosim/bench/_numba_chain.py`), with neurosim's random numbers for the same seed, "
                "run in the same process as neurosim's rows and alternated with them; *step-by-step jax path*: "
                "`NEUROSIM_FASTCHAIN=0` (one XLA loop iteration per step); *neurosim*: the default, where a one-replica "
                "chain runs blocks of iterations in one C++ custom call (`neurosim/_fastchain.py`, bit-identical to the "
                "jax path). *neurosim / numba* uses the lower of neurosim's two rates. Target: ≥ 1.\n\n"
                + markdown_table(chains, floatfmt="{:.3g}"))
    txt += (f"\n\n1e8 iterations × 8 replicas on G15 ({how}, published constants, compile excluded): "
            f"**{long['default_time_1e8_s']:.0f} s** with default XLA, **{long['tuned_time_1e8_s']:.0f} s** tuned"
            + (f"; best cuts {sorted(int(c) for c in long['default_cuts'])} (best known 3050)" if measured else "") + ".")
    return txt


def _quality_markdown(rows) -> str:
    from ._report import markdown_table

    table = [{"graph": r["graph"], "n": r["n"], "best known": r["best_known"], "replicas": r["replicas"],
              "iterations": f"{r['steps']:.0e}", "min cut": int(r["min_cut"]), "mean cut": f"{r['mean_cut']:.1f}", "max cut": int(r["max_cut"]),
              "min / best known": f"{r['min_ratio']:.4f}" if r["min_ratio"] is not None else "", "all ≥ 0.99": bool(r["min_ratio"] is not None and r["min_ratio"] >= 0.99),
              "run (s)": f"{r['run_s']:.0f}", "XLA": r.get("xla", "default")} for r in rows]
    return ("NeuroSA with the published constants (C = 8e4, T0 = 0.3125, t0 = 1, δ = 2e-3, B = 2.5, ε = 1e-6; "
            "random scan, shared site sequence), each replica's best cut (`neurosim bench neurosa --part quality`). "
            "The paper reports all runs within (0.989, 1.00) of the best known. *XLA*: `tuned` = run with "
            f"`XLA_FLAGS={TUNED_XLA_FLAG}` (speed only; results are identical).\n\n" + markdown_table(table, floatfmt="{:.4g}"))


def main(args) -> dict:
    from ._report import default_docs_dir, record_section, speed_variant

    gdir = gset_dir(args.gset)
    if gdir is None:
        raise SystemExit("Gset graphs not found: pass --gset or set NEUROSIM_GSET")
    record = args.record or not args.quick
    out: dict = {}
    if args.part in ("speed", "all"):
        res = run_speed(gdir, quick=args.quick, long_steps=int(args.long_steps) if args.long_steps else None)
        out["speed"] = res
        if record:
            record_section("neurosa", _speed_markdown(res), res, variant="speed-" + speed_variant())
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


if __name__ == "__main__":  # child process of the speed part: python -m neurosim.bench._neurosa JOB_JSON
    print(json.dumps(_child_main(json.loads(sys.argv[1]))))
