"""Checkpoints that cannot be fooled: fingerprint (initial states included), content validation,
compact storage, unique temporary files, an exclusive lock, paths checked before the run."""

import json
import os
import subprocess
import sys
import zipfile

import networkx as nx
import numpy as np
import pytest

import neurosim as ns
from neurosim import _checkpoint
from neurosim.models import Gibbs


def _setup():
    p = ns.MaxCut.from_graph(nx.random_regular_graph(4, 30, seed=3))
    m = Gibbs(p, mode="synchronous", schedule=ns.schedules.Geometric.anneal(3.0, 0.1, 400))
    return p, m


def _stopped(tmp_path, **kw):
    p, m = _setup()
    ck = tmp_path / "run.npz"
    ns.run(m, p, steps=400, replicas=4, seed=2, chunk=100, checkpoint=str(ck), stop_after_chunks=2, **kw)
    return p, m, ck


def test_initial_states_are_part_of_the_fingerprint(tmp_path):
    p, m, ck = _stopped(tmp_path, init=np.ones(30, dtype=np.int8))
    with pytest.raises(ValueError, match="different run"):
        ns.run(m, p, steps=400, replicas=4, seed=2, chunk=100, checkpoint=str(ck), init=-np.ones(30, dtype=np.int8))
    with pytest.raises(ValueError, match="different run"):
        ns.run(m, p, steps=400, replicas=4, seed=2, chunk=100, checkpoint=str(ck))
    r = ns.run(m, p, steps=400, replicas=4, seed=2, chunk=100, checkpoint=str(ck), init=np.ones(30, dtype=np.int8))
    assert r.resumed_from == 200 and r.to_json()["resumed_from"] == 200


def _rewrite(ck, edit_meta=None, edit_arrays=None, rehash=True):
    """Edit a checkpoint as an attacker with a valid zip CRC would (optionally recomputing our hash)."""
    with np.load(ck) as z:
        payload = {k: z[k] for k in z.files}
    meta = json.loads(bytes(payload.pop("meta")).decode())
    if edit_meta:
        meta.update(edit_meta)
    if edit_arrays:
        edit_arrays(payload)
    if rehash:
        meta["content"] = _checkpoint._content_hash(payload, meta)
    payload["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(ck, **payload)


@pytest.mark.parametrize(
    "meta, match",
    [({"t_done": 10**9}, "outside"), ({"t_done": -5}, "outside"), ({"t_done": 150}, "multiple"), ({"n_chunks": 0}, "record chunks")],
)
def test_edited_checkpoint_content_is_refused(tmp_path, meta, match):
    p, m = _setup()
    ck = tmp_path / "run.npz"
    save = ns.SaveAt(every=20, what=("energy",))
    ns.run(m, p, steps=400, replicas=4, seed=2, chunk=100, save=save, checkpoint=str(ck), stop_after_chunks=2)
    _rewrite(ck, edit_meta=meta, rehash=True)
    with pytest.raises(ValueError, match=match):
        ns.run(m, p, steps=400, replicas=4, seed=2, chunk=100, save=save, checkpoint=str(ck))


def test_nan_carry_and_hash_mismatch_are_refused(tmp_path):
    p, m, ck = _stopped(tmp_path)

    def nan_energy(payload):
        for k, a in payload.items():
            if k.startswith("carry_") and a.dtype.kind == "f":
                a = a.copy()
                a.flat[0] = np.nan
                payload[k] = a
                return

    _rewrite(ck, edit_arrays=nan_energy, rehash=True)
    with pytest.raises(ValueError, match="NaN"):
        ns.run(m, p, steps=400, replicas=4, seed=2, chunk=100, checkpoint=str(ck))
    (tmp_path / "b").mkdir()
    p, m, ck = _stopped(tmp_path / "b")
    _rewrite(ck, edit_meta={"t_done": 100}, rehash=False)  # a valid zip CRC, but not our hash
    with pytest.raises(ValueError, match="hash"):
        ns.run(m, p, steps=400, replicas=4, seed=2, chunk=100, checkpoint=str(ck))


def test_garbage_checkpoint_is_one_clear_error(tmp_path):
    p, m = _setup()
    ck = tmp_path / "run.npz"
    ck.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ValueError, match="damaged"):
        ns.run(m, p, steps=400, replicas=4, checkpoint=str(ck))


