"""The compiled part of a run: one jitted segment advancing many steps, and the cache of compiled segments.

A segment is a ``lax.scan`` over records, each a ``fori_loop`` over capture blocks, each a
``fori_loop`` over steps (see ``neurosim/_run.py``). Compiled segments are kept and reused by later
runs of a model with the same static structure.
"""

from __future__ import annotations

import collections
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from . import random as nsr
from ._saveat import SaveAt


class _Carry(eqx.Module):
    state: Any
    best_e: jax.Array
    best_s: jax.Array


def _leaf_zeros(sds):
    return jnp.zeros(sds.shape, sds.dtype)


def _acc_dtype(dtype):
    return jnp.int32 if jnp.issubdtype(dtype, jnp.integer) or dtype == jnp.bool_ else jnp.float32


def _capture(model, state, energy, best_e, best_s):
    better = energy < best_e

    def take(args):
        be, bs = args
        s = model.read(state)
        return jnp.where(better, energy, be), jnp.where(better[:, None], s, bs)

    return jax.lax.cond(jnp.any(better), take, lambda a: a, (best_e, best_s))


def _make_segment(static_model, save: SaveAt, *, n_rec: int, stride: int, block: int, tail: int, final_capture: bool):
    """Build the jitted function advancing ``n_rec·stride + tail`` steps from global step ``t0``."""
    last_names = tuple(dict.fromkeys(("energy",) + tuple(n for n in save.what if n not in ("state", "best_energy"))))
    sum_names = save.sum

    def steps(model, carry, outs, sums, t_start, nsteps, keys):
        # A model may advance many steps in one fused kernel (NeuroSA, one replica: _fastchain.py;
        # Gibbs shared-site scan: _fastscan.py)
        # when nothing but the energy is recorded; it returns None where it has none.
        fused = getattr(model, "fused_steps", None)
        if fused is not None and not sum_names and last_names == ("energy",):
            res = fused(carry.state, t_start, nsteps, keys)
            if res is not None:
                return _Carry(res[0], carry.best_e, carry.best_s), {"energy": res[1]}, sums

        def body(j, c):
            state, outs, sums = c
            t = t_start + j
            state, o = model.step(state, t, key=nsr.step_words(keys, t))
            outs = {k: o[k] for k in last_names}
            sums = {k: sums[k] + o[k].astype(sums[k].dtype) for k in sum_names}
            return state, outs, sums

        state, outs, sums = jax.lax.fori_loop(0, nsteps, body, (carry.state, outs, sums))
        return _Carry(state, carry.best_e, carry.best_s), outs, sums

    def blocks(model, carry, outs, sums, t_start, n_blocks, keys):
        def body(b, c):
            carry, outs, sums = c
            carry, outs, sums = steps(model, carry, outs, sums, t_start + b * block, block, keys)
            be, bs = _capture(model, carry.state, outs["energy"], carry.best_e, carry.best_s)
            return _Carry(carry.state, be, bs), outs, sums

        return jax.lax.fori_loop(0, n_blocks, body, (carry, outs, sums))

    def segment(dyn_model, carry, t0, keys, outs0, sums0):
        model = eqx.combine(dyn_model, static_model)

        def record(c, k):
            carry, outs = c
            sums = {name: jnp.zeros_like(v) for name, v in sums0.items()}
            carry, outs, sums = blocks(model, carry, outs, sums, t0 + k * stride, stride // block, keys)
            y = {name: outs[name] for name in save.what if name not in ("state", "best_energy")}
            y.update({name: sums[name] for name in sum_names})
            if "state" in save.what:
                y["state"] = model.read(carry.state)
            if "best_energy" in save.what:
                y["best_energy"] = carry.best_e
            if save.fn is not None:
                y["fn"] = save.fn(carry.state, outs)
            return (carry, outs), y

        fused = getattr(model, "fused_blocks", None)  # many blocks in one kernel (see steps above)
        res = None
        if fused is not None and n_rec and not sum_names and set(save.what) <= {"energy"} and save.fn is None:
            res = fused(carry.state, carry.best_e, carry.best_s, t0, n_rec * (stride // block), block, keys)
        if res is not None:
            state, be, bs, e_blocks = res
            carry, outs = _Carry(state, be, bs), {"energy": state.energy}
            per = stride // block  # a record is taken after every `per` blocks
            e_blocks = e_blocks.reshape(e_blocks.shape[0], -1)  # (blocks, R); one-replica kernels give (blocks,)
            ys = {"energy": e_blocks[per - 1::per]} if "energy" in save.what else {}
        else:
            (carry, outs), ys = jax.lax.scan(record, (carry, outs0), jnp.arange(n_rec, dtype=jnp.int32))
        if tail:
            sums = {name: jnp.zeros_like(v) for name, v in sums0.items()}
            t_tail = t0 + n_rec * stride
            full = tail // block
            carry, outs, sums = blocks(model, carry, outs, sums, t_tail, full, keys)
            rest = tail - full * block
            if rest:
                carry, outs, sums = steps(model, carry, outs, sums, t_tail + full * block, rest, keys)
        if final_capture:
            be, bs = _capture(model, carry.state, outs["energy"], carry.best_e, carry.best_s)
            carry = _Carry(carry.state, be, bs)
        return carry, outs, ys

    return jax.jit(segment, donate_argnums=(1,))


# Compiled chunk functions, reused by later runs of a model with the same static structure (the same
# model class, options and shapes; array values are arguments): a warm-started or repeated run
# pays no compile time. Keyed by the static part of the model, the recording spec, the chunk layout
# and the shapes, dtypes and shardings of every argument.
_COMPILED: collections.OrderedDict = collections.OrderedDict()
_COMPILED_MAX = 32


def _cache_key(static_model, save, sig, stride, block, args):
    try:
        avals = tuple((tuple(x.shape), str(x.dtype), getattr(x, "sharding", None)) for x in jax.tree_util.tree_leaves(args))
        key = (type(static_model), static_model, save, sig, stride, block, jax.tree_util.tree_structure(args), avals)
        hash(key)
        return key
    except TypeError:  # something unhashable in the model's static fields: compile afresh
        return None


def compiled_segment(static_model, save: SaveAt, sig: tuple, *, stride: int, block: int, args) -> tuple[Any, float]:
    """The compiled segment for chunk signature ``sig = (n_rec, tail, final_capture)`` and these
    arguments, from the cache or freshly compiled; returns ``(fn, seconds spent compiling)``."""
    import time

    key = _cache_key(static_model, save, sig, stride, block, args)
    if key is not None and key in _COMPILED:
        _COMPILED.move_to_end(key)
        return _COMPILED[key], 0.0
    n_rec, tail, final = sig
    fn = _make_segment(static_model, save, n_rec=n_rec, stride=stride, block=block, tail=tail, final_capture=final)
    t0 = time.perf_counter()
    compiled = fn.lower(*args).compile()
    seconds = time.perf_counter() - t0
    if key is not None:
        _COMPILED[key] = compiled
        while len(_COMPILED) > _COMPILED_MAX:
            _COMPILED.popitem(last=False)
    return compiled, seconds
