"""Regenerate the stored sparse-coding QUBOs and their proven exact optima.

    python -m neurosim.sparse_coding.generate            # writes neurosim/data/sparse_coding/
    python -m neurosim.sparse_coding.generate --out DIR  # somewhere else

For each case (7×7 tiles / 64 atoms, 14×14 tiles / 128 atoms) it learns a dictionary with
:func:`~neurosim.sparse_coding.learn_dictionary` on every patch of the sample image (seed 0), cuts
the 28×28 image into tiles, builds each tile's QUBO and proves its optimum with
:func:`~neurosim.sparse_coding.solve_qubo_exact` (seeded with an annealed incumbent). Files:

* ``dictionary{p}.npz`` — ``D`` (float32, pixels × atoms), ``lam``, the per-epoch learning history
  (``error``, ``sparsity``, ``lam_history``, ``energy``) and the learning parameters;
* ``sc{p}_t{k}.npz`` — one per QUBO: ``Q`` (float32, full symmetric, diagonal = linear terms; these
  float32 values *are* the problem), ``offset``, ``exact_state`` (int8 0/1), ``exact_energy`` with
  ``E(a) = aᵀQa + offset`` in float64, ``lower_bound``/``proven``/``nodes`` of the proof, and what
  reconstructs it: ``patch`` (the tile's pixels), ``lam``, ``tile``, ``patch_size``, ``image_size``,
  ``dictionary`` (the file name of D). ``Q`` equals ``sparse_coding_matrix(patch, D, lam)`` rounded to
  float32.

Q and D are stored in float32 to keep the data small (~0.6 MB in all); every energy is computed in
float64 from the stored values.
"""

from __future__ import annotations

import argparse
import os
import time

import jax
import numpy as np

from ._data import data_dir
from ._dictionary import anneal_codes, learn_dictionary
from ._exact import solve_qubo_exact
from ._images import DEFAULT_IMAGE, load_image, tiles, training_patches
from ._qubo import sparse_coding_matrix

#: (patch size, atoms): the paper's two cases on a 28×28 image
CASES = ((7, 64), (14, 128))
IMAGE_SIZE = 28


def stored_qubo(patch, D, lam) -> tuple[np.ndarray, float]:
    """The stored form of a tile's QUBO: ``sparse_coding_matrix`` made exactly symmetric and rounded to float32."""
    Q, offset = sparse_coding_matrix(patch, np.asarray(D, np.float64), lam)
    return (0.5 * (Q + Q.T)).astype(np.float32), float(offset)


def generate_case(patch_size: int, atoms: int, out: str, *, image_size: int = IMAGE_SIZE, seed: int = 0,
                  learn_kwargs: dict | None = None, time_limit: float = 600.0, log=print) -> list[str]:
    """Learn one dictionary, write it and the exact-solved QUBO of every tile; returns the paths written."""
    os.makedirs(out, exist_ok=True)
    t0 = time.perf_counter()
    X = training_patches(patch_size, sizes=(image_size, 2 * image_size))
    res = learn_dictionary(X, atoms, seed=seed, **(learn_kwargs or {}))
    D = res.D.astype(np.float32)
    lam = float(res.lam)
    log(f"dictionary {patch_size}x{patch_size}/{atoms}: {res.epochs} epochs, λ={lam:.4g}, error {res.history['error'][-1]:.4f}, "
        f"sparsity {res.history['sparsity'][-1]:.4f} ({time.perf_counter() - t0:.1f} s)")
    dname = f"dictionary{atoms}.npz"
    h = res.history
    np.savez_compressed(
        os.path.join(out, dname), D=D, lam=lam, error=np.asarray(h["error"]), sparsity=np.asarray(h["sparsity"]),
        lam_history=np.asarray(h["lam"]), energy=np.asarray(h["energy"]), patch_size=patch_size, atoms=atoms,
        image=DEFAULT_IMAGE, image_size=image_size, seed=seed, training_patches=X.shape[0],
    )
    paths = [os.path.join(out, dname)]
    image = load_image(image_size)
    T = tiles(image, patch_size)
    u = np.sum(D.astype(np.float64) ** 2, axis=0)  # atom norms²: makes the relaxation's quadratic part D'D ⪰ 0
    width = len(str(len(T) - 1))
    for k, x in enumerate(T):
        Q32, offset = stored_qubo(x, D, lam)
        Q = Q32.astype(np.float64)
        inc = anneal_codes(x[None, :], D, lam, key=jax.random.PRNGKey(seed + k), sweeps=200)
        r = solve_qubo_exact(Q, offset, u=u, incumbent=inc, time_limit=time_limit)
        if not r.proven:
            raise RuntimeError(f"tile {k}: no proof of optimality within {time_limit} s (best {r.energy}, bound {r.lower_bound})")
        name = f"sc{atoms}_t{k:0{width}d}.npz"
        np.savez_compressed(
            os.path.join(out, name), Q=Q32, offset=offset, exact_state=r.state.astype(np.int8), exact_energy=r.energy,
            lower_bound=r.lower_bound, proven=r.proven, nodes=r.nodes, patch=x, lam=lam, tile=k,
            patch_size=patch_size, image_size=image_size, dictionary=dname,
        )
        paths.append(os.path.join(out, name))
        log(f"  {name}: E* = {r.energy:.6f}, {int(r.state.sum())} active, proven in {r.seconds:.2f} s ({r.nodes} nodes)")
    return paths


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m neurosim.sparse_coding.generate", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=data_dir(), help="output folder (default: the package's data/sparse_coding)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    for patch_size, atoms in CASES:
        generate_case(patch_size, atoms, args.out, seed=args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
