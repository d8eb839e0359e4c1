"""NeuroSA: ON–OFF integrate-and-fire neuron pairs with a Fowler–Nordheim annealer (SPEC §4.3).

Chen et al., "ON-OFF neuromorphic ISING machines using Fowler-Nordheim annealers", Nature
Communications 16, 3086 (2025); algorithm as in the authors' CPU code (github.com/czihao/neurosa).

Each spin ``s_p ∈ {±1}`` is a pair of neurons, ON and OFF, sharing the membrane potential (local
field) ``u_p = Σ_j A_pj s_j + b_p`` with ``A = 2J``, ``b = 2h`` (for Max-Cut ``A = -w``), so that the
gain of flipping ``p`` is ``g_p = -s_p u_p = -ΔH_p`` (the change of the cut, for Max-Cut). The pair
fires — the ON neuron if ``s_p = -1`` (``s_p ← +1``), the OFF neuron if ``s_p = +1`` (``s_p ← -1``),
reset by subtraction, i.e. the spin flips — when the gain beats a noisy threshold::

    g_p > μ_p,n = T_n · ln(B·U + ε),   U ~ Uniform(0, 1) fresh per test,
    T_n = T0 / ln(1 + t_n / C),  t_n = t0 + n·δ        (Fowler–Nordheim annealer)

with the published constants C = 8e4, T0 = 0.3125, t0 = 1, δ = 2e-3, B = 2.5, ε = 1e-6 for every graph
(1e8 iterations). The test is evaluated in this form, with the logarithm, so the firing probability
is ``min(1, max(0, (e^{g/T} − ε)/B))``. In random-scan mode ``U`` comes from the step's random word
itself (the engine's per-(seed, replica, step) hash), not from a further hash of it.

Asynchrony (one flip per iteration), both as in the paper:

* ``mode="random_scan"`` (default; the authors' CPU code): each iteration tests one pair.
  ``sites="shared"`` (default, fast): the tested pair is the same in every replica at a given
  iteration, drawn from ``(site_seed, step)`` only. Each replica on its own is exactly the authors'
  chain (sites i.i.d. uniform, independent of that replica's noise), but replicas are correlated
  through the common site sequence. This lets a step gather whole rows of the (n, R) spin array (the
  replica axis is minor), which is what makes it fast. ``sites="independent"``: every replica draws
  its own site from its own random stream (fully independent replicas, slower: per-element gathers).
* ``mode="arbiter"`` (the paper's clocked hardware): every pair tests in parallel, one of the pairs
  that would fire is chosen uniformly (by the arbiter) and only it flips; ``active`` counts the pairs
  above threshold.

Noise ablations (``noise=``): ``"exponential"`` (the published ``ln(B·U + ε)``), ``"gaussian"`` and
``"uniform"`` — the latter two with the same mean (``ln B − 1``) and variance (1) as ``ln(B·U)``.
Schedule ablations (``schedule=``): ``"fn"`` (default), ``"inverse"`` (``1/t``) and ``"exp"``
(``e^{-t}``); the ablations start and end at the FN annealer's temperatures at step 0 and step
``horizon``. Any :class:`neurosim.schedules.AbstractSchedule` is accepted too.

``horizon`` (default 1e8, the published run length) is the number of iterations the annealer is laid
out for: unless ``delta`` is given, ``δ = 2e-3 · 1e8 / horizon``, so that a shorter run (e.g.
``neurosim solve … --steps 1e6``: the CLI passes ``horizon=steps``) still ends at the published final temperature.

Performance notes (measured on the 2-core CPU; figures and method in docs/neurosa.md, "Performance").
On XLA:CPU a step of this model is a few µs of work at most; what costs is the number of separately
dispatched kernels per step (~0.05–0.1 µs each). Hence:

* the state is laid out (n, R), replica axis minor, so that one pair's spins in all replicas are one
  contiguous row (a dynamic slice, not a gather);
* the field of the pair tested at the *next* step is prefetched at the end of each step, after the
  spin write, so that no read of the old spin array remains to force XLA to copy it (a full (n, R)
  copy per step otherwise);
* the threshold is computed with its logarithm, ``μ = T ln(B·U + ε)``: a transcendental is kept in
  memory by XLA, while the cheap equivalent ``B·U < e^{g/T} − ε`` had its hash + compare duplicated into
  both consumers (spin write, energy update);
* the neighbour sum runs over the row in unrolled chunks of ``chunk = 4`` rows in a loop of
  ``ceil(degree / 4)`` trips; the neighbour indices and weights are sliced from the tables inside the
  loop. Wider chunks are slower per row in XLA's unrolled dynamic-slice sum, and both choices keep
  the bytes a step touches small, which lets XLA compile the whole step loop (few replicas) or the
  neighbour loop (≤ ~100 replicas) as one function instead of dispatching its kernels one by one
  (XLA's ``xla_cpu_small_while_loop_byte_threshold``, 1024 bytes by default; raising it makes every
  replica count run so — see the docs);
* outputs that are not recorded (``active``, spikes, threshold, …) are dead code inside the engine's
  loop and are removed by XLA (checked on the optimised HLO).
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
from neurosim._rowtable import RowTable
from neurosim.hardware import HardwareProfile
from neurosim.hardware._layer import ChipLayer, chip_layer
from neurosim.schedules import AbstractSchedule, Exponential, FowlerNordheim, InverseTime

# random streams (counter offsets) of this model
_S_TEST = 0  # U of the threshold test
_S_TEST2 = 1  # second uniform (Gaussian noise)
_S_SITE = 2  # independent site of the next step
_S_PICK = 3  # arbiter pick
_S_ACTIVE = 4  # noise of the on-demand "active" count (random scan)

_NOISES = ("exponential", "gaussian", "uniform")
_MODES = ("random_scan", "arbiter")
_SITES = ("shared", "independent")
_SCHEDULES = ("fn", "inverse", "exp")


class ScanState(NamedTuple):
    """Random-scan state. Replica axis last in every array of ndim ≥ 1."""

    s: jax.Array  # int8 (n, R)
    energy: jax.Array  # float32 (R,)
    site: jax.Array  # int32 () shared, or (R,) independent: the pair tested at the next step
    row: jax.Array  # int8 (R,): s[site]
    u: jax.Array  # float32 (R,): field of s[site]


class ArbiterState(NamedTuple):
    s: jax.Array  # int8 (n, R)
    u: jax.Array  # float32 (n, R): fields A s + b
    energy: jax.Array  # float32 (R,)


def _check_positive(name, value):
    if not (isinstance(value, (int, float, np.integer, np.floating)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


class NeuroSA(AbstractModel):
    table: RowTable  # neighbours and weights A = 2J, (n, R)-layout row sums
    b: jax.Array  # float32 (n,): 2h
    site_key: jax.Array  # uint32 (2,): key of the shared site sequence
    schedule: AbstractSchedule
    offset: float = eqx.field(static=True)
    B: float = eqx.field(static=True)
    eps: float = eqx.field(static=True)
    noise: str = eqx.field(static=True)
    threshold_form: str = eqx.field(static=True)  # "code": ln(B·U + ε) (authors' code); "paper": log(U/B + ε) as printed
    mode: str = eqx.field(static=True)
    sites: str = eqx.field(static=True)
    site_seed: int = eqx.field(static=True)
    _n: int = eqx.field(static=True)
    hardware: object = eqx.field(static=True, default=None)  # None, or a chip profile (models/_neurosa_chip.py)
    quantization: object = eqx.field(static=True, default=None)  # integer profile: the quantiser's report
    chip: ChipLayer = eqx.field(static=True, default=None)  # the chip layer (mapping, quantisation, report)
    onchip: object = None  # NeuroSAChip under a profile: runs every step (hardware=None never reaches it)
    # (schedule name, T0, C, t0) when neither horizon= nor delta= was given: the annealer follows the run
    run_anneal: tuple | None = eqx.field(static=True, default=None)

    native = "ising"
    state_replica_axis = -1
    observables = ("on_spikes", "off_spikes", "spikes", "event", "site", "threshold", "temperature", "active", "overflow")

    def __init__(
        self,
        problem,
        *,
        mode: str = "random_scan",
        noise: str = "exponential",
        schedule: str | AbstractSchedule = "fn",
        T0: float = 0.3125,
        C: float = 8e4,
        t0: float = 1.0,
        delta: float | None = None,
        B: float = 2.5,
        eps: float = 1e-6,
        horizon: int | None = None,
        sites: str = "shared",
        site_seed: int = 0,
        chunk: int = 4,
        hardware=None,
        ln_frac: int = 9,
        threshold_form: str = "code",
    ):
        if threshold_form not in ("code", "paper"):
            raise ValueError(f"NeuroSA threshold_form must be 'code' (ln(B·U + ε)) or 'paper' (log(U/B + ε)), got {threshold_form!r}")
        if threshold_form == "paper" and (hardware is not None or noise != "exponential"):
            raise ValueError("NeuroSA threshold_form='paper' is a float, exponential-noise option (hardware=None, noise='exponential')")
        if mode not in _MODES:
            raise ValueError(f"NeuroSA mode must be one of {_MODES}, got {mode!r}")
        if noise not in _NOISES:
            raise ValueError(f"NeuroSA noise must be one of {_NOISES}, got {noise!r}")
        if sites not in _SITES:
            raise ValueError(f"NeuroSA sites must be one of {_SITES}, got {sites!r}")
        T0, C, t0, B = (_check_positive(k, v) for k, v in (("T0", T0), ("C", C), ("t0", t0), ("B", B)))
        # Under a chip profile too: the integer path's temperature table is rebuilt for each run's length
        # (a profile run of 65 536 iterations laid over the published 1e8 ended hot: issue 14's finding).
        follow_run = horizon is None and delta is None and isinstance(schedule, str) and schedule in ("fn", "inverse", "exp")
        self.run_anneal = (schedule, T0, C, t0) if follow_run else None
        horizon = 100_000_000 if horizon is None else horizon  # the published run length; each run lays it out again
        if isinstance(horizon, (float, np.floating)) and float(horizon).is_integer():
            horizon = int(horizon)  # "1e6" from the command line
        if not (isinstance(horizon, (int, np.integer)) and horizon >= 1):
            raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
        horizon = int(horizon)
        # The published δ = 2e-3 is for 1e8 iterations; a shorter horizon compresses the annealer in
        # time so that the run still ends at the published final temperature.
        delta = _check_positive("delta", 2e-3 * 1e8 / horizon if delta is None else delta)
        if not (isinstance(eps, (int, float)) and 0 <= eps < 1):
            raise ValueError(f"eps must be a number in [0, 1), got {eps!r}")
        if not isinstance(site_seed, (int, np.integer)):
            raise ValueError(f"site_seed must be an integer, got {site_seed!r}")

        if isinstance(schedule, AbstractSchedule):
            self.schedule = schedule
        elif schedule in ("fn", "inverse", "exp"):
            self.schedule = _annealer(schedule, T0, C, t0, delta, horizon)
        else:
            raise ValueError(f"NeuroSA schedule must be one of {_SCHEDULES} or a neurosim schedule, got {schedule!r}")

        ising = problem.to_ising()
        n = ising.n
        self._n = n
        A, b = ising.J.scaled(2.0), 2.0 * np.asarray(ising.h, dtype=np.float64)
        if hardware is not None and not isinstance(hardware, HardwareProfile):
            raise ValueError(f"hardware must be None or a neurosim.hardware profile (LOIHI2, SPINNAKER2), got {hardware!r}")
        # mapping (refuses a problem that does not fit), quantisation (integer profile) and report
        self.hardware, self.onchip = hardware, None
        self.chip = chip_layer(hardware, A, b, updates="one" if mode == "random_scan" else "all")
        self.quantization = self.chip.quantization
        A, b = self.chip.weights(A), self.chip.biases(b)
        if hardware is not None:  # per-PE random numbers, cross-PE arbiter, integer threshold and register
            from ._neurosa_chip import build_chip

            self.onchip = build_chip(self.chip, mode=mode, noise=noise, schedule=self.schedule, horizon=horizon, B=B, eps=eps,
                                     ln_frac=ln_frac)
        # Neighbour rows summed per loop trip (unrolled); widths measured in docs/neurosa.md.
        self.table = RowTable(A, chunk=chunk)
        self.b = jnp.asarray(b, dtype=jnp.float32)
        self.offset = float(ising.offset)
        self.B, self.eps = B, float(eps)
        self.noise, self.mode, self.sites = noise, mode, sites
        self.threshold_form = threshold_form
        self.site_seed = int(site_seed)
        self.site_key = nsr.replica_keys(self.site_seed, np.array([0xFFFFFFFF], dtype=np.uint32))[0]

    @property
    def n(self) -> int:
        return self._n

    def with_run_length(self, steps: int) -> "NeuroSA":
        """The same model with its annealer laid out over ``steps`` iterations (δ = 2e-3·1e8/steps),
        unless ``horizon=``, ``delta=`` or a schedule object was given. Under a chip profile the chip
        half (the integer path's host-computed temperature table) is rebuilt for the new schedule."""
        if self.run_anneal is None:
            return self
        name, T0, C, t0 = self.run_anneal
        schedule = _annealer(name, T0, C, t0, 2e-3 * 1e8 / int(steps), int(steps))
        out = eqx.tree_at(lambda m: m.schedule, self, schedule)
        if self.onchip is not None:
            from ._neurosa_chip import build_chip

            onchip = build_chip(self.chip, mode=self.mode, noise=self.noise, schedule=schedule, horizon=int(steps),
                                B=self.B, eps=self.eps, ln_frac=self.onchip.ln_frac)
            out = eqx.tree_at(lambda m: m.onchip, out, onchip)
        return out

    @property
    def default_best_every(self) -> int:
        # A capture transposes the (n, R) spins; a random-scan step costs O(degree) per replica.
        return 1 if self.mode == "arbiter" else max(1, self._n)

    def describe(self) -> dict:
        out = super().describe()
        out["schedule"] = type(self.schedule).__name__
        out.update({k: float(v) for k, v in self.schedule.__dict__.items() if hasattr(v, "shape") and v.shape == ()})
        return out

    # ------------------------------------------------------------------ helpers
    def _full_field(self, s):
        """``A s + b`` for the whole (n, R) spin array."""
        return self.table.full(s) + self.b[:, None]

    def _site_field(self, s, i):
        """Field of pair ``i`` (int32 scalar: shared; (R,): one per replica) in every replica."""
        if jnp.ndim(i) == 0:
            return self.table.row_sum(s, i, init=self.b[i])  # whole contiguous rows (RowTable)
        return self.table.row_sums(s, i) + jnp.take(self.b, i)

    def _next_site(self, t_next, key):
        if self.sites == "shared":
            word = nsr.step_words(self.site_key, t_next)
            return nsr.randint(nsr.bits(word, np.uint32(0)), self._n)
        return nsr.randint(nsr.bits(key, nsr.counters(1, _S_SITE)[0]), self._n)

    def _prefetch(self, s, t_next, key):
        i = self._next_site(t_next, key)
        if self.sites == "shared":
            row = jax.lax.dynamic_index_in_dim(s, i, 0, keepdims=False)
        else:
            row = s[i, jnp.arange(s.shape[1])]
        return i, row, self._site_field(s, i)

    def _fires(self, gain, T, b1, b2):
        """Threshold test ``gain > μ`` with random words ``b1`` (and ``b2``, Gaussian noise).

        In the paper's form, with the logarithm: XLA keeps a transcendental's result in memory
        instead of recomputing it in every consumer, so the random words are hashed once per test
        (with ``B U < e^{g/T} − ε``, the cheap hash + compare was duplicated into both the spin
        write and the energy update)."""
        return gain > self._threshold(T, b1, b2)

    def _threshold(self, T, b1, b2):
        if self.noise == "exponential":
            u = nsr.to_uniform(b1)
            # "paper" (the form printed in Chen et al.): P(fire) = min(1, B(e^{g/T} − ε)), a neutral move
            # always fires; "code" (the authors' code, the default): min(1, (e^{g/T} − ε)/B), 0.4 at B = 2.5
            return T * jnp.log((u / self.B if self.threshold_form == "paper" else u * self.B) + self.eps)
        mean = math.log(self.B) - 1.0  # moments of ln(B U): mean ln B − 1, variance 1
        if self.noise == "gaussian":
            return T * (mean + nsr.to_normal(b1, b2))
        return T * (mean + math.sqrt(12.0) * (nsr.to_uniform(b1) - 0.5))

    def _words(self, key, c):
        """The test's random words: ``b1`` = ``bits(key, c)`` and, for Gaussian noise, ``b2``.
        ``c=None``: ``b1`` is the step word itself (already a hash of (seed, replica, step))."""
        b1 = key if c is None else nsr.bits(key, c)
        c2 = nsr.counters(1, _S_TEST2)[0] if c is None else c ^ np.uint32(0x9E3779B9)
        b2 = nsr.bits(key, c2) if self.noise == "gaussian" else None
        return b1, b2

    # ------------------------------------------------------------------ state
    def init(self, states, *, key):
        s = self.random_states(key) if states is None else jnp.asarray(states, jnp.int8)
        s = s.T  # (n, R)
        u = self._full_field(s)
        if self.onchip is not None:
            return self.onchip.init(self, s, u, key=key)
        sf = s.astype(jnp.float32)
        energy = -0.25 * jnp.sum(sf * (u + self.b[:, None]), axis=0) + self.offset
        if self.mode == "arbiter":
            return ArbiterState(s, u, energy)
        i, row, ui = self._prefetch(s, jnp.int32(0), nsr.bits(key, np.uint32(0x5A5A5A5A)))
        return ScanState(s, energy, i, row, ui)

    def read(self, state):
        return state.s.T

    def fused_steps(self, state, t_start, nsteps: int, keys):
        """``nsteps`` random-scan iterations in one fused kernel where one applies (one replica, CPU:
        ``neurosim/_fastchain.py``; bit-identical to :meth:`step`), else None (the engine steps)."""
        from neurosim import _fastchain

        if self.mode != "random_scan" or not _fastchain.eligible(self, state):
            return None
        return _fastchain.scan_steps(self, state, t_start, nsteps, keys)

    def fused_blocks(self, state, best_e, best_s, t_start, n_blocks: int, block: int, keys):
        """As :meth:`fused_steps` for ``n_blocks`` capture blocks, with the engine's best-state capture
        after each: (state, best_e, best_s, energy after each block), or None."""
        from neurosim import _fastchain

        if self.mode != "random_scan" or not _fastchain.eligible(self, state):
            return None
        return _fastchain.scan_blocks(self, state, best_e, best_s, t_start, n_blocks, block, keys)

    # ------------------------------------------------------------------ dynamics
    def step(self, state, t, *, key):
        if self.onchip is not None:
            return self.onchip.step(self, state, t, key=key)
        T = self.schedule(t)
        if self.mode == "arbiter":
            return self._step_arbiter(state, t, T, key)
        return self._step_scan(state, t, T, key)

    def _step_scan(self, state, t, T, key):
        s, energy, i, row, u = state
        R = s.shape[1]
        b1, b2 = self._words(key, None)
        gain = -row.astype(jnp.float32) * u
        fire = self._fires(gain, T, b1, b2)
        new = jnp.where(fire, -row, row)
        if self.sites == "shared":
            s = jax.lax.dynamic_update_index_in_dim(s, new, i, 0)
        else:
            s = s.at[i, jnp.arange(R)].set(new)
        energy = energy - jnp.where(fire, gain, 0.0)
        # All reads of s below come after the write (see the module notes).
        i_next, row_next, u_next = self._prefetch(s, t + 1, key)

        ii = jnp.broadcast_to(i, (R,))
        on = (fire & (row < 0)).astype(jnp.int8)
        off = (fire & (row > 0)).astype(jnp.int8)

        def onehot(v):
            return jnp.where(jnp.arange(self._n)[None, :] == ii[:, None], v[:, None], jnp.int8(0))

        def active():
            # pairs that would fire if tested now, each with its own fresh noise
            sf = s.astype(jnp.float32)
            g_all = -sf * self._full_field(s)
            w1, w2 = self._words(key[None, :], nsr.counters(self._n, _S_ACTIVE)[:, None])
            return jnp.sum(self._fires(g_all, T, w1, w2), axis=0, dtype=jnp.int32)

        outs = {
            "energy": energy,
            "temperature": T,
            "threshold": self._threshold(T, b1, b2),
            "site": ii,
            "event": on - off,
            "on_spikes": onehot(on),
            "off_spikes": onehot(off),
            "spikes": onehot(on + off),
            "active": active(),
            "overflow": jnp.zeros((R,), bool),  # float32: never (an integer profile's flag)
        }
        return ScanState(s, energy, i_next, row_next, u_next), outs

    def _step_arbiter(self, state, t, T, key):
        s, u, energy = state
        n, R = s.shape
        cols = jnp.arange(R)
        c = nsr.counters(n, _S_TEST)[:, None]
        gain = -s.astype(jnp.float32) * u  # (n, R)
        b1, b2 = self._words(key[None, :], c)
        fire = self._fires(gain, T, b1, b2)
        count = jnp.sum(fire, axis=0, dtype=jnp.int32)  # (R,)
        # the arbiter: the k-th firing pair, k uniform in [0, count)
        upick = nsr.uniform(key, nsr.counters(1, _S_PICK)[0])
        k = jnp.minimum((upick * count.astype(jnp.float32)).astype(jnp.int32), jnp.maximum(count - 1, 0))
        csum = jnp.cumsum(fire.astype(jnp.int32), axis=0)
        j = jnp.argmax(csum > k[None, :], axis=0).astype(jnp.int32)  # (R,)
        has = count > 0
        sj = s[j, cols]
        gj = gain[j, cols]
        new = jnp.where(has, -sj, sj)
        d = (new - sj).astype(jnp.float32)  # 0 or ±2
        s = s.at[j, cols].set(new)
        nbj = jnp.take(self.table.nb, j, axis=0)  # (R, K)
        wj = jnp.take(self.table.w, j, axis=0)
        u = u.at[nbj, cols[:, None]].add(wj * d[:, None])
        energy = energy - jnp.where(has, gj, 0.0)
        on = (has & (sj < 0)).astype(jnp.int8)
        off = (has & (sj > 0)).astype(jnp.int8)

        def onehot(v):
            return jnp.where(jnp.arange(n)[None, :] == j[:, None], v[:, None], jnp.int8(0))

        outs = {
            "energy": energy,
            "temperature": T,
            "threshold": self._threshold(T, b1, b2).T,
            "site": j,
            "event": on - off,
            "on_spikes": onehot(on),
            "off_spikes": onehot(off),
            "spikes": onehot(on + off),
            "active": count,
            "overflow": jnp.zeros((R,), bool),
        }
        return ArbiterState(s, u, energy), outs


def _annealer(name: str, T0, C, t0, delta, horizon: int) -> AbstractSchedule:
    """The FN annealer, or its 1/t or e^-t ablation between the same end temperatures over ``horizon``."""
    fn = FowlerNordheim(T0=T0, C=C, t0=t0, delta=delta)
    if name == "fn":
        return fn
    t_start = float(fn(jnp.int32(0)))
    t_end = float(T0 / math.log1p((t0 + (horizon - 1) * delta) / C))
    return (InverseTime if name == "inverse" else Exponential).anneal(t_start, t_end, horizon)
