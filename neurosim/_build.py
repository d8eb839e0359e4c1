"""Building models by name with string parameters (the CLI and ``neurosim.solve``)."""

from __future__ import annotations

import inspect
import os

import numpy as np

from ._graphs import MIS, MaxCut
from ._matrix import SymmetricMatrix
from ._problems import QUBO, Ising
from .schedules import SCHEDULES


def model_registry() -> dict:
    from neurosim.models import MODELS

    return MODELS


def hardware_registry() -> dict:
    from neurosim.hardware import PROFILES

    return PROFILES


def parse_value(text: str):
    """CLI parameter value: int, float, bool, None or string."""
    low = text.strip().lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    if low == "none":
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_params(items) -> dict:
    out = {}
    for item in items or ():
        if "=" not in item:
            raise ValueError(f"--param expects NAME=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        k = k.strip()
        if not k.isidentifier():
            raise ValueError(f"--param name {k!r} is not a valid parameter name")
        out[k] = parse_value(v)
    return out


def build_model(name: str, problem, *, steps: int | None = None, hardware=None, **params):
    """``model = build_model("gibbs", problem, steps=…, mode="synchronous", schedule="geometric",
    T_start=3, T_end=0.05)``. A string ``schedule`` with ``T_start``/``T_end`` becomes an annealing
    schedule of that type spanning ``steps``; other parameters go to the model's constructor."""
    models = model_registry()
    key = name.lower()
    if key not in models:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(sorted(models))}")
    cls = models[key]
    if isinstance(hardware, str):
        profiles = hardware_registry()
        if hardware.lower() not in profiles:
            raise ValueError(f"unknown hardware profile {hardware!r}; available: {', '.join(sorted(profiles)) or 'none'}")
        hardware = profiles[hardware.lower()]
    sched = params.get("schedule")
    if isinstance(sched, str) and ("T_start" in params or "T_end" in params):
        if sched not in SCHEDULES:
            raise ValueError(f"unknown schedule {sched!r}; available: {', '.join(sorted(SCHEDULES))}")
        if "T_start" not in params or "T_end" not in params:
            raise ValueError("an annealing schedule needs both T_start and T_end")
        if steps is None:
            raise ValueError("an annealing schedule given by name needs the number of steps")
        params["schedule"] = SCHEDULES[sched].anneal(float(params.pop("T_start")), float(params.pop("T_end")), steps)
    sig = inspect.signature(cls.__init__)
    accepted = [p for p in sig.parameters if p not in ("self", "problem")]
    # A model whose annealing is laid out over a run length (SA and NEBM: `steps`, NeuroSA: `horizon`)
    # anneals over the run it is built for unless the user sets that length explicitly.
    if steps is not None:
        for name in ("steps", "horizon"):
            if name in accepted and name not in params:
                params[name] = int(steps)
    unknown = [k for k in params if k not in accepted]
    if unknown and not any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
        raise ValueError(f"model {key!r} has no parameter(s) {unknown}; it accepts: {', '.join(accepted)}")
    return cls(problem, hardware=hardware, **params)


# ----------------------------------------------------------------------------- problem files
def load_problem(path: str, kind: str | None = None, *, penalty: float = 1.0):
    """Read a problem file. ``kind``: maxcut | mis | qubo | ising (default: inferred — ``.npz`` files by
    their arrays, text files are Max-Cut).

    * text (Gset format): ``n m`` then ``m`` lines ``i j w`` (1-indexed). For ``qubo``/``ising`` the same
      format where ``i i w`` is a linear term (QUBO diagonal / Ising field h_i) and ``i j w`` (i≠j) is the
      full pair coefficient (QUBO: coefficient of x_i x_j; Ising: J_ij).
    * ``.npz``: QUBO with ``Q`` (full symmetric matrix, diagonal linear) and optional ``offset``; Ising
      with ``J``, ``h`` and optional ``offset``; graphs with ``adjacency``.
    """
    if not os.path.exists(path):
        raise ValueError(f"problem file {path!r} does not exist")
    name = os.path.splitext(os.path.basename(path))[0]
    if path.endswith(".npz"):
        with np.load(path) as z:
            keys = set(z.files)
            kind = kind or ("qubo" if "Q" in keys else "ising" if "J" in keys else "maxcut")
            off = float(z["offset"]) if "offset" in keys else 0.0
            if kind == "qubo":
                if "Q" not in keys:
                    raise ValueError(f"{path}: a QUBO .npz needs an array 'Q' (has {sorted(keys)})")
                q = QUBO.from_matrix(z["Q"], off, name=name)
                return q
            if kind == "ising":
                if "J" not in keys:
                    raise ValueError(f"{path}: an Ising .npz needs arrays 'J' and 'h' (has {sorted(keys)})")
                return Ising.from_dense(z["J"], z["h"] if "h" in keys else None, off, name=name)
            if "adjacency" not in keys:
                raise ValueError(f"{path}: a graph .npz needs an array 'adjacency' (has {sorted(keys)})")
            adj = z["adjacency"]
            return MaxCut.from_graph(adj, name=name) if kind == "maxcut" else MIS.from_graph(adj, penalty=penalty, name=name)
    kind = kind or "maxcut"
    if kind == "maxcut":
        return MaxCut.from_gset(path)
    if kind == "mis":
        g = MaxCut.from_gset(path)
        return MIS.from_graph(g.weights, penalty=penalty, name=name)
    if kind in ("qubo", "ising"):
        return _read_coefficients(path, kind, name)
    raise ValueError(f"unknown problem kind {kind!r}; choose maxcut, mis, qubo or ising")


def _read_coefficients(path: str, kind: str, name: str):
    lines = open(path, "rb").read().decode("ascii", errors="replace").replace("\r\n", "\n").split("\n")
    header = None
    diag, i_, j_, w_ = {}, [], [], []
    for lineno, line in enumerate(lines, 1):
        f = line.split()
        if not f:
            continue
        try:
            if header is None:
                if len(f) != 2:
                    raise ValueError
                header = (int(f[0]), int(f[1]))
                continue
            if len(f) != 3:
                raise ValueError
            a, b, w = int(f[0]), int(f[1]), float(f[2])
        except ValueError:
            raise ValueError(f"{path}:{lineno}: expected {'n m' if header is None else 'i j w'}, got {line.strip()!r}") from None
        n = header[0]
        if not (1 <= a <= n and 1 <= b <= n):
            raise ValueError(f"{path}:{lineno}: index outside 1..{n}: {line.strip()!r}")
        if not np.isfinite(w):
            raise ValueError(f"{path}:{lineno}: coefficient is not finite: {line.strip()!r}")
        if a == b:
            diag[a - 1] = diag.get(a - 1, 0.0) + w
        else:
            i_.append(a - 1)
            j_.append(b - 1)
            w_.append(w)
    if header is None:
        raise ValueError(f"{path}:1: empty file, expected a header 'n m'")
    n = header[0]
    lin = np.zeros(n)
    for k, v in diag.items():
        lin[k] = v
    if kind == "qubo":
        # full pair coefficient c_ij x_i x_j = (c/2) x_i x_j + (c/2) x_j x_i
        M = SymmetricMatrix.from_edges(n, i_, j_, 0.5 * np.asarray(w_, dtype=float), name=path)
        return QUBO(M, lin, 0.0, name=name)
    M = SymmetricMatrix.from_edges(n, i_, j_, np.asarray(w_, dtype=float), name=path)
    return Ising(M, lin, 0.0, name=name)
