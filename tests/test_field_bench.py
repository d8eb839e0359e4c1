"""Field benchmarks' machinery: budgets, time to solution, ratios, the peers' QUBO conventions and the
bqp directory reader (no timings asserted)."""

import itertools
import json
import os

import numpy as np
import pytest

from neurosim.bench import _bqp, _neurobench, _neurobench_report, _peers


def brute(Q):
    n = Q.shape[0]
    X = np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.float64)
    return np.einsum("ri,ij,rj->r", X, Q, X).min()


def random_qubo(n, seed):
    rng = np.random.default_rng(seed)
    A = rng.integers(-5, 6, size=(n, n)).astype(float)
    return (A + A.T) / 2


def test_budgets_are_neurobench_decades_or_doublings():
    np.testing.assert_allclose(_neurobench.budgets("ft", 100.0), [1e-3, 1e-2, 1e-1, 1, 10, 100])
    np.testing.assert_allclose(_neurobench.budgets("ft", 0.5), [1e-3, 1e-2, 1e-1, 0.5])
    np.testing.assert_allclose(_neurobench.budgets("tts", 0.01), [1e-3, 2e-3, 4e-3, 8e-3])
    np.testing.assert_allclose(_neurobench.budgets("ft", 100.0, 10.0), [10, 100])  # --min-timeout: the long budgets only
    np.testing.assert_allclose(_neurobench.budgets("ft", 0.05, 0.05), [0.05])


def test_tts_is_the_shortest_budget_run_reaching_each_threshold():
    pts = [{"timeout_s": 0.1, "time_s": 0.12, "cost": -95.0}, {"timeout_s": 0.01, "time_s": 0.02, "cost": -80.0},
           {"timeout_s": 1.0, "time_s": 1.1, "cost": -99.5}]
    assert _neurobench.tts(pts, -100.0) == {"0.1": 0.12, "0.05": 0.12, "0.01": 1.1}
    assert _neurobench.tts(pts[:2], -100.0)["0.01"] is None


def test_ratio_and_neurosim_names():
    assert _neurobench_report.ratio(0.2, 0.1) == "2"
    assert _neurobench_report.ratio(0.0, 0.0) == "= (both 0)"
    assert _neurobench_report.ratio(0.1, 0.0) == "∞"
    assert _neurobench_report.ratio(None, 0.1) == "—"
    assert _neurobench_report.is_neurosim("sa loihi2[w8,s24,r24]") and not _neurobench_report.is_neurosim("SB ballistic")


def test_report_on_synthetic_instances_says_who_is_ahead():
    pts = [{"solver": "sa float", "timeout_s": 1.0, "time_s": 1.0, "cost": -10.0, "gap": 0.0},
           {"solver": "dwave-samplers SA", "timeout_s": 1.0, "time_s": 1.0, "cost": -9.0, "gap": 0.1},
           {"solver": "neurosa float", "timeout_s": 1.0, "time_s": 1.0, "cost": -11.0, "gap": 0.1}]
    inst = [{"n": 100, "density": 0.05, "seed": 0, "bks": -10.0, "bks_how": "tabu 100 reads × 50 restarts", "best_run": -11.0,
             "points": pts, "unsupported": [], "failed": [], "tts": {"sa float": _neurobench.tts(pts[:1], -10.0)}, "compile_s": {}}]
    md = _neurobench_report.markdown({"instances": inst, "timeouts": [1.0], "scenario": "ft", "replicas": 8,
                                      "peers": {"dwave-samplers SA": "dwave-samplers x"}, "command": "c"})
    assert "neurosim strictly ahead in 1 of 1 cells" in md
    assert "NeuroSA beat the tabu BKS on 1 instance(s)" in md


def test_dwave_peers_reach_a_tiny_optimum_and_report_states():
    pytest.importorskip("dwave.samplers")
    Q = random_qubo(8, 0)
    for cls in (_peers.DwaveSA, _peers.DwaveTabu):
        x, dt, info = cls(Q).solve(0.05, seed=1)
        assert x.shape[1] == 8 and dt > 0
        assert np.einsum("ri,ij,rj->r", x.astype(float), Q, x.astype(float)).min() == brute(Q)


