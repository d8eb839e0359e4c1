"""What the Gset examples share: their common command-line options and loading a graph with its
best-known cut (imported by the ``neurosa_*.py`` scripts, which run from this folder)."""

import argparse
import os

import neurosim as ns
from neurosim.bench._neurosa import best_known, gset_dir

# Figures go to ./neurosim-examples unless --out says otherwise (e.g. --out docs/figures to
# re-record the docs): running an example never overwrites the docs' figures by default.
FIGURES = os.path.join(os.getcwd(), "neurosim-examples")


def parser(doc: str) -> argparse.ArgumentParser:
    """A parser with ``--seed``, ``--gset`` and ``--out``; the script adds its own options."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gset", default=None, help="Gset folder (default: $NEUROSIM_GSET or ../shared/data/gset)")
    ap.add_argument("--out", default=FIGURES, help="where figures and their data are written (docs/figures to re-record the docs)")
    return ap


def setup(ap: argparse.ArgumentParser):
    """Parse, create the output folder, find the Gset folder. Returns (args, folder, best-known cuts)."""
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    gdir = gset_dir(args.gset)
    if gdir is None:
        raise SystemExit("Gset graphs not found: pass --gset or set NEUROSIM_GSET")
    return args, gdir, best_known(gdir)


def graph(gdir, name: str) -> ns.MaxCut:
    return ns.MaxCut.from_gset(os.path.join(gdir, f"{name}.txt"))
