"""Theory vs simulation cost of rf_ensembles on the same grid, printed as a ratio.

The grid is the V1 experiment: error vs ridge for K in {1, 4, 16} at fixed
M = K N, on power-law Gaussian data.  The theory evaluates every (K, ridge)
point once; the simulation trains the ensembles of every (K, ridge) point for
``seeds`` trials (the number the quick preset averages over).  JAX compile
time is measured separately and excluded from the steady-state ratio.

A second table times the theory alone on the issue-13 error grid (50 ridges x
8 K x 3 P at D = 10^4, one broadcast `ensemble_error` call), against the
pre-issue-13 implementation kept verbatim in tests/helpers/deteq_reference.py,
in the same run (best of 3, interleaved), with N = M/K (every point its own
kappa) and with N fixed (K does not change kappa: one solve per (ridge, P)).

Usage: python benchmarks/bench_rf_ensembles.py [--seeds 8] [--grid-only]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from theorylab.core.experiment import Seed
from theorylab.core.spectra import power_law_spectrum
from theorylab.studies.rf_ensembles import simulate as sim
from theorylab.studies.rf_ensembles import theory as th

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "helpers"))
import deteq_reference as ref


def bench(D: int, P: int, M: int, ks: tuple[int, ...], n_ridges: int, seeds: int) -> dict:
    sp = power_law_spectrum(D, 1.5, 0.8)
    ridges = np.logspace(-7, -1, n_ridges)
    # theory: every (K, ridge) point, best of 5 repeats
    t_th = []
    for _ in range(5):
        t0 = time.perf_counter()
        for K in ks:
            th.ensemble_error(sp.eigs, sp.target_power, P, M // K, K, ridges)
        t_th.append(time.perf_counter() - t0)
    # simulation: compile once, then time `seeds` trials of every K (the keys are the
    # ridge_curve experiment's: data shared by every K, projections per K)
    t0 = time.perf_counter()
    warm = Seed("rf_ensembles", "bench", 0)
    for K in ks:
        sim.linear_errors(
            warm.key("data"), warm.key("proj", K), sp.eigs, sp.weights, 0.0, ridges, P, M // K, K
        )
    t_compile = time.perf_counter() - t0
    t0 = time.perf_counter()
    for s in range(seeds):
        seed = Seed("rf_ensembles", "ridge_curve", s)
        for K in ks:
            sim.linear_errors(
                seed.key("data"),
                seed.key("proj", K),
                sp.eigs,
                sp.weights,
                0.0,
                ridges,
                P,
                M // K,
                K,
            )
    t_sim = time.perf_counter() - t0
    return {
        "grid": f"D={D} P={P} M={M} K={list(ks)} ridges={n_ridges}",
        "theory_s": min(t_th),
        "sim_s": t_sim,
        "compile_s": t_compile,
        "ratio": t_sim / min(t_th),
    }


def grid(D: int = 10_000, M: int = 1024, repeat: int = 3) -> list[tuple]:
    """The issue-13 error grid: new vs old implementation, one broadcast call each."""
    sp = power_law_spectrum(D, 1.5, 0.8)
    ridges = np.logspace(-7, -1, 50)[:, None, None]
    K = np.array([1, 2, 4, 8, 16, 32, 64, 128], dtype=float)[None, :, None]
    P = np.array([256.0, 1024.0, 4096.0])[None, None, :]
    rows = []
    for label, N in ((f"N = {M}/K", M / K), ("N = 128 fixed", 128.0)):
        t_new = t_old = np.inf
        for _ in range(repeat):
            t0 = time.perf_counter()
            new = th.ensemble_error(sp.eigs, sp.target_power, P, N, K, ridges)
            t_new = min(t_new, time.perf_counter() - t0)
            t0 = time.perf_counter()
            old = ref.ensemble_error(sp.eigs, sp.target_power, P, N, K, ridges)
            t_old = min(t_old, time.perf_counter() - t0)
        fin = np.isfinite(old)
        diff = float(np.max(np.abs(new[fin] / old[fin] - 1)))
        rows.append((f"D={D} 50 ridges x 8 K x 3 P, {label}", t_new, t_old, diff))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--grid-only", action="store_true", help="only the theory grid table")
    args = ap.parse_args()
    print(f"{os.cpu_count()} CPU cores")
    print(f"{'theory grid':<48} {'new':>9} {'old':>9} {'old/new':>8} {'max rel. diff':>14}")
    for label, t_new, t_old, diff in grid():
        print(
            f"{label:<48} {t_new * 1e3:>7.1f}ms {t_old * 1e3:>7.1f}ms {t_old / t_new:>7.1f}x "
            f"{diff:>14.0e}"
        )
    if args.grid_only:
        return
    rows = [
        bench(1000, 200, 256, (1, 4, 16), 11, args.seeds),
        bench(4000, 1024, 1024, (1, 4, 16, 64), 25, args.seeds),
    ]
    print(f"{'grid':<48} {'theory':>10} {'simulation':>12} {'(compile)':>10} {'sim/theory':>11}")
    for r in rows:
        print(
            f"{r['grid']:<48} {r['theory_s'] * 1e3:>8.1f}ms {r['sim_s']:>11.2f}s "
            f"{r['compile_s']:>9.2f}s {r['ratio']:>10.0f}x"
        )


if __name__ == "__main__":
    main()
