"""Core solvers: vectorised root finding against a Python loop of scipy's brentq.

Solves the renormalised-ridge equation kappa (1 - df1(kappa)/P) = ridge of
kernel ridge regression for a batch of ridges, through the library path
(`rf_ensembles.theory.effective_ridge`: `core.solvers.find_root` on
cache-sized chunks of the spectral sums), and through a loop of scalar
`scipy.optimize.brentq` solves; prints both times and the ratio for a small
and a large spectrum.

Usage: python benchmarks/bench_core.py
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import brentq

from theorylab.core.spectra import power_law_spectrum
from theorylab.studies.rf_ensembles.theory import effective_ridge


def bench(D: int, batch: int, P: float = 500.0) -> None:
    lam = power_law_spectrum(D, 1.5, 0.8).eigs
    ridges = np.logspace(-10, 0, batch)
    t0 = time.perf_counter()
    kappa = effective_ridge(lam, P, np.inf, ridges)
    t_vec = time.perf_counter() - t0
    t0 = time.perf_counter()
    k0 = brentq(lambda k: np.sum(lam / (lam + k)) - P, 1e-300, 10.0) if P < D else 0.0
    ref = []
    for r in ridges:
        f = lambda k, r=r: k * (1 - np.sum(lam / (lam + k)) / P) - r  # noqa: E731
        ref.append(brentq(f, max(k0, r), r + k0 + lam.sum() / P, xtol=1e-300, rtol=1e-14))
    t_loop = time.perf_counter() - t0
    err = np.max(np.abs(kappa / np.array(ref) - 1))
    print(
        f"D={D:<7} batch={batch:<5} vectorised {t_vec * 1e3:8.1f} ms   brentq loop "
        f"{t_loop * 1e3:8.1f} ms   ratio {t_loop / t_vec:6.1f}x   (max rel. diff {err:.0e})"
    )


def main() -> None:
    print("kernel-ridge kappa solves: vectorised safeguarded Newton vs scalar brentq loop")
    for D, batch in ((1000, 200), (1000, 2000), (10_000, 200), (100_000, 50)):
        bench(D, batch)


if __name__ == "__main__":
    main()
