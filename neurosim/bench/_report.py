"""Writing benchmark results: one marked section per benchmark in docs/benchmarks.md, plus a JSON file.

Each benchmark owns the text between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->`` in
``docs/benchmarks.md`` and the file ``docs/benchmarks/NAME.json``; re-running it replaces only its own
section, so benchmarks can be regenerated one at a time. Every section starts with the environment
line (device, date, commit) produced by :func:`environment`.
"""

from __future__ import annotations

import datetime
import json
import os
import sys
import platform
import re
import subprocess

import jax

from .._cpuinfo import cpu_features, isa_summary, isa_tag

_HEADER = """# neurosim benchmarks

Every section below is written by `neurosim bench NAME` (see `neurosim bench --help`) and names the
device, date and commit it ran on. Absolute times on shared machines move by ±30 %: the comparisons
that matter are the side-by-side ones taken in the same run.
"""


def repo_root() -> str | None:
    """The checkout this package runs from (editable install), else None."""
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.abspath(os.path.join(here, "..", ".."))
    return root if os.path.isdir(os.path.join(root, ".git")) else None


def default_docs_dir() -> str:
    root = repo_root()
    return os.path.join(root, "docs") if root else os.path.join(os.getcwd(), "docs")


def _commit() -> str:
    root = repo_root() or os.getcwd()
    try:
        sha = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, timeout=10).stdout.strip()
        return (sha + ("+dirty" if dirty else "")) if sha else "unknown"
    except Exception:
        return "unknown"


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_description() -> str:
    dev = jax.devices()[0]
    if dev.platform == "cpu":
        return f"CPU: {cpu_name()}, {os.cpu_count()} cores, {len(jax.devices())} JAX device(s)"
    return f"{dev.platform.upper()}: {getattr(dev, 'device_kind', str(dev))} ×{len(jax.devices())}"


def environment() -> dict:
    return {
        "device": device_description(),
        "platform": jax.devices()[0].platform,
        # the host CPU's vector instruction set (the popcount synapses depend on it; neurosim/_cpuinfo.py)
        "cpu_isa": isa_summary(),
        "cpu_features": cpu_features(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
        "jax": jax.__version__,
        "python": platform.python_version(),
    }


def env_line(env: dict) -> str:
    isa = f" · instruction set: {env['cpu_isa']}" if env.get("cpu_isa") else ""
    return f"*Device: {env['device']}{isa} · date: {env['date']} · commit: `{env['commit']}` · jax {env['jax']}*"


# The repository's docs are rewritten only when asked (``neurosim bench --write-docs`` or
# NEUROSIM_WRITE_DOCS=1); otherwise sections, JSON and figures go to ./neurosim-bench.
WRITE_DOCS = os.environ.get("NEUROSIM_WRITE_DOCS") == "1"


def set_write_docs(enabled: bool) -> None:
    global WRITE_DOCS
    WRITE_DOCS = bool(enabled)


def output_dir(docs_dir: str | None = None) -> str:
    """Where a benchmark writes: an explicit folder as given, else the repo's docs when writing them
    was asked for, else ./neurosim-bench (so a plain run never changes the docs)."""
    if docs_dir and os.path.abspath(docs_dir) != os.path.abspath(default_docs_dir()):
        return docs_dir
    return default_docs_dir() if WRITE_DOCS else os.path.join(os.getcwd(), "neurosim-bench")


def speed_variant() -> str:
    """The section variant of a speed figure: the instruction set XLA may use on a CPU (``avx512``,
    ``avx2``, ``neon``, …; see ``neurosim._cpuinfo.isa_tag``), else the backend (``gpu``, ``tpu``), so
    one machine's figures never overwrite another's."""
    import jax

    return isa_tag() if jax.default_backend() == "cpu" else jax.default_backend()


def record_section(name: str, markdown: str, data, *, docs_dir: str | None = None, env: dict | None = None, variant: str | None = None) -> str:
    """Replace the section ``name`` (optionally ``name/variant``, e.g. ``throughput/gpu``) of
    ``benchmarks.md`` in :func:`output_dir` with ``markdown`` (prefixed by the environment line) and
    write the JSON data. Returns the path of the markdown file."""
    docs_dir = output_dir(docs_dir)
    env = env or environment()
    if variant is None and env.get("platform", "cpu") != "cpu":
        variant = env["platform"]  # GPU/TPU figures sit next to the CPU ones instead of replacing them
    key = name if variant is None else f"{name}/{variant}"
    os.makedirs(os.path.join(docs_dir, "benchmarks"), exist_ok=True)
    json_name = key.replace("/", "-")
    with open(os.path.join(docs_dir, "benchmarks", f"{json_name}.json"), "w") as fh:
        json.dump({"env": env, "data": data}, fh, indent=1, default=_json_default)
    path = os.path.join(docs_dir, "benchmarks.md")
    text = open(path).read() if os.path.exists(path) else _HEADER
    body = f"<!-- bench:{key} -->\n{env_line(env)}\n\n{markdown.strip()}\n<!-- /bench:{key} -->"
    pattern = re.compile(rf"<!-- bench:{re.escape(key)} -->.*?<!-- /bench:{re.escape(key)} -->", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: body, text)
    else:
        text = text.rstrip() + "\n\n" + body + "\n"
    with open(path, "w") as fh:
        fh.write(text)
    if not WRITE_DOCS and os.path.abspath(docs_dir) == os.path.abspath(os.path.join(os.getcwd(), "neurosim-bench")):
        print(f"neurosim bench: section {key!r} written to {path} (docs/benchmarks.md unchanged; --write-docs rewrites it)", file=sys.stderr)
    return path


def save_figure(fig, name: str, *, dpi: int = 110, docs_dir: str | None = None) -> str:
    """Lay out ``fig``, write it to ``<docs>/figures/<name>`` and close it; returns the path relative to
    the docs folder, as the markdown of a section links it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path = os.path.join(output_dir(docs_dir), "figures", name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return f"figures/{name}"


def _json_default(o):
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def markdown_table(rows: list[dict], columns: list[str] | None = None, floatfmt: str = "{:.4g}") -> str:
    if not rows:
        return "(no rows)"
    columns = columns or list(rows[0].keys())

    def fmt(v):
        if isinstance(v, float):
            return floatfmt.format(v)
        return str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        lines.append("| " + " | ".join(fmt(r.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}h{s // 60 % 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


class Progress:
    """``[k/total] label · elapsed · ETA`` lines on stderr for a benchmark's items. The ETA is the mean
    time of the items done so far times the items left (items of unequal size make it rough, so it is
    marked ``~``)."""

    def __init__(self, total: int, stream=None):
        import time

        self.total, self.k, self.t0, self._time = int(total), 0, time.perf_counter(), time.perf_counter
        self.stream = stream

    def eta(self) -> str:
        done = self._time() - self.t0
        if self.k <= 1:
            return f"{_clock(done)} elapsed"
        per = done / (self.k - 1)  # items finished before the current one
        return f"{_clock(done)} elapsed, ETA ~{_clock(per * (self.total - self.k + 1))}"

    def tick(self, label: str) -> None:
        """Announce item ``k + 1`` (``label``) before it starts."""
        self.k += 1
        print(f"[{self.k}/{self.total}] {label} · {self.eta()}", file=self.stream or sys.stderr, flush=True)
