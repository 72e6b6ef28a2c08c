"""Costs of equality_reasoning: theory vs the simulation it replaces, measured in one run.

* Rich regime: the formula 1/2 [1 + Phi(sqrt(kappa L (L-1)))] over L = 2..64
  against training rich networks (3 seeds, N = 128, 2000 SGD steps) at one L.
* Lazy regime: the NTK logistic flow (adaptive RK45 and the exact GD
  iteration) against training lazy networks at d = 16 for L = 4, 16, 64.
* Noise: the generalising observer's exact integral against its Monte Carlo
  estimate from 100 000 pairs.
* Training throughput: network-steps per second of the compiled function
  (compile excluded), symbolic task and PSVRT.

Usage: python benchmarks/bench_equality_reasoning.py
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from theorylab.core.experiment import Seed
from theorylab.studies.equality_reasoning import simulate as sim
from theorylab.studies.equality_reasoning import theory as th

N, STEPS, BATCH = 128, 2000, 128
SEEDS = [Seed("equality_reasoning", "bench", s) for s in range(3)]


def _best(fn, repeats: int = 3) -> float:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return min(out)


def _train(runs, geo):
    return sim.run_mlp(runs, SEEDS, geo=geo, N=N, batch=BATCH, steps=STEPS, workers=1)


def _run(d, L, gamma0, **kw):
    gamma, rate = sim.richness(gamma0, d, N)
    return sim.Run(d=d, L=L, gamma=gamma, lr=0.1 * rate, **kw)


def main() -> None:
    geo = sim.symbolic_geometry(64, 64)
    _train([_run(16, 8, 1.0)], geo)  # compile
    rows = []

    t_th = _best(lambda: th.rich_accuracy(np.arange(2, 65)))
    t_sim = _best(lambda: _train([_run(32, 8, 1.0)], geo), 1)
    rows.append(("rich formula, L = 2..64 vs 3 rich nets at L = 8", t_th, t_sim))

    for L in (4, 16, 64):
        t_flow = _best(lambda L=L: th.lazy_accuracy(16, L, steps=STEPS), 1)
        t_gd = _best(lambda L=L: th.lazy_accuracy(16, L, steps=STEPS, method="gd"), 1)
        t_sim = _best(lambda L=L: _train([_run(16, L, 1e-4)], geo), 1)
        rows.append((f"NTK flow (RK45), d = 16, L = {L} vs 3 lazy nets", t_flow, t_sim))
        rows.append((f"NTK flow (exact GD), d = 16, L = {L} vs 3 lazy nets", t_gd, t_sim))

    t_ex = _best(lambda: th.generalising_accuracy(64, 1.0))
    t_mc = _best(lambda: th.bayes_observers(64, 16, 1.0, 100_000), 1)
    rows.append(("generalising observer: exact integral vs Monte Carlo (1e5)", t_ex, t_mc))

    print(f"{'comparison':62s} {'theory s':>10s} {'other s':>10s} {'ratio':>9s}")
    for name, a, b in rows:
        print(f"{name:62s} {a:10.4f} {b:10.3f} {b / a:9.0f}x")

    psvrt = sim.psvrt_geometry(32)
    ps_run = _run(25, 8, 1.0, n_slots=9, kind=sim.BITS)
    _train([ps_run], psvrt)  # compile
    for name, g, r in (("symbolic", geo, _run(32, 16, 1.0)), ("PSVRT 15x15", psvrt, ps_run)):
        t = _best(lambda g=g, r=r: _train([r], g), 1)
        print(f"throughput {name}: {len(SEEDS) * STEPS / t:,.0f} network-steps/s (N = {N})")


if __name__ == "__main__":
    main()
