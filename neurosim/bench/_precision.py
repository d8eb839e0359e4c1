"""``neurosim bench precision``: ``--part sa`` (below) and ``--part neurosa`` (NeuroSA's integer path:
weight, state, random-number bits and threshold resolution; ``_precision_neurosa.py``); ``all`` runs both.

SA part: solution quality of the SA neuron against the Loihi 2 profile's bit
widths — weights (16, 8, 6, 4, 3 bits), neuron state (24 … 10 bits) and random numbers (24 … 6
bits) — on Max-Cut and MIS, with uniform and non-uniform coefficients. The figure a chip designer
wants: where does quality break down?

Problems (all n ≥ 150, seeds fixed):

* ``G1`` (Max-Cut, ±1 weights): the control — ±1 problems are exact at any width that holds the
  integer 2 (the pair coefficient), so only the state and random-number widths can matter;
* ``G1-w`` (Max-Cut on G1's edges with weights uniform in [0.1, 1]): narrow weights round them
  together and the lightest collapse to 0 (reported by the quantiser);
* ``MIS`` (n = 250, p = 0.1, the spec's ``q_uu = −1, q_uv = 2``): integer, exact at ≥ 3 bits;
* ``MIS-w`` (vertex-weighted MIS, n = 150, p = 0.1, weights 1 … 10, edge penalty
  ``max(w_u, w_v) + 1``): at 3 bits the lightest vertices' rewards round to 0.

Quality = the best value found (cut in original weights; weight of the best *repaired* independent
set) / the reference (best of all runs, float included; the exact optimum for MIS-w when HiGHS
proves it), median over ``--seeds`` seeds of ``--replicas`` replicas and ``--steps`` steps. Each
profile varies one width from LOIHI2 (w8, s24, r24); the quantiser's report (scale, max error,
collapsed couplings/biases) and the overflow flag are recorded with every point.
"""

from __future__ import annotations

import os
import sys

import numpy as np

WEIGHT_BITS = (16, 8, 6, 4, 3)
STATE_BITS = (24, 16, 14, 12, 10)
RNG_BITS = (24, 16, 12, 8, 6)


# ----------------------------------------------------------------------------- problems
def weighted_g1(gset):
    import neurosim as ns

    g = ns.MaxCut.from_gset(gset / "G1.txt")
    i, j, _ = g.weights.upper_edges()
    w = np.random.default_rng(1).uniform(0.1, 1.0, size=len(i))
    return ns.MaxCut(ns.SymmetricMatrix.from_edges(g.n, i, j, w, name="G1-w"), name="G1-w")


class WeightedMIS:
    """Vertex-weighted MIS as a QUBO: ``E(x) = −Σ w_u x_u + Σ_(u,v)∈E λ_uv x_u x_v`` with
    ``λ_uv = max(w_u, w_v) + 1`` (every minimiser is independent). Host-side helper for the bench."""

    def __init__(self, n, density, seed, wmax=10):
        from neurosim import mis

        self.graph = mis.generate(n, density, seed)
        self.w = np.random.default_rng(seed + 1).integers(1, wmax + 1, size=n).astype(float)
        r, c, _ = self.graph.adjacency.coo()
        lam = np.maximum(self.w[r], self.w[c]) + 1.0
        import neurosim as ns

        Q = ns.SymmetricMatrix.from_edges(n, r[r < c], c[r < c], 0.5 * lam[r < c], name="Q")
        self.qubo = ns.QUBO(Q, -self.w, 0.0, name=f"MIS-w n{n}")

    @property
    def n(self):
        return self.graph.n

    def value(self, states):
        return self.graph.repair(states).astype(float) @ self.w

    def exact(self, time_limit=60.0):
        from scipy.optimize import Bounds, LinearConstraint, milp
        from scipy.sparse import coo_matrix

        r, c, _ = self.graph.adjacency.coo()
        e = np.stack([r[r < c], c[r < c]], axis=1)
        A = coo_matrix((np.ones(2 * len(e)), (np.repeat(np.arange(len(e)), 2), e.ravel())), shape=(len(e), self.n))
        res = milp(-self.w, constraints=[LinearConstraint(A, -np.inf, 1)], integrality=np.ones(self.n), bounds=Bounds(0, 1),
                   options={"time_limit": float(time_limit)})
        if res.x is None:
            return None, False
        return float(self.w @ (res.x > 0.5)), res.status == 0


