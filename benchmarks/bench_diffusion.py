"""Theory (learning ODE + reduced generation) vs the full simulation, at growing d.

The simulation trains the autoencoder by online SGD on n = tau d / eta samples
(cost ~ n r d = tau r d^2 / eta) and generates N samples with the Euler flow
(cost ~ N T r d).  The theory integrates the O(1)-dimensional ODE and runs the
r-dimensional reduced flow: its cost does not depend on d.  Three-cluster
target, r = 2, t = 0.7, tau = 4, N = 2000 generated samples, T = 100.

Usage: python benchmarks/bench_diffusion.py
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from theorylab.studies.diffusion import simulate as sim
from theorylab.studies.diffusion import theory as th

THREE = np.array([[3.0, 0.0], [0.0, -3.0], [-3.0, 0.0]])


def theory_cost() -> float:
    t0 = time.perf_counter()
    df = th.learning_ode(th.gmm_target(THREE), 0.7, 0.2, 0.05, 4.0, r=2)
    O, Q, b = th.state_at(df, 4.0, 2, 2)
    th.generated_projection(O, Q, b, 0.7, np.eye(2), 40_000, 100)
    return time.perf_counter() - t0


def sim_cost(d: int) -> tuple[float, float]:
    kw = dict(d=d, r=2, t=0.7, eta=0.2, lam=0.05, tau=4.0, record_every_tau=0.5)
    sim.train_gmm(sim.key_for(99), THREE, np.ones(3) / 3, 1.0, **kw)  # compile
    t0 = time.perf_counter()
    W, b, _ = sim.train_gmm(sim.key_for(0), THREE, np.ones(3) / 3, 1.0, **kw)
    t_train = time.perf_counter() - t0
    sim.full_flow(sim.key_for(98), W, b, 2000, 100)  # compile
    t0 = time.perf_counter()
    sim.full_flow(sim.key_for(1), W, b, 2000, 100)
    return t_train, time.perf_counter() - t0


def main() -> None:
    t_th = min(theory_cost() for _ in range(2))
    print(f"theory (ODE, 4096 Sobol points x 400 steps, + reduced flow of 4e4): {t_th:.2f} s")
    print(f"{'d':>6} {'train (n = 20 d)':>18} {'flow (N=2000)':>15} {'sim total':>10} {'ratio':>7}")
    for d in (1000, 2000, 4000):
        tr, fl = sim_cost(d)
        print(
            f"{d:>6} {tr:>16.2f} s {fl:>13.2f} s {tr + fl:>8.2f} s {(tr + fl) / t_th:>6.1f}x",
            flush=True,
        )


if __name__ == "__main__":
    main()