@pytest.mark.slow
@pytest.mark.parametrize("cls", ["OpenJijSA", "SBDiscrete"])
def test_other_peers_minimise_x_q_x_in_our_convention(cls):
    pytest.importorskip("openjij" if cls == "OpenJijSA" else "simulated_bifurcation")
    Q = random_qubo(7, 3)
    peer = getattr(_peers, cls)(Q)
    x, _, _ = peer.solve(0.3, seed=2)
    e = np.einsum("ri,ij,rj->r", x.astype(float), Q, x.astype(float)).min()
    assert e == brute(Q)
    if cls == "OpenJijSA":  # OpenJij's own energy of the returned state is ours: the pair factor 2 is right
        res = peer.sampler.sample(peer.bqm, num_reads=1, num_sweeps=200, seed=5)
        s = np.array([res.samples()[0][i] for i in range(7)], dtype=float)
        assert np.isclose(res.energies[0], s @ Q @ s)


def test_bqp_directory_reader(tmp_path):
    (tmp_path / "bqp3-1.sparse").write_text("3 3\n1 1 -2\n1 2 3\n2 3 -1\n")
    (tmp_path / "other.sparse").write_text("2 0\n")
    (tmp_path / "optimal_energy.txt").write_text("bqp3-1   -2\n")
    assert [(n, o) for n, _, o in _bqp.instances(str(tmp_path))] == [("bqp3-1", -2.0)]
    import neurosim as ns

    p = ns.load_problem(str(tmp_path / "bqp3-1.sparse"), format="bqp")
    # a pair line contributes 2q: E(1,1,0) = −2 + 6 = 4, E(0,1,1) = −2, E(1,0,0) = −2
    Q = p.to_qubo().matrix()
    assert brute(Q) == -2.0 and np.array([1, 1, 0]) @ Q @ np.array([1, 1, 0]) == 4.0
    (tmp_path / "optimal_energy.txt").write_text("bqp3-1 minus-three\n")
    with pytest.raises(ValueError, match="optimum is not a number"):
        _bqp.instances(str(tmp_path))
    with pytest.raises(ValueError, match="not a directory"):
        _bqp.instances(str(tmp_path / "missing"))


def test_shared_bqp_sample_is_listed_with_its_optima():
    d = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "bqp")
    if not os.path.isdir(d):
        pytest.skip("no ../shared/data/bqp")
    got = {name: (opt, path) for name, path, opt in _bqp.instances(d)}
    assert got["bqp50-1"][0] == -2098 and got["bqp500-2"][0] == -128223
    assert [n for n in got] == sorted(got, key=lambda k: (int(k[3:].split("-")[0]), k))


def test_bqp_gaps_are_to_the_lower_of_listed_optimum_and_best_run():
    inst = {"bks": -100.0, "best_run": -101.0, "points": [{"cost": -101.0}, {"cost": -99.0}]}
    _bqp._regap(inst)
    assert inst["reference"] == -101.0
    np.testing.assert_allclose([p["gap"] for p in inst["points"]], [0.0, 2 / 101])


def test_ratio_table_does_not_score_beating_the_bks_as_a_loss():
    from neurosim.bench._neurobench_report import ratio_table

    pts = [{"solver": "neurosa float", "timeout_s": 1.0, "cost": -69.0, "gap": 2 / 67},  # beats the BKS
           {"solver": "dwave-samplers tabu", "timeout_s": 1.0, "cost": -67.0, "gap": 0.0}]
    inst = {"n": 250, "density": 0.05, "seed": 0, "bks": -67.0, "best_run": -69.0, "points": pts}
    md = ratio_table([inst], [1.0])
    assert "neurosa float (0.000)" in md
    assert "dwave-samplers tabu: neurosim strictly ahead in 1 of 1 cells" in md


def _recorded_run(tmp_path, name, seeds, timeouts=(1.0,)):

    inst = [{"n": 50, "density": 0.05, "seed": s, "bks": -10.0, "bks_how": "exact", "best_run": -10.0,
             "points": [{"solver": "sa float", "timeout_s": 1.0, "time_s": 1.0, "cost": -10.0 + s, "gap": s / 10}],
             "unsupported": [], "failed": [], "tts": {}, "compile_s": {}} for s in seeds]
    data = {"scenario": "ft", "timeouts": list(timeouts), "replicas": 8, "peers": {}, "instances": inst,
            "quick": False, "command": f"run {name}", "partial": False}
    env = {"device": "CPU", "date": f"day {name}", "commit": name, "jax": "0"}
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"env": env, "data": data}))
    return str(path)


