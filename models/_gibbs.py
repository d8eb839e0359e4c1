"""Baseline: Gibbs (heat-bath) / Metropolis spins, sequential or synchronous (SPEC §4.4).

The textbook sampler every other model is checked against. Spins s ∈ {±1}; each replica keeps its
local fields ``f = J s + h`` and its energy, both updated event-driven (only spins that flipped send
their change to their neighbours).

* ``mode="sequential"`` (random scan): each step every replica picks one spin uniformly at random and
  resamples it. At fixed temperature this samples the Boltzmann distribution ``∝ exp(-H/T)`` exactly.
  ``sites="shared"`` (default): the tested spin is the same in every replica at a given step, drawn
  from ``(site_seed, step)`` only — each replica alone is exactly the random-scan chain, replicas are
  correlated only through the common site sequence — so the spins live as (n, R) rows and a step
  reads the tested spin's neighbour rows, contiguous over replicas (``neurosim._rowtable``; G1 with
  1024 replicas: 44 vs 1.2 M updates/s for per-replica sites). ``sites="independent"``: each replica draws its own
  spin (fully independent replicas; per-element gathers and scatters, slower).
* ``mode="synchronous"``: each step every spin is resampled from the fields of the previous state
  (a different, well-known Markov chain; its stationary law is not Boltzmann in general).
* ``rule="gibbs"``: ``P(s_i = +1) = σ(2 f_i / T)``; ``rule="metropolis"``: flip with probability
  ``min(1, exp(-ΔH_i / T))``, ``ΔH_i = 2 s_i f_i``.

Chip paths (``hardware=``, through the chip layer ``model.chip``, so the textbook reference can be
compared under the same limits as the chip models):

* ``SPINNAKER2`` (float chip): float32 arithmetic and the PE's 32-bit random words — the float
  reference's own arithmetic, plus the core mapping and the measured traffic in the result.
* ``LOIHI2`` (integer chip): ``J`` and ``h`` quantised to ``weight_bits`` with one common scale
  (``model.quantization``); the fields are integers (held exactly in float32 storage: the bound
  ``max_i Σ_j |J_ij| + |h_i| ≤ 2^(state_bits−1) − 1`` is checked when the model is built, so no
  state word can saturate and no overflow flag is needed); the heat-bath test is exp-free
  (``s_i = +1`` iff ``2 f_i > ⌊T_reg·L⌋`` with L the logistic variate of a ``rng_bits`` random
  integer, ``chip.heat_bath``) and the Metropolis test is the clz staircase (``chip.metropolis``),
  with the temperature register taken from the schedule each step (``round(T·scale·2^8)``
  resp. ``T̂ = round(T·scale·ln 2)``; on chip the host broadcasts it). Bit-exact across runs.
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
from neurosim._rowtable import RowTable
from neurosim._synapses import AbstractSynapses, synapses
from neurosim.hardware._layer import ChipLayer, chip_layer
from neurosim.schedules import AbstractSchedule, Constant, Geometric

from ._sa import default_temperatures


class GibbsState(NamedTuple):
    s: jax.Array  # int8 (R, n)
    field: jax.Array  # float32 (R, n): J s + h
    energy: jax.Array  # float32 (R,)


class ScanState(NamedTuple):
    """Shared-site random scan: replicas minor. ``site``/``row``/``field`` describe the spin tested at
    the next step, read after this step's write (so no read of the old spin array forces XLA to copy it)."""

    s: jax.Array  # int8 (n, R)
    energy: jax.Array  # float32 (R,)
    site: jax.Array  # int32 ()
    row: jax.Array  # int8 (R,): s[site]
    field: jax.Array  # float32 (R,): (J s + h)[site]


