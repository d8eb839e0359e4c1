"""Where benchmark data lives: the Gset graphs are read from ../shared/data/gset (never copied)."""

from __future__ import annotations

import csv
import os
import pathlib


def find_gset(explicit: str | None = None) -> str | None:
    """The Gset directory: ``explicit``, else $NEUROSIM_GSET, else ../shared/data/gset next to the
    checkout (or the working directory); None when none of them holds G1.txt."""
    candidates = [explicit, os.environ.get("NEUROSIM_GSET")]
    here = pathlib.Path(__file__).resolve()
    candidates += [str(p / "shared" / "data" / "gset") for p in (here.parents[2].parent, pathlib.Path.cwd().parent, pathlib.Path.cwd())]
    for c in candidates:
        if c and (pathlib.Path(c) / "G1.txt").exists():
            return str(c)
    return None


def gset_dir(explicit: str | None = None) -> pathlib.Path:
    """Like :func:`find_gset`, but a missing folder is an error that says where it looked."""
    found = find_gset(explicit)
    if found is None:
        raise ValueError("Gset data not found: pass --gset DIR or set NEUROSIM_GSET (expected ../shared/data/gset)")
    return pathlib.Path(found)


def best_known_cuts(directory: str | os.PathLike) -> dict:
    """``{graph name: best-known cut}`` from ``best_known.csv`` in the Gset folder ({} if absent)."""
    path = pathlib.Path(directory) / "best_known.csv"
    if not path.exists():
        return {}
    with open(path) as fh:
        return {row["name"]: int(float(row["best_known_cut"])) for row in csv.DictReader(fh) if row.get("best_known_cut")}


def best_known(name: str, directory: str | None = None) -> float | None:
    """Best-known cut of one Gset graph (None if unknown)."""
    cut = best_known_cuts(gset_dir(directory)).get(name)
    return None if cut is None else float(cut)
