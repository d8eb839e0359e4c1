"""Problem files and builders (issue 13 point 4, issue 15): every format read from a file written by
hand or by another tool, its meaning checked against an independent computation, and every bad
input of issue 15 refused with a one-line ValueError that names the file and line (or argument)."""

import pathlib
import zipfile

import networkx as nx
import numpy as np
import pytest

import neurosim as ns
from neurosim._build import load_problem
from neurosim._problems import all_states

BQP = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "bqp"


def write(tmp_path, name, content):
    f = tmp_path / name
    f.write_bytes(content if isinstance(content, bytes) else content.encode())
    return str(f)


def refused(match, fn, *args, **kwargs):
    """``fn`` raises a one-line ValueError containing every string in ``match``."""
    with pytest.raises(ValueError) as exc:
        fn(*args, **kwargs)
    msg = str(exc.value)
    assert "\n" not in msg, msg
    for m in [match] if isinstance(match, str) else match:
        assert m in msg, msg
    return msg


def xqx(Q, x):
    return np.einsum("ki,ij,kj->k", x, Q, x)


# ----------------------------------------------------------------------------- silent wrong answers
@pytest.mark.parametrize("zero", ["0", "-0.0", "0e0"])
def test_mis_keeps_weight_zero_edges(tmp_path, zero):
    p = load_problem(write(tmp_path, "g.txt", f"2 1\n1 2 {zero}\n"), "mis")
    assert p.describe()["m"] == 1
    assert not p.is_independent(np.array([1, 1]))
    assert p.report(np.array([1, 1]))["set_size"] == 1
    for graph in (np.array([[0, 1, 0.0]]), nx.Graph([(0, 1, {"weight": 0})])):
        assert ns.MIS.from_graph(graph).describe()["m"] == 1


def test_npz_adjacency_is_a_matrix_never_an_edge_list(tmp_path):
    np.savez(tmp_path / "a.npz", adjacency=np.array([[0, 1], [2, 0]]))
    refused(["a.npz", "symmetric"], load_problem, str(tmp_path / "a.npz"))
    np.savez(tmp_path / "b.npz", adjacency=np.array([[0, 1], [1, 0]]))
    p = load_problem(str(tmp_path / "b.npz"))
    assert (p.n, p.describe()["m"]) == (2, 1)


def test_couplings_beyond_float32_are_refused_with_the_bound(tmp_path):
    bound = "3.403e+38"
    refused([bound, "g.txt"], load_problem, write(tmp_path, "g.txt", "2 1\n1 2 1e300\n"))
    refused(bound, ns.MaxCut.from_graph, np.array([[0, 1, 1e300]]))
    refused(bound, ns.QUBO.from_matrix, np.diag([1e39, 1.0]))
    refused(bound, ns.Ising.from_dense, np.array([[0, 1e300], [1e300, 0]]))
    # each value fits but a field or energy can reach the sum: refused too
    big = 3e38
    refused([bound, "sum"], ns.MaxCut.from_graph, np.array([[0, 1, big], [1, 2, big], [0, 2, big]]))
    refused([bound, "sum"], ns.QUBO.from_matrix, np.diag([big, big]))


def test_float_ids_numeric_strings_and_complex_are_refused():
    refused("integers", ns.MaxCut.from_graph, [[0.5, 1.7, 1.0]])
    refused("strings", ns.MaxCut.from_graph, [["0", "1"], ["1", "2"]])
    refused("strings", ns.QUBO.from_matrix, [["1", "0"], ["0", "1"]])
    refused("complex", ns.QUBO.from_matrix, np.array([[1, 1j], [1j, 0]]))
    refused("complex", ns.Ising.from_dense, np.zeros((2, 2), complex))
    refused("real numbers", ns.MaxCut.from_graph, np.array([[0, 1, None]], dtype=object))
    # integral float ids are fine
    assert ns.MaxCut.from_graph([[0.0, 1.0, 2.0]]).cut(np.array([1, -1])) == 2


@pytest.mark.parametrize(
    "content, line, what",
    [
        (b"3 1\n1 2 1_0\n", 2, "decimal number"),
        (b"3 1\n1_0 2 1\n", 2, "integer"),
        (b"3 1\n1\x0c2 1\n", 2, "not allowed"),
        (b"3 1\n1\x1c2\x1c1\n", 2, "not allowed"),
        (b"3 1\n1 2 1\x00\n", 2, "not allowed"),
        (b"3 1\n1 2 0x1\n", 2, "decimal number"),
        (b"3 1\n1 2 inf\n", 2, "not finite"),
        (b"3 1\n1 2 1e400\n", 2, "overflows"),
        (b"3 1\n\xef\xbb\xbf1 2 1\n", 2, "not allowed"),
    ],
)
def test_read_gset_refuses_digit_groups_and_control_characters(tmp_path, content, line, what):
    f = write(tmp_path, "g.txt", content)
    refused([f"{f}:{line}:", what], ns.read_gset, f)


