"""Stochastic-refractory simulated-annealing neuron (SPEC §4.2; Pierro et al. 2024, arXiv:2408.03076).

QUBO-native: neuron i holds bit ``x_i`` and its synaptic input ``z_i = Σ_{j≠i} W_ij x_j`` where
``W_ij = 2 Q_ij`` is the pair coefficient (spikes carry the state change ±1). Every step all
neurons test a flip in parallel on the flip cost

    ΔC_i = (q_i + z_i) · (+1 if x_i = 0 else −1)          (q_i = Q_ii, the linear term)

and a neuron that flips becomes **refractory** for a random number of steps (default like Lava's
``SimulatedAnnealingLocal``: an 8-bit random number shifted right by ``refract_scaling``, 4 or
longer on dense problems, see ``auto_refract_scaling``), which
bounds how many neurons flip at once — the knob between parallel and sequential SA. A cost
integrator sums ``C_i = x_i (q_i + z_i / 2)`` into the total cost every step (on chip with 2 steps
of latency; here aligned with the state, so the engine's best-state capture is exact).

Acceptance (``acceptance=``):

* ``"exp"``: accept iff ``u < exp(−ΔC / T)`` (u uniform on the 2^-24 grid);
* ``"clz"``: the chip's exp-free test: accept iff ``ΔC < 0`` or ``r = 0`` or ``ΔC < T̂·clz(r)``
  with r a 24-bit random integer and ``T̂ = T / log2 e`` — i.e. ``P = 2^-min(⌊ΔC/T̂⌋+1, 24)``,
  a staircase within a factor 2 below ``exp(−ΔC/T)`` (½ at ΔC = 0).

Temperatures default to ``default_temperatures(problem)`` (from the Ising couplings: breaking a
typical bond is accepted with 1/e at the start, the weakest with 0.1 % at the end), annealed
geometrically over ``steps`` (linear and constant schedules too).

With ``hardware=LOIHI2`` (or any integer profile) the whole neuron runs in integers: W in
``weight_bits`` signed ints (auto-scaled, report in ``model.quantization``), bias and input in
saturating ``state_bits`` words (a sticky per-replica ``overflow`` flag is output), ``rng_bits``
random numbers, the clz test, and an integer annealer in a ``temperature_bits`` register (T̂ ≥ 1
with 8 extra fraction bits; linear ``T̂ −= ΔT̂`` or geometric ``T̂ = round(T̂·a / 2^15)`` every
``k`` steps, as in Lava's annealing process). Integer runs are bit-exact across jit/no-jit,
chunking and repeats.

Speed (CPU measurements in docs/loihi2.md): all random numbers of a step come from one counter
hash per neuron (24 bits for the test, 8 for the refractory period); a neuron's bit and
refractory counter share one int32 word; the field update is event-driven — the flips of all
replicas are compacted into one list (packed flip words, prefix counts, a popcount binary search)
and only those weight rows are added (dense rows, or ELL rows on sparse low-degree problems), or,
on a step with more than ``R·max_events`` flips, the field is recomputed with one product
(dense, or segment-sum on a sparse problem).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from neurosim import random as nsr
from neurosim._model import AbstractModel
from neurosim._synapses import AbstractSynapses, DenseSynapses, EllSynapses, SegmentSynapses, synapses
from neurosim.hardware._layer import ChipLayer, chip_layer
from neurosim.schedules import AbstractSchedule, Constant, Geometric, Linear

_LN2 = math.log(2.0)
_FRAC = 8  # fractional bits of the integer annealer's T̂ register
REFRACTORY = ("lava", "uniform", "constant", "none")


class SAState(NamedTuple):
    """State of R replicas. ``s`` packs each neuron's bit and refractory counter into one int32
    word (``x = s & 1``, ``refract = s >> 1``): one array written per step instead of two, which
    measured ~25 % faster on CPU (docs/loihi2.md)."""

    s: jax.Array  # int32 (R, n): bit 0 = x_i, bits 1.. = remaining refractory steps
    z: jax.Array  # (R, n) synaptic input Σ_j W_ij x_j (float32, or int32 on an integer profile)
    temp: jax.Array  # int32 (R,) T̂·2^8 register (integer profiles; 0 otherwise)
    overflow: jax.Array  # bool (R,) sticky: some state word saturated
    energy: jax.Array  # float32 (R,)

    @property
    def x(self):
        return (self.s & 1).astype(jnp.int8)

    @property
    def refract(self):
        return self.s >> 1


def default_temperatures(qubo) -> tuple[float, float]:
    """``(T_hot, T_cold)`` in problem units, from the Ising couplings ``J`` of the problem (its
    fields ``h`` when it has no couplings). Breaking one bond costs ``ΔE = 2|J_ij|``:

    * ``T_hot = 2·median|J|``: breaking a typical bond is accepted with probability 1/e;
    * ``T_cold = 2·min|J| / ln 1000``: breaking the weakest bond is accepted with probability 0.1 %
      (``min|J|`` floored at 1/100 of the median, so a stray tiny coupling cannot freeze the run).

    Measured on Gset G1/G15/G22 and MIS (docs/loihi2.md): the parallel refractory dynamics gains
    nothing above T_hot — the state there is as random as the initial one and every non-refractory
    neuron flips — so a hotter start (e.g. dwave-samplers' "largest ΔE accepted with ½", 50–240× hotter
    on these problems) spends most of an anneal in its most expensive, useless phase."""
    ising = qubo.to_ising()
    _, _, v = ising.J.coo()
    mags = np.abs(v[v != 0])
    if mags.size == 0:
        mags = np.abs(ising.h[ising.h != 0])
    if mags.size == 0:
        return 1.0, 0.01
    med = float(np.median(mags))
    low = max(float(mags.min()), med / 100.0)
    return 2.0 * med, 2.0 * low / math.log(1000.0)


def auto_refract_scaling(qubo) -> int:
    """Lava's refractory draw is ``b8 >> refract_scaling`` (mean period ``(255 >> s)/2``). Default:
    Lava-like ``s = 4`` (0…15 steps), lengthened on dense problems so that a neuron's neighbours do
    not flip together: the largest ``s ≤ 4`` with ``1 + mean period ≥ mean degree / 20``.

    Measured (4000 steps, 16 replicas): ``s = 4`` is the best of 2…6 on G1, G15, G22 and MIS with
    degree 50–150 (``s = 5`` is better on MIS but wrecks G1, whose neutral moves then oscillate);
    at degree 300 (MIS n = 1000, p = 0.3) ``s = 4`` leaves most replicas in a collective oscillation
    (mean set 2.3) and ``s = 3`` — what this rule picks there — gives 21.5 (docs/loihi2.md)."""
    n = qubo.n
    deg = qubo.Q.nnz / max(1, n)
    s = 4
    while s > 0 and 1 + (255 >> s) / 2 < deg / 20:
        s -= 1
    return s


class SA(AbstractModel):
    syn: AbstractSynapses  # event-driven row adds (dense up to n = 4096)
    full_syn: AbstractSynapses  # whole-field recompute on busy steps (segment-sum when sparse)
    q: jax.Array  # (n,) linear terms (float32, or int32 scaled)
    schedule: AbstractSchedule
    # integer annealer (used when hardware is an integer profile)
    # (int32 scalars, array leaves: a new schedule length does not recompile the step)
    t_hat0: jax.Array  # initial T̂·2^8
    t_hat_min: jax.Array
    t_hat_step: jax.Array  # linear: subtract; geometric: multiplier /2^15
    t_hat_every: jax.Array  # apply the step every this many steps
    anneal: str = eqx.field(static=True)
    acceptance: str = eqx.field(static=True)
    refractory: str = eqx.field(static=True)
    refract_scaling: int = eqx.field(static=True)
    refract_max: int = eqx.field(static=True)
    max_events: int = eqx.field(static=True)
    scale: float = eqx.field(static=True)
    offset: float = eqx.field(static=True)
    hardware: object = eqx.field(static=True)
    quantization: object = eqx.field(static=True)
    chip: ChipLayer = eqx.field(static=True)
    _n: int = eqx.field(static=True)
    _exact_energy: bool = eqx.field(static=True)  # the int32 cost sum cannot overflow
    _auto_events: bool = eqx.field(static=True, default=False)  # max_events defaulted (see _update_field)
    # (schedule name, T_start, T_end) when steps= was not given: the anneal follows the run (with_run_length)
    run_anneal: tuple | None = eqx.field(static=True, default=None)

    native = "qubo"
    observables = ("spikes", "temperature", "flips", "overflow")

    def __init__(
        self,
        problem,
        *,
        steps: int | None = None,
        schedule: AbstractSchedule | str = "geometric",
        T_start: float | None = None,
        T_end: float | None = None,
        acceptance: str | None = None,
        refractory: str = "lava",
        refract_scaling: int | str = "auto",
        refract_max: int = 15,
        synapse_format: str = "auto",
        max_events: int | None = None,
        hardware=None,
        scale: float | None = None,
    ):
        qubo = problem.to_qubo()
        n = qubo.n
        self._n = n
        if acceptance is None:
            acceptance = "clz" if (hardware is not None and hardware.metropolis == "clz") else "exp"
        if acceptance not in ("exp", "clz"):
            raise ValueError(f"acceptance must be 'exp' or 'clz', got {acceptance!r}")
        if hardware is not None and hardware.integer and acceptance != "clz":
            raise ValueError(f"acceptance={acceptance!r}: an integer profile ({hardware.name}) has no exp; use 'clz'")
        if refractory not in REFRACTORY:
            raise ValueError(f"refractory must be one of {REFRACTORY}, got {refractory!r}")
        if refract_scaling == "auto":
            refract_scaling = auto_refract_scaling(qubo)
        if not isinstance(refract_scaling, (int, np.integer)) or isinstance(refract_scaling, bool) or not 0 <= refract_scaling <= 8:
            raise ValueError(f"refract_scaling must be an int in 0..8 or 'auto', got {refract_scaling!r}")
        if not isinstance(refract_max, (int, np.integer)) or not 0 <= refract_max <= 255:
            raise ValueError(f"refract_max must be an int in 0..255, got {refract_max!r}")
        follow_run = steps is None and isinstance(schedule, str) and schedule != "constant"
        steps = 1000 if steps is None else steps  # laid out again over each run unless given
        if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 1:
            raise ValueError(f"steps must be a positive int (the annealing length), got {steps!r}")
        self.acceptance = acceptance
        self.refractory = refractory
        self.refract_scaling = int(refract_scaling)
        self.refract_max = int(refract_max)
        self.hardware = hardware

        hot, cold = default_temperatures(qubo)
        T0 = hot if T_start is None else float(T_start)
        T1 = cold if T_end is None else float(T_end)
        if not (T0 > 0 and T1 > 0 and math.isfinite(T0) and math.isfinite(T1)):
            raise ValueError(f"T_start and T_end must be finite and > 0, got {T0!r}, {T1!r}")
        self.run_anneal = (schedule, T0, min(T0, T1)) if follow_run else None
        if isinstance(schedule, str):
            kinds = {"geometric": Geometric, "linear": Linear, "constant": None}
            if schedule not in kinds:
                raise ValueError(f"schedule must be 'geometric', 'linear', 'constant' or a schedule object, got {schedule!r}")
            schedule = Constant(T0) if schedule == "constant" else kinds[schedule].anneal(T0, min(T0, T1), int(steps))
        if not isinstance(schedule, AbstractSchedule):
            raise ValueError(f"schedule must be a neurosim.schedules schedule or a name, got {type(schedule).__name__}")
        self.schedule = schedule

        W = qubo.Q.scaled(2.0)  # pair coefficients: what one spike delivers
        self.offset = float(qubo.offset)
        integer = hardware is not None and hardware.integer
        # mapping (refuses a problem that does not fit, with the numbers), quantisation and report
        self.chip = chip_layer(hardware, W, qubo.q, scale=scale if integer else None)
        if integer:
            qz = self.chip.quantization
            self.quantization = qz
            self.scale = qz.scale
            wdtype = self.chip.weight_dtype
            self.syn = synapses(self.chip.weights(W), format=_format(synapse_format, W), dtype=wdtype)
            self.full_syn = _full_synapses(self.syn, self.chip.weights(W), wdtype)
            self.q = jnp.asarray(self.chip.biases(qubo.q), dtype=jnp.int32)
            # |Σ x(2q + z)| ≤ 2Σ|q| + Σ|W| (saturation only shrinks |z|): int32 is exact below 2^31
            _, _, wq = qz.W.coo()
            bound = 2 * float(np.abs(qz.bias).sum()) + float(np.abs(wq).sum())
            self._exact_energy = bound < 2**31 - 1
            self.anneal, *ann = _integer_annealer(schedule, hardware, self.scale)
            self.t_hat0, self.t_hat_min, self.t_hat_step, self.t_hat_every = (jnp.int32(a) for a in ann)
        else:
            self.quantization = None
            self.scale = 1.0
            self.syn = synapses(W, format=_format(synapse_format, W), dtype=jnp.float32)
            self.full_syn = _full_synapses(self.syn, W, jnp.float32)
            self.q = jnp.asarray(qubo.q, dtype=jnp.float32)
            self.anneal = "float"
            self._exact_energy = True
            self.t_hat0, self.t_hat_min, self.t_hat_step, self.t_hat_every = (jnp.int32(a) for a in (0, 0, 0, 1))
        # Event-driven field update for up to max_events flips per replica and step.
        self._auto_events = max_events is None
        self.max_events = int(max_events) if max_events is not None else _default_max_events(n)
        if self.max_events < 1:
            raise ValueError(f"max_events must be ≥ 1, got {max_events!r}")

    # ------------------------------------------------------------------ contract
    @property
    def n(self) -> int:
        return self._n

    def with_run_length(self, steps: int) -> "SA":
        """The same model annealing over ``steps`` steps, unless ``steps=`` or a schedule object was given."""
        if self.run_anneal is None:
            return self
        kind, T0, T1 = self.run_anneal
        schedule = {"geometric": Geometric, "linear": Linear}[kind].anneal(T0, T1, int(steps))
        new = eqx.tree_at(lambda m: m.schedule, self, schedule)
        if self.anneal != "float":
            kind, *ann = _integer_annealer(schedule, self.hardware, self.scale)
            if kind != self.anneal:  # a static choice of the step (e.g. constant) would change: keep the model's
                return self
            new = eqx.tree_at(lambda m: (m.t_hat0, m.t_hat_min, m.t_hat_step, m.t_hat_every), new, tuple(jnp.int32(a) for a in ann))
        return new

    @property
    def integer(self) -> bool:
        return self.hardware is not None and self.hardware.integer

    def init(self, states, *, key):
        x = self.random_states(key) if states is None else jnp.asarray(states, jnp.int8)
        R = x.shape[0]
        overflow = jnp.zeros((R,), bool)
        if self.integer:
            z = self.syn.field(x.astype(jnp.int32)).astype(jnp.int32)
            z, over = self.chip.saturate(z)
            overflow = overflow | over
        else:
            z = self.syn.field(x.astype(jnp.float32))
        # Lava starts every neuron with a random refractory count; here they start free, so the
        # first step is a plain parallel Metropolis sweep (documented difference).
        temp = jnp.broadcast_to(self.t_hat0, (R,)).astype(jnp.int32)
        return SAState(x.astype(jnp.int32), z, temp, overflow, self._energy(x, z))

    def read(self, state):
        return state.x

    # ------------------------------------------------------------------ pieces
    def _energy(self, x, z):
        xi = x.astype(z.dtype)
        if self.integer:
            if not self._exact_energy:  # a huge problem: the int32 sum could wrap, sum in float32
                c = 0.5 * jnp.sum(xi.astype(jnp.float32) * (2 * self.q[None, :] + z).astype(jnp.float32), axis=-1)
                return c * jnp.float32(1.0 / self.scale) + jnp.float32(self.offset)
            # Σ x(2q + z) is even (Σ_i x_i z_i counts each pair twice): the halving is exact.
            c = jnp.sum(xi * (2 * self.q[None, :] + z), axis=-1) >> 1
            return c.astype(jnp.float32) * jnp.float32(1.0 / self.scale) + jnp.float32(self.offset)
        return jnp.sum(xi * (self.q[None, :] + 0.5 * z), axis=-1) + jnp.float32(self.offset)

    def _period(self, b8):
        """Refractory period from 8 random bits (int32)."""
        if self.refractory == "lava":
            return b8 >> self.refract_scaling
        if self.refractory == "uniform":
            return (b8 * (self.refract_max + 1)) >> 8
        if self.refractory == "constant":
            return jnp.full_like(b8, self.refract_max)
        return jnp.zeros_like(b8)

    def temperature(self, state, t):
        """Temperature in problem units (float32 (R,) or scalar)."""
        if self.integer:
            return state.temp.astype(jnp.float32) / jnp.float32(self.scale * _LN2 * (1 << _FRAC))
        return self.schedule(t)

    def _next_temp(self, temp, t):
        if not self.integer:
            return temp
        tick = ((t + 1) % self.t_hat_every) == 0
        if self.anneal == "linear":
            nxt = temp - self.t_hat_step
        elif self.anneal == "geometric":
            # round(temp · a / 2^15) exactly in int32: temp = hi·2^8 + lo, P = hi·a < 2^31, and
            # temp·a / 2^15 = (P >> 7) + ((P & 127)·2^8 + lo·a) / 2^15 (the last term < 2^24 / 2^15).
            # Round to nearest: a floor per tick would drift the schedule down by ~½ LSB per tick.
            a = self.t_hat_step
            P = (temp >> _FRAC) * a
            rest = ((P & ((1 << (15 - _FRAC)) - 1)) << _FRAC) + (temp & ((1 << _FRAC) - 1)) * a
            nxt = (P >> (15 - _FRAC)) + ((rest + (1 << 14)) >> 15)
        else:
            nxt = temp
        return jnp.where(tick, jnp.maximum(nxt, self.t_hat_min), temp)

    # ------------------------------------------------------------------ dynamics
    def step(self, state, t, *, key):
        s, z, temp, overflow, _ = state
        b = nsr.bits(key[:, None], nsr.counters(self._n, 0))  # (R, n): one hash per neuron and step
        x = s & 1
        up = x == 0  # the flip would be 0 → 1
        if self.integer:
            hw = self.chip
            local, over = hw.saturate(self.q[None, :] + z)
            overflow = overflow | over
            dC = jnp.where(up, local, -local)
            r = hw.random_int(b)
            # ΔC < T̂·clz(r) in fixed point: ΔC·2^8 < temp·clz. ΔC is clipped first (no T̂·clz
            # reaches 2^21), so the shift cannot overflow int32.
            dCf = jnp.minimum(dC, jnp.int32(1 << 21)) << _FRAC
            accept = (dC < 0) | (r == 0) | (dCf < temp[:, None] * hw.clz(r))
            T = self.temperature(state, t)
        else:
            T = self.schedule(t)
            local = self.q[None, :] + z
            dC = jnp.where(up, local, -local)
            if self.acceptance == "exp":
                # one reciprocal per step instead of a division per neuron
                accept = nsr.to_uniform(b) < jnp.exp(dC * (jnp.float32(-1.0) / T))
            else:
                r = b >> jnp.uint32(8)
                clz = jax.lax.clz(r).astype(jnp.float32) - 8.0
                accept = (dC < 0) | (r == 0) | (dC < T * jnp.float32(_LN2) * clz)
            T = jnp.broadcast_to(T, (s.shape[0],))
        if self.refractory == "none":
            s_new = s ^ accept.astype(jnp.int32)
        else:
            refract = s >> 1
            flip = accept & (refract == 0)
            b8 = (b & jnp.uint32(0xFF)).astype(jnp.int32)
            refract = jnp.where(flip, self._period(b8), jnp.maximum(refract - 1, 0))
            s_new = (refract << 1) | (x ^ flip.astype(jnp.int32))
        flip = ((s_new ^ s) & 1) != 0
        x_new = s_new & 1
        z, flips = self._update_field(z, x_new, flip)
        if self.integer:
            z, over = self.chip.saturate(z)
            overflow = overflow | over
        temp = self._next_temp(temp, t)
        e = self._energy(x_new, z)
        out = {"energy": e, "spikes": flip.astype(jnp.int8), "temperature": T, "flips": flips, "overflow": overflow}
        return SAState(s_new, z, temp, overflow, e), out

    def _update_field(self, z, x_new, flip):
        """``z += W·Δx``, event-driven. The flips of each replica are packed into 32-bit words
        (:func:`_pack`); the flips of *all* replicas form one list of L slots (:func:`_events`:
        prefix counts over replicas and words, a binary search inside the word), and only those L
        weight rows are added, each to its own replica (one scatter-add of rows). L is the smallest
        level in {0, …, 2^k, …, R·max_events} that holds every flip of the step; a step with more
        recomputes the field with one product over the whole matrix instead (``full_syn``: dense
        matmul, or segment-sum on a sparse problem). Returns ``(z, flips per replica)``.

        One list for all replicas, rather than K slots per replica, costs the flips that happened,
        not R × the busiest replica's: 2–8× fewer rows at 64–1024 replicas (measured)."""
        words = _pack(flip)
        count = jnp.sum(jax.lax.population_count(words), axis=-1).astype(jnp.int32)
        R = flip.shape[0]
        total = jnp.sum(count)

        def full(z):
            return self.full_syn.field(x_new.astype(z.dtype)).astype(z.dtype)

        if not isinstance(self.syn, (DenseSynapses, EllSynapses)) or (self._auto_events and R * self._n**2 <= _FULL_ONLY_MACS):
            return jax.lax.cond(total > 0, full, lambda z: z, z), count
        levels = _levels(R, self.max_events)

        def sparse(L):
            def f(z):
                rep, idx, ok = _events(words, count, L, self._n)
                xi = x_new[rep, idx].astype(z.dtype)
                d = jnp.where(ok, 2 * xi - 1, jnp.zeros((), z.dtype))  # +1: 0→1, −1: 1→0
                return self._add_rows(z, rep, idx, d)

            return f

        branches = [lambda z: z] + [sparse(L) for L in levels] + [full]
        which = jnp.sum(total > jnp.asarray((0,) + levels, jnp.int32)).astype(jnp.int32)
        return jax.lax.switch(which, branches, z), count

    def _add_rows(self, z, rep, idx, d):
        """``z[rep[e]] += d[e] · W[idx[e]]`` for every slot e (W symmetric, so rows = columns)."""
        if isinstance(self.syn, DenseSynapses):
            rows = jnp.take(self.syn.W, idx, axis=0).astype(z.dtype) * d[:, None]  # (L, n)
            return z.at[rep].add(rows)
        nb = jnp.take(self.syn.idx, idx, axis=0)  # (L, K) neighbours (padding: self, weight 0)
        w = jnp.take(self.syn.w, idx, axis=0).astype(z.dtype) * d[:, None]
        return z.at[rep[:, None], nb].add(w)


