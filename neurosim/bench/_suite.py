"""``neurosim bench suite``: throughput of every model, time-to-target, dwave-samplers side by side, scaling.

One command (``neurosim bench suite``; ``--quick`` for a smoke run) that measures, in one run:

1. **Throughput**: every registered model × {G1, G15, G22, dense G(2000, ½)} × replicas {1, 64,
   1024}: replica-iterations per second and neuron updates per second (an iteration of a synchronous
   model updates all n neurons; of a one-flip-per-step model, one — told apart by the contract's
   ``default_best_every``), compile time apart from run time. Each point first runs a short
   calibration so the measured run lasts about ``--target-s`` seconds.
2. **Time to target** on the Gset graphs: the first time a model's best cut over the replicas
   reaches 99 % / 99.5 % of the best known, for a fixed budget of sweeps.
3. **dwave-samplers** simulated annealing (1000 sweeps × 4 reads) and tabu on the same instances.
4. **Scaling**: time per step and memory (synapses + state) against n, edges and replicas, with
   log-log fits (exponents) — plotted to docs/figures/scaling_*.png and summarised in
   docs/performance.md.
"""

from __future__ import annotations

import os
import re
import sys
import time

import jax
import numpy as np

from .._build import build_model, model_registry, parse_params
from .._graphs import MaxCut
from .._matrix import SymmetricMatrix
from .._run import run
from .._saveat import SaveAt
from ._data import best_known_cuts
from ._data import find_gset as gset_dir
from ._report import default_docs_dir, environment, markdown_table, record_section

GRAPHS = ("G1", "G15", "G22", "dense2000")
REPLICAS = (1, 64, 1024)
# Parameters that make a model anneal for time-to-target (defaults elsewhere: the model's own).
TTT_PARAMS = {"gibbs": dict(rule="metropolis", schedule="geometric", T_start=3.0, T_end=0.05)}
# Variants measured besides every registered model with its defaults.
EXTRA_VARIANTS = ("gibbs:mode=synchronous",)


def dense_half(n: int = 2000, seed: int = 0) -> MaxCut:
    """The Q-score instance (seed, n) as a Max-Cut problem (edge list: fine at n = 2000)."""
    from ..qscore import edges_reference

    e = edges_reference(seed, n)
    w = SymmetricMatrix.from_edges(n, e[:, 0], e[:, 1], np.ones(len(e)), name=f"gnp{n}")
    return MaxCut(w, f"G({n},1/2)")


def load_instances(names, gdir) -> dict:
    out = {}
    for name in names:
        if name.startswith("dense"):
            n = int(name[5:] or 2000)
            out[name] = (dense_half(n), None)
        elif gdir:
            out[name] = (MaxCut.from_gset(os.path.join(gdir, f"{name}.txt")), best_known_cuts(gdir).get(name))
    return out


class Progress:
    def __init__(self, total: int, stream=sys.stderr):
        self.total, self.done, self.t0, self.stream = total, 0, time.perf_counter(), stream

    def __call__(self, label: str):
        self.done += 1
        f = self.done / max(1, self.total)
        bar = "#" * int(30 * f) + "." * (30 - int(30 * f))
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} {time.perf_counter() - self.t0:6.0f}s {label[:50]:50s}")
        if self.done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


def _nbytes(tree) -> int:
    return int(sum(x.size * x.dtype.itemsize for x in jax.tree_util.tree_leaves(tree) if hasattr(x, "dtype")))


def memory_bytes(model, replicas: int) -> int:
    """Synapses + constants of the model and its state for ``replicas`` replicas (device bytes)."""
    import jax.numpy as jnp

    key = jax.ShapeDtypeStruct((replicas,), jnp.uint32)
    state = jax.eval_shape(lambda k: model.init(None, key=k), key)
    return _nbytes(model) + _nbytes(state)


def neurons_per_step(model) -> int:
    return model.n if model.default_best_every == 1 else 1


