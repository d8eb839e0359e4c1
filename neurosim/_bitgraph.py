"""Dense unweighted graphs as packed bits, and spin sweeps on them with popcount fields.

This is the Max-Cut-specialised dense kernel behind the Q-score (``neurosim.qscore``). A dense graph
on n vertices is an ``(n_pad, n_pad/32)`` uint32 matrix: bit ``j % 32`` of word ``j // 32`` of row
``i`` is the edge ``(i, j)``. At n = 50 000 that is 313 MB, where float32 would be 10 GB and an edge
list 1.25e9 pairs. Each spin is a neuron whose binary output is one bit of the packed state ``X``
(bit = 1 ⇔ s = +1); its synaptic input through 1-bit synapses is a popcount:
``f_i = Σ_j A_ij s_j = 2·popcount(A_i & X) − deg_i``, exact in int32.

Sweeps are **exact sequential** (Metropolis, fixed order) but read the matrix only once per sweep:
the neurons are taken in blocks of ``B`` (a multiple of 32). At the start of a block its B fields
are computed from the current state by popcount (B rows × n bits); inside the block the B neurons
update one after another, each flip correcting the fields of the block's other neurons through the
B × B sub-matrix (the only couplings that changed since the block started). So a sweep costs one
pass over the packed matrix plus n small sequential updates — a synchronous-style cost for the
sequential dynamics, which (unlike synchronous updates) does not oscillate on the dense
antiferromagnetic Max-Cut couplings.

Gains are integers: flipping spin i changes the cut by ``g_i = s_i f_i``. Metropolis accepts
``g > 0`` always and ``g ≤ 0`` with probability ``exp(g/T)`` (T = 0: only ``g > 0``). Random numbers
come from :mod:`neurosim.random`, keyed by (seed, replica, sweep, neuron).
"""

from __future__ import annotations

import functools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from . import random as nsr

_BIT = np.arange(32, dtype=np.uint32)


class PackedGraph(eqx.Module):
    """A dense unweighted graph as packed bits. ``bits``: uint32 (n_pad, n_pad // 32), zero outside
    the first n rows/columns; ``deg``: int32 (n_pad,) degrees."""

    bits: jax.Array
    deg: jax.Array
    n: int = eqx.field(static=True)

    @property
    def n_pad(self) -> int:
        return int(self.bits.shape[0])

    @property
    def nbytes(self) -> int:
        return int(self.bits.size) * 4 + int(self.deg.size) * 4


