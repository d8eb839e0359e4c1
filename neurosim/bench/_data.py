"""Where benchmark data lives: the Gset graphs are read from ../shared/data/gset (never copied)."""

from __future__ import annotations

import os
import pathlib


def gset_dir(explicit: str | None = None) -> pathlib.Path:
    """The Gset directory: ``explicit``, else $NEUROSIM_GSET, else ../shared/data/gset next to the checkout."""
    candidates = [explicit, os.environ.get("NEUROSIM_GSET")]
    here = pathlib.Path(__file__).resolve()
    candidates += [str(p / "shared" / "data" / "gset") for p in (here.parents[2].parent, pathlib.Path.cwd().parent, pathlib.Path.cwd())]
    for c in candidates:
        if c and (pathlib.Path(c) / "G1.txt").exists():
            return pathlib.Path(c)
    raise ValueError("Gset data not found: pass --gset DIR or set NEUROSIM_GSET (expected ../shared/data/gset)")


def best_known(name: str, directory: str | None = None) -> float | None:
    """Best-known cut of a Gset graph from best_known.csv (None if unknown)."""
    import csv

    path = gset_dir(directory) / "best_known.csv"
    with open(path) as fh:
        for row in csv.DictReader(fh):
            if row["name"] == name:
                return float(row["best_known_cut"])
    return None
