"""NeuroSA under a chip profile: SpiNNaker2 (float32, per-PE RNG, cross-PE arbiter) and Loihi 2 (integers).

``NeuroSA(problem, hardware=SPINNAKER2 | LOIHI2, ...)`` builds the chip layer (``model.chip``, a
:class:`neurosim.hardware.ChipLayer`: mapping, quantisation, saturation, chip-width random integers,
``log2_q14``/``mul_shift`` arithmetic) and, from it, a :class:`NeuroSAChip` (``model.onchip``) that runs
every step; ``hardware=None`` never reaches this file. Equations and measured consequences:
docs/neurosa.md, "On chip profiles".

**Pairs on PEs / cores.** The layer's mapping (contiguous blocks within each core's limits:
SpiNNaker2's 96 KB of PE SRAM, Loihi 2's neurons/synapses per core) places pair ``p`` on core
``core_of[p]`` at position ``local[p]`` in it; a problem that does not fit is refused with the numbers.

**Random numbers: each PE's own generator.** The PE holding a pair draws the pair's random word. A
stand-in for the TRNG (SpiNNaker2) or the per-neuron PRNG (Loihi 2), reproducible: PE ``q``'s word at a
step is ``bits(step_word, c_PE[q])`` (so it depends on seed, replica, step and PE only), and the draw
for its ``j``-th pair is ``bits(pe_word, c_DRAW[j])``; the PE's arbiter pick uses one more draw.

**Cross-PE arbiter** (``mode="arbiter"``): each PE sees its own firing candidates and picks one uniformly;
the system arbiter picks uniformly among the PEs that have a candidate. So, for a firing set ``F``,
``P(pair j) = 1/|{PEs with a candidate}| · 1/|F ∩ PE(j)|`` — not uniform over ``F`` unless every
active PE has the same number of candidates (tests/test_neurosa_chip.py checks it exactly).

**Integers** (an integer profile: Loihi 2): weights ``A = 2J`` and biases ``b = 2h`` quantised by the
layer (one auto-scale, int8 by default), the field ``u`` in a saturating ``state_bits`` word (sticky
``overflow``), a ``rng_bits``-bit random integer ``r`` per test, and the threshold
``μ = T·ln(B·U + ε)``, ``U = (r + ½)/2^rng_bits``, without exp, log or division:

* ``Y = B_fx·(2r + 1) + ε_fx`` is ``B·U + ε`` in fixed point (``B_fx = B·2^β``, ``ε_fx = ε·2^(rng_bits+1+β)``);
* ``L = ln(B·U + ε)`` in ``ln_frac`` fraction bits (default 9) from the layer's ``log2_q14(Y)``
  (leading-zero count + a quartic in the mantissa) times ``ln 2`` by a split integer product;
* ``μ = ⌊T̂·L / 2^(8 + ln_frac)⌋`` with the layer's exact ``mul_shift``.

The temperature lives in a 24-bit 16.8 fixed-point register (the layer's ``temperature_reg`` format:
``T̂ = T·scale·2^8``, 16 integer bits = LOIHI2's ``temperature_bits``). It is **loaded from a precomputed
table** every ``t_stride`` steps (at most 2^16 entries over the horizon, computed on the host in
float64 from the schedule): the FN law needs a logarithm the neuron does not have, and on Loihi 2 the
temperature is set by a management process (the embedded x86 cores or the host), not by the neurons;
a table also makes the register sequence a host constant, bit-identical however the run is compiled.

The field sums run in float32 over integer-valued weights: exact, because construction checks that
every row's ``Σ|A| + |b|`` is below 2^24 (so this is the chip's integer adder, bit for bit).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from neurosim import random as nsr
from neurosim.hardware._layer import log2_q14, mul_shift
from neurosim.schedules import FowlerNordheim

# random streams (counter offsets) of the chip paths; 0..4 are the float model's
_S_PE = 5  # a PE's word at a step (counter: PE index)
_S_DRAW = 6  # the j-th draw of a PE within a step (counter: position of the pair on its PE)
_S_PEPICK = 7  # a PE's arbiter pick among its candidates
_S_SYS = 8  # the system arbiter's pick among the PEs

#: default fraction bits of the fixed-point threshold logarithm L = ln(B·U + ε) (|L| ≤ 14 must stay
#: below 2^13 for the layer's mul_shift, so at most 9)
LN_FRAC = 9
#: fraction bits of the temperature register (the layer's 16.8 ``temperature_reg`` format)
T_FRAC = 8
#: most entries of the precomputed temperature table
T_TABLE_MAX = 1 << 16
_LN2_Q16 = 45426  # round(ln 2 · 2^16)

class ChipScanState(NamedTuple):
    s: jax.Array  # int8 (n, R)
    energy: jax.Array  # float32 (R,) or int32 (R,): 4·E in weight units (integer profile)
    site: jax.Array  # int32 () or (R,): pair tested at the next step
    row: jax.Array  # int8 (R,): s[site]
    u: jax.Array  # float32 (R,): field of s[site] (integer-valued on an integer profile)
    overflow: jax.Array  # bool (R,): sticky, some field saturated the state word


class ChipArbiterState(NamedTuple):
    s: jax.Array  # int8 (n, R)
    u: jax.Array  # float32 (n, R)
    energy: jax.Array  # float32 (R,)
    overflow: jax.Array  # bool (R,)


class NeuroSAChip(eqx.Module):
    """The chip half of a NeuroSA model (see the module docstring). Built by :func:`build_chip`."""

    core_of: jax.Array  # int32 (n,)
    pe_counter: jax.Array  # uint32 (cores,): c_PE
    draw_counter: jax.Array  # uint32 (n,): c_DRAW[local[p]] of each pair
    pe_start: jax.Array  # int32 (cores,)
    pe_stop: jax.Array  # int32 (cores,)
    t_table: jax.Array  # int32 (M,) temperature register values (integer profile; empty otherwise)
    layer: object = eqx.field(static=True)  # the model's ChipLayer
    ln_frac: int = eqx.field(static=True)
    t_stride: int = eqx.field(static=True)
    b_fx: int = eqx.field(static=True)
    b_shift: int = eqx.field(static=True)
    eps_fx: int = eqx.field(static=True)
    energy_int: bool = eqx.field(static=True)

    @property
    def hardware(self):
        return self.layer.profile

    @property
    def mapping(self):
        return self.layer.mapping

    @property
    def scale(self) -> float:
        return self.layer.scale

    @property
    def integer(self) -> bool:
        return self.layer.integer

    # ------------------------------------------------------------------ random numbers
    def _draws(self, key, pe, draw_c, extra=None):
        """The random word of each test: PE ``pe``'s ``draw_c``-th draw (and a second one, or None)."""
        word = nsr.bits(key, jnp.take(self.pe_counter, pe))
        d1 = nsr.bits(word, draw_c)
        d2 = None if extra is None else nsr.bits(word, draw_c ^ np.uint32(0x9E3779B9))
        return word, d1, d2

    # ------------------------------------------------------------------ integer arithmetic
    def register(self, t):
        """The temperature register ``T̂`` at step ``t`` (int32)."""
        m = jnp.minimum(t // self.t_stride, self.t_table.shape[0] - 1)
        return jnp.take(self.t_table, m)

    def log_fixed(self, r):
        """``≈ 2^ln_frac · ln(B·U + ε)``, ``U = (r + ½)/2^rng_bits`` (int32), by integer means only: the
        layer's ``log2_q14`` of the fixed-point ``Y = B·U + ε`` (clz + quartic), times ln 2 in two halves."""
        rb = self.layer.rng_bits
        y = jnp.uint32(self.b_fx) * (r.astype(jnp.uint32) * jnp.uint32(2) + jnp.uint32(1)) + jnp.uint32(self.eps_fx)
        d = log2_q14(y) - jnp.int32((rb + 1 + self.b_shift) << 14)  # log2(B·U + ε), Q14
        hi, lo = d >> 7, d & 127
        q23 = hi * _LN2_Q16 + ((lo * _LN2_Q16) >> 7)  # · ln 2, Q23
        k = 23 - self.ln_frac
        return (q23 + (1 << (k - 1))) >> k

    def threshold_int(self, r, T_hat):
        """``μ = ⌊T̂·L / 2^(T_FRAC + ln_frac)⌋`` (int32) with the layer's exact ``mul_shift``."""
        L = self.log_fixed(r)
        s = T_FRAC + self.ln_frac
        if s >= 12:
            return mul_shift(T_hat, L, s)
        return mul_shift(T_hat, L << (12 - s), 12)  # |L| < 2^(4+ln_frac): the shift keeps |b| < 2^13

    # ------------------------------------------------------------------ the test
    def _test(self, model, gain_f, row, t, T, d1, d2):
        """(fire, gain used for the energy, threshold in problem units, overflow) of one test per element.

        ``gain_f`` float32 ``−s·u`` (integer-valued on an integer profile)."""
        if not self.integer:
            mu = model._threshold(T, d1, d2)
            return gain_f > mu, gain_f, mu, None
        g = gain_f.astype(jnp.int32)
        sat, over = self.layer.saturate(g)  # |−s·u| = |u|: the field word saturates
        r = self.layer.random_int(d1)
        mu = self.threshold_int(r, self.register(t))
        return sat > mu, g, mu.astype(jnp.float32) * jnp.float32(1.0 / self.scale), over

    def temperature(self, model, t):
        if not self.integer:
            return model.schedule(t)
        return self.register(t).astype(jnp.float32) * jnp.float32(1.0 / (self.scale * (1 << T_FRAC)))

    def _energy_out(self, model, e):
        if not self.integer:
            return e
        return e.astype(jnp.float32) * jnp.float32(0.25 / self.scale) + jnp.float32(model.offset)

    def _energy_delta(self, fire, g):
        if not self.integer:
            return jnp.where(fire, g, 0.0)
        d = jnp.where(fire, 4 * g, 0)
        return d if self.energy_int else d.astype(jnp.float32)

    # ------------------------------------------------------------------ state
    def init(self, model, s, u, *, key):
        R = s.shape[1]
        over = jnp.zeros((R,), bool)
        if self.integer:
            ui = u.astype(jnp.int32)
            _, over_all = self.layer.saturate(ui.T)
            over = over | over_all
            bi = model.b.astype(jnp.int32)[:, None]
            e4 = -jnp.sum(s.astype(jnp.int32) * (ui + bi), axis=0)
            energy = e4 if self.energy_int else e4.astype(jnp.float32)
        else:
            sf = s.astype(jnp.float32)
            energy = -0.25 * jnp.sum(sf * (u + model.b[:, None]), axis=0) + model.offset
        if model.mode == "arbiter":
            return ChipArbiterState(s, u, energy, over)
        i, row, ui = model._prefetch(s, jnp.int32(0), nsr.bits(key, np.uint32(0x5A5A5A5A)))
        return ChipScanState(s, energy, i, row, ui, over)

    def step(self, model, state, t, *, key):
        if model.mode == "arbiter":
            return self._step_arbiter(model, state, t, key)
        return self._step_scan(model, state, t, key)

    # ------------------------------------------------------------------ random scan
    def _step_scan(self, model, state, t, key):
        s, energy, i, row, u, overflow = state
        R, n = s.shape[1], model.n
        T = self.temperature(model, t)
        pe = jnp.take(self.core_of, i)
        _, d1, d2 = self._draws(key, pe, jnp.take(self.draw_counter, i), extra=model.noise == "gaussian" or None)
        gain = -row.astype(jnp.float32) * u
        fire, g, mu, over = self._test(model, gain, row, t, T, d1, d2)
        if over is not None:
            overflow = overflow | over
        new = jnp.where(fire, -row, row)
        if model.sites == "shared":
            s = jax.lax.dynamic_update_index_in_dim(s, new, i, 0)
        else:
            s = s.at[i, jnp.arange(R)].set(new)
        energy = energy - self._energy_delta(fire, g)
        i_next, row_next, u_next = model._prefetch(s, t + 1, key)
        ii = jnp.broadcast_to(i, (R,))
        outs = _outputs(n, ii, fire, row, self._energy_out(model, energy), T, mu, overflow)
        outs["active"] = self._active(model, s, t, T, key)
        return ChipScanState(s, energy, i_next, row_next, u_next, overflow), outs

    def _all_draws(self, key, model):
        """(n, R) test words of every pair (each from its PE's generator) and the PE words (cores, R)."""
        pe_words = nsr.bits(key[None, :], self.pe_counter[:, None])
        words = jnp.take(pe_words, self.core_of, axis=0)
        d1 = nsr.bits(words, self.draw_counter[:, None])
        d2 = nsr.bits(words, self.draw_counter[:, None] ^ np.uint32(0x9E3779B9)) if model.noise == "gaussian" else None
        return pe_words, d1, d2

    def _active(self, model, s, t, T, key):
        """Pairs that would fire if tested now (on-demand observable; dead code unless recorded)."""
        key2 = nsr.bits(key, nsr.counters(1, 4)[0])
        _, d1, d2 = self._all_draws(key2, model)
        gain = -s.astype(jnp.float32) * model._full_field(s)
        fire = self._test(model, gain, s, t, T, d1, d2)[0]
        return jnp.sum(fire, axis=0, dtype=jnp.int32)

    # ------------------------------------------------------------------ cross-PE arbiter
    def _step_arbiter(self, model, state, t, key):
        s, u, energy, overflow = state
        n, R = s.shape
        cols = jnp.arange(R)
        T = self.temperature(model, t)
        pe_words, d1, d2 = self._all_draws(key, model)
        gain = -s.astype(jnp.float32) * u
        fire, _, mu, _ = self._test(model, gain, s, t, T, d1, d2)
        j, has, count = self.pick(fire, pe_words, key)
        sj = s[j, cols]
        gj = gain[j, cols]
        new = jnp.where(has, -sj, sj)
        d = (new - sj).astype(jnp.float32)
        s = s.at[j, cols].set(new)
        nbj = jnp.take(model.table.nb, j, axis=0)
        wj = jnp.take(model.table.w, j, axis=0)
        u = u.at[nbj, cols[:, None]].add(wj * d[:, None])
        energy = energy - jnp.where(has, gj, 0.0)
        outs = _outputs(n, j, has, sj, energy, T, mu.T, overflow)
        outs["active"] = count
        return ChipArbiterState(s, u, energy, overflow), outs

    def pick(self, fire, pe_words, key):
        """The hierarchical arbiter on a firing mask ``fire`` (n, R) → (pair j (R,), any fired (R,), #candidates (R,)).

        Each PE picks one of its candidates uniformly (its own draw); the system picks uniformly among the
        PEs that have one."""
        csum = jnp.cumsum(fire.astype(jnp.int32), axis=0)  # (n, R)
        cpad = jnp.concatenate([jnp.zeros((1, fire.shape[1]), jnp.int32), csum], axis=0)
        before = jnp.take(cpad, self.pe_start, axis=0)  # (cores, R) candidates on earlier PEs
        per_pe = jnp.take(cpad, self.pe_stop, axis=0) - before
        active = per_pe > 0
        n_active = jnp.sum(active, axis=0, dtype=jnp.int32)
        u_sys = nsr.uniform(key, nsr.counters(1, _S_SYS)[0])
        a = jnp.minimum((u_sys * n_active.astype(jnp.float32)).astype(jnp.int32), jnp.maximum(n_active - 1, 0))
        m = jnp.argmax(jnp.cumsum(active.astype(jnp.int32), axis=0) > a[None, :], axis=0)  # (R,) chosen PE
        cols = jnp.arange(fire.shape[1])
        c_m = per_pe[m, cols]
        u_pe = nsr.to_uniform(nsr.bits(pe_words[m, cols], nsr.counters(1, _S_PEPICK)[0]))
        k = jnp.minimum((u_pe * c_m.astype(jnp.float32)).astype(jnp.int32), jnp.maximum(c_m - 1, 0))
        j = jnp.argmax(csum > (before[m, cols] + k)[None, :], axis=0).astype(jnp.int32)
        return j, n_active > 0, csum[-1]


def _outputs(n, site, fire, row, energy, T, mu, overflow):
    on = (fire & (row < 0)).astype(jnp.int8)
    off = (fire & (row > 0)).astype(jnp.int8)

    def onehot(v):
        return jnp.where(jnp.arange(n)[None, :] == site[:, None], v[:, None], jnp.int8(0))

    return {
        "energy": energy,
        "temperature": T,
        "threshold": mu,
        "site": site,
        "event": on - off,
        "on_spikes": onehot(on),
        "off_spikes": onehot(off),
        "spikes": onehot(on + off),
        "overflow": overflow,
    }


# ---------------------------------------------------------------------------- construction
def build_chip(layer, *, mode, noise, schedule, horizon, ln_frac=LN_FRAC, B=2.5, eps=1e-6):
    """The chip half of a NeuroSA model from its layer (mapping, quantisation already done)."""
    hw, mapping = layer.profile, layer.mapping
    if not (isinstance(ln_frac, (int, np.integer)) and 0 <= ln_frac <= 9):
        raise ValueError(f"ln_frac must be an int in 0..9 (fraction bits of the integer threshold), got {ln_frac!r}")
    n = mapping.n
    core_of = np.asarray(mapping.core_of, np.int64)
    starts = np.concatenate([[0], np.cumsum(mapping.neurons_per_core)[:-1]]).astype(np.int64)
    local = np.arange(n) - starts[core_of]
    t_table, stride, b_fx, b_shift, eps_fx, e_int = np.zeros(1, np.int32), 1, 0, 0, 0, False
    if layer.integer:
        _check_integer(hw, mode, noise)
        W, b = layer.quantization.W, layer.quantization.bias.astype(np.float64)
        r_, _, wv = W.coo()
        gmax = float((np.bincount(r_, weights=np.abs(wv), minlength=n) + np.abs(b)).max(initial=0.0))
        if gmax >= 1 << 24:
            raise ValueError(f"NeuroSA under {hw.name}: a field can reach {gmax:.0f} weight units, over the 2^24 this "
                             "emulation adds exactly")
        e_int = float(np.abs(wv).sum() + 2 * np.abs(b).sum()) < 2**31 - 2**26
        reg_max = min((((1 << hw.temperature_bits) - 1) << T_FRAC) | ((1 << T_FRAC) - 1), (1 << 24) - 1)
        t_table, stride = _temperature_table(schedule, horizon, layer.scale * (1 << T_FRAC), reg_max)
        rb = hw.rng_bits
        b_shift = int(math.floor(math.log2(2.0 ** (30 - rb) / B)))
        b_fx = int(round(B * 2.0**b_shift))
        eps_fx = int(round(eps * 2.0 ** (rb + 1 + b_shift)))
    return NeuroSAChip(
        core_of=jnp.asarray(core_of, jnp.int32),
        pe_counter=jnp.asarray(nsr.counters(mapping.cores, _S_PE)),
        draw_counter=jnp.asarray(nsr.counters(int(local.max(initial=0)) + 1, _S_DRAW)[local]),
        pe_start=jnp.asarray(starts, jnp.int32),
        pe_stop=jnp.asarray(starts + mapping.neurons_per_core, jnp.int32),
        t_table=jnp.asarray(t_table),
        layer=layer, ln_frac=int(ln_frac), t_stride=int(stride), b_fx=b_fx, b_shift=b_shift, eps_fx=eps_fx,
        energy_int=bool(e_int),
    )


def _check_integer(hw, mode, noise):
    if mode != "random_scan":
        raise ValueError(f"NeuroSA mode={mode!r} under {hw.name}: the integer profile runs mode='random_scan' only "
                         "(the cross-PE arbiter is SpiNNaker2's)")
    if noise != "exponential":
        raise ValueError(f"NeuroSA noise={noise!r} under {hw.name}: the integer threshold is the exponential one only")
    if hw.rng_bits > 24:
        raise ValueError(f"NeuroSA under {hw.name}: rng_bits={hw.rng_bits}, the integer threshold takes ≤ 24")
    if hw.temperature_bits is None or hw.temperature_bits > 16:
        raise ValueError(f"NeuroSA under {hw.name}: temperature_bits must be ≤ 16 (a 16.8 register), got {hw.temperature_bits!r}")


def _temperature_table(schedule, horizon, unit, reg_max):
    """Register values ``clip(round(T·unit), 1, reg_max)`` at steps ``0, K, 2K, …`` (≤ 2^16 entries)."""
    stride = max(1, -(-int(horizon) // T_TABLE_MAX))
    steps = np.arange(0, int(horizon), stride, dtype=np.int64)
    if isinstance(schedule, FowlerNordheim):  # the FN law in float64 on the host
        T = float(schedule.T0) / np.log1p((float(schedule.t0) + steps * float(schedule.delta)) / float(schedule.C))
    else:
        T = np.broadcast_to(np.asarray(schedule(jnp.asarray(steps, jnp.int32)), np.float64), steps.shape)
    return np.clip(np.round(T * unit), 1, reg_max).astype(np.int32), stride
