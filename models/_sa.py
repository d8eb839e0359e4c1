"""Stochastic-refractory simulated-annealing neuron (SPEC §4.2; Pierro et al. 2024, arXiv:2408.03076).

QUBO-native: neuron i holds bit ``x_i`` and its synaptic input ``z_i = Σ_{j≠i} W_ij x_j`` where
``W_ij = 2 Q_ij`` is the pair coefficient (spikes carry the state change ±1). Every step all
neurons test a flip in parallel on the flip cost

    ΔC_i = (q_i + z_i) · (+1 if x_i = 0 else −1)          (q_i = Q_ii, the linear term)

and a neuron that flips becomes **refractory** for a random number of steps (default like Lava's
``SimulatedAnnealingLocal``: an 8-bit random number shifted right by ``refract_scaling``), which
bounds how many neurons flip at once — the knob between parallel and sequential SA. A cost
integrator sums ``C_i = x_i (q_i + z_i / 2)`` into the total cost every step (on chip with 2 steps
of latency; here aligned with the state, so the engine's best-state capture is exact).

Acceptance (``acceptance=``):

* ``"exp"``: accept iff ``u < exp(−ΔC / T)`` (u uniform on the 2^-24 grid);
* ``"clz"``: the chip's exp-free test: accept iff ``ΔC < 0`` or ``r = 0`` or ``ΔC < T̂·clz(r)``
  with r a 24-bit random integer and ``T̂ = T / log2 e`` — i.e. ``exp(−ΔC/T)`` rounded down to a
  power of two, ``P = 2^-min(⌊ΔC/T̂⌋+1, 24)``.

With ``hardware=LOIHI2`` (or any integer profile) the whole neuron runs in integers: W in
``weight_bits`` signed ints (auto-scaled, report in ``model.quantization``), bias and input in
saturating ``state_bits`` words (a sticky per-replica ``overflow`` flag is output), ``rng_bits``
random numbers, the clz test, and an integer annealer in a ``temperature_bits`` register (the
schedule's T̂ kept in the state: linear ``T̂ −= ΔT̂`` or geometric ``T̂ = (T̂·a) >> 15`` every
``k`` steps, as in Lava's annealing process). Integer runs are bit-exact across jit/no-jit,
chunking and repeats.

Speed: the field update is event-driven — only neurons that flipped send their ±1 through
``synapses.add_columns`` (at most ``max_events`` per replica per step, else one full product) —
and all random numbers of a step come from one counter hash per neuron (24 bits for the test,
the other 8 for the refractory period).
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
from neurosim._synapses import AbstractSynapses, synapses
from neurosim.schedules import AbstractSchedule, Constant, Geometric, Linear

_LN2 = math.log(2.0)
_FRAC = 8  # fractional bits of the integer annealer's T̂ register
REFRACTORY = ("lava", "uniform", "constant", "none")


class SAState(NamedTuple):
    x: jax.Array  # int8 (R, n) bits
    z: jax.Array  # (R, n) synaptic input Σ_j W_ij x_j (float32, or int32 on an integer profile)
    refract: jax.Array  # int32 (R, n) remaining refractory steps
    temp: jax.Array  # int32 (R,) T̂·2^8 register (integer profiles; 0 otherwise)
    overflow: jax.Array  # bool (R,) sticky: some state word saturated
    energy: jax.Array  # float32 (R,)


def default_temperatures(qubo) -> tuple[float, float]:
    """``(T_hot, T_cold)`` in problem units: at T_hot the largest possible |ΔC| is accepted with
    probability ½; at T_cold the smallest nonzero coupling |ΔC| with probability 1 % (the recipe
    dwave-samplers uses for its default β range)."""
    ising = qubo.to_ising()
    r, _, v = ising.J.coo()
    field = np.bincount(r, weights=np.abs(v), minlength=ising.n) + np.abs(ising.h)
    hot = 2.0 * float(field.max(initial=0.0))
    nz = np.abs(v[v != 0])
    hz = np.abs(ising.h[ising.h != 0])
    cold = 2.0 * float(min(nz.min(initial=np.inf), hz.min(initial=np.inf)))
    if not np.isfinite(cold) or hot == 0:
        return 1.0, 0.01
    return hot / _LN2, cold / math.log(100.0)


class SA(AbstractModel):
    syn: AbstractSynapses
    q: jax.Array  # (n,) linear terms (float32, or int32 scaled)
    schedule: AbstractSchedule
    # integer annealer (used when hardware is an integer profile)
    t_hat0: int = eqx.field(static=True)
    t_hat_min: int = eqx.field(static=True)
    t_hat_step: int = eqx.field(static=True)  # linear: subtract; geometric: multiplier /2^15
    t_hat_every: int = eqx.field(static=True)
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
    _n: int = eqx.field(static=True)

    native = "qubo"
    observables = ("spikes", "temperature", "flips", "overflow")

    def __init__(
        self,
        problem,
        *,
        steps: int = 1000,
        schedule: AbstractSchedule | str = "geometric",
        T_start: float | None = None,
        T_end: float | None = None,
        acceptance: str | None = None,
        refractory: str = "lava",
        refract_scaling: int = 4,
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
        if not isinstance(refract_scaling, (int, np.integer)) or not 0 <= refract_scaling <= 8:
            raise ValueError(f"refract_scaling must be an int in 0..8, got {refract_scaling!r}")
        if not isinstance(refract_max, (int, np.integer)) or not 0 <= refract_max <= 255:
            raise ValueError(f"refract_max must be an int in 0..255, got {refract_max!r}")
        if not isinstance(steps, (int, np.integer)) or steps < 1:
            raise ValueError(f"steps must be a positive int (the annealing length), got {steps!r}")
        self.acceptance = acceptance
        self.refractory = refractory
        self.refract_scaling = int(refract_scaling)
        self.refract_max = int(refract_max)
        self.hardware = hardware

        hot, cold = default_temperatures(qubo)
        T0 = hot if T_start is None else float(T_start)
        T1 = cold if T_end is None else float(T_end)
        if not (T0 > 0 and T1 > 0):
            raise ValueError(f"T_start and T_end must be > 0, got {T0!r}, {T1!r}")
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
        if hardware is not None and hardware.integer:
            hardware.map(W)  # refuses (ValueError with the numbers) if it does not fit the chips
            qz = hardware.quantize(W, qubo.q, scale=scale)
            self.quantization = qz
            self.scale = qz.scale
            wdtype = jnp.dtype(f"int{8 if hardware.weight_bits <= 8 else 16}")
            self.syn = synapses(qz.W, format=_format(synapse_format, n), dtype=wdtype)
            self.q = jnp.asarray(qz.bias, dtype=jnp.int32)
            self.anneal, self.t_hat0, self.t_hat_min, self.t_hat_step, self.t_hat_every = _integer_annealer(
                schedule, hardware, self.scale
            )
        else:
            if hardware is not None:
                hardware.map(W)
            self.quantization = None
            self.scale = 1.0
            self.syn = synapses(W, format=_format(synapse_format, n), dtype=jnp.float32)
            self.q = jnp.asarray(qubo.q, dtype=jnp.float32)
            self.anneal, self.t_hat0, self.t_hat_min, self.t_hat_step, self.t_hat_every = "float", 0, 0, 0, 1
        # Event-driven field update for up to max_events flips per replica and step.
        self.max_events = int(max_events) if max_events is not None else max(1, min(n, 64))
        if self.max_events < 1:
            raise ValueError(f"max_events must be ≥ 1, got {max_events!r}")

    # ------------------------------------------------------------------ contract
    @property
    def n(self) -> int:
        return self._n

    @property
    def integer(self) -> bool:
        return self.hardware is not None and self.hardware.integer

    def describe(self) -> dict:
        d = super().describe()
        d["hardware"] = None if self.hardware is None else self.hardware.label()
        if self.quantization is not None:
            d["quantization"] = self.quantization.report()
        return d

    def init(self, states, *, key):
        x = self.random_states(key) if states is None else jnp.asarray(states, jnp.int8)
        R = x.shape[0]
        overflow = jnp.zeros((R,), bool)
        if self.integer:
            z = self.syn.field(x.astype(jnp.int32)).astype(jnp.int32)
            z, over = self.hardware.saturate(z)
            overflow = overflow | over
        else:
            z = self.syn.field(x.astype(jnp.float32))
        # Lava starts every neuron with a random refractory count; here they start free, so the
        # first step is a plain parallel Metropolis sweep (documented difference).
        refract = jnp.zeros(x.shape, jnp.int32)
        temp = jnp.full((R,), self.t_hat0, jnp.int32)
        return SAState(x, z, refract, temp, overflow, self._energy(x, z))

    def read(self, state):
        return state.x

    # ------------------------------------------------------------------ pieces
    def _energy(self, x, z):
        xi = x.astype(z.dtype)
        if self.integer:
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
            # (temp · a) >> 15 without int32 overflow: split temp into integer and fraction parts
            nxt = ((temp >> _FRAC) * self.t_hat_step >> (15 - _FRAC)) + (((temp & ((1 << _FRAC) - 1)) * self.t_hat_step) >> 15)
        else:
            nxt = temp
        return jnp.where(tick, jnp.maximum(nxt, self.t_hat_min), temp)

    # ------------------------------------------------------------------ dynamics
    def step(self, state, t, *, key):
        x, z, refract, temp, overflow, _ = state
        b = nsr.bits(key[:, None], nsr.counters(self._n, 0))  # (R, n) one hash per neuron
        sign = (1 - 2 * x.astype(jnp.int32)).astype(z.dtype)  # +1 for 0→1, −1 for 1→0
        if self.integer:
            hw = self.hardware
            local, over = hw.saturate(self.q[None, :] + z)
            overflow = overflow | over
            dC = local * sign
            r = b >> jnp.uint32(32 - hw.rng_bits)
            # ΔC < T̂·clz(r) in fixed point: ΔC·2^8 < temp·clz. ΔC is clipped first (no T̂·clz
            # reaches 2^21), so the shift cannot overflow int32.
            dCf = jnp.minimum(dC, jnp.int32(1 << 21)) << _FRAC
            accept = (dC < 0) | (r == 0) | (dCf < temp[:, None] * hw.clz(r))
            T = self.temperature(state, t)
        else:
            T = self.schedule(t)
            dC = (self.q[None, :] + z) * sign
            if self.acceptance == "exp":
                accept = nsr.to_uniform(b) < jnp.exp(-dC / T)
            else:
                r = b >> jnp.uint32(8)
                clz = jax.lax.clz(r).astype(jnp.float32) - 8.0
                accept = (dC < 0) | (r == 0) | (dC < T * jnp.float32(_LN2) * clz)
            T = jnp.broadcast_to(T, (x.shape[0],))
        flip = accept & (refract == 0)
        b8 = (b & jnp.uint32(0xFF)).astype(jnp.int32)
        refract = jnp.where(flip, self._period(b8), jnp.maximum(refract - 1, 0))
        x_new = jnp.where(flip, 1 - x, x).astype(jnp.int8)
        dx = jnp.where(flip, sign, jnp.zeros_like(sign))
        z = self._update_field(z, x_new, flip, dx)
        if self.integer:
            z, over = self.hardware.saturate(z)
            overflow = overflow | over
        temp = self._next_temp(temp, t)
        e = self._energy(x_new, z)
        flips = jnp.sum(flip, axis=-1, dtype=jnp.int32)
        out = {"energy": e, "spikes": flip.astype(jnp.int8), "temperature": T, "flips": flips, "overflow": overflow}
        return SAState(x_new, z, refract, temp, overflow, e), out

    def _update_field(self, z, x_new, flip, dx):
        """z += W·dx, event-driven: compact the flipped neurons of each replica into a list of
        K ∈ {8, max_events} entries (the smallest that holds every replica's flips) and send only
        those; a step with more flips than max_events does one full product instead."""
        count = jnp.max(jnp.sum(flip, axis=-1))
        levels = sorted({min(8, self.max_events), self.max_events})

        def sparse_update(K):
            def f(z):
                idx = jax.vmap(lambda c: jnp.nonzero(c, size=K, fill_value=0)[0])(flip)
                valid = jnp.take_along_axis(flip, idx, axis=1)  # padding entries read a non-flipped slot or repeat idx 0
                first = jnp.arange(K)[None, :] < jnp.sum(flip, axis=-1)[:, None]
                d = jnp.take_along_axis(dx, idx, axis=1) * (valid & first).astype(dx.dtype)
                return self.syn.add_columns(z, idx.astype(jnp.int32), d).astype(z.dtype)

            return f

        def dense_update(z):
            return self.syn.field(x_new.astype(z.dtype)).astype(z.dtype)

        branches = [sparse_update(K) for K in levels] + [dense_update]
        which = jnp.sum(count > jnp.asarray(levels, jnp.int32)).astype(jnp.int32)
        return jax.lax.switch(which, branches, z)


def _format(fmt: str, n: int) -> str:
    """'auto' → dense up to n = 4096 (≤ 64 MB of float32 weights): the event-driven update then
    gathers K weight rows, which on CPU is several times faster than ELL's scatter-add (measured
    on G1, docs/loihi2.md); sparse formats above."""
    if fmt == "auto" and n <= 4096:
        return "dense"
    return fmt


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
        if d >= 1:
            return "linear", t0, tmin, int(round(d)), 1
        return "linear", t0, tmin, 1, max(1, int(round(1.0 / d)))
    if isinstance(schedule, Geometric):
        t0, tmin = q(schedule.T0), q(schedule.T_min)
        ratio = float(schedule.ratio)
        if ratio >= 1:
            return "constant", t0, t0, 0, 1
        # apply the multiplier every `every` steps so that it is resolvable in 15 fractional bits
        every = max(1, int(math.ceil(math.log(1 - 2.0**-12) / math.log(ratio)))) if ratio > 1 - 2.0**-12 else 1
        mult = int(round(ratio**every * 2**15))
        return "geometric", t0, tmin, max(1, min(mult, 2**15 - 1)), every
    raise ValueError(
        f"an integer profile anneals with Lava's integer annealer: schedule must be Constant, Linear or Geometric, "
        f"got {type(schedule).__name__}"
    )
