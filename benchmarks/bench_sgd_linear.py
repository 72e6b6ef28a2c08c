"""Theory vs simulation cost of sgd_linear, on the same curves, printed as ratios.

Each row times the theory curve and the simulation that estimates the same
curve with the number of runs / data sets the quick preset averages over, at
the quick preset's size and at a larger one (the theory's cost grows with the
number of steps and linearly with D; the simulation's with D^2 or N^2 per step
and data set).  JAX compilation is excluded (a warm-up call runs first).

A first table times the online random-feature theory alone at the issue-13
size (D = 10^4, N = 1000, B = 4, T = 10^3) and at the sizes of the table below,
against the pre-issue-13 implementation kept verbatim in
tests/helpers/deteq_reference.py, in the same run (best of 3, interleaved).

Usage: python benchmarks/bench_sgd_linear.py [--theory-only]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from theorylab.core.deteq import support_edge
from theorylab.core.spectra import power_law_spectrum
from theorylab.core.timing import best_of
from theorylab.core.train import key_for
from theorylab.studies.sgd_linear import simulate as sim
from theorylab.studies.sgd_linear import theory as th

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "helpers"))
import deteq_reference as ref


def online(D: int, runs: int):
    sp = power_law_spectrum(D, 1.5, 0.8)

    def s():
        sim.online_sgd(key_for(0), sp.eigs, sp.weights, 0.05, 0.5, 1, 500, runs)

    s()
    return (
        f"online SGD, D={D}, B=1, T=500 ({runs} runs)",
        best_of(lambda: th.online_sgd_curve(sp.eigs, sp.target_power, 0.5, 1, 500, 0.05), 3),
        best_of(s, 1),
    )


def online_rf(D: int, N: int, draws: int):
    sp = power_law_spectrum(D, 1.5, 0.8)

    def s():
        for seed in range(draws):
            proj = sim.rf_projection(key_for(seed), sp.eigs, sp.weights, 0.0, N)
            sim.online_rf(key_for(seed, 1), proj, 1.5, 4, 1000, 10)

    sim.online_rf(
        key_for(99),
        sim.rf_projection(key_for(9), sp.eigs, sp.weights, 0.0, N),
        1.5,
        4,
        1000,
        10,
    )
    return (
        f"online RF, D={D}, N={N}, B=4, T=1000 ({draws} F x 10 runs)",
        best_of(lambda: th.online_rf_curve(sp.eigs, sp.target_power, N, 1.5, 4, 1000), 3),
        best_of(s, 1),
    )


def gd(D: int, datasets: int):
    P = D // 2
    sp = power_law_spectrum(D, 1.5, 0.8)
    lr = 0.77 / support_edge(sp.eigs, P)

    def s():
        for d in range(datasets):
            X, y = sim.sample_data(key_for(d), sp.eigs, sp.weights, 0.1, P)
            sim.full_batch_gd(X, y, sp.eigs, sp.weights, 0.1, lr, 300)

    sim.full_batch_gd(
        *sim.sample_data(key_for(99), sp.eigs, sp.weights, 0.1, P),
        sp.eigs,
        sp.weights,
        0.1,
        lr,
        300,
    )
    return (
        f"full-batch GD, D={D}, P={P}, T=300 ({datasets} data sets)",
        best_of(lambda: th.gd_curves(sp.eigs, sp.target_power, P, lr, 300, 0.1), 3),
        best_of(s, 1),
    )


def multipass(D: int, datasets: int):
    P = D // 2
    sp = power_law_spectrum(D, 1.5, 0.8)
    lr = 0.3 / support_edge(sp.eigs, P)

    def s():
        for d in range(datasets):
            X, y = sim.sample_data(key_for(d), sp.eigs, sp.weights, 0.1, P)
            sim.multipass_sgd(key_for(d, 1), X, y, sp.eigs, sp.weights, 0.1, lr, 1, 200, 50)

    X, y = sim.sample_data(key_for(99), sp.eigs, sp.weights, 0.1, P)
    sim.multipass_sgd(key_for(99), X, y, sp.eigs, sp.weights, 0.1, lr, 1, 200, 50)
    return (
        f"multi-pass SGD, D={D}, P={P}, B=1, T=200 ({datasets} x 50 chains)",
        best_of(lambda: th.multipass_sgd_curves(sp.eigs, sp.target_power, P, lr, 1, 200, 0.1), 3),
        best_of(s, 1),
    )


def online_rf_theory(D: int, N: int, repeat: int = 3) -> tuple:
    """online_rf_curve (lr 1.5, B = 4, T = 1000): new vs old implementation."""
    sp = power_law_spectrum(D, 1.5, 0.8)
    t_new = t_old = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        new = th.online_rf_curve(sp.eigs, sp.target_power, N, 1.5, 4, 1000)
        t_new = min(t_new, time.perf_counter() - t0)
        t0 = time.perf_counter()
        old = ref.online_rf_curve(sp.eigs, sp.target_power, N, 1.5, 4, 1000)
        t_old = min(t_old, time.perf_counter() - t0)
    diff = float(np.max(np.abs(new / old - 1)))
    return f"online RF theory, D={D}, N={N}, B=4, T=1000", t_new, t_old, diff


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--theory-only", action="store_true", help="only the theory table")
    args = ap.parse_args()
    print(f"{os.cpu_count()} CPU cores")
    print(f"{'theory':<62} {'new':>10} {'old':>10} {'old/new':>8} {'max rel. diff':>14}")
    for D, N in ((10_000, 1000), (1000, 100), (4000, 400)):
        name, t_new, t_old, diff = online_rf_theory(D, N)
        print(
            f"{name:<62} {t_new * 1e3:>8.1f}ms {t_old * 1e3:>8.1f}ms {t_old / t_new:>7.1f}x "
            f"{diff:>14.0e}",
            flush=True,
        )
    if args.theory_only:
        return
    print(
        f"{'curve (quick-preset size, then larger)':<62} {'theory':>10} "
        f"{'simulation':>11} {'ratio':>8}"
    )
    rows = [
        lambda: online(200, 800),
        lambda: online(2000, 800),
        lambda: online_rf(1000, 100, 8),
        lambda: online_rf(4000, 400, 8),
        lambda: gd(200, 40),
        lambda: gd(2000, 40),
        lambda: multipass(120, 8),
        lambda: multipass(1000, 8),
    ]
    for bench in rows:
        name, t_th, t_sim = bench()
        print(f"{name:<62} {t_th * 1e3:>8.1f}ms {t_sim:>10.2f}s {t_sim / t_th:>7.0f}x", flush=True)


if __name__ == "__main__":
    main()
