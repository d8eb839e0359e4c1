"""Iterated warm starting (SPEC §4.1; the sparse-coding paper's workflow).

A *run* is ``steps`` time steps (default 6000) whose best state is the lowest-energy sample among
those taken every ``every`` steps (default 20: 300 samples) — exactly what
``neurosim.run(model, problem, steps=steps, best_every=every, init=…, seed=…)`` returns. Run r+1
starts from the best state of run r (``restart_from="previous"``, the paper) or from the best state
seen so far (``"best"``); the first run starts from random states (or ``init``). Every replica is an
independent chain. The reported best is the minimum over all runs so far, so it never gets worse.

Why not call ``neurosim.run`` 100 times: each call compiles its own loop (~1 s), which would cost
more than the runs themselves. :func:`warm_start` compiles one run once and calls it ``runs``
times; its random numbers, sampling and best-state capture replicate the engine's
(``tests/test_sparse_coding.py`` checks a run against ``neurosim.run`` bit for bit).
"""

from __future__ import annotations

import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np

from .. import random as nsr
from .._model import AbstractModel, check_states
from .._run import _problem_native

RESTART = ("previous", "best")


@dataclasses.dataclass(frozen=True)
class WarmStartResult:
    best_energy: float  # overall best (float64, problem units)
    best_state: np.ndarray  # int8 (n,)
    run_best: np.ndarray  # (runs, R) best energy of each run (float64)
    cumulative_best: np.ndarray  # (runs, R) best energy so far per chain: never increases
    replica_best_state: np.ndarray  # int8 (R, n) each chain's best state over all runs
    run_init: np.ndarray  # int8 (runs, R, n) the state each run started from
    seeds: np.ndarray  # (runs,) the engine seed of each run
    seconds: float  # wall time of all runs (compile excluded)
    compile_seconds: float

    @property
    def replica_best_energy(self) -> np.ndarray:
        return self.cumulative_best[-1]


def run_seed(seed: int, r: int) -> int:
    """The engine seed of run ``r`` of a warm-start sequence seeded with ``seed``."""
    return int(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(r)]).generate_state(1)[0])


def _one_run(model, steps: int, every: int):
    """jitted ``(init_states, keys) → (best_states, best_energy_f32)`` replicating ``neurosim.run``."""
    n_blocks, tail = divmod(steps, every)

    def capture(state, e, best_e, best_s):
        better = e < best_e
        return jnp.where(better, e, best_e), jnp.where(better[:, None], model.read(state), best_s)

    def run(states, keys):
        state = model.init(states, key=nsr.step_words(keys, 0, salt=1))
        R = states.shape[0]
        best_e = jnp.full((R,), jnp.inf, jnp.float32)
        best_s = model.read(state)

        def steps_from(t0, k, state):
            def body(j, c):
                s, _ = c
                t = t0 + j
                s, o = model.step(s, t, key=nsr.step_words(keys, t))
                return s, o["energy"]

            return jax.lax.fori_loop(0, k, body, (state, jnp.zeros((R,), jnp.float32)))

        def block(b, c):
            state, best_e, best_s = c
            state, e = steps_from(b * every, every, state)
            best_e, best_s = capture(state, e, best_e, best_s)
            return state, best_e, best_s

        state, best_e, best_s = jax.lax.fori_loop(0, n_blocks, block, (state, best_e, best_s))
        if tail:
            state, e = steps_from(jnp.int32(n_blocks * every), tail, state)
            best_e, best_s = capture(state, e, best_e, best_s)
        return best_s, best_e

    return jax.jit(run)


def warm_start(
    model: AbstractModel,
    problem,
    *,
    runs: int = 100,
    steps: int = 6000,
    every: int = 20,
    replicas: int = 1,
    seed: int = 0,
    init=None,
    restart_from: str = "previous",
    callback=None,
) -> WarmStartResult:
    """Iterated warm starting of ``model`` on ``problem`` (see the module docstring).

    ``callback(r, cumulative_best)`` is called after each run (progress, early stopping: return True
    to stop)."""
    for name, v in (("runs", runs), ("steps", steps), ("every", every), ("replicas", replicas)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    if restart_from not in RESTART:
        raise ValueError(f"restart_from must be one of {RESTART}, got {restart_from!r}")
    if not isinstance(model, AbstractModel):
        raise TypeError(f"model must be a neurosim model, got {type(model).__name__}")
    if problem.n != model.n:
        raise ValueError(f"the model was built for n={model.n} variables but the problem has n={problem.n}")
    R = int(replicas)
    ids = np.arange(R, dtype=np.uint32)
    fn = _one_run(model, int(steps), int(every))

    if init is None:
        states = None
    else:
        states = check_states(init, model.n, model.native, R)

    def host_energy(s):
        return np.asarray(problem.energy(_problem_native(problem, s, model.native)), dtype=np.float64)

    seeds = np.array([run_seed(seed, r) for r in range(int(runs))], dtype=np.int64)
    run_best = []
    cum = []
    inits = []
    best_e = np.full(R, np.inf)
    best_s = None
    prev = None
    t_compile = 0.0
    t_run = 0.0
    for r in range(int(runs)):
        keys = nsr.replica_keys(int(seeds[r]), ids)
        if r == 0:
            # the engine's random start (init(None) draws exactly these from the init words)
            s0 = states if states is not None else np.asarray(model.random_states(nsr.step_words(keys, 0, salt=1)))
        else:
            s0 = prev if restart_from == "previous" else best_s
        inits.append(np.asarray(s0, np.int8))
        if r == 0:
            tc = time.perf_counter()
            compiled = fn.lower(jnp.asarray(s0, jnp.int8), keys).compile()
            t_compile = time.perf_counter() - tc
        t0 = time.perf_counter()
        arg = jnp.asarray(s0, jnp.int8)
        bs, _ = compiled(arg, keys)
        bs = np.asarray(jax.device_get(bs))
        t_run += time.perf_counter() - t0
        e = host_energy(bs)
        run_best.append(e)
        better = e < best_e
        best_s = bs.copy() if best_s is None else np.where(better[:, None], bs, best_s)
        best_e = np.where(better, e, best_e)
        cum.append(best_e.copy())
        prev = bs
        if callback is not None and callback(r, best_e.copy()):
            break
    k = int(np.argmin(best_e))
    return WarmStartResult(
        best_energy=float(best_e[k]), best_state=best_s[k].astype(np.int8), run_best=np.array(run_best),
        cumulative_best=np.array(cum), replica_best_state=best_s.astype(np.int8), run_init=np.array(inits),
        seeds=seeds[: len(run_best)], seconds=t_run, compile_seconds=t_compile,
    )