def test_merge_averages_the_seeds_of_several_runs(tmp_path):

    a, b = _recorded_run(tmp_path, "a", [0]), _recorded_run(tmp_path, "b", [2, 1])
    out = tmp_path / "docs"
    _neurobench.merge([a, b], "all", docs_dir=str(out))
    rec = json.loads((out / "benchmarks" / "neurobench-ft-all.json").read_text())
    assert [i["seed"] for i in rec["data"]["instances"]] == [0, 1, 2]
    md = (out / "benchmarks.md").read_text()
    assert "<!-- bench:neurobench-ft/all -->" in md and "`run a` (day a, commit a, CPU, " in md
    assert "different machines" not in md
    assert "| 50 | 0.05 | 3 | 0.100 |" in md  # mean gap over the three seeds
    with pytest.raises(ValueError, match="seed=0 is also in"):
        _neurobench.merge([a, a], "dup", docs_dir=str(out))
    with pytest.raises(ValueError, match="differ from"):
        _neurobench.merge([a, _recorded_run(tmp_path, "c", [3], timeouts=(0.1, 1.0))], "x", docs_dir=str(out))


def test_merge_is_complete_only_when_the_grid_is(tmp_path):

    a, b = _recorded_run(tmp_path, "a", [0, 1]), _recorded_run(tmp_path, "b", [2])
    out = tmp_path / "docs"
    _neurobench.merge([a, b], "all", docs_dir=str(out))
    assert not json.loads((out / "benchmarks" / "neurobench-ft-all.json").read_text())["data"]["partial"]
    rec = json.loads(open(b).read())
    rec["data"]["instances"][0]["n"] = 100  # (100, 0.05, 2) present, (100, 0.05, 0/1) and (50, 0.05, 2) missing
    open(b, "w").write(json.dumps(rec))
    _neurobench.merge([a, b], "gap", docs_dir=str(out))
    assert "**Partial: 3 of the 6 instances of the grid.**" in (out / "benchmarks.md").read_text()


def test_merge_says_when_the_runs_were_on_different_machines(tmp_path):
    import json

    a, b = _recorded_run(tmp_path, "a", [0]), _recorded_run(tmp_path, "b", [1])
    rec = json.loads(open(b).read())
    rec["env"]["device"] = "CPU: other"
    open(b, "w").write(json.dumps(rec))
    out = tmp_path / "docs"
    _neurobench.merge([a, b], "all", docs_dir=str(out))
    assert "**The runs were on different machines**" in (out / "benchmarks.md").read_text()


def test_retarget_scores_a_run_against_bks_rows_added_after_it():
    pts = [{"solver": "sa float", "timeout_s": 0.1, "time_s": 0.1, "cost": -9.0},
           {"solver": "sa float", "timeout_s": 1.0, "time_s": 1.0, "cost": -10.0}]
    inst = {"n": 500, "density": 0.05, "seed": 3, "bks": -10.0, "bks_how": "best of this run (not in the BKS table)",
            "best_run": -10.0, "points": pts, "tts": {}}
    known = dict(inst, seed=4, bks_how="exact", points=[dict(p) for p in pts])
    data = {"instances": [inst, known]}
    table = {(500, 0.05, 3): {"bks_cost": -12, "reads": 100, "restarts": 50},
             (500, 0.05, 4): {"bks_cost": -12, "reads": 100, "restarts": 50}}
    assert _neurobench.retarget(data, table) == [(500, 0.05, 3)]
    assert inst["bks"] == -12.0 and "added after the run" in inst["bks_how"]
    np.testing.assert_allclose([p["gap"] for p in pts], [3 / 12, 2 / 12])
    assert inst["tts"]["sa float"] == {"0.1": None, "0.05": None, "0.01": None}
    assert known["bks"] == -10.0 and "gap" not in known["points"][0]  # a run scored against a listed BKS is left alone


