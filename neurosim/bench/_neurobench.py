"""``neurosim bench neurobench``: the NeuroBench QUBO-MIS benchmark, every neurosim model beside the peers.

Instances: :func:`neurosim.mis.neurobench` (``gnm_random_graph(n, int(0.5·d·n²), seed)``,
``Q = −I + 4A``, cost ``xᵀQx``); BKS from ``neurosim/data/neurobench_bks.csv`` (exact for n < 50,
dwave tabu 100 reads × 50 restarts above; :mod:`neurosim.bench._neurobench_bks`). An instance the table
lacks gets the proven exact optimum when n ≤ 100, else the best of all runs of this bench (flagged).
Score: NeuroBench's ``BKS-gap = |c − c_BKS| / |c_BKS|`` with ``c`` the cost of the best *repaired*
(feasible) state, so an infeasible state never counts.

Scenarios (``--scenario``):

* ``ft`` (fixed timeout): for each timeout τ (decades 1 ms … ``--max-timeout``, NeuroBench: 100 s) one
  fresh run sized to τ; its BKS-gap. The timer starts after the problem is loaded (neurosim: model
  built and compiled, ``time_run``; peers: their model structure built).
* ``tts`` (time to solution): budgets doubling from 1 ms; for each threshold 0.1 / 0.05 / 0.01 the
  measured wall time of the first (shortest-budget) run that reaches it (a restart protocol).
  With ``ft`` the same figure is read off the decade runs (coarser).

Solvers: every model (SA, NeuroSA, Gibbs, NEBM) in float and under each chip profile that the model
accepts (asked at run time: a profile the model refuses is listed as unsupported, with its reason), with
``--replicas`` replicas per run and the step count fitted to τ from a calibration run; chip time and
energy are recorded when the result carries them (``result.chip``). Peers in the same process and
budgets: :mod:`neurosim.bench._peers`. Each suite row prints the ratio to every peer: at a fixed τ,
``gap_peer / gap_neurosim``; for TTS, ``t_peer / t_neurosim``.
"""

from __future__ import annotations

import itertools
import math
import sys
import time

import numpy as np

from ._peers import FittedPeer

THRESHOLDS = (0.1, 0.05, 0.01)