def parse_variant(spec: str) -> tuple[str, dict]:
    """``"gibbs:mode=synchronous:rule=metropolis"`` → ``("gibbs", {"mode": "synchronous", ...})``."""
    name, *items = spec.split(":")
    if name not in model_registry():
        raise ValueError(f"--models: unknown model {name!r}; available: {sorted(model_registry())}")
    return name, parse_params(items)


def measure(spec, problem, replicas, *, target_s=1.0, max_steps=10**8) -> dict:
    """Throughput of model variant ``spec`` (see :func:`parse_variant`) on ``problem`` with
    ``replicas`` replicas (a short calibration run, then a run of about ``target_s`` seconds)."""
    name, params = parse_variant(spec)
    m = build_model(name, problem, steps=1000, **params)
    per = neurons_per_step(m)
    s0 = 20 if per > 1 else max(100, problem.n)
    r0 = run(m, problem, steps=s0, replicas=replicas, seed=0)
    rate = s0 / max(r0.time_run, 1e-6)
    steps = int(min(max_steps, max(s0, rate * target_s)))
    r = run(m, problem, steps=steps, replicas=replicas, seed=0)
    its = steps * replicas / max(r.time_run, 1e-9)
    return {
        "model": spec,
        "graph": problem.name,
        "n": problem.n,
        "edges": int(problem.weights.num_edges),
        "replicas": replicas,
        "steps": steps,
        "compile_s": r.time_compile,
        "run_s": r.time_run,
        "step_s": r.time_run / steps,
        "iterations_per_s": its,
        "neuron_updates_per_s": its * per,
        "memory_bytes": memory_bytes(m, replicas),
        "best_cut": float(np.max(r.report["cut"])),
        "device": r.device,
    }


