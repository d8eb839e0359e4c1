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

import contextlib
import dataclasses
import math
import os
import signal
import sys
import time
import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from . import random as nsr
from . import _memory, _setup
from ._checkpoint import check_checkpoint_path, checkpoint_lock, fingerprint, load_checkpoint, save_checkpoint
from ._interrupt import noting_interrupts
from ._model import AbstractModel, check_states
from ._result import RunResult, _problem_native
from ._saveat import SaveAt
from neurosim.hardware._activity import sampler_for
from ._segment import _COMPILED, _Carry, _acc_dtype, _leaf_zeros, compiled_segment  # noqa: F401 (_COMPILED: tests)


@dataclasses.dataclass(frozen=True)
class _Plan:
    """The static layout of a run: how many steps, replicas, records, and how they are chunked."""

    steps: int
    replica_ids: np.ndarray
    save: SaveAt
    best_every: int
    stride: int  # steps per record (or per capture block when nothing is recorded)
    block: int  # steps between best-state captures inside a record
    n_records: int
    chunk: int = 0  # steps per jitted call, a multiple of ``stride``

    @property
    def replicas(self) -> int:
        return len(self.replica_ids)


@dataclasses.dataclass
class _Progress:
    """Where the chunk loop stands; a checkpoint restores it."""

    t_done: int
    carry: _Carry
    outs: dict
    records: list
    resumed_from: int = 0
    time_compile: float = 0.0
    time_run: float = 0.0
    chunks_run: int = 0


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


def _is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _check_args(model, problem, steps, replicas, replica_ids, seed) -> tuple[int, np.ndarray]:
    """Validated ``steps`` and the replica ids; refuses a bool, a float or an out-of-range seed."""
    if not isinstance(model, AbstractModel):
        raise TypeError(f"model must be a neurosim model, got {type(model).__name__}")
    if not _is_int(steps) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    steps = int(steps)
    if steps >= 2**31 - 1:
        raise ValueError(f"steps={steps} exceeds the int32 step counter (2^31 - 1)")
    nsr.check_seed(seed)
    if problem.n != model.n:
        raise ValueError(f"the model was built for n={model.n} variables but the problem has n={problem.n}")
    if replica_ids is None:
        if not _is_int(replicas) or replicas < 1:
            raise ValueError(f"replicas must be a positive integer, got {replicas!r}")
        if replicas > 2**32:
            raise ValueError(f"replicas={replicas} exceeds the 2^32 replica ids")
        return steps, np.arange(int(replicas), dtype=np.uint32)
    replica_ids = np.asarray(replica_ids)
    if replica_ids.dtype.kind not in "iu":
        raise ValueError(f"replica_ids must be integers, got dtype {replica_ids.dtype}")
    replica_ids = replica_ids.astype(np.int64)
    if replica_ids.ndim != 1 or len(replica_ids) == 0 or replica_ids.min() < 0 or replica_ids.max() >= 2**32:
        raise ValueError("replica_ids must be a non-empty 1-D array of ids in [0, 2^32)")
    if len(np.unique(replica_ids)) != len(replica_ids):
        raise ValueError("replica_ids must not repeat an id (two replicas with one id are the same run)")
    return steps, replica_ids.astype(np.uint32)


def _plan(model, steps: int, replica_ids, save: SaveAt | None, best_every) -> _Plan:
    save = save or SaveAt()
    save.check_names(model)
    if best_every is None:
        best_every = model.default_best_every
    if not _is_int(best_every) or best_every < 1:
        raise ValueError(f"best_every must be a positive integer (or None for the model's default), got {best_every!r}")
    best_every = int(best_every)
    stride = save.every if save.records_anything else best_every
    n_records = steps // stride if save.records_anything else 0
    return _Plan(steps, replica_ids, save, best_every, stride, math.gcd(best_every, stride), n_records)


def _init_states(model, plan: _Plan, init):
    return None if init is None else jnp.asarray(check_states(init, model.n, model.native, plan.replicas))


def _initial_carry(model, plan: _Plan, keys, states0):
    """The loop carry at step 0: model state (from the init words of step 0, salt 1), best energies
    and states. Blocks until it is computed, so that set-up time is counted before the first step."""
    return jax.block_until_ready(_setup.initial_carry(model, keys, states0))  # one compiled call (_setup.py)