# ----------------------------------------------------------------------------- neurosim solvers
class ModelSolver(FittedPeer):
    """One neurosim model (× profile) sized to a budget the way the fitted peers are: wall time =
    overhead + units × per-unit time, the overhead from one-unit runs and the per-unit time from a run of
    ≥ 50 ms (both after a warm-up run, and re-estimated from every run), then the most units that fit.
    A unit is 8 steps (NeuroSA: 256 single-pair iterations); runs of whole chunks (64 steps, NeuroSA
    4096) use the long chunk, so every run of a solver shares two compiled programs; when no budget is
    under ``coarse_from`` the unit is the chunk, and there is one. Timed: the run
    alone (``time_run``: compilation is reported apart).

    Before 2026-12-03 a run was the largest power of two of steps that fit one 512-step calibration,
    which used about half the budget (Gibbs 5–26 %, its calibration being all first-call cost) and
    never fewer than 64 steps / 4096 iterations (so 3–7× over a 1 ms budget at n ≥ 250)."""

    max_work = 1 << 26

    #: budgets from this long on are fitted in whole chunks only: one compiled program instead of two
    #: (a chunk of SA at n = 1000 is ~5 ms, a tenth of this), so long runs compile no more than before
    coarse_from = 0.05

    def __init__(self, problem, key, hardware, replicas, seed=0, shortest=None):
        from neurosim.models import MODELS

        self.p, self.key, self.hw, self.R, self.seed = problem, key, hardware, replicas, seed
        self.model = MODELS[key](problem, hardware=hardware)  # raises when the profile is unsupported
        self.name = f"{key} " + ("float" if hardware is None else hardware.label())
        self.per_unit, self.overhead, self.t_one, self.compile_s = None, 0.0, 0.0, 0.0
        self.unit, self.chunk = (256, 4096) if key == "neurosa" else (8, 64)
        if shortest is not None and shortest >= self.coarse_from:
            self.unit = self.chunk
        self._last = None

    def _run(self, steps, seed):
        import neurosim as ns

        res = ns.run(self.model, self.p, steps=steps, replicas=self.R, seed=seed,
                     chunk=self.chunk if steps % self.chunk == 0 else self.unit)
        self.compile_s += res.time_compile
        return res

    def calibrate(self):
        self._timed(self.chunk // self.unit, 0)  # the long-chunk program's first call, untimed like the short one's
        super().calibrate()

    def _timed(self, work, seed):
        self._last = self._run(int(work) * self.unit, self.seed + seed)
        return self._last.samples, self._last.time_run

    def units_for(self, tau: float) -> int:
        work = super().units_for(tau)
        per_chunk = self.chunk // self.unit
        return work - work % per_chunk if work >= per_chunk else work  # whole long chunks: one program

    measured_seed_offset = 1000  # calibration runs use seeds 0–3: never the measured ones

    def _info(self, work) -> dict:
        info = {"steps": work * self.unit, "replicas": self.R}
        chip = getattr(self._last, "chip", None)
        if chip is not None:
            info["chip"] = _chip_fields(chip)
        return info


def _chip_fields(chip) -> dict:
    """JSON-friendly numbers of a result's chip cost (engineer K's ``result.chip``)."""
    import dataclasses

    d = dataclasses.asdict(chip) if dataclasses.is_dataclass(chip) else dict(chip) if isinstance(chip, dict) else vars(chip)
    return {k: float(v) for k, v in d.items() if isinstance(v, (int, float, np.floating, np.integer))}


def model_solvers(problem, replicas, models=None, profiles=None, shortest=None):
    """``(solvers, unsupported)``: every model × {float, each profile} the model accepts."""
    from neurosim.hardware import PROFILES
    from neurosim.models import MODELS

    solvers, unsupported = [], []
    for key in models or list(MODELS):
        for pname in [None] + list(profiles if profiles is not None else PROFILES):
            hw = None if pname is None else PROFILES[pname]
            try:
                solvers.append(ModelSolver(problem, key, hw, replicas, shortest=shortest))
            except (ValueError, NotImplementedError, TypeError) as e:
                unsupported.append({"model": key, "profile": pname, "reason": str(e).splitlines()[0][:160]})
    return solvers, unsupported


class PeerSolver:
    def __init__(self, cls, Q):
        self.peer = cls(Q)
        self.name = cls.name
        self.compile_s = 0.0

    def solve(self, tau, seed=0):
        return self.peer.solve(tau, seed)


# ----------------------------------------------------------------------------- one instance
def budgets(scenario, max_t, min_t=1e-3):
    """ft: decades from ``min_t`` (NeuroBench: 1 ms) to ``max_t`` (and ``max_t`` itself); tts: doublings."""
    if scenario == "tts":
        out, t = [], min_t
        while t <= max_t * (1 + 1e-9):
            out.append(t)
            t *= 2
        return out
    lo = int(math.ceil(math.log10(min_t) - 1e-9))
    out = [10.0**k for k in range(lo, int(math.floor(math.log10(max_t) + 1e-9)) + 1)]
    return out + ([max_t] if not out or out[-1] < max_t * (1 - 1e-9) else [])


def run_solver(solver, taus, cost_of, target, scenario):
    """Points ``{tau, time_s, cost, ...}`` of one solver; ``tts`` stops once the smallest threshold is met."""
    pts = []
    for k, tau in enumerate(taus):
        x, dt, info = solver.solve(tau, seed=k)
        c = float(np.min(cost_of(x)))
        pts.append({"solver": solver.name, "timeout_s": tau, "time_s": dt, "cost": c, **info})
        if scenario == "tts" and abs(c - target) / abs(target) <= THRESHOLDS[-1]:
            break
    return pts


def tts(points, target, thresholds=THRESHOLDS) -> dict:
    """Threshold → measured wall time of the shortest-budget run reaching it (None: never)."""
    out = {}
    for th in thresholds:
        hit = [p for p in sorted(points, key=lambda p: p["timeout_s"]) if abs(p["cost"] - target) / abs(target) <= th]
        out[f"{th:g}"] = hit[0]["time_s"] if hit else None
    return out


def mis_instance(n, d, seed, bks_table):
    from neurosim import mis

    p = mis.neurobench(n, d, seed)
    row = bks_table.get((n, round(d, 6), seed))
    if row is not None:
        how = "exact" if row["method"] == "exact" else f"tabu {row['reads']} reads × {row['restarts']} restarts"
        return p, float(row["bks_cost"]), how
    if n <= 100:
        size, _, proven = mis.exact_mis(p, time_limit=60)
        if proven:
            return p, float(-size), "exact (computed here, not in the table)"
    return p, None, "best of this run (not in the BKS table)"


def mis_cost(problem):
    """Cost of 0/1 states as NeuroBench scores them, after repair: ``−|S|`` of the feasible set."""
    return lambda x: -problem.repair(x).sum(axis=-1).astype(np.float64)


def solve_instance(problem, target, how, *, taus, scenario, replicas, models, profiles, peers, log, Q=None, cost_of=None, signed=False):
    """All solvers on one instance (default: MIS, scored after repair): points with gaps to the
    target (NeuroBench's |c − c_BKS|/|c_BKS|, or with ``signed`` (c − c_opt)/|c_opt|, negative when a
    run beats the listed optimum), tts, compile times, unsupported profiles and failures."""
    Q = problem.to_qubo().matrix() if Q is None else Q
    cost_of = mis_cost(problem) if cost_of is None else cost_of

    solvers, unsupported = model_solvers(problem, replicas, models, profiles, shortest=min(taus))
    solvers += [PeerSolver(cls, Q) for cls in peers]
    points, failed = [], []
    for s in solvers:
        t0 = time.perf_counter()
        try:
            pts = run_solver(s, taus, cost_of, target if target is not None else -1.0, scenario)
        except Exception as e:  # one solver's failure (a peer's, or a model path under development) is reported, not fatal
            failed.append({"solver": s.name, "error": f"{type(e).__name__}: {str(e).splitlines()[0][:160] if str(e) else ''}"})
            log(f"  {s.name}: FAILED {failed[-1]['error']}")
            continue
        points += pts
        log(f"  {s.name}: costs {[int(p['cost']) for p in pts]} ({time.perf_counter() - t0:.1f} s incl. calibration/compile)")
    if target is None:
        target, how = min(p["cost"] for p in points), how
    best_run = min(p["cost"] for p in points)
    return {"bks": target, "bks_how": how, "best_run": best_run, "points": points, "unsupported": unsupported, "failed": failed,
            "tts": score(points, target, signed), "compile_s": {s.name: s.compile_s for s in solvers}}


def score(points, target, signed=False) -> dict:
    """Set each point's gap to ``target`` (in place) and return every solver's tts."""
    by = {}
    for p in points:
        p["gap"] = (p["cost"] - target) / abs(target) if signed else abs(p["cost"] - target) / abs(target)
        by.setdefault(p["solver"], []).append(p)
    return {name: tts(pts, target) for name, pts in by.items()}


# ----------------------------------------------------------------------------- CLI
def add_arguments(parser):
    from neurosim import mis

    parser.add_argument("--sizes", default="10,25,50,100,250,500,1000", help="n (NeuroBench: 10 … 5000)")
    parser.add_argument("--densities", default=",".join(f"{d:g}" for d in mis.NEUROBENCH_DENSITIES))
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--scenario", choices=("ft", "tts"), default="ft")
    parser.add_argument("--max-timeout", type=float, default=100.0, help="largest budget, s (NeuroBench: 100)")
    parser.add_argument("--min-timeout", type=float, default=1e-3,
                        help="smallest budget, s (NeuroBench: 1 ms); e.g. 10 with --max-timeout 100 runs only the long budgets")
    parser.add_argument("--variant", default=None,
                        help="record as section neurobench-<scenario>/VARIANT, beside the default one (e.g. a run of other budgets)")
    parser.add_argument("--replicas", type=int, default=8)
    parser.add_argument("--models", default=None, help="comma list of models (default: all)")
    parser.add_argument("--profiles", default=None, help="comma list of chip profiles (default: all; 'none' for float only)")
    parser.add_argument("--peers", default=None, help="comma list of peer names (default: all installed; 'none' for none)")
    parser.add_argument("--bks", default=None, help="BKS table (default: the package's neurosim/data/neurobench_bks.csv)")
    parser.add_argument("--quick", action="store_true", help="n 10/25, density 0.1, seed 0, τ ≤ 0.01 s (recorded only with --record)")
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--json", action="store_true")


def _csv(s, conv):
    return None if s is None else [] if s == "none" else [conv(v) for v in s.split(",")]


def main(args):
    from ._maxcut import compile_cache
    from ._neurobench_bks import read_table
    from ._peers import available_peers, peer_versions
    from ._report import Progress, environment

    sizes = [10, 25] if args.quick else _csv(args.sizes, int)
    densities = [0.1] if args.quick else _csv(args.densities, float)
    seeds = [0] if args.quick else _csv(args.seeds, int)
    max_t = 0.01 if args.quick else args.max_timeout
    taus = budgets(args.scenario, max_t, 1e-3 if args.quick else getattr(args, "min_timeout", 1e-3))
    peer_names = _csv(args.peers, str)
    peers = available_peers(None if peer_names is None else peer_names)
    env = environment()
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    log(f"device: {env['device']}; peers: {peer_versions(peers)}")
    table = read_table(args.bks)
    instances = []
    progress = Progress(len(sizes) * len(densities) * len(seeds))
    maps, stopped = MapsGuard(), False
    with compile_cache():
        for n, d, s in itertools.product(sizes, densities, seeds):
            if maps.would_run_out(log, f"n={n} d={d:g} seed={s}"):
                stopped = True
                break
            progress.tick(f"n={n} d={d:g} seed={s}")
            p, target, how = mis_instance(n, d, s, table)
            log(f"n={n} d={d:g} seed={s}: BKS {target} ({how})")
            r = solve_instance(p, target, how, taus=taus, scenario=args.scenario, replicas=args.replicas,
                               models=_csv(args.models, str), profiles=_csv(args.profiles, str), peers=peers, log=log)
            instances.append({"n": n, "density": d, "seed": s, **r})
            if not args.quick or args.record:  # recorded after every instance: a stopped run keeps what it did
                _record(args, taus, peers, instances, env, partial=True)
    md, data = _record(args, taus, peers, instances, env, partial=stopped, write=not args.quick or args.record)
    print(md)
    return data


class MapsGuard:
    """Stops a long run cleanly before its process runs out of memory maps. XLA keeps the code of every
    program it compiled mapped (``jax.clear_caches()`` was measured not to release it), and Linux allows
    65 530 maps per process (``vm.max_map_count``): two processes of the 5-seed grid died at their 52nd
    instance, LLVM failing with 'Cannot allocate memory'. The run stops when the next instance could
    take more maps than are left (1.5 × the most one instance took), so what it recorded stands and
    the rest can run in a new process."""

    def __init__(self):
        self.last, self.most = self.used(), 0

    @staticmethod
    def used():
        try:
            with open("/proc/self/maps") as fh:
                return sum(1 for _ in fh)
        except OSError:  # not Linux: no such limit to watch
            return None

    @staticmethod
    def limit():
        try:
            with open("/proc/sys/vm/max_map_count") as fh:
                return int(fh.read())
        except (OSError, ValueError):
            return None

    def would_run_out(self, log, next_instance) -> bool:
        used, limit = self.used(), self.limit()
        if used is None or limit is None or self.last is None:
            return False
        self.most, self.last = max(self.most, used - self.last), used
        if used + 1.5 * self.most < limit:
            return False
        log(f"neurosim bench: stopping before {next_instance}: this process holds {used} of the {limit} memory maps "
            "Linux allows (vm.max_map_count); what ran is recorded, run the rest in a new process")
        return True


def _record(args, taus, peers, instances, env, *, partial, write=True):
    from ._neurobench_report import markdown
    from ._peers import peer_versions
    from ._report import record_section

    data = {"scenario": args.scenario, "timeouts": taus, "replicas": args.replicas, "peers": peer_versions(peers),
            "instances": instances, "quick": bool(args.quick), "command": _command(args), "partial": partial}
    md = markdown(data)
    if partial:
        md = f"**Partial: {len(instances)} instance(s) done so far** (the run records after every instance).\n\n" + md
    if write:
        record_section(f"neurobench-{args.scenario}", md, data, env=env, variant=getattr(args, "variant", None))
    return md, data


def _command(args) -> str:
    parts = ["neurosim bench neurobench", f"--scenario {args.scenario}"]
    if args.quick:
        parts.append("--quick")
    else:
        parts += [f"--sizes {args.sizes}", f"--densities {args.densities}", f"--seeds {args.seeds}", f"--max-timeout {args.max_timeout:g}"]
        if getattr(args, "min_timeout", 1e-3) != 1e-3:
            parts.append(f"--min-timeout {args.min_timeout:g}")
    for k in ("models", "profiles", "peers"):
        if getattr(args, k) is not None:
            parts.append(f"--{k} {getattr(args, k)}")
    if args.replicas != 8:
        parts.append(f"--replicas {args.replicas}")
    return " ".join(parts)


def retarget(data, bks_table: dict) -> list:
    """Score a recorded MIS run against BKS rows added to the table after it ran: an instance the run
    had to score against its own best (``best of this run``) gets the table's BKS, its gaps and tts
    recomputed. Returns the retargeted (n, density, seed) keys; the data is changed in place."""
    changed = []
    for inst in data["instances"]:
        row = bks_table.get((inst["n"], round(inst["density"], 6), inst["seed"]))
        if row is None or not inst["bks_how"].startswith("best of this run"):
            continue
        target = float(row["bks_cost"])
        inst["bks"], inst["bks_how"] = target, f"tabu {row['reads']} reads × {row['restarts']} restarts (table row added after the run)"
        inst["tts"] = score(inst["points"], target)
        changed.append((inst["n"], inst["density"], inst["seed"]))
    return changed


def _run_line(rec) -> str:
    env = rec["env"]
    return (f"`{rec['data']['command']}` ({env['date']}, commit {env['commit']}, "
            f"{env.get('device', '?')}, {env.get('cpu_isa', '?')})")


def rerender(json_path: str, bks_path: str | None = None) -> str:
    """Rewrite a recorded ``neurobench-*`` section from its JSON (``docs/benchmarks/neurobench-*.json``)
    with the current report code, keeping the run's own environment line (device, date, commit)."""
    import json
    import os

    from ._neurobench_report import markdown
    from ._report import default_docs_dir, record_section

    from ._neurobench_bks import read_table

    with open(json_path) as fh:
        rec = json.load(fh)
    data = rec["data"]
    if data["scenario"] in ("ft", "tts"):
        retarget(data, read_table(bks_path))
    md = markdown(data)
    if data.get("partial"):
        md = f"**Partial: {len(data['instances'])} instance(s) done so far** (the run records after every instance).\n\n" + md
    key = os.path.splitext(os.path.basename(json_path))[0]  # neurobench-ft or neurobench-ft-tau10
    name, _, variant = key.partition("-")[2].partition("-")
    return record_section(f"neurobench-{name}", md, data, env=rec["env"], variant=variant or None,
                          docs_dir=os.path.dirname(os.path.dirname(os.path.abspath(json_path))) or default_docs_dir())


def merge(json_paths, variant: str, docs_dir: str | None = None, bks_path: str | None = None) -> str:
    """Record one ``neurobench-<scenario>/<variant>`` section from several recorded runs of the same
    scenario and budgets (e.g. seed 0 from one run and seeds 1–4 from two runs on two cores), so the
    tables average over every seed. Each run keeps its own command, date and commit in the section."""
    import json

    from ._neurobench_bks import read_table
    from ._neurobench_report import markdown
    from ._report import record_section

    recs = [json.load(open(p)) for p in json_paths]
    table = read_table(bks_path)
    for r in recs:
        retarget(r["data"], table)
    first = recs[0]["data"]
    for path, r in zip(json_paths, recs):
        d = r["data"]
        if (d["scenario"], d["timeouts"], d["replicas"]) != (first["scenario"], first["timeouts"], first["replicas"]):
            raise ValueError(f"{path}: scenario/budgets/replicas ({d['scenario']}, {d['timeouts']}, {d['replicas']}) "
                             f"differ from {json_paths[0]}'s ({first['scenario']}, {first['timeouts']}, {first['replicas']})")
    seen, instances = {}, []
    for path, r in zip(json_paths, recs):
        for inst in r["data"]["instances"]:
            key = (inst["n"], inst["density"], inst["seed"])
            if key in seen:
                raise ValueError(f"{path}: instance n={key[0]} density={key[1]:g} seed={key[2]} is also in {seen[key]}")
            seen[key] = path
            instances.append(inst)
    instances.sort(key=lambda i: (i["n"], i["density"], i["seed"]))
    peers = {k: v for r in recs for k, v in r["data"]["peers"].items()}
    runs = [_run_line(r) for r in recs]
    devices = {(r["env"].get("device"), r["env"].get("cpu_isa")) for r in recs}
    # complete when every (n, density, seed) of the merged sizes × densities × seeds is there, whatever
    # the parts were (a stopped run completed by a second one is whole)
    grid = {(i["n"], i["density"], i["seed"]) for i in instances}
    axes = [sorted({k[j] for k in grid}) for j in range(3)]
    partial = len(grid) < len(axes[0]) * len(axes[1]) * len(axes[2])
    data = {**first, "instances": instances, "peers": peers, "partial": partial,
            "command": " + ".join(r["data"]["command"] for r in recs), "merged_from": [str(p) for p in json_paths]}
    md = (f"Merged from {len(recs)} recorded runs (`neurosim.bench._neurobench.merge`): " + "; ".join(runs) + ".\n\n"
          + markdown(data))
    if len(devices) > 1:  # timed budgets on different CPUs are not one measurement: say so above the tables
        md = "**The runs were on different machines** (see each run's device above); the budgets are wall time on each.\n\n" + md
    if partial:
        md = f"**Partial: {len(instances)} of the {len(axes[0]) * len(axes[1]) * len(axes[2])} instances of the grid.**\n\n" + md
    env = dict(recs[-1]["env"])
    env["date"] = ", ".join(dict.fromkeys(r["env"]["date"] for r in recs))
    env["commit"] = ", ".join(dict.fromkeys(r["env"]["commit"] for r in recs))
    for k in ("device", "cpu_isa"):
        env[k] = " / ".join(dict.fromkeys(str(r["env"].get(k, "?")) for r in recs))
    return record_section(f"neurobench-{first['scenario']}", md, data, env=env, variant=variant, docs_dir=docs_dir)
