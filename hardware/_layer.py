"""The chip layer: the ONE mechanism through which a model gets its chip behaviour from a profile.

A model builds one :class:`ChipLayer` from its couplings in ``__init__`` and keeps it as the static
field ``chip`` (its profile is ``model.hardware``, its layer ``model.chip``). Every chip effect a
neuron needs goes through the layer, so a model written once runs under ``hardware=None`` (float32
reference: every method the identity or the plain float formula), a float chip (``SPINNAKER2``:
float32 FPU, 32-bit random words) and an integer chip (``LOIHI2``: int8 weights, 24-bit state and
random numbers, no exp/log/division). Like a Lava process with a floating-point and a bit-accurate
process model, the model's equations are written once; the layer picks the arithmetic.

Build (host side, in the model's ``__init__``)::

    chip = chip_layer(hardware, W, bias, scale=None, updates="all")

``W`` (:class:`~neurosim.SymmetricMatrix`) is what one spike delivers, ``bias`` a length-n vector
held in neuron state. The layer maps the neurons onto cores (``chip.mapping``; a problem that does
not fit the declared system raises ``ValueError`` with the numbers *before* anything is built),
quantises (``chip.weights(W)``, ``chip.biases(bias)``: integer-valued under an integer profile,
with one common ``chip.scale``; ``W`` and ``bias`` themselves otherwise) and records the quantisation report (``chip.report()``:
a dict, or ``"float32, no quantisation"``). ``updates``: ``"all"`` for a time-driven model (every
neuron updates every step: SA, NEBM, synchronous Gibbs), ``"one"`` for a one-site-per-step model
(random-scan Gibbs, NeuroSA); the measured activity counts updates with it.

Types (device side)
    ``chip.integer`` (bool), ``chip.state_dtype`` (int32 | float32: membranes, fields),
    ``chip.weight_dtype`` (int8/int16 | float32), ``chip.rng_bits`` (24 on Loihi 2, 32 otherwise).

State words
    ``v, over = chip.saturate(v)``: clip to the signed ``state_bits`` range like the chip's
    saturating adders and say which replicas (leading axis) hit the rail; keep a sticky
    ``overflow |= over`` in the state. Identity (``over`` all False) on float chips.

Random numbers (all from ``neurosim.random``: a replica's numbers depend on seed, replica, step,
neuron and stream only)
    ``b = chip.bits(word, c)``: the uint32 hash word (one per neuron and use);
    ``r = chip.random_int(b)``: its top ``rng_bits`` bits, the chip's random integer;
    ``u = chip.uniform(b)``: float32 in (0, 1) on the 2^-24 grid (float chips: the PE's 32-bit word
    read as a float32 uniform; there is no float uniform on an integer chip).

Arithmetic where the chip has no exp, log or division (all int32, exact and bit-reproducible)
    ``chip.metropolis(dC, T, b)`` → accept mask: float ``u < exp(−dC/T)``; integer the clz test
    ``dC < 0 or r == 0 or dC < T̂·clz(r)`` with ``T̂ = temperature_int(T)`` (P within a factor 2
    below ``exp(−dC/T)``, see ``HardwareProfile.clz_accept``);
    ``chip.heat_bath(drive, T, b)`` → fire mask with ``P = σ(drive/T)``: float ``u < σ(drive/T)``;
    integer ``drive > ⌊T_reg·L⌋`` with ``L`` the logistic variate of ``r`` (``logistic_q8``,
    |ΔL| < 0.005, P within 0.001 of σ) and ``T_reg = temperature_reg(T)``, a 16.8 fixed-point
    register — the inverse-CDF method, so sigmoid, tanh (``P(sgn(tanh x − u) = 1) = σ(2x)``) and
    Glauber updates need neither exp nor division;
    ``ln_q(r, frac)`` → ``≈ ln((r + ½)/2^rng_bits)·2^frac`` (int32 ≤ 0) from a leading-zero count
    plus a quartic in the mantissa (no table, no log): error ≤ 2.0e-4 nats + ½ LSB of the output,
    tested over every 24-bit r (``tests/test_layer.py``); for thresholds like NeuroSA's
    ``T·ln(U)``; ``log2_q14(N)``, ``logistic_q8(u)``, ``mul_shift(a, b, s)`` are the building blocks;
    ``chip.temperature_int(T)`` (device) = ``round(T·scale·ln 2)`` clipped to ``[1, 2^temperature_bits − 1]``;
    ``chip.temperature_reg(T)`` (device) = ``round(T·scale·2^8)`` clipped to the 16.8 register.

Reporting
    ``chip.report()`` (quantisation), ``chip.mapping`` (:class:`~neurosim.hardware.Mapping`, None
    for ``hardware=None``); the engine adds the run's measured activity (``result.mapping``).
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from neurosim import random as nsr

UPDATES = ("all", "one")
FLOAT_REPORT = "float32, no quantisation"
_TFRAC = 8  # fractional bits of the heat-bath temperature register
_LFRAC = 8  # fractional bits of the logistic threshold
_LN2 = math.log(2.0)

# log2(1 + F) ≈ F + F(1 − F)(a + b F + c F²) on [0, 1): max error 1.1e-4 (least-squares minimax fit),
# exact at F = 0 and 1 so octaves join continuously. Coefficients in Q14.
_LOG2_POLY = (7188, -3917, 1346)  # round((0.43873, -0.23906, 0.08213) · 2^14)
_LN2_Q12 = 2839  # round(ln 2 · 2^12)
_LN2_Q16 = 45426  # round(ln 2 · 2^16)


def log2_q14(N):
    """``log2(N)·2^14`` (int32) for integers ``1 ≤ N < 2^32`` (uint32): the octave from a leading-zero
    count, the mantissa's log from a quartic with integer Horner steps — no table, no exp/log.
    Error ≤ 1.1e-4 (fit) + 2·2^-14 (truncations) in log2 units."""
    N = N.astype(jnp.uint32)
    lz = jax.lax.clz(N)
    e = 31 - lz.astype(jnp.int32)
    F = ((N << lz) >> jnp.uint32(16)).astype(jnp.int32) & 0x7FFF  # Q15 mantissa fraction
    a, b, c = _LOG2_POLY
    g = ((c * F) >> 15) + b
    g = ((g * F) >> 15) + a  # Q14
    h = (F * ((1 << 15) - F)) >> 15  # F(1 − F), Q15
    return (e << 14) + (F >> 1) + ((g * h) >> 15)


def logistic_q8(u):
    """Logistic-distributed threshold ``L·2^8`` (int32) from a 24-bit uniform integer ``u``:
    ``L = ln(p/(1−p))``, ``p = (u + ½)/2^24``, as ``ln 2·(log2(2u+1) − log2(2^25 − 2u − 1))``.
    ``P(L < y) = σ(y)`` up to the 24-bit grid and a |ΔL| < 0.005 arithmetic error."""
    u = u.astype(jnp.uint32)
    B = (u << jnp.uint32(1)) + jnp.uint32(1)
    A = jnp.uint32((1 << 25) - 1) - (u << jnp.uint32(1))
    d = log2_q14(B) - log2_q14(A)  # |d| < 25·2^14
    return (d * _LN2_Q12) >> (14 + 12 - _LFRAC)


def ln_q(r, bits: int, frac: int = 8):
    """``≈ ln((r + ½)/2^bits)·2^frac`` (int32, ≤ 0) for a ``bits``-bit random integer r (bits ≤ 31,
    frac ≤ 12): ``ln 2·(log2(2r + 1) − (bits + 1))`` with :func:`log2_q14`. The value is the log of a
    uniform on the half-offset grid, so it is always finite (≥ −(bits + 1)·ln 2). Error ≤ 2.0e-4
    nats plus the output's rounding (tests/test_layer.py enumerates every 24-bit r)."""
    if not 1 <= bits <= 31 or not 0 <= frac <= 12:
        raise ValueError(f"ln_q needs 1 ≤ bits ≤ 31 and 0 ≤ frac ≤ 12, got bits={bits}, frac={frac}")
    N = (r.astype(jnp.uint32) << jnp.uint32(1)) + jnp.uint32(1)
    d = log2_q14(N) - jnp.int32((bits + 1) << 14)  # log2 of the uniform, Q14, in [−(bits+1)·2^14, 0]
    # d·ln2 in Q(frac): d = hi·2^7 + lo keeps both products with the Q16 constant inside int32;
    # d·ln2 in Q23 is hi·C + ⌊lo·C / 2^7⌋ (error < 2^-23), rounded to Q(frac).
    hi, lo = d >> 7, d & 127
    q23 = hi * _LN2_Q16 + ((lo * _LN2_Q16) >> 7)
    k = 23 - frac
    return (q23 + (1 << (k - 1))) >> k


