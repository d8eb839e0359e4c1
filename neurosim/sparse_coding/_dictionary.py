"""Unsupervised dictionary learning for binary sparse coding, with optax.

The procedure follows the sparse-coding paper (Henke et al., arXiv:2405.20525, "unsupervised and
unnormalized dictionary feature learning for a desired sparsity level"):

1. the features (columns of D) are drawn from a normal distribution and scaled so that every norm is
   below 1; the sparsity penalty λ starts small;
2. each epoch, the binary code of every training patch is found by simulated annealing of its QUBO
   (:func:`anneal_codes`: all patches at once, one batched sequential-sweep annealer on the device);
   a patch keeps its previous code when that is still better under the current D and λ, so at fixed
   λ the mean energy ``||x − D a||² + λ||a||₀`` cannot rise from one epoch to the next;
3. with the codes fixed, D takes gradient steps (optax Adam) on the mean reconstruction error
   ``mean ||x − D a||²`` (features are not renormalised: the paper's dictionary is unnormalised);
4. while the average sparsity (fraction of active features) exceeds the target, λ is raised by a
   constant factor; learning stops when the sparsity is at or below the target and the
   reconstruction error has settled (relative change below ``tol`` for ``patience`` epochs), or after
   ``epochs`` epochs.

Every quantity per epoch is kept in :attr:`DictionaryResult.history` for the convergence plot.
"""

from __future__ import annotations

import dataclasses
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax


@dataclasses.dataclass(frozen=True)
class DictionaryResult:
    D: np.ndarray  # (pixels, atoms) float64
    lam: float
    history: dict  # per epoch: "error" (mean ||x−Da||²/||x||²), "sparsity", "lam", "energy"

    @property
    def epochs(self) -> int:
        return len(self.history["error"])


@partial(jax.jit, static_argnames=("sweeps",))
def _anneal(G, C, key, T0, T1, sweeps: int):
    """Sequential-sweep Metropolis annealing of B QUBOs that share their quadratic part.

    ``E_b(a) = aᵀ G a + C_b·a`` with G symmetric including its diagonal (so ``Q_ii = G_ii + C_bi``).
    Returns int8 codes (B, p) after ``sweeps`` geometric-temperature sweeps and two zero-temperature
    sweeps (so every returned code is a 1-flip local minimum)."""
    B, p = C.shape
    k0, k1 = jax.random.split(key)
    a = jax.random.bernoulli(k0, 0.5, (B, p)).astype(G.dtype)
    h = a @ G
    total = sweeps + 2
    temps = T0 * (T1 / T0) ** (jnp.arange(total, dtype=G.dtype) / max(1, sweeps - 1))
    temps = jnp.where(jnp.arange(total) < sweeps, temps, 0.0)
    diag = jnp.diag(G)

    def site(carry, i):
        a, h, T, key = carry
        u = jax.random.uniform(jax.random.fold_in(key, i), (B,), G.dtype)
        ai = a[:, i]
        # ΔE of flipping a_i: (1 − 2a_i)(C_i + G_ii + 2 Σ_{j≠i} G_ij a_j)
        dE = (1.0 - 2.0 * ai) * (C[:, i] + diag[i] + 2.0 * (h[:, i] - diag[i] * ai))
        accept = (dE < 0) | (u < jnp.exp(-dE / jnp.maximum(T, 1e-30)))
        d = jnp.where(accept, 1.0 - 2.0 * ai, 0.0)
        a = a.at[:, i].add(d)
        h = h + d[:, None] * G[i][None, :]
        return (a, h, T, key), None

    def sweep(carry, xs):
        a, h = carry
        T, s = xs
        (a, h, _, _), _ = jax.lax.scan(site, (a, h, T, jax.random.fold_in(k1, s)), jnp.arange(p))
        return (a, h), None

    (a, h), _ = jax.lax.scan(sweep, (a, h), (temps, jnp.arange(total)))
    return a.astype(jnp.int8)


def anneal_codes(X, D, lam: float, *, key, sweeps: int = 40, T_start: float | None = None, T_end: float | None = None) -> np.ndarray:
    """Binary codes (B, p) minimising ``||x_b − D a||² + λ||a||₀`` for every row of ``X`` by annealing.

    Temperatures default to the problem's own scale: from the median |diagonal| of the QUBOs down to
    1/1000 of it."""
    X = jnp.asarray(X, jnp.float32)
    D = jnp.asarray(D, jnp.float32)
    G = D.T @ D
    C = -2.0 * X @ D + lam  # C_b = −2 x_b·D_i + λ (G_ii is in G)
    scale = float(jnp.median(jnp.abs(C + jnp.diag(G))))
    T0 = scale if T_start is None else T_start
    T1 = T0 * 1e-3 if T_end is None else T_end
    return np.asarray(_anneal(G, C, key, jnp.float32(T0), jnp.float32(T1), int(sweeps)))