#: With max_events at its default, a run whose whole-field product costs at most this many
#: multiply-adds per step (R·n²: e.g. n = 100 with up to 104 replicas) recomputes the field on every
#: step with a flip instead of taking the event list: as fast there (n = 100: 2.2 vs 2.4 CPU-s for
#: 64 replicas × 20 000 steps) and it compiles 1.5-2.5x faster (one branch instead of 2-9 levels;
#: docs/benchmarks.md, "latency").
_FULL_ONLY_MACS = 1 << 20


def _levels(R: int, max_events: int) -> tuple:
    """Event-list lengths: powers of two from max(4, R/16) to R·max_events (at most ~10 levels:
    each is a compiled branch)."""
    top = R * max_events
    k = 4
    while k < R // 16:
        k *= 2
    out = []
    while k < top:
        out.append(k)
        k *= 2
    out.append(top)
    return tuple(out)


def _prefix(v):
    """Inclusive prefix sum of an int32 vector (log-depth scan; XLA's cumsum is a slow
    reduce-window on CPU)."""
    return jax.lax.associative_scan(jnp.add, v)


def _pack(flip):
    """bool (R, n) → uint32 (R, ⌈n/32⌉). With ``nm = n // 32`` full words, neuron ``i < 32·nm`` is
    bit ``i // nm`` of word ``i % nm`` (the reduction then runs over a major axis, which XLA
    vectorises over words) and the ``n mod 32`` remaining neurons are the bits of one last word.
    (Padding ``flip`` to a multiple of 32 instead made this 25× slower on CPU: XLA turned the
    padded reshape into a per-element gather.)"""
    R, n = flip.shape
    nm = n // 32
    parts = []
    if nm:
        f = flip[:, : 32 * nm].reshape(R, 32, nm).astype(jnp.uint32) << jnp.arange(32, dtype=jnp.uint32)[None, :, None]
        parts.append(jnp.sum(f, axis=1, dtype=jnp.uint32))
    tail = n - 32 * nm
    if tail:
        t = flip[:, 32 * nm :].astype(jnp.uint32) << jnp.arange(tail, dtype=jnp.uint32)[None, :]
        parts.append(jnp.sum(t, axis=1, dtype=jnp.uint32)[:, None])
    return parts[0] if len(parts) == 1 else jnp.concatenate(parts, axis=1)


