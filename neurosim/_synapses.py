"""Device-side synapse matrices: dense, padded fixed fan-in (ELL) and segment-sum (CSR-like); packed
bit planes for small-integer couplings live in ``_bitsynapses.py``.

All formats act on a replica batch: ``x`` has shape (R, n). Weights may be float or integer; with
integer weights the accumulation is int32 (exact), as on chip.

Three operations cover every model:

* ``field(x)`` → ``W x`` for every replica, shape (R, n) (synchronous updates);
* ``local_field(x, i)`` → ``(W x)_{i_r}`` for one neuron per replica (random-scan updates);
* ``add_columns(field, idx, dx)`` → ``field + Σ_k W[:, idx_k] dx_k`` — the **event-driven** update:
  only neurons that changed (idx, padded with any index and dx = 0) send spikes, and the receiving
  fields change by the weight times the change. This is how the chips work and where the speed is.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._bitsynapses import BitSynapses
from ._matrix import SymmetricMatrix


def _acc_dtype(w_dtype):
    return jnp.int32 if jnp.issubdtype(w_dtype, jnp.integer) else w_dtype


#: Largest gathered temporary (elements) a full-field evaluation may build at once. The sparse formats
#: gather one value per synapse and replica; on a dense graph with many replicas that is n² per replica
#: (dense G(2000, ½): 9 MB per replica, 9 GB at 1024 replicas), so bigger batches are evaluated a
#: block of replicas at a time. Each replica's arithmetic is unchanged, so results do not depend on it.
MAX_TEMP_ELEMENTS = 1 << 24


def _by_replica_blocks(fn, x, work_per_replica: int):
    """``fn(x)`` for x (..., n), evaluated on blocks of replicas so that ``block · work_per_replica``
    stays under :data:`MAX_TEMP_ELEMENTS` (one block: just ``fn(x)``)."""
    lead, n = x.shape[:-1], x.shape[-1]
    R = int(np.prod(lead, dtype=np.int64)) if lead else 1
    rb = max(1, MAX_TEMP_ELEMENTS // max(1, work_per_replica))
    if R <= rb:
        return fn(x)
    nb = -(-R // rb)
    xs = x.reshape(R, n)
    if nb * rb != R:
        xs = jnp.pad(xs, ((0, nb * rb - R), (0, 0)))
    out = jax.lax.map(fn, xs.reshape(nb, rb, n))
    return out.reshape((nb * rb,) + out.shape[2:])[:R].reshape(lead + out.shape[2:])


class AbstractSynapses(eqx.Module):
    n: eqx.AbstractVar[int]

    def field(self, x):
        raise NotImplementedError

    def local_field(self, x, i):
        raise NotImplementedError

    def add_columns(self, field, idx, dx):
        raise NotImplementedError

    @property
    def nbytes(self) -> int:
        return sum(int(np.prod(a.shape)) * a.dtype.itemsize for a in jax.tree_util.tree_leaves(self) if hasattr(a, "dtype"))


class DenseSynapses(AbstractSynapses):
    W: jax.Array
    n: int = eqx.field(static=True)

    def __init__(self, W):
        self.W = jnp.asarray(W)
        self.n = int(self.W.shape[0])

    @property
    def acc(self):
        return _acc_dtype(self.W.dtype)

    def field(self, x):
        return jnp.matmul(x.astype(self.W.dtype), self.W, preferred_element_type=self.acc)

    def local_field(self, x, i):
        rows = jnp.take(self.W, i, axis=0).astype(self.acc)  # (R, n)
        return jnp.sum(rows * x.astype(self.acc), axis=-1)

    def add_columns(self, field, idx, dx):
        cols = jnp.take(self.W, idx, axis=0).astype(self.acc)  # (R, k, n), W symmetric
        return field + jnp.einsum("rk,rkn->rn", dx.astype(self.acc), cols)


class EllSynapses(AbstractSynapses):
    """Padded fixed fan-in: ``idx[i, k]`` is the k-th neighbour of i, ``w[i, k]`` its weight. Rows
    shorter than the maximum degree K are padded with ``idx = i`` and ``w = 0``."""

    idx: jax.Array  # int32 (n, K)
    w: jax.Array  # (n, K)
    n: int = eqx.field(static=True)

    def __init__(self, idx, w):
        self.idx = jnp.asarray(idx, dtype=jnp.int32)
        self.w = jnp.asarray(w)
        self.n = int(self.idx.shape[0])

    @property
    def acc(self):
        return _acc_dtype(self.w.dtype)

    @property
    def fan_in(self) -> int:
        return int(self.idx.shape[1])

    def field(self, x):
        def full(x):
            g = jnp.take(x, self.idx, axis=-1).astype(self.acc)  # (R, n, K)
            return jnp.sum(g * self.w.astype(self.acc), axis=-1)

        return _by_replica_blocks(full, x, int(self.idx.size))

    def local_field(self, x, i):
        nb = jnp.take(self.idx, i, axis=0)  # (R, K)
        wi = jnp.take(self.w, i, axis=0).astype(self.acc)
        xs = jnp.take_along_axis(x, nb, axis=-1).astype(self.acc)
        return jnp.sum(xs * wi, axis=-1)

    def add_columns(self, field, idx, dx):
        nb = jnp.take(self.idx, idx, axis=0)  # (R, k, K)
        contrib = jnp.take(self.w, idx, axis=0).astype(self.acc) * dx.astype(self.acc)[..., None]
        R = field.shape[0]
        rows = jnp.broadcast_to(jnp.arange(R)[:, None, None], nb.shape)
        return field.at[rows, nb].add(contrib.astype(field.dtype))


class SegmentSynapses(AbstractSynapses):
    """Edge list with both directions, summed by ``segment_sum`` (any degree distribution)."""

    rows: jax.Array
    cols: jax.Array
    vals: jax.Array
    n: int = eqx.field(static=True)

    def __init__(self, rows, cols, vals, n):
        self.rows = jnp.asarray(rows, dtype=jnp.int32)
        self.cols = jnp.asarray(cols, dtype=jnp.int32)
        self.vals = jnp.asarray(vals)
        self.n = int(n)

    @property
    def acc(self):
        return _acc_dtype(self.vals.dtype)

    def field(self, x):
        def full(x):
            contrib = jnp.take(x, self.cols, axis=-1).astype(self.acc) * self.vals.astype(self.acc)  # (R, nnz)
            out = jax.ops.segment_sum(contrib.T, self.rows, num_segments=self.n, indices_are_sorted=True)
            return out.T

        return _by_replica_blocks(full, x, int(self.cols.size))

    def local_field(self, x, i):
        contrib = jnp.take(x, self.cols, axis=-1).astype(self.acc) * self.vals.astype(self.acc)
        mask = self.rows[None, :] == i[:, None]
        return jnp.sum(jnp.where(mask, contrib, 0), axis=-1)

    def add_columns(self, field, idx, dx):
        R = field.shape[0]
        d = jnp.zeros((R, self.n), self.acc).at[jnp.arange(R)[:, None], idx].add(dx.astype(self.acc))
        return field + self.field(d).astype(field.dtype)


def ell_arrays(matrix: SymmetricMatrix, dtype=np.float32, fan_in: int | None = None):
    """(idx, w) numpy arrays of the ELL layout of ``matrix``."""
    r, c, v = matrix.coo()
    n = matrix.n
    deg = np.bincount(r, minlength=n)
    K = int(deg.max(initial=0)) if fan_in is None else int(fan_in)
    if K < deg.max(initial=0):
        raise ValueError(f"fan_in={K} is below the maximum degree {deg.max()}")
    K = max(K, 1)
    idx = np.repeat(np.arange(n, dtype=np.int32)[:, None], K, axis=1)
    w = np.zeros((n, K), dtype=dtype)
    start = np.concatenate([[0], np.cumsum(deg)[:-1]])
    pos = np.arange(len(r)) - start[r]
    idx[r, pos] = c
    w[r, pos] = v.astype(dtype)
    return idx, w


def choose_format(matrix: SymmetricMatrix) -> str:
    """Dense when the density exceeds 10 % (or n ≤ 64); ELL when the maximum degree is within 4× of
    the mean (padding wastes < 75 %); segment-sum otherwise."""
    n = matrix.n
    if n <= 64 or matrix.density > 0.10:
        return "dense"
    deg = matrix.degrees()
    mean = max(1.0, deg.mean())
    return "ell" if deg.max(initial=0) <= 4 * mean else "segment"


def synapses(matrix: SymmetricMatrix, *, format: str = "auto", dtype=jnp.float32) -> AbstractSynapses:
    """Device synapses for ``matrix`` in the given (or automatically chosen) format and weight dtype."""
    fmt = choose_format(matrix) if format == "auto" else format
    np_dtype = np.dtype(jnp.dtype(dtype).name)
    if fmt == "dense":
        return DenseSynapses(matrix.to_dense().astype(np_dtype))
    if fmt == "ell":
        idx, w = ell_arrays(matrix, np_dtype)
        return EllSynapses(idx, w)
    if fmt in ("segment", "csr"):
        r, c, v = matrix.coo()
        return SegmentSynapses(r, c, v.astype(np_dtype), matrix.n)
    if fmt == "bits":
        return BitSynapses(matrix, dtype=dtype)
    raise ValueError(f"unknown synapse format {format!r}; choose 'auto', 'dense', 'ell', 'segment' or 'bits'")
