"""Which model runs under which profile: each cell is tried, not declared (``neurosim models``)."""

from __future__ import annotations

import numpy as np


def _probe_problem():
    from neurosim._graphs import MaxCut

    A = np.zeros((4, 4))
    for i, j in ((0, 1), (1, 2), (2, 3), (3, 0), (0, 2)):
        A[i, j] = A[j, i] = 1.0
    return MaxCut.from_graph(A, name="probe")


def support_table() -> tuple[list, list, dict]:
    """``(models, profiles, cells)``: ``cells[(model, profile)]`` is "yes" or the one-line reason the
    model refused to build on a 4-node Max-Cut under that profile (profile "none" = hardware=None)."""
    from neurosim._build import build_model, hardware_registry, model_registry

    models = sorted(model_registry())
    profiles = ["none"] + sorted(hardware_registry())
    p = _probe_problem()
    cells = {}
    for m in models:
        for h in profiles:
            try:
                build_model(m, p, steps=10, hardware=None if h == "none" else h)
                cells[(m, h)] = "yes"
            except (ValueError, TypeError) as exc:
                cells[(m, h)] = f"no: {exc}"
    return models, profiles, cells


def format_support_table() -> str:
    models, profiles, cells = support_table()
    width = max(len(h) for h in profiles) + 2
    lines = ["model".ljust(10) + "".join(h.ljust(width) for h in profiles)]
    for m in models:
        lines.append(m.ljust(10) + "".join(("yes" if cells[(m, h)] == "yes" else "no").ljust(width) for h in profiles))
    reasons = [f"  {m} × {h}: {cells[(m, h)][4:]}" for m in models for h in profiles if cells[(m, h)] != "yes"]
    return "\n".join(lines + (["unsupported:"] + reasons if reasons else []))
