"""Property-based fuzz tests of every reader and builder (issue 15 point 5).

Each generated input either parses to the right problem -- checked against an independent reference
(a second, plainly written parser of the documented grammar, and energies computed directly from
the numbers) -- or raises a one-line ``ValueError``. Any other exception fails the test. Inputs are
valid files rendered in random ways (separators, line endings, blank lines, comments, number
spellings) and then, for most examples, damaged by a few byte edits. Fixed seed (derandomize),
bounded example counts; the ``slow`` variants run more (``NEUROSIM_FUZZ_EXAMPLES``, default 300).
``NEUROSIM_FUZZ_COUNTS=path`` writes the counts (inputs tried, parsed, clean errors) as JSON.
"""

import collections
import itertools
import json
import os
import shutil
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neurosim as ns
from neurosim._build import load_problem

F32 = float(np.finfo(np.float32).max)
COUNTS = collections.defaultdict(collections.Counter)
FAST = settings(max_examples=80, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
#: The slow run's examples per test (the default: about 15 s each here); set
#: NEUROSIM_FUZZ_EXAMPLES=10000 for a long campaign.
LONG = settings(FAST, max_examples=int(os.environ.get("NEUROSIM_FUZZ_EXAMPLES", "300")))
TMP = tempfile.mkdtemp(prefix="neurosim-fuzz-")


@pytest.fixture(scope="module", autouse=True)
def _report_counts():
    yield
    shutil.rmtree(TMP, ignore_errors=True)
    path = os.environ.get("NEUROSIM_FUZZ_COUNTS")
    if path:
        old = json.load(open(path)) if os.path.exists(path) else {}
        for k, c in COUNTS.items():
            prev = collections.Counter(old.get(k, {}))
            old[k] = dict(prev + c)
        json.dump(old, open(path, "w"), indent=1, sort_keys=True)


def outcome(reader: str, fn, *args, **kwargs):
    """Run ``fn``: return its result, or None after a one-line ValueError; count both."""
    COUNTS[reader]["tried"] += 1
    try:
        out = fn(*args, **kwargs)
    except ValueError as exc:
        msg = str(exc)
        assert msg and "\n" not in msg, f"error is not one line: {msg!r}"
        COUNTS[reader]["clean_error"] += 1
        return None
    COUNTS[reader]["parsed"] += 1
    return out


# ----------------------------------------------------------------------------- the reference grammar
def ref_lines(data: bytes, comment=None):
    """Content lines as field lists with their line numbers, or None if a byte is not allowed."""
    if any(not (32 <= b <= 126 or b in (9, 10, 13)) for b in data):
        return None
    text = data.decode("ascii").replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for line in text.split("\n"):
        fields = [f for f in line.replace("\t", " ").split(" ") if f]
        if fields and fields[0] != comment:
            out.append(fields)
    return out


def ref_int(tok, lo, hi):
    if not tok or set(tok) - set("+-0123456789"):
        return None
    try:
        v = int(tok)
    except ValueError:
        return None
    return v if lo <= v <= hi else None


def ref_num(tok):
    if not tok or set(tok) - set("+-0123456789.eE"):
        return None
    try:
        v = float(tok)
    except ValueError:
        return None
    return v if abs(v) <= F32 else None


def ref_entries(rows, n, base, diagonal):
    """``{(a, b): v}`` with a <= b 0-based, or None when any row is invalid or repeated."""
    out = {}
    for f in rows:
        if len(f) != 3:
            return None
        a, b, v = ref_int(f[0], base, n - 1 + base), ref_int(f[1], base, n - 1 + base), ref_num(f[2])
        if a is None or b is None or v is None or (a == b and not diagonal):
            return None
        key = (min(a, b) - base, max(a, b) - base)
        if key in out:
            return None
        out[key] = v
    return out


def ref_n_m(data, diagonal):
    lines = ref_lines(data)
    if not lines or len(lines[0]) != 2:
        return None
    n, m = ref_int(lines[0][0], 1, 2**31 - 1), ref_int(lines[0][1], 0, 10**30)
    if n is None or m is None:
        return None
    e = ref_entries(lines[1:], n, 1, diagonal)
    return None if e is None or len(e) != m else (n, e)


def ref_qbsolv(data):
    lines = ref_lines(data, comment="c")
    if not lines or len(lines[0]) != 6 or lines[0][:2] != ["p", "qubo"]:
        return None
    n = ref_int(lines[0][3], 1, 2**31 - 1)
    if n is None:
        return None
    nd, ne = ref_int(lines[0][4], 0, n), ref_int(lines[0][5], 0, 10**30)
    e = ref_entries(lines[1:], n, 0, True) if nd is not None and ne is not None else None
    if e is None:
        return None
    diag = sum(a == b for a, b in e)
    return (n, e) if diag == nd and len(e) - diag == ne else None


def ref_dimacs(data):
    lines = ref_lines(data, comment="c")
    if not lines or len(lines[0]) != 4 or lines[0][0] != "p" or lines[0][1] not in ("edge", "col"):
        return None
    n, m = ref_int(lines[0][2], 1, 2**31 - 1), ref_int(lines[0][3], 0, 10**30)
    if n is None or m is None or any(f[0] != "e" or len(f) != 3 for f in lines[1:]):
        return None
    e = ref_entries([f[1:] + ["1"] for f in lines[1:]], n, 1, False)
    return None if e is None or len(e) != m else (n, e)


# ----------------------------------------------------------------------------- meaning of the entries
def terms(e, pair_scale):
    """Reference linear terms and pair coefficients ``{(a, b): c}`` (a < b)."""
    lin = {a: v for (a, b), v in e.items() if a == b}
    pairs = {k: pair_scale * v for k, v in e.items() if k[0] != k[1]}
    return lin, pairs


def same_qubo(p, n, lin, pairs):
    assert isinstance(p, ns.QUBO) and p.n == n
    want = np.zeros(n)
    for a, v in lin.items():
        want[a] = v
    np.testing.assert_array_equal(p.q, want)
    i, j, w = p.Q.upper_edges()
    got = {(int(a), int(b)): 2 * float(c) for a, b, c in zip(i, j, w)}  # Q holds half of each pair
    assert got == {k: float(v) for k, v in pairs.items() if v != 0}
    if n <= 6:  # and by energies on every state
        x = np.array(list(itertools.product((0, 1), repeat=n)), dtype=float)
        e = sum(v * x[:, a] for a, v in lin.items()) + sum(c * x[:, a] * x[:, b] for (a, b), c in pairs.items())
        np.testing.assert_allclose(p.energy(x), np.zeros(len(x)) + e, rtol=1e-12, atol=1e-9 * (1 + np.abs(e).max(initial=0)))


def same_ising(p, n, lin, pairs):
    assert isinstance(p, ns.Ising) and p.n == n
    want = np.zeros(n)
    for a, v in lin.items():
        want[a] = v
    np.testing.assert_array_equal(p.h, want)
    i, j, w = p.J.upper_edges()
    assert {(int(a), int(b)): float(c) for a, b, c in zip(i, j, w)} == {k: float(v) for k, v in pairs.items() if v != 0}


def same_graph(p, kind, n, e):
    assert p.n == n
    i, j, w = (p.weights if kind == "maxcut" else p.adjacency).upper_edges()
    got = {(int(a), int(b)): float(c) for a, b, c in zip(i, j, w)}
    if kind == "mis":  # every listed edge, whatever its weight
        assert got == {k: 1.0 for k in e}
    else:
        assert got == {k: float(v) for k, v in e.items() if v != 0}


# ----------------------------------------------------------------------------- generated files
VALUES = st.one_of(st.integers(-100, 100), st.sampled_from([0.0, -0.0, 0.5, -2.25, 1e-3, 3.5e2]))
BAD_BYTES = b"0123456789 \t\r\n.-+eE_xX,;#cp\x00\x0b\x0c\x1c\x7f\xff"


def spell(draw, v):
    """A value as some valid spelling of it."""
    if isinstance(v, int):
        return draw(st.sampled_from([str(v), f"{v:+d}", f"{v}.0", f"{v}e0", f"{float(v):.3e}"]))
    return draw(st.sampled_from([repr(v), f"{v:.6e}", f"{v:.6f}"]))


@st.composite
def text_file(draw, fmt):
    """(bytes, was-mutated) for a valid file of ``fmt``, rendered randomly, maybe damaged."""
    n = draw(st.integers(1, 6))
    diagonal = fmt in ("coef", "bqp", "qbsolv")
    base = 0 if fmt == "qbsolv" else 1
    pairs = [(a, b) for a in range(n) for b in range(a if diagonal else a + 1, n)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs))) if pairs else []
    sep = draw(st.sampled_from([" ", "\t", "  ", " \t "]))
    rows = []
    for a, b in chosen:
        if draw(st.booleans()):
            a, b = b, a
        ids = f"{a + base}{sep}{b + base}"
        rows.append(f"e{sep}{ids}" if fmt == "dimacs" else f"{ids}{sep}{spell(draw, draw(VALUES))}")
    if fmt == "qbsolv":
        nd = sum(a == b for a, b in chosen)
        header = f"p qubo 0 {n} {nd} {len(chosen) - nd}"
    elif fmt == "dimacs":
        header = f"p edge {n} {len(chosen)}"
    else:
        header = f"{n} {len(chosen)}"
    lines = [header] + rows
    if fmt in ("qbsolv", "dimacs") and draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), "c a comment")
    if draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["", "   ", "\t"])))
    nl = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    data = bytearray((nl.join(lines) + draw(st.sampled_from(["", nl]))).encode())
    edits = draw(st.integers(0, 3))
    for _ in range(edits):
        data = mutate(draw, data)
    return bytes(data), edits > 0


