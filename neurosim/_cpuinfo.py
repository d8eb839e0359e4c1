"""The CPU's vector instruction set, recorded beside the device in every benchmark section.

The bit-plane popcount synapses (``neurosim._bitsynapses``) run several times faster with AVX-512's
vector popcount (``vpopcntdq``) than with AVX2, which has none; a benchmark figure without the
instruction set it ran on cannot be compared across machines (issue 16: G1 synchronous × 1024 ran
814 M updates/s on an AVX-512 EPYC and 167 M/s on an AVX2 EPYC).

Flags come from ``/proc/cpuinfo`` (Linux), else ``sysctl`` (macOS), else the machine name (ARM64
always has NEON). XLA:CPU can be told to use *less* than the CPU has
(``XLA_FLAGS=--xla_cpu_max_isa=AVX2``), never more: :func:`isa_summary` reports that cap too.
"""

from __future__ import annotations

import os
import platform
import subprocess

#: (label, cpuinfo flag names any of which means present)
_FEATURES = (
    ("AVX2", ("avx2",)),
    ("AVX-512F", ("avx512f",)),
    ("AVX512-VPOPCNTDQ", ("avx512_vpopcntdq", "avx512vpopcntdq")),
    ("NEON", ("neon", "asimd")),
)


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                key = line.split(":", 1)[0].strip().lower()
                if key in ("flags", "features"):  # x86 "flags", ARM "Features"
                    return set(line.split(":", 1)[1].lower().split())
    except OSError:
        pass
    try:  # macOS: hw.optional.* (arm64 always reports neon)
        out = subprocess.run(["sysctl", "-a"], capture_output=True, text=True, timeout=5).stdout.lower()
        return {ln.split(":")[0].rsplit(".", 1)[-1] for ln in out.splitlines() if ln.strip().endswith(": 1")}
    except Exception:
        return set()


def cpu_features(flags: set[str] | None = None) -> dict[str, bool]:
    """``{"AVX2": bool, "AVX-512F": bool, "AVX512-VPOPCNTDQ": bool, "NEON": bool}`` of this CPU."""
    flags = _cpu_flags() if flags is None else {f.lower() for f in flags}
    out = {label: any(n in flags for n in names) for label, names in _FEATURES}
    if platform.machine().lower() in ("arm64", "aarch64"):
        out["NEON"] = True  # mandatory in ARMv8-A
    return out


def xla_max_isa(flags: str | None = None) -> str | None:
    """The ``--xla_cpu_max_isa`` cap in ``XLA_FLAGS`` (e.g. ``"AVX2"``), or None (XLA uses all the CPU has)."""
    flags = os.environ.get("XLA_FLAGS", "") if flags is None else flags
    for part in flags.split():
        if part.startswith("--xla_cpu_max_isa="):
            return part.split("=", 1)[1].upper()
    return None


def isa_summary(features: dict[str, bool] | None = None, max_isa: str | None = None) -> str:
    """One phrase for the benchmark header, e.g. ``"AVX2, no AVX-512"`` or
    ``"AVX-512F + VPOPCNTDQ, XLA capped at AVX2"``."""
    f = cpu_features() if features is None else features
    if f.get("AVX-512F"):
        text = "AVX-512F + VPOPCNTDQ" if f.get("AVX512-VPOPCNTDQ") else "AVX-512F, no VPOPCNTDQ"
    elif f.get("AVX2"):
        text = "AVX2, no AVX-512"
    elif f.get("NEON"):
        text = "NEON"
    else:
        text = "no AVX2/AVX-512/NEON detected"
    cap = xla_max_isa() if max_isa is None else max_isa
    return text + (f", XLA capped at {cap}" if cap else "")


def isa_tag(features: dict[str, bool] | None = None, max_isa: str | None = None) -> str:
    """Short name of the vector instruction set XLA may use here: ``"avx512"``, ``"avx2"``, ``"neon"`` or
    ``"baseline"``. Speed sections are recorded per tag (``throughput/avx2`` beside ``throughput/avx512``),
    so a run on one CPU never overwrites the figures of another."""
    f = cpu_features() if features is None else features
    cap = xla_max_isa() if max_isa is None else (max_isa or None)
    if f.get("AVX-512F") and (cap is None or cap.startswith("AVX512")):
        return "avx512"
    if f.get("AVX2") and (cap is None or cap.startswith("AVX")) and cap != "AVX":
        return "avx2"
    if f.get("NEON"):
        return "neon"
    return "baseline"