def test_fig2_table_is_gap_percent_mean_and_sd_over_seeds():
    from neurosim.bench._neurobench_report import fig2_table

    def inst(seed, gap):
        return {"n": 500, "density": 0.05, "seed": seed, "points": [{"solver": "sa loihi2", "timeout_s": 1.0, "gap": gap}]}

    assert fig2_table([inst(0, 0.1)], [1.0]) == ""  # one seed: no spread to show
    md = fig2_table([inst(0, 0.1), inst(1, 0.3)], [1.0])
    assert "| 500 | 0.05 | 2 | 1 | 20.0 ± 10.0 |" in md


def test_a_misspelt_peer_is_an_error_not_a_dropped_column():
    from neurosim.bench._peers import available_peers

    with pytest.raises(ValueError, match=r"unknown peer\(s\) \['dwave SA'\]"):
        available_peers(["dwave SA"])
    assert available_peers([]) == []


def _fig2_record(path, points_by_seed, bks=-10.0, how="tabu 100 reads × 50 restarts", device="CPU: A"):
    insts = [{"n": 250, "density": 0.05, "seed": seed, "bks": bks, "bks_how": how, "best_run": min(p["cost"] for p in pts),
              "points": pts, "tts": {}} for seed, pts in points_by_seed.items()]
    rec = {"env": {"device": device, "cpu_isa": "AVX2"}, "data": {"scenario": "ft", "instances": insts}}
    path.write_text(json.dumps(rec))
    return str(path)


def test_fig2_plot_pools_runs_and_draws_mean_and_sd_of_gap_percent(tmp_path):
    from neurosim.bench._neurobench_fig2 import plot_fig2

    def pt(tau, cost):
        return {"solver": "neurosa float", "timeout_s": tau, "time_s": tau, "cost": cost, "gap": abs(cost + 10) / 10}

    short = _fig2_record(tmp_path / "a.json", {0: [pt(0.1, -8.0), pt(1.0, -9.0)], 1: [pt(0.1, -6.0), pt(1.0, -10.0)]})
    long = _fig2_record(tmp_path / "b.json", {0: [pt(10.0, -10.0), pt(100.0, -9.0)], 1: [pt(10.0, -10.0)]}, device="CPU: B")
    out = tmp_path / "fig2.png"
    series = plot_fig2([short, long], str(out), bks_path=str(tmp_path / "no-table.csv"))
    x = series["neurosa float"][(250, 0.05)]
    np.testing.assert_allclose(x.taus, [0.1, 1.0, 10.0, 100.0])
    np.testing.assert_allclose(x.mean, [30.0, 5.0, 0.0, 10.0])  # gaps 0.2 and 0.4, 0.1 and 0, 0 and 0, 0.1 alone
    np.testing.assert_allclose(x.sd, [10.0, 5.0, 0.0, 0.0])
    assert x.seeds == 2 and list(x.with_point) == [2, 2, 2, 1] and list(x.complete) == [True, True, True, False]
    assert out.stat().st_size > 10_000
    with pytest.raises(ValueError, match=r"solver\(s\) \['tabu'\] not in these runs"):
        plot_fig2([short], str(out), solvers=["tabu"], bks_path=str(tmp_path / "no-table.csv"))


def test_fig2_plot_refuses_a_point_in_two_runs_and_rescores_to_the_pooled_best(tmp_path):
    from neurosim.bench._neurobench_fig2 import plot_fig2, pooled_instances

    def pt(tau, cost, ref):
        return {"solver": "sa float", "timeout_s": tau, "time_s": tau, "cost": cost, "gap": abs(cost - ref) / abs(ref)}

    own = "best of this run (not in the BKS table)"
    a = _fig2_record(tmp_path / "a.json", {0: [pt(1.0, -9.0, -9.0)]}, bks=-9.0, how=own)
    b = _fig2_record(tmp_path / "b.json", {0: [pt(10.0, -12.0, -12.0)]}, bks=-12.0, how=own)
    (inst,), _ = pooled_instances([a, b], bks_path=str(tmp_path / "no-table.csv"))
    assert inst["bks"] == -12.0 and "pooled" in inst["bks_how"]
    np.testing.assert_allclose(sorted(p["gap"] for p in inst["points"]), [0.0, 0.25])
    with pytest.raises(ValueError, match=r"sa float at τ = 1 s on n=250 density=0.05 seed=0 is also in"):
        plot_fig2([a, a], str(tmp_path / "x.png"), bks_path=str(tmp_path / "no-table.csv"))


