"""The command line as a user runs it: solve (JSON fields, parameters, errors), demo, models."""

import json

import networkx as nx
import numpy as np
import pytest

import neurosim as ns
from neurosim._cli import main


@pytest.fixture
def small_gset(tmp_path):
    g = nx.gnm_random_graph(14, 30, seed=3)
    p = ns.MaxCut.from_graph(g, name="small")
    path = tmp_path / "small.txt"
    ns.write_gset(path, p)
    return path, p


def _json(capsys):
    out = capsys.readouterr().out.strip().splitlines()
    return json.loads(out[-1])


def test_solve_json_has_the_documented_fields(small_gset, capsys):
    path, p = small_gset
    rc = main(["solve", str(path), "--model", "gibbs", "--steps", "3000", "--replicas", "4", "--seed", "5", "--json",
               "--param", "mode=sequential", "--param", "schedule=geometric", "--param", "T_start=2", "--param", "T_end=0.05"])
    assert rc == 0
    out = _json(capsys)
    for key in ("problem", "model", "hardware", "steps", "replicas", "seed", "best_energy", "best_state",
                "replica_best_energy", "best_cut", "replica_best_cut", "time_s", "device"):
        assert key in out, key
    assert out["problem"]["n"] == 14 and out["problem"]["m"] == 30
    assert out["steps"] == 3000 and out["replicas"] == 4 and out["seed"] == 5
    assert len(out["replica_best_cut"]) == 4 and set(out["time_s"]) == {"compile", "run"}
    # the reported cut is the cut of the reported state, recounted here
    state = np.array(out["best_state"])
    assert p.cut(state) == pytest.approx(out["best_cut"])
    _, ground, _ = ns.brute_force(p)
    assert out["best_cut"] == pytest.approx(p.cut(ground[0]))  # 14 spins, 3000 annealed steps


def test_solve_writes_outputs_and_accepts_1e_notation(small_gset, tmp_path, capsys):
    path, _ = small_gset
    out_dir = tmp_path / "out"
    assert main(["solve", str(path), "--model", "neurosa", "--steps", "2e4", "--replicas", "2", "--record-every", "1000",
                 "--out", str(out_dir), "--json"]) == 0
    assert _json(capsys)["steps"] == 20_000
    assert (out_dir / "result.json").exists() and (out_dir / "states.npz").exists() and (out_dir / "energy.png").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model", "nosuch"], "unknown model 'nosuch'"),
        (["--hardware", "loihi9"], "unknown hardware profile 'loihi9'"),
        (["--param", "nonsense=1"], "has no parameter"),
        (["--param", "novalue"], "NAME=VALUE"),
        (["--param", "mode=diagonal"], "mode must be"),
    ],
)
def test_solve_bad_input_is_one_clear_line(small_gset, capsys, args, message):
    path, _ = small_gset
    rc = main(["solve", str(path), "--steps", "10", "--no-progress"] + args)
    err = capsys.readouterr().err
    assert rc == 2 and message in err and "Traceback" not in err


def test_solve_refuses_missing_file_and_negative_steps(tmp_path, capsys):
    assert main(["solve", str(tmp_path / "missing.txt")]) == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["solve", str(tmp_path / "x.txt"), "--steps", "-5"])
    assert "positive integer" in capsys.readouterr().err


def test_demo_finds_the_exact_optimum_and_writes_figures(tmp_path, capsys):
    rc = main(["demo", "--n", "12", "--steps", "4000", "--replicas", "8", "--out", str(tmp_path / "demo"), "--json"])
    out = _json(capsys)
    assert rc == 0 and out["found_optimum"] and out["best_cut"] == out["optimum_cut"]
    for fig in out["figures"]:
        assert (tmp_path / "demo" / fig.split("/")[-1]).stat().st_size > 1000


