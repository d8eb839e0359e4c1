"""Replicas over several processes or hosts with ``jax.distributed``.

The replica ensemble ``0 … R−1`` is split into contiguous slices, one per process; each process runs
its slice with ``run(..., replica_ids=slice, devices=jax.local_devices())`` (sharded over its own
devices) and the per-replica results are gathered so that every process ends with the whole
ensemble. Because a replica's random numbers depend only on ``(seed, replica id, step)``, the result
is the same as one device running all R replicas.

Typical cluster use (one process per node or per GPU)::

    from neurosim import _distributed as nd
    nd.initialize()                      # reads SLURM / the NEUROSIM_* variables, see initialize()
    out = nd.run_distributed(model, problem, steps=10**6, replicas=4096, seed=0)
    if nd.process_index() == 0:
        print(out["best_cut"].max())

On CPU the cross-process collectives need gloo (``jax_cpu_collectives_implementation``), which
:func:`initialize` selects before starting the runtime.
"""

from __future__ import annotations

import os

import jax
import numpy as np


def initialize(coordinator_address: str | None = None, num_processes: int | None = None, process_id: int | None = None, *, local_device_ids=None) -> None:
    """Start ``jax.distributed`` (call once per process, before any computation).

    Arguments default to the environment variables ``NEUROSIM_COORDINATOR`` (``host:port`` of process
    0), ``NEUROSIM_NUM_PROCESSES`` and ``NEUROSIM_PROCESS_ID``; when none is set, JAX's own cluster
    detection (SLURM, Open MPI, Kubernetes, Cloud TPU) fills them in."""
    env = os.environ
    coordinator_address = coordinator_address or env.get("NEUROSIM_COORDINATOR")
    if num_processes is None and "NEUROSIM_NUM_PROCESSES" in env:
        num_processes = int(env["NEUROSIM_NUM_PROCESSES"])
    if process_id is None and "NEUROSIM_PROCESS_ID" in env:
        process_id = int(env["NEUROSIM_PROCESS_ID"])
    if num_processes is not None and num_processes < 1:
        raise ValueError(f"num_processes must be ≥ 1, got {num_processes}")
    if process_id is not None and num_processes is not None and not 0 <= process_id < num_processes:
        raise ValueError(f"process_id must be in [0, {num_processes}), got {process_id}")
    # gloo gives CPU devices cross-process collectives (process_allgather); GPUs use NCCL regardless
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=coordinator_address, num_processes=num_processes, process_id=process_id, local_device_ids=local_device_ids)


def process_index() -> int:
    return jax.process_index()


def process_count() -> int:
    return jax.process_count()


def replica_slice(replicas: int, process_id: int | None = None, num_processes: int | None = None, *, multiple_of: int = 1) -> np.ndarray:
    """The contiguous replica ids this process runs (uint32). Slices differ in length by at most
    ``multiple_of`` (each slice a multiple of it, e.g. the local device count, so it shards evenly)."""
    p = jax.process_index() if process_id is None else int(process_id)
    P = jax.process_count() if num_processes is None else int(num_processes)
    if replicas < 1 or replicas % multiple_of:
        raise ValueError(f"replicas must be a positive multiple of {multiple_of}, got {replicas}")
    if not 0 <= p < P:
        raise ValueError(f"process_id must be in [0, {P}), got {p}")
    units = replicas // multiple_of
    if units < P:
        raise ValueError(f"replicas={replicas} is too few for {P} processes × {multiple_of} devices")
    base, extra = divmod(units, P)
    start = p * base + min(p, extra)
    count = base + (1 if p < extra else 0)
    return np.arange(start * multiple_of, (start + count) * multiple_of, dtype=np.uint32)


def gather(local: dict, replica_ids) -> dict:
    """All-gather per-replica arrays (leading axis = this process's replicas) from every process and
    return them ordered by replica id. Slices may differ in length (they are padded for the
    collective and trimmed afterwards)."""
    from jax.experimental import multihost_utils

    ids = np.asarray(replica_ids, dtype=np.int64)
    if jax.process_count() == 1:
        order = np.argsort(ids)
        out = {k: np.asarray(v)[order] for k, v in local.items()}
        out["replica_ids"] = ids[order]
        return out
    counts = np.asarray(multihost_utils.process_allgather(np.asarray([len(ids)], np.int64))).reshape(-1)
    width = int(counts.max())

    def pad(x):
        x = np.asarray(x)
        out = np.zeros((width,) + x.shape[1:], x.dtype)
        out[: len(x)] = x
        return out

    all_ids = np.asarray(multihost_utils.process_allgather(pad(ids)))
    keep = np.arange(width)[None, :] < counts[:, None]
    flat_ids = all_ids[keep]
    order = np.argsort(flat_ids)
    out = {}
    for k, v in local.items():
        g = np.asarray(multihost_utils.process_allgather(pad(v)))  # (P, width, ...)
        out[k] = g[keep][order]
    out["replica_ids"] = flat_ids[order]
    return out


def run_distributed(model, problem, *, steps: int, replicas: int, seed: int = 0, devices=None, **kwargs) -> dict:
    """Run replica ids ``0 … replicas−1`` split over all processes (each sharding its slice over its
    local devices) and gather the per-replica results on every process.

    Returns a dict of numpy arrays ordered by replica id: ``best_energy``, ``best_state``,
    ``final_state``, ``replica_ids`` and the problem's report entries (``cut`` for Max-Cut, …), plus
    this process's :class:`~neurosim.RunResult` under ``"local"``."""
    from ._run import run

    devices = list(jax.local_devices()) if devices is None else list(devices)
    ids = replica_slice(replicas, multiple_of=len(devices))
    res = run(model, problem, steps=steps, seed=seed, replica_ids=ids, devices=devices if len(devices) > 1 else None, **kwargs)
    local = {"best_energy": res.best_energy, "best_state": res.best_state, "final_state": res.final_state}
    local.update({k: np.asarray(v) for k, v in res.report.items()})
    out = gather(local, ids)
    out["local"] = res
    return out
