"""Core mapping: neurons → cores within a chip's per-core limits, and what that costs.

Neurons are packed onto cores in index order (contiguous blocks, the way Lava and sPyNNaker
partition a population), each core taking as many neurons as its limits allow:

* at most ``neurons_per_core`` neurons;
* at most ``synapses_per_chip / cores_per_chip`` incoming synapses (Loihi 2: the chip's synapse
  budget spread over its cores);
* when ``memory_per_core`` is set (SpiNNaker2: 128 KB SRAM per PE),
  ``neurons·bytes_per_neuron + synapses·bytes_per_synapse ≤ memory_per_core``.

A neuron's incoming synapses live on its own core (fan-in storage), so one neuron whose fan-in
alone exceeds a core is refused. Spike traffic: a flipping neuron sends one packet to every
*other* core holding one of its neighbours (multicast routing), so the cross-core packets of a
step are ``Σ_{flipped i} fanout_cores[i]``.

Geometry (for the cost model): the cores of a chip sit on a ``mesh`` grid (the profile's
``core_mesh``, else the most nearly square factorisation of ``cores_per_chip``: Loihi 2 128 =
8 × 16, SpiNNaker2 152 = 8 × 19 — an assumption, the chips' floor plans differ in detail), chips
on a near-square grid of chips; ``core_xy[c]`` is core c's global (x, y). A packet from core a to
core b travels ``|Δx| + |Δy|`` router hops (dimension-order routing); ``syn_indptr``,
``syn_dst_core``, ``syn_count``, ``syn_hops`` are a CSR over neurons of the cores a neuron's spike
reaches (its own core included, hops 0) with the number of synapses it lands on there;
``hops_of[i]`` sums the hops of neuron i's cross-core packets.
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np

from neurosim._matrix import SymmetricMatrix


@dataclasses.dataclass(frozen=True, eq=False)
class Mapping:
    profile_name: str
    n: int
    core_of: np.ndarray  # int64 (n,)
    neurons_per_core: np.ndarray  # int64 (cores,)
    synapses_per_core: np.ndarray  # int64 (cores,)
    memory_per_core: np.ndarray  # int64 (cores,) bytes (0 when the profile has no memory model)
    fanout_cores: np.ndarray  # int64 (n,): other cores each neuron's spike must reach
    cores_per_chip: int
    chips_available: int
    core_xy: np.ndarray = None  # int64 (cores, 2) global mesh coordinates
    syn_indptr: np.ndarray = None  # int64 (n + 1,) CSR over neurons
    syn_dst_core: np.ndarray = None  # int64 (nnz,) a core neuron i's spike reaches
    syn_count: np.ndarray = None  # int64 (nnz,) synapses it lands on there
    syn_hops: np.ndarray = None  # int64 (nnz,) router hops from i's core to that core
    hops_of: np.ndarray = None  # int64 (n,) Σ hops over i's cross-core packets
    mesh: tuple = (1, 1)  # cores per chip as (x, y)
    chip_grid: tuple = (1, 1)  # chips as (x, y)

    # Equality and hash by content: a model holds its mapping as a static field, and two models
    # built alike must share one compiled step.
    def _digest(self) -> str:
        d = self.__dict__.get("_digest_cache")
        if d is None:
            h = hashlib.sha1(repr((self.profile_name, self.n, self.cores_per_chip, self.chips_available, self.mesh)).encode())
            for a in (self.core_of, self.synapses_per_core, self.memory_per_core, self.fanout_cores):
                h.update(np.ascontiguousarray(a).tobytes())
            d = h.hexdigest()
            object.__setattr__(self, "_digest_cache", d)
        return d

    def __eq__(self, other):
        return isinstance(other, Mapping) and self._digest() == other._digest()

    def __hash__(self):
        return hash(self._digest())

    @property
    def cores(self) -> int:
        return int(len(self.neurons_per_core))

    @property
    def chips(self) -> int:
        return -(-self.cores // self.cores_per_chip)

    def traffic(self, spikes) -> np.ndarray:
        """Cross-core packets per step from a spike raster ``(..., n)`` (0/1 or bool)."""
        s = np.asarray(spikes) != 0
        return s.astype(np.int64) @ self.fanout_cores

    def expected_traffic(self, flip_rate: float) -> float:
        """Cross-core packets per step if each neuron flips with probability ``flip_rate``."""
        return float(flip_rate) * float(self.fanout_cores.sum())

    def report(self) -> dict:
        return {
            "profile": self.profile_name,
            "neurons": self.n,
            "cores": self.cores,
            "chips": self.chips,
            "chips_available": self.chips_available,
            "max_neurons_per_core": int(self.neurons_per_core.max(initial=0)),
            "mean_neurons_per_core": float(self.neurons_per_core.mean()) if self.cores else 0.0,
            "max_synapses_per_core": int(self.synapses_per_core.max(initial=0)),
            "mean_synapses_per_core": float(self.synapses_per_core.mean()) if self.cores else 0.0,
            "max_memory_per_core_bytes": int(self.memory_per_core.max(initial=0)),
            "mean_memory_per_core_bytes": float(self.memory_per_core.mean()) if self.cores else 0.0,
            "mesh": list(self.mesh),
            "chip_grid": list(self.chip_grid),
            "cross_core_packets_if_all_flip": int(self.fanout_cores.sum()),
            "hops_if_all_flip": int(self.hops_of.sum()) if self.hops_of is not None else None,
            "mean_fanout_cores": float(self.fanout_cores.mean()) if self.n else 0.0,
        }

    def __str__(self) -> str:
        r = self.report()
        return (
            f"{r['neurons']} neurons on {r['cores']} cores ({r['chips']} of {r['chips_available']} chips); "
            f"≤ {r['max_neurons_per_core']} neurons and ≤ {r['max_synapses_per_core']} synapses per core; "
            f"a step where every neuron flips sends {r['cross_core_packets_if_all_flip']} cross-core packets"
        )


def map_to_cores(profile, W: SymmetricMatrix) -> Mapping:
    n = W.n
    r, c, _ = W.coo()
    fan_in = np.bincount(r, minlength=n).astype(np.int64)
    syn_cap = profile.synapses_per_chip // profile.cores_per_chip
    mem_cap = profile.memory_per_core
    bn, bs = profile.bytes_per_neuron, profile.bytes_per_synapse

    worst = int(np.argmax(fan_in)) if n else 0
    if n and fan_in[worst] > syn_cap:
        raise ValueError(
            f"{profile.name}: neuron {worst} has {fan_in[worst]} incoming synapses, more than one core holds ({syn_cap})"
        )
    if n and mem_cap is not None and bn + bs * fan_in[worst] > mem_cap:
        raise ValueError(
            f"{profile.name}: neuron {worst} needs {bn + bs * fan_in[worst]} bytes ({fan_in[worst]} synapses × {bs} B + {bn} B), "
            f"more than one core's {mem_cap} bytes"
        )

    cum_syn = np.concatenate([[0], np.cumsum(fan_in)])
    counts, syns, mems = [], [], []
    start = 0
    while start < n:
        # the largest k with every limit satisfied for neurons start..start+k-1
        k = min(profile.neurons_per_core, n - start)
        k = min(k, int(np.searchsorted(cum_syn, cum_syn[start] + syn_cap, side="right")) - 1 - start)
        if mem_cap is not None:
            ks = np.arange(1, k + 1)
            mem = ks * bn + (cum_syn[start + ks] - cum_syn[start]) * bs
            k = int(ks[mem <= mem_cap].max(initial=1))
        k = max(k, 1)
        s = int(cum_syn[start + k] - cum_syn[start])
        counts.append(k)
        syns.append(s)
        mems.append(k * bn + s * bs if mem_cap is not None else 0)
        start += k
    counts = np.array(counts, dtype=np.int64)
    cores = len(counts)
    chips = -(-cores // profile.cores_per_chip)
    if chips > profile.chips:
        per = -(-n // max(1, cores)) if cores else 0
        raise ValueError(
            f"{profile.name}: the problem needs {cores} cores = {chips} chips "
            f"({n} neurons, {int(fan_in.sum())} synapses; ≤ {profile.neurons_per_core} neurons and ≤ {syn_cap} synapses per core"
            + (f", ≤ {mem_cap} bytes per core" if mem_cap is not None else "")
            + f", {profile.cores_per_chip} cores per chip; ~{per} neurons per core here) but the system declares chips={profile.chips}. "
            f"Use profile.replace(chips={chips}) for a larger system."
        )
    # chip-level totals (the per-core limits imply them for the shipped profiles; checked anyway)
    core_of = np.repeat(np.arange(cores, dtype=np.int64), counts)
    chip_of_core = np.arange(cores) // profile.cores_per_chip
    chip_neurons = np.bincount(chip_of_core, weights=counts, minlength=chips)
    chip_syn = np.bincount(chip_of_core, weights=np.array(syns, dtype=np.float64), minlength=chips)
    if chip_neurons.max(initial=0) > profile.neurons_per_chip or chip_syn.max(initial=0) > profile.synapses_per_chip:
        raise ValueError(
            f"{profile.name}: a chip would hold {int(chip_neurons.max())} neurons / {int(chip_syn.max())} synapses, "
            f"over the limits {profile.neurons_per_chip} / {profile.synapses_per_chip}"
        )
    mesh = _mesh(profile)
    chip_grid = _near_square(profile.chips)
    core_xy = _core_xy(cores, profile.cores_per_chip, mesh, chip_grid)
    # per (source neuron, destination core): synapses landed; multicast fan-out = other cores
    src, dst_core = c, core_of[r]
    key, cnt = np.unique(src * cores + dst_core, return_counts=True) if len(r) else (np.zeros(0, np.int64), np.zeros(0, np.int64))
    k_src, k_dst = key // cores, key % cores
    hops = np.abs(core_xy[k_dst] - core_xy[core_of[k_src]]).sum(axis=1) if len(key) else np.zeros(0, np.int64)
    other = k_dst != core_of[k_src]
    fanout = np.bincount(k_src[other], minlength=n).astype(np.int64)
    hops_of = np.bincount(k_src, weights=hops, minlength=n).astype(np.int64)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(k_src, minlength=n))]).astype(np.int64)
    return Mapping(
        profile.name, n, core_of, counts, np.array(syns, np.int64), np.array(mems, np.int64), fanout, profile.cores_per_chip, profile.chips,
        core_xy, indptr, k_dst.astype(np.int64), cnt.astype(np.int64), hops.astype(np.int64), hops_of, mesh, chip_grid,
    )


def _near_square(k: int) -> tuple:
    """``(x, y)`` with ``x·y = k``, ``x ≤ y`` and x as large as possible."""
    x = int(np.floor(np.sqrt(k)))
    while k % x:
        x -= 1
    return (x, k // x)


def _mesh(profile) -> tuple:
    mesh = getattr(profile, "core_mesh", None)
    return tuple(int(v) for v in mesh) if mesh else _near_square(profile.cores_per_chip)


def _core_xy(cores: int, cores_per_chip: int, mesh: tuple, chip_grid: tuple) -> np.ndarray:
    """Global mesh coordinates of cores 0..cores−1: row-major within a chip, chips row-major on the grid."""
    c = np.arange(cores, dtype=np.int64)
    chip, local = c // cores_per_chip, c % cores_per_chip
    lx, ly = local % mesh[0], local // mesh[0]
    cx, cy = chip % chip_grid[0], chip // chip_grid[0]
    return np.stack([cx * mesh[0] + lx, cy * mesh[1] + ly], axis=1)