class Gibbs(AbstractModel):
    syn: AbstractSynapses
    h: jax.Array
    table: RowTable | None
    site_key: jax.Array
    offset: float = eqx.field(static=True)
    schedule: AbstractSchedule
    mode: str = eqx.field(static=True)
    rule: str = eqx.field(static=True)
    sites: str = eqx.field(static=True)
    max_events: int = eqx.field(static=True)
    hardware: object = eqx.field(static=True)
    quantization: object = eqx.field(static=True)
    chip: ChipLayer = eqx.field(static=True)
    _n: int = eqx.field(static=True)
    # (T_hot, T_cold) when neither schedule= nor temperature= was given: a geometric anneal that follows the run
    run_anneal: tuple | None = eqx.field(static=True, default=None)
    # (scale, fmax) when the fields lie on the lattice 1/scale: the shared-site scan can then run in
    # the compiled kernel of neurosim/_fastscan.py (bit-identical); None otherwise
    scan_lattice: tuple | None = eqx.field(static=True, default=None)
    scan_min_replicas: int = eqx.field(static=True, default=1)

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
        sites: str = "shared",
        site_seed: int = 0,
        hardware=None,
    ):
        if mode not in ("sequential", "synchronous"):
            raise ValueError(f"Gibbs mode must be 'sequential' or 'synchronous', got {mode!r}")
        if sites not in ("shared", "independent"):
            raise ValueError(f"Gibbs sites must be 'shared' or 'independent', got {sites!r}")
        if not isinstance(site_seed, (int, np.integer)):
            raise ValueError(f"site_seed must be an integer, got {site_seed!r}")
        if rule not in ("gibbs", "metropolis"):
            raise ValueError(f"Gibbs rule must be 'gibbs' or 'metropolis', got {rule!r}")
        if schedule is not None and temperature is not None:
            raise ValueError("give either schedule= or temperature=, not both")
        if temperature is not None and not (isinstance(temperature, (int, float, np.floating)) and 0 < temperature < float("inf")):
            raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
        ising = problem.to_ising()
        self._n = ising.n
        # mapping (refuses a problem that does not fit, with the numbers), quantisation and report
        self.hardware = hardware
        self.chip = chip_layer(hardware, ising.J, ising.h, updates="one" if mode == "sequential" else "all")
        self.quantization = self.chip.quantization
        if self.chip.integer:
            ising = _quantised_ising(ising, self.chip)
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
        if schedule is None and temperature is None:  # anneal by default, over the run it is used in (with_run_length)
            self.run_anneal = default_temperatures(problem.to_ising())
            schedule = Geometric.anneal(*self.run_anneal, 1000)
        self.schedule = schedule if schedule is not None else Constant(temperature)
        self.mode = mode
        self.rule = rule
        self.sites = sites if mode == "sequential" else "independent"
        self.table = RowTable(ising.J) if self.sites == "shared" else None
        if self.table is not None and hardware is None:
            from neurosim._fastscan import plan

            self.scan_lattice, self.scan_min_replicas = plan(self.table, self.h)
        self.site_key = nsr.replica_keys(int(site_seed), np.array([0xFFFFFFFF], dtype=np.uint32))[0]
        # Event-driven synchronous step: up to max_events flips per replica go through the sparse
        # column update; more than that falls back to a full matrix-vector product.
        self.max_events = int(max_events) if max_events is not None else max(1, min(self._n, 64))

    @property
    def n(self) -> int:
        return self._n

    def with_run_length(self, steps: int) -> "Gibbs":
        """The default anneal laid out over ``steps`` steps (a given schedule or temperature is kept)."""
        if self.run_anneal is None:
            return self
        return eqx.tree_at(lambda m: m.schedule, self, Geometric.anneal(*self.run_anneal, int(steps)))

    @property
    def state_replica_axis(self) -> int:
        return -1 if self.sites == "shared" else 0

    @property
    def default_best_every(self) -> int:
        # A best-state copy costs O(n) per replica (plus a transpose of the (n, R) spins when the sites
        # are shared); a sequential step costs O(degree).
        if self.mode == "synchronous":
            return 1
        return max(1, self._n if self.sites == "shared" else self._n // 4)

    # ------------------------------------------------------------------ state
    def _fields_energy(self, s):
        sf = s.astype(jnp.float32)
        f = self.syn.field(sf) + self.h
        return f, self._energy_of(sf, f)

    def _energy_of(self, sf, f):
        e = -0.5 * jnp.sum(sf * (f + self.h), axis=-1)
        return self._to_problem_units(e) + self.offset

    def _to_problem_units(self, e):
        """Integer-profile energies and their changes are in weight units; the float paths' are not scaled."""
        return e * jnp.float32(1.0 / self.chip.scale) if self.chip.integer else e

    def init(self, states, *, key):
        s = self.random_states(key) if states is None else jnp.asarray(states, jnp.int8)
        f, e = self._fields_energy(s)
        if self.sites == "shared":
            st = s.T
            return ScanState(st, e, *self._prefetch(st, jnp.int32(0)))
        return GibbsState(s, f, e)

    def read(self, state):
        return state.s.T if self.sites == "shared" else state.s

    def _site(self, t):
        """The spin tested at step(s) ``t`` (shared sites): a function of (site_seed, t) only."""
        return nsr.randint(nsr.bits(nsr.step_words(self.site_key, t), np.uint32(0)), self._n)

    def _prefetch(self, s, t):
        """The spin tested at step ``t``, its value and its field in every replica (s: (n, R))."""
        i = self._site(t)
        row = jax.lax.dynamic_index_in_dim(s, i, 0, keepdims=False)
        return i, row, self.table.row_sum(s, i, init=self.h[i])

    def _with_prefetch(self, s, energy, t_next):
        return ScanState(s, energy, *self._prefetch(s, t_next))

    def fused_steps(self, state, t_start, nsteps: int, keys):
        """``nsteps`` shared-site scan steps in one compiled kernel where it applies (CPU, float, fields
        on a lattice: ``neurosim/_fastscan.py``; bit-identical to :meth:`step`), else None."""
        from neurosim import _fastscan

        if not _fastscan.eligible(self, state):
            return None
        return _fastscan.scan_steps(self, state, t_start, nsteps, keys)

    def fused_blocks(self, state, best_e, best_s, t_start, n_blocks: int, block: int, keys):
        """As :meth:`fused_steps` for ``n_blocks`` capture blocks with the engine's best-state capture
        after each: (state, best_e, best_s, energy after each block (n_blocks, R)), or None."""
        from neurosim import _fastscan

        if not _fastscan.eligible(self, state):
            return None
        return _fastscan.scan_blocks(self, state, best_e, best_s, t_start, n_blocks, block, keys)

    # ------------------------------------------------------------------ dynamics
    def _accept(self, s, f, T, b):
        """New spin values given fields, temperature and random hash words (same shapes)."""
        if self.chip.integer:  # exp-free integer tests (chip layer); f holds exact integers
            fi = f.astype(jnp.int32)
            if self.rule == "gibbs":
                return jnp.where(self.chip.heat_bath(2 * fi, T, b), 1, -1).astype(jnp.int8)
            flip = self.chip.metropolis(2 * s.astype(jnp.int32) * fi, T, b)
            return jnp.where(flip, -s, s).astype(jnp.int8)
        u = nsr.to_uniform(b)
        if self.rule == "gibbs":
            return jnp.where(u < self._acceptance(f, T), 1, -1).astype(jnp.int8)
        flip = u < self._acceptance(s.astype(jnp.float32) * f, T)  # ΔH ≤ 0 ⇒ exp ≥ 1 > u: always accepted
        return jnp.where(flip, -s, s).astype(jnp.int8)

    def _acceptance(self, v, T):
        """Float rules: P(s = +1) = σ(2f/T) of the field ``v = f`` (heat bath), or the Metropolis
        acceptance exp(−ΔH/T) with ΔH = 2·s·f of ``v = s·f`` (s·f and 2·s·f are exact). The compiled
        scan tabulates this same expression (neurosim/_fastscan.py)."""
        if self.rule == "gibbs":
            return jax.nn.sigmoid(2.0 * v / T)
        return jnp.exp(-(2.0 * v) / T)

    def step(self, state, t, *, key):
        T = self.schedule(t)
        if self.sites == "shared":
            return self._step_shared(state, t, T, key)
        if self.mode == "sequential":
            return self._step_sequential(state, T, key)
        return self._step_synchronous(state, T, key)

    def _step_sequential(self, state, T, key):
        s, f, e = state
        R = s.shape[0]
        i = nsr.randint(nsr.bits(key, np.uint32(0x51ED270B)), self._n)  # (R,)
        b = nsr.bits(key, np.uint32(0x2545F491))
        si = jnp.take_along_axis(s, i[:, None], axis=1)[:, 0]
        fi = jnp.take_along_axis(f, i[:, None], axis=1)[:, 0]
        new = self._accept(si, fi, T, b)
        d = (new - si).astype(jnp.float32)  # 0 or ±2
        s = s.at[jnp.arange(R), i].set(new)
        e = e - self._to_problem_units(d * fi)  # ΔH = -(s'-s) f_i
        f = self.syn.add_columns(f, i[:, None], d[:, None])
        spikes = jnp.zeros_like(s).at[jnp.arange(R), i].set((d != 0).astype(jnp.int8))
        return GibbsState(s, f, e), {"energy": e, "spikes": spikes, "temperature": T}

    def _step_shared(self, state, t, T, key):
        s, e, i, row, fi = state
        b = nsr.bits(key, np.uint32(0x2545F491))
        new = self._accept(row, fi, T, b)
        d = (new - row).astype(jnp.float32)  # 0 or ±2
        s = jax.lax.dynamic_update_index_in_dim(s, new, i, 0)
        e = e - self._to_problem_units(d * fi)  # ΔH = -(s'-s) f_i
        nxt = self._prefetch(s, t + 1)  # all reads of s after the write (see ScanState)
        ii = jnp.broadcast_to(i, row.shape)
        spikes = jnp.where(jnp.arange(self._n)[None, :] == ii[:, None], (d != 0).astype(jnp.int8)[:, None], jnp.int8(0))
        return ScanState(s, e, *nxt), {"energy": e, "spikes": spikes, "temperature": T}

    def _step_synchronous(self, state, T, key):
        s, f, e = state
        b = nsr.bits(key[:, None], nsr.counters(self._n, 0))
        new = self._accept(s, f, T, b)
        changed = new != s
        if isinstance(self.syn, BitSynapses):
            # full recompute by popcount: cheaper than any event list (see __init__)
            f = self.syn.field_spins(new) + self.h
            e = self._energy_of(new.astype(jnp.float32), f)
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
        e = self._energy_of(new.astype(jnp.float32), f)
        return GibbsState(new, f, e), {"energy": e, "spikes": changed.astype(jnp.int8), "temperature": T}


def _quantised_ising(ising, chip):
    """The Ising problem with the chip layer's integer couplings and fields (weight units), after
    checking that no field can leave the state word (so the fields never saturate)."""
    from neurosim._problems import Ising

    J, h = chip.weights(ising.J), chip.biases(ising.h).astype(np.float64)
    r, _, v = J.coo()
    bound = np.bincount(r, weights=np.abs(v), minlength=ising.n) + np.abs(h)
    worst = int(np.argmax(bound)) if ising.n else 0
    hw = chip.profile
    if ising.n and bound[worst] > hw.state_max:
        raise ValueError(
            f"{hw.name}: the field of spin {worst} can reach {bound[worst]:.0f} weight units (scale {chip.scale:.4g}), "
            f"outside the {hw.state_bits}-bit state word (±{hw.state_max}); lower weight_bits or raise state_bits"
        )
    return Ising(J, h, ising.offset, name=getattr(ising, "name", "ising"))
