"""neurosim bench latency on a tiny configuration, and the persistent compilation cache's set-up."""

import os
import subprocess
import sys
import types

import pytest

from neurosim import _jaxcache
from neurosim.bench import BENCHES, _latency


@pytest.mark.slow  # two fresh interpreters with cold and warm caches: ~12 s
def test_latency_bench_runs_cold_and_warm_on_a_tiny_problem():
    assert BENCHES["latency"] == "neurosim.bench._latency"
    data = _latency.measure(["sa"], n=12, steps=20, repeats=1)
    rows, ref = _latency.summarize(data)
    assert [(r["model"], r["cache"]) for r in rows] == [("sa", "cold"), ("sa", "warm")]
    for r in rows:
        assert r["wall_s"] > 0 and r["cpu_s"] > 0 and r["import_s"] > 0 and r["time_compile"] > 0
        assert r["within"] in ("yes", "NO") and r["cut"] >= 9  # SA ends at a local optimum: cut ≥ m/2 = 9
    assert ref["bound_s"] == max(3.0, 2 * ref["wall_s"])


def test_main_quick_prints_without_recording(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(_latency, "measure", lambda models, **kw: {
        "reference": [{"wall_s": 2.0, "cpu_s": 1.5}],
        "runs": {"sa": {k: [{"wall_s": 3.0, "cpu_s": 2.0, "import_s": 1.0, "build_s": 0.1, "time_compile": 1.5,
                             "time_run": 0.01, "cut": 20.0}] for k in ("cold", "warm")}}})
    out = _latency.main(types.SimpleNamespace(models="sa", n=100, steps=10, repeats=1, quick=True, no_record=False, json=False))
    assert out["reference"]["bound_s"] == 4.0 and out["rows"][0]["within"] == "yes"
    assert "bound max(3, 2x) = 4.00 s" in capsys.readouterr().out


def test_cache_folder_is_keyed_by_jax_version_and_cpu():
    import jax

    d = _jaxcache.default_dir()
    assert os.path.basename(d).startswith(f"jax-{jax.__version__}-") and len(os.path.basename(d).split("-")[-1]) == 12


def test_cache_switch_and_folder_choice(tmp_path):
    code = "import neurosim, jax; print(jax.config.jax_compilation_cache_dir)"
    env = dict(os.environ)
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    off = subprocess.run([sys.executable, "-c", code], env=dict(env, NEUROSIM_COMPILATION_CACHE="0"), capture_output=True, text=True, check=True)
    assert off.stdout.strip() == "None"
    chosen = subprocess.run([sys.executable, "-c", code], env=dict(env, NEUROSIM_COMPILATION_CACHE=str(tmp_path)), capture_output=True, text=True, check=True)
    assert chosen.stdout.strip() == str(tmp_path)
    user = subprocess.run([sys.executable, "-c", code], env=dict(env, JAX_COMPILATION_CACHE_DIR=str(tmp_path / "u")), capture_output=True, text=True, check=True)
    assert user.stdout.strip() == str(tmp_path / "u")