def time_to_target(spec, problem, bk, *, replicas=64, sweeps=200, records=100) -> dict:
    """Best cut over ``replicas`` vs time for a budget of ``sweeps`` sweeps; first times ≥ 99 / 99.5 %."""
    name, params = parse_variant(spec)
    params = {**TTT_PARAMS.get(name, {}), **params}
    probe = build_model(name, problem, steps=1000, **params)
    steps = sweeps * (1 if neurons_per_step(probe) > 1 else problem.n)
    steps = max(records, steps // records * records)
    m = build_model(name, problem, steps=steps, **params)
    r = run(m, problem, steps=steps, replicas=replicas, seed=0, save=SaveAt(every=steps // records, what=("best_energy",)))
    best = -np.asarray(r.records["best_energy"], np.float64).min(axis=1)  # best cut so far per record
    t = (np.asarray(r.record_steps) + 1) / steps * r.time_run
    out = {"model": spec, "graph": problem.name, "replicas": replicas, "steps": steps, "sweeps": sweeps,
           "best_cut": float(np.max(r.report["cut"])), "run_s": r.time_run, "compile_s": r.time_compile, "best_known": bk}
    for frac in (0.99, 0.995):
        hit = np.flatnonzero(best >= frac * bk) if bk else []
        out[f"t{frac * 100:g}_s"] = float(t[hit[0]]) if len(hit) else None
    return out


def dwave_baselines(problem, *, sa_sweeps=1000, sa_reads=4, tabu_ms=2000) -> dict | None:
    """dwave-samplers SA and tabu on ``problem`` (None when the bench extra is not installed)."""
    try:
        import dimod
        from dwave.samplers import SimulatedAnnealingSampler, TabuSampler
    except ImportError:
        return None
    r, c, v = problem.weights.coo()
    up = r < c
    # minimise Σ w s_i s_j / 2 … = −cut + const: J_ij = w_ij / 2 (SPIN)
    bqm = dimod.BinaryQuadraticModel.from_numpy_vectors(np.zeros(problem.n), (r[up], c[up], 0.5 * v[up]), 0.0, dimod.SPIN)
    out = {"graph": problem.name}
    t0 = time.perf_counter()
    ss = SimulatedAnnealingSampler().sample(bqm, num_reads=sa_reads, num_sweeps=sa_sweeps, seed=0)
    dt = time.perf_counter() - t0
    out["sa_s"] = dt
    out["sa_cut"] = float(np.max(problem.cut(ss.record.sample.astype(np.int8))))
    out["sa_updates_per_s"] = problem.n * sa_sweeps * sa_reads / dt
    t0 = time.perf_counter()
    ts = TabuSampler().sample(bqm, num_reads=1, timeout=tabu_ms, seed=0)
    out["tabu_s"] = time.perf_counter() - t0
    out["tabu_cut"] = float(np.max(problem.cut(ts.record.sample.astype(np.int8))))
    return out


# ---------------------------------------------------------------------------- scaling
def loglog_fit(x, y) -> float:
    """Slope of log y against log x (least squares): the scaling exponent."""
    x, y = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    return float(np.polyfit(x, y, 1)[0])


def scaling(model_names, *, quick=False, progress=None) -> dict:
    import networkx as nx

    ns_ = (250, 500, 1000, 2000) if quick else (500, 1000, 2000, 4000, 8000)
    degs = (4, 8, 16) if quick else (4, 8, 16, 32, 64)
    reps = (1, 8, 64) if quick else (1, 4, 16, 64, 256, 1024)
    target = 0.1 if quick else 0.5
    out = {}
    for name in model_names:
        rows = {"n": [], "edges": [], "replicas": []}
        for n in ns_:
            p = MaxCut.from_graph(nx.random_regular_graph(4, n, seed=1), name=f"rr4-{n}")
            rows["n"].append(measure(name, p, 64, target_s=target))
            progress and progress(f"scaling {name} n={n}")
        for d in degs:
            p = MaxCut.from_graph(nx.random_regular_graph(d, 1000, seed=1), name=f"rr{d}-1000")
            rows["edges"].append(measure(name, p, 64, target_s=target))
            progress and progress(f"scaling {name} deg={d}")
        p = MaxCut.from_graph(nx.random_regular_graph(4, 1000, seed=1), name="rr4-1000")
        for R in reps:
            rows["replicas"].append(measure(name, p, R, target_s=target))
            progress and progress(f"scaling {name} R={R}")
        fits = {}
        for axis, key in (("n", "n"), ("edges", "edges"), ("replicas", "replicas")):
            xs = [r[key] for r in rows[axis]]
            fits[axis] = {
                "time": loglog_fit(xs, [r["step_s"] for r in rows[axis]]),
                "memory": loglog_fit(xs, [r["memory_bytes"] for r in rows[axis]]),
            }
        out[name] = {"rows": rows, "exponents": fits}
    return out


def plot_scaling(sc: dict, fig_dir: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for what, key, label in (("time", "step_s", "seconds per step"), ("memory", "memory_bytes", "bytes (synapses + state)")):
        fig, axes = plt.subplots(1, 3, figsize=(11, 3.3))
        for ax, (axis, xlabel) in zip(axes, (("n", "n (4-regular, R = 64)"), ("edges", "edges (n = 1000, R = 64)"), ("replicas", "replicas (4-regular, n = 1000)"))):
            for i, (name, d) in enumerate(sc.items()):
                xs = [r[axis] for r in d["rows"][axis]]
                ys = [r[key] for r in d["rows"][axis]]
                ax.loglog(xs, ys, "o-", color=f"C{i}", label=f"{name}: slope {d['exponents'][axis][what]:.2f}")
            ax.set_xlabel(xlabel)
            ax.set_ylabel(label)
            ax.legend(fontsize=7)
        fig.suptitle(f"scaling of {what} (log-log; slope = exponent)")
        fig.tight_layout()
        path = os.path.join(fig_dir, f"scaling_{what}.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def _replace_marked(path: str, key: str, body: str) -> None:
    text = open(path).read() if os.path.exists(path) else ""
    block = f"<!-- bench:{key} -->\n{body.strip()}\n<!-- /bench:{key} -->"
    pat = re.compile(rf"<!-- bench:{re.escape(key)} -->.*?<!-- /bench:{re.escape(key)} -->", re.S)
    text = pat.sub(lambda _m: block, text) if pat.search(text) else text.rstrip() + "\n\n" + block + "\n"
    with open(path, "w") as fh:
        fh.write(text)


# ---------------------------------------------------------------------------- CLI
def add_arguments(parser) -> None:
    parser.add_argument("--models", default=None, help="comma-separated model variants NAME[:PARAM=VALUE...] "
                        f"(default: every registered model, plus {', '.join(EXTRA_VARIANTS)})")
    parser.add_argument("--graphs", default=",".join(GRAPHS), help=f"graphs (default {','.join(GRAPHS)}; denseN = G(N, ½))")
    parser.add_argument("--replicas", default=",".join(map(str, REPLICAS)), help="replica counts (default 1,64,1024)")
    parser.add_argument("--target-s", type=float, default=1.0, help="seconds per measured run (default 1)")
    parser.add_argument("--ttt-sweeps", type=int, default=200, help="sweep budget of the time-to-target runs (default 200)")
    parser.add_argument("--no-dwave", action="store_true", help="skip the dwave-samplers baselines")
    parser.add_argument("--no-scaling", action="store_true", help="skip the scaling study")
    parser.add_argument("--scaling-models", default="gibbs,gibbs:mode=synchronous", help="model variants in the scaling study (default gibbs,gibbs:mode=synchronous)")
    parser.add_argument("--gset", default=None, help="Gset folder (default $NEUROSIM_GSET or ../shared/data/gset)")
    parser.add_argument("--quick", action="store_true", help="smoke run: G1 + dense G(500, ½), replicas 1,64, short runs")
    parser.add_argument("--docs", default=None, help="docs directory to write (default: the checkout's docs/)")
    parser.add_argument("--variant", default=None, help="record as section suite/VARIANT (e.g. 'gpu')")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")


def main(args) -> dict:
    models = args.models.split(",") if args.models else sorted(model_registry()) + [v for v in EXTRA_VARIANTS if v.split(":")[0] in model_registry()]
    for m in models:
        parse_variant(m)
    graphs = args.graphs.split(",")
    replicas = [int(r) for r in args.replicas.split(",")]
    target, ttt_sweeps, ttt_reps, tabu_ms = args.target_s, args.ttt_sweeps, 64, 2000
    if args.quick:
        graphs, replicas, target, ttt_sweeps, ttt_reps, tabu_ms = ["G1", "dense500"], [1, 64], 0.1, 20, 8, 200
    gdir = gset_dir(args.gset)
    inst = load_instances(graphs, gdir)
    if not inst:
        raise ValueError(f"--graphs: none of {graphs} could be loaded (Gset folder: {gdir})")
    docs = args.docs or default_docs_dir()
    fig_dir = os.path.join(docs, "figures")
    os.makedirs(fig_dir, exist_ok=True)
    env = environment()
    print(f"device: {env['device']}", file=sys.stderr)

    gset_names = [g for g in inst if inst[g][1]]
    scaling_models = [] if args.no_scaling else args.scaling_models.split(",")
    n_sc = (4 + 3 + 3 if args.quick else 5 + 5 + 6) * len(scaling_models)
    progress = Progress(len(models) * len(inst) * len(replicas) + len(models) * len(gset_names) + (0 if args.no_dwave else len(inst)) + n_sc)

    thr = []
    for name in models:
        for g, (p, _) in inst.items():
            for R in replicas:
                thr.append(measure(name, p, R, target_s=target))
                progress(f"{name} {g} R={R}")
    ttt = []
    for name in models:
        for g in gset_names:
            p, bk = inst[g]
            ttt.append(time_to_target(name, p, bk, replicas=ttt_reps, sweeps=ttt_sweeps))
            progress(f"time-to-target {name} {g}")
    dw = []
    if not args.no_dwave:
        for g, (p, bk) in inst.items():
            d = dwave_baselines(p, tabu_ms=tabu_ms)
            progress(f"dwave {g}")
            if d is not None:
                d["best_known"] = bk
                dw.append(d)
    sc = scaling(scaling_models, quick=args.quick, progress=progress) if scaling_models else {}

    data = {"throughput": thr, "time_to_target": ttt, "dwave": dw, "scaling": sc, "quick": bool(args.quick)}
    md = _markdown(data, args, ttt_reps, ttt_sweeps, tabu_ms)
    if sc:
        plot_scaling(sc, fig_dir)
        _write_performance(docs, sc, env)
    record_section("suite", md, data, docs_dir=docs, env=env, variant=args.variant)
    return data


def _fmt_rate(x):
    return f"{x / 1e6:.3g} M"


def _markdown(data, args, ttt_reps, ttt_sweeps, tabu_ms) -> str:
    cmd = "neurosim bench suite" + (" --quick" if args.quick else "")
    parts = [f"Command: `{cmd}`. Rates are per second of run time (compile time apart); "
             "an iteration is one step of one replica; a neuron update is one neuron tested.\n"]
    rows = [{"model": r["model"], "graph": r["graph"], "n": r["n"], "edges": r["edges"], "R": r["replicas"],
             "iterations/s": _fmt_rate(r["iterations_per_s"]), "neuron updates/s": _fmt_rate(r["neuron_updates_per_s"]),
             "compile s": r["compile_s"], "run s": r["run_s"], "memory MB": r["memory_bytes"] / 1e6} for r in data["throughput"]]
    parts.append("### Throughput\n\n" + markdown_table(rows, floatfmt="{:.3g}"))
    if data["time_to_target"]:
        rows = [{"model": r["model"], "graph": r["graph"], "best known": r["best_known"], "best cut": r["best_cut"],
                 "t 99% s": "—" if r["t99_s"] is None else f"{r['t99_s']:.3g}",
                 "t 99.5% s": "—" if r["t99.5_s"] is None else f"{r['t99.5_s']:.3g}",
                 "run s": r["run_s"], "steps": r["steps"]} for r in data["time_to_target"]]
        parts.append(f"### Time to target (best of {ttt_reps} replicas, budget {ttt_sweeps} sweeps; — = not reached)\n\n"
                     + markdown_table(rows, floatfmt="{:.4g}"))
    if data["dwave"]:
        rows = [{"graph": r["graph"], "best known": r["best_known"], "SA cut": r["sa_cut"], "SA s": r["sa_s"],
                 "SA updates/s": _fmt_rate(r["sa_updates_per_s"]), "tabu cut": r["tabu_cut"], "tabu s": r["tabu_s"]} for r in data["dwave"]]
        parts.append(f"### dwave-samplers on the same instances (SA 1000 sweeps × 4 reads; tabu {tabu_ms} ms, one core)\n\n"
                     + markdown_table(rows, floatfmt="{:.4g}"))
    if data["scaling"]:
        rows = [{"model": name, "axis": axis, "time exponent": f["time"], "memory exponent": f["memory"]}
                for name, d in data["scaling"].items() for axis, f in d["exponents"].items()]
        parts.append("### Scaling exponents (log-log fits; see docs/performance.md)\n\n" + markdown_table(rows, floatfmt="{:.2f}")
                     + "\n\n![time](figures/scaling_time.png)\n![memory](figures/scaling_memory.png)")
    return "\n\n".join(parts)


def _write_performance(docs, sc, env):
    lines = [f"*Measured by `neurosim bench suite` — {env['device']}, {env['date']}, commit `{env['commit']}`.*", ""]
    lines.append("| model | against | time exponent | memory exponent |")
    lines.append("|---|---|---|---|")
    for name, d in sc.items():
        for axis, f in d["exponents"].items():
            lines.append(f"| {name} | {axis} | {f['time']:.2f} | {f['memory']:.2f} |")
    lines += ["", "![time scaling](figures/scaling_time.png)", "", "![memory scaling](figures/scaling_memory.png)"]
    _replace_marked(os.path.join(docs, "performance.md"), "scaling", "\n".join(lines))