def test_checkpoint_paths_checked_before_the_run(tmp_path):
    p, m = _setup()
    with pytest.raises(ValueError, match="is a directory"):
        ns.run(m, p, steps=10, checkpoint=str(tmp_path))
    with pytest.raises(ValueError, match="does not exist"):
        ns.run(m, p, steps=10, checkpoint=str(tmp_path / "missing" / "run.npz"))


def test_a_second_process_on_the_same_checkpoint_is_refused(tmp_path):
    ck = tmp_path / "run.npz"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from neurosim._checkpoint import checkpoint_lock\n"
         "with checkpoint_lock(sys.argv[1]):\n    print('locked', flush=True); time.sleep(60)", str(ck)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        p, m = _setup()
        with pytest.raises(ValueError, match="in use by another run"):
            ns.run(m, p, steps=10, checkpoint=str(ck))
    finally:
        holder.kill()
        holder.wait()
    # the dead holder's lock is taken over
    p, m = _setup()
    assert ns.run(m, p, steps=10, checkpoint=str(ck)).steps == 10
    assert not os.path.exists(f"{ck}.lock")


def test_temporary_files_are_unique(tmp_path, monkeypatch):
    names = []
    real = _checkpoint.tempfile.mkstemp

    def spy(*a, **k):
        fd, name = real(*a, **k)
        names.append(name)
        return fd, name

    monkeypatch.setattr(_checkpoint.tempfile, "mkstemp", spy)
    _stopped(tmp_path, checkpoint_every=0)  # a save after each of the two chunks
    assert len(names) == len(set(names)) == 2
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]


def test_records_are_stored_compactly(tmp_path):
    """Windowed spike sums dominate a checkpoint (records × replicas × n counters): they are stored
    in the smallest integer type and compressed, and restored exactly."""
    p = ns.MaxCut.from_graph(nx.random_regular_graph(4, 200, seed=3))
    m = Gibbs(p, mode="synchronous", schedule=ns.schedules.Geometric.anneal(3.0, 0.1, 2000))
    save = ns.SaveAt(every=100, what=("energy",), sum=("spikes",))
    ck = tmp_path / "run.npz"
    full = ns.run(m, p, steps=2000, replicas=16, save=save)
    ns.run(m, p, steps=2000, replicas=16, save=save, chunk=1000, checkpoint=str(ck), stop_after_chunks=1)
    raw = 10 * 16 * 200 * 4  # the int32 spike sums of 10 records
    assert ck.stat().st_size < raw / 3
    with zipfile.ZipFile(ck) as z:
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in z.infolist())
    resumed = ns.run(m, p, steps=2000, replicas=16, save=save, chunk=1000, checkpoint=str(ck))
    assert resumed.records["spikes"].dtype == full.records["spikes"].dtype
    np.testing.assert_array_equal(resumed.records["spikes"], full.records["spikes"])


def test_interrupt_saves_a_checkpoint_and_resume_is_exact(tmp_path):
    """SIGINT during a run with a checkpoint: the chunk in flight finishes, the checkpoint is saved,
    KeyboardInterrupt says how to resume; resuming gives the uninterrupted result."""
    import signal

    p, m = _setup()
    ck = tmp_path / "run.npz"
    full = ns.run(m, p, steps=400, replicas=4, seed=2)
    calls = {"n": 0}
    from neurosim import _run

    real = _run._progress

    def interrupt_after_first(done, total, t0, stream=None):
        calls["n"] += 1
        if calls["n"] == 1:
            os.kill(os.getpid(), signal.SIGINT)

    _run._progress = interrupt_after_first
    try:
        with pytest.raises(KeyboardInterrupt, match="resume"):
            ns.run(m, p, steps=400, replicas=4, seed=2, chunk=100, checkpoint=str(ck), progress=True)
    finally:
        _run._progress = real
    assert ck.exists()
    part = ns.run(m, p, steps=400, replicas=4, seed=2, chunk=100, checkpoint=str(ck))
    assert 0 < part.resumed_from < 400
    np.testing.assert_array_equal(part.best_state, full.best_state)
    np.testing.assert_array_equal(part.final_state, full.final_state)
