"""Problem files: which format a file is in, and what its numbers mean (docs/usage.md, "File formats").

``load_problem(path, kind=None, format=None, penalty=...)`` is the one entry point (the CLI's
``solve`` and ``neurosim._build.load_problem``). The format comes from the content where the
content says it (numpy ``.npy``/``.npz`` and dimod BQM files by their magic bytes, qbsolv and
DIMACS by their ``p`` line), else from the extension; ``format=`` overrides both. The kind
(maxcut, mis, qubo, ising) comes from the format, or for ``.npz`` from the arrays it holds.
"""

from __future__ import annotations

import os

import numpy as np

from ._formats_text import Entries, read_dimacs, read_n_m, read_qbsolv
from ._graphs import MIS, MaxCut
from ._matrix import SymmetricMatrix
from ._problems import QUBO, Ising
from ._validate import problem_size, real_array

FORMATS = ("gset", "bqp", "qbsolv", "dimacs", "npy", "npz", "bqm")
KINDS = ("maxcut", "mis", "qubo", "ising")
#: Kinds each format can hold; the first is the default.
_FORMAT_KINDS = {
    "gset": ("maxcut", "mis", "ising", "qubo"),
    "bqp": ("qubo",),
    "qbsolv": ("qubo",),
    "dimacs": ("maxcut", "mis"),
    "npy": ("qubo", "ising", "maxcut", "mis"),
    "npz": KINDS,
    "bqm": ("qubo", "ising"),
}
_EXTENSIONS = {
    ".sparse": "bqp", ".bqp": "bqp", ".qubo": "qbsolv", ".dimacs": "dimacs", ".col": "dimacs", ".clq": "dimacs",
    ".npy": "npy", ".npz": "npz", ".bqm": "bqm", ".txt": "gset", ".gset": "gset", ".rud": "gset", ".rudy": "gset",
}
_MAGIC = ((b"\x93NUMPY", "npy"), (b"PK\x03\x04", "npz"), (b"PK\x05\x06", "npz"), (b"DIMODBQM", "bqm"))


