"""Building and loading neurosim's C++ XLA custom calls (``jax.ffi``), on first use.

Each kernel is one C++ file next to this module. It is compiled with the system C++ compiler against
the headers jaxlib ships (``jax.ffi.include_dir()``) and cached in ``$NEUROSIM_CACHE`` (default
``~/.cache/neurosim``) under a hash of the source, the compiler, the flags, jaxlib's version and the
CPU (a library built with ``-march=native`` must not be reused on another CPU through a shared home
folder). Any failure — no compiler, a failed build, a library that does not load — is recorded as a
reason and the caller's jax path runs instead, with the same results.

Flags: ``-ffp-contract=off -fno-fast-math`` always, so each float operation rounds as XLA's does (the
kernels are bit-identical to the jax paths they replace). Kernels that want vector code ask for
:func:`native_arch`: the CPU's own instruction set, or the one XLA is capped at
(``XLA_FLAGS=--xla_cpu_max_isa=AVX2``), so that a capped run measures what an AVX2 machine would.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import sys

import jax

_HERE = os.path.dirname(os.path.abspath(__file__))
#: name -> {"lib": ctypes handle or None once tried, "error": why not}
_LIBS: dict = {}


def cache_dir() -> str:
    return os.environ.get("NEUROSIM_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "neurosim")


def compiler() -> str | None:
    return os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")


def native_arch() -> list[str]:
    """``-march`` for vectorised kernels: XLA's ISA cap when one is set, else the CPU's own."""
    from ._cpuinfo import isa_tag

    if platform.machine().lower() not in ("x86_64", "amd64"):
        return ["-O3"] if platform.machine().lower() not in ("arm64", "aarch64") else ["-O3", "-mcpu=native"]
    tag = isa_tag()
    arch = {"avx512": "native", "avx2": "x86-64-v3", "baseline": "x86-64-v2"}.get(tag, "native")
    return ["-O3", f"-march={arch}"]


def _cpu_id() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            return next((ln for ln in fh if ln.lower().startswith(("flags", "features"))), "")
    except OSError:
        return platform.processor()


def build(source: str, flags: list[str] | None = None) -> tuple[str | None, str | None]:
    """Compile ``source`` (a file name next to this module): (path of the library, None) or
    (None, why not)."""
    cxx = compiler()
    if cxx is None:
        return None, "no C++ compiler (set CXX or install g++/clang++)"
    src_path = os.path.join(_HERE, source)
    flags = list(flags or ["-O2"])
    import jaxlib

    key = open(src_path, "rb").read() + " ".join([cxx, *flags, jaxlib.__version__, sys.platform, _cpu_id()]).encode()
    out = os.path.join(cache_dir(), f"{os.path.splitext(source)[0].lstrip('_')}-{hashlib.sha256(key).hexdigest()[:16]}.so")
    if os.path.exists(out):
        return out, None
    os.makedirs(cache_dir(), exist_ok=True)
    tmp = f"{out}.{os.getpid()}.tmp"
    cmd = [cxx, *flags, "-std=c++17", "-shared", "-fPIC", "-ffp-contract=off", "-fno-fast-math",
           "-I", jax.ffi.include_dir(), src_path, "-o", tmp]
    if "-pthread" not in cmd:
        cmd.append("-pthread")
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"C++ build failed: {exc}"
    if res.returncode != 0:
        return None, "C++ build failed: " + res.stderr[-2000:]
    os.replace(tmp, out)  # atomic: concurrent builders race harmlessly
    return out, None


def load(source: str, targets: dict[str, str], flags: list[str] | None = None, env_switch: str | None = None) -> bool:
    """Build ``source`` if needed and register its handlers (``{xla target name: C symbol}``) for the CPU
    platform, once per process. False (with the reason in :func:`error`) when it cannot be used: not a
    CPU backend, ``env_switch=0`` in the environment, or any build/load failure."""
    if env_switch and os.environ.get(env_switch, "1") == "0":
        return False
    if jax.default_backend() != "cpu":
        return False
    if source not in _LIBS:
        state: dict = {"lib": None}
        path, why = build(source, flags)
        if path is None:
            state["error"] = why
        else:
            try:
                lib = ctypes.CDLL(path)
                for target, symbol in targets.items():
                    jax.ffi.register_ffi_target(target, jax.ffi.pycapsule(getattr(lib, symbol)), platform="cpu")
                state["lib"] = lib
            except Exception as exc:  # noqa: BLE001 - any failure means: use the jax path
                state["error"] = f"loading {path} failed: {exc}"
        _LIBS[source] = state
    return _LIBS[source]["lib"] is not None


def error(source: str) -> str | None:
    """Why ``source`` could not be used (None: it loaded, or was never tried)."""
    return _LIBS.get(source, {}).get("error")