def test_ratio_table_of_a_run_without_peers_says_so_instead_of_listing_cells():
    pts = [{"solver": "sa float", "timeout_s": 1.0, "cost": -9.0}, {"solver": "sa spinnaker2[float32]", "timeout_s": 1.0, "cost": -10.0}]
    inst = {"n": 50, "density": 0.1, "seed": 0, "bks": -10.0, "best_run": -10.0, "points": pts}
    md = _neurobench_report.ratio_table([inst], [1.0])
    assert "No peer in this run" in md and "|" not in md
    with_peer = dict(inst, points=pts + [{"solver": "dwave-samplers tabu", "timeout_s": 1.0, "cost": -10.0}])
    assert "| 50 | 0.1 | 1 | sa spinnaker2[float32] (0.000) | = (both 0) |" in _neurobench_report.ratio_table([with_peer], [1.0])


class _Clocked(_neurobench.ModelSolver):
    """A ModelSolver whose runs take a known time, ``overhead + steps·per_step`` (first call of each
    program ``first`` s more), so the budget fitting is tested without a clock."""

    def __init__(self, key, overhead, per_step, first=0.0, shortest=None):
        from neurosim import mis

        super().__init__(mis.neurobench(10, 0.1, 0), key, None, 2, shortest=shortest)
        self.clock, self.runs, self.first, self.warm = (overhead, per_step), [], first, set()

    def _run(self, steps, seed):
        import types

        chunk = self.chunk if steps % self.chunk == 0 else self.unit
        extra = 0.0 if chunk in self.warm else self.first
        self.warm.add(chunk)
        self.runs.append((steps, seed, chunk))
        return types.SimpleNamespace(samples=np.zeros((2, 10), np.int8), time_run=self.clock[0] + steps * self.clock[1] + extra)


@pytest.mark.parametrize("key", ["sa", "neurosa"])
def test_model_budget_fit_fills_the_budget_in_whole_chunks_and_ignores_first_call_costs(key):
    s = _Clocked(key, overhead=2e-4, per_step=1e-6, first=0.5)  # a 0.5 s first call fooled the old fit
    for tau in (0.01, 0.1, 1.0):
        _, dt, info = s.solve(tau, seed=3)
        steps = info["steps"]
        assert steps % s.chunk == 0 and dt <= tau * (1 + 1e-9)
        assert dt > tau - s.chunk * 1e-6 - 1e-3 * tau, (tau, dt)  # within one chunk of the budget
        assert s.runs[-1] == (steps, 3 + 1000, s.chunk)  # measured seeds are the old ones, never a calibration's
    assert all(seed < 4 for _, seed, _ in s.runs[:-3])  # calibration seeds 0–3


def test_model_budget_fit_below_one_chunk_runs_units_and_says_when_it_overruns():
    s = _Clocked("sa", overhead=5e-4, per_step=1e-5)  # 8-step unit = 0.58 ms, 64-step chunk = 1.14 ms
    _, dt, info = s.solve(1e-3)
    # (1 ms − 0.5 ms overhead) / 0.08 ms a unit = 6.25: 6 units of 8 steps, the short program
    assert info["steps"] == 48 and dt <= 1e-3
    _, dt, info = s.solve(1e-4)  # below one unit: one unit, reported over the budget (as the peers are)
    assert info["steps"] == 8 and dt > 1e-4


def test_a_peer_whose_calls_are_mostly_overhead_is_fitted_from_its_work_not_one_slow_call():
    class Slow(_peers.FittedPeer):  # OpenJij-like: 0.3 s a call whatever the sweeps, 20 µs a sweep
        name = "slow"

        def __init__(self):
            self.per_unit, self.overhead, self.t_one, self.calls, self.spent = None, 0.0, 0.0, 0, 0.0

        def _timed(self, work, seed):
            self.calls += 1
            dt = 0.3 + 2e-5 * work + (0.6 if self.calls == 7 else 0.0)  # one slow call, at 256 sweeps
            self.spent += dt
            return np.zeros((1, 3), np.int8), dt

    p = Slow()
    # the old rule stopped at the slow call and fitted (0.9 − 0.3)/256 s a sweep: 100× too few sweeps
    assert p.units_for(100.0) == pytest.approx((100.0 - 0.3) / 2e-5, rel=1e-3)
    assert p.spent < 30.0


