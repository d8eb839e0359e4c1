"""Measured runs for ``neurosim bench chip``: a run's spikes at sampled steps → chip activity → cost.

The activity (per-core updates, spikes, synaptic events, packets, hops; CHIP_CONTRACT §3) comes
from :func:`neurosim.hardware.measure_activity` when the chip layer provides it, else from
:func:`activity_from_spikes` below (same definitions, host numpy): a spiking neuron delivers one
synaptic event per synapse it has, on the core holding the target; it sends one packet to every
*other* core holding a target (multicast); a packet's hops are the Manhattan distance between
the cores' mesh coordinates (``mapping.core_xy``; 1 hop per packet if the mapping has none).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np


@dataclasses.dataclass(frozen=True)
class SampledActivity:
    steps: int
    sample_steps: np.ndarray
    updates: np.ndarray
    spikes: np.ndarray
    syn_events: np.ndarray
    packets: np.ndarray
    hops: np.ndarray


def _synapse_counts(mapping, W) -> np.ndarray:
    """(n, cores) synapses of neuron i landing on core c (i's spike delivers one event per synapse)."""
    r, c, _ = W.coo()
    out = np.zeros((mapping.n, mapping.cores), np.int64)
    np.add.at(out, (c, mapping.core_of[r]), 1)
    return out


def _hops_per_neuron(mapping, counts) -> np.ndarray:
    xy = getattr(mapping, "core_xy", None)
    other = (counts > 0) & (np.arange(mapping.cores)[None, :] != mapping.core_of[:, None])
    if xy is None:
        return other.sum(axis=1).astype(np.int64)
    dist = np.abs(np.asarray(xy)[:, None, :] - np.asarray(xy)[None, :, :]).sum(-1)  # (cores, cores)
    return (other * dist[mapping.core_of]).sum(axis=1).astype(np.int64)


def activity_from_spikes(mapping, W, spikes, sample_steps, steps, updates_per_step, sites=None) -> SampledActivity:
    """Activity of a run from its spikes ``(S, R, n)`` at ``sample_steps``; ``updates_per_step`` = n
    (every neuron updates each step) or 1 (one neuron per step: ``sites`` (S, R) says which)."""
    s = (np.asarray(spikes) != 0).astype(np.int64)
    S, R, n = s.shape
    onehot = np.zeros((n, mapping.cores), np.int64)
    onehot[np.arange(n), mapping.core_of] = 1
    counts = _synapse_counts(mapping, W)
    if updates_per_step == 1:
        if sites is None:
            raise ValueError("activity_from_spikes: a one-site-per-step model needs the updated sites (S, R)")
        upd = np.zeros((S, R, mapping.cores), np.int64)
        np.add.at(upd, (np.arange(S)[:, None], np.arange(R)[None, :], mapping.core_of[np.asarray(sites)]), 1)
    else:
        upd = np.broadcast_to(np.asarray(mapping.neurons_per_core, np.int64), (S, R, mapping.cores)).copy()
    return SampledActivity(
        int(steps), np.asarray(sample_steps, np.int64), upd, s @ onehot, s @ counts,
        s @ mapping.fanout_cores, s @ _hops_per_neuron(mapping, counts),
    )


def measured_activity(mapping, W, spikes, sample_steps, steps, updates_per_step, sites=None):
    try:
        from neurosim.hardware import measure_activity
    except ImportError:
        return activity_from_spikes(mapping, W, spikes, sample_steps, steps, updates_per_step, sites)
    if updates_per_step == 1:  # the compact (site, fired) form
        fired = np.take_along_axis(np.asarray(spikes), np.asarray(sites)[..., None], axis=-1)[..., 0] != 0
        return measure_activity(mapping, (np.asarray(sites), fired), sample_steps, steps, "one")
    return measure_activity(mapping, np.asarray(spikes), sample_steps, steps, "all")


# ----------------------------------------------------------------------------- SA on MIS (Loihi 2)
def sa_run(problem, steps, replicas, seed, hardware, every=16):
    """One SA anneal under ``hardware``; returns (result, activity, mapping)."""
    import neurosim as ns
    from neurosim.models import SA

    m = SA(problem, steps=steps, hardware=hardware)
    every = min(every, steps)
    res = ns.run(m, problem, steps=steps, replicas=replicas, seed=seed, chunk=min(steps, 512),
                 save=ns.SaveAt(every=every, what=("spikes",)))
    mapping = hardware.map(problem)
    act = measured_activity(mapping, problem.to_qubo().Q, res.records["spikes"], res.record_steps, steps, problem.n)
    return res, act, mapping


def first_feasible_step(problem, steps, replicas, seed, hardware, limit=1024):
    """First step (0-based) after which some replica's state is an independent set; None if not within ``limit`` steps."""
    import neurosim as ns
    from neurosim.models import SA

    m = SA(problem, steps=steps, hardware=hardware)
    k = min(steps, limit)
    res = ns.run(m, problem, steps=k, replicas=replicas, seed=seed, save=ns.SaveAt(every=1, what=("state",)))
    st = np.asarray(res.records["state"])  # (k, R, n)
    ok = np.asarray(problem.is_independent(st.reshape(-1, problem.n))).reshape(st.shape[:2]).any(axis=1)
    hit = np.flatnonzero(ok)
    return int(res.record_steps[hit[0]]) if len(hit) else None


# ----------------------------------------------------------------------------- NeuroSA on Gset (SpiNNaker2)
def neurosa_run(graph, steps, replicas, seed, hardware, samples=256):
    """NeuroSA random scan for ``steps`` iterations (annealer laid out for them) under ``hardware``
    (None = float on the CPU). Returns (result, wall seconds, spikes, sites, best-cut trace, record steps)."""
    import neurosim as ns
    from neurosim.models import NeuroSA

    m = NeuroSA(graph, horizon=steps, hardware=hardware)
    every = max(1, steps // samples)
    t0 = time.perf_counter()
    res = ns.run(m, graph, steps=steps, replicas=replicas, seed=seed, save=ns.SaveAt(every=every, what=("spikes", "site", "best_energy")))
    wall = time.perf_counter() - t0
    rec = res.records
    return res, wall, np.asarray(rec["spikes"]), np.asarray(rec["site"]), -np.asarray(rec["best_energy"], np.float64), res.record_steps
