"""Tables and figures of ``neurosim bench chip`` (data from :mod:`neurosim.bench._chip`)."""

from __future__ import annotations

import numpy as np

from ._report import markdown_table

LOIHI = "SA neuron, Loihi 2 profile (chip time)"


def _t(s) -> str:
    if s is None:
        return "—"
    return f"{s * 1e6:.3g} µs" if s < 1e-3 else (f"{s * 1e3:.3g} ms" if s < 1 else f"{s:.3g} s")


def _e(j) -> str:
    return "—" if j is None else (f"{j * 1e6:.3g} µJ" if j < 1e-3 else (f"{j * 1e3:.3g} mJ" if j < 1 else f"{j:.3g} J"))


def calibrated_energy(point, data) -> float:
    """A Loihi point's energy with the calibrated static power (the run was priced a priori)."""
    c = data["calibration"]["constants"]["static_w_per_chip"]
    return point["energy_j"] + (c["fitted"] - c["a_priori"]) * point["chips"] * point["time_s"]


def energy_to_gap(points, data, solver, gap):
    ok = [p for p in points if p["solver"] == solver and p["gap_percent"] <= gap]
    if not ok:
        return None
    return min(calibrated_energy(p, data) if solver == LOIHI else p["energy_j"] for p in ok)


def gap_table(data) -> str:
    rows = []
    for inst in data["instances"]:
        for solver in dict.fromkeys(p["solver"] for p in inst["points"]):
            pts = [p for p in inst["points"] if p["solver"] == solver]
            cells = " · ".join(f"{p['gap_percent']:.1f} ({_t(p['time_s'])})" for p in pts)
            rows.append({"n": inst["n"], "p": inst["density"], "BKS": inst["bks"], "solver": solver,
                         "budgets τ": ", ".join(f"{p['timeout_s']:g}" for p in pts) + " s", "gap % (time used)": cells})
    return markdown_table(rows)


def energy_table(data, gap) -> str:
    rows = []
    for inst in data["instances"]:
        row = {"n": inst["n"], "p": inst["density"]}
        e_l = energy_to_gap(inst["points"], data, LOIHI, gap)
        row["Loihi 2 (model, calibrated)"] = _e(e_l)
        for s in ("dwave-samplers SA", "dwave-samplers tabu"):
            e = energy_to_gap(inst["points"], data, s, gap)
            row[f"{s} (CPU)"] = _e(e)
            row[f"{s.split()[-1]} / Loihi"] = f"{e / e_l:.3g}×" if e is not None and e_l else "—"
        rows.append(row)
    return markdown_table(rows)


def calibration_table(data) -> str:
    rows = []
    for r in data["calibration"]["measurements"]:
        rows.append({"figure": r["name"], "published": f"{r['published']:g} {r['unit']}", "a priori": f"{r['a_priori']:.3g} ({r['a_priori_error_percent']:+.0f} %)",
                     "fitted": f"{r['fitted']:.3g} ({r['fitted_error_percent']:+.1f} %)",
                     "held out (fit to the other figures)": f"{r['held_out']:.3g} ({r['held_out_error_percent']:+.0f} %)", "source": r["source"]})
    return markdown_table(rows)


def prediction_rows(data) -> list[dict]:
    pw = data["prediction"]["powers_w"]
    ff = data["prediction"]["first_feasible_s"]["fitted"]
    pub_p, pub_t = data["published"]["loihi2_mis_mean_power_w"], data["published"]["loihi2_mis_first_feasible_s"]
    return [
        {"quantity": "average Loihi 2 power over the MIS workloads", "paper": f"{pub_p['value']} W",
         "model, a priori": f"{np.mean(pw['a_priori']):.3g} W (workloads {min(pw['a_priori']):.3g}–{max(pw['a_priori']):.3g})",
         "model, calibrated": f"{np.mean(pw['fitted']):.3g} W (workloads {min(pw['fitted']):.3g}–{max(pw['fitted']):.3g})"},
        {"quantity": "time to a first feasible solution", "paper": "as little as 1 ms",
         "model, a priori": _span(data["prediction"]["first_feasible_s"]["a_priori"]), "model, calibrated": _span(ff)},
    ]