@pytest.mark.parametrize("kind", ["qubo", "ising"])
@pytest.mark.parametrize(
    "content, line, what",
    [
        ("3 99\n1 2 1\n", 1, "m=99"),
        ("3 -1\n", 1, "outside"),
        ("0 0\n", 1, "outside"),
        ("3 2\n1 2 1\n2 1 5\n", 3, "twice"),
        ("3 2\n1 1 1\n1 1 5\n", 3, "twice"),
        ("3 1\n1 2\n", 2, "3 fields"),
        ("", 1, "empty"),
    ],
)
def test_coefficient_reader_refuses_bad_headers_counts_and_duplicates(tmp_path, kind, content, line, what):
    f = write(tmp_path, "p.txt", content)
    refused([f"{f}:{line}", what], load_problem, f, kind)


@pytest.mark.parametrize("kind", ["maxcut", "qubo", "ising", "mis"])
def test_every_text_reader_accepts_cr_only_line_endings(tmp_path, kind):
    text = "3 2\n1 2 1.5\n2 3 -2\n"
    a = load_problem(write(tmp_path, "lf.txt", text), kind)
    b = load_problem(write(tmp_path, "cr.txt", text.replace("\n", "\r")), kind)
    c = load_problem(write(tmp_path, "crlf.txt", text.replace("\n", "\r\n")), kind)
    x = all_states(3)
    s = 2 * x - 1
    v = s if a.native == "ising" else x
    np.testing.assert_array_equal(a.energy(v), b.energy(v))
    np.testing.assert_array_equal(a.energy(v), c.energy(v))


def test_empty_problems_are_refused():
    refused("at least one variable", ns.QUBO.from_matrix, np.zeros((0, 0)))
    refused("at least one variable", ns.Ising.from_dense, np.zeros((0, 0)))
    refused("at least one variable", ns.MaxCut.from_graph, nx.Graph())
    refused("at least one variable", ns.MIS.from_graph, np.zeros((0, 2)))


# ----------------------------------------------------------------------------- raw tracebacks before
def test_directory_as_problem_file(tmp_path):
    refused(["is a directory", str(tmp_path)], load_problem, str(tmp_path))
    refused(["is a directory"], ns.read_gset, str(tmp_path))


