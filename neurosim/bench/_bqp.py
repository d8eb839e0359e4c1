"""``neurosim bench bqp``: OR-Library / Biq Mac QUBOs (Beasley's ``bqp`` instances) with known optima.

Reads the directory the user gives (``--bqp DIR``, default ``../shared/data/bqp`` from the repository
root): every ``*.sparse`` / ``*.bqp`` file named in the directory's ``optimal_energy.txt`` (lines
``name optimum``, the optimum of ``min xᵀQx``), read with :func:`neurosim.load_problem` ``(format="bqp")``
(the Biq Mac convention: upper triangle of a symmetric Q, a pair contributes ``2q``). Nothing is tuned
to these instances: every solver runs with the same defaults as in ``bench neurobench``.

For each budget τ (``--timeouts``, default 0.1, 1, 10 s) one fresh run per solver sized to τ; the
score is the gap to the optimum ``(c − c_opt)/|c_opt|`` of its best state (every state is feasible).
Solvers and peers as in :mod:`neurosim.bench._neurobench`; the ratio to each peer is printed per τ.
"""

from __future__ import annotations

import os
import sys

import numpy as np


def default_dir() -> str:
    from ._report import repo_root

    root = repo_root() or os.getcwd()
    return os.path.join(root, "..", "shared", "data", "bqp")


def read_optima(directory: str) -> dict:
    path = os.path.join(directory, "optimal_energy.txt")
    if not os.path.exists(path):
        raise ValueError(f"{directory}: no optimal_energy.txt (lines 'name optimum') in the bqp directory")
    out = {}
    with open(path) as fh:
        for k, line in enumerate(fh, 1):
            f = line.split()
            if not f:
                continue
            if len(f) != 2:
                raise ValueError(f"{path}:{k}: expected 'name optimum', got {line.strip()!r}")
            try:
                out[f[0]] = float(f[1])
            except ValueError:
                raise ValueError(f"{path}:{k}: optimum is not a number: {f[1]!r}") from None
    return out


def instances(directory: str, sizes=None) -> list:
    """``[(name, path, optimum)]`` of the instances in ``directory`` that have an optimum (and size in ``sizes``)."""
    if not os.path.isdir(directory):
        raise ValueError(f"--bqp {directory!r} is not a directory")
    optima = read_optima(directory)
    out = []
    for fname in sorted(os.listdir(directory)):
        stem, ext = os.path.splitext(fname)
        if ext not in (".sparse", ".bqp") or stem not in optima:
            continue
        with open(os.path.join(directory, fname)) as fh:
            n = int(fh.readline().split()[0])
        if sizes is None or n in sizes:
            out.append((stem, os.path.join(directory, fname), optima[stem]))
    return sorted(out, key=lambda t: (int("".join(c for c in t[0].split("-")[0] if c.isdigit()) or 0), t[0]))


def add_arguments(parser):
    parser.add_argument("--bqp", default=None, help="directory of bqp instances + optimal_energy.txt (default ../shared/data/bqp)")
    parser.add_argument("--sizes", default=None, help="only these n (comma list; default all)")
    parser.add_argument("--timeouts", default="0.1,1,10", help="budgets in s")
    parser.add_argument("--replicas", type=int, default=8)
    parser.add_argument("--models", default=None)
    parser.add_argument("--profiles", default=None)
    parser.add_argument("--peers", default=None)
    parser.add_argument("--quick", action="store_true", help="n = 50 only, τ 0.01 and 0.1 s (recorded only with --record)")
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--json", action="store_true")


