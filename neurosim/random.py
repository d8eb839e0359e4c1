"""Counter-based random numbers for the simulator's hot loop.

Each replica gets two 32-bit key words from JAX's threefry, ``fold_in(PRNGKey(seed), replica_id)``,
once per run. Each step mixes them with the step index into one 32-bit *step word* per replica
(:func:`step_words`). Inside a step, the number for neuron ``i`` of stream ``k`` is
``mix(word ^ c[k, i])`` where ``c[k, i] = lowbias32(i + k·2^24)`` is a trace-time constant and
``mix`` is Wellons' ``triple32`` integer hash (a bijection of uint32 with very low avalanche bias).

Why not ``jax.random`` per number: threefry costs ~60 integer ops per 32-bit word; this costs ~12,
and random-number generation is the bottleneck of sparse Ising steps. The construction keeps the
properties the engine needs: numbers depend only on ``(seed, replica_id, step, stream, neuron)``, so
results do not depend on how many replicas run, how they are batched/sharded or how a run is
chunked. Statistical checks are in ``tests/test_random.py``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

_GOLDEN = np.uint32(0x9E3779B9)
_STREAM_SHIFT = 24  # streams are 2^24 counters apart: n ≤ 16.7M neurons per stream


def _u32(x):
    return jnp.asarray(x, dtype=jnp.uint32)


# xorshift-multiply hashes (Wellons, "Prospecting for hash functions"): (shift, multiplier, …, shift)
_LOWBIAS32 = (16, 0x7FEB352D, 15, 0x846CA68B, 16)
_TRIPLE32 = (17, 0xED5AD4BB, 11, 0xAC4C1B51, 15, 0x31848BAB, 14)


def _hash(x, consts, u32):
    """Apply xorshift/multiply rounds to uint32 ``x``; ``u32`` makes a uint32 scalar of the array library."""
    for k, c in enumerate(consts):
        x = x ^ (x >> u32(c)) if k % 2 == 0 else x * u32(c)
    return x


def lowbias32(x):
    """Wellons' lowbias32 hash (bijective on uint32)."""
    return _hash(_u32(x), _LOWBIAS32, jnp.uint32)


def triple32(x):
    """Wellons' triple32 hash (bijective on uint32; lower bias than lowbias32)."""
    return _hash(_u32(x), _TRIPLE32, jnp.uint32)


def lowbias32_np(x) -> np.ndarray:
    """:func:`lowbias32` in numpy (host-side constants, independent references)."""
    with np.errstate(over="ignore"):
        return _hash(np.asarray(x, dtype=np.uint32), _LOWBIAS32, np.uint32)


def triple32_np(x) -> np.ndarray:
    """:func:`triple32` in numpy."""
    with np.errstate(over="ignore"):
        return _hash(np.asarray(x, dtype=np.uint32), _TRIPLE32, np.uint32)


def counters(n: int, stream: int = 0) -> np.ndarray:
    """Per-neuron constants ``c[stream, i]`` (numpy uint32, so they fold into the compiled step)."""
    if not 0 <= stream < 256:
        raise ValueError(f"stream must be in 0..255, got {stream}")
    if n > (1 << _STREAM_SHIFT):
        raise ValueError(f"at most {1 << _STREAM_SHIFT} counters per stream, asked for {n}")
    return lowbias32_np(np.arange(n, dtype=np.uint32) + np.uint32(stream << _STREAM_SHIFT))


SEED_LIMIT = 2**64