def mutate(draw, data: bytearray) -> bytearray:
    """One edit: a random byte inserted, replaced or deleted, or one aimed at a known weak spot
    (digit groups ``1_0``, control characters as separators, a repeated line)."""
    op = draw(st.sampled_from(["insert", "replace", "delete", "underscore", "control", "repeat"]))
    digits = [k for k, b in enumerate(data) if 48 <= b <= 57]
    spaces = [k for k, b in enumerate(data) if b in (9, 32)]
    pairs = [k for k in digits if k + 1 < len(data) and 48 <= data[k + 1] <= 57]
    if op == "underscore" and pairs:  # between two digits, where Python's int/float accept it
        data.insert(draw(st.sampled_from(pairs)) + 1, ord("_"))
    elif op == "control" and spaces:
        data[draw(st.sampled_from(spaces))] = draw(st.sampled_from(list(b"\x0b\x0c\x1c\x1d\x1e\x1f\x00")))
    elif op == "repeat":
        lines = bytes(data).splitlines(keepends=True)
        if lines:
            k = draw(st.integers(0, len(lines) - 1))
            lines.insert(k, lines[k] if lines[k].endswith((b"\n", b"\r")) else lines[k] + b"\n")
            data = bytearray(b"".join(lines))
    else:
        k = draw(st.integers(0, len(data)))
        byte = draw(st.sampled_from(list(BAD_BYTES)))
        if op == "insert" or k == len(data):
            data.insert(k, byte)
        elif op == "replace":
            data[k] = byte
        else:
            del data[k]
    return data