def detect_format(path: str, kind: str | None = None) -> str:
    """The format of ``path`` from its first bytes, else its extension, else its first text line."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if not head:
        raise ValueError(f"{path}:1: empty file, expected a problem file")
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            return fmt
    ext = os.path.splitext(path)[1].lower()
    by_ext = _EXTENSIONS.get(ext)
    if by_ext in ("npy", "npz", "bqm"):
        raise ValueError(f"{path}: named {ext} but its content is not a {by_ext} file (first bytes {head[:8]!r})")
    first = _first_content_line(head)
    if first[:2] == ["p", "qubo"]:
        return "qbsolv"
    if first[:1] == ["p"] and first[1:2] in (["edge"], ["col"]):
        return "dimacs"
    if by_ext and by_ext != "gset":
        return by_ext
    # an ``n m`` text file is Gset/rudy (each line the coefficient of its term), unless it is named
    # like an OR-Library instance (bqp50-1.txt): those are the upper triangle of a symmetric Q
    if os.path.basename(path).lower().startswith("bqp") and kind in (None, "qubo"):
        return "bqp"
    return "gset"


def _first_content_line(head: bytes) -> list[str]:
    for raw in head.replace(b"\r", b"\n").split(b"\n"):
        fields = raw.decode("ascii", errors="replace").split()
        if fields and fields[0] != "c":
            return fields
    return []


def load_problem(path, kind: str | None = None, *, format: str | None = None, penalty: float = 1.0):
    """Read a problem file; see the module docstring and docs/usage.md for formats and conventions."""
    path = os.fspath(path)
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown problem kind {kind!r}; choose one of {', '.join(KINDS)}")
    if format is not None and format not in FORMATS:
        raise ValueError(f"unknown file format {format!r}; choose one of {', '.join(FORMATS)}")
    if not os.path.exists(path):
        raise ValueError(f"problem file {path!r} does not exist")
    if os.path.isdir(path):
        raise ValueError(f"{path}: is a directory, expected a problem file")
    fmt = format or detect_format(path, kind)
    if kind is not None and kind not in _FORMAT_KINDS[fmt]:
        raise ValueError(f"{path}: a {fmt} file holds a {' or '.join(_FORMAT_KINDS[fmt])} problem, not {kind!r}")
    name = os.path.splitext(os.path.basename(path))[0]
    if fmt == "npz":
        return _from_npz(path, kind, name, penalty)
    if fmt == "bqm":  # the BQM's vartype decides
        return _from_bqm_file(path, kind, name)
    kind = kind or _FORMAT_KINDS[fmt][0]
    if fmt == "npy":
        return _from_matrix(_load_npy(path), f"{path} (array)", kind, name, penalty)
    if fmt in ("gset", "dimacs"):
        if kind in ("qubo", "ising"):
            return _coefficients(read_n_m(path, diagonal=True, what=f"{kind.upper()} coefficient list"), kind, name, pair_scale=0.5)
        e = read_n_m(path, diagonal=False, what="Gset graph") if fmt == "gset" else read_dimacs(path)
        return _graph(e, kind, name, penalty, path)
    if fmt == "bqp":  # upper triangle of a symmetric Q: a pair's coefficient in xᵀQx is 2q
        return _coefficients(read_n_m(path, diagonal=True, what="bqp QUBO"), "qubo", name, pair_scale=1.0)
    return _coefficients(read_qbsolv(path), "qubo", name, pair_scale=0.5)  # qbsolv: value = pair coefficient


def _graph(e: Entries, kind: str, name: str, penalty: float, path: str):
    if kind == "mis":  # every listed edge is a conflict, whatever its weight (0 included)
        adj = SymmetricMatrix.from_edges(e.n, e.i, e.j, np.ones(len(e.i)), name=path, combine="error")
        return MIS(adj, float(penalty), name)
    return MaxCut(SymmetricMatrix.from_edges(e.n, e.i, e.j, e.v, name=path, combine="error"), name)


def _coefficients(e: Entries, kind: str, name: str, *, pair_scale: float):
    """``i = j`` lines are linear terms; an ``i ≠ j`` value v becomes the symmetric entries
    ``pair_scale · v`` (0.5: v is the whole pair coefficient; 1: v is Q_ij = Q_ji)."""
    diag = e.i == e.j
    lin = np.zeros(e.n)
    lin[e.i[diag]] = e.v[diag]
    off = ~diag
    scale = 1.0 if kind == "ising" else pair_scale  # Ising lines are J_ij: H = -Σ_(i<j) J s s - Σ h s
    M = SymmetricMatrix.from_edges(e.n, e.i[off], e.j[off], scale * e.v[off], name=name, combine="error")
    return QUBO(M, lin, 0.0, name=name) if kind == "qubo" else Ising(M, lin, 0.0, name=name)


# ----------------------------------------------------------------------------- numpy files
def _load_npy(path: str) -> np.ndarray:
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as exc:  # any decoder failure on a damaged file means "unreadable", never a traceback
        raise ValueError(f"{path}: not a readable .npy file ({type(exc).__name__}: {_one_line(exc)})") from None
    if not isinstance(arr, np.ndarray):
        raise ValueError(f"{path}: expected one array in a .npy file")
    return arr


def _load_npz(path: str) -> dict:
    try:
        with np.load(path, allow_pickle=False) as z:
            if not hasattr(z, "files"):
                raise ValueError("it holds a single array (a .npy file), not named arrays")
            _check_zip_directory(path, len(z.files))
            return {key: z[key] for key in z.files}
    except Exception as exc:  # truncated, byte-flipped, pickled: one line, never a traceback
        raise ValueError(f"{path}: not a readable .npz file ({type(exc).__name__}: {_one_line(exc)})") from None


def _check_zip_directory(path: str, listed: int) -> None:
    """A damaged zip directory can hide members (a dropped 'offset' would change the problem
    silently): count the local file headers that follow each other from the start of the file."""
    import struct

    with open(path, "rb") as fh:
        data = fh.read()
    pos, found = 0, 0
    while data[pos:pos + 4] == b"PK\x03\x04" and pos + 30 <= len(data):
        flags, = struct.unpack_from("<H", data, pos + 6)
        csize, = struct.unpack_from("<I", data, pos + 18)
        name_len, extra_len = struct.unpack_from("<HH", data, pos + 26)
        if csize == 0xFFFFFFFF:  # numpy writes zip64 members: the size is in the zip64 extra field
            csize = _zip64_size(data[pos + 30 + name_len:pos + 30 + name_len + extra_len])
        if flags & 0x8 or csize is None:  # sizes only after the data: cannot walk the members
            return
        pos += 30 + name_len + extra_len + csize
        found += 1
    if found != listed:
        raise ValueError(f"the zip directory lists {listed} arrays but the file holds {found}: the file is damaged")


def _zip64_size(extra: bytes):
    import struct

    k = 0
    while k + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, k)
        if tag == 0x0001 and size >= 16:
            return struct.unpack_from("<Q", extra, k + 12)[0]  # after the uncompressed size
        k += 4 + size
    return None


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:160] if text else "no detail"


_NPZ_KEYS = {"qubo": "Q", "ising": "J", "maxcut": "adjacency", "mis": "adjacency"}


def _from_npz(path: str, kind: str | None, name: str, penalty: float):
    z = _load_npz(path) if not path.endswith(".npy") else {}
    if kind is None:
        present = [k for k in ("Q", "J", "adjacency") if k in z]
        if len(present) != 1:
            raise ValueError(
                f"{path}: a problem .npz holds exactly one of 'Q' (QUBO), 'J' (Ising) or 'adjacency' (graph); "
                f"it has {sorted(z) or 'no arrays'}"
            )
        kind = {"Q": "qubo", "J": "ising", "adjacency": "maxcut"}[present[0]]
    key = _NPZ_KEYS[kind]
    if key not in z:
        raise ValueError(f"{path}: a {kind} .npz needs an array {key!r} (has {sorted(z)})")
    offset = 0.0
    if "offset" in z:
        off = real_array(z["offset"], f"{path}: 'offset'")
        if off.size != 1:
            raise ValueError(f"{path}: 'offset' must be one number, got an array of shape {off.shape}")
        offset = float(off.reshape(()))
    if kind in ("maxcut", "mis") and offset:
        raise ValueError(f"{path}: a graph .npz has no 'offset' (Max-Cut and MIS energies are defined by the graph)")
    h = z.get("h") if kind == "ising" else None
    return _from_matrix(z[key], f"{path}: {key!r}", kind, name, penalty, h=h, offset=offset)


def _square(arr, what: str) -> np.ndarray:
    m = real_array(arr, what)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"{what} must be a square 2-D matrix, got shape {m.shape}")
    problem_size(m.shape[0], f"{what}: n")
    return m


def _from_matrix(arr, what: str, kind: str, name: str, penalty: float, *, h=None, offset: float = 0.0):
    """A dense matrix: a QUBO's Q (symmetric, or one triangle meaning E = xᵀQx), an Ising J
    (symmetric, zero diagonal) or a graph's adjacency matrix (symmetric, zero diagonal; never an
    edge list, whatever its shape)."""
    m = _square(arr, what)
    if kind == "qubo":
        upper, lower = not np.tril(m, -1).any(), not np.triu(m, 1).any()
        if not np.array_equal(m, m.T) and not (upper or lower):
            i, j = (int(k) for k in np.argwhere(m != m.T)[0])
            raise ValueError(
                f"{what}: Q must be symmetric or triangular (E = xᵀQx), but Q[{i},{j}]={m[i, j]!r} and Q[{j},{i}]={m[j, i]!r}"
            )
        return QUBO.from_matrix(m, offset, name=name, symmetrize=True)
    if kind == "ising":
        J = SymmetricMatrix.from_dense(m, name=what)
        return Ising(J, np.zeros(J.n) if h is None else h, offset, name=name)
    adj = SymmetricMatrix.from_dense(m, name=f"{what} (adjacency matrix)")
    return MaxCut(adj, name) if kind == "maxcut" else MIS.from_graph(adj, penalty=penalty, name=name)


# ----------------------------------------------------------------------------- dimod BQM files
def _from_bqm_file(path: str, kind: str | None, name: str):
    try:
        import dimod
    except ImportError:
        raise ValueError(f"{path}: a dimod BQM file needs dimod (pip install 'neurosim[ocean]')") from None
    try:
        with open(path, "rb") as fh:
            bqm = dimod.BinaryQuadraticModel.from_file(fh)
    except Exception as exc:  # a damaged file: one line
        raise ValueError(f"{path}: not a readable dimod BQM file ({type(exc).__name__}: {_one_line(exc)})") from None
    binary = bqm.vartype is dimod.BINARY
    if kind is not None and kind != ("qubo" if binary else "ising"):
        raise ValueError(f"{path}: the BQM is {bqm.vartype.name}, so it is a {'qubo' if binary else 'ising'} problem, not {kind!r}")
    order = list(bqm.variables)
    lin, (r, c, b), off = bqm.to_numpy_vectors(variable_order=order)
    n = problem_size(len(order), f"{path}: number of variables")
    if binary:  # E = Σ a x + Σ_(i<j) b x_i x_j + offset: b is the pair coefficient
        return QUBO(SymmetricMatrix.from_edges(n, r, c, 0.5 * b, name=path), lin, float(off), name=name)
    # dimod: E = Σ h s + Σ J s s + offset; neurosim: H = -Σ_(i<j) J s s - Σ h s + offset
    return Ising(SymmetricMatrix.from_edges(n, r, c, -b, name=path), -lin, float(off), name=name)
