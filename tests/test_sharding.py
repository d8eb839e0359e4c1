"""Replicas sharded over several host devices, and split over two processes with jax.distributed:
per-replica results must equal a one-device run of the same seed.

Both need a fresh JAX runtime (the device count is fixed at start-up), so they run in subprocesses:
one with ``XLA_FLAGS=--xla_force_host_platform_device_count=4``, and two processes talking over
loopback (gloo collectives on CPU).
"""

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import neurosim as ns
from neurosim import _distributed as nd

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Builds the same small problems in the parent and in the subprocesses.
PRELUDE = textwrap.dedent(
    """
    import json, sys
    import numpy as np, networkx as nx, jax
    jax.config.update("jax_numpy_dtype_promotion", "strict")
    import neurosim as ns
    from neurosim.models import MODELS, Gibbs

    def problem():
        return ns.MaxCut.from_graph(nx.gnp_random_graph(40, 0.15, seed=4))

    def models(p):
        sched = ns.schedules.Geometric.anneal(2.0, 0.1, 400)
        out = {"gibbs-seq": Gibbs(p, mode="sequential", schedule=sched),
               "gibbs-sync": Gibbs(p, mode="synchronous", schedule=sched)}
        for name, cls in sorted(MODELS.items()):
            if cls is not Gibbs:
                out[name] = cls(p)
        return out

    SAVE = ns.SaveAt(every=50, what=("energy", "best_energy"))

    def summary(res):
        return {"best_state": np.asarray(res.best_state).tolist(),
                "final_state": np.asarray(res.final_state).tolist(),
                "best_energy": np.asarray(res.best_energy).tolist(),
                "rec_energy": np.asarray(res.records["energy"]).tolist()}
    """
)

MULTI_DEVICE = PRELUDE + textwrap.dedent(
    """
    assert len(jax.devices()) == 4, jax.devices()
    p = problem()
    out = {}
    wanted = sys.argv[1].split(",")
    for name, m in models(p).items():
        if name not in wanted:
            continue
        one = ns.run(m, p, steps=400, replicas=8, seed=3, save=SAVE)
        four = ns.run(m, p, steps=400, replicas=8, seed=3, save=SAVE, devices=jax.devices())
        out[name] = {"one": summary(one), "four": summary(four), "device": four.device}
    print("RESULT" + json.dumps(out))
    """
)

TWO_PROCESSES = PRELUDE + textwrap.dedent(
    """
    from neurosim import _distributed as nd
    pid, port, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    nd.initialize(f"127.0.0.1:{port}", 2, pid)
    assert jax.process_count() == 2
    p = problem()
    m = models(p)["gibbs-seq"]
    out = nd.run_distributed(m, p, steps=400, replicas=6, seed=3)
    mine = out["local"].replica_ids.tolist()
    if pid == 0:
        np.savez(path, best_state=out["best_state"], final_state=out["final_state"],
                 best_energy=out["best_energy"], cut=out["cut"], replica_ids=out["replica_ids"])
    print("SLICE", pid, mine)
    """
)


def _env(**extra):
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)
    env["JAX_PLATFORMS"] = "cpu"
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def _four_devices(names):
    proc = subprocess.run([sys.executable, "-c", MULTI_DEVICE, ",".join(names)], env=_env(XLA_FLAGS="--xla_force_host_platform_device_count=4"),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    line = [l for l in proc.stdout.splitlines() if l.startswith("RESULT")][-1]
    out = json.loads(line[len("RESULT"):])
    assert sorted(out) == sorted(names)
    return out


def _check_equal(results):
    for name, r in results.items():
        assert r["device"].endswith("x4")
        for k in ("best_state", "final_state", "best_energy"):
            np.testing.assert_array_equal(np.asarray(r["one"][k]), np.asarray(r["four"][k]), err_msg=f"{name}: {k}")
        np.testing.assert_allclose(np.asarray(r["one"]["rec_energy"]), np.asarray(r["four"]["rec_energy"]), rtol=1e-6, atol=1e-5)


def test_four_host_devices_equal_one_device_baseline():
    _check_equal(_four_devices(["gibbs-seq", "gibbs-sync"]))


@pytest.mark.slow
def test_four_host_devices_equal_one_device_every_model():
    from neurosim.models import MODELS, Gibbs

    others = sorted(n for n, c in MODELS.items() if c is not Gibbs)
    if not others:
        pytest.skip("only the Gibbs baseline is registered")
    _check_equal(_four_devices(others))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_equal_one_process(tmp_path):
    path = str(tmp_path / "gathered.npz")
    port = str(_free_port())
    procs = [subprocess.Popen([sys.executable, "-c", TWO_PROCESSES, str(i), port, path], env=_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    outs = []
    try:
        for p in procs:
            outs.append(p.communicate(timeout=300))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (o, e) in zip(procs, outs):
        assert p.returncode == 0, e[-4000:]
    slices = sorted(l for o, _ in outs for l in o.splitlines() if l.startswith("SLICE"))
    assert slices == ["SLICE 0 [0, 1, 2]", "SLICE 1 [3, 4, 5]"]
    got = np.load(path)
    ns_ = {}
    exec(PRELUDE, ns_)
    p = ns_["problem"]()
    ref = ns.run(ns_["models"](p)["gibbs-seq"], p, steps=400, replicas=6, seed=3)
    np.testing.assert_array_equal(got["replica_ids"], np.arange(6))
    np.testing.assert_array_equal(got["best_state"], ref.best_state)
    np.testing.assert_array_equal(got["final_state"], ref.final_state)
    np.testing.assert_array_equal(got["best_energy"], ref.best_energy)
    np.testing.assert_array_equal(got["cut"], ref.report["cut"])


def test_replica_slices_partition_the_ensemble():
    for R, P, mult in [(8, 2, 1), (10, 3, 1), (16, 3, 4), (5, 5, 1)]:
        parts = [nd.replica_slice(R, p, P, multiple_of=mult) for p in range(P)]
        np.testing.assert_array_equal(np.concatenate(parts), np.arange(R))
        assert all(len(s) % mult == 0 for s in parts)
        assert max(map(len, parts)) - min(map(len, parts)) <= mult
    with pytest.raises(ValueError, match="replicas"):
        nd.replica_slice(3, 0, 4)
    with pytest.raises(ValueError, match="process_id"):
        nd.replica_slice(8, 2, 2)


def test_single_process_gather_orders_by_replica_id():
    out = nd.gather({"x": np.array([30, 10, 20])}, [3, 1, 2])
    np.testing.assert_array_equal(out["x"], [10, 20, 30])
