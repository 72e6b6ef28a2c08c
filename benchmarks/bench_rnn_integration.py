"""Reduced theory vs full-network simulation of the same trajectory, printed as ratios.

The trajectory is the rich-regime integrator of the quick preset: W0 = 0,
|u0| = |v0| = a0 = 0.05 orthogonal, c* = 0.2, eta = 1, t in [0, 12], the loss
and the outlier eigenvalue recorded every 0.1.  The theories are

* the exact 8-variable reduction (A5), adaptive RK45 (rtol 1e-10),
* the 2-D outlier ODE (A6), adaptive RK45 (rtol 1e-10);

the simulation is full-network gradient flow of (W, u, v) at N neurons with the
exact gradients (A2) (Cayley + doubling Lyapunov solves in JAX, RK4 with
dt = 0.05, 240 steps x 4 gradient evaluations), plus the eigenvalues of W at
the 121 snapshots.  JAX compile time is measured separately and excluded.
The reduced theories cost the same for every N; the simulation grows as N^3.

A second table times the lazy Bessel-kernel loss (A8) against readout-only
training of the finite network (one Lyapunov solve and one eigendecomposition
of the N x N Gramian per network) for the 24 networks V5 averages over.

Usage: python benchmarks/bench_rnn_integration.py [--sizes 16,64,100,200]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from theorylab.core.timing import best_of
from theorylab.studies.rnn_integration import simulate as sim
from theorylab.studies.rnn_integration import theory as th

C, ETA, A0, DT, T = 0.2, 1.0, 0.05, 0.05, 12.0


def bench(N: int, t_reduced: float, t_ode: float) -> dict:
    W0, u0, v0 = sim.init_network(sim.key_for(0, 1), N, 0.0, A0)
    steps, every = round(T / DT), 2

    def full():
        run = sim.gradient_flow(W0, u0, v0, C, ETA, DT, steps, every)
        sim.eigenvalues(run["W"])
        return run

    t0 = time.perf_counter()
    full()  # compiles
    t_first = time.perf_counter() - t0
    t_sim = best_of(full, 2)
    return {
        "N": N,
        "sim_s": t_sim,
        "compile_s": max(t_first - t_sim, 0.0),
        "ratio_reduced": t_sim / t_reduced,
        "ratio_ode": t_sim / t_ode,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="16,64,100,200")
    args = ap.parse_args()
    t = np.linspace(0.0, T, round(T / 0.1) + 1)
    t_reduced = best_of(lambda: th.reduced_dynamics(C, ETA, A0, t), 3)
    t_ode = best_of(lambda: th.outlier_ode(C, ETA, A0**2 / 2, t), 3)
    print(
        f"exact reduction (A5): {t_reduced * 1e3:.1f} ms   "
        f"2-D outlier ODE (A6): {t_ode * 1e3:.1f} ms"
    )
    print(f"{'N':>5} {'full net':>10} {'(compile)':>10} {'sim/(A5)':>10} {'sim/(A6)':>10}")
    for N in (int(x) for x in args.sizes.split(",")):
        r = bench(N, t_reduced, t_ode)
        print(
            f"{r['N']:>5} {r['sim_s']:>9.2f}s {r['compile_s']:>9.2f}s "
            f"{r['ratio_reduced']:>9.0f}x {r['ratio_ode']:>9.0f}x"
        )
    # lazy regime: kernel theory vs readout-only training of 24 finite networks
    times = np.array([1.0, 3.0, 10.0, 30.0, 100.0, 1000.0])

    def lazy_theory():
        th._gram_eigh.cache_clear()  # time the eigendecomposition too
        return [th.lazy_loss(0.5, c, ETA, times) for c in (0.6, 0.45, 0.2)]

    t_lazy = best_of(lazy_theory, 3)
    print(f"lazy kernel theory (3 targets x 6 times): {t_lazy * 1e3:.1f} ms")
    print(f"{'N':>5} {'24 networks':>12} {'sim/theory':>11}")
    for N in (400, 800):
        nets = [sim.init_network(sim.key_for(d, 2), N, 0.5, 1.0)[:2] for d in range(24)]
        sim.readout_lazy_loss(*nets[0], (0.6, 0.45, 0.2), ETA, times)  # compiles
        t0 = time.perf_counter()
        for W, u in nets:
            sim.readout_lazy_loss(W, u, (0.6, 0.45, 0.2), ETA, times)
        t_sim = time.perf_counter() - t0
        print(f"{N:>5} {t_sim:>11.2f}s {t_sim / t_lazy:>10.0f}x")


if __name__ == "__main__":
    main()
