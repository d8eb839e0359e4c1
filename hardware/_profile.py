"""The hardware-profile API every model uses (``hardware=`` in a model constructor).

A profile changes *how* a model computes, not *what* it models. It is a small, hashable
``eqx.Module`` with only static fields (so a model keeps it as a static field and a changed bit
width recompiles, as it should). The whole API:

Construction and sweeps
    ``LOIHI2.replace(weight_bits=4, state_bits=16, chips=2)`` → a new, validated profile.
    ``profile.integer``: True when weights/state are integers (Loihi 2); False for float
    profiles (SpiNNaker2: float32 FPU), where :meth:`quantize` is the identity with scale 1.

Couplings → integers (host side, float64 in, exact integers out)
    ``q = profile.quantize(W, bias)``: ``W`` a :class:`~neurosim.SymmetricMatrix` of synaptic
    weights (the coefficient each spike delivers), ``bias`` a length-n vector held in neuron state.
    One common scale ``s`` (weight units per problem unit) is chosen so the largest ``|W|`` fits
    ``weight_bits`` signed bits and every bias fits the ``state_bits`` state word (QPU-style
    auto-scale; integer problems get an integer scale so they stay exact). Returns :class:`Quantized`: ``W`` (integer-valued SymmetricMatrix),
    ``bias`` (int64), ``scale``, ``max_error`` (largest |coefficient error| in problem units),
    ``collapsed`` (the (i, j) pairs, i < j, whose nonzero coupling rounded to 0), and
    ``report()`` / ``str()``. An integer energy ``E_int`` means ``E_int / scale`` problem units;
    the engine re-evaluates best states with the original problem, so reported energies are
    always in the original units.

State words (device side, inside the step)
    ``profile.saturate(v)`` → ``(clipped v, overflow (R,) bool)``: clips to the signed
    ``state_bits`` range the way the chip's saturating adders do and says which replicas hit the
    rail. Models keep a sticky per-replica ``overflow`` flag in their state and output it, so an
    overflow is reported, never silent.

Random numbers (device side)
    ``profile.random_bits(word, c)`` → uint32 numbers in ``[0, 2^rng_bits)``: the top
    ``rng_bits`` bits of :func:`neurosim.random.bits` (a counter-based hash; a replica's numbers
    depend only on seed, replica, step, neuron, stream). Loihi 2's per-neuron PRNG is not
    publicly specified bit for bit; this is a documented stand-in of the same width.
    ``clz(r)`` counts leading zeros of an ``rng_bits``-bit word; ``clz_accept(dC, T_hat, r)`` is
    the chip's exp-free Metropolis test ``dC < 0 or r == 0 or dC < T_hat·clz(r)``.

Temperature
    ``profile.temperature_int(T, scale)`` → ``T̂ = round(T·scale·ln 2)`` clipped to
    ``[1, 2^temperature_bits − 1]`` (``T̂ = T / log2 e`` in weight units).

Capacity
    ``profile.map(W)`` → :class:`~neurosim.hardware._mapping.Mapping` (neurons → cores, cores and
    chips used, synapse memory per core, cross-core spike fan-out), or ``ValueError`` with the
    numbers when the problem does not fit ``chips`` chips.
"""

from __future__ import annotations

import dataclasses
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from neurosim import random as nsr
from neurosim._matrix import SymmetricMatrix