def _span(v) -> str:
    if not v:
        return "not reached within 64 steps"
    return f"{_t(min(v))} – {_t(max(v))} (median {_t(float(np.median(v)))}), chip compute + sync only"


def neurosa_table(data) -> str:
    rows = []
    for r in data["neurosa"]:
        ce, pe = r.get("chip_energy_to_target_j"), r.get("cpu_energy_to_target_j")
        rows.append({"graph": r["graph"], "target (99 % of best known)": f"{r['target']:.0f}", "best cut chip / CPU": f"{r['chip_best']:.0f} / {r['cpu_best']:.0f}",
                     "PEs": r["cores"], "chip µs/iteration": f"{r['chip_step_s'] * 1e6:.3g}", "chip power": f"{r['chip_power_w']:.3g} W",
                     "chip time / energy to target": f"{_t(r.get('chip_time_to_target_s'))} / {_e(ce)}",
                     "CPU time / energy to target": f"{_t(r.get('cpu_time_to_target_s'))} / {_e(pe)} (2-core share {_e(r.get('cpu_energy_to_target_2core_j'))})",
                     "CPU / chip energy": f"{pe / ce:.3g}× (2-core share {r['cpu_energy_to_target_2core_j'] / ce:.3g}×)" if ce and pe else "—",
                     "energy to the best cut both reached": f"{r['common_target']:.0f}: chip {_e(r['chip_energy_to_common_j'])}, CPU {_e(r['cpu_energy_to_common_j'])}",
                     "activity from": r["how"]})
    return markdown_table(rows)


def markdown(data, quick) -> str:
    cal = data["calibration"]
    parts = [
        f"Command: `neurosim bench chip{' --quick' if quick else ''}`. Chip time and energy are **estimates** of the first-order cost model "
        "(hardware/_cost.py; constants, sources and assumptions in docs/loihi2.md, section \"Chip time and energy\"), per replica. "
        f"CPU power: {data['cpu_power_source']}: SA {data['cpu_power_w']['dwave-samplers SA']} W, tabu {data['cpu_power_w']['dwave-samplers tabu']} W; "
        f"2-core share: 2 × {data['cpu_core_w']:g} W (assumption).",
        "### Loihi 2 profile on chip time vs dwave-samplers on CPU wall time (the paper's Fig. 2)\n\n"
        f"SA neuron under LOIHI2, {data['replicas']} replicas, one anneal per chip-time budget τ (≤ 2^16 steps, so the small instances use less than τ); "
        "dwave-samplers with τ of wall time on this CPU. Cells: gap % to the best known (time used).\n\n" + gap_table(data),
        "### Power and energy per solver (the paper's Fig. 3)\n\n" + markdown_table(prediction_rows(data)[:1]) +
        "\n\nEnergy to a gap ≤ 5 % (NeuroBench's 0.05), the cheapest run that reached it; Loihi with the calibrated static power:\n\n" + energy_table(data, 5.0)
        + "\n\nThe same to a gap ≤ 10 % (NeuroBench's 0.1):\n\n" + energy_table(data, 10.0),
        "### Calibration and prediction error\n\n" + calibration_table(data) +
        f"\n\nFree constant: `static_w_per_chip` (a priori {cal['constants']['static_w_per_chip']['a_priori']:g} W → fitted "
        f"{cal['constants']['static_w_per_chip']['fitted']:.3g} W). With a single published power figure there is no held-out power figure: the held-out "
        "column is the a-priori prediction, i.e. how far the uncalibrated model was off.\n\n" + markdown_table(prediction_rows(data)),
    ]
    if data.get("note"):
        parts.insert(1, f"*{data['note']}.*")
    if data["neurosa"]:
        parts.append("### NeuroSA on SpiNNaker2: energy to solution vs the CPU run (the NeuroSA paper's Fig. 3h)\n\n" + neurosa_table(data))
    return "\n\n".join(parts)