def write(data: bytes, name: str) -> str:
    os.makedirs(TMP, exist_ok=True)
    path = os.path.join(TMP, name)
    with open(path, "wb") as fh:
        fh.write(data)
    return path


def check_text(fmt, kind, data):
    refs = {"coef": lambda d: ref_n_m(d, True), "gset": lambda d: ref_n_m(d, False), "bqp": lambda d: ref_n_m(d, True),
            "qbsolv": ref_qbsolv, "dimacs": ref_dimacs}
    ref = refs[fmt](data)
    file_format = {"coef": "gset"}.get(fmt, fmt)
    path = write(data, f"f.{fmt}")
    p = outcome(f"{fmt}:{kind}", load_problem, path, kind, format=file_format)
    if fmt == "gset":  # the public reader, same grammar
        g = outcome("read_gset", ns.read_gset, path)
        assert (g is None) == (ref is None), data
        if g is not None:
            got = {(min(a, b), max(a, b)): v for a, b, v in zip(g[1].tolist(), g[2].tolist(), g[3].tolist())}
            assert g[0] == ref[0] and got == ref[1]
    if ref is None:
        assert p is None, f"accepted a file the grammar refuses: {data!r}"
        return
    if p is None:  # the only valid refusal of a grammatical file: sums beyond float32
        assert sum(abs(v) for v in ref[1].values()) > F32 / 2, f"refused a valid file: {data!r}"
        return
    n, e = ref
    if kind in ("maxcut", "mis"):
        same_graph(p, kind, n, e)
    elif kind == "ising":
        same_ising(p, n, *terms(e, 1.0))
    else:
        same_qubo(p, n, *terms(e, 2.0 if fmt == "bqp" else 1.0))


