"""NeuroSA part of ``neurosim bench precision`` (``--part neurosa``), in the style of the NeuroSA paper's
SI Fig. S4: solution quality of NeuroSA's integer path (``hardware=LOIHI2`` variants) against

* synaptic weight bits (int8 by default: 8, 6, 4, 3, 2),
* neuron state bits (the saturating field word: 24, 14, 12, 10),
* random-number bits (the per-test random integer: 24, 12, 8, 6, 4),
* threshold resolution (``ln_frac``, fraction bits of ``L = ln(B·U + ε)``: 9, 4, 2, 0),

one varied at a time from LOIHI2 (w8 s24 r24, ln_frac 9), beside the float32 model (hardware=None), on
G1 (±1 weights: exact at any weight width, so its weight sweep is skipped) and G1-w (G1's edges with
weights uniform in [0.1, 1]).
Random scan, published constants with the annealer laid over ``--neurosa-steps`` iterations
(``horizon = steps``), 8 replicas, seed 0. Quality = the worst replica's cut / the reference (G1: the
best-known cut; G1-w: the best cut of all runs of the sweep); the mean is recorded too.
"""

from __future__ import annotations

import sys

import numpy as np

WEIGHT_BITS = (8, 6, 4, 3, 2)
STATE_BITS = (24, 14, 12, 10)
RNG_BITS = (24, 12, 8, 6, 4)
LN_FRAC = (9, 4, 2, 0)
SWEEPS = ("weight_bits", "state_bits", "rng_bits", "ln_frac")


def configs(quick=False, weights=True):
    """(sweep, value, profile or None, ln_frac) for every point."""
    from neurosim.hardware import LOIHI2

    out = [("float", None, None, 9)]
    for field, values in (("weight_bits", WEIGHT_BITS), ("state_bits", STATE_BITS), ("rng_bits", RNG_BITS), ("ln_frac", LN_FRAC)):
        if field == "weight_bits" and not weights:
            continue
        if quick and field != "ln_frac":
            values = values[:1] + values[-1:]
        for v in values:
            if field == "ln_frac":
                out.append((field, v, LOIHI2, v))
            else:
                out.append((field, v, LOIHI2.replace(**{field: v}), 9))
    return out


def one(problem, hw, ln_frac, steps, replicas, seed):
    import neurosim as ns
    from neurosim.models import NeuroSA

    m = NeuroSA(problem, hardware=hw, horizon=steps, ln_frac=ln_frac)
    res = ns.run(m, problem, steps=steps, replicas=replicas, seed=seed, save=ns.SaveAt(every=steps, what=("overflow",)))
    over = bool(np.asarray(res.records["overflow"]).any())
    q = m.quantization.report() if m.quantization is not None else None
    return np.asarray(res.report["cut"], float), q, over, res.time_run


def run(gset, *, steps=1_000_000, replicas=8, seed=0, quick=False, progress=True, on_point=None) -> dict:
    """All points; ``on_point(partial data)`` after each one (long runs keep what they did)."""
    import neurosim as ns

    from ._data import best_known_cuts
    from ._precision import weighted_g1

    best = best_known_cuts(gset)
    probs = {"G1": (ns.MaxCut.from_gset(gset / "G1.txt"), float(best["G1"]), "best known"), "G1-w": (weighted_g1(gset), None, "best of all runs")}
    points = []
    for name, (problem, ref, kind) in probs.items():
        for sweep, v, hw, ln_frac in configs(quick, weights=name != "G1"):
            cuts, q, over, t = one(problem, hw, ln_frac, steps, replicas, seed)
            points.append({"problem": name, "sweep": sweep, "bits": v, "profile": "float" if hw is None else hw.label(),
                           "ln_frac": ln_frac if hw is not None else None, "cuts": cuts.tolist(), "overflow": over,
                           "quantization": q, "run_s": t})
            if progress:
                print(f"neurosa precision {name} {sweep}={v}: min {cuts.min():.6g} mean {cuts.mean():.6g}{' OVERFLOW' if over else ''} "
                      f"({t:.0f} s)", file=sys.stderr, flush=True)
            if on_point is not None:
                on_point({"points": points, "steps": steps, "replicas": replicas, "seed": seed, "partial": True})
        mine = [p for p in points if p["problem"] == name]
        ref = ref if ref is not None else max(max(p["cuts"]) for p in mine)
        for p in mine:
            p["reference"], p["reference_kind"] = ref, kind
            p["quality_min"] = min(p["cuts"]) / ref
            p["quality_mean"] = float(np.mean(p["cuts"])) / ref
    return {"points": points, "steps": steps, "replicas": replicas, "seed": seed, "quick": bool(quick)}


