"""A probabilistic-bit (p-bit) neuron with a chip path: ``m_i = sgn(tanh(I_i / T) − u)``, u ~ U(−1, 1).

``P(m_i = +1) = P(u < tanh(I_i/T)) = σ(2 I_i / T)``, so a p-bit is a heat-bath (Glauber) update
on the input ``I_i = Σ_j J_ij m_j + h_i``; one random p-bit per step (random scan) samples the
Boltzmann distribution at temperature T. The model is written once; the chip layer
(``self.chip``) supplies the arithmetic: float32 under ``hardware=None`` and ``SPINNAKER2``, int8
couplings, integer inputs and an exp-free test (a logistic threshold from a 24-bit random
integer) under ``LOIHI2``. Walkthrough: docs/adding_a_model.md.

    python examples/pbit_chip.py      # anneals a 12-node Max-Cut under all three settings
"""

import equinox as eqx
import jax.numpy as jnp
import numpy as np

import neurosim as ns
from neurosim import random as nsr
from neurosim.hardware import ChipLayer, chip_layer
from neurosim.schedules import AbstractSchedule, Constant


class PBit(ns.AbstractModel):
    syn: ns.AbstractSynapses
    h: jnp.ndarray
    schedule: AbstractSchedule
    hardware: object = eqx.field(static=True)
    chip: ChipLayer = eqx.field(static=True)
    offset: float = eqx.field(static=True)
    _n: int = eqx.field(static=True)
    native = "ising"

    def __init__(self, problem, *, schedule: AbstractSchedule = Constant(1.0), hardware=None):
        ising = problem.to_ising()
        self.hardware, self._n, self.offset, self.schedule = hardware, ising.n, float(ising.offset), schedule
        # maps onto cores (refusing what does not fit), quantises J and h under an integer chip
        self.chip = chip_layer(hardware, ising.J, ising.h, updates="one")
        self.syn = ns.synapses(self.chip.weights(ising.J), format="dense", dtype=jnp.float32)  # exact integers on Loihi 2
        self.h = jnp.asarray(self.chip.biases(ising.h), jnp.float32)

    @property
    def n(self):
        return self._n

    def init(self, states, *, key):
        return self.random_states(key) if states is None else states

    def read(self, state):
        return state

    def energy(self, m):
        mf = m.astype(jnp.float32)
        e = -0.5 * jnp.sum(mf * self.syn.field(mf), axis=-1) - mf @ self.h  # weight units on an integer chip
        return e * jnp.float32(1.0 / self.chip.scale) + jnp.float32(self.offset)

    def step(self, m, t, *, key):
        R = m.shape[0]
        i = nsr.randint(nsr.bits(key, np.uint32(1)), self._n)  # one p-bit per replica and step
        I = self.syn.local_field(m, i) + self.h[i]
        I = I.astype(self.chip.state_dtype)  # int32 on an integer chip (exact), float32 otherwise
        up = self.chip.heat_bath(2 * I, self.schedule(t), nsr.bits(key, np.uint32(2)))  # P = σ(2I/T)
        m = m.at[jnp.arange(R), i].set(jnp.where(up, 1, -1).astype(jnp.int8))
        return m, {"energy": self.energy(m)}


def main():
    from neurosim.hardware import LOIHI2, SPINNAKER2
    from neurosim.schedules import Geometric

    rng = np.random.default_rng(0)
    A = np.triu(rng.random((12, 12)) < 0.4, 1).astype(float)
    g = ns.MaxCut.from_graph(A + A.T, name="pbit-demo")
    best = -ns.brute_force(g)[0]
    for hw in (None, LOIHI2, SPINNAKER2):
        model = PBit(g, schedule=Geometric.anneal(3.0, 0.05, 4000), hardware=hw)
        res = ns.run(model, g, steps=4000, replicas=16, seed=0)
        traffic = res.mapping["measured"]["cross_core_packets_per_step"] if res.mapping else None
        print(f"{'none' if hw is None else hw.name:10s} best cut {res.report['cut'].max():.0f} of {best:.0f}; "
              f"quantisation: {model.chip.report() if hw else '-'}; packets/step {traffic}")


if __name__ == "__main__":
    main()
