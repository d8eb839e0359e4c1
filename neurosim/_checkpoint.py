"""Checkpoints: the whole loop carry, the last outputs and the records so far, in one ``.npz``.

A checkpoint is tied to its run by a fingerprint (model arrays and structure, problem, initial
states, seed, replica ids, steps, recording spec): resuming a different run from it is refused, never
silently mixed. Its content is hashed at save and validated on load (hash, step counter in range and
on a stride boundary, record count consistent with the steps done, no NaN). It is written
to a unique temporary name and renamed, so an interrupted write never corrupts it; an exclusive lock
file (``PATH.lock``) refuses a second process on the same checkpoint.

What makes checkpoints large: the records so far (they must be kept to return the whole run's records
on resume), above all windowed spike sums, (records × replicas × n) counters. They are stored in the
smallest integer type that holds their values and compressed; the carry (state, best states) is
(replicas × n) at most a few bytes per variable.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile

import equinox as eqx
import jax
import numpy as np

_FORMAT = 2


def _hash_array(h, a) -> None:
    a = np.asarray(a)
    h.update(str(a.dtype).encode())
    h.update(str(a.shape).encode())
    h.update(np.ascontiguousarray(a).tobytes())


def fingerprint(model, problem, *, seed, replica_ids, steps, save, best_every, init=None) -> str:
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
    h.update(b"init:none" if init is None else b"init:")
    if init is not None:
        _hash_array(h, np.asarray(jax.device_get(init)))
    return h.hexdigest()


def check_checkpoint_path(path) -> None:
    """Before the run: the checkpoint must be a file path in an existing, writable directory."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"checkpoint {path!r} is a directory; give a file path (e.g. {os.path.join(path, 'run.npz')!r})")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise ValueError(f"checkpoint {path!r}: directory {parent!r} does not exist")
    if not os.access(parent, os.W_OK):
        raise ValueError(f"checkpoint {path!r}: directory {parent!r} is not writable")


@contextlib.contextmanager
def checkpoint_lock(path):
    """Hold ``PATH.lock`` exclusively for the run; a second process on the same checkpoint is refused."""
    lock = f"{os.fspath(path)}.lock"
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        pid = _lock_owner(lock)
        if pid is not None and not _alive(pid):  # left behind by a killed process: take it over
            os.remove(lock)
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        else:
            raise ValueError(
                f"checkpoint {os.fspath(path)!r} is in use by another run (process {pid}, lock file {lock!r}); "
                "wait for it, or delete the lock file if that process is gone"
            ) from None
    try:
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(lock)


