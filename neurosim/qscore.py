"""Q-score (Atos): Max-Cut on Erdős–Rényi G(N, ½), ``β(N) = (C(N) − N²/8) / (0.178·N^{3/2})``.

The Q-score is the largest N whose β, averaged over instances, exceeds 0.2 (β ≈ 1 is about the best
cut known for large N; a random partition has β ≈ 0). Reference: Martiel, Ayral, Allouche,
"Benchmarking quantum co-processors in an application-centric, hardware-agnostic and scalable way",
IEEE TQE 2 (2021), arXiv:2102.12973.

**Instances are functions of a seed.** Nothing at large N goes through networkx or an edge list: the
graph is generated straight into packed bits (:mod:`neurosim._bitgraph`) by a public hash rule, so
anyone can regenerate it from ``(seed, N)`` and re-count a saved cut (:func:`count_cut`,
:func:`edges_reference`). The rule (all arithmetic uint32, ``lowbias32``/``triple32`` are Wellons'
integer hashes, as in :mod:`neurosim.random`)::

    c_i = lowbias32(i);  K = triple32(seed ^ 0x6A09E667);  r_i = triple32(K ^ c_i)
    edge (i, j), i < j   ⇔   triple32(r_i ^ c_j) ≥ 2^31          # probability ½, independent

**Solver.** Exact sequential Metropolis sweeps of the spins with popcount fields through 1-bit
synapses (:func:`neurosim._bitgraph.sweep`), annealed linearly in temperature and finished by greedy
(zero-temperature) sweeps to a local optimum. Temperatures are given in Sherrington–Kirkpatrick
units: the fluctuating part of a field is ~√N/2 here, so ``T = t·√N/2``.

CLI: ``neurosim qscore [--sizes N1,N2,...] [--instances K] [--time-limit S] [--save DIR] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from . import random as nsr
from ._bitgraph import PackedGraph, cut_values, padded_size, random_states, sweep, unpack_bits

GENERATOR = "neurosim-gnp-half-v1"
_SEED_SALT = 0x6A09E667
BETA_THRESHOLD = 0.2


def beta(n: int, cut) -> float:
    """Atos' normalised cut excess ``(C − N²/8) / (0.178·N^{3/2})``."""
    n = float(n)
    return (float(cut) - n * n / 8.0) / (0.178 * n**1.5)


def _check_seed(seed) -> int:
    seed = int(seed)
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2^32), got {seed}")
    return seed


# ---------------------------------------------------------------------------- the graphs
def edges_reference(seed: int, n: int) -> np.ndarray:
    """The instance's edges ``(m, 2)`` (i < j), straight from the rule in plain numpy — the
    independent reference for small n (O(n²) memory)."""
    seed = _check_seed(seed)
    c = nsr.lowbias32_np(np.arange(n, dtype=np.uint32))
    K = nsr.triple32_np(np.uint32(seed) ^ np.uint32(_SEED_SALT))
    r = nsr.triple32_np(K ^ c)
    i, j = np.triu_indices(n, k=1)
    keep = nsr.triple32_np(r[i] ^ c[j]) >> np.uint32(31) == 1
    return np.stack([i[keep], j[keep]], axis=1)


def qscore_graph(seed: int, n: int, *, block: int = 128, rows_per_chunk: int = 128) -> PackedGraph:
    """Generate the instance ``(seed, n)`` directly as packed bits on the device (n²/8 bytes)."""
    seed = _check_seed(seed)
    if n < 2:
        raise ValueError(f"n must be ≥ 2, got {n}")
    npad = padded_size(n, block)
    if npad > 1 << 24:
        raise ValueError(f"n must be < 2^24, got {n}")
    rb = math.gcd(npad, rows_per_chunk)
    bits = _generate(seed, n, npad, rb)
    deg = jnp.sum(jax.lax.population_count(bits), axis=1, dtype=jnp.int32)
    return PackedGraph(bits, deg, n)


