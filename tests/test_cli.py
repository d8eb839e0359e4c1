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
