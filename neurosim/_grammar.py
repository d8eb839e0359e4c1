"""The one line grammar every text problem file is read with (Gset/rudy, bqp, qbsolv, DIMACS).

A file is ASCII. Lines end in LF, CRLF or a lone CR; fields are separated by spaces and tabs only;
blank lines are skipped, and so are comment lines where the format has them (their first field is
the format's comment marker). Any other control character is refused, because Python's
``str.split`` would silently treat some of them (form feed, ``\\x1c``…) as separators. Integers are
``[+-]digits`` and numbers are plain decimals with an optional exponent: no ``_`` digit groups, no
``inf``/``nan``, no hex, which Python's ``int``/``float`` would accept. Every refusal is a one-line
``ValueError`` ``"file:line: what was expected, got '…'"``.
"""

from __future__ import annotations

import dataclasses
import os
import re

import numpy as np

_INT = re.compile(r"[+-]?[0-9]+\Z")
_NUM = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_SEP = re.compile(r"[ \t]+")
_BAD_BYTE = re.compile(rb"[^\x20-\x7e\t\r\n]")
#: Largest number of variables a file may declare: the simulator indexes variables in int32.
MAX_N = 2**31 - 1


@dataclasses.dataclass(frozen=True)
class Line:
    """One non-blank, non-comment line: its file, 1-based number, raw text and fields."""

    path: str
    number: int
    text: str
    fields: tuple

    def error(self, what: str) -> ValueError:
        shown = self.text.strip()
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return ValueError(f"{self.path}:{self.number}: {what}, got {shown!r}")

    def expect(self, count: int, form: str) -> tuple:
        if len(self.fields) != count:
            raise self.error(f"expected {form!r} ({count} fields)")
        return self.fields

    def integer(self, k: int, what: str, lo: int | None = None, hi: int | None = None) -> int:
        tok = self.fields[k]
        if not _INT.match(tok):
            raise self.error(f"{what} must be an integer (ids and counts are integers), not {tok!r}")
        value = int(tok)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            rng = f"{lo}..{hi}" if lo is not None and hi is not None else (f">= {lo}" if lo is not None else f"<= {hi}")
            raise self.error(f"{what} = {value} is outside {rng}")
        return value

    def number_at(self, k: int, what: str) -> float:
        tok = self.fields[k]
        if tok.lower().lstrip("+-") in ("inf", "infinity", "nan"):
            raise self.error(f"{what} is not finite ({tok!r})")
        if not _NUM.match(tok):
            raise self.error(f"{what} must be a decimal number, not {tok!r}")
        value = float(tok)
        if not np.isfinite(value):
            raise self.error(f"{what} {tok} overflows a float64")
        return value


def read_lines(path, *, comment: str | None = None, kind: str = "text") -> list[Line]:
    """The content lines of a text problem file (see the module docstring for the grammar)."""
    fname = os.fspath(path)
    if os.path.isdir(fname):
        raise ValueError(f"{fname}: is a directory, expected a {kind} problem file")
    try:
        with open(fname, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise ValueError(f"{fname}: cannot be read ({exc.strerror or exc})") from None
    bad = _BAD_BYTE.search(raw)
    if bad:
        lineno = len(re.findall(rb"\r\n|\r|\n", raw[: bad.start()])) + 1
        raise ValueError(f"{fname}:{lineno}: byte {bad.group()!r} is not allowed in a {kind} file (ASCII text, fields separated by spaces or tabs)")
    out = []
    for number, text in enumerate(re.split(r"\r\n|\r|\n", raw.decode("ascii")), start=1):
        body = text.strip(" \t")
        if not body:
            continue
        fields = tuple(_SEP.split(body))
        if comment is not None and fields[0] == comment:
            continue
        out.append(Line(fname, number, text, fields))
    return out


def duplicate_pair(i: np.ndarray, j: np.ndarray) -> tuple[int, int] | None:
    """Positions ``(first, second)`` of the first repeated undirected pair, or None. Sorts the pairs
    themselves (no ``i * n + j`` key, which overflows int64 once n > 3·10⁹)."""
    if len(i) < 2:
        return None
    a, b = np.minimum(i, j), np.maximum(i, j)
    order = np.lexsort((b, a))
    sa, sb = a[order], b[order]
    same = np.flatnonzero((sa[1:] == sa[:-1]) & (sb[1:] == sb[:-1]))
    if not len(same):
        return None
    # report the later line of the repeated pair, naming the first
    k = int(same[0])
    pos = sorted((int(order[k]), int(order[k + 1])))
    return pos[0], pos[1]