@dataclasses.dataclass(frozen=True, eq=False)
class Quantized:
    """Integer couplings and the record of what quantisation did (all host-side numpy)."""

    W: SymmetricMatrix  # integer-valued weights (float64 storage)
    bias: np.ndarray  # int64 (n,)
    scale: float  # integer units per problem unit
    weight_bits: int | None
    max_error: float  # max |quantised/scale − original| over weights and biases, problem units
    max_weight_error: float
    max_bias_error: float
    collapsed: np.ndarray  # int64 (k, 2): pairs i < j whose nonzero weight became 0
    collapsed_bias: np.ndarray  # int64 (k,): neurons whose nonzero bias became 0
    exact: bool  # no coefficient changed

    def to_problem_units(self, value):
        return np.asarray(value, dtype=np.float64) / self.scale

    def report(self) -> dict:
        return {
            "scale": self.scale,
            "weight_bits": self.weight_bits,
            "max_abs_weight": int(self.W.max_abs()) if self.weight_bits else self.W.max_abs(),
            "max_error": self.max_error,
            "max_weight_error": self.max_weight_error,
            "max_bias_error": self.max_bias_error,
            "n_collapsed": int(len(self.collapsed)),
            "collapsed": self.collapsed.tolist()[:20],
            "n_collapsed_bias": int(len(self.collapsed_bias)),
            "exact": self.exact,
        }

    def __str__(self) -> str:
        if self.weight_bits is None:
            return "float weights (no quantisation)"
        s = (
            f"int{self.weight_bits} weights, scale {self.scale:.6g} units per problem unit, "
            f"max quantisation error {self.max_error:.3g} (problem units)"
        )
        if len(self.collapsed) or len(self.collapsed_bias):
            s += f"; {len(self.collapsed)} couplings and {len(self.collapsed_bias)} biases collapsed to 0"
            if len(self.collapsed):
                s += f" (first: {[tuple(p) for p in self.collapsed[:5].tolist()]})"
        return s