def main(args):
    import neurosim as ns

    from ._maxcut import compile_cache
    from ._neurobench import _csv, solve_instance
    from ._neurobench_report import ft_tables, ratio_table
    from ._peers import available_peers, peer_versions
    from ._report import Progress, environment, record_section

    directory = args.bqp or default_dir()
    sizes = [50] if args.quick else _csv(args.sizes, int)
    taus = [0.01, 0.1] if args.quick else _csv(args.timeouts, float)
    peer_names = _csv(args.peers, str)
    peers = available_peers(None if peer_names is None else peer_names)
    env = environment()
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    out = []
    todo = list(instances(directory, sizes))
    progress = Progress(len(todo))
    with compile_cache():
        for name, path, opt in todo:
            progress.tick(name)
            p = ns.load_problem(path, format="bqp")
            log(f"{name}: n={p.n}, optimum {opt:g}")
            r = solve_instance(p, opt, "published optimum", taus=taus, scenario="ft", replicas=args.replicas,
                               models=_csv(args.models, str), profiles=_csv(args.profiles, str), peers=peers, log=log,
                               Q=p.to_qubo().matrix(), cost_of=lambda x, p=p: np.asarray(p.energy(x), dtype=np.float64))
            out.append({"name": name, "n": p.n, "density": 0.1, "seed": name, **r})
            _regap(out[-1])
    cmd = "neurosim bench bqp" + (" --quick" if args.quick else f" --timeouts {args.timeouts}") + (f" --sizes {args.sizes}" if args.sizes else "")
    for k in ("models", "profiles", "peers"):
        if getattr(args, k) is not None:
            cmd += f" --{k} {getattr(args, k)}"
    data = {"command": cmd, "timeouts": taus, "replicas": args.replicas, "peers": peer_versions(peers), "instances": out, "quick": bool(args.quick)}
    md = _markdown(data, ft_tables, ratio_table)
    if not args.quick or args.record:
        record_section("bqp", md, data, env=env)
    print(md)
    return data


def _regap(inst) -> None:
    """Gaps against the reference ``min(listed optimum, best of all runs)``, so they are ≥ 0 and a
    listed value that a run beat is not mistaken for the minimum (the table says which)."""
    ref = min(inst["bks"], inst["best_run"])
    inst["reference"] = ref
    for p in inst["points"]:
        p["gap"] = (p["cost"] - ref) / abs(ref)


def rerender(json_path: str) -> str:
    """Re-record the section from its JSON with signed gaps (c − c_opt)/|c_opt| (a run that beats a
    listed optimum shows a negative gap, never a positive one)."""
    import json

    from ._neurobench_report import ft_tables, ratio_table
    from ._report import record_section

    with open(json_path) as fh:
        blob = json.load(fh)
    data, env = blob["data"], blob.get("env")
    for i in data["instances"]:
        _regap(i)
    md = _markdown(data, ft_tables, ratio_table)
    record_section("bqp", md, data, env=env)
    return md


def _markdown(data, ft_tables, ratio_table) -> str:
    from ._report import markdown_table

    inst = data["instances"]
    rows = [{"instance": i["name"], "n": i["n"], "optimum": f"{i['bks']:g}", "best of all runs": f"{i['best_run']:g}"} for i in inst]
    failed = {f["solver"]: f["error"] for i in inst for f in i.get("failed", [])}
    unsup = {(u["model"], u["profile"]): u["reason"] for i in inst for u in i["unsupported"]}
    parts = [f"Command: `{data['command']}`. OR-Library (Beasley) bqp QUBOs in the Biq Mac format from the user's directory "
             "(not shipped), read with `load_problem(format=\"bqp\")`; gap (c − c_ref)/|c_ref| to c_ref = min(published optimum, best of all runs) of the best "
             f"state of one fresh run per budget; neurosim models {data['replicas']} replicas, steps fitted to the budget, compile apart; "
             "peers: " + ", ".join(f"{k} ({v})" for k, v in data["peers"].items()) + ". Nothing tuned to these instances.",
             markdown_table(rows)]
    if unsup:
        parts.append("Not run (the model refuses the profile): " + "; ".join(f"{m} × {p}: {r}" for (m, p), r in unsup.items()))
    if failed:
        parts.append("Failed: " + "; ".join(f"{k}: {v}" for k, v in failed.items()))
    beat = [f"{i['name']} ({i['best_run']:g} < {i['bks']:g})" for i in inst if i["best_run"] < i["bks"]]
    if beat:
        parts.append("**A run found a lower energy than the listed optimum** (re-evaluated xᵀQx in float64 on the host): "
                     + ", ".join(beat) + ". The listed value is therefore not the minimum of the instance as read; gaps there are to the lower value.")
    parts += ft_tables(inst, data["timeouts"], label="gap to the optimum")
    parts.append(ratio_table(inst, data["timeouts"]))
    return "\n\n".join(parts)
