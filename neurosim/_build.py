"""Building models by name with string parameters (the CLI and ``neurosim.solve``)."""

from __future__ import annotations

import inspect
import re

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


def build_model(name: str, problem, *, steps: int | None = None, hardware=None, params: dict | None = None, **kw):
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
    params = {**(params or {}), **kw}  # `params=` lets a model parameter be called `steps` (SA, NEBM) or `hardware`
    if "hardware" in params:
        raise ValueError("give the hardware profile with --hardware (hardware=), not as a model parameter")
    sched = params.get("schedule")
    takes_names = re.search(r"\bstr\b", str(getattr(inspect.signature(cls.__init__).parameters.get("schedule"), "annotation", "")))
    if isinstance(sched, str) and "T_start" not in params and "T_end" not in params and not takes_names:
        raise ValueError(f"model {key!r} takes a schedule by name only with its end points: schedule={sched} T_start=… T_end=… "
                         f"(schedules: {', '.join(sorted(SCHEDULES))})")
    if isinstance(sched, str) and ("T_start" in params or "T_end" in params):
        if sched not in SCHEDULES:
            raise ValueError(f"unknown schedule {sched!r}; available: {', '.join(sorted(SCHEDULES))}")
        if "T_start" not in params or "T_end" not in params:
            raise ValueError("an annealing schedule needs both T_start and T_end")
        if steps is None:
            raise ValueError("an annealing schedule given by name needs the number of steps")
        ends = [params.pop("T_start"), params.pop("T_end")]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in ends):
            raise ValueError(f"T_start and T_end must be numbers, got {ends[0]!r} and {ends[1]!r}")
        params["schedule"] = SCHEDULES[sched].anneal(float(ends[0]), float(ends[1]), steps)
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
    try:
        return cls(problem, hardware=hardware, **params)
    except TypeError as exc:  # a parameter of the wrong type ("abc" for a number): the user's input, one line
        raise ValueError(f"model {key!r}: bad parameter value in {params!r} ({exc})") from exc


# ----------------------------------------------------------------------------- problem files
def load_problem(path: str, kind: str | None = None, *, format: str | None = None, penalty: float = 1.0):
    """Read a problem file (``neurosim._formats``; formats and conventions in docs/usage.md).

    ``kind``: maxcut | mis | qubo | ising (default: the format's, or for ``.npz`` its arrays'). ``format``:
    gset | bqp | qbsolv | dimacs | npy | npz | bqm (default: from the content, else the extension).
    Every bad file is a one-line ``ValueError`` naming the file, the line and what was expected.
    """
    from ._formats import load_problem as _load

    return _load(path, kind, format=format, penalty=penalty)