CASES = [("gset", "maxcut"), ("gset", "mis"), ("coef", "qubo"), ("coef", "ising"), ("bqp", "qubo"),
         ("qbsolv", "qubo"), ("dimacs", "maxcut"), ("dimacs", "mis")]


@pytest.mark.parametrize("fmt, kind", CASES)
@FAST
@given(data=st.data())
def test_fuzz_text_readers(fmt, kind, data):
    check_text(fmt, kind, data.draw(text_file(fmt))[0])


@pytest.mark.slow
@LONG
@given(data=st.data())
def test_fuzz_text_readers_long(data):
    fmt, kind = data.draw(st.sampled_from(CASES))
    check_text(fmt, kind, data.draw(text_file(fmt))[0])


# ----------------------------------------------------------------------------- arrays: builders and .npz
ELEMS = st.one_of(
    st.integers(-3, 3), st.sampled_from([0.5, -1.0, 2.0, np.nan, np.inf, 1e300, -0.0]),
    st.sampled_from(["1", "x", None, 1j, True]),
)


@st.composite
def arrays(draw, max_side=4):
    shape = draw(st.sampled_from([(), (0,), (3,), (0, 0), (0, 2), (1, 1), (2, 2), (3, 3), (4, 4), (4, 4), (5, 5), (2, 3), (3, 2),
                                  (4, 3), (4, 2), (3, 4), (2, 2, 2)]))
    kind = draw(st.sampled_from(["int", "float", "bool", "sym", "sym", "tri", "ids", "ids", "mixed", "complex"]))
    size = int(np.prod(shape)) if shape else 1
    if kind == "mixed":
        flat = [draw(ELEMS) for _ in range(size)]
        arr = np.array(flat, dtype=object)
        if draw(st.booleans()):
            try:
                arr = np.array(flat)
            except Exception:
                pass
        return arr.reshape(shape)
    vals = np.array([draw(st.integers(-3, 3)) for _ in range(size)], dtype=float).reshape(shape)
    if kind == "sym" and len(shape) == 2 and shape[0] == shape[1]:
        vals = np.triu(vals, 1) + np.triu(vals, 1).T
    if kind == "tri" and len(shape) == 2:
        vals = np.triu(vals)
    if kind == "ids" and len(shape) == 2 and shape[1] in (2, 3) and shape[0]:  # an edge list of distinct pairs
        pairs = draw(st.lists(st.sampled_from([(a, b) for a in range(5) for b in range(5) if a != b]), min_size=shape[0],
                              max_size=shape[0], unique_by=lambda t: (min(t), max(t))))
        vals[:, :2] = np.array(pairs, dtype=float)
    return {"int": vals.astype(np.int64), "bool": vals != 0, "complex": vals + 0j}.get(kind, vals)


