"""The ``neurosim`` command line: solve, demo, bench, qscore, models."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys

import numpy as np


from ._cli_solve import positive_int as _positive_int
from ._cli_solve import seed as _seed

_HELP = argparse.ArgumentDefaultsHelpFormatter  # every option's help shows its default


# ----------------------------------------------------------------------------- solve
def _add_solve(sub):
    from ._cli_solve import add_arguments

    p = sub.add_parser("solve", help="run a model on a problem file", description="Run a neuron model on a problem file (docs/cli.md).",
                       formatter_class=_HELP)
    add_arguments(p)
    return p


def _solve(args, argv) -> int:
    from ._cli_solve import solve

    return solve(args, argv)


# ----------------------------------------------------------------------------- demo
def _add_demo(sub):
    p = sub.add_parser("demo", help="run a model on a built-in problem and compare with the exact answer", formatter_class=_HELP)
    p.add_argument("--model", default=None, help="model (default: neurosa if available, else gibbs)")
    p.add_argument("--n", type=_positive_int, default=20, help="vertices of the generated Max-Cut graph (≤ 24: exact reference)")
    p.add_argument("--steps", type=_positive_int, default=20_000)
    p.add_argument("--replicas", type=_positive_int, default=64)
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--out", default="neurosim-demo", help="directory for the figures")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (the demo prints none; accepted like solve's)")
    return p


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
    write_docs = "--write-docs" in argv
    argv = [a for a in argv if a != "--write-docs"]
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["suite"] + list(argv)
    parser = argparse.ArgumentParser(
        prog="neurosim bench", formatter_class=_HELP,
        description="Benchmarks. Each writes its section (markdown, JSON, figures) to ./neurosim-bench; with --write-docs "
                    "(before or after NAME) it rewrites its section of docs/benchmarks.md and docs/figures instead. "
                    "Without NAME: the suite (every model × graphs × replicas, time to target, baselines, scaling).")
    parser.add_argument("--write-docs", action="store_true", help="rewrite the repository's docs/benchmarks.md section and figures")
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
        bp = sub.add_parser(name, help=_first_sentence(mod.__doc__), description=_plain(mod.__doc__), formatter_class=_HELP)
        mod.add_arguments(bp)
    args = parser.parse_args(argv)
    if args.name not in mods:
        parser.error(f"benchmark {args.name!r} is unavailable in this installation")
    from neurosim.bench import _report

    _report.set_write_docs(write_docs or _report.WRITE_DOCS)
    result = mods[args.name].main(args)
    if getattr(args, "json", False) and result is not None:
        print(json.dumps(result, default=_json_default))
    return 0


def _plain(doc: str | None) -> str | None:
    """Docstring text for a terminal: reST double backticks become single quotes."""
    return None if not doc else doc.strip().replace("``", "'")


def _first_sentence(doc: str | None) -> str | None:
    """The docstring's first sentence, whole (joined across lines, without a leading
    "'neurosim bench NAME':" label), for a one-line help entry."""
    import re

    text = _plain(doc)
    if not text:
        return None
    para = " ".join(text.split("\n\n")[0].split())
    para = re.sub(r"^'neurosim bench [\w-]+'\s*[:—-]?\s*", "", para)
    m = re.search(r"(?<=[\w)\]'])\.(?=\s+[A-Z(]|$)", para)
    sentence = para[: m.end()] if m else para
    return sentence[:1].upper() + sentence[1:]


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
    parser = argparse.ArgumentParser(prog="neurosim qscore", description="Q-score: Max-Cut on G(N, 1/2) for growing N.",
                                     formatter_class=_HELP)
    mod.add_arguments(parser)
    if "--no-progress" not in parser._option_string_actions:
        parser.add_argument("--no-progress", action="store_true", help="no progress output (accepted like solve's)")
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
    commands = {"solve": _add_solve(sub), "demo": _add_demo(sub)}
    sub.add_parser("bench", help="run a benchmark (neurosim bench --help)")
    sub.add_parser("qscore", help="Q-score of Max-Cut on G(N, 1/2) (neurosim qscore --help)")
    sub.add_parser("models", help="list models and hardware profiles")
    args, extra = parser.parse_known_args(argv)
    if extra:  # e.g. `solve --stpes`: the subcommand's usage, not the top level's
        commands.get(args.command, parser).error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "solve":
        return _run_guarded(lambda: _solve(args, argv))
    if args.command == "demo":
        return _run_guarded(lambda: _demo(args))
    return _models()


def _run_guarded(fn) -> int:
    """User errors (bad files, parameters, paths) print one line and exit 2, not a traceback;
    NEUROSIM_DEBUG=1 shows the traceback. Ctrl-C outside a run's chunk loop exits 130."""
    debug = os.environ.get("NEUROSIM_DEBUG", "") not in ("", "0")
    try:
        return fn()
    except (ValueError, MemoryError, OSError) as exc:
        if debug:
            raise
        print(f"neurosim: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if debug:
            raise
        print("neurosim: interrupted before the run started; nothing to resume", file=sys.stderr)
        return 130


def _one_line(exc: BaseException) -> str:
    text = str(exc) if not isinstance(exc, OSError) or not exc.filename else f"{exc.filename}: {exc.strerror or exc}"
    return " ".join(text.split()) or type(exc).__name__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