def figures(data, sizes, densities) -> list[str]:
    return [_gap_figure(data, sizes, densities), _power_figure(data)] + ([_neurosa_figure(data)] if data["neurosa"] else [])


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _gap_figure(data, sizes, densities) -> str:
    from ._report import save_figure

    plt = _plt()
    fig, axes = plt.subplots(len(sizes), len(densities), figsize=(3.4 * len(densities), 2.4 * len(sizes)), squeeze=False, sharex=True)
    for inst in data["instances"]:
        ax = axes[sizes.index(inst["n"])][densities.index(inst["density"])]
        for k, s in enumerate(dict.fromkeys(p["solver"] for p in inst["points"])):
            pts = sorted((p for p in inst["points"] if p["solver"] == s), key=lambda p: p["time_s"])
            ax.plot([p["time_s"] for p in pts], [p["gap_percent"] for p in pts], "o-", ms=3, color=f"C{k}", label=s)
        ax.set_xscale("log")
        ax.set_title(f"n={inst['n']}, p={inst['density']:g}, BKS {inst['bks']}", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("time: chip (Loihi 2 model) / CPU wall, s", fontsize=7)
    for row in axes:
        row[0].set_ylabel("gap to best known, %", fontsize=7)
    axes[0][0].legend(fontsize=6)
    return save_figure(fig, "chip_mis_gap_vs_chip_time.png")


def _power_figure(data) -> str:
    from ._report import save_figure

    plt = _plt()
    pw = data["prediction"]["powers_w"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.4))
    names = ["Loihi 2 (paper)", "Loihi 2 model (a priori)", "Loihi 2 model (calibrated)", "SA on CPU (paper, assumed here)", "tabu on CPU (paper, assumed here)"]
    vals = [data["published"]["loihi2_mis_mean_power_w"]["value"], np.mean(pw["a_priori"]), np.mean(pw["fitted"]),
            data["cpu_power_w"]["dwave-samplers SA"], data["cpu_power_w"]["dwave-samplers tabu"]]
    a.bar(range(5), vals, color=["C7", "C0", "C0", "C2", "C3"])
    a.set_xticks(range(5), names, rotation=25, ha="right", fontsize=7)
    a.set_yscale("log")
    a.set_ylabel("average power, W")
    labels = [f"{i['n']}/{i['density']:g}" for i in data["instances"]]
    x = np.arange(len(labels))
    for k, s in enumerate((LOIHI, "dwave-samplers SA", "dwave-samplers tabu")):
        e = [energy_to_gap(i["points"], data, s, 10.0) for i in data["instances"]]
        b.bar(x + (k - 1) * 0.27, [v if v is not None else np.nan for v in e], 0.27, label=s, color=f"C{k}")
    b.set_xticks(x, labels, rotation=60, fontsize=6)
    b.set_yscale("log")
    b.set_ylabel("energy to gap ≤ 10 %, J (missing: not reached)", fontsize=7)
    b.set_xlabel("instance n / density", fontsize=7)
    b.legend(fontsize=6)
    return save_figure(fig, "chip_power_energy.png")


def _neurosa_figure(data) -> str:
    from ._report import save_figure

    plt = _plt()
    rows = data["neurosa"]
    fig, ax = plt.subplots(figsize=(5, 3.2))
    x = np.arange(len(rows))
    for k, (key, lab) in enumerate((("chip_energy_to_target_j", "SpiNNaker2 (model)"), ("cpu_energy_to_target_j", "CPU, paper's SA power"),
                                    ("cpu_energy_to_target_2core_j", "CPU, 2-core share"))):
        ax.bar(x + (k - 1) * 0.27, [r.get(key, np.nan) for r in rows], 0.27, label=lab, color=f"C{k}")
    ax.set_xticks(x, [r["graph"] for r in rows])
    ax.set_yscale("log")
    ax.set_ylabel("energy to 99 % of best known, J")
    ax.legend(fontsize=7)
    return save_figure(fig, "chip_neurosa_energy.png")