def real_or_none(arr):
    """The array as float64 if it holds only real numbers (bool counts), else None."""
    a = np.asarray(arr)
    if a.dtype.kind == "O":
        if not all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in a.ravel()):
            return None
        a = a.astype(float)
    if a.dtype.kind not in "biuf":
        return None
    a = a.astype(float)
    return a if np.isfinite(a).all() and (np.abs(a) <= F32).all() else None


def states01(n):
    return np.array(list(itertools.product((0, 1), repeat=n)), dtype=float)


def check_qubo_matrix(arr, p):
    a = real_or_none(arr)
    assert a is not None and a.ndim == 2 and a.shape[0] == a.shape[1] and a.shape[0] >= 1, f"accepted {arr!r}"
    x = states01(a.shape[0])
    np.testing.assert_allclose(p.energy(x), np.einsum("ki,ij,kj->k", x, a, x))


@FAST
@given(arr=arrays(), symmetrize=st.booleans())
def test_fuzz_qubo_from_matrix(arr, symmetrize):
    p = outcome("QUBO.from_matrix", ns.QUBO.from_matrix, arr, symmetrize=symmetrize)
    if p is not None:
        check_qubo_matrix(arr, p)
        assert symmetrize or np.array_equal(real_or_none(arr), real_or_none(arr).T)


@FAST
@given(arr=arrays())
def test_fuzz_ising_from_dense(arr):
    p = outcome("Ising.from_dense", ns.Ising.from_dense, arr)
    if p is not None:
        a = real_or_none(arr)
        assert a is not None and np.array_equal(a, a.T) and not np.diag(a).any() and a.shape[0] >= 1
        s = 2 * states01(a.shape[0]) - 1
        np.testing.assert_allclose(p.energy(s), -0.5 * np.einsum("ki,ij,kj->k", s, a, s))


def is_matrix(a):
    """The documented reading: a valid adjacency matrix if it is one, else an (m, 2|3) edge list."""
    square = a.ndim == 2 and a.shape[0] == a.shape[1]
    return square and (a.shape[1] not in (2, 3) or (np.array_equal(a, a.T) and not np.diag(a).any()))


def edge_rows(a):
    assert a.ndim == 2 and a.shape[1] in (2, 3) and (a[:, :2] == np.round(a[:, :2])).all()
    return a[:, 0].astype(int), a[:, 1].astype(int), (a[:, 2] if a.shape[1] == 3 else np.ones(len(a)))


def cut_reference(a, s):
    if is_matrix(a):
        return 0.25 * (a.sum() - np.einsum("ki,ij,kj->k", s, a, s))
    i, j, w = edge_rows(a)
    return (w * (1 - s[:, i] * s[:, j]) / 2).sum(axis=1)


def edges_reference(a):
    if is_matrix(a):
        i, j = np.nonzero(np.triu(a, 1))
        return set(zip(i.tolist(), j.tolist()))
    i, j, _ = edge_rows(a)
    return {(min(u, v), max(u, v)) for u, v in zip(i.tolist(), j.tolist())}


@FAST
@given(arr=arrays())
def test_fuzz_graph_builders(arr):
    p = outcome("MaxCut.from_graph", ns.MaxCut.from_graph, arr)
    if p is not None:
        a = real_or_none(arr)
        assert a is not None and p.n >= 1, f"accepted {arr!r}"
        s = 2 * states01(p.n) - 1
        np.testing.assert_allclose(p.cut(s), cut_reference(a, s), atol=1e-9)
    m = outcome("MIS.from_graph", ns.MIS.from_graph, arr)
    if m is not None:  # every listed edge, weight 0 included
        a = real_or_none(arr)
        assert a is not None and m.n >= 1, f"accepted {arr!r}"
        i, j, _ = m.adjacency.upper_edges()
        assert set(zip(i.tolist(), j.tolist())) == edges_reference(a)


