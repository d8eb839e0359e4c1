"""NeuroSA's two threshold forms: the authors' code ln(B·U + ε) and the paper's printed log(U/B + ε).

Firing probabilities measured through the model's own threshold over 2^16 random words against the
closed forms min(1, (e^{g/T} − ε)/B) and min(1, B(e^{g/T} − ε))."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns
from neurosim.models import NeuroSA

B, EPS = 2.5, 1e-6


def _model(form):
    p = ns.MaxCut.from_graph(np.array([[0, 1], [1, 2]]), n=3)
    return NeuroSA(p, threshold_form=form)


@pytest.mark.parametrize("form", ["code", "paper"])
@pytest.mark.parametrize("gain_over_T", [-2.0, -0.5, 0.0, 0.5])
def test_firing_probability_matches_closed_form(form, gain_over_T):
    m = _model(form)
    words = jnp.asarray(np.random.default_rng(7).integers(0, 2**32, size=1 << 16, dtype=np.uint64).astype(np.uint32))
    T = jnp.float32(0.7)
    mu = np.asarray(m._threshold(T, words, None))
    p_meas = float(np.mean(gain_over_T * 0.7 > mu))
    e = math.exp(gain_over_T) - EPS
    p_true = min(1.0, e / B) if form == "code" else min(1.0, B * e)
    assert abs(p_meas - p_true) < 4 * math.sqrt(max(p_true * (1 - p_true), 1e-4) / (1 << 16)) + 1e-4


def test_neutral_move_fires_with_0_4_in_code_form_and_always_in_paper_form():
    words = jnp.arange(1 << 14, dtype=jnp.uint32) * jnp.uint32(262147)
    code = np.asarray(_model("code")._threshold(jnp.float32(1.0), words, None))
    paper = np.asarray(_model("paper")._threshold(jnp.float32(1.0), words, None))
    assert abs(np.mean(code < 0) - 0.4) < 0.02 and np.all(paper < 0)
    assert abs(code.mean() - (math.log(B) - 1)) < 0.05 and abs(paper.mean() - (-1 - math.log(B))) < 0.05


def test_bad_threshold_form_is_refused():
    p = ns.MaxCut.from_graph(np.array([[0, 1]]), n=2)
    with pytest.raises(ValueError, match="threshold_form"):
        NeuroSA(p, threshold_form="printed")
    with pytest.raises(ValueError, match="threshold_form"):
        NeuroSA(p, threshold_form="paper", noise="gaussian")
