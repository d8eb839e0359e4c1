"""Ocean (dimod) interop: a ``dimod.Sampler`` running neurosim models, and BQM conversion.

Needs the ``ocean`` extra (``pip install 'neurosim[ocean]'``); ``import neurosim`` does not.

    >>> import dimod
    >>> from neurosim.ocean import NeurosimSampler
    >>> sampleset = NeurosimSampler().sample_qubo({("a", "a"): -1, ("a", "b"): 2, ("b", "b"): -1}, num_reads=4)
    >>> sampleset.first.energy
    -1.0

Each read is one replica of one run; its sample is the best state that replica visited, in the
BQM's own variables and vartype, and its energy is recomputed by dimod from the BQM.
"""

from __future__ import annotations

import inspect

import numpy as np

from ._ocean_bqm import _dimod, from_bqm, problem_vartype, to_bqm
from ._ocean_run import default_steps, run_bqm

dimod = _dimod()

__all__ = ["NeurosimSampler", "default_steps", "from_bqm", "problem_vartype", "to_bqm"]

_RUN_PARAMETERS = ("model", "hardware", "num_reads", "steps", "seed")


def _model_parameters() -> dict:
    """Constructor parameters of every registered model (the sampler passes them through)."""
    from neurosim.models import MODELS

    out: dict = {}
    for name, cls in sorted(MODELS.items()):
        for p in inspect.signature(cls.__init__).parameters:
            if p not in ("self", "problem", "hardware", "steps", "horizon"):
                out.setdefault(p, []).append(name)
    return out


class NeurosimSampler(dimod.Sampler):
    """A dimod sampler running a neurosim model (``model=``: a name in ``neurosim.models.MODELS`` or a
    model class) on the BQM, optionally under a chip profile (``hardware=``: name or profile).

    Keyword arguments given here are defaults for every :meth:`sample` call; a call's own keywords
    override them. ``num_reads`` is the number of replicas; ``steps`` defaults to
    :func:`default_steps` (enough sweeps for the model's update rule to anneal); ``seed`` (default:
    fresh) fixes the run; any other keyword is a parameter of the model (e.g. ``mode=``,
    ``T_start=``). Annealing models lay their schedule out over the run's ``steps``.
    """

    def __init__(self, model="sa", hardware=None, **defaults):
        self._defaults = dict(defaults, model=model, hardware=hardware)
        self._parameters = {name: [] for name in _RUN_PARAMETERS}
        self._parameters.update({name: ["models"] for name in _model_parameters()})
        unknown = [k for k in defaults if k not in self._parameters]
        if unknown:
            raise ValueError(f"NeurosimSampler has no parameter(s) {unknown}; it accepts: {', '.join(self._parameters)}")

    @property
    def parameters(self) -> dict:
        return self._parameters

    @property
    def properties(self) -> dict:
        from neurosim.hardware import PROFILES
        from neurosim.models import MODELS

        return {"models": tuple(sorted(MODELS)), "hardware": tuple(sorted(PROFILES)), "defaults": dict(self._defaults)}

    def sample(self, bqm, **parameters):
        """Sample ``bqm``: a ``dimod.SampleSet`` with ``num_reads`` rows (each replica's best state) and
        ``info`` = ``timing`` (seconds: compile, run), ``device``, ``hardware``, ``mapping``, ``model``,
        ``params``, ``steps``, ``seed``."""
        kwargs = self.remove_unknown_kwargs(**parameters)
        merged = {**self._defaults, **kwargs}
        run = {k: merged.pop(k) for k in _RUN_PARAMETERS if k in merged}
        return run_bqm(bqm, model_params=merged, **run)
