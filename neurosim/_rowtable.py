"""Neighbour tables for random-scan models, state laid out (n, R) with replicas minor.

A random-scan step tests one neuron per replica. When every replica tests the *same* neuron ``i`` at
a given step (a site sequence drawn from the step index only), the neuron's input
``Σ_k w[i,k] · x[nb[i,k], :]`` is a sum of whole, contiguous rows of R values: vectorised over
replicas, ``O(degree)`` rows per step, no scatter. Each replica on its own is still exactly the
random-scan chain (sites i.i.d. uniform and independent of that replica's noise); replicas are
correlated only through the common site sequence. (:meth:`RowTable.row_sums` serves the other case,
one site per replica, with per-element gathers.)

The table is ELL padded to a multiple of the chunk widths; the neighbour loop runs over the row's own
number of chunks, unrolled ``chunk`` rows per trip. Indices and weights are sliced chunk by chunk
inside the loop rather than gathered as a whole row first, so a step touches O(R + chunk) bytes
besides the rows it reads. Widths (measured on the 2-core CPU, docs/neurosa.md "Performance"): 4
rows per trip with many replicas — wider unrolled dynamic-slice sums are slower per row and push the
step loop over XLA's small-loop threshold — and 16 with ≤ 16 replicas or one site per replica, where
the per-trip overhead dominates the rows' work. The sum runs in neighbour order whatever the width,
so results do not depend on it.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._matrix import SymmetricMatrix
from ._synapses import ell_arrays

#: with at most this many replicas the shared-site sum uses the wide chunk
FEW_REPLICAS = 16


class RowTable(eqx.Module):
    nb: jax.Array  # int32 (n, K): neighbour indices, padded with the row's own index
    w: jax.Array  # float32 (n, K): weights, 0 on padding
    deg: jax.Array  # int32 (n,)
    chunk: int = eqx.field(static=True)  # rows per trip, many replicas
    chunk_wide: int = eqx.field(static=True)  # rows per trip, few replicas / one site per replica
    #: integer weights with every row's Σ|w| ≤ 2^23: a row sum is exact in float32 in any order (the
    #: fused NeuroSA chain, neurosim/_fastchain.cc, then sums with independent accumulators)
    exact: bool = eqx.field(static=True)

    def __init__(self, matrix: SymmetricMatrix, *, chunk: int = 4):
        if not (isinstance(chunk, (int, np.integer)) and chunk >= 1):
            raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
        deg = matrix.degrees() if matrix.nnz else np.zeros(matrix.n, dtype=np.int64)
        kmax = int(deg.max(initial=0))
        chunk = int(chunk)
        wide = chunk * max(1, 16 // chunk)
        K = max(chunk, -(-kmax // chunk) * chunk)  # K is a multiple of both widths
        if K > wide:
            K = -(-K // wide) * wide
        else:
            wide = K
        idx, w = ell_arrays(matrix, np.float32, fan_in=K)
        self.nb = jnp.asarray(idx, dtype=jnp.int32)
        self.w = jnp.asarray(w, dtype=jnp.float32)
        self.deg = jnp.asarray(deg, dtype=jnp.int32)
        self.chunk = chunk
        self.chunk_wide = wide
        w64 = np.asarray(w, dtype=np.float64)
        self.exact = bool(np.all(w64 == np.round(w64)) and np.abs(w64).sum(axis=1).max(initial=0.0) <= 2.0**23)

    def row_sum(self, x, i, init=None):
        """``init + Σ_k w[i,k] · x[nb[i,k], :]`` for one scalar neuron ``i``; ``x`` (n, R) → (R,) float32."""
        R = x.shape[1]
        c = self.chunk if R > FEW_REPLICAS else self.chunk_wide

        def body(q, acc):
            nb_q = jax.lax.dynamic_slice(self.nb, (i, q * c), (1, c))[0]
            w_q = jax.lax.dynamic_slice(self.w, (i, q * c), (1, c))[0]
            for k in range(c):
                row = jax.lax.dynamic_index_in_dim(x, nb_q[k], 0, keepdims=False)
                acc = acc + w_q[k] * row.astype(jnp.float32)
            return acc

        acc0 = jnp.zeros((R,), jnp.float32) if init is None else jnp.broadcast_to(init, (R,)).astype(jnp.float32)
        return jax.lax.fori_loop(0, (self.deg[i] + (c - 1)) // c, body, acc0)

    def row_sums(self, x, i):
        """``Σ_k w[i_r,k] · x[nb[i_r,k], r]`` with one neuron ``i_r`` per replica (``i``: (R,))."""
        c = self.chunk_wide
        nb_i = jnp.take(self.nb, i, axis=0)  # (R, K)
        w_i = jnp.take(self.w, i, axis=0)
        cols = jnp.arange(x.shape[1])

        def body(q, acc):
            for k in range(c):
                j = q * c + k
                jj = jax.lax.dynamic_index_in_dim(nb_i, j, 1, keepdims=False)  # (R,)
                ww = jax.lax.dynamic_index_in_dim(w_i, j, 1, keepdims=False)
                acc = acc + ww * x[jj, cols].astype(jnp.float32)
            return acc

        n_iter = (jnp.max(jnp.take(self.deg, i)) + (c - 1)) // c
        return jax.lax.fori_loop(0, n_iter, body, jnp.zeros((x.shape[1],), jnp.float32))

    def full(self, x):
        """``W x`` for the whole (n, R) array (init and checks; not a hot path)."""
        g = jnp.take(x, self.nb, axis=0).astype(jnp.float32)  # (n, K, R)
        return jnp.einsum("nk,nkr->nr", self.w, g)