def test_damaged_npz_files_are_one_line_errors(tmp_path):
    np.savez(tmp_path / "good.npz", Q=np.eye(4), offset=1.0)
    good = (tmp_path / "good.npz").read_bytes()
    refused("empty", load_problem, write(tmp_path, "empty.npz", b""))
    refused("not a readable .npz", load_problem, write(tmp_path, "trunc.npz", good[: len(good) // 2]))
    for k in range(40, len(good), max(1, len(good) // 25)):  # flip one byte at a time
        flipped = bytearray(good)
        flipped[k] ^= 0xFF
        f = write(tmp_path, f"flip{k}.npz", bytes(flipped))
        try:
            p = load_problem(f)
        except ValueError as exc:
            assert "\n" not in str(exc) and f in str(exc)
        else:  # a flip in a header field zip ignores: then it must still be the same problem
            np.testing.assert_array_equal(p.energy(all_states(4)), all_states(4).sum(1) + 1.0)
    refused(["named .npz", "not a npz"], load_problem, write(tmp_path, "text.npz", "2 1\n1 2 1\n"))
    np.savez(tmp_path / "pickled.npz", Q=np.array([{"a": 1}], dtype=object))
    refused("not a readable .npz", load_problem, str(tmp_path / "pickled.npz"))


def test_npy_named_npz_is_read_by_its_content(tmp_path):
    Q = np.array([[-1.0, 2.0], [2.0, -1.0]])
    np.save(tmp_path / "q.npy", Q)
    (tmp_path / "q.npz").write_bytes((tmp_path / "q.npy").read_bytes())
    p = load_problem(str(tmp_path / "q.npz"))
    np.testing.assert_allclose(p.energy(all_states(2)), xqx(Q, all_states(2)))


def test_npz_shape_errors(tmp_path):
    np.savez(tmp_path / "off.npz", Q=np.eye(2), offset=np.array([1.0, 2.0]))
    refused(["off.npz", "offset", "one number"], load_problem, str(tmp_path / "off.npz"))
    np.savez(tmp_path / "adj1d.npz", adjacency=np.array([0, 1, 1, 0]))
    refused(["adj1d.npz", "square 2-D", "(4,)"], load_problem, str(tmp_path / "adj1d.npz"))
    np.savez(tmp_path / "q00.npz", Q=np.zeros((0, 0)))
    refused(["q00.npz", "at least one variable"], load_problem, str(tmp_path / "q00.npz"))
    np.savez(tmp_path / "both.npz", Q=np.eye(2), J=np.zeros((2, 2)))
    refused(["both.npz", "exactly one"], load_problem, str(tmp_path / "both.npz"))
    np.savez(tmp_path / "h.npz", J=np.zeros((2, 2)), h=np.zeros(3))
    refused(["h has length 3"], load_problem, str(tmp_path / "h.npz"))


def test_huge_n_is_refused_not_overflowed(tmp_path):
    for n in (2**33, 2**63, 10**30):
        f = write(tmp_path, "big.txt", f"{n} 1\n1 2 1\n")
        refused([f"{f}:1", "outside 1..2147483647"], load_problem, f)
        refused("at most 2147483647", ns.MaxCut.from_graph, np.array([[0, 1]]), n=n)
    # the duplicate check compares pairs, not an i*n+j key that wraps in int64 for n >= 2^33:
    # (0, 2^31+5) and (2^31, 2^31+5) are distinct edges
    a, b = 2**31, 2**31 + 5
    m = ns.SymmetricMatrix.from_edges(2**33, [0, a], [b, b], [1.0, 1.0], combine="error")
    assert m.num_edges == 2


# ----------------------------------------------------------------------------- formats
def test_gset_rudy_written_by_hand_matches_networkx(tmp_path):
    text = "5 4\n1 2 1\n2\t3   2.5\n  3 4 -1\n\n4 5 +3e0\n"
    p = load_problem(write(tmp_path, "g.rud", text))
    g = nx.Graph()
    g.add_nodes_from(range(5))
    g.add_weighted_edges_from([(0, 1, 1), (1, 2, 2.5), (2, 3, -1), (3, 4, 3)])
    ref = ns.MaxCut.from_graph(g)
    s = 2 * all_states(5) - 1
    np.testing.assert_array_equal(p.cut(s), ref.cut(s))


def test_bqp_hand_written_means_upper_triangle_of_symmetric_q(tmp_path):
    # Q = [[3, -2, 0], [-2, 0, 5], [0, 5, -4]]: E = xᵀQx, pairs count 2q
    f = write(tmp_path, "tiny.sparse", "3 4\n1 1 3\n1 2 -2\n2 3 5\n3 3 -4\n")
    Q = np.array([[3, -2, 0], [-2, 0, 5], [0, 5, -4]], float)
    p = load_problem(f)
    assert isinstance(p, ns.QUBO)
    x = all_states(3)
    np.testing.assert_array_equal(p.energy(x), xqx(Q, x))
    e0, _, _ = ns.brute_force(p)
    assert e0 == min(xqx(Q, x)) == -4
    # the lower triangle means the same; a name like the OR-Library's is a bqp file in any extension
    g = write(tmp_path, "bqp3-1.txt", "3 4\n1 1 3\n2 1 -2\n3 2 5\n3 3 -4\n")
    np.testing.assert_array_equal(load_problem(g).energy(x), xqx(Q, x))
    # format= overrides: the same lines as a rudy coefficient list (each value the term's coefficient)
    h = load_problem(f, format="gset", kind="qubo")
    np.testing.assert_array_equal(h.energy(x), 3 * x[:, 0] - 2 * x[:, 0] * x[:, 1] + 5 * x[:, 1] * x[:, 2] - 4 * x[:, 2])


def test_bqp50_optimum_reached_by_dwave_under_the_same_convention():
    if not (BQP / "bqp50-1.sparse").exists():
        pytest.skip("bqp data not found")
    samplers = pytest.importorskip("dwave.samplers")
    optimum = dict(line.split() for line in (BQP / "optimal_energy.txt").read_text().splitlines() if line.strip())
    p = load_problem(str(BQP / "bqp50-1.sparse"))
    # dwave gets the file's lines directly, read without neurosim: q on the diagonal, 2q per pair
    Q = {}
    for line in (BQP / "bqp50-1.sparse").read_text().splitlines()[1:]:
        i, j, q = (int(t) for t in line.split())
        Q[(i - 1, j - 1)] = q if i == j else 2 * q
    ss = samplers.SimulatedAnnealingSampler().sample_qubo(Q, num_reads=30, num_sweeps=2000, seed=3)
    x = np.array([ss.first.sample[i] for i in range(p.n)])
    assert ss.first.energy == float(optimum["bqp50-1"]) == p.energy(x)
    # the old reading (pair coefficient q) gives another energy for the optimum
    assert load_problem(str(BQP / "bqp50-1.sparse"), format="gset", kind="qubo").energy(x) != p.energy(x)


def test_qbsolv_hand_written_matches_dimod(tmp_path):
    dimod = pytest.importorskip("dimod")
    text = (
        "c a qbsolv file written by hand\n"
        "p qubo 0 4 3 3\n"
        "c diagonals\n0 0 -1\n1 1 2.5\n3 3 -4\n"
        "c couplers\n0 1 3\n1 2 -2\n0 3 1.5\n"
    )
    p = load_problem(write(tmp_path, "h.qubo", text))
    bqm = dimod.BQM.from_qubo({(0, 0): -1, (1, 1): 2.5, (3, 3): -4, (0, 1): 3, (1, 2): -2, (0, 3): 1.5})
    x = all_states(4)
    ref = [bqm.energy({k: int(v) for k, v in enumerate(row)}) for row in x]
    np.testing.assert_array_equal(p.energy(x), ref)
    # found by content without the extension
    np.testing.assert_array_equal(load_problem(write(tmp_path, "h.txt", text)).energy(x), ref)
    refused(["bad.qubo:2", "nDiagonals", "m=2"], load_problem, write(tmp_path, "bad.qubo", text.replace("4 3 3", "4 2 3")))
    refused(["bad2.qubo:4", "outside 0..3"], load_problem, write(tmp_path, "bad2.qubo", text.replace("0 0 -1", "4 4 -1")))
    refused(["p qubo"], load_problem, write(tmp_path, "bad3.qubo", "0 0 1\n"))


def test_dimacs_hand_written_for_maxcut_and_mis(tmp_path):
    text = "c a 5-cycle\nc second comment\np edge 5 5\ne 1 2\ne 2 3\ne 3 4\ne 4 5\ne 5 1\n"
    f = write(tmp_path, "c5.col", text)
    ref = nx.cycle_graph(5)
    cut = load_problem(f)
    s = 2 * all_states(5) - 1
    np.testing.assert_array_equal(cut.cut(s), ns.MaxCut.from_graph(ref).cut(s))
    mis = load_problem(f, "mis")
    assert -ns.brute_force(mis)[0] == 2
    np.testing.assert_array_equal(mis.is_independent(all_states(5)), ns.MIS.from_graph(ref).is_independent(all_states(5)))
    refused(["e.col:3", "m=4"], load_problem, write(tmp_path, "e.col", text.replace("5 5", "5 4")))
    refused(["d.col:5", "twice"], load_problem, write(tmp_path, "d.col", text.replace("e 2 3", "e 2 1")))
    refused(["x.col:4", "'e u v'"], load_problem, write(tmp_path, "x.col", text.replace("e 1 2", "n 1 2")))
    refused(["a dimacs file holds a maxcut or mis"], load_problem, f, "qubo")


def test_npy_and_npz_written_by_numpy(tmp_path):
    x = all_states(3)
    U = np.array([[1.0, -2, 4], [0, -3, 1], [0, 0, 2]])  # upper triangular: E = xᵀUx
    np.save(tmp_path / "u.npy", U)
    np.testing.assert_array_equal(load_problem(str(tmp_path / "u.npy")).energy(x), xqx(U, x))
    np.save(tmp_path / "l.npy", U.T)
    np.testing.assert_array_equal(load_problem(str(tmp_path / "l.npy")).energy(x), xqx(U, x))
    S = U + U.T
    np.savez(tmp_path / "s.npz", Q=S, offset=np.float64(-1))
    np.testing.assert_array_equal(load_problem(str(tmp_path / "s.npz")).energy(x), xqx(S, x) - 1)
    G = np.array([[1.0, 2, 0], [3, 0, 0], [0, 1, 0]])
    np.save(tmp_path / "g.npy", G)
    refused(["g.npy", "symmetric or triangular"], load_problem, str(tmp_path / "g.npy"))
    J = np.array([[0, 1.0, -1], [1, 0, 2], [-1, 2, 0]])
    h = np.array([0.5, 0, -1])
    np.savez(tmp_path / "i.npz", J=J, h=h, offset=2.0)
    s = 2 * x - 1
    ref = -0.5 * np.einsum("ki,ij,kj->k", s, J, s) - s @ h + 2.0
    np.testing.assert_allclose(load_problem(str(tmp_path / "i.npz")).energy(s), ref)
    np.save(tmp_path / "j.npy", J)
    np.testing.assert_allclose(load_problem(str(tmp_path / "j.npy"), "ising").energy(s), ref - 2.0 + s @ h)
    A = nx.to_numpy_array(nx.path_graph(3))
    np.save(tmp_path / "a.npy", A)
    assert load_problem(str(tmp_path / "a.npy"), "maxcut").cut(np.array([1, -1, 1])) == 2


@pytest.mark.parametrize("vartype", ["BINARY", "SPIN"])
def test_dimod_bqm_file(tmp_path, vartype):
    dimod = pytest.importorskip("dimod")
    bqm = dimod.BinaryQuadraticModel({"a": 1.0, ("b", 2): -2.0, 7: 0.5}, {("a", ("b", 2)): 3.0, ("a", 7): -1.5}, 0.25, vartype)
    f = tmp_path / "p.bqm"
    with bqm.to_file() as fh:
        f.write_bytes(fh.read())
    p = load_problem(str(f))
    assert isinstance(p, ns.QUBO if vartype == "BINARY" else ns.Ising)
    order = list(bqm.variables)
    states = all_states(3) if vartype == "BINARY" else 2 * all_states(3) - 1
    ref = [bqm.energy(dict(zip(order, row.tolist()))) for row in states]
    np.testing.assert_allclose(p.energy(states), ref)
    wrong = "ising" if vartype == "BINARY" else "qubo"
    refused(["p.bqm", vartype], load_problem, str(f), wrong)
    refused("not a readable dimod BQM", load_problem, write(tmp_path, "broken.bqm", f.read_bytes()[:20]))


def test_unknown_format_and_kind_are_refused(tmp_path):
    f = write(tmp_path, "g.txt", "2 1\n1 2 1\n")
    refused(["format", "'csv'", "bqp"], load_problem, f, format="csv")
    refused(["kind", "'tsp'"], load_problem, f, "tsp")
    refused(["does not exist"], load_problem, str(tmp_path / "missing.txt"))
    refused(["a bqp file holds a qubo"], load_problem, f, "maxcut", format="bqp")


# ----------------------------------------------------------------------------- API
def test_ising_and_qubo_accept_numpy_couplings_and_every_problem_has_native():
    J = np.array([[0, 1.0], [1.0, 0]])
    p = ns.Ising(J, np.array([0.5, 0.0]))
    assert p.energy(np.array([1, 1])) == -1.5
    q = ns.QUBO(np.array([[0, 2.0], [2.0, 0]]), [1.0, -1.0])
    assert q.energy(np.array([1, 1])) == 4.0
    g = nx.path_graph(3)
    natives = {ns.Ising: "ising", ns.QUBO: "qubo", ns.MaxCut: "ising", ns.MIS: "qubo"}
    for prob in (p, q, ns.MaxCut.from_graph(g), ns.MIS.from_graph(g)):
        assert prob.native == natives[type(prob)]
    refused(["h has length 3"], ns.Ising, J, np.zeros(3))
    refused(["offset", "one number"], ns.Ising, J, np.zeros(2), np.zeros(2))


def test_asymmetric_q_error_hints_at_symmetrize():
    U = np.array([[1.0, 2.0], [0.0, -1.0]])
    refused(["symmetrize=True", "upper-triangular"], ns.QUBO.from_matrix, U)
    x = all_states(2)
    np.testing.assert_array_equal(ns.QUBO.from_matrix(U, symmetrize=True).energy(x), xqx(U, x))


def test_load_problem_reads_a_zip_that_is_not_numpy(tmp_path):
    with zipfile.ZipFile(tmp_path / "z.npz", "w") as z:
        z.writestr("readme.txt", "hello")
    refused(["z.npz", "exactly one of"], load_problem, str(tmp_path / "z.npz"))


def test_a_header_n_beyond_host_memory_is_refused_before_allocating(tmp_path, monkeypatch):
    from neurosim import _validate

    monkeypatch.setattr(_validate, "_host_memory", lambda: 8 * 2**30)  # deterministic: an 8 GiB host
    f = write(tmp_path, "big.txt", f"{10**9} 1\n1 2 1\n")
    refused([f"{f}:1", "GiB", "8.0 GiB"], load_problem, f, "qubo")
    refused(["GiB"], ns.MaxCut.from_graph, np.array([[0, 1]]), n=10**9)
    assert ns.MaxCut.from_graph(np.array([[0, 1]]), n=10**6).n == 10**6
