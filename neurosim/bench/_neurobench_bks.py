"""Best-known solutions (BKS) of the NeuroBench QUBO-MIS workloads, found NeuroBench's way.

NeuroBench (system_benchmarks, QUBO.md): exact for n < 50; for larger n the best cost of
dwave-samplers' TabuSampler with 100 reads and 50 restarts (no time limit per read). Here:

* n < 50: :func:`neurosim.mis.exact_mis` (proven; NeuroBench brute-forces these);
* n ≥ 50: ``TabuSampler().sample(bqm, num_reads=R, num_restarts=50, timeout=None, seed=0)`` with
  R = 100 (``--reads``; a row records the reads it used, so a reduced run is never mistaken for the
  protocol); for n ≤ 100 the proven exact optimum is recorded beside it as a check.

The table is ``neurosim/data/neurobench_bks.csv``; rows are appended one instance at a time, so a
long run can be stopped and resumed (instances already there with at least as many reads are
skipped). The command that made the shipped file is in its header comment. Run::

    python -m neurosim.bench._neurobench_bks [--sizes 10 25 ...] [--reads 100] [--out FILE]
"""

from __future__ import annotations

import argparse
import csv
import datetime
import os
import sys
import time

import numpy as np

COLUMNS = ("n", "density", "seed", "bks_cost", "method", "reads", "restarts", "exact_cost", "seconds", "solver_version", "date")


def default_path() -> str:
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "neurobench_bks.csv")


def read_table(path: str | None = None) -> dict:
    """``{(n, density, seed): row}`` of the BKS table (rows with the most reads win); {} when absent."""
    path = path or default_path()
    if not os.path.exists(path):
        return {}
    out: dict = {}
    with open(path) as fh:
        for row in csv.DictReader(line for line in fh if not line.startswith("#")):
            key = (int(row["n"]), round(float(row["density"]), 6), int(row["seed"]))
            row = dict(row, bks_cost=int(row["bks_cost"]), reads=int(row["reads"] or 0))
            if key not in out or row["reads"] >= out[key]["reads"]:
                out[key] = row
    return out


def bks_cost(n: int, density: float, seed: int, path: str | None = None):
    """The BKS cost (a negative int) of a NeuroBench instance, or None when the table lacks it."""
    row = read_table(path).get((int(n), round(float(density), 6), int(seed)))
    return None if row is None else row["bks_cost"]


def tabu_cost(problem, reads: int, restarts: int = 50, seed: int = 0) -> tuple[int, np.ndarray]:
    import dimod
    from dwave.samplers import TabuSampler

    bqm = dimod.BinaryQuadraticModel(problem.to_qubo().matrix(), "BINARY")
    ss = TabuSampler().sample(bqm, num_reads=reads, num_restarts=restarts, timeout=None, seed=seed)
    x = np.array([ss.first.sample[i] for i in range(problem.n)], dtype=np.int8)
    if not problem.is_independent(x):  # NeuroBench asserts this too; never store an infeasible cost
        x = problem.repair(x)
    return int(round(float(problem.energy(x)))), x


def solve(n: int, density: float, seed: int, reads: int) -> dict:
    from neurosim import mis

    p = mis.neurobench(n, density, seed)
    t0 = time.perf_counter()
    exact = ""
    if n < 50:
        size, _, proven = mis.exact_mis(p, time_limit=600)
        if not proven:
            raise RuntimeError(f"exact MIS of n={n} d={density} s={seed} not proven in 600 s")
        cost, method, reads, restarts, version = -size, "exact", 0, 0, "neurosim.mis.exact_mis"
    else:
        import dwave.samplers

        cost, _ = tabu_cost(p, reads)
        method, restarts, version = "tabu", 50, f"dwave-samplers {dwave.samplers.__version__}"
        if n <= 100:
            size, _, proven = mis.exact_mis(p, time_limit=120)
            exact = str(-size) if proven else ""
    return {"n": n, "density": f"{density:g}", "seed": seed, "bks_cost": cost, "method": method, "reads": reads,
            "restarts": restarts, "exact_cost": exact, "seconds": f"{time.perf_counter() - t0:.1f}",
            "solver_version": version, "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")}


def main(argv=None) -> int:
    from neurosim import mis

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=list(mis.NEUROBENCH_SIZES))
    ap.add_argument("--densities", type=float, nargs="+", default=list(mis.NEUROBENCH_DENSITIES))
    ap.add_argument("--seeds", type=int, nargs="+", default=list(mis.NEUROBENCH_SEEDS))
    ap.add_argument("--reads", type=int, default=100, help="tabu reads for n >= 50 (NeuroBench: 100)")
    ap.add_argument("--out", default=default_path())
    args = ap.parse_args(argv)
    done = read_table(args.out)
    new_file = not os.path.exists(args.out)
    with open(args.out, "a", newline="") as fh:
        if new_file:
            fh.write("# NeuroBench QUBO-MIS best known costs (xᵀQx, Q = −I + 4A); the rows below each '# run:' line were made by it\n")
            csv.writer(fh).writerow(COLUMNS)
        when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        fh.write(f"# run: python -m neurosim.bench._neurobench_bks {' '.join(sys.argv[1:] if argv is None else argv)} ({when})\n")
        w = csv.DictWriter(fh, COLUMNS)
        for n in args.sizes:
            for d in args.densities:
                for s in args.seeds:
                    old = done.get((n, round(d, 6), s))
                    if old is not None and (old["method"] == "exact" or old["reads"] >= args.reads):
                        continue
                    row = solve(n, d, s, args.reads)
                    w.writerow(row)
                    fh.flush()
                    print(",".join(str(row[c]) for c in COLUMNS), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
