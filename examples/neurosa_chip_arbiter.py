"""What SpiNNaker2's cross-PE arbiter does to NeuroSA's quality, against the uniform global arbiter.

Arbiter mode (every pair tests each iteration, one firing pair flips), published constants with the
annealer laid over ``--steps`` iterations, 8 replicas, seed 0, on G1 and G15:

* ``uniform``: hardware=None, the pair is chosen uniformly among all firing pairs;
* ``spinnaker2``: the hierarchy, PE picks uniformly among its candidates, the system uniformly among PEs
  with a candidate, pairs on PEs as the SPINNAKER2 mapping puts them (96 KB per PE);
* ``spinnaker2, 16 pairs/PE``: the same with at most 16 pairs per PE (50 PEs), where the hierarchy is
  far from uniform (a lone candidate on a quiet PE is as likely as the whole busy PE).

Results go to ``<out>/neurosa_chip_arbiter.json`` (default ./neurosa_chip_out), one line per run.
"""

import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _gset_example as gx  # noqa: E402

import neurosim as ns  # noqa: E402
from neurosim.hardware import SPINNAKER2  # noqa: E402
from neurosim.models import NeuroSA  # noqa: E402

SETTINGS = {"uniform": None, "spinnaker2": SPINNAKER2, "spinnaker2, 16 pairs/PE": SPINNAKER2.replace(neurons_per_core=16)}


def main():
    ap = gx.parser(__doc__)
    ap.set_defaults(out=os.path.join(os.getcwd(), "neurosa_chip_out"))
    ap.add_argument("--graphs", default="G1,G15")
    ap.add_argument("--steps", type=float, default=1e5)
    ap.add_argument("--replicas", type=int, default=8)
    args, gdir, best = gx.setup(ap)
    path = os.path.join(args.out, "neurosa_chip_arbiter.json")
    data = json.load(open(path)) if os.path.exists(path) else {}
    steps = int(args.steps)
    for g in args.graphs.split(","):
        p = gx.graph(gdir, g)
        for label, hw in SETTINGS.items():
            m = NeuroSA(p, mode="arbiter", hardware=hw, horizon=steps)
            t = time.perf_counter()
            r = ns.run(m, p, steps=steps, replicas=args.replicas, seed=args.seed)
            cuts = [int(c) for c in np.asarray(r.report["cut"])]
            data[f"{g}/{label}/{steps}"] = {"cuts": cuts, "best_known": int(best[g]), "cores": 1 if hw is None else m.chip.mapping.cores,
                                            "min_ratio": min(cuts) / best[g], "mean_ratio": float(np.mean(cuts)) / best[g],
                                            "run_s": time.perf_counter() - t}
            with open(path, "w") as f:
                json.dump(data, f, indent=1)
            print(g, label, cuts, f"{min(cuts) / best[g]:.4f}", flush=True)


if __name__ == "__main__":
    main()