_SHAPES: dict = {}  # (static model, array shapes, replicas, init given) → (state shape, output shapes)


def _shapes(model, keys, states0):
    """Shapes of the model state and of one step's outputs, without computing either (traced once
    per model structure and replica count, then remembered)."""
    dyn, static = eqx.partition(model, eqx.is_array)
    try:
        key = (type(model), static, jax.tree_util.tree_structure(dyn),
               tuple((l.shape, str(l.dtype)) for l in jax.tree_util.tree_leaves(dyn)), keys.shape, states0 is None)
        hash(key)
    except TypeError:
        key = None
    if key is not None and key in _SHAPES:
        return _SHAPES[key]
    state = _setup.initial_state_shape(model, keys, states0)  # the trace initial_carry compiles
    _, out_shape = jax.eval_shape(lambda m, s: m.step(s, jnp.int32(0), key=nsr.step_words(keys, 0)), model, state)
    if "energy" not in out_shape:
        raise ValueError(f"{type(model).__name__}.step outputs no 'energy'")
    if key is not None:
        if len(_SHAPES) > 64:
            _SHAPES.clear()
        _SHAPES[key] = (state, out_shape)
    return state, out_shape


def _record_bytes(model, plan: _Plan, state_shape, out_shape) -> int:
    """Bytes of one record. Refuses a run whose records would exceed the recording budget."""
    save = plan.save
    rec_bytes = 0
    for name in save.what:
        if name == "state":
            rec_bytes += plan.replicas * model.n
        elif name == "best_energy":
            rec_bytes += 4 * plan.replicas
        else:
            rec_bytes += out_shape[name].size * out_shape[name].dtype.itemsize
    rec_bytes += sum(out_shape[k].size * 4 for k in save.sum)
    if save.fn is not None:
        fn_shape = jax.eval_shape(save.fn, state_shape, {k: out_shape[k] for k in out_shape})
        rec_bytes += sum(l.size * l.dtype.itemsize for l in jax.tree_util.tree_leaves(fn_shape))
    total_bytes = rec_bytes * plan.n_records
    if total_bytes > save.budget():
        raise MemoryError(
            f"the requested records need {total_bytes:,} bytes ({plan.n_records:,} records × {rec_bytes:,} bytes), "
            f"over the budget of {save.budget():,} bytes: record less often (SaveAt.every), fewer names, or raise SaveAt.max_bytes"
        )
    return rec_bytes


def _loop_outputs(plan: _Plan, out_shape):
    """Zeroed last outputs and window sums, which the loop carries from chunk to chunk."""
    save = plan.save
    last_names = tuple(dict.fromkeys(("energy",) + tuple(n for n in save.what if n not in ("state", "best_energy"))))
    outs0 = {k: _leaf_zeros(out_shape[k]) for k in last_names}
    sums0 = {k: jnp.zeros(out_shape[k].shape, _acc_dtype(out_shape[k].dtype)) for k in save.sum}
    return outs0, sums0