def check_seed(seed) -> int:
    """A seed is an integer in [0, 2^64); anything else (a bool, 1.5, a negative number) is refused."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer in [0, 2^64), got {seed!r}")
    if not 0 <= int(seed) < SEED_LIMIT:
        raise ValueError(f"seed must be an integer in [0, 2^64), got {seed}")
    return int(seed)


def replica_keys(seed: int, replica_ids) -> jax.Array:
    """``uint32[R, 2]`` key words of each replica: threefry ``fold_in(PRNGKey(seed), id)``.

    Seeds ≥ 2^32 fold their high word into the key after a marker fold, so ``seed = 2^32 + k`` does
    not alias ``seed = k`` (it did when seeds were taken modulo 2^32); seeds below 2^32 keep the keys
    they always had."""
    seed = check_seed(seed)
    ids = jnp.asarray(replica_ids, dtype=jnp.uint32)
    return _replica_keys(np.uint32(seed & 0xFFFFFFFF), np.uint32(seed >> 32), ids, wide=bool(seed >> 32))


@functools.partial(jax.jit, static_argnames="wide", compiler_options={"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True})
def _replica_keys(lo, hi, ids, *, wide: bool):
    # One compiled function: run eagerly, the threefry seed and folds dispatch (and, in a fresh
    # process, compile) a handful of separate kernels before a run's first step. ``wide`` is static
    # so that the usual seed < 2^32 compiles one threefry hash, not three. It runs once per run, so
    # LLVM's cheap settings (0.13 vs 0.22 CPU-s of compile; integer ops, the same keys).
    base = jax.random.PRNGKey(lo)
    if wide:
        base = jax.random.fold_in(jax.random.fold_in(base, 0x5EED5EED), hi)
    return jax.vmap(lambda r: jax.random.fold_in(base, r))(ids).astype(jnp.uint32)


def step_words(keys, step, salt: int = 0) -> jax.Array:
    """One uint32 word per replica for step ``step`` (``keys``: ``uint32[R, 2]``).

    ``salt`` separates non-step uses (initial states use ``salt=1``)."""
    step = jnp.asarray(step).astype(jnp.uint32)
    a = triple32(keys[..., 1] + step * _GOLDEN + jnp.uint32(salt) * jnp.uint32(0x632BE5AB))
    return triple32(keys[..., 0] ^ a)


def bits(word, c) -> jax.Array:
    """Random uint32s ``mix(word ^ c)``; ``word`` and counters ``c`` broadcast against each other.

    Typical use: ``bits(word[:, None], counters(n, k))`` → ``uint32[R, n]``.
    """
    return triple32(_u32(word) ^ _u32(c))


def to_uniform(b, dtype=jnp.float32) -> jax.Array:
    """uint32 → uniform in (0, 1) on the 2^-24 grid (the top 24 bits, offset by half a step so that
    0 and 1 are never returned — log(u) is always finite)."""
    return ((b >> 8).astype(dtype) + dtype(0.5)) * dtype(2.0**-24)


def uniform(word, c, dtype=jnp.float32) -> jax.Array:
    return to_uniform(bits(word, c), dtype)


def to_normal(b1, b2, dtype=jnp.float32) -> jax.Array:
    """Standard normals from two uint32 streams (Box–Muller, cosine branch)."""
    u1 = to_uniform(b1, dtype)
    u2 = to_uniform(b2, dtype)
    return jnp.sqrt(dtype(-2.0) * jnp.log(u1)) * jnp.cos(dtype(2.0 * np.pi) * u2)


def randint(b, n: int) -> jax.Array:
    """Uniform integers in [0, n) from uint32s ``b`` (``n`` a Python int).

    n ≤ 2^16: exact multiply-shift ``floor(b·n / 2^32)`` computed in 32-bit halves (bias < n/2^32).
    Larger n: ``floor(u·n)`` from the top 24 bits (bias < n/2^24)."""
    n = int(n)
    if n <= 0:
        raise ValueError(f"randint needs n > 0, got {n}")
    if n <= 1 << 16:
        nn = jnp.uint32(n)
        hi = b >> 16
        lo = b & jnp.uint32(0xFFFF)
        return ((hi * nn + ((lo * nn) >> 16)) >> 16).astype(jnp.int32)
    u = (b >> 8).astype(jnp.float32) * jnp.float32(2.0**-24)
    return jnp.minimum((u * jnp.float32(n)).astype(jnp.int32), n - 1)