def markdown(data) -> str:
    from ._report import markdown_table

    head = (f"Command: `neurosim bench precision --part neurosa --neurosa-steps {data['steps']:.0e}`. NeuroSA random scan "
            f"(published constants, annealer laid over {data['steps']:.0e} iterations), {data['replicas']} replicas, seed "
            f"{data['seed']}; integer path = `hardware=LOIHI2` with one width varied (w8 s24 r24, ln_frac 9 otherwise). "
            "*worst/mean*: the worst replica's and the mean cut over the reference; *overflow*: the sticky "
            "field-saturation flag was raised; *collapsed*: couplings that rounded to 0.")
    rows = []
    for p in data["points"]:
        q = p["quantization"] or {}
        rows.append({"problem": p["problem"], "varied": p["sweep"], "value": "" if p["bits"] is None else p["bits"],
                     "profile": p["profile"], "worst": f"{p['quality_min']:.4f}", "mean": f"{p['quality_mean']:.4f}",
                     "reference": f"{p['reference']:.6g} ({p['reference_kind']})",
                     "max err": "" if not q else f"{q['max_error']:.3g}", "collapsed": "" if not q else str(q["n_collapsed"]),
                     "overflow": "yes" if p["overflow"] else ""})
    return head + "\n\n" + markdown_table(rows)


def figure(points, name="precision_neurosa.png", docs_dir=None) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ._report import save_figure

    titles = {"weight_bits": "synaptic weight bits", "state_bits": "field (state) bits (x: overflow)",
              "rng_bits": "random-number bits", "ln_frac": "threshold resolution: fraction bits of ln(B·U + ε)"}
    probs = list(dict.fromkeys(p["problem"] for p in points))
    fig, axes = plt.subplots(1, len(SWEEPS), figsize=(4.0 * len(SWEEPS), 3.3), sharey=True)
    for ax, sw in zip(axes, SWEEPS):
        for k, name_ in enumerate(probs):
            pts = sorted((p for p in points if p["problem"] == name_ and p["sweep"] == sw), key=lambda p: p["bits"])
            if not pts:
                continue
            x = [p["bits"] for p in pts]
            ax.plot(x, [p["quality_mean"] for p in pts], "o-", color=f"C{k}", label=f"{name_} mean")
            ax.plot(x, [p["quality_min"] for p in pts], "v--", color=f"C{k}", ms=4, lw=0.8, label=f"{name_} worst replica")
            fl = next((p for p in points if p["problem"] == name_ and p["sweep"] == "float"), None)
            if fl is not None:
                ax.axhline(fl["quality_mean"], color=f"C{k}", lw=0.7, ls=":")
            for p in pts:
                if p["overflow"]:
                    ax.plot(p["bits"], p["quality_mean"], "x", color="k", ms=8)
        ax.set_xlabel(sw.replace("_", " ") + " (others: LOIHI2)")
        ax.set_title(titles[sw], fontsize=8)
        ax.axhline(0.99, color="r", lw=0.6, ls="--")
    axes[0].set_ylabel("cut / reference (dotted: float32)")
    axes[1].legend(fontsize=6)  # the state sweep has every problem (G1 skips the weight sweep)
    return save_figure(fig, name, docs_dir=docs_dir)
