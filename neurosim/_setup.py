"""A run's step-0 carry computed by one compiled function (part of "a fast first result", issue 13).

Run eagerly, ``model.init`` plus the carry's best-energy/best-state buffers dispatch 30–60 small
operations, and in a fresh process each distinct one is compiled on its own by XLA (~20–50 ms each
on the 2-core CPU): 1–3 s before the first step of a 100-node problem. Traced into one function
they compile once (~0.1 s). Compiled functions are kept per static model structure (like the
chunk functions in ``_segment``), so repeated runs reuse them.
"""

from __future__ import annotations

import collections

import equinox as eqx
import jax
import jax.numpy as jnp

from . import random as nsr
from ._segment import _Carry

_JITTED: collections.OrderedDict = collections.OrderedDict()
_JITTED_MAX = 32

#: The step-0 carry runs once per run: LLVM's cheap settings compile it ~40 % faster (Gibbs on a
#: 100-node graph: 0.57 vs 0.91 CPU-s) and its run time does not matter. Integer arithmetic is exact
#: either way; float results are IEEE operations in both.
ONE_OFF = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}


def _carry0(model, keys, states0):
    state = model.init(states0, key=nsr.step_words(keys, 0, salt=1))
    carry = _Carry(state, jnp.full((keys.shape[0],), jnp.inf, jnp.float32), model.read(state))
    # The carry is donated to each chunk: every leaf gets its own buffer (read() may alias the state).
    return jax.tree_util.tree_map(lambda x: jnp.array(x, copy=True), carry)


def _jitted(static_model):
    def fn(dyn_model, keys, states0):
        return _carry0(eqx.combine(dyn_model, static_model), keys, states0)

    try:
        key = (type(static_model), static_model)
        hash(key)
    except TypeError:  # unhashable static fields: compile for this run only
        return jax.jit(fn, compiler_options=ONE_OFF)
    if key not in _JITTED:
        _JITTED[key] = jax.jit(fn, compiler_options=ONE_OFF)
        while len(_JITTED) > _JITTED_MAX:
            _JITTED.popitem(last=False)
    _JITTED.move_to_end(key)
    return _JITTED[key]


def initial_carry(model, keys, states0) -> _Carry:
    """The loop carry at step 0: ``model.init`` from the init words of step 0 (salt 1), best
    energies +inf and best states = the initial states; computed by one compiled call."""
    dyn_model, static_model = eqx.partition(model, eqx.is_array)
    return _jitted(static_model)(dyn_model, keys, states0)


def initial_state_shape(model, keys, states0):
    """Shapes of ``model.init``'s state, traced by the same compiled function as :func:`initial_carry`
    (JAX keeps the trace, so the model's init is traced once per run, not twice)."""
    dyn_model, static_model = eqx.partition(model, eqx.is_array)
    return _jitted(static_model).eval_shape(dyn_model, keys, states0).state