def _events(words, count, L: int, n_neurons: int):
    """The first L flips over all replicas: ``(rep, idx, ok)``, each (L,) — slot e is neuron
    ``idx[e]`` of replica ``rep[e]``; ``ok[e]`` is False for padding slots (replica R−1, neuron 0).

    Slot e belongs to the replica whose prefix count of flips first exceeds e (a binary search
    over replicas); within it, a prefix count over words finds the word holding the flip and a
    5-step binary search with popcounts finds the bit. The cost does not depend on how the flips
    are spread over replicas and neurons."""
    R, nw = words.shape
    incl_r = _prefix(count)
    e = jnp.arange(L, dtype=jnp.int32)
    ok = e < incl_r[-1]
    rep = jnp.minimum(jnp.searchsorted(incl_r, e, side="right").astype(jnp.int32), R - 1)
    rank = e - (incl_r - count)[rep]
    cnt = jax.lax.population_count(words).astype(jnp.int32)
    if nw == 1:
        incl_w = cnt
    elif nw <= 128:
        # inclusive prefix over each replica's words as a small matmul (exact: counts ≤ 2^24)
        incl_w = jnp.matmul(cnt.astype(jnp.float32), np.triu(np.ones((nw, nw), np.float32))).astype(jnp.int32)
    else:
        incl_w = jax.lax.associative_scan(jnp.add, cnt, axis=1)
    incl = jnp.take(incl_w, rep, axis=0)  # (L, nw)
    wk = jnp.minimum(jnp.sum((incl <= rank[:, None]).astype(jnp.int32), axis=-1), nw - 1)
    excl = incl_w[rep, wk] - cnt[rep, wk]
    r = (rank - excl).astype(jnp.uint32)
    w = words[rep, wk]
    pos = jnp.zeros_like(w)
    for width in (16, 8, 4, 2, 1):
        c = jax.lax.population_count((w >> pos) & jnp.uint32((1 << width) - 1))
        go = r >= c
        r = jnp.where(go, r - c, r)
        pos = jnp.where(go, pos + jnp.uint32(width), pos)
    n = n_neurons
    nm = n // 32
    pos = pos.astype(jnp.int32)
    idx = pos * nm + wk if nm * 32 == n else jnp.where(wk < nm, pos * max(nm, 1) + wk, 32 * nm + pos)
    return rep, jnp.where(ok, idx, 0), ok


