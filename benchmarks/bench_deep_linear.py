"""DMFT vs the simulation it replaces, at the same (L, T) and increasing D.

The DMFT's cost does not depend on D (it describes D -> infinity); the
simulation's grows like D^2 per step and seed (N = nu D hidden units,
P = alpha D samples) and it needs several seeds for a standard error.  A
second table shows the DMFT's cost against the number of steps T (fixed point
on T x T matrices grown in time chunks: about T^3), and a third the cost of
the structured DMFT with every mode against log-spaced eigenvalue groups.

Every time is steady state: each timed call is first run once with exactly
the timed shapes (so JAX's compilation for that shape is not timed), then the
best of ``REPEAT`` calls is reported.

Usage: python benchmarks/bench_deep_linear.py
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from theorylab.core.timing import best_of
from theorylab.studies.deep_linear import simulate as sim
from theorylab.studies.deep_linear import theory as th

CFG = dict(depth=2, nu=1.0, alpha=2.0, gamma0=1.0, eta0=0.1)
SEEDS = range(8)
REPEAT = 3


def steady(fn, repeat: int = REPEAT) -> float:
    """Best-of time of ``fn`` after one untimed warm-up call with the same shapes."""
    fn()
    return best_of(fn, repeat=repeat)


def main() -> None:
    T = 30
    t_dmft = steady(lambda: th.dmft(steps=T, **CFG))
    print(f"L=2, nu=1, alpha=2, T={T}: DMFT {t_dmft * 1e3:.1f} ms (any D)")
    print(f"{'D':>6} {'simulation (8 seeds)':>22} {'sim/DMFT':>10}")
    for D in (200, 400, 800, 1600):
        t_sim = steady(lambda D=D: sim.train_curves(SEEDS, D=D, steps=T, **CFG))
        print(f"{D:>6} {t_sim:>20.3f} s {t_sim / t_dmft:>9.1f}x", flush=True)
    print(f"\n{'T':>6} {'DMFT':>10}")
    for T in (25, 50, 100, 200):
        t = steady(lambda T=T: th.dmft(steps=T, **CFG), repeat=1 if T >= 100 else REPEAT)
        print(f"{T:>6} {t:>8.3f} s", flush=True)
    x = np.arange(800) / 800
    lam = ((x + 0.02) / 0.02) ** -0.6
    spec = (lam, lam * ((x + 0.02) / 0.02) ** -0.2)
    print("\nstructured DMFT, 800 modes, L=2, eta0=0.3, T=25")
    for bins in (None, 48):
        t = steady(
            lambda bins=bins: th.dmft(2, 1.0, 2.0, 1.0, 0.3, 25, spectrum=spec, bins=bins),
            repeat=1,
        )
        print(f"  bins={bins}: {t:.2f} s", flush=True)


if __name__ == "__main__":
    main()