@st.composite
def npz_contents(draw):
    if draw(st.booleans()):  # anything
        keys = draw(st.lists(st.sampled_from(["Q", "J", "h", "adjacency", "offset", "extra"]), unique=True, min_size=1, max_size=3))
        return {k: draw(arrays()) for k in keys}
    n = draw(st.integers(1, 4))  # a well-formed problem (the reader must accept it)
    vals = np.array(draw(st.lists(st.integers(-3, 3), min_size=n * n, max_size=n * n)), dtype=float).reshape(n, n)
    sym = np.triu(vals, 1) + np.triu(vals, 1).T
    key = draw(st.sampled_from(["Q", "Qtri", "J", "adjacency"]))
    out = {"Q": {"Q": sym + np.diag(np.diag(vals))}, "Qtri": {"Q": np.triu(vals)}, "J": {"J": sym, "h": vals[0]},
           "adjacency": {"adjacency": sym}}[key]
    if key != "adjacency" and draw(st.booleans()):
        out["offset"] = np.float64(draw(st.integers(-5, 5)))
    out["__valid__"] = np.array(True)
    return out


def check_npz(arrays_in, p):
    """A parsed .npz must mean exactly its arrays."""
    kind = {ns.QUBO: "Q", ns.Ising: "J", ns.MaxCut: "adjacency", ns.MIS: "adjacency"}[type(p)]
    a = real_or_none(arrays_in[kind])
    off = real_or_none(arrays_in.get("offset", 0.0))
    assert a is not None and off is not None and off.size == 1, f"accepted {arrays_in!r}"
    off = float(off.reshape(()))
    n = a.shape[0]
    if kind == "Q":
        x = states01(n)
        np.testing.assert_allclose(p.energy(x), np.einsum("ki,ij,kj->k", x, a, x) + off)
    elif kind == "J":
        h = real_or_none(arrays_in.get("h", np.zeros(n)))
        s = 2 * states01(n) - 1
        np.testing.assert_allclose(p.energy(s), -0.5 * np.einsum("ki,ij,kj->k", s, a, s) - s @ h.ravel() + off)
    else:
        assert np.array_equal(a, a.T) and not np.diag(a).any()
        s = 2 * states01(n) - 1
        np.testing.assert_allclose(p.cut(s), 0.25 * (a.sum() - np.einsum("ki,ij,kj->k", s, a, s)))


@FAST
@given(contents=npz_contents(), damage=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), max_size=2),
       cut=st.one_of(st.none(), st.integers(0, 2000)))
def test_fuzz_npz(contents, damage, cut):
    path = write(b"", "p.npz")
    np.savez(path, **contents)
    data = bytearray(open(path, "rb").read())
    for k, bit in damage:
        data[k % len(data)] ^= bit
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    p = outcome("npz", load_problem, write(bytes(data), "p.npz"))
    if p is not None:
        check_npz(contents, p)
    elif "__valid__" in contents and not damage and cut is None:
        raise AssertionError(f"refused a well-formed .npz: {contents!r}")


@pytest.mark.slow
@LONG
@given(arr=arrays(), symmetrize=st.booleans())
def test_fuzz_builders_long(arr, symmetrize):
    test_fuzz_qubo_from_matrix.hypothesis.inner_test(arr, symmetrize)
    test_fuzz_ising_from_dense.hypothesis.inner_test(arr)
    test_fuzz_graph_builders.hypothesis.inner_test(arr)


@pytest.mark.slow
@LONG
@given(contents=npz_contents(), damage=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), max_size=2),
       cut=st.one_of(st.none(), st.integers(0, 2000)))
def test_fuzz_npz_long(contents, damage, cut):
    test_fuzz_npz.hypothesis.inner_test(contents, damage, cut)


def test_fuzz_counts_have_no_other_outcome():
    """Every input counted so far was parsed or a clean error (the tests above fail otherwise)."""
    for name, c in COUNTS.items():
        assert c["tried"] == c["parsed"] + c["clean_error"], (name, c)
