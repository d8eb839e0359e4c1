"""Baseline: Gibbs (heat-bath) / Metropolis spins, sequential or synchronous (SPEC §4.4).

The textbook sampler every other model is checked against. Spins s ∈ {±1}; each replica keeps its
local fields ``f = J s + h`` and its energy, both updated event-driven (only spins that flipped send
their change to their neighbours).

* ``mode="sequential"`` (random scan): each step every replica picks one spin uniformly at random and
  resamples it. At fixed temperature this samples the Boltzmann distribution ``∝ exp(-H/T)`` exactly.
* ``mode="synchronous"``: each step every spin is resampled from the fields of the previous state
  (a different, well-known Markov chain; its stationary law is not Boltzmann in general).
* ``rule="gibbs"``: ``P(s_i = +1) = σ(2 f_i / T)``; ``rule="metropolis"``: flip with probability
  ``min(1, exp(-ΔH_i / T))``, ``ΔH_i = 2 s_i f_i``.
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from neurosim import random as nsr
from neurosim._model import AbstractModel
from neurosim._bitsynapses import BitSynapses, bit_cost_ok
from neurosim._synapses import AbstractSynapses, synapses
from neurosim.schedules import AbstractSchedule, Constant


class GibbsState(NamedTuple):
    s: jax.Array  # int8 (R, n)
    field: jax.Array  # float32 (R, n): J s + h
    energy: jax.Array  # float32 (R,)


class Gibbs(AbstractModel):
    syn: AbstractSynapses
    h: jax.Array
    offset: float = eqx.field(static=True)
    schedule: AbstractSchedule
    mode: str = eqx.field(static=True)
    rule: str = eqx.field(static=True)
    max_events: int = eqx.field(static=True)
    _n: int = eqx.field(static=True)

    native = "ising"
    observables = ("spikes", "temperature")

    def __init__(
        self,
        problem,
        *,
        mode: str = "sequential",
        rule: str = "gibbs",
        schedule: AbstractSchedule | None = None,
        temperature: float | None = None,
        synapse_format: str | None = None,
        max_events: int | None = None,
        hardware=None,
    ):
        if hardware is not None:
            raise ValueError("the Gibbs baseline is the float reference; it has no hardware profile (use model 'sa' or 'nebm')")
        if mode not in ("sequential", "synchronous"):
            raise ValueError(f"Gibbs mode must be 'sequential' or 'synchronous', got {mode!r}")
        if rule not in ("gibbs", "metropolis"):
            raise ValueError(f"Gibbs rule must be 'gibbs' or 'metropolis', got {rule!r}")
        if schedule is not None and temperature is not None:
            raise ValueError("give either schedule= or temperature=, not both")
        if temperature is not None and not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature!r}")
        ising = problem.to_ising()
        self._n = ising.n
        if synapse_format is None:
            # Synchronous steps change most fields at once. With small-integer couplings (Max-Cut,
            # MIS) a full recompute from bit-packed spins by popcount is the cheapest (G1, 1024
            # replicas: ~15× a dense float32 product, and cheaper than compacting the flipped spins
            # for an event-driven update; docs/performance.md). Otherwise a dense matrix product
            # beats sparse gathers at any density while W (n² float32) fits (G1: 119 M vs 11 M
            # updates/s). A sequential step touches one row: ELL (padded to the maximum degree)
            # keeps that O(degree), where the segment-sum format would recompute every field.
            if mode == "synchronous":
                synapse_format = "bits" if bit_cost_ok(ising.J) else "dense" if ising.n <= 4096 else "auto"
            else:
                synapse_format = "ell" if ising.n * max(1, int(ising.J.degrees().max(initial=1))) <= 50_000_000 else "auto"
        self.syn = synapses(ising.J, format=synapse_format, dtype=jnp.float32)
        self.h = jnp.asarray(ising.h, dtype=jnp.float32)
        self.offset = float(ising.offset)
        self.schedule = schedule if schedule is not None else Constant(1.0 if temperature is None else temperature)
        self.mode = mode
        self.rule = rule
        # Event-driven synchronous step: up to max_events flips per replica go through the sparse
        # column update; more than that falls back to a full matrix-vector product.
        self.max_events = int(max_events) if max_events is not None else max(1, min(self._n, 64))

    @property
    def n(self) -> int:
        return self._n

    @property
    def default_best_every(self) -> int:
        # A best-state copy costs O(n) per replica; a sequential step costs O(degree).
        return 1 if self.mode == "synchronous" else max(1, self._n // 4)

    # ------------------------------------------------------------------ state
    def _fields_energy(self, s):
        sf = s.astype(jnp.float32)
        f = self.syn.field(sf) + self.h
        e = -0.5 * jnp.sum(sf * (f + self.h), axis=-1) + self.offset
        return f, e

    def init(self, states, *, key):
        s = self.random_states(key) if states is None else jnp.asarray(states, jnp.int8)
        f, e = self._fields_energy(s)
        return GibbsState(s, f, e)

    def read(self, state):
        return state.s

    # ------------------------------------------------------------------ dynamics
    def _accept(self, s, f, T, u):
        """New spin values given fields, temperature and uniforms (same shapes)."""
        sf = s.astype(jnp.float32)
        if self.rule == "gibbs":
            p_up = jax.nn.sigmoid(2.0 * f / T)
            return jnp.where(u < p_up, 1, -1).astype(jnp.int8)
        dH = 2.0 * sf * f
        flip = u < jnp.exp(-dH / T)  # ΔH ≤ 0 ⇒ exp ≥ 1 > u: always accepted
        return jnp.where(flip, -s, s).astype(jnp.int8)

    def step(self, state, t, *, key):
        T = self.schedule(t)
        if self.mode == "sequential":
            return self._step_sequential(state, T, key)
        return self._step_synchronous(state, T, key)

    def _step_sequential(self, state, T, key):
        s, f, e = state
        R = s.shape[0]
        i = nsr.randint(nsr.bits(key, np.uint32(0x51ED270B)), self._n)  # (R,)
        u = nsr.uniform(key, np.uint32(0x2545F491))
        si = jnp.take_along_axis(s, i[:, None], axis=1)[:, 0]
        fi = jnp.take_along_axis(f, i[:, None], axis=1)[:, 0]
        new = self._accept(si, fi, T, u)
        d = (new - si).astype(jnp.float32)  # 0 or ±2
        s = s.at[jnp.arange(R), i].set(new)
        e = e - d * fi  # ΔH = -(s'-s) f_i
        f = self.syn.add_columns(f, i[:, None], d[:, None])
        spikes = jnp.zeros_like(s).at[jnp.arange(R), i].set((d != 0).astype(jnp.int8))
        return GibbsState(s, f, e), {"energy": e, "spikes": spikes, "temperature": T}

    def _step_synchronous(self, state, T, key):
        s, f, e = state
        u = nsr.uniform(key[:, None], nsr.counters(self._n, 0))
        new = self._accept(s, f, T, u)
        changed = new != s
        if isinstance(self.syn, BitSynapses):
            # full recompute by popcount: cheaper than any event list (see __init__)
            f = self.syn.field_spins(new) + self.h
            sf = new.astype(jnp.float32)
            e = -0.5 * jnp.sum(sf * (f + self.h), axis=-1) + self.offset
            return GibbsState(new, f, e), {"energy": e, "spikes": changed.astype(jnp.int8), "temperature": T}
        d = (new - s).astype(jnp.float32)
        count = jnp.sum(changed, axis=-1)
        K = self.max_events

        def sparse_update(f):
            # Compact the changed neurons of each replica (padding: index 0 with change 0).
            idx = jax.vmap(lambda c: jnp.nonzero(c, size=K, fill_value=0)[0])(changed)
            live = (jnp.arange(K)[None, :] < count[:, None]).astype(jnp.float32)
            dx = jnp.take_along_axis(d, idx, axis=1) * live
            return self.syn.add_columns(f, idx.astype(jnp.int32), dx)

        def dense_update(f):
            return self.syn.field(new.astype(jnp.float32)) + self.h

        f = jax.lax.cond(jnp.max(count) <= K, sparse_update, dense_update, f)
        sf = new.astype(jnp.float32)
        e = -0.5 * jnp.sum(sf * (f + self.h), axis=-1) + self.offset
        return GibbsState(new, f, e), {"energy": e, "spikes": changed.astype(jnp.int8), "temperature": T}
