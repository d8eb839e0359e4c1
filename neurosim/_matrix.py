"""Host-side symmetric coupling matrices (dense or sparse), validated once at construction.

Problems keep their couplings here in float64 numpy; device-side synapses (``_synapses.py``)
are built from this and cast to the simulation dtype. Sparse storage is row-sorted COO with
both directions of every edge (i.e. CSR without the row pointer duplicated), which is what
the ELL and segment-sum synapse formats are built from.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ._validate import check_coefficients, real_array, vertex_ids

#: Largest (states × stored entries) temporary a host-side energy evaluation builds at once.
_HOST_TEMP_ELEMENTS = 1 << 24
#: Up to this n such an evaluation goes through one dense float64 matrix (128 MB at n = 4096).
_HOST_DENSE_MAX_N = 4096


def _check_finite(name: str, values: np.ndarray) -> None:
    """Finite and within the float32 range the simulator computes in (see ``_validate``)."""
    check_coefficients(name, values)


@dataclasses.dataclass(frozen=True, eq=False)
class SymmetricMatrix:
    """A symmetric n×n matrix with zero diagonal, stored dense or as row-sorted COO.

    Build with :meth:`from_dense` or :meth:`from_edges`; both validate (finite, symmetric,
    zero diagonal) and name the first offending entry.
    """

    n: int
    rows: np.ndarray | None  # int64[nnz], sorted; both (i, j) and (j, i) present
    cols: np.ndarray | None
    vals: np.ndarray | None  # float64[nnz]
    dense: np.ndarray | None  # float64[n, n] when stored dense

    # ----------------------------------------------------------------- constructors
    @classmethod
    def from_dense(cls, matrix, *, name: str = "matrix", keep_dense: bool | None = None, atol: float = 0.0) -> "SymmetricMatrix":
        m = real_array(matrix, name)
        if m.ndim != 2 or m.shape[0] != m.shape[1]:
            raise ValueError(f"{name} must be a square 2-D matrix, got shape {m.shape}")
        diff = np.abs(m - m.T)
        if (diff > atol).any():
            i, j = np.argwhere(diff > atol)[0]
            raise ValueError(
                f"{name} must be symmetric: {name}[{i},{j}]={m[i, j]!r} but {name}[{j},{i}]={m[j, i]!r}"
            )
        if np.any(np.diag(m) != 0):
            i = int(np.flatnonzero(np.diag(m))[0])
            raise ValueError(f"{name} must have a zero diagonal (found {name}[{i},{i}]={m[i, i]!r})")
        n = m.shape[0]
        nnz = int(np.count_nonzero(m))
        if keep_dense is None:
            keep_dense = n <= 64 or nnz > 0.25 * n * n
        if keep_dense:
            return cls(n=n, rows=None, cols=None, vals=None, dense=m.copy())
        r, c = np.nonzero(m)
        return cls(n=n, rows=r.astype(np.int64), cols=c.astype(np.int64), vals=m[r, c].copy(), dense=None)

    @classmethod
    def from_edges(cls, n: int, i, j, w, *, name: str = "couplings", combine: str = "sum") -> "SymmetricMatrix":
        """Undirected edges (i, j, w), each listed once (either orientation). Duplicates are summed
        (``combine='sum'``) or refused (``combine='error'``); self-loops are refused."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"{name}: the number of vertices must be an integer >= 0, got {n!r}")
        n = int(n)
        i = vertex_ids(i, f"{name} (first vertex)").ravel()
        j = vertex_ids(j, f"{name} (second vertex)").ravel()
        w = real_array(w, f"{name} weights").ravel()
        if not (len(i) == len(j) == len(w)):
            raise ValueError(f"{name}: i, j, w have different lengths {len(i)}, {len(j)}, {len(w)}")
        if len(i):
            lo = min(i.min(), j.min())
            hi = max(i.max(), j.max())
            if lo < 0 or hi >= n:
                bad = int(np.flatnonzero((i < 0) | (i >= n) | (j < 0) | (j >= n))[0])
                raise ValueError(f"{name}: edge {bad} ({i[bad]}, {j[bad]}) has a vertex outside 0..{n - 1}")
            loops = np.flatnonzero(i == j)
            if len(loops):
                raise ValueError(f"{name}: edge {loops[0]} is a self-loop on vertex {i[loops[0]]}")
        # sort the (a, b) pairs themselves: an ``a * n + b`` key overflows int64 once n > 3·10⁹
        a, b = np.minimum(i, j), np.maximum(i, j)
        order = np.lexsort((b, a))
        a, b, w = a[order], b[order], w[order]
        new = np.ones(len(a), dtype=bool)
        new[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
        if not new.all():
            if combine == "error":
                dup = int(np.flatnonzero(~new)[0])
                raise ValueError(f"{name}: edge ({a[dup]}, {b[dup]}) is listed more than once")
            start = np.flatnonzero(new)
            w = np.add.reduceat(w, start)
            a, b = a[start], b[start]
        keep = w != 0
        a, b, w = a[keep], b[keep], w[keep]
        rows = np.concatenate([a, b])
        cols = np.concatenate([b, a])
        vals = np.concatenate([w, w])
        order = np.lexsort((cols, rows))
        return cls(n=n, rows=rows[order], cols=cols[order], vals=vals[order], dense=None)

    # ----------------------------------------------------------------- views
    @property
    def is_dense(self) -> bool:
        return self.dense is not None

    @property
    def nnz(self) -> int:
        """Stored nonzeros counting both directions."""
        return int(np.count_nonzero(self.dense)) if self.is_dense else len(self.vals)

    @property
    def num_edges(self) -> int:
        return self.nnz // 2

    @property
    def density(self) -> float:
        return self.nnz / max(1, self.n * (self.n - 1))

    def coo(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.is_dense:
            r, c = np.nonzero(self.dense)
            return r.astype(np.int64), c.astype(np.int64), self.dense[r, c]
        return self.rows, self.cols, self.vals

    def upper_edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each undirected edge once, i < j."""
        r, c, v = self.coo()
        keep = r < c
        return r[keep], c[keep], v[keep]

    def to_dense(self) -> np.ndarray:
        if self.is_dense:
            return self.dense.copy()
        m = np.zeros((self.n, self.n))
        m[self.rows, self.cols] = self.vals
        return m

    def degrees(self) -> np.ndarray:
        r, _, _ = self.coo()
        return np.bincount(r, minlength=self.n)

    def row_sums(self) -> np.ndarray:
        if self.is_dense:
            return self.dense.sum(axis=1)
        return np.bincount(self.rows, weights=self.vals, minlength=self.n)

    def total(self) -> float:
        """Sum of all entries (both directions)."""
        return float(self.dense.sum()) if self.is_dense else float(self.vals.sum())

    def matvec(self, x: np.ndarray) -> np.ndarray:
        """``M @ x`` for x of shape (..., n), host float64 (reference path, not the simulator's)."""
        x = np.asarray(x, dtype=np.float64)
        if self.is_dense:
            return x @ self.dense  # symmetric
        flat = x.reshape(-1, self.n)
        # one bincount per row: np.add.at is ~30× slower, which made repairing n = 1000 MIS states (a
        # matvec per removed vertex) take minutes
        out = np.zeros_like(flat)
        for k in range(flat.shape[0]):
            out[k] = np.bincount(self.rows, weights=flat[k, self.cols] * self.vals, minlength=self.n)
        return out.reshape(x.shape)

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """``(columns, values)`` of the nonzeros of row ``i``."""
        if self.is_dense:
            cols = np.flatnonzero(self.dense[i])
            return cols, self.dense[i, cols]
        lo, hi = np.searchsorted(self.rows, [i, i + 1])
        return self.cols[lo:hi], self.vals[lo:hi]

    def quadratic(self, x: np.ndarray) -> np.ndarray:
        """``x^T M x`` for x of shape (..., n)."""
        x = np.asarray(x, dtype=np.float64)
        if self.is_dense:
            return np.einsum("...i,ij,...j->...", x, self.dense, x)
        lead = x.shape[:-1]
        x2 = x.reshape(-1, self.n)
        nnz = max(1, len(self.vals))
        if len(x2) * nnz <= _HOST_TEMP_ELEMENTS:
            return np.sum(x[..., self.rows] * x[..., self.cols] * self.vals, axis=-1)
        # Many states of a big graph (e.g. 1024 replicas of dense G(2000, ½): a 16 GB edge × replica
        # temporary). A small enough n: one BLAS product with the dense matrix; else blocks of states.
        if self.n <= _HOST_DENSE_MAX_N:
            dense = np.zeros((self.n, self.n))
            np.add.at(dense, (self.rows, self.cols), self.vals)
            return np.einsum("ri,ri->r", x2 @ dense, x2).reshape(lead)
        out = np.empty(len(x2))
        step = max(1, _HOST_TEMP_ELEMENTS // nnz)
        for a in range(0, len(x2), step):
            xb = x2[a:a + step]
            out[a:a + step] = np.sum(xb[:, self.rows] * xb[:, self.cols] * self.vals, axis=-1)
        return out.reshape(lead)

    def scaled(self, factor: float) -> "SymmetricMatrix":
        if self.is_dense:
            return SymmetricMatrix(self.n, None, None, None, self.dense * factor)
        return SymmetricMatrix(self.n, self.rows, self.cols, self.vals * factor, None)

    def with_values(self, vals: np.ndarray) -> "SymmetricMatrix":
        """Same sparsity pattern, new values (used by quantisers)."""
        if self.is_dense:
            return SymmetricMatrix(self.n, None, None, None, np.asarray(vals, dtype=np.float64))
        return SymmetricMatrix(self.n, self.rows, self.cols, np.asarray(vals, dtype=np.float64), None)

    def max_abs(self) -> float:
        if self.is_dense:
            return float(np.abs(self.dense).max(initial=0.0))
        return float(np.abs(self.vals).max(initial=0.0))