def learn_dictionary(
    X,
    n_atoms: int,
    *,
    target_sparsity: float = 0.1,
    lam0: float = 0.01,
    lam_growth: float = 1.15,
    epochs: int = 60,
    steps_per_epoch: int = 50,
    learning_rate: float = 3e-3,
    sweeps: int = 40,
    tol: float = 0.01,
    patience: int = 3,
    seed: int = 0,
) -> DictionaryResult:
    """Learn a dictionary (pixels × ``n_atoms``) on patches ``X`` (N × pixels); see the module doc."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 1:
        raise ValueError(f"X must be a non-empty (patches, pixels) array, got shape {X.shape}")
    if not 0 < target_sparsity < 1:
        raise ValueError(f"target_sparsity must be in (0, 1), got {target_sparsity!r}")
    if not lam0 > 0:
        raise ValueError(f"lam0 must be > 0, got {lam0!r}")
    if not lam_growth > 1:
        raise ValueError(f"lam_growth must be > 1, got {lam_growth!r}")
    if int(n_atoms) < 1:
        raise ValueError(f"n_atoms must be ≥ 1, got {n_atoms!r}")
    m = X.shape[1]
    key = jax.random.PRNGKey(seed)
    key, k_init = jax.random.split(key)
    # Step 1: normal features, each scaled to a norm drawn uniformly in (0.5, 1).
    D = jax.random.normal(k_init, (m, int(n_atoms)), jnp.float32)
    key, k_norm = jax.random.split(key)
    norms = jax.random.uniform(k_norm, (int(n_atoms),), jnp.float32, 0.5, 1.0)
    D = D / jnp.linalg.norm(D, axis=0) * norms

    Xj = jnp.asarray(X, jnp.float32)
    xx = jnp.sum(Xj * Xj, axis=1)
    opt = optax.adam(learning_rate)

    @jax.jit
    def fit(D, opt_state, A):
        def loss(D):
            r = Xj - A @ D.T
            return jnp.mean(jnp.sum(r * r, axis=1))

        def body(_, carry):
            D, s = carry
            g = jax.grad(loss)(D)
            upd, s = opt.update(g, s, D)
            return optax.apply_updates(D, upd), s

        return jax.lax.fori_loop(0, steps_per_epoch, body, (D, opt_state))

    opt_state = opt.init(D)
    lam = float(lam0)
    hist = {"error": [], "sparsity": [], "lam": [], "energy": []}
    settled = 0
    A = None

    def energies(D, A, lam):
        r = Xj - A @ D.T
        return jnp.sum(r * r, axis=1) + lam * jnp.sum(A, axis=1)

    for epoch in range(int(epochs)):
        key, k = jax.random.split(key)
        A_new = jnp.asarray(anneal_codes(Xj, D, lam, key=k, sweeps=sweeps), jnp.float32)  # step 2
        if A is not None:
            keep = energies(D, A, lam) < energies(D, A_new, lam)
            A_new = jnp.where(keep[:, None], A, A_new)
        A = A_new
        with jax.numpy_dtype_promotion("standard"):  # optax's Adam mixes its int32 step count with floats
            D, opt_state = fit(D, opt_state, A)  # step 3
        r = Xj - A @ D.T
        err = float(jnp.mean(jnp.sum(r * r, axis=1) / xx))
        spars = float(jnp.mean(A))
        hist["error"].append(err)
        hist["sparsity"].append(spars)
        hist["lam"].append(lam)
        hist["energy"].append(float(jnp.mean(jnp.sum(r * r, axis=1) + lam * jnp.sum(A, axis=1))))
        if spars > target_sparsity:  # step 4
            lam *= lam_growth
            settled = 0
        elif len(hist["error"]) > 1 and abs(hist["error"][-1] - hist["error"][-2]) <= tol * hist["error"][-2]:
            settled += 1
            if settled >= patience:
                break
        else:
            settled = 0
    return DictionaryResult(np.asarray(D, dtype=np.float64), lam, hist)
