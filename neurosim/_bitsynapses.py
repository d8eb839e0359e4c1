"""Bit-plane synapses: integer couplings as packed bit matrices, fields by popcount.

When every coupling is a small integer multiple of one unit ``u`` (Max-Cut with ±1 weights, MIS,
anything a hardware profile quantised to a few bits), ``W = u · Σ_p c_p B_p`` with 0/1 matrices
``B_p`` (bit ``b`` of the positive or of the negative part: ``c_p = ±2^b``). A binary input
``x ∈ {0,1}^n`` packed 32 neurons to a word then gives

    (W x)_i = u · Σ_p c_p · Σ_w popcount(B_p[i, w] & X[w])                       (exact in int32)

and a spin input ``s = 2x − 1`` gives ``W s = 2·W x − W·1``. One word operation covers 32
synapses, so a full field costs ``planes·n/32`` vector integer operations per neuron instead of
``degree`` gathers or ``n`` multiply-adds: on G1 with 1024 replicas a full recompute is ~15× faster
than a dense float32 matrix product and cheaper than compacting the neurons that changed for an
event-driven update (measured, docs/performance.md). Models that update all neurons at once
(synchronous steps) therefore recompute fields from the packed state each step when this format is
available; the event-driven column update (:meth:`add_columns`) is provided too.

Layout: ``planes_t`` is (P, words, n) — for each plane, word ``w`` of every row, rows minor — so the
field loop reads one word per replica and a contiguous row of n words per plane, and the output
(R, n) is produced along its contiguous axis. Neuron ``j`` is bit ``j // words`` of word ``j % words``
(the strided layout of :func:`pack_bits`).
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._matrix import SymmetricMatrix

#: largest |coupling| / unit a bit-plane matrix is built for (more planes cost more than they save)
MAX_PLANE_BITS = 4


def integer_unit(matrix: SymmetricMatrix, max_bits: int = MAX_PLANE_BITS) -> float | None:
    """The unit ``u`` with every coupling an integer multiple of it and ``max|W|/u < 2^max_bits``, or
    None. Tried: the smallest nonzero |coupling| and that over 2, 3 and 4 (so ±1/±2, ±2/±3 work)."""
    _, _, v = matrix.coo()
    a = np.abs(v[v != 0])
    if a.size == 0:
        return None
    lo, hi = float(a.min()), float(a.max())
    for div in (1, 2, 3, 4):
        u = lo / div
        k = a / u
        if np.all(np.abs(k - np.round(k)) <= 1e-9 * k) and hi / u < 2**max_bits - 0.5:
            return u
    return None


def pack_bits(x, words: int) -> jax.Array:
    """(R, n) 0/1 (any int or bool dtype) → (R, words) uint32 in the strided layout: bit ``b`` of word
    ``w`` is neuron ``b·words + w``. Word ``w`` ORs 32 contiguous slices ``x[:, b·words + w]``, an
    elementwise loop over the words that XLA vectorises with the producer of ``x`` (e.g. a heat-bath
    test) fused in. The contiguous layout (neuron ``32·w + b``) needs a 32-lane reduction instead,
    which XLA:CPU ran as scalar code with the test fused into it: a Gibbs step on dense G(2000, ½)
    × 1024 replicas took 11.3 ms with it, 5.7 ms with this layout (G1 unchanged)."""
    R, n = x.shape
    xb = x.astype(jnp.uint32)
    if words * 32 != n:
        xb = jnp.pad(xb, ((0, 0), (0, words * 32 - n)))
    acc = xb[:, :words]
    for b in range(1, 32):
        acc = acc | (xb[:, b * words:(b + 1) * words] << b)
    return acc


def unpack_bits(X, n: int) -> jax.Array:
    """Inverse of :func:`pack_bits`: (R, words) uint32 → (R, n) uint8 0/1."""
    R, words = X.shape
    bits = (X[:, None, :] >> jnp.arange(32, dtype=jnp.uint32)[None, :, None]) & jnp.uint32(1)  # (R, 32, words)
    return bits.astype(jnp.uint8).reshape(R, 32 * words)[:, :n]


class BitSynapses(eqx.Module):
    """Couplings ``W = unit · Σ_p coef_p · B_p`` stored as packed bit planes (see module docstring).

    ``dtype`` float32 returns fields in problem units (``count · unit``, exact for the small integers
    involved); an integer dtype returns the integer fields (unit 1, for quantised hardware weights).
    """

    planes_t: jax.Array  # uint32 (P, words, n)
    row_sum: jax.Array  # int32 (n,): Σ_j W_ij / unit
    coefs: tuple = eqx.field(static=True)  # (P,) python ints ±2^b
    unit: float = eqx.field(static=True)
    dtype: str = eqx.field(static=True)
    n: int = eqx.field(static=True)
    words: int = eqx.field(static=True)
    chunk: int = eqx.field(static=True)

    def __init__(self, matrix: SymmetricMatrix, *, unit: float | None = None, dtype=jnp.float32):
        unit = integer_unit(matrix) if unit is None else float(unit)
        if unit is None:
            raise ValueError("bit-plane synapses need couplings that are small integer multiples of one unit "
                             f"(|W|/unit < 2^{MAX_PLANE_BITS}); use format 'dense', 'ell' or 'segment'")
        n = matrix.n
        words = max(1, -(-n // 32))
        r, c, v = matrix.coo()
        k = np.round(v / unit).astype(np.int64)
        if np.any(np.abs(k * unit - v) > 1e-9 * np.abs(v)):
            raise ValueError(f"couplings are not integer multiples of unit={unit!r}")
        bits = max(1, int(np.abs(k).max(initial=1)).bit_length())
        planes, coefs = [], []
        for sign in (1, -1):
            mag = np.maximum(sign * k, 0)
            for b in range(bits):
                on = ((mag >> b) & 1).astype(bool)
                if not on.any():
                    continue
                # plane (words, n): word c//32 of row r gets bit c%32
                plane = np.zeros((words, n), dtype=np.uint32)
                np.bitwise_or.at(plane, (c[on] % words, r[on]), (np.uint32(1) << (c[on] // words).astype(np.uint32)))
                planes.append(plane)
                coefs.append(sign * (1 << b))
        if not planes:  # no couplings at all
            planes, coefs = [np.zeros((words, n), np.uint32)], [1]
        self.planes_t = jnp.asarray(np.stack(planes))
        self.row_sum = jnp.asarray(np.bincount(r, weights=k, minlength=n).astype(np.int32))
        self.coefs = tuple(int(x) for x in coefs)
        self.unit = float(unit)
        self.dtype = jnp.dtype(dtype).name
        self.n = int(n)
        self.words = int(words)
        # word-loop unroll: measured best 8 for ≤ 32 words, 16 above (G1 / dense n = 2000, 1024 replicas)
        self.chunk = 8 if words <= 32 else 16

    # ---------------------------------------------------------------- core
    def _counts(self, X) -> jax.Array:
        """``Σ_p coef_p · popcount(B_p & X)`` → int32 (R, n); X packed (R, words). On CPUs without a
        vector popcount (AVX2) the words are first compressed by carry-save adders (same integers;
        ``neurosim/_csapop.py``), elsewhere each word is popcounted directly."""
        from ._csapop import use_csa

        if use_csa():
            return self._counts_csa(X)
        return self._counts_direct(X)

    def _counts_csa(self, X) -> jax.Array:
        from ._csapop import weighted_popcount

        R = X.shape[0]
        # words per compression tree: all of them up to 25 (G1: one pass), else 16 (measured: 32 spills)
        chunk = self.words if self.words <= 25 else 16

        def chunk_counts(w0, nw):
            pos, neg = [], []
            for k in range(nw):
                xw = jax.lax.dynamic_index_in_dim(X, w0 + k, 1, keepdims=True)  # (R, 1)
                for p, c in enumerate(self.coefs):
                    row = jax.lax.dynamic_index_in_dim(self.planes_t[p], w0 + k, 0, keepdims=True)  # (1, n)
                    (pos if c > 0 else neg).append((abs(c).bit_length() - 1, xw & row))
            out = weighted_popcount(pos) if pos else jnp.zeros((R, self.n), jnp.int32)
            return out - weighted_popcount(neg) if neg else out

        full = self.words // chunk
        acc = jnp.zeros((R, self.n), jnp.int32)
        if full == 1:
            acc = chunk_counts(0, chunk)
        elif full > 1:
            acc = jax.lax.fori_loop(0, full, lambda q, a: a + chunk_counts(q * chunk, chunk), acc)
        rest = self.words - full * chunk
        return acc + chunk_counts(full * chunk, rest) if rest else acc

    def _counts_direct(self, X) -> jax.Array:
        R = X.shape[0]
        P = len(self.coefs)

        def add_word(acc, w):
            xw = jax.lax.dynamic_index_in_dim(X, w, 1, keepdims=True)  # (R, 1)
            for p in range(P):
                row = jax.lax.dynamic_index_in_dim(self.planes_t[p], w, 0, keepdims=True)  # (1, n)
                cnt = jax.lax.population_count(xw & row).astype(jnp.int32)
                c = self.coefs[p]
                term = cnt if abs(c) == 1 else cnt << (abs(c).bit_length() - 1)
                acc = acc + term if c > 0 else acc - term
            return acc

        def body(q, acc):
            for k in range(self.chunk):
                acc = add_word(acc, q * self.chunk + k)
            return acc

        full = self.words // self.chunk
        acc = jax.lax.fori_loop(0, full, body, jnp.zeros((R, self.n), jnp.int32))
        for w in range(full * self.chunk, self.words):
            acc = add_word(acc, w)
        return acc

    def _out(self, counts):
        if jnp.issubdtype(jnp.dtype(self.dtype), jnp.integer):
            return counts
        return counts.astype(jnp.float32) * jnp.float32(self.unit)

    # ---------------------------------------------------------------- the synapse interface
    def field(self, x) -> jax.Array:
        """``W x`` for inputs with values in {−1, 0, 1} (R, n): ``W·[x > 0] − W·[x < 0]``. Use
        :meth:`field_bits` / :meth:`field_spins` when the inputs are known to be 0/1 or ±1 (one pass)."""
        return self._out(self._counts(pack_bits(x > 0, self.words)) - self._counts(pack_bits(x < 0, self.words)))

    def field_bits(self, x) -> jax.Array:
        """``W x`` for 0/1 inputs ``x`` (R, n)."""
        return self._out(self._counts(pack_bits(x, self.words)))

    def field_spins(self, s) -> jax.Array:
        """``W s`` for ±1 inputs ``s`` (R, n): ``2·W x − W·1`` with ``x = (s + 1)/2``."""
        counts = 2 * self._counts(pack_bits(s > 0, self.words)) - self.row_sum[None, :]
        return self._out(counts)

    def columns(self, idx) -> jax.Array:
        """Columns ``W[:, idx]`` as (…, n) in the output dtype (W symmetric: rows = columns)."""
        word = idx % self.words
        shift = (idx // self.words).astype(jnp.uint32)
        col = jnp.zeros(idx.shape + (self.n,), jnp.int32)
        for p, c in enumerate(self.coefs):
            w = jnp.take(self.planes_t[p], word, axis=0)  # (…, n)
            col = col + c * ((w >> shift[..., None]) & jnp.uint32(1)).astype(jnp.int32)
        return self._out(col)

    def add_columns(self, field, idx, dx):
        """Event-driven update ``field + Σ_k W[:, idx_k] dx_k`` (idx, dx: (R, k))."""
        cols = self.columns(idx)  # (R, k, n)
        return field + jnp.einsum("rk,rkn->rn", dx.astype(cols.dtype), cols).astype(field.dtype)

    def local_field(self, x, i):
        """``(W x)_{i_r}`` for one neuron per replica, x ±1 or 0/1 values (R, n)."""
        rows = self.columns(i)  # (R, n): row i = column i
        return jnp.sum(rows * x.astype(rows.dtype), axis=-1)

    @property
    def nbytes(self) -> int:
        return int(self.planes_t.size) * 4 + int(self.row_sum.size) * 4

    @property
    def ops_per_neuron(self) -> int:
        """Word operations per neuron of a full field (for choosing formats)."""
        return len(self.coefs) * self.words


def bit_cost_ok(matrix: SymmetricMatrix) -> bool:
    """Is a full bit-plane recompute cheap enough to use for synchronous steps? True when the couplings
    fit bit planes and the word operations per neuron (planes · n/32) stay within ~4× the maximum
    degree plus a constant (a word op costs ~¼ of a gathered multiply-add; measured on G1, G22 and
    dense G(2000, ½)). Sparse giant graphs (G70: degree ≤ 10, 313 words) stay on sparse formats."""
    unit = integer_unit(matrix)
    if unit is None:
        return False
    _, _, v = matrix.coo()
    bits = max(1, int(np.round(np.abs(v).max(initial=unit) / unit)).bit_length())
    signs = int(np.any(v > 0)) + int(np.any(v < 0))
    words = math.ceil(matrix.n / 32)
    return bits * max(1, signs) * words <= 4 * int(matrix.degrees().max(initial=0)) + 64
