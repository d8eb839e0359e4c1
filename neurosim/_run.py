"""The time-stepping engine: ``run(model, problem, steps=…, replicas=…, seed=…)``.

Structure of one run (see docs/design.md):

    host loop over chunks  (progress bar, checkpoints, records copied to host)
      └ jitted lax.scan over records          (one record every ``save.every`` steps)
          └ fori_loop over capture blocks     (best-state capture every ``best_every`` steps)
              └ fori_loop over steps          (model.step for all replicas at once)

Step ``t`` of replica ``r`` draws its random numbers from ``step_words(keys[r], t)`` where
``keys[r] = fold_in(PRNGKey(seed), replica_id[r])``; captures happen at global steps
``t ≡ -1 (mod best_every)`` and at the last step. So results are bit-identical however the run is
chunked, checkpointed, batched or sharded.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import sys
import time
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from . import random as nsr
from ._checkpoint import fingerprint, load_checkpoint, save_checkpoint
from ._model import AbstractModel, check_states
from ._saveat import SaveAt


@dataclasses.dataclass
class RunResult:
    """What a run returns. Energies are re-evaluated on the host in float64 with the original problem.

    Attributes:
        best_energy: (R,) each replica's best energy (float64, problem units).
        best_state: (R, n) int8 native variables of each replica's best state.
        final_state: (R, n) int8 variables at the end of the run.
        records: name → array with leading axis = record index (then replicas).
        record_steps: (K,) global step index of each record.
        report: extra figures of merit of the best states (``cut`` for Max-Cut, ``set_size`` and
            ``feasible`` for MIS), each (R,).
        time_compile / time_run: seconds spent compiling and running (excluding compile).
    """

    problem: Any
    model: str
    params: dict
    hardware: str | None
    steps: int
    replicas: int
    seed: int
    replica_ids: np.ndarray
    best_energy: np.ndarray
    best_state: np.ndarray
    final_state: np.ndarray
    records: dict
    record_steps: np.ndarray
    report: dict
    time_compile: float
    time_run: float
    device: str
    resumed_from: int = 0

    @property
    def best_index(self) -> int:
        return int(np.argmin(self.best_energy))

    @property
    def overall_best_energy(self) -> float:
        return float(self.best_energy[self.best_index])

    @property
    def overall_best_state(self) -> np.ndarray:
        return self.best_state[self.best_index]

    def to_json(self) -> dict:
        out = {
            "problem": self.problem.describe(),
            "model": self.model,
            "params": self.params,
            "hardware": self.hardware,
            "steps": self.steps,
            "replicas": self.replicas,
            "seed": self.seed,
            "best_energy": self.overall_best_energy,
            "best_state": self.overall_best_state.astype(int).tolist(),
            "replica_best_energy": self.best_energy.tolist(),
            "time_s": {"compile": self.time_compile, "run": self.time_run},
            "device": self.device,
        }
        if "cut" in self.report:
            cuts = np.asarray(self.report["cut"])
            out["best_cut"] = float(cuts.max())
            out["replica_best_cut"] = cuts.tolist()
        if "set_size" in self.report:
            sizes = np.asarray(self.report["set_size"])
            out["best_set_size"] = int(sizes.max())
            out["replica_set_size"] = sizes.tolist()
            out["replica_feasible"] = np.asarray(self.report["feasible"]).astype(bool).tolist()
        return out


class _Carry(eqx.Module):
    state: Any
    best_e: jax.Array
    best_s: jax.Array


def _leaf_zeros(sds):
    return jnp.zeros(sds.shape, sds.dtype)


def _acc_dtype(dtype):
    return jnp.int32 if jnp.issubdtype(dtype, jnp.integer) or dtype == jnp.bool_ else jnp.float32


def _capture(model, state, energy, best_e, best_s):
    better = energy < best_e

    def take(args):
        be, bs = args
        s = model.read(state)
        return jnp.where(better, energy, be), jnp.where(better[:, None], s, bs)

    return jax.lax.cond(jnp.any(better), take, lambda a: a, (best_e, best_s))


def _make_segment(static_model, save: SaveAt, *, n_rec: int, stride: int, block: int, tail: int, final_capture: bool):
    """Build the jitted function advancing ``n_rec·stride + tail`` steps from global step ``t0``."""
    last_names = tuple(dict.fromkeys(("energy",) + tuple(n for n in save.what if n not in ("state", "best_energy"))))
    sum_names = save.sum

    def steps(model, carry, outs, sums, t_start, nsteps, keys):
        def body(j, c):
            state, outs, sums = c
            t = t_start + j
            state, o = model.step(state, t, key=nsr.step_words(keys, t))
            outs = {k: o[k] for k in last_names}
            sums = {k: sums[k] + o[k].astype(sums[k].dtype) for k in sum_names}
            return state, outs, sums

        state, outs, sums = jax.lax.fori_loop(0, nsteps, body, (carry.state, outs, sums))
        return _Carry(state, carry.best_e, carry.best_s), outs, sums

    def blocks(model, carry, outs, sums, t_start, n_blocks, keys):
        def body(b, c):
            carry, outs, sums = c
            carry, outs, sums = steps(model, carry, outs, sums, t_start + b * block, block, keys)
            be, bs = _capture(model, carry.state, outs["energy"], carry.best_e, carry.best_s)
            return _Carry(carry.state, be, bs), outs, sums

        return jax.lax.fori_loop(0, n_blocks, body, (carry, outs, sums))

    def segment(dyn_model, carry, t0, keys, outs0, sums0):
        model = eqx.combine(dyn_model, static_model)

        def record(c, k):
            carry, outs = c
            sums = {name: jnp.zeros_like(v) for name, v in sums0.items()}
            carry, outs, sums = blocks(model, carry, outs, sums, t0 + k * stride, stride // block, keys)
            y = {name: outs[name] for name in save.what if name not in ("state", "best_energy")}
            y.update({name: sums[name] for name in sum_names})
            if "state" in save.what:
                y["state"] = model.read(carry.state)
            if "best_energy" in save.what:
                y["best_energy"] = carry.best_e
            if save.fn is not None:
                y["fn"] = save.fn(carry.state, outs)
            return (carry, outs), y

        (carry, outs), ys = jax.lax.scan(record, (carry, outs0), jnp.arange(n_rec, dtype=jnp.int32))
        if tail:
            sums = {name: jnp.zeros_like(v) for name, v in sums0.items()}
            t_tail = t0 + n_rec * stride
            full = tail // block
            carry, outs, sums = blocks(model, carry, outs, sums, t_tail, full, keys)
            rest = tail - full * block
            if rest:
                carry, outs, sums = steps(model, carry, outs, sums, t_tail + full * block, rest, keys)
        if final_capture:
            be, bs = _capture(model, carry.state, outs["energy"], carry.best_e, carry.best_s)
            carry = _Carry(carry.state, be, bs)
        return carry, outs, ys

    return jax.jit(segment, donate_argnums=(1,))


# Compiled chunk functions, reused by later runs of a model with the same static structure (the same
# model class, options and shapes; array values are arguments): a warm-started or repeated run
# pays no compile time. Keyed by the static part of the model, the recording spec, the chunk layout
# and the shapes, dtypes and shardings of every argument.
_COMPILED: collections.OrderedDict = collections.OrderedDict()
_COMPILED_MAX = 32


def _cache_key(static_model, save, sig, stride, block, args):
    try:
        avals = tuple((tuple(x.shape), str(x.dtype), getattr(x, "sharding", None)) for x in jax.tree_util.tree_leaves(args))
        key = (type(static_model), static_model, save, sig, stride, block, jax.tree_util.tree_structure(args), avals)
        hash(key)
        return key
    except TypeError:  # something unhashable in the model's static fields: compile afresh
        return None


def _problem_native(problem, states, model_native: str):
    """``states`` (model-native ±1 or 0/1) converted to the problem's native variables."""
    from ._problems import QUBO

    native = getattr(problem, "native", "qubo" if isinstance(problem, QUBO) else "ising")
    if native == model_native:
        return states
    return ((states + 1) // 2).astype(np.int8) if native == "qubo" else (2 * states.astype(np.int8) - 1).astype(np.int8)


def _device_name(devices) -> str:
    devs = list(devices) if devices is not None else jax.devices()[:1]
    d = devs[0]
    kind = getattr(d, "device_kind", d.platform)
    return f"{d.platform}:{kind}" + (f" x{len(devs)}" if len(devs) > 1 else "")


def _progress(done: int, total: int, t_start: float, stream=sys.stderr) -> None:
    frac = done / max(1, total)
    elapsed = time.perf_counter() - t_start
    eta = elapsed / frac - elapsed if frac > 0 else float("nan")
    bar = "#" * int(30 * frac) + "." * (30 - int(30 * frac))
    stream.write(f"\r[{bar}] {100 * frac:5.1f}% {done:.3g}/{total:.3g} steps  {elapsed:6.1f}s  eta {eta:6.1f}s")
    if done >= total:
        stream.write("\n")
    stream.flush()


def _replica_sharding(devices, axis: int, ndim: int):
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

    mesh = Mesh(np.asarray(devices), ("r",))
    if ndim == 0:
        return NamedSharding(mesh, P())
    spec = [None] * ndim
    spec[axis] = "r"
    return NamedSharding(mesh, P(*spec))


def run(
    model: AbstractModel,
    problem,
    *,
    steps: int,
    replicas: int = 1,
    seed: int = 0,
    save: SaveAt | None = None,
    init=None,
    best_every: int | None = None,
    chunk: int | None = None,
    replica_ids=None,
    checkpoint: str | None = None,
    checkpoint_every: float = 60.0,
    progress: bool = False,
    devices=None,
    stop_after_chunks: int | None = None,
) -> RunResult:
    """Run ``model`` for ``steps`` steps on ``replicas`` independent replicas.

    Args:
        model: a neuron model bound to ``problem`` (e.g. ``Gibbs(problem, mode="synchronous")``).
        problem: the host problem, used to check sizes and to re-evaluate the best states exactly.
        steps: number of time steps (≥ 1).
        replicas: number of replicas R (≥ 1); ignored when ``replica_ids`` is given.
        seed: integer seed; replica r's randomness depends only on (seed, replica_ids[r], step).
        save: what to record (:class:`SaveAt`); default records nothing.
        init: initial native states, (R, n) or (n,) (default: uniformly random per replica).
        best_every: capture best states every this many steps (default: the model's).
        chunk: steps per jitted call (rounded up to a multiple of the record stride); default picks
            a size that keeps records per call under 256 MB and gives ~100 progress updates.
        replica_ids: explicit replica ids (for running a slice of a larger ensemble elsewhere).
        checkpoint: path of a checkpoint file. If it exists and matches this run (same model,
            problem, seed, replicas, steps, recording), the run resumes from it; it is rewritten every
            ``checkpoint_every`` seconds and at the end.
        progress: print a progress bar on stderr.
        devices: devices to shard the replica axis over (default: one device).
        stop_after_chunks: stop (after checkpointing) once this many chunks ran — for tests and for
            splitting a run across jobs.
    """
    if not isinstance(model, AbstractModel):
        raise TypeError(f"model must be a neurosim model, got {type(model).__name__}")
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    steps = int(steps)
    if steps >= 2**31 - 1:
        raise ValueError(f"steps={steps} exceeds the int32 step counter (2^31 - 1)")
    if problem.n != model.n:
        raise ValueError(f"the model was built for n={model.n} variables but the problem has n={problem.n}")
    if replica_ids is None:
        if not isinstance(replicas, (int, np.integer)) or replicas < 1:
            raise ValueError(f"replicas must be a positive integer, got {replicas!r}")
        replica_ids = np.arange(int(replicas), dtype=np.uint32)
    else:
        replica_ids = np.asarray(replica_ids, dtype=np.int64)
        if replica_ids.ndim != 1 or len(replica_ids) == 0 or replica_ids.min() < 0 or replica_ids.max() >= 2**32:
            raise ValueError("replica_ids must be a non-empty 1-D array of ids in [0, 2^32)")
        replica_ids = replica_ids.astype(np.uint32)
    R = len(replica_ids)
    save = save or SaveAt()
    save.check_names(model)
    best_every = int(best_every or model.default_best_every)
    if best_every < 1:
        raise ValueError(f"best_every must be ≥ 1, got {best_every}")
    stride = save.every if save.records_anything else best_every
    block = math.gcd(best_every, stride)
    n_records_total = steps // stride if save.records_anything else 0

    keys = nsr.replica_keys(seed, replica_ids)
    init_words = nsr.step_words(keys, 0, salt=1)
    states0 = None if init is None else jnp.asarray(check_states(init, model.n, model.native, R))
    state = model.init(states0, key=init_words)
    carry = _Carry(state, jnp.full((R,), jnp.inf, jnp.float32), model.read(state))
    # The carry is donated to each chunk: give every leaf its own buffer (read() may alias the state).
    carry = jax.tree_util.tree_map(lambda x: jnp.array(x, copy=True), carry)

    dyn_model, static_model = eqx.partition(model, eqx.is_array)

    # Shapes of one step's outputs → the record layout and its memory.
    _, out_shape = jax.eval_shape(lambda m, s: m.step(s, jnp.int32(0), key=init_words), model, state)
    if "energy" not in out_shape:
        raise ValueError(f"{type(model).__name__}.step outputs no 'energy'")
    last_names = tuple(dict.fromkeys(("energy",) + tuple(n for n in save.what if n not in ("state", "best_energy"))))
    outs0 = {k: _leaf_zeros(out_shape[k]) for k in last_names}
    sums0 = {k: jnp.zeros(out_shape[k].shape, _acc_dtype(out_shape[k].dtype)) for k in save.sum}
    rec_bytes = 0
    for name in save.what:
        if name == "state":
            rec_bytes += R * model.n
        elif name == "best_energy":
            rec_bytes += 4 * R
        else:
            rec_bytes += out_shape[name].size * out_shape[name].dtype.itemsize
    rec_bytes += sum(out_shape[k].size * 4 for k in save.sum)
    if save.fn is not None:
        fn_shape = jax.eval_shape(save.fn, state, {k: out_shape[k] for k in out_shape})
        rec_bytes += sum(l.size * l.dtype.itemsize for l in jax.tree_util.tree_leaves(fn_shape))
    total_bytes = rec_bytes * n_records_total
    if total_bytes > save.budget():
        raise MemoryError(
            f"the requested records need {total_bytes:,} bytes ({n_records_total:,} records × {rec_bytes:,} bytes), "
            f"over the budget of {save.budget():,} bytes: record less often (SaveAt.every), fewer names, or raise SaveAt.max_bytes"
        )

    # Chunking: chunk = a whole number of strides.
    if chunk is None:
        per_chunk_records = max(1, (256 << 20) // max(1, rec_bytes)) if rec_bytes else None
        target = steps if not (progress or checkpoint) else max(stride, steps // 100)
        if per_chunk_records is not None:
            target = min(target, per_chunk_records * stride)
        chunk = target
    if not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
    chunk = max(stride, (int(chunk) // stride) * stride)

    # Sharding over devices (replica axis).
    if devices is not None and len(devices) > 1:
        if R % len(devices):
            raise ValueError(f"replicas ({R}) must be a multiple of the number of devices ({len(devices)})")
        ax = model.state_replica_axis

        def place(x, axis):
            x = jnp.asarray(x)
            return jax.device_put(x, _replica_sharding(devices, axis % max(1, x.ndim) if x.ndim else 0, x.ndim))

        carry = _Carry(
            jax.tree_util.tree_map(lambda x: place(x, ax), carry.state),
            place(carry.best_e, 0),
            place(carry.best_s, 0),
        )
        keys = place(keys, 0)
        outs0 = {k: place(v, 0) if v.ndim else v for k, v in outs0.items()}
        sums0 = {k: place(v, 0) if v.ndim else v for k, v in sums0.items()}

    fp = fingerprint(model, problem, seed=seed, replica_ids=replica_ids, steps=steps, save=save, best_every=best_every)
    t_done = 0
    records: list[dict] = []
    outs = outs0
    if checkpoint is not None:
        resumed = load_checkpoint(checkpoint, fp, carry, outs0)
        if resumed is not None:
            t_done, carry, outs, records = resumed
    resumed_from = t_done

    compiled: dict = {}
    time_compile = 0.0
    time_run = 0.0
    t_wall = time.perf_counter()
    last_ckpt = time.perf_counter()
    chunks_run = 0
    while t_done < steps:
        this = min(chunk, steps - t_done)
        n_rec = this // stride if save.records_anything else 0
        tail = this - n_rec * stride
        if not save.records_anything:
            n_rec, tail = this // stride, this % stride
        final = t_done + this == steps
        sig = (n_rec, tail, final)
        if sig not in compiled:
            args = (dyn_model, carry, jnp.int32(t_done), keys, outs, sums0)
            key = _cache_key(static_model, save, sig, stride, block, args)
            if key is not None and key in _COMPILED:
                _COMPILED.move_to_end(key)
                compiled[sig] = _COMPILED[key]
            else:
                fn = _make_segment(static_model, save, n_rec=n_rec, stride=stride, block=block, tail=tail, final_capture=final)
                t0c = time.perf_counter()
                compiled[sig] = fn.lower(*args).compile()
                time_compile += time.perf_counter() - t0c
                if key is not None:
                    _COMPILED[key] = compiled[sig]
                    while len(_COMPILED) > _COMPILED_MAX:
                        _COMPILED.popitem(last=False)
        t0r = time.perf_counter()
        carry, outs, ys = compiled[sig](dyn_model, carry, jnp.int32(t_done), keys, outs, sums0)
        if save.records_anything:
            records.append(jax.device_get(ys))
        else:
            jax.block_until_ready(carry)
        time_run += time.perf_counter() - t0r
        t_done += this
        chunks_run += 1
        if progress:
            _progress(t_done, steps, t_wall)
        stopping = stop_after_chunks is not None and chunks_run >= stop_after_chunks and t_done < steps
        if checkpoint is not None and (t_done == steps or stopping or time.perf_counter() - last_ckpt > checkpoint_every):
            save_checkpoint(checkpoint, fp, t_done, carry, outs, records)
            last_ckpt = time.perf_counter()
        if stopping:
            break

    # Assemble records.
    rec: dict = {}
    if records:
        names = records[0].keys()
        for name in names:
            parts = [r[name] for r in records if len(jax.tree_util.tree_leaves(r[name])) and np.size(jax.tree_util.tree_leaves(r[name])[0])]
            if parts:
                rec[name] = jax.tree_util.tree_map(lambda *xs: np.concatenate(xs, axis=0), *parts)
    record_steps = np.arange(1, n_records_total + 1, dtype=np.int64) * stride - 1

    best_state = np.asarray(jax.device_get(carry.best_s))
    final_state = np.asarray(jax.device_get(model.read(carry.state)))
    finished = t_done == steps
    # Evaluate in the problem's own variables (a QUBO-native model may solve an Ising-native problem).
    eval_state = _problem_native(problem, best_state, model.native)
    best_energy = np.asarray(problem.energy(eval_state), dtype=np.float64)
    # Replicas that never captured (only possible in a stopped run) report +inf.
    never = ~np.isfinite(np.asarray(jax.device_get(carry.best_e)))
    best_energy = np.where(never, np.inf, best_energy)
    report = problem.report(eval_state) if hasattr(problem, "report") else {}
    params = model.describe()
    hw = getattr(model, "hardware", None)
    return RunResult(
        problem=problem,
        model=params.pop("model", type(model).__name__),
        params=params,
        hardware=None if hw is None else getattr(hw, "name", str(hw)),
        steps=t_done if not finished else steps,
        replicas=R,
        seed=int(seed),
        replica_ids=replica_ids,
        best_energy=best_energy,
        best_state=best_state,
        final_state=final_state,
        records=rec,
        record_steps=record_steps[: (t_done // stride) if save.records_anything else 0],
        report=report,
        time_compile=time_compile,
        time_run=time_run,
        device=_device_name(devices),
        resumed_from=resumed_from,
    )