def problems(gset, quick=False):
    import neurosim as ns
    from neurosim import mis

    out = {}
    g1 = ns.MaxCut.from_gset(gset / "G1.txt")
    out["G1"] = (g1, lambda res, p=g1: float(np.max(res.report["cut"])))
    g1w = weighted_g1(gset)
    out["G1-w"] = (g1w, lambda res, p=g1w: float(np.max(res.report["cut"])))
    if not quick:
        m = mis.generate(250, 0.1, 0)
        out["MIS"] = (m, lambda res: float(np.max(res.report["set_size"])))
    wm = WeightedMIS(150, 0.1, 0)
    out["MIS-w"] = (wm.qubo, lambda res, wm=wm: float(np.max(wm.value(res.best_state))), wm)
    return out


# ----------------------------------------------------------------------------- runs
def one(problem, value, hw, steps, replicas, seed):
    import neurosim as ns
    from neurosim.models import SA

    m = SA(problem, steps=steps, hardware=hw)
    res = ns.run(m, problem, steps=steps, replicas=replicas, seed=seed, save=ns.SaveAt(every=steps, what=("overflow",)))
    q = m.quantization.report() if m.quantization is not None else None
    if q is not None:  # the coldest temperature the 16-bit integer register reaches, in weight units
        q["t_hat_cold"] = int(m.t_hat_min) / 256
    over = bool(np.asarray(res.records["overflow"]).any()) if "overflow" in res.records else False
    return value(res), q, over, res.time_run


def add_arguments(parser):
    parser.add_argument("--steps", type=int, default=8000, help="steps per anneal (default 8000)")
    parser.add_argument("--replicas", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=2, help="seeds per point (default 2; median)")
    parser.add_argument("--gset", default=None, help="Gset folder (default $NEUROSIM_GSET or ../shared/data/gset)")
    parser.add_argument("--quick", action="store_true", help="G1 and MIS-w, weight bits only, short runs (not recorded unless --record)")
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--part", choices=["sa", "neurosa", "all"], default="all",
                        help="sa: the SA neuron sweep; neurosa: NeuroSA's integer path (bench/_precision_neurosa.py); all: both")
    parser.add_argument("--neurosa-steps", type=float, default=1e6, help="NeuroSA part: iterations per run (default 1e6)")


def main(args):
    out = {}
    if args.part in ("neurosa", "all"):
        out["neurosa"] = main_neurosa(args)
    if args.part in ("sa", "all"):
        out["sa"] = main_sa(args)
    return out


def main_neurosa(args):
    """The NeuroSA part: recorded as its own section ``precision_neurosa``."""
    from . import _precision_neurosa as pn
    from ._data import gset_dir
    from ._maxcut import compile_cache
    from ._report import environment, record_section

    env = environment()
    steps = 100_000 if args.quick else int(args.neurosa_steps)
    with compile_cache():
        data = pn.run(gset_dir(args.gset), steps=steps, replicas=args.replicas, quick=args.quick)
    md = pn.markdown(data)
    if not args.quick or args.record:
        md += f"\n\n![NeuroSA precision]({pn.figure(data['points'])})"
        record_section("precision_neurosa", md, data, env=env)
    print(md)
    return data


