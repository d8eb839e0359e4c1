"""Neighbour tables for random-scan models whose tested neuron is shared by all replicas.

A random-scan step tests one neuron per replica. When every replica tests the *same* neuron ``i`` at
a given step (a site sequence drawn from the step index only), the state can be laid out (n, R) —
replicas minor — and the neuron's input ``Σ_k w[i,k] · x[nb[i,k], :]`` is a sum of whole, contiguous
rows of R values: vectorised over replicas, ``O(degree)`` rows per step, no scatter. Each replica on
its own is still exactly the random-scan chain (sites i.i.d. uniform and independent of that
replica's noise); replicas are correlated only through the common site sequence.

The table is ELL padded to a multiple of ``chunk`` columns; the neighbour loop runs over the row's
own number of chunks (``nchunks[i]``), unrolled ``chunk`` times, so a low-degree row costs little
even when the maximum degree is large. Indices and weights are sliced chunk by chunk inside the loop
rather than gathered as a whole row first, so a step touches O(R + chunk) bytes besides the rows.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._matrix import SymmetricMatrix
from ._synapses import ell_arrays


def default_chunk(mean_degree: float) -> int:
    """Unroll width: the power of two ≥ the mean degree, in [8, 64] (a chunk costs a loop trip of
    fixed overhead; padding costs one row read per slot)."""
    return int(min(64, max(8, 1 << int(math.ceil(math.log2(max(1.0, mean_degree)))))))


class RowTable(eqx.Module):
    nb: jax.Array  # int32 (n, K): neighbour indices, padded with the row's own index
    w: jax.Array  # float32 (n, K): weights, 0 on padding
    nchunks: jax.Array  # int32 (n,): chunks holding the row's neighbours
    chunk: int = eqx.field(static=True)

    def __init__(self, matrix: SymmetricMatrix, *, chunk: int | None = None, dtype=np.float32):
        deg = matrix.degrees() if matrix.nnz else np.zeros(matrix.n, dtype=np.int64)
        if chunk is None:
            chunk = default_chunk(float(deg.mean()) if matrix.n else 1.0)
        if not (isinstance(chunk, (int, np.integer)) and chunk >= 1):
            raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
        kmax = int(deg.max(initial=0))
        K = max(int(chunk), -(-kmax // chunk) * chunk)
        idx, w = ell_arrays(matrix, dtype, fan_in=K)
        self.nb = jnp.asarray(idx, dtype=jnp.int32)
        self.w = jnp.asarray(w)
        self.nchunks = jnp.asarray(-(-deg // chunk), dtype=jnp.int32)
        self.chunk = int(chunk)

    def row_sum(self, x, i):
        """``Σ_k w[i,k] · x[nb[i,k], :]`` for a scalar neuron index ``i`` and ``x`` (n, R) → (R,) float32."""
        c = self.chunk

        def body(q, acc):
            nb_q = jax.lax.dynamic_slice(self.nb, (i, q * c), (1, c))[0]
            w_q = jax.lax.dynamic_slice(self.w, (i, q * c), (1, c))[0]
            for k in range(c):
                row = jax.lax.dynamic_index_in_dim(x, nb_q[k], 0, keepdims=False)
                acc = acc + w_q[k] * row.astype(jnp.float32)
            return acc

        return jax.lax.fori_loop(0, self.nchunks[i], body, jnp.zeros((x.shape[1],), jnp.float32))

    def full(self, x):
        """``W x`` for the whole (n, R) array (init and checks; not a hot path)."""
        g = jnp.take(x, self.nb, axis=0).astype(jnp.float32)  # (n, K, R)
        return jnp.einsum("nk,nkr->nr", self.w.astype(jnp.float32), g)