class HardwareProfile(eqx.Module):
    """A chip's arithmetic and capacity. All fields static; see the module docstring for the API."""

    name: str = eqx.field(static=True)
    #: signed synaptic weight bits; None = float32 weights (no quantisation)
    weight_bits: int | None = eqx.field(static=True, default=8)
    #: signed neuron-state bits (membrane / synaptic input / bias); None = float32
    state_bits: int | None = eqx.field(static=True, default=24)
    #: bits of the per-neuron random number drawn each step
    rng_bits: int = eqx.field(static=True, default=24)
    #: unsigned bits of the temperature register
    temperature_bits: int | None = eqx.field(static=True, default=16)
    #: Metropolis test the chip can run: "clz" (no exp/division) or "exp"
    metropolis: str = eqx.field(static=True, default="clz")
    # capacity --------------------------------------------------------------------
    cores_per_chip: int = eqx.field(static=True, default=128)
    neurons_per_core: int = eqx.field(static=True, default=8192)
    neurons_per_chip: int = eqx.field(static=True, default=1 << 20)
    synapses_per_chip: int = eqx.field(static=True, default=120_000_000)
    #: memory per core available to neuron state + synapses (bytes); None = not the binding limit
    memory_per_core: int | None = eqx.field(static=True, default=None)
    bytes_per_neuron: int = eqx.field(static=True, default=0)
    bytes_per_synapse: int = eqx.field(static=True, default=0)
    #: number of chips in the declared system
    chips: int = eqx.field(static=True, default=1)
    #: where the figures come from (shown in docs and reports)
    sources: tuple = eqx.field(static=True, default=())
    #: chip time/energy model (:class:`~neurosim.hardware.CostModel`), None = no cost estimate
    cost: object = eqx.field(static=True, default=None)

    def __check_init__(self):
        def bits(name, v, lo, hi, allow_none=True):
            if v is None and allow_none:
                return
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or not lo <= v <= hi:
                raise ValueError(f"{name} must be an int in {lo}..{hi}{' or None' if allow_none else ''}, got {v!r}")

        bits("weight_bits", self.weight_bits, 2, 16)
        bits("state_bits", self.state_bits, 4, 31)
        bits("rng_bits", self.rng_bits, 1, 32, allow_none=False)
        bits("temperature_bits", self.temperature_bits, 2, 31)
        if self.metropolis not in ("clz", "exp"):
            raise ValueError(f"metropolis must be 'clz' or 'exp', got {self.metropolis!r}")
        if (self.weight_bits is None) != (self.state_bits is None):
            raise ValueError(
                f"weight_bits and state_bits must both be ints (integer chip) or both None (float chip); "
                f"got weight_bits={self.weight_bits!r}, state_bits={self.state_bits!r}"
            )
        if self.weight_bits is not None and self.state_bits < self.weight_bits:
            raise ValueError(f"state_bits={self.state_bits} must be ≥ weight_bits={self.weight_bits}")
        for name in ("cores_per_chip", "neurons_per_core", "neurons_per_chip", "synapses_per_chip", "chips"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")

    # ---------------------------------------------------------------- construction
    def replace(self, **changes) -> "HardwareProfile":
        """A copy with some fields changed (validated), e.g. ``LOIHI2.replace(weight_bits=4)``."""
        bad = [k for k in changes if k not in {f.name for f in dataclasses.fields(self)}]
        if bad:
            raise ValueError(f"unknown hardware profile field(s) {bad}; fields: {[f.name for f in dataclasses.fields(self)]}")
        return dataclasses.replace(self, **changes)

    @property
    def integer(self) -> bool:
        return self.weight_bits is not None

    @property
    def weight_max(self) -> int:
        return (1 << (self.weight_bits - 1)) - 1

    @property
    def state_max(self) -> int:
        return (1 << (self.state_bits - 1)) - 1

    @property
    def state_min(self) -> int:
        return -(1 << (self.state_bits - 1))

    @property
    def temperature_max(self) -> int:
        return (1 << self.temperature_bits) - 1

    def describe(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d["sources"] = list(self.sources)
        d["cost"] = None if self.cost is None else self.cost.name
        return d

    def label(self) -> str:
        """Short name with the bit widths, e.g. ``loihi2[w8,s24,r24]`` (``float`` for float chips)."""
        if not self.integer:
            return f"{self.name}[float32]"
        return f"{self.name}[w{self.weight_bits},s{self.state_bits},r{self.rng_bits}]"

    # ---------------------------------------------------------------- quantisation (host)
    def quantize(self, W: SymmetricMatrix, bias=None, *, scale: float | None = None) -> Quantized:
        """Scale weights ``W`` and ``bias`` by one factor and round to integers (see module docstring).

        ``scale=None`` picks ``weight_max / max|W|`` (or ``weight_max / max|bias|`` if W is empty),
        lowered if needed so that every bias fits the ``state_bits`` state word, and floored to an
        integer when every coefficient is already an integer, so integer problems (Max-Cut with ±1
        weights, MIS) stay exact whenever that is possible.
        """
        n = W.n
        bias = np.zeros(n) if bias is None else np.asarray(bias, dtype=np.float64).reshape(-1)
        if bias.shape[0] != n:
            raise ValueError(f"bias has length {bias.shape[0]}, W is {n}×{n}")
        _, _, wv = W.coo()
        if not self.integer:
            return Quantized(W, bias.astype(np.float64), 1.0, None, 0.0, 0.0, 0.0, np.zeros((0, 2), np.int64), np.zeros(0, np.int64), True)
        wmax = float(np.abs(wv).max(initial=0.0))
        if scale is None:
            bmax = float(np.abs(bias).max(initial=0.0))
            if wmax == 0 and bmax == 0:
                scale = 1.0
            else:
                scale = self.weight_max / (wmax if wmax > 0 else bmax)
                if bmax > 0:  # biases live in the state word: they must fit it too
                    scale = min(scale, self.state_max / bmax)
                integral = np.all(wv == np.round(wv)) and np.all(bias == np.round(bias))
                if integral and scale >= 1:
                    scale = float(math.floor(scale))
        elif not (np.isfinite(scale) and scale > 0):
            raise ValueError(f"scale must be a positive finite number, got {scale!r}")
        scale = float(scale)
        wq = np.round(wv * scale)
        if np.any(np.abs(wq) > self.weight_max):
            worst = float(np.abs(wv).max())
            raise ValueError(
                f"scale={scale:.6g} puts a weight of {worst:.6g} at {worst * scale:.6g}, outside the int{self.weight_bits} range ±{self.weight_max}"
            )
        bq = np.round(bias * scale)
        if np.any(np.abs(bq) > self.state_max):
            i = int(np.argmax(np.abs(bq)))
            raise ValueError(
                f"bias {bias[i]:.6g} of neuron {i} becomes {bq[i]:.0f} at scale {scale:.6g}, "
                f"outside the {self.state_bits}-bit state range ±{self.state_max}"
            )
        Wq = W.with_values(wq if not W.is_dense else _dense_round(W, scale))
        r, c, _ = W.coo()
        gone = (wv != 0) & (wq == 0) & (r < c)
        collapsed = np.stack([r[gone], c[gone]], axis=1).astype(np.int64) if gone.any() else np.zeros((0, 2), np.int64)
        collapsed_bias = np.flatnonzero((bias != 0) & (bq == 0)).astype(np.int64)
        werr = float(np.abs(wq / scale - wv).max(initial=0.0))
        berr = float(np.abs(bq / scale - bias).max(initial=0.0))
        return Quantized(
            Wq, bq.astype(np.int64), scale, self.weight_bits, max(werr, berr), werr, berr, collapsed, collapsed_bias, werr == 0 and berr == 0
        )

    # ---------------------------------------------------------------- device-side helpers
    def saturate(self, v):
        """Clip int32 ``v`` (R, ...) to the signed state range; also return which replicas overflowed."""
        lo, hi = jnp.int32(self.state_min), jnp.int32(self.state_max)
        over = (v < lo) | (v > hi)
        over = jnp.any(over.reshape(over.shape[0], -1), axis=-1) if v.ndim > 1 else over
        return jnp.clip(v, lo, hi), over

    def random_bits(self, word, c):
        """uint32 numbers in ``[0, 2^rng_bits)``: the top rng_bits of the counter hash."""
        b = nsr.bits(word, c)
        return b if self.rng_bits == 32 else b >> jnp.uint32(32 - self.rng_bits)

    def clz(self, r):
        """Leading zeros of the ``rng_bits``-bit word ``r`` (uint32 → int32; clz(0) = rng_bits)."""
        return jax.lax.clz(r.astype(jnp.uint32)).astype(jnp.int32) - jnp.int32(32 - self.rng_bits)

    def clz_accept(self, dC, T_hat, r):
        """The chip's Metropolis test: accept iff ``dC < 0`` or ``r == 0`` or ``dC < T̂·clz(r)``.

        ``dC`` int32, ``T_hat`` int32 (broadcastable), ``r`` uint32 rng_bits-wide. For a uniform r,
        P(accept | dC ≥ 0) = 2^-min(⌊dC/T̂⌋ + 1, rng_bits): ``exp(-dC/T)`` rounded down to a power
        of two (since ``2^-(dC/T̂) = e^{-dC/T}`` with ``T̂ = T/log2 e``), and ½ at dC = 0."""
        return (dC < 0) | (r == 0) | (dC < T_hat * self.clz(r))

    def temperature_int(self, T, scale: float):
        """``T̂ = round(T·scale·ln 2)`` clipped to ``[1, 2^temperature_bits − 1]`` (host or device)."""
        t = np.round(np.asarray(T, dtype=np.float64) * scale * math.log(2.0))
        return np.clip(t, 1, self.temperature_max).astype(np.int64)

    # ---------------------------------------------------------------- capacity
    def map(self, W: SymmetricMatrix):
        """Assign neurons to cores within the limits; ``ValueError`` with the numbers if it does not fit.

        ``W`` may also be a problem (its couplings are used)."""
        from ._mapping import map_to_cores

        if not isinstance(W, SymmetricMatrix):
            W = W.to_qubo().Q
        return map_to_cores(self, W)


def _dense_round(W: SymmetricMatrix, scale: float) -> np.ndarray:
    return np.round(W.to_dense() * scale)