def main_sa(args):
    from neurosim.hardware import LOIHI2

    from ._data import gset_dir
    from ._maxcut import compile_cache
    from ._report import environment, record_section

    env = environment()
    print(f"device: {env['device']}", file=sys.stderr)
    gset = gset_dir(args.gset)
    steps = 1000 if args.quick else args.steps
    seeds = 1 if args.quick else args.seeds
    sweeps = [("weight_bits", WEIGHT_BITS)] + ([] if args.quick else [("state_bits", STATE_BITS), ("rng_bits", RNG_BITS)])
    probs = problems(gset, args.quick)
    points = []
    with compile_cache():
        for name, spec in probs.items():
            problem, value = spec[0], spec[1]
            configs = [("float", None, None)]
            for field, values in sweeps:
                for v in values:
                    kw = {field: v}
                    if field == "weight_bits" and v > 8:
                        kw["state_bits"] = max(24, v + 8)
                    configs.append((field, v, LOIHI2.replace(**kw)))
            for field, v, hw in configs:
                vals, runs = [], []
                for s in range(seeds):
                    val, q, over, t = one(problem, value, hw, steps, args.replicas, s)
                    vals.append(val)
                    runs.append({"value": val, "overflow": over, "run_s": t})
                points.append({"problem": name, "sweep": field, "bits": v, "profile": "float" if hw is None else hw.label(),
                               "values": vals, "value": float(np.median(vals)), "overflow": any(r["overflow"] for r in runs),
                               "quantization": q, "runs": runs})
                print(f"{name} {points[-1]['profile']}: {points[-1]['value']:.6g}{' OVERFLOW' if points[-1]['overflow'] else ''}", file=sys.stderr, flush=True)
            ref = max(p["value"] for p in points if p["problem"] == name)
            kind = "best of all runs"
            if len(spec) > 2:
                opt, proven = spec[2].exact()
                if opt is not None and proven:
                    ref, kind = max(ref, opt), "exact (HiGHS)"
            for p in points:
                if p["problem"] == name:
                    p["reference"], p["reference_kind"] = ref, kind
                    p["quality"] = p["value"] / ref
    data = {"points": points, "steps": steps, "replicas": args.replicas, "seeds": seeds, "quick": bool(args.quick)}
    md = _markdown(data, args)
    if not args.quick or args.record:
        fig = _figure(points)
        clz_figure()
        md += f"\n\n![precision]({fig})\n\n![clz acceptance](figures/loihi2_clz_acceptance.png)"
        record_section("precision", md, data, env=env)
    print(md)
    return data


def _markdown(data, args):
    from ._report import markdown_table

    cmd = "neurosim bench precision" + (" --quick" if args.quick else "")
    parts = [f"Command: `{cmd}`. SA neuron, {data['replicas']} replicas × {data['steps']} steps, median of {data['seeds']} seeds; "
             "quality = best value / reference (best of all runs, or the proven optimum). One width varied at a time from "
             "LOIHI2 (w8 s24 r24); *collapsed*: nonzero couplings (and biases) that rounded to 0; *max err*: largest coefficient "
             "error in problem units; *coldest T̂*: the end of the anneal in the integer temperature register (weight units; "
             "the register holds integers ≥ 1, so at a small weight scale the anneal cannot get as cold as the float one); "
             "*overflow*: the sticky state-overflow flag was raised in some replica."]
    rows = []
    for p in data["points"]:
        q = p["quantization"] or {}
        rows.append({"problem": p["problem"], "varied": p["sweep"], "profile": p["profile"], "quality": f"{p['quality']:.4f}",
                     "value": f"{p['value']:.6g}", "reference": f"{p['reference']:.6g} ({p['reference_kind']})",
                     "scale": "" if not q else f"{q['scale']:.4g}", "max err": "" if not q else f"{q['max_error']:.3g}",
                     "collapsed": "" if not q else f"{q['n_collapsed']} + {q['n_collapsed_bias']}",
                     "coldest T̂": "" if not q else f"{q['t_hat_cold']:.3g}",
                     "overflow": "yes" if p["overflow"] else ""})
    parts.append(markdown_table(rows))
    return "\n\n".join(parts)


