"""The model contract (see docs/design.md): a model is an ``eqx.Module`` bound to one problem."""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from . import random as nsr


class AbstractModel(eqx.Module):
    """Base class of all neuron models.

    Subclasses are final modules that build their synapses and constants from a problem in
    ``__init__`` and implement :meth:`init`, :meth:`step` and :meth:`read`. Everything in the state
    pytree carries the replica axis at ``state_replica_axis`` (0 or -1) in every array leaf of ndim ≥ 1.
    """

    #: "ising" (±1 variables) or "qubo" (0/1 variables)
    native: ClassVar[str] = "ising"
    #: replica axis of every array leaf in the state (0 or -1)
    state_replica_axis: ClassVar[int] = 0
    #: names of the per-step outputs this model provides, besides "energy"
    observables: ClassVar[tuple[str, ...]] = ()

    @property
    @abc.abstractmethod
    def n(self) -> int: ...

    @abc.abstractmethod
    def init(self, states, *, key) -> Any:
        """``states``: int8 (R, n) native variables, or None (random); ``key``: uint32[R]."""

    @abc.abstractmethod
    def step(self, state, t, *, key) -> tuple[Any, dict]:
        """One time step for all replicas. Outputs must include float32 ``"energy"`` of shape (R,)."""

    @abc.abstractmethod
    def read(self, state) -> jax.Array:
        """int8 (R, n) current native variables."""

    @property
    def default_best_every(self) -> int:
        return 1

    def with_run_length(self, steps: int) -> "AbstractModel":
        """This model with its annealing laid out over a run of ``steps`` steps.

        ``neurosim.run`` calls it at the start of every run, so a model's schedule follows the run it
        is used in. A model whose schedule length the user fixed (SA/NEBM ``steps=``, NeuroSA
        ``horizon=``/``delta=``, any explicit ``schedule`` object or ``temperature``) returns itself, as
        does a model without an annealing schedule (this default)."""
        return self

    def describe(self) -> dict:
        """JSON-friendly parameters (for results and checkpoints)."""
        out = {"model": type(self).__name__}
        for name, value in self.__dict__.items():
            if isinstance(value, (int, float, str, bool)):
                out[name] = value
        if "hardware" in self.__dict__:  # models that run under a chip profile
            hw, q = self.__dict__["hardware"], self.__dict__.get("quantization")
            chip = self.__dict__.get("chip")
            out["hardware"] = None if hw is None else hw.label()
            if q is not None:
                out["quantization"] = q.report()
            elif hw is not None and chip is not None:  # a float chip: say so rather than None
                out["quantization"] = chip.report()
        return out

    # helpers shared by models -------------------------------------------------------
    def random_states(self, key, n_replicas: int | None = None) -> jax.Array:
        """Uniformly random native variables from init words ``key`` (uint32[R])."""
        b = nsr.bits(key[:, None], nsr.counters(self.n, stream=255))
        bit = (b >> 31).astype(jnp.int8)
        return bit if self.native == "qubo" else (2 * bit - 1).astype(jnp.int8)


def check_states(states, n: int, native: str, n_replicas: int) -> np.ndarray:
    """Validate user initial states: shape (R, n) or (n,) (broadcast), values native (±1 or 0/1)."""
    s = np.asarray(states)
    if s.ndim == 1:
        s = np.broadcast_to(s, (n_replicas, s.shape[0]))
    if s.shape != (n_replicas, n):
        raise ValueError(f"initial states must have shape ({n_replicas}, {n}) or ({n},), got {s.shape}")
    allowed = (0, 1) if native == "qubo" else (-1, 1)
    if not np.all(np.isin(s, allowed)):
        raise ValueError(f"initial states must take values {allowed} for a {native}-native model")
    return s.astype(np.int8)