def mul_shift(a, b, s: int):
    """⌊a·b / 2^s⌋ exactly for int32 a ∈ [0, 2^24), |b| < 2^13, 12 ≤ s ≤ 24, in int32 arithmetic
    (a split in 12-bit halves; the carry of the high product's low bits is kept)."""
    x = (a >> 12) * b  # weight 2^12
    y = (a & 0xFFF) * b
    k = s - 12
    return (x >> k) + ((((x & ((1 << k) - 1)) << 12) + y) >> s)


class ChipLayer(eqx.Module):
    """A model's chip behaviour (see the module docstring). All fields static; build with
    :func:`chip_layer`. ``profile=None`` is the float32 reference."""

    profile: object = eqx.field(static=True)
    quantization: object = eqx.field(static=True)  # Quantized (integer profile) or None
    mapping: object = eqx.field(static=True)  # Mapping or None (hardware=None)
    scale: float = eqx.field(static=True)
    updates: str = eqx.field(static=True)
    # (no host arrays here: the layer is part of the model's static structure, and under
    # hardware=None it must compare by value so that a rebuilt model reuses its compiled step)

    # ------------------------------------------------------------------ host side
    @property
    def integer(self) -> bool:
        return self.profile is not None and self.profile.integer

    def weights(self, W):
        """Host weights to build synapses from: the quantised (integer-valued) ones under an
        integer profile, ``W`` itself otherwise (pass the ``W`` the layer was built from)."""
        return self.quantization.W if self.integer else W

    def biases(self, bias) -> np.ndarray:
        """Host biases: the quantised int64 ones under an integer profile, ``bias`` otherwise."""
        return self.quantization.bias if self.integer else np.asarray(bias, dtype=np.float64)

    @property
    def rng_bits(self) -> int:
        return 32 if self.profile is None else int(self.profile.rng_bits)

    @property
    def state_dtype(self):
        return jnp.dtype(jnp.int32) if self.integer else jnp.dtype(jnp.float32)

    @property
    def weight_dtype(self):
        if not self.integer:
            return jnp.dtype(jnp.float32)
        return jnp.dtype(f"int{8 if self.profile.weight_bits <= 8 else 16}")

    def report(self):
        """The quantisation report: a dict under an integer profile, else ``"float32, no quantisation"``."""
        return self.quantization.report() if self.quantization is not None else FLOAT_REPORT

    def describe(self) -> dict:
        return {
            "hardware": None if self.profile is None else self.profile.label(),
            "quantization": self.report(),
            "updates": self.updates,
        }

    # ------------------------------------------------------------------ state words
    def saturate(self, v):
        """``(clipped v, overflow (R,) bool)``; the identity with no overflow on float chips."""
        if not self.integer:
            return v, jnp.zeros(v.shape[:1], bool)
        return self.profile.saturate(v)

    # ------------------------------------------------------------------ random numbers
    @staticmethod
    def bits(word, c):
        return nsr.bits(word, c)

    def random_int(self, b):
        """The chip's ``rng_bits``-bit random integer (uint32) from a hash word."""
        k = self.rng_bits
        return b if k == 32 else b >> jnp.uint32(32 - k)

    @staticmethod
    def uniform(b):
        return nsr.to_uniform(b)

    # ------------------------------------------------------------------ chip arithmetic
    def clz(self, r):
        """Leading zeros of the ``rng_bits``-bit word r (int32; clz(0) = rng_bits)."""
        return jax.lax.clz(r.astype(jnp.uint32)).astype(jnp.int32) - jnp.int32(32 - self.rng_bits)

    def temperature_int(self, T):
        """Device-side ``T̂ = round(T·scale·ln 2)`` clipped to ``[1, 2^temperature_bits − 1]`` (int32)."""
        tmax = self.profile.temperature_max if self.profile is not None and self.profile.temperature_bits else (1 << 30)
        t = jnp.round(jnp.asarray(T, jnp.float32) * jnp.float32(self.scale * _LN2))
        return jnp.clip(t, 1, tmax).astype(jnp.int32)

    def temperature_reg(self, T):
        """Device-side 16.8 fixed-point temperature register ``round(T·scale·2^8)`` (int32, ≥ 1)."""
        tbits = self.profile.temperature_bits if self.profile is not None and self.profile.temperature_bits else 16
        tmax = (((1 << tbits) - 1) << _TFRAC) | ((1 << _TFRAC) - 1)
        tmax = min(tmax, (1 << 24) - 1)  # mul_shift's range
        t = jnp.round(jnp.asarray(T, jnp.float32) * jnp.float32(self.scale * (1 << _TFRAC)))
        return jnp.clip(t, 1, tmax).astype(jnp.int32)

    def metropolis(self, dC, T, b):
        """Accept mask of the Metropolis test on cost change ``dC`` (state dtype) at temperature T
        (problem units, broadcastable) with hash words b: exp on float chips, clz on integer chips."""
        if not self.integer and (self.profile is None or self.profile.metropolis == "exp"):
            return self.uniform(b) < jnp.exp(dC * (jnp.float32(-1.0) / T))
        r = self.random_int(b)
        if not self.integer:  # a float chip told to use the clz staircase
            return (dC < 0) | (r == 0) | (dC < T * jnp.float32(_LN2) * self.clz(r).astype(jnp.float32))
        T_hat = self.temperature_int(T)
        return (dC < 0) | (r == 0) | (dC < T_hat * self.clz(r))

    def heat_bath(self, drive, T, b):
        """Fire mask with ``P = σ(drive/T)`` (Glauber / Gibbs / p-bit), ``drive`` in state dtype."""
        if not self.integer:
            return self.uniform(b) < jax.nn.sigmoid(drive * (jnp.float32(1.0) / T))
        r = self.random_int(b)
        u = r << jnp.uint32(24 - self.rng_bits) if self.rng_bits <= 24 else r >> jnp.uint32(self.rng_bits - 24)
        return drive > mul_shift(self.temperature_reg(T), logistic_q8(u), _TFRAC + _LFRAC)


