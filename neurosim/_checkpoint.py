"""Checkpoints: the whole loop carry, the last outputs and the records so far, in one ``.npz``.

A checkpoint is tied to its run by a fingerprint (model arrays and structure, problem, seed, replica
ids, steps, recording spec): resuming a different run from it is refused, never silently mixed.
The file is written to a temporary name and renamed, so an interrupted write never corrupts it.
"""

from __future__ import annotations

import hashlib
import json
import os

import equinox as eqx
import jax
import numpy as np


def _hash_array(h, a) -> None:
    a = np.asarray(a)
    h.update(str(a.dtype).encode())
    h.update(str(a.shape).encode())
    h.update(np.ascontiguousarray(a).tobytes())


def fingerprint(model, problem, *, seed, replica_ids, steps, save, best_every) -> str:
    h = hashlib.sha256()
    arrays, static = eqx.partition(model, eqx.is_array)
    h.update(str(jax.tree_util.tree_structure(arrays)).encode())
    h.update(repr(jax.tree_util.tree_structure(static)).encode())
    for leaf in jax.tree_util.tree_leaves(arrays):
        _hash_array(h, leaf)
    ising = problem.to_ising()
    r, c, v = ising.J.coo()
    for a in (r, c, v, ising.h, np.array([ising.offset])):
        _hash_array(h, a)
    h.update(json.dumps({"seed": int(seed), "steps": int(steps), "best_every": int(best_every),
                         "save": [save.every, list(save.what), list(save.sum), save.fn is not None]}).encode())
    _hash_array(h, replica_ids)
    return h.hexdigest()


def save_checkpoint(path, fp: str, t_done: int, carry, outs, records: list) -> None:
    leaves = jax.tree_util.tree_leaves((carry, outs))
    payload = {f"carry_{i}": np.asarray(jax.device_get(x)) for i, x in enumerate(leaves)}
    rec_leaves, rec_tree = jax.tree_util.tree_flatten(records)
    payload.update({f"rec_{i}": np.asarray(x) for i, x in enumerate(rec_leaves)})
    meta = {"fingerprint": fp, "t_done": int(t_done), "n_carry": len(leaves), "n_rec": len(rec_leaves),
            "n_chunks": len(records), "rec_names": sorted(records[0].keys()) if records else []}
    payload["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    tmp = f"{os.fspath(path)}.tmp.npz"
    np.savez(tmp, **payload)
    os.replace(tmp, path)


def load_checkpoint(path, fp: str, carry, outs):
    """Returns ``(t_done, carry, outs, records)`` or None when ``path`` does not exist.
    Raises ValueError when it belongs to a different run."""
    if not os.path.exists(path):
        return None
    with np.load(path) as z:
        meta = json.loads(bytes(z["meta"]).decode())
        if meta["fingerprint"] != fp:
            raise ValueError(
                f"checkpoint {os.fspath(path)!r} belongs to a different run (model, problem, seed, replicas, steps or "
                "recording differ); delete it or pass another checkpoint path"
            )
        template, tree = jax.tree_util.tree_flatten((carry, outs))
        if meta["n_carry"] != len(template):
            raise ValueError(f"checkpoint {os.fspath(path)!r} has {meta['n_carry']} state arrays, expected {len(template)}")
        restored = []
        for i, like in enumerate(template):
            arr = z[f"carry_{i}"]
            sharding = getattr(like, "sharding", None)
            restored.append(jax.device_put(arr.astype(like.dtype), sharding) if sharding is not None else arr)
        carry, outs = jax.tree_util.tree_unflatten(tree, restored)
        records = []
        if meta["n_chunks"]:
            rec_leaves = [z[f"rec_{i}"] for i in range(meta["n_rec"])]
            per = len(rec_leaves) // meta["n_chunks"]
            names = meta["rec_names"]
            for k in range(meta["n_chunks"]):
                chunk = rec_leaves[k * per : (k + 1) * per]
                records.append(_unflatten_record(names, chunk))
    return meta["t_done"], carry, outs, records


def _unflatten_record(names, leaves):
    # Records are dicts of arrays (or, for "fn", pytrees flattened in sorted-key order by tree_flatten).
    if len(names) == len(leaves):
        return dict(zip(names, leaves))
    raise ValueError("checkpointed records with a pytree-valued fn= cannot be restored; record fn outputs as a flat array")