def _lock_owner(lock) -> int | None:
    try:
        return int(open(lock).read().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _compact(a: np.ndarray) -> np.ndarray:
    """The smallest integer dtype holding ``a``'s values (restored to the original dtype on load)."""
    a = np.asarray(a)
    if a.dtype.kind not in "iu" or a.size == 0:
        return a
    lo, hi = int(a.min()), int(a.max())
    for dt in (np.int8, np.uint8, np.int16, np.uint16, np.int32):
        if np.iinfo(dt).min <= lo and hi <= np.iinfo(dt).max:
            return a.astype(dt) if np.dtype(dt).itemsize < a.dtype.itemsize else a
    return a


def _content_hash(payload: dict, meta: dict) -> str:
    """Hash of every array and every meta field (the step counter included) but itself."""
    h = hashlib.sha256()
    h.update(json.dumps({k: v for k, v in meta.items() if k != "content"}, sort_keys=True).encode())
    for k in sorted(payload):
        h.update(k.encode())
        _hash_array(h, payload[k])
    return h.hexdigest()


def save_checkpoint(path, fp: str, t_done: int, carry, outs, records: list) -> None:
    leaves = jax.tree_util.tree_leaves((carry, outs))
    payload = {f"carry_{i}": np.asarray(jax.device_get(x)) for i, x in enumerate(leaves)}
    rec_leaves, _ = jax.tree_util.tree_flatten(records)
    rec_dtypes = [str(np.asarray(x).dtype) for x in rec_leaves]
    payload.update({f"rec_{i}": _compact(x) for i, x in enumerate(rec_leaves)})
    meta = {"format": _FORMAT, "fingerprint": fp, "t_done": int(t_done), "n_carry": len(leaves), "n_rec": len(rec_leaves),
            "n_chunks": len(records), "rec_names": sorted(records[0].keys()) if records else [], "rec_dtypes": rec_dtypes}
    meta["content"] = _content_hash(payload, meta)
    payload["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    directory = os.path.dirname(os.path.abspath(os.fspath(path)))
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(os.fspath(path)) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, **payload)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def _bad(path, what: str) -> ValueError:
    return ValueError(f"checkpoint {os.fspath(path)!r} is damaged or was edited ({what}); delete it to start afresh")


def _read(path):
    try:
        z = np.load(path)
        meta = json.loads(bytes(z["meta"]).decode())
        payload = {k: z[k] for k in z.files if k != "meta"}
    except Exception as exc:  # noqa: BLE001 - any unreadable file is one message
        raise _bad(path, f"unreadable: {type(exc).__name__}") from None
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        raise ValueError(f"checkpoint {os.fspath(path)!r} was written by another neurosim version (format "
                         f"{meta.get('format') if isinstance(meta, dict) else '?'}, expected {_FORMAT}); delete it to start afresh")
    return meta, payload


def _validate(path, meta, payload, *, steps, stride, records, n_template) -> None:
    if meta.get("content") != _content_hash(payload, meta):
        raise _bad(path, "content hash mismatch")
    t = meta.get("t_done")
    if not isinstance(t, int) or isinstance(t, bool) or not 0 < t <= steps:
        raise _bad(path, f"step counter t_done={t!r} outside 1..{steps}")
    if t != steps and t % stride:
        raise _bad(path, f"t_done={t} is not a multiple of the record/capture stride {stride}")
    if meta.get("n_carry") != n_template:
        raise _bad(path, f"{meta.get('n_carry')!r} state arrays, expected {n_template}")
    n_chunks, n_rec, names = meta.get("n_chunks"), meta.get("n_rec"), meta.get("rec_names") or []
    if not records:
        if n_chunks or n_rec:
            raise _bad(path, f"{n_chunks!r} record chunks for a run that records nothing")
    else:
        if not isinstance(n_chunks, int) or n_chunks < 1 or n_rec != n_chunks * len(names) or not names:
            raise _bad(path, f"{n_chunks!r} record chunks holding {n_rec!r} arrays of {len(names)} names")
        rows = sum(int(payload[f"rec_{k * len(names)}"].shape[0]) for k in range(n_chunks) if f"rec_{k * len(names)}" in payload)
        if rows != t // stride:
            raise _bad(path, f"{rows} records for {t} steps, expected {t // stride}")
    for k, a in payload.items():
        if k.startswith("carry_") and a.dtype.kind == "f" and np.isnan(a).any():
            raise _bad(path, f"{k} holds NaN")


def load_checkpoint(path, fp: str, carry, outs, *, steps: int, stride: int, records: bool, chunk: int | None = None):
    """Returns ``(t_done, carry, outs, records)`` or None when ``path`` does not exist.
    Raises ValueError when it belongs to a different run or fails validation."""
    if not os.path.exists(path):
        return None
    meta, payload = _read(path)
    if meta.get("fingerprint") != fp:
        raise ValueError(
            f"checkpoint {os.fspath(path)!r} belongs to a different run (model, problem, initial states, seed, replicas, "
            "steps or recording differ); delete it or pass another checkpoint path"
        )
    template, tree = jax.tree_util.tree_flatten((carry, outs))
    _validate(path, meta, payload, steps=steps, stride=stride, records=records, n_template=len(template))
    restored = []
    for i, like in enumerate(template):
        arr = payload.get(f"carry_{i}")
        if arr is None or arr.shape != like.shape:
            raise _bad(path, f"state array {i} has shape {None if arr is None else arr.shape}, expected {like.shape}")
        sharding = getattr(like, "sharding", None)
        arr = arr.astype(like.dtype)
        restored.append(jax.device_put(arr, sharding) if sharding is not None else arr)
    carry, outs = jax.tree_util.tree_unflatten(tree, restored)
    if not np.all(np.isfinite(np.asarray(carry.best_e)) | np.isposinf(np.asarray(carry.best_e))):
        raise _bad(path, "best energies are not finite")
    out_records = []
    if meta["n_chunks"]:
        dtypes = meta.get("rec_dtypes") or []
        rec_leaves = [payload[f"rec_{i}"].astype(dtypes[i]) if i < len(dtypes) else payload[f"rec_{i}"] for i in range(meta["n_rec"])]
        per = len(rec_leaves) // meta["n_chunks"]
        names = meta["rec_names"]
        for k in range(meta["n_chunks"]):
            out_records.append(_unflatten_record(names, rec_leaves[k * per : (k + 1) * per]))
    return meta["t_done"], carry, outs, out_records


def _unflatten_record(names, leaves):
    # Records are dicts of arrays (or, for "fn", pytrees flattened in sorted-key order by tree_flatten).
    if len(names) == len(leaves):
        return dict(zip(names, leaves))
    raise ValueError("checkpointed records with a pytree-valued fn= cannot be restored; record fn outputs as a flat array")
