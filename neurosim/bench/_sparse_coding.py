"""``neurosim bench sparse-coding``: binary sparse coding — SA and NEBM (single run, iterated warm starting, float and Loihi 2) against proven exact optima.

For every stored QUBO (``neurosim/data/sparse_coding``: 16 × 64 variables from 7×7 tiles, 4 × 128
from 14×14 tiles of the 28×28 sample image) the Table-1-style row of the sparse-coding paper:

* the exact energy (proven optimum, stored with the QUBO) and its sparsity;
* neurosim's SA model (``models.SA``, the stochastic-refractory *parallel* SA neuron of the Loihi 2
  QUBO paper; ``--sa-steps`` steps × ``--sa-replicas`` replicas, geometric schedule from 0.3·s to
  s/100 with ``s`` the QUBO's typical drive (:func:`neurosim.models._nebm.drive_scale`), refractory
  periods uniform in 0–255 steps, i.e. about two sweeps: on these dense, strongly coupled QUBOs
  neurons that flip together overshoot, and the long refractory period makes the parallel neuron
  nearly sequential — the setting that tested best over all 20 QUBOs, never per instance; Lava-like
  periods of 0–63 steps solved 14/16): its minimum and how many replicas hit the exact optimum;
* *sequential* annealers for reference, with the protocol of the paper's SA (100 reads × 1000
  sweeps): neurosim's Gibbs model in random-scan mode (geometric schedule s → s/100) and
  dwave-samplers' simulated annealing (the classic SA the paper's Table 1 used) when installed;
* NEBM, one run (6000 steps, a sample every 20 steps, best of the 300 samples) in ``--replicas``
  independent replicas: the minimum and the hit count;
* NEBM with iterated warm starting (run r+1 starts from the best state of run r, ``--runs`` runs of
  6000 steps), ``--chains`` independent chains, in float32 and under the Loihi 2 profile (int8
  weights, 24-bit state, exp-free sigmoid): the minimum over chains and the median chain
  (``--stop-at-exact`` ends the chains once all are at the proven optimum, which cannot change a
  reported minimum);
* the run time of each method (compile time apart).

Figures (``docs/figures/sparse_coding_*.png``): original image vs the reconstructions of each
method, the warm-starting learning curves (the paper's Fig. 3), and the dictionary learning's
convergence (error and sparsity per epoch). ``--json`` prints one row per QUBO.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

TOL = 1e-7  # relative tolerance for "hit the exact optimum" (float64 re-evaluation of 0/1 states)
SEQ_READS, SEQ_SWEEPS = 100, 1000  # the sequential references' protocol (dwave-samplers' reads × sweeps)


def add_arguments(parser):
    parser.add_argument("--sizes", default="64,128", help="which QUBO sizes (64, 128)")
    parser.add_argument("--limit", type=int, default=None, help="at most this many QUBOs per size")
    parser.add_argument("--replicas", type=int, default=16, help="replicas of SA and of the single NEBM run")
    parser.add_argument("--sa-steps", type=int, default=100000, help="SA steps per replica")
    parser.add_argument("--sa-replicas", type=int, default=512, help="SA replicas")
    parser.add_argument("--stop-at-exact", action="store_true", help="end warm starting once every chain is at the optimum")
    parser.add_argument("--steps", type=int, default=6000, help="steps of one NEBM run")
    parser.add_argument("--every", type=int, default=20, help="NEBM sampling interval (best-state capture)")
    parser.add_argument("--runs", type=int, default=100, help="warm-start runs per chain")
    parser.add_argument("--chains", type=int, default=4, help="independent warm-start chains")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--docs", default=None, help="docs folder to write benchmarks.md and figures/ into (default: the checkout's)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2+1 QUBOs, short runs; nothing recorded")
    parser.add_argument("--no-record", action="store_true", help="print only, do not rewrite docs/benchmarks.md or figures")
    parser.add_argument("--json", action="store_true", help="print one JSON row per QUBO (a JSON list)")


def _gap(e, exact):
    return 100.0 * (np.asarray(e, dtype=np.float64) - exact) / abs(exact)


def _hits(e, exact):
    return int(np.sum(np.asarray(e) <= exact + TOL * max(1.0, abs(exact))))


def solve_one(inst, args, log):
    """All methods on one stored QUBO; returns (row, extras for figures)."""
    import neurosim as ns
    from neurosim.hardware import LOIHI2
    from neurosim.models import NEBM, SA, Gibbs
    from neurosim.models._nebm import drive_scale
    from neurosim.sparse_coding import warm_start

    p = inst.problem
    E = inst.exact_energy
    row = {"file": os.path.basename(inst.path), "n": inst.n, "exact_energy": E, "sparsity": inst.sparsity,
           "active": int(inst.exact_state.sum())}
    extra = {}

    s = drive_scale(p)
    sa = SA(p, steps=args.sa_steps, T_start=0.3 * s, T_end=s / 100, refractory="uniform", refract_max=255)
    r = ns.run(sa, p, steps=args.sa_steps, replicas=args.sa_replicas, seed=args.seed)
    row.update(sa_min=float(r.best_energy.min()), sa_hits=_hits(r.best_energy, E), sa_replicas=args.sa_replicas,
               sa_s=r.time_run, sa_compile_s=r.time_compile)
    extra["sa_state"] = r.overall_best_state

    sweeps = SEQ_SWEEPS if not args.quick else 100
    g = Gibbs(p, mode="sequential", schedule=ns.schedules.Geometric.anneal(s, s / 100, sweeps * inst.n))
    r = ns.run(g, p, steps=sweeps * inst.n, replicas=SEQ_READS, seed=args.seed, best_every=inst.n)
    row.update(seq_sa_min=float(r.best_energy.min()), seq_sa_hits=_hits(r.best_energy, E), seq_sa_s=r.time_run)
    d = _dwave_sa(inst, args.seed, SEQ_READS, sweeps)
    if d is not None:
        row.update(dwave_sa_min=float(d[0].min()), dwave_sa_hits=_hits(d[0], E), dwave_sa_reads=len(d[0]), dwave_sa_s=d[1])

    nebm = NEBM(p, steps=args.steps)
    r = ns.run(nebm, p, steps=args.steps, replicas=args.replicas, seed=args.seed, best_every=args.every)
    row.update(nebm_min=float(r.best_energy.min()), nebm_median=float(np.median(r.best_energy)),
               nebm_hits=_hits(r.best_energy, E), nebm_s=r.time_run, nebm_compile_s=r.time_compile)
    extra["nebm_state"] = r.overall_best_state

    for tag, hw in (("warm", None), ("warm_loihi", LOIHI2)):
        m = NEBM(p, steps=args.steps, hardware=hw)

        def stop(k, best):
            return args.stop_at_exact and bool(np.all(best <= E + TOL * max(1.0, abs(E))))

        w = warm_start(m, p, runs=args.runs, steps=args.steps, every=args.every, replicas=args.chains,
                       seed=args.seed + 1, callback=stop)
        final = w.cumulative_best[-1]
        row[f"nebm_{tag}_min"] = float(final.min())
        row[f"nebm_{tag}_median"] = float(np.median(final))
        row[f"nebm_{tag}_hits"] = _hits(final, E)
        row[f"nebm_{tag}_runs"] = int(len(w.run_best))
        row[f"nebm_{tag}_s"] = w.seconds
        row[f"nebm_{tag}_compile_s"] = w.compile_seconds
        # runs until a chain first reached the optimum (None: never)
        first = [int(np.argmax(c <= E + TOL * max(1.0, abs(E)))) + 1 if np.any(c <= E + TOL * max(1.0, abs(E))) else None
                 for c in w.cumulative_best.T]
        row[f"nebm_{tag}_runs_to_exact"] = first
        extra[f"{tag}_state"] = w.best_state
        extra[f"{tag}_curve"] = w.cumulative_best  # (runs, chains)
        extra[f"{tag}_run_best"] = w.run_best
        if hw is not None:
            row["loihi_quantization_max_error"] = float(m.quantization.max_error)
    row["nebm_warm_gap_pct"] = float(_gap(row["nebm_warm_min"], E))
    row["nebm_warm_loihi_gap_pct"] = float(_gap(row["nebm_warm_loihi_min"], E))
    log(f"{row['file']}: exact {E:.5f} | SA {row['sa_min']:.5f} ({row['sa_hits']}/{args.sa_replicas}) seq {row['seq_sa_hits']}/{SEQ_READS}"
        f" dwave {row.get('dwave_sa_hits', '-')} | NEBM 1 run "
        f"{row['nebm_min']:.5f} ({row['nebm_hits']}/{args.replicas}) | warm {row['nebm_warm_min']:.5f} "
        f"[{row['nebm_warm_runs']} runs, {row['nebm_warm_s']:.1f} s] | warm loihi {row['nebm_warm_loihi_min']:.5f} "
        f"[{row['nebm_warm_loihi_runs']} runs, {row['nebm_warm_loihi_s']:.1f} s]")
    return row, extra


def _dwave_sa(inst, seed, reads=100, sweeps=1000):
    """dwave-samplers' sequential simulated annealing on the same QUBO: ``(energies, seconds)``, or None
    when it is not installed."""
    try:
        from dwave.samplers import SimulatedAnnealingSampler
    except ImportError:
        return None
    Q, n = inst.Q, inst.n
    iu, ju = np.triu_indices(n, 1)
    qd = {(i, i): float(Q[i, i]) for i in range(n)}
    qd.update({(int(i), int(j)): float(2 * Q[i, j]) for i, j in zip(iu, ju)})
    t = time.perf_counter()
    ss = SimulatedAnnealingSampler().sample_qubo(qd, num_reads=reads, num_sweeps=sweeps, seed=seed)
    dt = time.perf_counter() - t
    return inst.energy(np.asarray(ss.record.sample, dtype=np.float64)), dt  # float64, in the QUBO's own units


# ----------------------------------------------------------------------------- figures
def _plot_reconstructions(cases, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neurosim.sparse_coding import load_image, untile

    methods = [("original", None), ("exact", "exact"), ("SA", "sa_state"), ("NEBM, 1 run", "nebm_state"),
               ("NEBM warm", "warm_state"), ("NEBM warm, Loihi 2", "warm_loihi_state")]
    fig, axes = plt.subplots(len(cases), len(methods), figsize=(2.0 * len(methods), 2.25 * len(cases)), squeeze=False)
    for row_ax, (n, insts, extras) in zip(axes, cases):
        size = insts[0].image_size
        img = load_image(size)
        for ax, (title, key) in zip(row_ax, methods):
            if key is None:
                pic = img
            else:
                tiles_ = []
                for inst, ex in zip(insts, extras):
                    s = inst.exact_state if key == "exact" else ex[key]
                    tiles_.append(inst.reconstruction(s))
                pic = untile(np.array(tiles_), (size, size)) if len(tiles_) == (size // insts[0].patch_size) ** 2 else None
                if pic is None:  # not every tile ran (--limit/--quick): show the tiles that did
                    full = np.full((len(img.reshape(-1)) // insts[0].patch.size, insts[0].patch.size), np.nan)
                    for inst, t in zip(insts, tiles_):
                        full[inst.tile] = t
                    pic = untile(full, (size, size))
            ax.imshow(pic, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if key is not None and key != "exact":
                e = sum(inst.energy(inst.exact_state if key == "exact" else ex[key]) for inst, ex in zip(insts, extras))
                e0 = sum(inst.exact_energy for inst in insts)
                ax.set_xlabel(f"ΣE/ΣE* = {e / e0:.4f}", fontsize=8)
            ax.set_title(title if n == cases[0][0] else "", fontsize=9)
        row_ax[0].set_ylabel(f"{n} atoms, {insts[0].patch_size}×{insts[0].patch_size} tiles", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def _plot_warm(cases, path):
    """The paper's Fig. 3: gap to the exact energy against the warm-start run. Lines: the reported
    (cumulative) best of the median chain, one per QUBO; band: the 10–90 % range over QUBOs × chains
    of each run's *own* best (a run can end worse than the state it started from)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(cases), 2, figsize=(10, 3.3 * len(cases)), squeeze=False, sharey="row")
    for row_ax, (n, insts, extras) in zip(axes, cases):
        for ax, tag, title in zip(row_ax, ("warm", "warm_loihi"), ("float32", "Loihi 2 profile")):
            own = []
            for inst, ex in zip(insts, extras):
                cum = _gap(np.median(ex[f"{tag}_curve"], axis=1), inst.exact_energy)
                ax.plot(np.arange(1, len(cum) + 1), cum, lw=1.2)
                own.append(_gap(ex[f"{tag}_run_best"], inst.exact_energy))  # (runs, chains)
            runs = min(len(o) for o in own)
            own = np.concatenate([o[:runs] for o in own], axis=1)
            x = np.arange(1, runs + 1)
            ax.fill_between(x, np.percentile(own, 10, axis=1), np.percentile(own, 90, axis=1), color="0.6", alpha=0.3, lw=0,
                            label="each run's own best, 10–90 %")
            ax.plot(x, np.median(own, axis=1), color="0.3", lw=0.8, ls="--", label="each run's own best, median")
            ax.axhline(2.0, color="k", ls=":", lw=0.8, label="2 % gap")
            ax.set_yscale("symlog", linthresh=0.1)
            ax.set_ylim(0, None)
            ax.set_xscale("log")
            ax.set_xlabel("warm-start run")
            ax.set_ylabel("gap to exact energy (%)")
            ax.set_title(f"{n} variables, {title} ({len(insts)} QUBOs, median chain)", fontsize=9)
        row_ax[0].legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _plot_dictionary(path, sizes):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neurosim.sparse_coding import load_dictionary

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for atoms, color in zip(sizes, ("C0", "C1")):
        h = load_dictionary(atoms)
        ep = np.arange(1, len(h["error"]) + 1)
        axes[0].plot(ep, h["error"], "o-", ms=3, color=color, label=f"{atoms} atoms ({int(h['patch_size'])}×{int(h['patch_size'])})")
        axes[1].plot(ep, h["sparsity"], "o-", ms=3, color=color, label=f"{atoms} atoms")
        axes[1].plot(ep, h["lam_history"] / h["lam_history"].max() * 0.3, ":", lw=1, color=color, label=f"λ / max λ × 0.3, {atoms}")
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("mean ||x − Da||² / ||x||²")
    axes[0].set_title("reconstruction error (rises while λ grows)", fontsize=9)
    axes[0].legend(fontsize=8)
    axes[1].axhline(0.1, color="k", lw=0.8, ls="--", label="target sparsity")
    axes[1].set_xlabel("epoch")
    axes[1].set_ylabel("fraction of active atoms")
    axes[1].set_title("sparsity and the penalty λ", fontsize=9)
    axes[1].legend(fontsize=7)
    D = load_dictionary(64)["D"]
    p = int(round(np.sqrt(D.shape[0])))
    grid = np.full((8 * (p + 1), 8 * (p + 1)), np.nan)
    for k in range(min(64, D.shape[1])):
        i, j = divmod(k, 8)
        a = D[:, k].reshape(p, p)
        grid[i * (p + 1): i * (p + 1) + p, j * (p + 1): j * (p + 1) + p] = a / (np.abs(a).max() + 1e-12)
    axes[2].imshow(grid, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    axes[2].set_title("the 64 learned 7×7 atoms", fontsize=9)
    axes[2].axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ----------------------------------------------------------------------------- main
def main(args):
    from neurosim.sparse_coding import load_instances

    from ._report import default_docs_dir, markdown_table, record_section

    for name in ("replicas", "sa_steps", "sa_replicas", "steps", "every", "runs", "chains"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be ≥ 1, got {getattr(args, name)}")
    sizes = [int(s) for s in str(args.sizes).split(",") if s.strip()]
    bad = [s for s in sizes if s not in (64, 128)]
    if bad:
        raise ValueError(f"--sizes must be among 64,128, got {bad}")
    limit = args.limit
    if args.quick:
        limit = 2 if limit is None else min(limit, 2)
        args.runs, args.chains, args.replicas = min(args.runs, 3), min(args.chains, 2), min(args.replicas, 4)
        args.sa_steps, args.sa_replicas = min(args.sa_steps, 2000), min(args.sa_replicas, 16)
    log = (lambda m: print(m, file=sys.stderr, flush=True)) if args.json else (lambda m: print(m, flush=True))  # noqa: E731
    rows, cases = [], []
    t0 = time.perf_counter()
    for n in sizes:
        insts = load_instances(n)
        if limit is not None:
            insts = insts[: (limit if n == 64 else max(1, limit // 2))]
        extras = []
        for inst in insts:
            row, ex = solve_one(inst, args, log)
            rows.append(row)
            extras.append(ex)
        cases.append((n, insts, extras))
    total = time.perf_counter() - t0

    summary = []
    for n, insts, _ in cases:
        rs = [r for r in rows if r["n"] == n]
        k = len(rs)
        summary.append(
            f"* **{n} variables ({k} QUBOs)**: neurosim SA (parallel, `models.SA`) found the exact optimum on "
            f"{sum(r['sa_hits'] > 0 for r in rs)}/{k} (in {sum(r['sa_hits'] for r in rs)}/{k * args.sa_replicas} replicas); "
            f"sequential annealing (neurosim Gibbs, random scan) on {sum(r['seq_sa_hits'] > 0 for r in rs)}/{k}"
            + (f", dwave-samplers SA on {sum(r['dwave_sa_hits'] > 0 for r in rs)}/{k}" if all('dwave_sa_hits' in r for r in rs) else "")
            + f"; one NEBM run on "
            f"{sum(r['nebm_hits'] > 0 for r in rs)}/{k} (in {sum(r['nebm_hits'] for r in rs)}/{k * args.replicas} replicas); "
            f"NEBM with warm starting within 2 % of the exact energy on {sum(r['nebm_warm_gap_pct'] <= 2 for r in rs)}/{k} "
            f"(exact on {sum(r['nebm_warm_hits'] > 0 for r in rs)}/{k}) in float32 and on "
            f"{sum(r['nebm_warm_loihi_gap_pct'] <= 2 for r in rs)}/{k} (exact on {sum(r['nebm_warm_loihi_hits'] > 0 for r in rs)}/{k}) "
            f"under the Loihi 2 profile."
        )
    cols = ["file", "n", "exact_energy", "active", "sa_min", "sa_hits", "seq_sa_hits", "dwave_sa_hits", "nebm_min", "nebm_hits",
            "nebm_warm_min", "nebm_warm_hits", "nebm_warm_loihi_min", "nebm_warm_loihi_hits", "sa_s", "seq_sa_s", "dwave_sa_s",
            "nebm_s", "nebm_warm_s", "nebm_warm_loihi_s"]
    table = markdown_table(rows, cols, floatfmt="{:.5g}")
    if not args.json:
        print(table)
        print("\n".join(summary))
        print(f"total wall time {total:.0f} s")

    if not (args.quick or args.no_record):
        docs = args.docs or default_docs_dir()
        figs = os.path.join(docs, "figures")
        os.makedirs(figs, exist_ok=True)
        _plot_reconstructions(cases, os.path.join(figs, "sparse_coding_reconstruction.png"))
        _plot_warm(cases, os.path.join(figs, "sparse_coding_warm_start.png"))
        _plot_dictionary(os.path.join(figs, "sparse_coding_dictionary.png"), sizes)
        md = (
            "### Binary sparse coding (`neurosim bench sparse-coding`)\n\n"
            f"Per stored QUBO (see docs/sparse_coding.md): the proven exact energy and number of active atoms; neurosim SA "
            f"(`models.SA`, parallel refractory neurons with refractory periods uniform in 0–255 steps, {args.sa_steps} steps, "
            f"{args.sa_replicas} replicas: minimum and replicas "
            f"that hit the optimum); sequential annealing for reference, {SEQ_READS} reads × {SEQ_SWEEPS} sweeps (neurosim `Gibbs` "
            f"random scan; dwave-samplers SA): reads that hit the optimum; "
            f"NEBM, one run of {args.steps} steps sampled every {args.every} ({args.replicas} replicas); NEBM with iterated "
            f"warm starting, {args.chains} chains × {args.runs} runs, float32 and Loihi 2 profile (minimum over chains, chains at "
            f"the optimum). Times are run seconds per method (compile apart; warm = all runs of all chains). Total wall "
            f"time {total:.0f} s.\n\n" + "\n".join(summary) + "\n\n" + table +
            "\n\n![reconstructions](figures/sparse_coding_reconstruction.png)\n\n![warm starting](figures/sparse_coding_warm_start.png)\n\n"
            "![dictionary learning](figures/sparse_coding_dictionary.png)\n"
        )
        record_section("sparse-coding", md, {"rows": rows, "args": {k: v for k, v in vars(args).items() if k != "func"}, "total_s": total},
                       docs_dir=docs)
    json_cols = ["file", "n", "exact_energy", "sparsity", "sa_min", "sa_hits", "seq_sa_min", "seq_sa_hits", "dwave_sa_min",
                 "dwave_sa_hits", "nebm_min", "nebm_hits", "nebm_warm_min", "nebm_warm_loihi_min", "nebm_warm_gap_pct",
                 "nebm_warm_loihi_gap_pct", "sa_s", "seq_sa_s", "dwave_sa_s", "nebm_s", "nebm_warm_s", "nebm_warm_loihi_s"]
    return [{k: r[k] for k in json_cols if k in r} for r in rows] if args.json else {"rows": rows, "total_s": total}
