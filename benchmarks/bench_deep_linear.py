"""DMFT vs the simulation it replaces, at the same (L, T) and increasing D.

The DMFT's cost does not depend on D (it describes D -> infinity); the
simulation's grows like D^2 per step (N = nu D hidden units, P = alpha D
samples) and it needs several seeds for a standard error.  A second table
shows the DMFT's cost against the number of steps T (fixed point on T x T
matrices grown in time chunks: about T^3 per sweep).

Usage: python benchmarks/bench_deep_linear.py
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

from theorylab.core.timing import best_of
from theorylab.studies.deep_linear import simulate as sim
from theorylab.studies.deep_linear import theory as th

CFG = dict(depth=2, nu=1.0, alpha=2.0, gamma0=1.0, eta0=0.1)


def main() -> None:
    T = 30
    t_dmft = best_of(lambda: th.dmft(steps=T, **CFG))
    print(f"L=2, nu=1, alpha=2, T={T}: DMFT {t_dmft * 1e3:.1f} ms (any D)")
    print(f"{'D':>6} {'simulation (8 seeds)':>22} {'sim/DMFT':>10}")
    for D in (200, 400, 800, 1600):
        sim.train_curves(range(1), D=D, steps=T, **CFG)  # compile
        t_sim = best_of(lambda D=D: sim.train_curves(range(8), D=D, steps=T, **CFG), repeat=1)
        print(f"{D:>6} {t_sim:>20.2f} s {t_sim / t_dmft:>9.0f}x", flush=True)
    print(f"\n{'T':>6} {'DMFT':>10}")
    for T in (25, 50, 100, 200):
        print(
            f"{T:>6} {best_of(lambda T=T: th.dmft(steps=T, **CFG), repeat=1):>8.2f} s", flush=True
        )


if __name__ == "__main__":
    main()