def _figure(points):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ._report import save_figure

    sweeps = [s for s in ("weight_bits", "state_bits", "rng_bits") if any(p["sweep"] == s for p in points)]
    probs = list(dict.fromkeys(p["problem"] for p in points))
    fig, axes = plt.subplots(1, len(sweeps), figsize=(4.2 * len(sweeps), 3.3), squeeze=False)
    for ax, sw in zip(axes[0], sweeps):
        for k, name in enumerate(probs):
            pts = sorted((p for p in points if p["problem"] == name and p["sweep"] == sw), key=lambda p: p["bits"])
            if not pts:
                continue
            ax.plot([p["bits"] for p in pts], [p["quality"] for p in pts], "o-", color=f"C{k}", label=name)
            fl = next((p for p in points if p["problem"] == name and p["sweep"] == "float"), None)
            if fl is not None:
                ax.axhline(fl["quality"], color=f"C{k}", lw=0.7, ls=":")
            for p in pts:
                if p["overflow"]:
                    ax.plot(p["bits"], p["quality"], "x", color="k", ms=8)
        ax.set_xlabel(sw.replace("_", " ") + " (others: LOIHI2)")
        ax.set_ylabel("quality (best / reference)")
        ax.set_title({"weight_bits": "synaptic weight width", "state_bits": "neuron state width (x: overflow)",
                      "rng_bits": "random-number width"}[sw], fontsize=9)
        ax.legend(fontsize=7)
    return save_figure(fig, "precision_bits.png")


def clz_figure(path=None, R=2048, copies=8):
    """docs/figures/loihi2_clz_acceptance.png: the clz test's acceptance probability against
    ``exp(−ΔC/T)`` — closed form ``2^−min(⌊ΔC/T̂⌋+1, 24)`` with ``T̂ = T·ln 2`` (a staircase that
    stays within a factor 2 below the exponential) and the frequency measured through the SA
    neuron on the Loihi 2 profile (one step of independent neurons from x = 0, R replicas)."""
    import math

    import jax
    import jax.numpy as jnp
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import neurosim as ns
    from neurosim import random as nsr
    from neurosim.hardware import LOIHI2
    from neurosim.models import SA

    from ._report import default_docs_dir

    T_hat = 4  # integer temperature register, weight units
    T = T_hat / math.log(2)
    dCs = np.arange(-4, 8 * T_hat + 1)
    q = np.repeat(dCs, copies).astype(float)
    prob = ns.QUBO(ns.SymmetricMatrix.from_dense(np.zeros((len(q), len(q)))), q)
    m = SA(prob, hardware=LOIHI2, scale=1.0, schedule="constant", T_start=T, max_events=1)
    keys = nsr.replica_keys(0, np.arange(R, dtype=np.uint32))
    st = m.init(jnp.zeros((R, len(q)), jnp.int8), key=nsr.step_words(keys, 0, salt=1))
    _, out = jax.jit(lambda s: m.step(s, jnp.int32(0), key=nsr.step_words(keys, 0)))(st)
    meas = np.asarray(out["spikes"], np.float64).mean(axis=0).reshape(len(dCs), copies).mean(axis=1)
    x = np.linspace(-4, 8 * T_hat, 600)
    closed = np.where(x < 0, 1.0, 2.0 ** -np.minimum(np.floor(x / T_hat) + 1, 24))
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, log in zip(axes, (False, True)):
        ax.plot(x / T, np.minimum(1.0, np.exp(-x / T)), "k-", lw=1.2, label="exp(−ΔC/T) (Metropolis)")
        ax.plot(x / T, closed, "C0-", lw=1.2, label="clz test, closed form 2^−min(⌊ΔC/T̂⌋+1, 24)")
        ax.plot(dCs / T, meas, "o", color="C1", ms=3.5, label=f"measured: SA neuron, LOIHI2, {R * copies} draws/point")
        ax.set_xlabel("ΔC / T")
        ax.set_ylabel("P(accept)")
        if log:
            ax.set_yscale("log")
            ax.set_ylim(1e-4, 1.5)
        ax.legend(fontsize=7)
    axes[0].set_title(f"clz Metropolis test (T̂ = T·ln 2 = {T_hat} weight units)", fontsize=9)
    axes[1].set_title("log scale: the staircase stays within ×½ of exp", fontsize=9)
    fig.tight_layout()
    path = path or os.path.join(default_docs_dir(), "figures", "loihi2_clz_acceptance.png")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