def chip_layer(hardware, W, bias=None, *, scale: float | None = None, updates: str = "all") -> ChipLayer:
    """Map (refusing a problem that does not fit, with the numbers), quantise and report.

    ``hardware``: a :class:`~neurosim.hardware.HardwareProfile` or None; ``W``: the weights one
    spike delivers; ``bias``: per-neuron state constant (default 0); ``scale``: force the common
    quantisation scale (integer profiles); ``updates``: ``"all"`` or ``"one"`` (see module doc)."""
    from ._mapping import map_to_cores

    if updates not in UPDATES:
        raise ValueError(f"updates must be one of {UPDATES}, got {updates!r}")
    n = W.n
    b = np.zeros(n) if bias is None else np.asarray(bias, dtype=np.float64).reshape(-1)
    if b.shape[0] != n:
        raise ValueError(f"bias has length {b.shape[0]}, W is {n}×{n}")
    if hardware is None:
        if scale is not None:
            raise ValueError("scale= is a quantisation setting: it needs an integer hardware profile")
        return ChipLayer(None, None, None, 1.0, updates)
    mapping = map_to_cores(hardware, W)  # refuses before the run, with the numbers
    if not hardware.integer:
        return ChipLayer(hardware, None, mapping, 1.0, updates)
    qz = hardware.quantize(W, b, scale=scale)
    return ChipLayer(hardware, qz, mapping, float(qz.scale), updates)
