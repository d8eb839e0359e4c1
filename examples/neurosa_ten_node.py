"""NeuroSA on a 10-node Max-Cut graph: both ground states by enumeration, distance of the network
state to each over time, the ON/OFF spike raster and the PCA trajectory (paper Fig. 1).

    python examples/neurosa_ten_node.py            # ~20 s
    python examples/neurosa_ten_node.py --steps 200000
"""

import argparse
import os

import networkx as nx
import numpy as np

import neurosim as ns
from neurosim import analysis, plot
from neurosim.models import NeuroSA

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=40_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(os.getcwd(), "neurosim-examples"),
                    help="where figures are written (docs/figures to re-record the docs)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    graph = nx.gnm_random_graph(10, 22, seed=1)  # connected; exactly two ground states
    p = ns.MaxCut.from_graph(graph, name="10-node")
    e0, ground, _ = ns.brute_force(p)
    print(f"max cut {-e0:g}; ground states by enumeration:\n{ground}")

    # The published annealer compressed in time so that the run ends at T ≈ 0.5 (still hot enough to
    # hop between the two ground states s and −s, as in the paper's Fig. 1).
    steps = args.steps
    delta = 2e-3 * 1e8 / steps * 0.3
    model = NeuroSA(p, delta=delta)
    save = ns.SaveAt(every=1, what=("state", "event", "site", "energy"))
    r = ns.run(model, p, steps=steps, replicas=1, seed=args.seed, save=save)
    states = r.records["state"][:, 0]
    d = analysis.hamming(states, ground)
    at_ground = np.isclose(r.records["energy"][:, 0], e0)
    visits = {k: int(np.sum(d[:, k] == 0)) for k in range(len(ground))}
    print(f"best cut {r.report['cut'][0]:g}; steps spent in each ground state: {visits}; "
          f"fraction of time in a ground state {at_ground.mean():.2f}")

    t = r.record_steps
    fig = plot.distance_trace(t, d, labels=["to s*", "to −s*"], title="10-node graph: Hamming distance to the two ground states")
    fig.savefig(os.path.join(args.out, "neurosa_10node_distance.png"), dpi=120)

    on, off = analysis.events_to_spikes(r.records["site"][:, 0], r.records["event"][:, 0], p.n)
    tail = slice(0, min(steps, 4000))
    fig = plot.raster(on[tail], off[tail], times=t[tail], title="10-node graph: ON (red) / OFF (blue) spikes, first iterations")
    fig.savefig(os.path.join(args.out, "neurosa_10node_raster.png"), dpi=120)

    width = max(20, steps // 400)
    scores, centres, explained = analysis.pca_trajectory(on + off, width, max(1, width // 4), times=t)
    fig = plot.pca_trajectory_3d(scores, centres, explained=explained, title="10-node graph: PCA of binned spikes")
    fig.savefig(os.path.join(args.out, "neurosa_10node_pca.png"), dpi=120)
    print(f"figures written to {os.path.abspath(args.out)}")


if __name__ == "__main__":
    main()
