"""The ``neurosim`` command line: solve, demo, bench, qscore, models."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys

import numpy as np


def _positive_int(text: str) -> int:
    try:
        value = int(float(text)) if "e" in text.lower() else int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


# ----------------------------------------------------------------------------- solve
def _add_solve(sub):
    p = sub.add_parser("solve", help="run a model on a problem file", description="Run a neuron model on a problem file.")
    p.add_argument("problem_file", help="Gset-format text file or .npz (see docs/cli.md)")
    p.add_argument("--problem", choices=["maxcut", "mis", "qubo", "ising"], default=None, help="problem kind (default: inferred; text files are Max-Cut)")
    p.add_argument("--model", default="gibbs", help="model name (neurosim models)")
    p.add_argument("--steps", type=_positive_int, default=10_000, help="time steps (iterations); accepts 1e8")
    p.add_argument("--replicas", type=_positive_int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="model parameter (repeatable)")
    p.add_argument("--hardware", default=None, help="hardware profile (e.g. loihi2, spinnaker2)")
    p.add_argument("--penalty", type=float, default=1.0, help="MIS edge penalty λ = Q_uv of the full symmetric QUBO matrix (Loihi 2 paper eq. 25; a conflict costs 2λ; > 0.5)")
    p.add_argument("--best-every", type=_positive_int, default=None, help="best-state capture interval in steps")
    p.add_argument("--record-every", type=_positive_int, default=None, help="record energy (and best energy) every this many steps")
    p.add_argument("--checkpoint", default=None, help="checkpoint file: resume from it if it exists, keep it updated")
    p.add_argument("--out", default=None, help="directory for result.json, best states and figures")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the summary")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _solve(args) -> int:
    import neurosim as ns
    from neurosim._build import build_model, load_problem, parse_params

    problem = load_problem(args.problem_file, args.problem, penalty=args.penalty)
    params = parse_params(args.param)
    model = build_model(args.model, problem, steps=args.steps, hardware=args.hardware, **params)
    save = ns.SaveAt(every=args.record_every, what=("energy", "best_energy")) if args.record_every else None
    progress = not args.no_progress and (sys.stderr.isatty() or args.steps * args.replicas >= 10_000_000)
    result = ns.run(
        model, problem, steps=args.steps, replicas=args.replicas, seed=args.seed, save=save,
        best_every=args.best_every, checkpoint=args.checkpoint, progress=progress,
    )
    out = result.to_json()
    out["model"] = args.model
    out["hardware"] = args.hardware
    if args.out:
        _write_outputs(args.out, result, out)
    if args.json:
        print(json.dumps(out))
    else:
        print(_summary(out))
    return 0


def _summary(out: dict) -> str:
    p = out["problem"]
    lines = [
        f"problem  {p['name']}: n={p['n']}, m={p['m']}",
        f"model    {out['model']}  hardware={out['hardware']}  steps={out['steps']:,}  replicas={out['replicas']}  seed={out['seed']}",
        f"device   {out['device']}   compile {out['time_s']['compile']:.2f} s, run {out['time_s']['run']:.2f} s",
        f"best energy {out['best_energy']:.6g}",
    ]
    if "best_cut" in out:
        cuts = np.asarray(out["replica_best_cut"])
        lines.append(f"best cut    {out['best_cut']:.6g}   (replicas: mean {cuts.mean():.6g}, min {cuts.min():.6g})")
    if "best_set_size" in out:
        lines.append(f"best independent set size {out['best_set_size']}  (feasible replicas: {sum(out['replica_feasible'])}/{len(out['replica_feasible'])})")
    return "\n".join(lines)


def _write_outputs(directory: str, result, out: dict) -> None:
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "result.json"), "w") as fh:
        json.dump(out, fh, indent=1)
    np.savez_compressed(os.path.join(directory, "states.npz"), best_state=result.best_state,
                        best_energy=result.best_energy, final_state=result.final_state, replica_ids=result.replica_ids)
    if "energy" in result.records:
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
        fig.savefig(os.path.join(directory, "energy.png"), dpi=120)
        plt.close(fig)


# ----------------------------------------------------------------------------- demo
def _add_demo(sub):
    p = sub.add_parser("demo", help="run a model on a built-in problem and compare with the exact answer")
    p.add_argument("--model", default=None, help="model (default: neurosa if available, else gibbs)")
    p.add_argument("--n", type=_positive_int, default=20, help="vertices of the generated Max-Cut graph (≤ 24: exact reference)")
    p.add_argument("--steps", type=_positive_int, default=20_000)
    p.add_argument("--replicas", type=_positive_int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="neurosim-demo", help="directory for the figures")
    p.add_argument("--json", action="store_true")


def _demo(args) -> int:
    from neurosim._demo import demo

    result = demo(model=args.model, n=args.n, steps=args.steps, replicas=args.replicas, seed=args.seed, out=args.out)
    if args.json:
        print(json.dumps(result))
    return 0 if result["found_optimum"] else 1


# ----------------------------------------------------------------------------- bench / qscore
def _bench(argv) -> int:
    from neurosim.bench import BENCHES

    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["suite"] + list(argv)  # `neurosim bench [options]` is the whole suite
    parser = argparse.ArgumentParser(prog="neurosim bench", description="Benchmarks; each rewrites its section of docs/benchmarks.md. "
                                     "Without NAME: the suite (every model × graphs × replicas, time to target, baselines, scaling).")
    sub = parser.add_subparsers(dest="name", metavar="NAME")
    sub.required = True
    mods = {}
    for name, modpath in sorted(BENCHES.items()):
        try:
            mod = importlib.import_module(modpath)
        except ImportError as exc:  # an optional dependency of one benchmark must not break the others
            sub.add_parser(name, help=f"(unavailable: {exc})")
            continue
        mods[name] = mod
        bp = sub.add_parser(name, help=(mod.__doc__ or "").strip().splitlines()[0] if mod.__doc__ else None)
        mod.add_arguments(bp)
    args = parser.parse_args(argv)
    if args.name not in mods:
        parser.error(f"benchmark {args.name!r} is unavailable in this installation")
    result = mods[args.name].main(args)
    if getattr(args, "json", False) and result is not None:
        print(json.dumps(result, default=_json_default))
    return 0


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(type(o).__name__)


def _qscore(argv) -> int:
    try:
        mod = importlib.import_module("neurosim.qscore")
    except ImportError as exc:
        print(f"neurosim qscore is unavailable: {exc}", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(prog="neurosim qscore", description="Q-score: Max-Cut on G(N, 1/2) for growing N.")
    mod.add_arguments(parser)
    args = parser.parse_args(argv)
    mod.main(args)
    return 0


def _models() -> int:
    from neurosim._build import hardware_registry, model_registry

    for name, cls in sorted(model_registry().items()):
        doc = (cls.__doc__ or (sys.modules[cls.__module__].__doc__ or "")).strip().splitlines()
        print(f"{name:10s} {doc[0] if doc else ''}")
    hw = hardware_registry()
    print("hardware profiles:", ", ".join(sorted(hw)) or "(none)")
    from neurosim.hardware._support import format_support_table

    print("\nmodel × profile (each cell built on a small problem):")
    print(format_support_table())
    return 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "bench":
        return _run_guarded(lambda: _bench(argv[1:]))
    if argv and argv[0] == "qscore":
        return _run_guarded(lambda: _qscore(argv[1:]))
    parser = argparse.ArgumentParser(prog="neurosim", description="JAX simulator for neuromorphic Ising machines.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_solve(sub)
    _add_demo(sub)
    sub.add_parser("bench", help="run a benchmark (neurosim bench --help)")
    sub.add_parser("qscore", help="Q-score of Max-Cut on G(N, 1/2) (neurosim qscore --help)")
    sub.add_parser("models", help="list models and hardware profiles")
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "solve":
        return _run_guarded(lambda: _solve(args))
    if args.command == "demo":
        return _run_guarded(lambda: _demo(args))
    return _models()


def _run_guarded(fn) -> int:
    """User errors (bad files, parameters) print one line, not a traceback."""
    try:
        return fn()
    except (ValueError, MemoryError, FileNotFoundError) as exc:
        print(f"neurosim: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
