"""Device memory of a whole run, estimated from shapes before anything is allocated or compiled.

A run holds on its device: the model's arrays (synapses, tables), the loop carry (model state, best
energies and states) twice while a chunk runs (the donated input and the output being written), one
step's outputs, and one chunk of records (copied to the host after every chunk). A run that cannot
fit is refused with these numbers and what to change, instead of ending in an XLA out-of-memory error.
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import numpy as np

from ._saveat import physical_memory


def _bytes(tree) -> int:
    return int(sum(np.prod(l.shape, dtype=np.int64) * np.dtype(l.dtype).itemsize for l in jax.tree_util.tree_leaves(tree)))


@dataclasses.dataclass(frozen=True)
class MemoryEstimate:
    model: int  # synapses and other model arrays
    state: int  # one copy of the model state of all replicas
    best: int  # best energies and states
    outputs: int  # one step's outputs
    records: int  # one chunk of records on the device

    @property
    def total(self) -> int:
        return self.model + 2 * (self.state + self.best) + self.outputs + self.records

    def describe(self) -> str:
        gib = 2.0**30
        return (f"{self.total / gib:.3g} GiB (model arrays {self.model / gib:.3g}, state 2 × {self.state / gib:.3g}, "
                f"best states 2 × {self.best / gib:.3g}, step outputs {self.outputs / gib:.3g}, records per chunk {self.records / gib:.3g})")


def estimate(model, state_shape, out_shape, *, replicas: int, rec_bytes: int, records_per_chunk: int) -> MemoryEstimate:
    arrays, _ = eqx.partition(model, eqx.is_array)
    return MemoryEstimate(
        model=_bytes(arrays),
        state=_bytes(state_shape),
        best=replicas * (model.n + 4),
        outputs=_bytes(out_shape),
        records=rec_bytes * records_per_chunk,
    )


def device_memory(devices=None) -> int:
    """Bytes one device can hold: the accelerator's limit, or the host's physical memory on CPU."""
    d = (list(devices) if devices is not None else jax.devices())[0]
    try:
        stats = d.memory_stats() or {}
    except Exception:  # noqa: BLE001 - backends without memory_stats
        stats = {}
    return int(stats.get("bytes_limit") or physical_memory())


def check_fits(est: MemoryEstimate, *, replicas: int, n_devices: int, available: int) -> None:
    per_device = est.model + (est.total - est.model) // max(1, n_devices)
    if per_device <= available:
        return
    fit = max(0, int(replicas * (available - est.model) / max(1, per_device - est.model)))
    raise MemoryError(
        f"this run needs about {est.describe()}"
        + (f" over {n_devices} devices ({per_device / 2**30:.3g} GiB each)" if n_devices > 1 else "")
        + f", more than the {available / 2**30:.3g} GiB the device has: use fewer replicas (about {fit:,} fit), "
        "a sparse synapse format, record less (SaveAt.every, fewer names) or more devices"
    )