def _generate(seed, n, npad, rb):
    @jax.jit
    def gen(seed_u32):
        j = jnp.arange(npad, dtype=jnp.uint32)
        c = nsr.lowbias32(j)
        K = nsr.triple32(seed_u32 ^ jnp.uint32(_SEED_SALT))
        r = nsr.triple32(K ^ c)

        def chunk(a):
            i = a * rb + jnp.arange(rb, dtype=jnp.uint32)
            ci = nsr.lowbias32(i)
            ri = nsr.triple32(K ^ ci)
            x = jnp.where(j[None, :] > i[:, None], ri[:, None] ^ c[None, :], r[None, :] ^ ci[:, None])
            keep = (i[:, None] != j[None, :]) & (i[:, None] < n) & (j[None, :] < n)
            e = jnp.where(keep, nsr.triple32(x) >> 31, jnp.uint32(0))
            e = e.reshape(rb, npad // 32, 32)
            return jnp.sum(e << jnp.arange(32, dtype=jnp.uint32), axis=-1, dtype=jnp.uint32)

        out = jax.lax.map(chunk, jnp.arange(npad // rb, dtype=jnp.uint32))
        return out.reshape(npad, npad // 32)

    return gen(jnp.uint32(seed))


def count_cut(seed: int, n: int, partition) -> int:
    """Re-count the cut of ``partition`` (n bools/0-1, side of each vertex) on instance ``(seed, n)``,
    regenerating the graph from the seed."""
    part = np.asarray(partition).astype(bool).ravel()
    if part.shape != (n,):
        raise ValueError(f"partition must have {n} entries, got {part.shape[0]}")
    g = qscore_graph(seed, n)
    bits = np.zeros(g.n_pad, np.uint8)
    bits[:n] = part
    from ._bitgraph import pack_bits

    return int(cut_values(g, pack_bits(bits[None]))[0])


# ---------------------------------------------------------------------------- the solver
def anneal(
    graph: PackedGraph,
    *,
    seed: int = 0,
    replicas: int = 1,
    sweeps: int = 200,
    time_limit: float | None = 60.0,
    t_start: float = 1.0,
    t_end: float = 0.05,
    greedy_sweeps: int = 8,
    block: int = 128,
) -> dict:
    """Anneal ``replicas`` random partitions of ``graph``; returns the best cut and its partition.

    ``sweeps`` annealing sweeps with T going linearly from ``t_start`` to ``t_end`` (SK units), then
    up to ``greedy_sweeps`` zero-temperature sweeps (stopping when nothing flips). With a
    ``time_limit`` (seconds, counted from the call, compile included) the number of annealing sweeps
    is cut so that the run, greedy sweeps included, stays within the limit."""
    if replicas < 1:
        raise ValueError(f"replicas must be ≥ 1, got {replicas}")
    if sweeps < 0 or greedy_sweeps < 1:
        raise ValueError(f"need sweeps ≥ 0 and greedy_sweeps ≥ 1, got {sweeps}, {greedy_sweeps}")
    if time_limit is not None and time_limit <= 0:
        raise ValueError(f"time_limit must be > 0, got {time_limit}")
    if padded_size(graph.n, block) != graph.n_pad:
        raise ValueError(f"block={block} does not match the graph's padding ({graph.n_pad})")
    start = time.perf_counter()
    scale = math.sqrt(graph.n) / 2.0
    keys = nsr.replica_keys(seed, np.arange(replicas))
    X = random_states(graph, seed, replicas)
    cut = cut_values(graph, X)  # int64 (R,)
    t_init = time.perf_counter() - start
    words0 = nsr.step_words(keys, 0)
    compiled = sweep.lower(graph, X, words0, jnp.float32(0), block=block).compile()
    t_compile = time.perf_counter() - start - t_init
    times = []

    def one(k, T):
        nonlocal X, cut
        t0 = time.perf_counter()
        X, gain, flips = compiled(graph, X, nsr.step_words(keys, k), jnp.float32(T))
        cut = cut + np.asarray(gain, np.int64)
        flips = int(np.asarray(flips).sum())
        times.append(time.perf_counter() - t0)
        return flips

    def tau():  # typical sweep time (median: one slow sweep on a shared machine must not end the run)
        return float(np.median(times)) if times else None

    done = 0
    for k in range(sweeps):
        if times and time_limit is not None and time.perf_counter() - start + (1 + greedy_sweeps) * tau() > time_limit:
            break
        T = (t_start + (t_end - t_start) * k / max(1, sweeps - 1)) * scale
        one(k, T)
        done += 1
    greedy = 0
    for k in range(greedy_sweeps):
        if greedy and time_limit is not None and time.perf_counter() - start + tau() > time_limit:
            break
        flips = one(sweeps + k, 0.0)
        greedy += 1
        if flips == 0:
            break
    check = cut_values(graph, X)
    if not np.array_equal(check, cut):
        raise RuntimeError(f"internal error: tracked cut {cut} != recount {check}")
    elapsed = time.perf_counter() - start
    best = int(np.argmax(cut))
    part = np.asarray(unpack_bits(X[best], graph.n)).astype(bool)
    return {
        "cut": int(cut[best]),
        "replica_cuts": cut.tolist(),
        "partition": part,
        "time_s": elapsed,
        "compile_s": t_compile,
        "init_s": t_init,
        "sweeps": done,
        "greedy_sweeps": greedy,
        "sweep_s": tau(),
        "sweep_max_s": max(times) if times else None,
    }


def peak_memory_bytes() -> int:
    """Peak resident memory of this process so far (Linux ru_maxrss is in KiB)."""
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(r) * (1 if sys.platform == "darwin" else 1024)


def run_qscore(
    sizes,
    *,
    instances: int = 3,
    time_limit: float = 60.0,
    sweeps: int = 200,
    replicas: int = 1,
    seed0: int = 0,
    save: str | None = None,
    log=None,
    block: int = 128,
) -> dict:
    """Measure β(N) for each size (``instances`` seeds each) and the Q-score. Instance k of size N
    has seed ``seed0 + k`` (the same seed for every N: the rule mixes N in through the vertex range)."""
    sizes = [int(n) for n in sizes]
    if not sizes or min(sizes) < 2:
        raise ValueError(f"sizes must be integers ≥ 2, got {sizes}")
    if instances < 1:
        raise ValueError(f"instances must be ≥ 1, got {instances}")
    if not time_limit > 0:
        raise ValueError(f"time_limit must be > 0, got {time_limit}")
    if sweeps < 0 or replicas < 1:
        raise ValueError(f"need sweeps ≥ 0 and replicas ≥ 1, got sweeps={sweeps}, replicas={replicas}")
    results = []
    for n in sorted(sizes):
        rows = []
        for k in range(instances):
            seed = seed0 + k
            t0 = time.perf_counter()
            g = qscore_graph(seed, n, block=block)
            g.bits.block_until_ready()
            gen_s = time.perf_counter() - t0
            out = anneal(g, seed=seed, replicas=replicas, sweeps=sweeps, time_limit=time_limit, block=block)
            b = beta(n, out["cut"])
            row = {
                "seed": seed,
                "cut": out["cut"],
                "beta": b,
                "time_s": out["time_s"],
                "compile_s": out["compile_s"],
                "sweep_s": out["sweep_s"],
                "sweep_max_s": out["sweep_max_s"],
                "generate_s": gen_s,
                "sweeps": out["sweeps"],
                "greedy_sweeps": out["greedy_sweeps"],
                "edges": int(np.asarray(g.deg, np.int64).sum() // 2),
            }
            rows.append(row)
            if save:
                _save_instance(save, n, seed, out["partition"], row)
            if log:
                log(f"N={n} seed={seed}: cut={out['cut']} β={b:.3f} time={out['time_s']:.1f}s "
                    f"(gen {gen_s:.1f}s, compile {out['compile_s']:.1f}s, {out['sweeps']}+{out['greedy_sweeps']} sweeps of {out['sweep_s']:.3f}s, max {out['sweep_max_s']:.2f}s) peak={peak_memory_bytes() / 2**30:.2f} GiB")
            del g
        results.append({"n": n, "beta": float(np.mean([r["beta"] for r in rows])), "instances": rows})
    passing = [r["n"] for r in results if r["beta"] > BETA_THRESHOLD]
    return {
        "qscore": max(passing) if passing else 0,
        "results": results,
        "peak_memory_bytes": peak_memory_bytes(),
        "time_limit_s": time_limit,
        "solver": {"sweeps": sweeps, "replicas": replicas, "t_start": 1.0, "t_end": 0.05, "block": block},
        "generator": GENERATOR,
        "device": str(jax.devices()[0]),
    }


def _save_instance(root, n, seed, partition, row):
    os.makedirs(root, exist_ok=True)
    stem = os.path.join(root, f"gnp_n{n}_seed{seed}")
    np.save(stem + "_partition.npy", np.packbits(partition.astype(np.uint8)))
    meta = dict(row, n=n, generator=GENERATOR, partition_file=os.path.basename(stem) + "_partition.npy",
                partition_format="numpy.packbits of the side (0/1) of vertices 0..n-1, big-endian bit order",
                recount="neurosim.qscore.count_cut(seed, n, numpy.unpackbits(p)[:n])")
    with open(stem + ".json", "w") as fh:
        json.dump(meta, fh, indent=1)


def load_partition(path: str, n: int) -> np.ndarray:
    return np.unpackbits(np.load(path))[:n].astype(bool)


# ---------------------------------------------------------------------------- CLI
DEFAULT_SIZES = "1000,2000,5000,10000,20000,50000"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help=f"comma-separated N values (default {DEFAULT_SIZES})")
    parser.add_argument("--instances", type=int, default=3, help="instances (seeds) per N (default 3)")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per instance, solver only (default 60)")
    parser.add_argument("--sweeps", type=int, default=200, help="annealing sweeps before the greedy finish (default 200)")
    parser.add_argument("--replicas", type=int, default=1, help="independent replicas per instance (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first instance (default 0)")
    parser.add_argument("--save", metavar="DIR", default=None, help="write each instance's partition + seed here")
    parser.add_argument("--json", action="store_true", help="print the result as JSON on stdout")


def _parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in str(text).split(",") if s.strip()]
    except ValueError:
        raise ValueError(f"--sizes must be comma-separated integers, got {text!r}") from None
    if not sizes or min(sizes) < 2:
        raise ValueError(f"--sizes must be integers ≥ 2, got {text!r}")
    return sizes


def main(args) -> dict:
    sizes = _parse_sizes(args.sizes)
    log = (lambda m: print(m, file=sys.stderr, flush=True))
    out = run_qscore(sizes, instances=args.instances, time_limit=args.time_limit, sweeps=args.sweeps,
                     replicas=args.replicas, seed0=args.seed, save=args.save, log=log)
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        for r in out["results"]:
            print(f"N={r['n']:>7}  β={r['beta']:.3f}  time/instance={np.mean([i['time_s'] for i in r['instances']]):.1f}s")
        print(f"Q-score: {out['qscore']}   peak memory: {out['peak_memory_bytes'] / 2**30:.2f} GiB")
    return out