def padded_size(n: int, block: int) -> int:
    if block <= 0 or block % 32:
        raise ValueError(f"block must be a positive multiple of 32, got {block}")
    return -(-int(n) // block) * block


def pack_bits(b) -> jax.Array:
    """bool/0-1 (..., 32k) → uint32 (..., k), bit j%32 of word j//32 = b[..., j]."""
    b = jnp.asarray(b).astype(jnp.uint32)
    b = b.reshape(b.shape[:-1] + (b.shape[-1] // 32, 32))
    return jnp.sum(b << _BIT, axis=-1, dtype=jnp.uint32)  # distinct bits: sum == or


def unpack_bits(w, n: int | None = None) -> jax.Array:
    """uint32 (..., k) → uint8 (..., 32k) bits (truncated to n)."""
    w = jnp.asarray(w, jnp.uint32)
    b = ((w[..., None] >> _BIT) & jnp.uint32(1)).astype(jnp.uint8)
    b = b.reshape(w.shape[:-1] + (w.shape[-1] * 32,))
    return b if n is None else b[..., :n]


def from_adjacency(adj, *, block: int = 128) -> PackedGraph:
    """Pack a dense 0/1 symmetric adjacency matrix (numpy, zero diagonal)."""
    adj = np.asarray(adj)
    n = adj.shape[0]
    if adj.shape != (n, n):
        raise ValueError(f"adjacency must be square, got shape {adj.shape}")
    if not np.array_equal(adj != 0, (adj != 0).T) or np.any(np.diag(adj) != 0):
        raise ValueError("adjacency must be symmetric with a zero diagonal (unweighted simple graph)")
    npad = padded_size(n, block)
    a = np.zeros((npad, npad), np.uint8)
    a[:n, :n] = adj != 0
    bits = pack_bits(a)
    return PackedGraph(bits, jnp.asarray(a.sum(1), jnp.int32), n)


# ---------------------------------------------------------------------------- fields and cuts
@jax.jit
def cut_counts(graph: PackedGraph, X) -> jax.Array:
    """Per-row cut edges, int32 (R, n_pad): row i counts its neighbours on the other side.
    The cut is half the sum (sum in int64 on the host: it exceeds int32 beyond n ≈ 130 000)."""

    def one_row_block(rows, deg, xb):
        same = jnp.sum(jax.lax.population_count(rows[None] & X[:, None, :]), axis=-1, dtype=jnp.int32)  # A_i·x
        # x_i = 1: cut neighbours are those with x_j = 0 → deg − same; x_i = 0: same
        return jnp.where(xb == 1, deg[None] - same, same)

    npad = graph.n_pad
    rb = math.gcd(npad, 256)
    xbits = unpack_bits(X).astype(jnp.int32)  # (R, npad)
    rows = graph.bits.reshape(npad // rb, rb, -1)
    deg = graph.deg.reshape(npad // rb, rb)
    xb = xbits.reshape(X.shape[0], npad // rb, rb).transpose(1, 0, 2)
    out = jax.lax.map(lambda a: one_row_block(*a), (rows, deg, xb))  # (nb, R, rb)
    return out.transpose(1, 0, 2).reshape(X.shape[0], npad)


def cut_values(graph: PackedGraph, X) -> np.ndarray:
    """Exact cut of each replica's partition (int64 numpy (R,))."""
    c = np.asarray(cut_counts(graph, X), dtype=np.int64).sum(axis=1)
    return c // 2


# ---------------------------------------------------------------------------- sweeps
@functools.partial(jax.jit, static_argnames=("block",), donate_argnames=("X",))
def sweep(graph: PackedGraph, X, words, T, *, block: int = 128):
    """One sequential Metropolis sweep over all neurons for every replica.

    ``X``: uint32 (R, n_pad/32) packed states; ``words``: uint32 (R,) this sweep's random word per
    replica; ``T``: float32 temperature (≤ 0: greedy, flip only on a positive gain).
    Returns ``(X, gain, flips)``: the new states, the total change of each replica's cut (int32) and
    the number of flips."""
    B = block
    npad = graph.n_pad
    nb = npad // B
    wpb = B // 32
    R = X.shape[0]
    n = graph.n
    ctr = jnp.asarray(nsr.counters(npad, stream=7))
    T = jnp.asarray(T, jnp.float32)
    greedy = T <= 0
    inv_T = jnp.where(greedy, jnp.float32(0), 1.0 / jnp.where(greedy, jnp.float32(1), T))

    def block_body(b, carry):
        X, gain, flips = carry
        rows = jax.lax.dynamic_slice_in_dim(graph.bits, b * B, B, axis=0)  # (B, W)
        deg = jax.lax.dynamic_slice_in_dim(graph.deg, b * B, B)
        same = jnp.sum(jax.lax.population_count(rows[None] & X[:, None, :]), axis=-1, dtype=jnp.int32)
        f = 2 * same - deg[None]  # (R, B) fields Σ_j A_ij s_j
        sub = unpack_bits(jax.lax.dynamic_slice_in_dim(rows, b * wpb, wpb, axis=1)).astype(jnp.int32)  # (B, B)
        xw = jax.lax.dynamic_slice_in_dim(X, b * wpb, wpb, axis=1)
        s = 2 * unpack_bits(xw).astype(jnp.int32) - 1  # (R, B)
        c = jax.lax.dynamic_slice_in_dim(ctr, b * B, B)
        u = nsr.uniform(words[:, None], c[None, :])  # (R, B)
        # log u < g/T  ⇔  u < exp(g/T): one log per neuron, no overflow for large gains
        thresh = jnp.log(u)
        valid = (b * B + jnp.arange(B)) < n

        def neuron(k, c2):
            s, f, gain, flips = c2
            sk = s[:, k]
            g = sk * f[:, k]
            ok = jnp.where(greedy, g > 0, (g > 0) | (thresh[:, k] < g.astype(jnp.float32) * inv_T))
            ok = ok & valid[k]
            d = jnp.where(ok, -2 * sk, 0)  # change of s_k
            f = f + d[:, None] * sub[k][None, :]
            s = s.at[:, k].add(d)
            return s, f, gain + jnp.where(ok, g, 0), flips + ok.astype(jnp.int32)

        s, f, gain, flips = jax.lax.fori_loop(0, B, neuron, (s, f, gain, flips), unroll=8)
        X = jax.lax.dynamic_update_slice_in_dim(X, pack_bits((s + 1) // 2), b * wpb, axis=1)
        return X, gain, flips

    zero = jnp.zeros((R,), jnp.int32)
    return jax.lax.fori_loop(0, nb, block_body, (X, zero, zero))


def random_states(graph: PackedGraph, seed: int, replicas: int) -> jax.Array:
    """Uniformly random packed states (padding bits zero), from (seed, replica) only."""
    keys = nsr.replica_keys(seed, np.arange(replicas))
    return _random_states(nsr.step_words(keys, 0, salt=1), graph.n, graph.n_pad)


@functools.partial(jax.jit, static_argnames=("n", "npad"))
def _random_states(words, n, npad):
    b = nsr.bits(words[:, None], jnp.asarray(nsr.counters(npad, stream=255)))
    bit = jnp.where(jnp.arange(npad) < n, b >> 31, jnp.uint32(0))
    return pack_bits(bit)
