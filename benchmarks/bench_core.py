"""Core solvers: the library's vectorised root finding against a scalar brentq loop
and against the pre-issue-13 implementation, in one run.

Solves the renormalised-ridge equation kappa (1 - df1(kappa)/P) = ridge of
kernel ridge regression for a batch of ridges three ways: through the library
(`rf_ensembles.theory.effective_ridge`: `core.solvers.find_root` iterating on
the unconverged points only, with the fused spectral sums of `core.deteq`),
through the old implementation kept verbatim in `tests/helpers/deteq_reference.py`
(full-batch iterations, unfused sums), and through a Python loop of scalar
`scipy.optimize.brentq` solves.  Prints, per size, the three times (best of
``--repeat``, interleaved) and the ratios.

Usage: python benchmarks/bench_core.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from scipy.optimize import brentq

from theorylab.core.spectra import power_law_spectrum
from theorylab.studies.rf_ensembles.theory import effective_ridge

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "helpers"))
import deteq_reference as ref


def brentq_loop(lam: np.ndarray, P: float, ridges: np.ndarray) -> np.ndarray:
    k0 = brentq(lambda k: np.sum(lam / (lam + k)) - P, 1e-300, 10.0) if P < lam.size else 0.0
    out = []
    for r in ridges:
        f = lambda k, r=r: k * (1 - np.sum(lam / (lam + k)) / P) - r  # noqa: E731
        out.append(brentq(f, max(k0, r), r + k0 + lam.sum() / P, xtol=1e-300, rtol=1e-14))
    return np.array(out)


def bench(D: int, batch: int, repeat: int, P: float = 500.0) -> dict:
    lam = power_law_spectrum(D, 1.5, 0.8).eigs
    ridges = np.logspace(-10, 0, batch)
    runs = {
        "new": lambda: effective_ridge(lam, P, np.inf, ridges),
        "old": lambda: ref.effective_ridge(lam, P, np.inf, ridges),
        "loop": lambda: brentq_loop(lam, P, ridges),
    }
    times = {k: np.inf for k in runs}
    vals = {}
    for _ in range(repeat):  # interleaved, so a change of load hits all three
        for k, fn in runs.items():
            t0 = time.perf_counter()
            vals[k] = fn()
            times[k] = min(times[k], time.perf_counter() - t0)
    return {
        "D": D,
        "batch": batch,
        **times,
        "diff_loop": float(np.max(np.abs(vals["new"] / vals["loop"] - 1))),
        "diff_old": float(np.max(np.abs(vals["new"] / vals["old"] - 1))),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(f"kernel-ridge kappa solves ({os.cpu_count()} CPU cores, one run, best of {args.repeat})")
    print(
        f"{'D':>7} {'batch':>6} {'vectorised':>11} {'old':>9} {'brentq loop':>12} "
        f"{'loop/vec':>9} {'old/vec':>8} {'rel. diff vs loop, old':>24}"
    )
    for D, batch in ((1000, 200), (1000, 2000), (10_000, 200), (10_000, 2000), (100_000, 50)):
        r = bench(D, batch, args.repeat)
        new, old, loop = r["new"], r["old"], r["loop"]
        print(
            f"{r['D']:>7} {r['batch']:>6} {new * 1e3:>9.1f}ms {old * 1e3:>7.1f}ms "
            f"{loop * 1e3:>10.1f}ms {loop / new:>8.1f}x {old / new:>7.1f}x "
            f"{r['diff_loop']:>14.0e}, {r['diff_old']:.0e}"
        )


if __name__ == "__main__":
    main()