def test_budget_table_gives_wall_time_over_budget_per_solver():
    def inst(seed, t_sa, t_tabu):
        return {"n": 50, "density": 0.1, "seed": seed, "points": [
            {"solver": "sa float", "timeout_s": 0.001, "time_s": t_sa, "cost": -1.0},
            {"solver": "dwave-samplers tabu", "timeout_s": 0.001, "time_s": t_tabu, "cost": -1.0}]}

    md = _neurobench_report.budget_table([inst(0, 0.0009, 0.004), inst(1, 0.0011, 0.006), inst(2, 0.001, 0.02)], [0.001])
    assert "| sa float | 1 (0.9–1.1) |" in md and "| dwave-samplers tabu | 6 (4–20) |" in md


def test_model_budget_fit_of_long_budgets_only_runs_one_program():
    s = _Clocked("sa", overhead=2e-4, per_step=1e-6, shortest=10.0)
    _, dt, info = s.solve(10.0)
    assert {chunk for _, _, chunk in s.runs} == {64} and info["steps"] % 64 == 0 and 9.9 < dt <= 10.0


def test_solve_instance_runs_a_real_model_sized_to_each_budget():
    from neurosim import mis

    p = mis.neurobench(10, 0.1, 0)
    r = _neurobench.solve_instance(p, -7.0, "exact", taus=[0.002, 0.02], scenario="ft", replicas=2, models=["sa"],
                                   profiles=[], peers=[], log=lambda *a: None)
    (a, b) = r["points"]
    assert (a["timeout_s"], b["timeout_s"]) == (0.002, 0.02) and a["steps"] % 8 == 0 and b["steps"] >= a["steps"]
    assert all(p["cost"] >= -7.0 and p["gap"] >= 0 and p["time_s"] > 0 for p in (a, b))


def test_bench_mis_sizes_its_solvers_like_bench_neurobench_and_scores_feasible_sets():
    # `bench mis` used its own power-of-two sizing of the SA neuron (about half of each budget); now it
    # wraps the neurobench solvers, so a set size it reports is never above the proven optimum
    from neurosim import mis
    from neurosim.bench import _mis

    p = mis.generate(24, 0.15, 3)
    best, _, proven = mis.exact_mis(p, time_limit=30)
    assert proven
    solvers = {"sa": _mis.sa_neuron(p, None, 2, taus=[0.003, 0.03])}
    if _peers.package_version("dwave-samplers"):
        solvers.update(_mis.dwave_solvers(p))
    for name, s in solvers.items():
        sizes = [s.solve(tau, seed=k) for k, tau in enumerate([0.003, 0.03])]
        assert all(1 <= size <= best and dt > 0 for size, dt, _ in sizes), (name, sizes)
    infos = [solvers["sa"].solve(t, seed=5)[2] for t in (0.003, 0.03)]
    assert all(i["steps"] % 8 == 0 and i["steps"] >= 8 and i["replicas"] == 2 for i in infos), infos


def test_a_run_stops_cleanly_before_its_process_runs_out_of_memory_maps(monkeypatch):
    used = iter([1000, 3000, 5000, 61000])
    monkeypatch.setattr(_neurobench.MapsGuard, "used", staticmethod(lambda: next(used)))
    monkeypatch.setattr(_neurobench.MapsGuard, "limit", staticmethod(lambda: 65530))
    said = []
    g = _neurobench.MapsGuard()  # 1000 maps at the start
    assert not g.would_run_out(said.append, "a")  # 3000 + 1.5 × 2000 < 65530
    assert not g.would_run_out(said.append, "b")  # 5000 + 1.5 × 2000
    assert g.would_run_out(said.append, "n=1000 d=0.25 seed=4")  # 61000 + 1.5 × 56000: the next could fail
    assert len(said) == 1 and "before n=1000 d=0.25 seed=4" in said[0] and "61000 of the 65530" in said[0]
