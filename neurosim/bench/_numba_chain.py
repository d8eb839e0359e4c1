"""NeuroSA random scan as a plain compiled loop (numba, one core): the single-chain reference of
``neurosim bench neurosa --part speed`` (issue 16).

Same algorithm and the same random numbers as neurosim's jax path for the same seed (one replica,
shared site sequence): the initial spins, every iteration's site and threshold word come from the
same hashes (``neurosim.random``: threefry only for the two key words, computed once by JAX), the
Fowler–Nordheim temperature and ``μ = T ln(B·U + ε)`` are evaluated in float32. Written the way a
hand-written loop would be: the membrane potentials of all pairs are kept and updated from the
flipped pair's row (O(degree) per *flip*), not re-summed per test as the jax path does. With integer
couplings both give the same float32 fields exactly, so the chain matches neurosim's bit for bit
unless numba's float32 ``log``/``log1p`` differ from XLA's in the last place (tests/test_fastchain.py
compares the energy trajectories). numba is a ``bench`` extra: without it :func:`available` is False.
"""

from __future__ import annotations

import time

import numpy as np

try:
    import numba
except ImportError:  # the bench extra is not installed
    numba = None

_GOLDEN = 0x9E3779B9
_SALT1 = 0x632BE5AB


def available() -> bool:
    return numba is not None


def _kernels():
    """Compile (once) and return the numba loop."""
    if "chain" in _CACHE:
        return _CACHE["chain"]
    nj = numba.njit(cache=False, nogil=True)
    u32 = np.uint32

    @nj
    def triple32(x):
        x = u32(x)
        x ^= x >> u32(17)
        x = u32(x * u32(0xED5AD4BB))
        x ^= x >> u32(11)
        x = u32(x * u32(0xAC4C1B51))
        x ^= x >> u32(15)
        x = u32(x * u32(0x31848BAB))
        x ^= x >> u32(14)
        return x

    @nj
    def step_word(k0, k1, t):
        a = triple32(u32(k1 + u32(u32(t) * u32(_GOLDEN))))
        return triple32(u32(k0) ^ a)

    @nj
    def randint(b, n):  # neurosim.random.randint, n ≤ 2^16
        hi = b >> u32(16)
        lo = b & u32(0xFFFF)
        return np.int64((u32(hi * u32(n)) + (u32(lo * u32(n)) >> u32(16))) >> u32(16))

    @nj
    def chain(s, u, energy, nb, w, deg, keys, site_key, t_start, steps, T0, C, t0, delta, B, eps, every, traj):
        """``steps`` iterations from ``t_start``; s (n,) int8, u (n,) float32 fields, in place.
        Writes the energy after every ``every``-th iteration to ``traj``; returns the energy."""
        n = s.shape[0]
        e = np.float32(energy)
        half, scale = np.float32(0.5), np.float32(2.0**-24)
        for k in range(steps):
            t = t_start + k
            i = randint(triple32(step_word(site_key[0], site_key[1], t)), n)
            b1 = step_word(keys[0], keys[1], t)
            U = (np.float32(b1 >> u32(8)) + half) * scale
            T = T0 / np.log1p((t0 + np.float32(t) * delta) / C)
            mu = T * np.log(U * B + eps)
            gain = -np.float32(s[i]) * u[i]
            if gain > mu:
                s[i] = -s[i]
                d = np.float32(2 * s[i])
                for q in range(deg[i]):
                    j = nb[i, q]
                    u[j] += w[i, q] * d
                e = e - gain
            if (k + 1) % every == 0:
                traj[(k + 1) // every - 1] = e
        return e

    _CACHE["chain"] = chain
    return chain


_CACHE: dict = {}


def run_chain(model, steps: int, *, seed: int = 0, every: int | None = None):
    """Run one NeuroSA chain of ``model`` (random scan, shared sites, FN schedule, exponential noise)
    for ``steps`` iterations with neurosim's random numbers for ``seed``. Returns a dict with the final
    spins (n,) int8, the energy every ``every`` iterations (float32, as the model tracks it), the final
    energy and the seconds of the loop (compile excluded: the loop is compiled and run once first)."""
    from neurosim import random as nsr
    from neurosim.schedules import FowlerNordheim

    if not available():
        raise RuntimeError("numba is not installed (pip install 'neurosim[bench]')")
    if model.mode != "random_scan" or model.sites != "shared" or model.noise != "exponential":
        raise ValueError("the numba reference covers random_scan, shared sites, exponential noise")
    if not isinstance(model.schedule, FowlerNordheim):
        raise ValueError("the numba reference covers the Fowler-Nordheim schedule only")
    if model.n > 1 << 16:
        raise ValueError(f"the numba reference draws sites for n ≤ 65536, got n={model.n}")
    keys = nsr.replica_keys(seed, np.arange(1, dtype=np.uint32))
    st = model.init(None, key=nsr.step_words(keys, 0, salt=1))  # the engine's initial state
    s0 = np.asarray(st.s)[:, 0].astype(np.int8)
    u0 = np.asarray(model._full_field(st.s))[:, 0].astype(np.float32)
    e0 = np.float32(np.asarray(st.energy)[0])
    tab = model.table
    nb, w, deg = np.asarray(tab.nb), np.asarray(tab.w), np.asarray(tab.deg)
    k = np.asarray(keys[0], dtype=np.uint32)
    sk = np.asarray(model.site_key, dtype=np.uint32)
    sch = model.schedule
    consts = [np.float32(np.asarray(x)) for x in (sch.T0, sch.C, sch.t0, sch.delta)] + [np.float32(model.B), np.float32(model.eps)]
    every = int(every or steps)
    chain = _kernels()
    warm = np.zeros(1, np.float32)
    chain(s0.copy(), u0.copy(), e0, nb, w, deg, k, sk, 0, 1, *consts, 1, warm)  # compile
    s, u = s0.copy(), u0.copy()
    traj = np.zeros(steps // every, np.float32)
    t = time.perf_counter()
    e = chain(s, u, e0, nb, w, deg, k, sk, 0, int(steps), *consts, every, traj)
    dt = time.perf_counter() - t
    return {"state": s, "energy": np.float32(e), "trajectory": traj, "seconds": dt, "it_s": steps / dt}