def _check_memory(model, plan: _Plan, state_shape, out_shape, rec_bytes: int, devices) -> None:
    est = _memory.estimate(model, state_shape, out_shape, replicas=plan.replicas, rec_bytes=rec_bytes,
                           records_per_chunk=plan.chunk // plan.stride if plan.save.records_anything else 0)
    n_dev = len(devices) if devices is not None else 1
    _memory.check_fits(est, replicas=plan.replicas, n_devices=n_dev, available=_memory.device_memory(devices))


def _chunk_steps(plan: _Plan, chunk, rec_bytes: int, *, frequent: bool) -> int:
    """Steps per jitted call: a whole number of strides. Default: the whole run, or ~100 chunks when
    progress or checkpoints want ``frequent`` returns to the host, and records per call under 256 MB."""
    if chunk is None:
        target = plan.steps if not frequent else max(plan.stride, plan.steps // 100)
        if rec_bytes:
            target = min(target, max(1, (256 << 20) // rec_bytes) * plan.stride)
        chunk = target
    if not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
    return max(plan.stride, (int(chunk) // plan.stride) * plan.stride)


def _shard(devices, model, plan: _Plan, carry, keys, outs0, sums0):
    """Place the replica axis of everything the loop carries over ``devices`` (no-op for one)."""
    if devices is None or len(devices) <= 1:
        return carry, keys, outs0, sums0
    if plan.replicas % len(devices):
        raise ValueError(f"replicas ({plan.replicas}) must be a multiple of the number of devices ({len(devices)})")
    ax = model.state_replica_axis

    def place(x, axis):
        x = jnp.asarray(x)
        return jax.device_put(x, _replica_sharding(devices, axis % max(1, x.ndim) if x.ndim else 0, x.ndim))

    carry = _Carry(jax.tree_util.tree_map(lambda x: place(x, ax), carry.state), place(carry.best_e, 0), place(carry.best_s, 0))
    keys = place(keys, 0)
    outs0 = {k: place(v, 0) if v.ndim else v for k, v in outs0.items()}
    sums0 = {k: place(v, 0) if v.ndim else v for k, v in sums0.items()}
    return carry, keys, outs0, sums0


def _resume(checkpoint, fp: str, carry, outs0, plan: _Plan) -> _Progress:
    """Progress at the start: step 0, or where ``checkpoint`` (if it exists) left off."""
    if checkpoint is not None:
        resumed = load_checkpoint(checkpoint, fp, carry, outs0, steps=plan.steps, chunk=plan.chunk, stride=plan.stride,
                                  records=plan.save.records_anything)
        if resumed is not None:
            t_done, carry, outs, records = resumed
            return _Progress(t_done, carry, outs, records, resumed_from=t_done)
    return _Progress(0, carry, outs0, [])


def _chunk_signature(plan: _Plan, t_done: int) -> tuple[int, tuple]:
    """Steps of the next chunk and its compiled signature ``(n_rec, tail, final_capture)``."""
    this = min(plan.chunk, plan.steps - t_done)
    n_rec, tail = this // plan.stride, this % plan.stride
    return this, (n_rec, tail, t_done + this == plan.steps)


def _chunk_loop(plan: _Plan, prog: _Progress, dyn_model, static_model, keys, sums0, *, checkpoint, checkpoint_every,
                fp, progress, stop_after_chunks, t_enter, interrupts, on_chunk=None) -> _Progress:
    """Advance ``prog`` chunk by chunk to the end of the run (or ``stop_after_chunks``, or a noted
    interrupt), compiling each chunk signature once, copying records to the host and checkpointing.
    ``time_compile`` counts everything from ``t_enter`` to the first step, then later compilations."""
    compiled: dict = {}
    t_wall = last_ckpt = time.perf_counter()
    first = True
    while prog.t_done < plan.steps:
        if on_chunk is not None:  # chip activity sampling (profiles only): reads the carry, changes nothing
            on_chunk(prog.carry.state, prog.t_done)
        this, sig = _chunk_signature(plan, prog.t_done)
        if sig not in compiled:
            args = (dyn_model, prog.carry, jnp.int32(prog.t_done), keys, prog.outs, sums0)
            compiled[sig], seconds = compiled_segment(static_model, plan.save, sig, stride=plan.stride, block=plan.block, args=args)
            prog.time_compile += 0.0 if first else seconds
        t0 = time.perf_counter()
        if first:  # set-up, initialisation and the first compilation: everything before the first step
            prog.time_compile += t0 - t_enter
            first = False
        prog.carry, prog.outs, ys = compiled[sig](dyn_model, prog.carry, jnp.int32(prog.t_done), keys, prog.outs, sums0)
        if plan.save.records_anything:
            prog.records.append(jax.device_get(ys))
        else:
            jax.block_until_ready(prog.carry)
        prog.time_run += time.perf_counter() - t0
        prog.t_done += this
        prog.chunks_run += 1
        if progress:
            _progress(prog.t_done, plan.steps, t_wall)
        unfinished = prog.t_done < plan.steps
        stopping = unfinished and ((stop_after_chunks is not None and prog.chunks_run >= stop_after_chunks) or bool(interrupts))
        due = not unfinished or stopping or time.perf_counter() - last_ckpt > checkpoint_every
        if checkpoint is not None and due:
            save_checkpoint(checkpoint, fp, prog.t_done, prog.carry, prog.outs, prog.records)
            last_ckpt = time.perf_counter()
        if stopping:
            break
    return prog


def _assemble_records(plan: _Plan, records: list, t_done: int) -> tuple[dict, np.ndarray]:
    """Per-chunk records concatenated along the record axis, and the step of each record."""
    rec: dict = {}
    if records:
        for name in records[0].keys():
            parts = [r[name] for r in records if len(jax.tree_util.tree_leaves(r[name])) and np.size(jax.tree_util.tree_leaves(r[name])[0])]
            if parts:
                rec[name] = jax.tree_util.tree_map(lambda *xs: np.concatenate(xs, axis=0), *parts)
    record_steps = np.arange(1, plan.n_records + 1, dtype=np.int64) * plan.stride - 1
    return rec, record_steps[: (t_done // plan.stride) if plan.save.records_anything else 0]


def _overflow(model, state) -> np.ndarray | None:
    """Per-replica sticky saturation flag, for models whose state carries one (chip profiles)."""
    flag = getattr(state, "overflow", None)
    if flag is None:
        return None
    flag = np.asarray(jax.device_get(flag)).astype(bool)
    return flag.reshape(flag.shape[0], -1).any(axis=1) if flag.ndim else None


def _warn_losses(result: RunResult) -> None:
    """Saturation and quantisation loss must reach the user, not only the JSON."""
    for line in result.loss_lines():
        warnings.warn(line, RuntimeWarning, stacklevel=3)


def _assemble_result(model, problem, plan: _Plan, prog: _Progress, seed, devices) -> RunResult:
    """The host-side result: best states re-evaluated exactly in the problem's own variables."""
    rec, record_steps = _assemble_records(plan, prog.records, prog.t_done)
    best_state = np.asarray(jax.device_get(prog.carry.best_s))
    final_state = np.asarray(jax.device_get(model.read(prog.carry.state)))
    # Evaluate in the problem's own variables (a QUBO-native model may solve an Ising-native problem).
    samples = _problem_native(problem, best_state, model.native)
    best_energy = np.asarray(problem.energy(samples), dtype=np.float64)
    # Replicas that never captured (only possible in a stopped run) report +inf.
    never = ~np.isfinite(np.asarray(jax.device_get(prog.carry.best_e)))
    best_energy = np.where(never, np.inf, best_energy)
    report = problem.report(samples) if hasattr(problem, "report") else {}
    params = model.describe()
    hw = getattr(model, "hardware", None)
    result = RunResult(
        problem=problem,
        model=params.pop("model", type(model).__name__),
        params=params,
        hardware=None if hw is None else getattr(hw, "name", str(hw)),
        steps=prog.t_done,
        replicas=plan.replicas,
        seed=int(seed),
        replica_ids=plan.replica_ids,
        best_energy=best_energy,
        best_state=best_state,
        final_state=final_state,
        records=rec,
        record_steps=record_steps,
        report=report,
        time_compile=prog.time_compile,
        time_run=prog.time_run,
        device=_device_name(devices),
        resumed_from=prog.resumed_from,
        samples=samples,
        final_samples=_problem_native(problem, final_state, model.native),
        overflow=_overflow(model, prog.carry.state),
        quantization=params.get("quantization"),
        steps_requested=plan.steps,
    )
    _warn_losses(result)
    return result


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
    on_interrupt: str = "raise",
) -> RunResult:
    """Run ``model`` for ``steps`` steps on ``replicas`` independent replicas.

    Args:
        model: a neuron model bound to ``problem`` (e.g. ``Gibbs(problem, mode="synchronous")``).
            A model whose annealing length the user did not fix anneals over this run
            (:meth:`AbstractModel.with_run_length`).
        problem: the host problem, used to check sizes and to re-evaluate the best states exactly.
        steps: number of time steps (≥ 1).
        replicas: number of replicas R (≥ 1); ignored when ``replica_ids`` is given.
        seed: integer seed in [0, 2^64); replica r's randomness depends only on (seed, replica_ids[r], step).
        save: what to record (:class:`SaveAt`); default records nothing.
        init: initial native states, (R, n) or (n,) (default: uniformly random per replica).
        best_every: capture best states every this many steps (default: the model's).
        chunk: steps per jitted call (rounded up to a multiple of the record stride); default picks
            a size that keeps records per call under 256 MB and gives ~100 progress updates.
        replica_ids: explicit replica ids (for running a slice of a larger ensemble elsewhere).
        checkpoint: path of a checkpoint file. If it exists and matches this run (same model,
            problem, initial states, seed, replicas, steps, recording), the run resumes from it; it is
            rewritten every ``checkpoint_every`` seconds, at the end and on SIGINT/SIGTERM.
        progress: print a progress bar on stderr.
        devices: devices to shard the replica axis over (default: one device).
        stop_after_chunks: stop (after checkpointing) once this many chunks ran — for tests and for
            splitting a run across jobs.
        on_interrupt: with a checkpoint (or ``"return"``), SIGINT/SIGTERM stop the run after the
            chunk in flight and save the checkpoint; then ``"raise"`` raises KeyboardInterrupt and
            ``"return"`` returns the partial result (``result.partial``, ``result.interrupted``).
    """
    t_enter = time.perf_counter()
    if on_interrupt not in ("raise", "return"):
        raise ValueError(f"on_interrupt must be 'raise' or 'return', got {on_interrupt!r}")
    steps, replica_ids = _check_args(model, problem, steps, replicas, replica_ids, seed)
    model = model.with_run_length(steps)
    plan = _plan(model, steps, replica_ids, save, best_every)
    if checkpoint is not None:
        check_checkpoint_path(checkpoint)
    keys = nsr.replica_keys(seed, plan.replica_ids)
    states0 = _init_states(model, plan, init)
    state_shape, out_shape = _shapes(model, keys, states0)
    rec_bytes = _record_bytes(model, plan, state_shape, out_shape)
    plan = dataclasses.replace(plan, chunk=_chunk_steps(plan, chunk, rec_bytes, frequent=bool(progress or checkpoint or on_interrupt == "return")))
    sampler = sampler_for(model, keys, steps)  # chip activity under a profile; None (nothing extra) for hardware=None
    if sampler is not None:
        plan = dataclasses.replace(plan, chunk=sampler.chunk(plan.chunk, plan.stride, fixed=chunk is not None))
    _check_memory(model, plan, state_shape, out_shape, rec_bytes, devices)
    carry = _initial_carry(model, plan, keys, states0)
    outs0, sums0 = _loop_outputs(plan, out_shape)
    carry, keys, outs0, sums0 = _shard(devices, model, plan, carry, keys, outs0, sums0)
    fp = fingerprint(model, problem, seed=seed, replica_ids=plan.replica_ids, steps=steps, save=plan.save,
                     best_every=plan.best_every, init=states0)
    with contextlib.ExitStack() as stack:
        lock = stack.enter_context(checkpoint_lock(checkpoint)) if checkpoint is not None else None  # noqa: F841
        prog = _resume(checkpoint, fp, carry, outs0, plan)
        dyn_model, static_model = eqx.partition(model, eqx.is_array)
        watch = checkpoint is not None or on_interrupt == "return"
        interrupts = stack.enter_context(noting_interrupts()) if watch else None
        prog = _chunk_loop(plan, prog, dyn_model, static_model, keys, sums0, checkpoint=checkpoint, checkpoint_every=checkpoint_every,
                           fp=fp, progress=progress, stop_after_chunks=stop_after_chunks, t_enter=t_enter, interrupts=interrupts,
                           on_chunk=sampler)
    result = _assemble_result(model, problem, plan, prog, seed, devices)
    if sampler is not None:
        sampler.finish(result)  # result.mapping (measured traffic), result.chip, records["chip_time_s"]
    if interrupts and result.partial:
        result.interrupted = signal.Signals(interrupts.signal).name
        if on_interrupt == "raise":
            where = f"; checkpoint saved to {os.fspath(checkpoint)}: run the same call again to resume" if checkpoint else ""
            raise KeyboardInterrupt(f"run interrupted ({result.interrupted}) at step {result.steps:,} of {steps:,}{where}")
    return result
