"""``neurosim solve``: arguments, checks before the run, the run (interruptible), outputs and summary."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys

import numpy as np

EXIT_INTERRUPTED = 130


def positive_int(text: str) -> int:
    """A positive whole number, also written ``1e8``; refuses 1.5, 1e400, 0, -5."""
    try:
        value = float(text) if any(c in text.lower() for c in "e.") else int(text)
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError
            value = int(value)
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    if value >= 2**31 - 1:
        raise argparse.ArgumentTypeError(f"{text!r} exceeds the int32 step/replica counter (2^31 - 1)")
    return value


def seed(text: str) -> int:
    from .random import check_seed

    try:
        return check_seed(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed in [0, 2^64), got {text!r}") from None


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (value > 0 and np.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def add_arguments(p) -> None:
    p.add_argument("problem_file", help="problem file: Gset/rudy, bqp, qbsolv .qubo, DIMACS, .npy/.npz, dimod BQM (docs/cli.md)")
    p.add_argument("--problem", choices=["maxcut", "mis", "qubo", "ising"], default=None, help="problem kind (default: the format's)")
    p.add_argument("--format", default=None, help="file format: gset, bqp, qbsolv, dimacs, npy, npz, bqm (default: from content/extension)")
    p.add_argument("--model", default="gibbs", help="model name (`neurosim models` lists them)")
    p.add_argument("--steps", type=positive_int, default=10_000, help="time steps (iterations); accepts 1e8")
    p.add_argument("--replicas", type=positive_int, default=8, help="independent replicas run at once")
    p.add_argument("--seed", type=seed, default=0, help="seed in [0, 2^64)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="model parameter (repeatable)")
    p.add_argument("--hardware", default=None, help="hardware profile (e.g. loihi2, spinnaker2)")
    p.add_argument("--penalty", type=float, default=None,
                   help="MIS only: edge penalty λ = Q_uv of the full symmetric QUBO matrix (Loihi 2 paper eq. 25; a conflict costs 2λ; > 0.5; default 1)")
    p.add_argument("--best-every", type=positive_int, default=None, help="best-state capture interval in steps (default: the model's)")
    p.add_argument("--record-every", type=positive_int, default=None, help="record energy (and best energy) every this many steps")
    p.add_argument("--checkpoint", default=None, help="checkpoint file: resume from it if it exists, keep it updated (default with --out: OUT/checkpoint.npz)")
    p.add_argument("--checkpoint-every", type=positive_float, default=60.0, help="seconds between checkpoint saves")
    p.add_argument("--out", default=None, help="directory for result.json, states.npz, figures and the checkpoint")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the summary")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def check_paths(args) -> str | None:
    """Before anything runs: ``--out`` is (or can be made) a directory, the checkpoint path is a file
    in an existing directory. Returns the checkpoint path (``--out`` implies one)."""
    from ._checkpoint import check_checkpoint_path

    if args.out:
        if os.path.exists(args.out) and not os.path.isdir(args.out):
            raise ValueError(f"--out {args.out!r} is a file; give a directory")
        try:
            os.makedirs(args.out, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"--out {args.out!r}: cannot create the directory ({exc.strerror})") from None
        if not os.access(args.out, os.W_OK):
            raise ValueError(f"--out {args.out!r} is not writable")
    checkpoint = args.checkpoint or (os.path.join(args.out, "checkpoint.npz") if args.out else None)
    if checkpoint is not None:
        check_checkpoint_path(checkpoint)
    return checkpoint


def _problem(args):
    from ._build import load_problem
    from ._graphs import MIS

    problem = load_problem(args.problem_file, args.problem, format=args.format, penalty=1.0 if args.penalty is None else args.penalty)
    if args.penalty is not None and not isinstance(problem, MIS):
        raise ValueError(f"--penalty applies to MIS problems only; {args.problem_file!r} was read as {type(problem).__name__}")
    return problem


def solve(args, argv) -> int:
    import neurosim as ns
    from ._build import build_model, parse_params

    checkpoint = check_paths(args)
    problem = _problem(args)
    params = parse_params(args.param)
    model = build_model(args.model, problem, steps=args.steps, hardware=args.hardware, params=params)
    save = ns.SaveAt(every=args.record_every, what=("energy", "best_energy")) if args.record_every else None
    progress = not args.no_progress and (sys.stderr.isatty() or args.steps * args.replicas >= 10_000_000)
    result = ns.run(
        model, problem, steps=args.steps, replicas=args.replicas, seed=args.seed, save=save, best_every=args.best_every,
        checkpoint=checkpoint, checkpoint_every=args.checkpoint_every, progress=progress, on_interrupt="return",
    )
    out = result.to_json()
    out["model"] = args.model
    out["hardware"] = args.hardware
    if checkpoint:
        out["checkpoint"] = checkpoint
    written = write_outputs(args.out, result, out) if args.out else None
    print(json.dumps(out) if args.json else summary(out, written))
    if result.partial:
        where = f"checkpoint saved to {checkpoint}; resume with: {shlex.join(['neurosim', *argv])}" if checkpoint else \
            "nothing saved (give --out or --checkpoint to be able to resume)"
        print(f"neurosim: interrupted ({result.interrupted}) at step {result.steps:,} of {args.steps:,}; {where}", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def summary(out: dict, written: str | None = None) -> str:
    p = out["problem"]
    lines = [
        f"problem  {p['name']}: n={p['n']}, m={p['m']}",
        f"model    {out['model']}  hardware={out['hardware']}  steps={out['steps']:,}  replicas={out['replicas']}  seed={out['seed']}",
        f"device   {out['device']}   compile {out['time_s']['compile']:.2f} s, run {out['time_s']['run']:.2f} s",
        f"best energy {out['best_energy']:.6g}",
    ]
    if out.get("partial"):
        lines.insert(1, f"PARTIAL  {out['steps']:,} of {out['steps_requested']:,} steps ({out.get('interrupted') or 'stopped'})")
    if out.get("resumed_from"):
        lines.append(f"resumed from step {out['resumed_from']:,}")
    if "best_cut" in out:
        cuts = np.asarray(out["replica_best_cut"])
        lines.append(f"best cut    {out['best_cut']:.6g}   (replicas: mean {cuts.mean():.6g}, min {cuts.min():.6g})")
    if "best_set_size" in out:
        lines.append(f"best independent set size {out['best_set_size']}  (feasible replicas: {sum(out['replica_feasible'])}/{len(out['replica_feasible'])})")
    lines.extend(loss_lines(out))
    if written:
        lines.append(f"solution written to {written} (best state: {out['vartype']} variables)")
    return "\n".join(lines)


def loss_lines(out: dict) -> list[str]:
    """Saturation and quantisation lines of the summary (the same facts as RunResult.loss_lines)."""
    lines = []
    over = out.get("overflow")
    if over and any(over):
        lines.append(f"overflow    {sum(over)} of {len(over)} replicas saturated their integer state")
    q = out.get("quantization")
    if isinstance(q, dict) and q.get("weight_bits") is not None:
        collapsed = f", {q.get('n_collapsed', 0)} couplings and {q.get('n_collapsed_bias', 0)} biases collapsed to 0" \
            if q.get("n_collapsed") or q.get("n_collapsed_bias") else ", none collapsed"
        lines.append(f"quantisation int{q['weight_bits']} (scale {q.get('scale', float('nan')):.4g}), max error {q.get('max_error', float('nan')):.3g}{collapsed}")
    return lines


def write_outputs(directory: str, result, out: dict) -> str:
    """result.json, states.npz (problem-domain samples and native states) and energy.png; returns
    the path of result.json."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "result.json")
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
    np.savez_compressed(os.path.join(directory, "states.npz"), samples=result.samples, best_state=result.best_state,
                        best_energy=result.best_energy, final_state=result.final_state, replica_ids=result.replica_ids)
    if "energy" in result.records:
        _energy_figure(os.path.join(directory, "energy.png"), result)
    return path


def _energy_figure(path: str, result) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(result.record_steps, result.records["energy"], lw=0.6, alpha=0.5)
    ax.plot(result.record_steps, result.records["best_energy"].min(axis=1), "k", lw=1.5, label="best over replicas")
    ax.set_xlabel("step")
    ax.set_ylabel("energy")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
