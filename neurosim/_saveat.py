"""What to record during a run and how often (in the spirit of diffrax's ``SaveAt``)."""

from __future__ import annotations

import dataclasses
import os
from typing import Callable

# Names the engine itself provides (besides the model's own observables).
ENGINE_RECORDS = ("state", "best_energy")


@dataclasses.dataclass(frozen=True)
class SaveAt:
    """Recording specification.

    Args:
        every: record after every ``every``-th step (steps ``every-1, 2·every-1, …``).
        what: names recorded as their value at the recorded step: any model output
            (``"energy"``, ``"spikes"``, ``"temperature"``, ``"threshold"``, …) or ``"state"`` (the native
            variables, int8) or ``"best_energy"`` (each replica's best energy so far).
        sum: model outputs accumulated over the ``every`` steps since the last record (e.g. windowed
            spike counts for rasters of long runs and PCA trajectories). Accumulated in int32 for
            integer outputs, float32 otherwise.
        fn: optional ``fn(state, outputs) -> pytree`` of arrays recorded as ``records["fn"]``.
        max_bytes: refuse a run whose records would exceed this many bytes (default: half the
            machine's physical memory).

    A ``SaveAt()`` with nothing to record (the default) records nothing; the run still tracks each
    replica's best state.
    """

    every: int = 1
    what: tuple[str, ...] = ()
    sum: tuple[str, ...] = ()
    fn: Callable | None = None
    max_bytes: int | None = None

    def __post_init__(self):
        if isinstance(self.what, str):
            object.__setattr__(self, "what", (self.what,))
        if isinstance(self.sum, str):
            object.__setattr__(self, "sum", (self.sum,))
        object.__setattr__(self, "what", tuple(self.what))
        object.__setattr__(self, "sum", tuple(self.sum))
        if not isinstance(self.every, int) or self.every < 1:
            raise ValueError(f"SaveAt.every must be a positive integer, got {self.every!r}")
        overlap = set(self.what) & set(self.sum)
        if overlap:
            raise ValueError(f"SaveAt: {sorted(overlap)} listed in both what= and sum=")
        bad = [s for s in self.sum if s in ENGINE_RECORDS]
        if bad:
            raise ValueError(f"SaveAt.sum cannot accumulate engine records {bad}")

    @property
    def records_anything(self) -> bool:
        return bool(self.what or self.sum or self.fn is not None)

    def check_names(self, model) -> None:
        available = set(getattr(model, "observables", ())) | {"energy"} | set(ENGINE_RECORDS)
        unknown = [s for s in (*self.what, *self.sum) if s not in available]
        if unknown:
            raise ValueError(
                f"SaveAt asks for {unknown}, which {type(model).__name__} does not provide; available: {sorted(available)}"
            )

    def budget(self) -> int:
        if self.max_bytes is not None:
            return int(self.max_bytes)
        return physical_memory() // 2


def physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 << 30
