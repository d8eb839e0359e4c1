"""A run's chip activity, measured from its own state changes at sampled steps (host numpy).

What a chip does in a step follows from which neurons changed state: each changed neuron emits a
spike, the spike lands on the synapses of the cores it reaches (``syn_events``), and every *other*
core it reaches costs one multicast packet travelling ``hops`` router hops (see
:mod:`neurosim.hardware._mapping`). All of it is linear in the step's change raster, so a few
sampled steps give the traffic's mean and maximum without the "if every neuron flips" bound.

How the engine samples (``ActivitySampler``, used by ``neurosim.run`` only under a profile, so a
``hardware=None`` run does nothing extra): at the start of every chunk the engine hands the sampler
the carry state at step ``t``; the sampler advances a *copy* for ``burst`` steps with the run's own
random numbers (``step_words(keys, t + j)``: exactly the steps the run takes next, since a step's
randomness depends only on seed, replica and step) and records ``read(state) != read(previous)``.
The run itself is untouched. Under a profile the engine cuts a run into ≥ 16 chunks, so bursts
spread over the whole run (an anneal's hot start and cold end both count); at most ``max_steps``
(1000) steps and ``max_replicas`` (64, fewer on big problems: the host reductions are bounded to
~2^26 neuron-steps) replicas are sampled. Cost: ≤ 1000 extra steps of ≤ 64 replicas and one
compilation of the model's step.

Updates per step: ``updates="all"`` models update every neuron on its core each step; ``"one"``
models (one site per step) update one neuron: the site that changed, or — where the state did not
change and the model does not say which site it tested — a core drawn with probability ∝ its
neurons (a uniform random scan's site distribution; seeded, so reports are reproducible).
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from neurosim import random as nsr

MAX_STEPS = 1000
MAX_REPLICAS = 64
MIN_CHUNKS = 16
_BUDGET = 1 << 26  # neuron-steps (rows × max(n, CSR entries)) per host reduction


@dataclasses.dataclass(frozen=True)
class Activity:
    steps: int  # steps the run took
    sample_steps: np.ndarray  # (S,) global step index of each sampled step
    updates: np.ndarray  # (S, R, cores) int64 neuron updates done on each core at that step
    spikes: np.ndarray  # (S, R, cores) int64 spikes emitted by the neurons of each core
    syn_events: np.ndarray  # (S, R, cores) int64 synaptic events delivered TO each core
    packets: np.ndarray  # (S, R) int64 cross-core packets (1 per spiking neuron per other core reached)
    hops: np.ndarray  # (S, R) int64 router hops summed over those packets

    def report(self) -> dict:
        """Per-step figures over the sampled steps and replicas: mean and max (for "mapping" in JSON)."""

        def stat(x):
            x = np.asarray(x, dtype=np.float64)
            return {"mean": float(x.mean()) if x.size else 0.0, "max": float(x.max()) if x.size else 0.0}

        return {
            "sampled_steps": int(len(self.sample_steps)),
            "sampled_replicas": int(self.packets.shape[1]) if self.packets.ndim == 2 else 0,
            "steps": int(self.steps),
            "cross_core_packets_per_step": stat(self.packets),
            "hops_per_step": stat(self.hops),
            "spikes_per_step": stat(self.spikes.sum(axis=-1)),
            "syn_events_per_step": stat(self.syn_events.sum(axis=-1)),
            "updates_per_step": stat(self.updates.sum(axis=-1)),
            "busiest_core_syn_events_per_step": stat(self.syn_events.max(axis=-1, initial=0)),
        }


def measure_activity(mapping, spikes, sample_steps, steps: int, updates_per_step="all", *, seed: int = 0) -> Activity:
    """Activity from change rasters ``spikes`` (S, R, n) (0/1 or bool), or the compact one-site form
    ``(site, fired)`` (both (S, R): the neuron tested at each step and whether it changed).
    ``updates_per_step``: ``"all"`` or ``"one"`` (see the module docstring)."""
    sample_steps = np.asarray(sample_steps, dtype=np.int64)
    if updates_per_step not in ("all", "one"):
        raise ValueError(f"updates_per_step must be 'all' or 'one', got {updates_per_step!r}")
    if isinstance(spikes, tuple):
        site, fired = (np.asarray(a) for a in spikes)
        return _from_sites(mapping, site.astype(np.int64), fired.astype(bool), sample_steps, int(steps))
    ch = np.asarray(spikes) != 0
    if ch.ndim != 3 or ch.shape[2] != mapping.n or ch.shape[0] != len(sample_steps):
        raise ValueError(f"spikes must be (S, R, n) = ({len(sample_steps)}, R, {mapping.n}), got {ch.shape}")
    S, R, n = ch.shape
    rows = ch.reshape(S * R, n)
    starts = np.concatenate([[0], np.cumsum(mapping.neurons_per_core)[:-1]]).astype(np.int64)
    spk = np.add.reduceat(rows.astype(np.int64), starts, axis=1) if n else np.zeros((S * R, mapping.cores), np.int64)
    syn = _syn_events(mapping, rows)
    packets = rows @ mapping.fanout_cores
    hops = rows @ mapping.hops_of
    if updates_per_step == "all":
        upd = np.broadcast_to(mapping.neurons_per_core, spk.shape).astype(np.int64)
    else:
        upd = _one_update(mapping, rows, seed)
    shape = (S, R, mapping.cores)
    return Activity(int(steps), sample_steps, upd.reshape(shape), spk.reshape(shape), syn.reshape(shape),
                    packets.reshape(S, R).astype(np.int64), hops.reshape(S, R).astype(np.int64))


def _syn_events(mapping, rows: np.ndarray) -> np.ndarray:
    """(rows, cores) synaptic events landing on each core: Σ_i spike_i · syn_count[i → core]."""
    n, cores = mapping.n, mapping.cores
    src = np.repeat(np.arange(n, dtype=np.int64), np.diff(mapping.syn_indptr))
    if n * cores <= (1 << 22):
        M = np.zeros((n, cores), np.float64)
        np.add.at(M, (src, mapping.syn_dst_core), mapping.syn_count)
        return np.rint(rows.astype(np.float64) @ M).astype(np.int64)  # exact: counts < 2^53
    r_idx, i_idx = np.nonzero(rows)
    lo, hi = mapping.syn_indptr[i_idx], mapping.syn_indptr[i_idx + 1]
    reps = hi - lo
    e = np.repeat(lo - np.concatenate([[0], np.cumsum(reps)[:-1]]), reps) + np.arange(reps.sum())
    r_e = np.repeat(r_idx, reps)
    out = np.bincount(r_e * cores + mapping.syn_dst_core[e], weights=mapping.syn_count[e], minlength=rows.shape[0] * cores)
    return np.rint(out).astype(np.int64).reshape(rows.shape[0], cores)


def _one_update(mapping, rows: np.ndarray, seed: int) -> np.ndarray:
    core = np.where(rows.any(axis=1), mapping.core_of[np.argmax(rows, axis=1)] if mapping.n else 0, -1)
    idle = core < 0
    if idle.any():
        rng = np.random.default_rng(seed)
        p = mapping.neurons_per_core / max(1, mapping.n)
        core[idle] = rng.choice(mapping.cores, size=int(idle.sum()), p=p)
    upd = np.zeros((rows.shape[0], mapping.cores), np.int64)
    upd[np.arange(rows.shape[0]), core] = 1
    return upd


def _from_sites(mapping, site, fired, sample_steps, steps) -> Activity:
    S, R = site.shape
    cores = mapping.cores
    c = mapping.core_of[site]
    upd = np.zeros((S, R, cores), np.int64)
    np.put_along_axis(upd, c[..., None], 1, axis=-1)
    spk = upd * fired[..., None]
    rows = np.zeros((S * R, mapping.n), bool)
    rows[np.arange(S * R), site.reshape(-1)] = fired.reshape(-1)
    syn = _syn_events(mapping, rows).reshape(S, R, cores)
    packets = mapping.fanout_cores[site] * fired
    hops = mapping.hops_of[site] * fired
    return Activity(steps, sample_steps, upd, spk, syn, packets.astype(np.int64), hops.astype(np.int64))


# ------------------------------------------------------------------ sampling inside a run
@eqx.filter_jit
def _changes(model, state, t0, keys, k_steps):
    """Change rasters (k, R, n) of the next ``k`` steps from ``state`` at step ``t0`` (a copy advances)."""

    def body(st, j):
        t = t0 + j
        x0 = model.read(st)
        st, _ = model.step(st, t, key=nsr.step_words(keys, t))
        return st, model.read(st) != x0

    _, ch = jax.lax.scan(body, state, jnp.arange(k_steps.shape[0], dtype=jnp.int32))
    return ch


class ActivitySampler:
    """Collects the bursts of one run (see the module docstring); ``None`` from :func:`sampler_for`
    when the model has no profile."""

    def __init__(self, model, keys, steps: int, *, max_steps: int = MAX_STEPS, max_replicas: int = MAX_REPLICAS):
        self.model, self.steps, self.max_steps = model, int(steps), int(max_steps)
        self.mapping = model.chip.mapping
        R = int(keys.shape[0])
        n = max(1, self.mapping.n, int(self.mapping.syn_indptr[-1]))
        self.replicas = max(1, min(R, max_replicas, _BUDGET // (n * 64)))
        self.keys = keys[: self.replicas]
        self.burst = 1
        self.sample_steps: list = []
        self.rasters: list = []

    def chunk(self, chunk: int, stride: int, *, fixed: bool = False) -> int:
        """The engine's chunk, shortened (unless the user ``fixed`` it) so that the run has
        ≥ MIN_CHUNKS chunk starts to sample at; sets the burst length to match."""
        if not fixed:
            want = max(stride, (-(-self.steps // MIN_CHUNKS) // stride) * stride)
            chunk = min(chunk, want)
        n_chunks = -(-self.steps // chunk)
        self.burst = max(1, min(64, self.max_steps // n_chunks, chunk))
        return chunk

    def __call__(self, state, t: int) -> None:
        k = min(self.burst, self.steps - int(t), self.max_steps - len(self.sample_steps))
        if k <= 0:
            return
        ax = self.model.state_replica_axis
        sub = jax.tree_util.tree_map(lambda x: _take_replicas(x, ax, self.replicas), state)
        ch = _changes(self.model, sub, jnp.int32(t), self.keys, jnp.zeros((k,), jnp.int8))
        self.rasters.append(np.asarray(jax.device_get(ch)))
        self.sample_steps.extend(range(int(t), int(t) + k))

    def activity(self, steps_done: int) -> Activity | None:
        """The activity of the steps the run took (a stopped run: only the sampled steps before it stopped)."""
        if not self.rasters:
            return None
        ch, at = np.concatenate(self.rasters, axis=0), np.asarray(self.sample_steps, np.int64)
        keep = at < steps_done
        if not keep.any():
            return None
        return measure_activity(self.mapping, ch[keep], at[keep], steps_done, self.model.chip.updates)

    def finish(self, result) -> None:
        """Fill ``result.mapping`` (mapping + measured traffic + quantisation report) and, when the
        profile has a cost model, ``result.chip`` and the records' ``"chip_time_s"``."""
        act = self.activity(int(result.steps))
        result.mapping = mapping_report(self.model.chip, act)
        cost = getattr(self.model.chip.profile, "cost", None)
        if cost is None or act is None:
            return
        est = cost.estimate(self.mapping, act)
        result.chip = est.to_json()
        if result.records and len(result.record_steps):
            result.records["chip_time_s"] = est.time_at(result.record_steps)


def mapping_report(chip, activity: Activity | None) -> dict:
    """``result.mapping``: cores/PEs and chips used, neurons/synapses/memory per core (max, mean),
    the measured traffic (None when nothing was sampled) and the quantisation report."""
    out = chip.mapping.report()
    out["measured"] = None if activity is None else activity.report()
    out["quantization"] = chip.report()
    return out


def _take_replicas(x, axis: int, k: int):
    if not hasattr(x, "ndim") or x.ndim == 0:
        return x
    return jax.lax.slice_in_dim(x, 0, k, axis=axis % x.ndim)


def sampler_for(model, keys, steps: int):
    chip = getattr(model, "chip", None)
    if chip is None or getattr(chip, "mapping", None) is None:
        return None
    return ActivitySampler(model, keys, steps)