def _default_max_events(n: int) -> int:
    """Largest K for the event-driven update: a power of two near n/8 (K row adds of n cost about
    as much as one dense product at K ≈ n/5 on CPU; measured, docs/loihi2.md), at most 256."""
    k = 1
    while 2 * k <= min(256, max(1, n // 8)):
        k *= 2
    return k


def _sparse(W) -> bool:
    """Density below 1/32: a whole-field product over n² dense entries then costs more than the
    nonzeros' gathers (measured on CPU, docs/loihi2.md)."""
    return W.n > 64 and W.nnz < W.n * W.n / 32


def _full_synapses(syn, W, dtype):
    """Synapses for the whole-field recompute of busy steps: segment-sum on a sparse problem,
    else a dense product (the event synapses themselves when dense)."""
    if _sparse(W):
        return syn if isinstance(syn, SegmentSynapses) else synapses(W, format="segment", dtype=dtype)
    if isinstance(syn, DenseSynapses) or W.n > 4096:
        return syn
    return synapses(W, format="dense", dtype=dtype)


def _format(fmt: str, W) -> str:
    """Event synapses for 'auto': a flip adds one weight row, so the cheaper row wins — a dense row
    of n contiguous weights, or an ELL row of max-degree scattered adds (≈ 30× dearer per entry
    on CPU, measured). So ELL when ``30·max degree < n`` (e.g. G22: n = 2000, max degree 37),
    dense otherwise up to n = 4096 (G1, MIS), and the engine's own choice above."""
    if fmt != "auto":
        return fmt
    if W.n > 4096:
        return "auto"
    deg = W.degrees()
    return "ell" if 30 * int(deg.max(initial=0)) < W.n else "dense"


def _integer_annealer(schedule, hw, scale):
    """Lava-style integer annealer from a Constant/Linear/Geometric float schedule.

    The register holds T̂ in fixed point with ``_FRAC`` fractional bits below its
    ``temperature_bits`` integer part, so slow schedules keep their resolution at small T̂."""
    k = scale * _LN2 * (1 << _FRAC)  # T (problem units) → T̂ (weight units, fixed point)
    tmax = (hw.temperature_max << _FRAC) | ((1 << _FRAC) - 1)

    def q(T):
        return int(min(tmax, max(1 << _FRAC, round(float(T) * k))))

    if isinstance(schedule, Constant):
        return "constant", q(schedule.T0), q(schedule.T0), 0, 1
    if isinstance(schedule, Linear):
        t0, tmin = q(schedule.T0), q(schedule.T_min)
        d = float(schedule.dT) * k
        if d <= 0:
            return "constant", t0, t0, 0, 1
        # subtract every `every` steps a decrement ≥ 128 register units, so that rounding it to an
        # integer changes the slope by < 0.4 %
        every = 1 if d >= 128 else int(math.ceil(128 / d))
        return "linear", t0, tmin, int(round(d * every)), every
    if isinstance(schedule, Geometric):
        t0, tmin = q(schedule.T0), q(schedule.T_min)
        ratio = float(schedule.ratio)
        if ratio >= 1:
            return "constant", t0, t0, 0, 1
        # apply the multiplier every `every` steps, so that its decrement 2^15·(1 − ratio^every) is
        # ≥ 128 and rounding it to an integer changes the decay rate by < 0.4 %
        every = max(1, int(math.ceil(math.log(1 - 2.0**-8) / math.log(ratio)))) if ratio > 1 - 2.0**-8 else 1
        mult = int(round(ratio**every * 2**15))
        return "geometric", t0, tmin, max(1, min(mult, 2**15 - 1)), every
    raise ValueError(
        f"an integer profile anneals with Lava's integer annealer: schedule must be Constant, Linear or Geometric, "
        f"got {type(schedule).__name__}"
    )
