"""A 16-point sweep of a quick study, serial vs Dask, printed as a speed-up ratio.

The sweep is rf_ensembles' quick preset with 2 seeds per point over a 4 x 4
grid of label noise and sample size.  Each executor writes to its own fresh
directory, so both compute all 16 points; the Dask run includes starting its
LocalCluster.

Usage: python benchmarks/bench_sweep.py [--workers 2] [--seeds 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import theorylab

GRID = {"noise": ["0", "0.05", "0.1", "0.2"], "P": ["150", "200", "250", "300"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seeds", type=int, default=2)
    args = ap.parse_args()
    times = {}
    with tempfile.TemporaryDirectory() as tmp:
        for executor in ("serial", "dask"):
            t0 = time.perf_counter()
            res = theorylab.sweep(
                "rf_ensembles",
                GRID,
                seeds=args.seeds,
                out=os.path.join(tmp, executor),
                executor=executor,
                workers=args.workers if executor == "dask" else None,
            )
            times[executor] = time.perf_counter() - t0
            assert res.computed == 16 and not res.failed
    print(f"16-point rf_ensembles quick sweep ({args.seeds} seeds/point)")
    print(f"serial                 {times['serial']:8.1f} s")
    print(f"dask --workers {args.workers:<7} {times['dask']:8.1f} s")
    print(f"speed-up               {times['serial'] / times['dask']:8.2f}x")


if __name__ == "__main__":
    main()
