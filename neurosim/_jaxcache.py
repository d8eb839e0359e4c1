"""JAX's persistent compilation cache, switched on at import under a user cache folder.

A fresh process compiles every function a run needs (the chunk loop, the step-0 carry, a few
host-side conversions): on the 2-core CPU that is most of the time to a first result. With the
cache, a later process with the same computations loads them from disk instead (issue 13, "a fast
first result"; figures in docs/benchmarks.md, ``neurosim bench latency``).

Correctness rests on JAX's cache key, which hashes the computation, the compile options, the
jax/jaxlib versions, the backend and its version, the devices and ``XLA_FLAGS``. It does not hash
the host CPU, yet XLA:CPU compiles for the CPU it runs on, so a cache folder shared by machines with
different instruction sets (a home directory on a cluster) could hand one machine code for
another's. The folder name therefore carries the jax version and a digest of the CPU's feature
flags: ``$XDG_CACHE_HOME/neurosim/jax-<version>-<cpu digest>`` (``~/.cache`` by default).

Nothing changes when the user configured a cache already (``jax_compilation_cache_dir`` /
``JAX_COMPILATION_CACHE_DIR``), or when ``NEUROSIM_COMPILATION_CACHE=0``;
``NEUROSIM_COMPILATION_CACHE=/some/dir`` chooses the folder. The folder is not capped (a 100-node run of
each model adds ~1 MB; delete it at will): JAX's size cap (``jax_compilation_cache_max_size``) needs the
``filelock`` package and its eviction races with other processes writing the same folder (measured here:
"Error writing persistent compilation cache entry ... -atime: FileNotFoundError" warnings with parallel runs).
"""

from __future__ import annotations

import hashlib
import os
import platform

ENV = "NEUROSIM_COMPILATION_CACHE"


def _cpu_digest() -> str:
    """Short digest of what XLA:CPU compiles for: machine, CPU model flags and any ISA cap in XLA_FLAGS."""
    flags = ""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.split(":", 1)[0].strip().lower() in ("flags", "features"):
                    flags = " ".join(sorted(line.split(":", 1)[1].split()))
                    break
    except OSError:
        flags = platform.processor()
    text = f"{platform.machine()}|{flags}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def default_dir() -> str:
    import jax

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "neurosim", f"jax-{jax.__version__}-{_cpu_digest()}")


def enable() -> str | None:
    """Point JAX's persistent cache at neurosim's folder (see module docstring). Returns the folder,
    or None when the cache was left alone."""
    import jax

    choice = os.environ.get(ENV, "1")
    if choice == "0" or os.environ.get("JAX_COMPILATION_CACHE_DIR") or jax.config.jax_compilation_cache_dir:
        return None
    path = default_dir() if choice in ("", "1") else choice
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:  # read-only home or similar: run uncached rather than fail
        return None
    jax.config.update("jax_compilation_cache_dir", path)
    # Cache every compilation: the small ones (a conversion, the step-0 carry) cost 20-100 ms each to
    # compile and ~1 ms to load.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    return path
