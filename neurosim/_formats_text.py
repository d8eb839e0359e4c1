"""Text problem files, all read with the one grammar of ``_grammar``: they differ only in their
header line, comment marker, index base and what an ``i j v`` line means. Each reader returns plain
arrays, ``Entries(n, i, j, v)`` with 0-based int64 ids; the meaning is applied in ``_formats``.

* Gset/rudy: ``n m`` then ``m`` lines ``i j w`` (1-based); for graphs no self-loops.
* bqp (OR-Library / Biq Mac): the same lines, diagonal allowed, one triangle of a symmetric Q.
* qbsolv ``.qubo``: ``c`` comments, ``p qubo topology maxDiagonals nDiagonals nElements``, then
  ``i j value`` lines (0-based): ``nDiagonals`` with ``i = j``, ``nElements`` with ``i ≠ j``.
* DIMACS graphs: ``c`` comments, ``p edge n m`` (or ``p col n m``), then ``m`` lines ``e u v`` (1-based).

Every file is refused, with file and line, for: a wrong header, an id outside the range, an entry
listed twice (in either orientation), or a count that disagrees with the header.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ._grammar import MAX_N, Line, duplicate_pair, read_lines
from ._validate import problem_size


@dataclasses.dataclass(frozen=True)
class Entries:
    n: int
    i: np.ndarray
    j: np.ndarray
    v: np.ndarray


def _first(lines: list[Line], path: str, form: str) -> Line:
    if not lines:
        raise ValueError(f"{path}:1: empty file, expected a header {form!r}")
    return lines[0]


def _collect(lines: list[Line], n: int, *, base: int, diagonal: bool, form: str, what: str) -> tuple[Entries, list[int]]:
    """Parse ``i j v`` lines into 0-based entries; refuse ids outside the range, self-loops where the
    format has none, and repeated pairs (silently summing them would change the problem)."""
    ii = np.empty(len(lines), dtype=np.int64)
    jj = np.empty(len(lines), dtype=np.int64)
    vv = np.empty(len(lines), dtype=np.float64)
    lo, hi = base, n - 1 + base
    for k, line in enumerate(lines):
        line.expect(3, form)
        a = line.integer(0, "i", lo, hi)
        b = line.integer(1, "j", lo, hi)
        if a == b and not diagonal:
            raise line.error(f"self-loop on vertex {a}: a {what} has no i = j lines")
        ii[k], jj[k], vv[k] = a - base, b - base, line.number_at(2, "the value")
    dup = duplicate_pair(ii, jj)
    if dup is not None:
        first, second = (lines[p] for p in dup)
        raise second.error(f"entry ({ii[dup[1]] + base}, {jj[dup[1]] + base}) is listed twice (first on line {first.number}); one line per pair")
    return Entries(n, ii, jj, vv), [line.number for line in lines]


def _size(line: Line, k: int, what: str) -> int:
    n = line.integer(k, what, 1, MAX_N)
    try:
        return problem_size(n, what.split(" ")[0])
    except ValueError as exc:  # e.g. more variables than this host can hold
        raise line.error(str(exc)) from None


def _n_m_header(line: Line, what: str) -> tuple[int, int]:
    if len(line.fields) != 2:
        raise line.error(f"the header of a {what} must be 'n m' (2 fields)")
    n = _size(line, 0, "n (the number of variables)")
    m = line.integer(1, "m (the number of lines that follow)", 0)
    return n, m


def _check_count(header: Line, declared: int, found: int, what: str) -> None:
    if declared != found:
        raise ValueError(f"{header.path}:{header.number}: header says m={declared} {what} but the file has {found}")


def read_n_m(path, *, diagonal: bool, what: str) -> Entries:
    """Gset/rudy (``diagonal=False``) and bqp / coefficient lists (``diagonal=True``)."""
    lines = read_lines(path, kind=what)
    header = _first(lines, str(path), "n m")
    n, m = _n_m_header(header, what)
    entries, _ = _collect(lines[1:], n, base=1, diagonal=diagonal, form="i j w", what=what)
    _check_count(header, m, len(entries.i), "lines 'i j w'")
    return entries


def read_qbsolv(path) -> Entries:
    lines = read_lines(path, comment="c", kind="qbsolv .qubo")
    form = "p qubo topology maxDiagonals nDiagonals nElements"
    header = _first(lines, str(path), form)
    header.expect(6, form)
    if header.fields[0] != "p" or header.fields[1] != "qubo":
        raise header.error(f"expected the program line {form!r}")
    n = _size(header, 3, "maxDiagonals (the number of variables)")
    n_diag = header.integer(4, "nDiagonals", 0, n)
    n_elem = header.integer(5, "nElements", 0)
    entries, _ = _collect(lines[1:], n, base=0, diagonal=True, form="i j value", what="qbsolv file")
    on_diag = int(np.count_nonzero(entries.i == entries.j))
    _check_count(header, n_diag, on_diag, "diagonal lines (nDiagonals)")
    _check_count(header, n_elem, len(entries.i) - on_diag, "off-diagonal lines (nElements)")
    return entries


def read_dimacs(path) -> Entries:
    lines = read_lines(path, comment="c", kind="DIMACS graph")
    header = _first(lines, str(path), "p edge n m")
    header.expect(4, "p edge n m")
    if header.fields[0] != "p" or header.fields[1] not in ("edge", "col"):
        raise header.error("expected the problem line 'p edge n m'")
    n = _size(header, 2, "n (the number of vertices)")
    m = header.integer(3, "m (the number of edges)", 0)
    rows = []
    for line in lines[1:]:
        if line.fields[0] != "e":
            raise line.error("expected an edge line 'e u v' (or a comment line 'c ...')")
        line.expect(3, "e u v")
        rows.append(Line(line.path, line.number, line.text, (line.fields[1], line.fields[2], "1")))
    entries, _ = _collect(rows, n, base=1, diagonal=False, form="e u v", what="graph")
    _check_count(header, m, len(entries.i), "edges")
    return entries
