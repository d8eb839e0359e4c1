"""One neurosim run on a dimod BQM, returned as a ``dimod.SampleSet`` (the body of ``NeurosimSampler``)."""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np

from ._ocean_bqm import _dimod, from_bqm

#: Sweeps (steps per variable) of a default run for models that update one variable per step.
SEQUENTIAL_SWEEPS = 100
#: Steps of a default run for models that test every variable each step (SA's own default).
PARALLEL_STEPS = 1000


def _is_sequential(cls, params: dict) -> bool:
    """Does one step of this model update one variable (Gibbs random scan, NeuroSA)?"""
    from neurosim.models import Gibbs, NeuroSA

    if cls is Gibbs:
        return params.get("mode", "sequential") == "sequential"
    return cls is NeuroSA


def default_steps(model, n: int, **params) -> int:
    """Steps of a run when the caller gives none: ``PARALLEL_STEPS`` for models whose step tests every
    variable (SA, NEBM, synchronous Gibbs), ``SEQUENTIAL_SWEEPS`` sweeps of n single-variable steps
    (at least ``PARALLEL_STEPS``) for random-scan models (Gibbs, NeuroSA)."""
    cls = _model_class(model)
    if _is_sequential(cls, params):
        return max(PARALLEL_STEPS, SEQUENTIAL_SWEEPS * int(n))
    return PARALLEL_STEPS


def _model_class(model):
    from neurosim._model import AbstractModel
    from neurosim.models import MODELS

    if isinstance(model, str):
        if model.lower() not in MODELS:
            raise ValueError(f"unknown model {model!r}; available: {', '.join(sorted(MODELS))}")
        return MODELS[model.lower()]
    if isinstance(model, type) and issubclass(model, AbstractModel):
        return model
    raise ValueError(f"model must be a name in neurosim.models.MODELS or a model class, got {model!r}")


def _hardware(hardware):
    if hardware is None or not isinstance(hardware, str):
        return hardware
    from neurosim.hardware import PROFILES

    if hardware.lower() not in PROFILES:
        raise ValueError(f"unknown hardware profile {hardware!r}; available: {', '.join(sorted(PROFILES))}")
    return PROFILES[hardware.lower()]


def _build(cls, problem, steps: int, hardware, params: dict):
    """The model on ``problem``. Annealing models lay their default schedule out over the run
    themselves (``AbstractModel.with_run_length``; Gibbs anneals by default); a schedule given by name
    to Gibbs (``schedule="linear"``, optional ``T_start``/``T_end``) spans the run here."""
    from neurosim.models import Gibbs
    from neurosim.models._sa import default_temperatures
    from neurosim.schedules import SCHEDULES

    params = dict(params)
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "problem")]
    sched = params.get("schedule")
    if cls is Gibbs and isinstance(sched, str) and sched in SCHEDULES:
        hot, cold = default_temperatures(problem)
        T0, T1 = params.pop("T_start", hot), params.pop("T_end", cold)
        params["schedule"] = SCHEDULES[sched].anneal(float(T0), float(min(T0, T1)), int(steps))
    unknown = [k for k in params if k not in accepted]
    if unknown:
        raise ValueError(f"model {cls.__name__} has no parameter(s) {unknown}; it accepts: {', '.join(accepted)}")
    if hardware is not None:
        params["hardware"] = hardware
    return cls(problem, **params)


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _in_vartype(states: np.ndarray, native: str, vartype) -> np.ndarray:
    """Model-native int8 states (±1 or 0/1) in the BQM's variables."""
    dimod = _dimod()
    spin = vartype is dimod.SPIN
    if (native == "ising") == spin:
        return states.astype(np.int8)
    return (2 * states - 1).astype(np.int8) if spin else ((states + 1) // 2).astype(np.int8)


def _info(result, model_cls, steps, seed) -> dict:
    info = {
        "timing": {"compile": float(result.time_compile), "run": float(result.time_run)},
        "device": result.device,
        "hardware": result.hardware,
        "mapping": getattr(result, "mapping", None),
        "model": model_cls.__name__,
        "params": result.params,
        "steps": int(steps),
        "seed": int(seed),
    }
    chip = getattr(result, "chip", None)
    if chip is not None:
        info["chip"] = chip
    return info


def run_bqm(bqm, *, model="sa", hardware=None, num_reads: int = 10, steps=None, seed=None, model_params=None):
    """Run ``model`` for ``steps`` steps on ``num_reads`` replicas of ``bqm``; a ``dimod.SampleSet``."""
    import neurosim as ns

    dimod = _dimod()
    num_reads = _positive_int("num_reads", num_reads)
    seed = int(np.random.default_rng().integers(2**31)) if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2^32), got {seed!r}")
    cls = _model_class(model)
    params = dict(model_params or {})
    if not isinstance(bqm, dimod.BinaryQuadraticModel):
        raise ValueError(f"sample expects a dimod.BinaryQuadraticModel, got {type(bqm).__name__}")
    if bqm.num_variables == 0:  # nothing to sample: every read is the empty state at the offset
        empty = np.zeros((num_reads, 0), dtype=np.int8)
        return dimod.SampleSet.from_samples_bqm((empty, []), bqm, info={"model": cls.__name__, "steps": 0, "seed": int(seed)})
    problem, labels = from_bqm(bqm)
    steps = default_steps(cls, problem.n, **params) if steps is None else _positive_int("steps", steps)
    # The model runs on the problem in its own form without the offset: the offset changes no
    # dynamics, and leaving it out lets BQMs that differ only there share compiled code.
    native = problem.to_qubo() if cls.native == "qubo" else problem.to_ising()
    bare = dataclasses.replace(native, offset=0.0)
    m = _build(cls, bare, steps, _hardware(hardware), params)
    result = ns.run(m, bare, steps=steps, replicas=num_reads, seed=int(seed))
    samples = _in_vartype(np.asarray(result.best_state), m.native, bqm.vartype)
    sampleset = dimod.SampleSet.from_samples_bqm((samples, labels), bqm, info=_info(result, cls, steps, seed))
    _check_energies(sampleset.record.energy, result.best_energy + native.offset, bqm)
    return sampleset


def _check_energies(dimod_energy, neurosim_energy, bqm) -> None:
    """dimod's energies (from the BQM) and neurosim's (from the problem, float64) must agree: a
    disagreement means the conversion is wrong, never something to return silently."""
    scale = 1.0 + max(abs(float(bqm.offset)), float(np.max(np.abs(neurosim_energy))))
    tol = (1e-5 if np.dtype(bqm.dtype) == np.float32 else 1e-9) * scale
    bad = np.abs(np.asarray(dimod_energy, np.float64) - neurosim_energy) > tol
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise RuntimeError(f"read {k}: dimod's energy {dimod_energy[k]!r} differs from neurosim's {neurosim_energy[k]!r}")
