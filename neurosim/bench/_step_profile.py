"""Where a synchronous Gibbs step goes: its parts timed alone (``neurosim bench throughput --profile``).

A synchronous step of R replicas × n spins on a small-integer graph (``BitSynapses``) is four parts:

* *random words + heat-bath test*: one hash per (replica, neuron) from the step word, σ(2f/T), compare;
* *pack*: the new ±1 spins into 32-bit words (strided layout);
* *popcount field*: Σ_p coef_p · popcount(B_p & X) for every (replica, neuron);
* *energy*: −½ Σ s (f + h) per replica.

Each part runs alone as a jitted loop of ``steps`` iterations on the step's own shapes (so XLA cannot
fuse it with the others), min over repeats; the whole step runs the same way. The parts' sum against
the whole says how much fusion saves; their shares say what bounds the step on this CPU — the figure
the closing note of issue 16 asks for when a ratio target is not met.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np


def _loop_time(fn, x0, steps: int, repeats: int) -> float:
    """Seconds per iteration of ``x = fn(x, t)`` run ``steps`` times inside one jit (min of repeats)."""
    run = jax.jit(lambda x: jax.lax.fori_loop(0, steps, lambda t, x: fn(x, t), x))
    jax.block_until_ready(run(x0))
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(run(x0))
        best = min(best, time.perf_counter() - t0)
    return best / steps


def synchronous_parts(problem, replicas: int = 1024, steps: int = 50, repeats: int = 5, seed: int = 0) -> list[dict]:
    """Rows ``{part, ms_per_step, share}`` for the synchronous Gibbs step of ``problem``."""
    import neurosim as ns
    from neurosim import random as nsr
    from neurosim._bitsynapses import BitSynapses, pack_bits
    from neurosim.models import Gibbs

    m = Gibbs(problem, mode="synchronous", temperature=1.0)
    if not isinstance(m.syn, BitSynapses):
        raise ValueError(f"{problem.name}: the synchronous step uses {type(m.syn).__name__}, not bit planes")
    keys = nsr.replica_keys(seed, np.arange(replicas, dtype=np.uint32))
    st = m.init(None, key=nsr.step_words(keys, 0, 1))
    T = jnp.float32(1.0)
    cnt = nsr.counters(m.n, 0)

    def test(s, t):
        b = nsr.bits(nsr.step_words(keys, t)[:, None], cnt)
        return m._accept(s, st.field, T, b)

    def pack(s, t):
        X = pack_bits(s > 0, m.syn.words)
        # depend on every word (a slice would let XLA compute only the words it keeps)
        return s ^ (jnp.bitwise_xor.reduce(X, axis=1, keepdims=True) & 1).astype(jnp.int8)

    X0 = pack_bits(st.s > 0, m.syn.words)

    def popcount(X, t):
        c = m.syn._counts(X)
        return X ^ (jnp.sum(c, axis=1, keepdims=True) & 1).astype(jnp.uint32)  # every count, not a slice

    def energy(f, t):
        e = m._energy_of(st.s.astype(jnp.float32), f)
        return f + e[:, None] * 0.0

    def whole(state, t):
        return m.step(state, t, key=nsr.step_words(keys, t))[0]

    rows = [
        ("random words + heat-bath test", _loop_time(test, st.s, steps, repeats)),
        ("pack spins into words", _loop_time(pack, st.s, steps, repeats)),
        ("popcount field", _loop_time(popcount, X0, steps, repeats)),
        ("energy", _loop_time(energy, st.field, steps, repeats)),
    ]
    total = _loop_time(whole, st, steps, repeats)
    parts = sum(t for _, t in rows)
    out = [{"graph": problem.name, "replicas": replicas, "part": name, "ms_per_step": t * 1e3, "share_of_parts": t / parts}
           for name, t in rows]
    out.append({"graph": problem.name, "replicas": replicas, "part": "whole step (fused)", "ms_per_step": total * 1e3,
                "share_of_parts": total / parts, "M_updates_per_s": replicas * m.n / total / 1e6})
    del ns
    return out