def test_models_lists_every_model_and_profile(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in ("gibbs", "neurosa", "sa", "loihi2", "spinnaker2"):
        assert name in out


def test_build_model_lays_annealing_over_the_run_length(small_gset):
    import jax.numpy as jnp

    from neurosim._build import build_model
    from neurosim.models import SA, NeuroSA

    _, p = small_gset
    nsa = build_model("neurosa", p, steps=5000)
    assert float(nsa.schedule.delta) == pytest.approx(2e-3 * 1e8 / 5000, rel=1e-6)
    assert float(build_model("neurosa", p, steps=5000, horizon=10**8).schedule.delta) == pytest.approx(2e-3, rel=1e-6)
    sa = build_model("sa", p, steps=5000)
    ref = SA(p, steps=5000)
    for t in (0, 2500, 4999):
        assert float(sa.schedule(jnp.int32(t))) == float(ref.schedule(jnp.int32(t)))
    assert float(sa.schedule(jnp.int32(4999))) < float(SA(p, steps=50_000).schedule(jnp.int32(4999)))


# ----------------------------------------------------------------------------- issue 13 (8) / 15: the CLI's edges
@pytest.mark.parametrize(
    "args, message",
    [
        (["--steps", "1e400"], "positive integer"),
        (["--steps", "1.5"], "positive integer"),
        (["--seed", "1.5"], "seed"),
        (["--seed", "-1"], "seed"),
        (["--param", "steps=5"], None),  # SA's own anneal length: accepted (it was a TypeError)
        (["--model", "gibbs", "--param", "temperature=abc"], "temperature"),
        (["--model", "gibbs", "--param", "schedule=nosuch"], "schedule"),
        (["--model", "gibbs", "--param", "schedule=geometric", "--param", "T_start=-1", "--param", "T_end=0.1"], "T_start"),
        (["--model", "gibbs", "--param", "schedule=geometric", "--param", "T_start=nan", "--param", "T_end=0.1"], "T_start"),
        (["--model", "sa", "--param", "T_start=nan"], "T_start"),
        (["--penalty", "3"], "MIS problems only"),
    ],
)
def test_bad_cli_input_is_one_line_exit_2(small_gset, capsys, args, message):
    path, _ = small_gset
    argv = ["solve", str(path), "--steps", "50", "--no-progress", "--json", "--model", "sa"] + args
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse: usage + one error line
        rc = exc.code
    err = capsys.readouterr().err
    if message is None:
        assert rc == 0, err
        return
    assert rc == 2 and message in err and "Traceback" not in err, err
    assert len([line for line in err.splitlines() if "error" in line]) == 1


def test_replicas_1e7_on_g1_is_refused_with_a_memory_estimate(capsys):
    import os

    g1 = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "gset", "G1.txt")
    if not os.path.exists(g1):
        pytest.skip("Gset G1 not available")
    rc = main(["solve", g1, "--replicas", "1e7", "--steps", "100", "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and "GiB" in err and "fewer replicas" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_debug_env_shows_the_traceback(small_gset, monkeypatch):
    path, _ = small_gset
    monkeypatch.setenv("NEUROSIM_DEBUG", "1")
    with pytest.raises(ValueError, match="MIS problems only"):
        main(["solve", str(path), "--penalty", "3", "--steps", "10"])


def test_paths_are_checked_before_the_run(small_gset, tmp_path, capsys):
    path, _ = small_gset
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for args, message in (
        (["--out", str(a_file)], "is a file"),
        (["--checkpoint", str(tmp_path)], "is a directory"),
        (["--checkpoint", str(tmp_path / "missing" / "c.npz")], "does not exist"),
    ):
        assert main(["solve", str(path), "--steps", "10"] + args) == 2
        assert message in capsys.readouterr().err


def test_unknown_option_prints_the_subcommands_usage(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["solve", "x.txt", "--stpes", "5"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "usage: neurosim solve" in err and "--stpes" in err


def test_help_shows_defaults_and_bench_help_is_whole_sentences(capsys):
    with pytest.raises(SystemExit):
        main(["solve", "--help"])
    out = capsys.readouterr().out
    assert "(default: 10000)" in out and "(default: 8)" in out
    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    out = capsys.readouterr().out
    assert "``" not in out and "--write-docs" in out
    import re

    entries = re.findall(r"^    (\S+)\s+(.*?)(?=^    \S|^options:)", out, re.S | re.M)
    assert len(entries) >= 5
    for name, text in entries:
        assert " ".join(text.split()).endswith((".", ")")), (name, text)


def test_demo_and_qscore_accept_no_progress(tmp_path, capsys):
    rc = main(["demo", "--n", "8", "--steps", "500", "--replicas", "4", "--out", str(tmp_path / "d"), "--no-progress", "--json"])
    assert rc in (0, 1)
    with pytest.raises(SystemExit) as exc:
        main(["qscore", "--no-progress", "--help"])
    assert exc.value.code == 0


def test_out_implies_a_checkpoint_and_summary_says_where(small_gset, tmp_path, capsys):
    path, p = small_gset
    out_dir = tmp_path / "o"
    assert main(["solve", str(path), "--model", "sa", "--steps", "400", "--replicas", "2", "--out", str(out_dir), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert (out_dir / "checkpoint.npz").exists()
    assert f"solution written to {out_dir / 'result.json'}" in text
    saved = json.loads((out_dir / "result.json").read_text())
    assert saved["vartype"] == "SPIN" and saved["partial"] is False and saved["resumed_from"] == 0
    assert p.cut(np.array(saved["best_state"])) == pytest.approx(saved["best_cut"])
    # the same command again resumes from the finished checkpoint and says so
    assert main(["solve", str(path), "--model", "sa", "--steps", "400", "--replicas", "2", "--out", str(out_dir), "--json"]) == 0
    assert _json(capsys)["resumed_from"] == 400


def test_sigint_saves_writes_partial_result_and_exits_130(small_gset, tmp_path):
    """A real process: SIGINT mid-run → checkpoint + result.json marked partial + one line saying how
    to resume, exit 130; running the printed command finishes the run."""
    import os
    import signal
    import subprocess
    import sys
    import time

    path, _ = small_gset
    out_dir = tmp_path / "run"
    # 2e9 steps: far longer than the 2 s before the signal on any machine, warm compilation cache
    # included (3e6 steps finished before the signal on a quiet machine); a chunk is 1 % of the run.
    cmd = [sys.executable, "-m", "neurosim._cli", "solve", str(path), "--model", "gibbs", "--steps", "2e9", "--replicas", "4",
           "--out", str(out_dir), "--no-progress", "--checkpoint-every", "1000"]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 240
    while not (out_dir / "checkpoint.npz.lock").exists() and time.time() < deadline:  # the run has started
        time.sleep(0.2)
    time.sleep(2.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err[-2000:]
    last = err.strip().splitlines()[-1]
    assert "interrupted" in last and "resume with: neurosim solve" in last and "Traceback" not in err
    saved = json.loads((out_dir / "result.json").read_text())
    assert saved["partial"] is True and 0 < saved["steps"] < 2_000_000_000 and saved["interrupted"] == "SIGINT"
    assert (out_dir / "checkpoint.npz").exists()


def test_demo_figures_log_convergence_integer_raster_histogram_within_one():
    from neurosim._demo import demo_figures, demo_graph

    p = demo_graph(10, 0)
    _, ground, _ = ns.brute_force(p)
    opt = float(p.cut(ground[0]))
    from neurosim.models import NeuroSA

    m = NeuroSA(p)
    res = ns.run(m, p, steps=2000, replicas=6, save=ns.SaveAt(every=20, what=("energy", "best_energy"), sum=("on_spikes", "off_spikes")))
    figs = demo_figures(res, opt, ("on_spikes", "off_spikes"))
    conv = figs["convergence.png"].axes[0]
    assert conv.get_xscale() == "log" and len(conv.collections) >= 1  # the replica band
    raster = figs["raster.png"].axes[0]
    ticks = [t for t in raster.get_yticks() if raster.get_ylim()[0] <= t <= raster.get_ylim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks)
    labels = [h.get_label() for h in raster.collections]
    assert "ON" in labels and "OFF" in labels
    on, off = (np.asarray(c.get_offsets())[:, 1] for c in raster.collections[:2])
    assert not set(np.round(on, 3)) & set(np.round(off, 3))  # ON and OFF ticks never on the same line
    hist = figs["distribution.png"].axes[0]
    assert hist.get_xlim()[1] <= 1.0 and all(patch.get_x() + patch.get_width() <= 1.0 + 1e-9 for patch in hist.patches)
