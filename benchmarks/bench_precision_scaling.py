"""Calculator and fitter cost vs the training they replace (precision_scaling).

* **calculator**: the laws' prediction of one run's loss (and of its PTQ
  degradation, critical data size, compute-optimal precision) vs training
  that run (a d_model=32 Transformer for 250 steps at W4A4KV4, evaluated and
  post-train quantized once), measured here;
* **grid**: the calculator over every (run, P_post) point of the committed
  grid vs the training time of that grid (the ``time_s`` column of the
  committed table, one seed);
* **fitters**: every fit of the study (Chinchilla with E free and fixed, the
  size law, N_eff, the PTQ law by NLS and log-OLS for RTN and GPTQ) on the
  committed table (seed means, 200 bootstrap replicates each) vs training the
  grid for every seed.

Usage: python benchmarks/bench_precision_scaling.py
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from theorylab.core.timing import best_of
from theorylab.studies.precision_scaling import analysis
from theorylab.studies.precision_scaling import simulate as sim
from theorylab.studies.precision_scaling import theory as th
from theorylab.studies.precision_scaling.study import STUDY


def main() -> None:
    cfg = STUDY.preset("quick")
    runs = sim.load_committed()
    seeds = sorted(set(runs.seed))
    one = runs[runs.seed == seeds[0]]
    trained = one[one.method == "none"].drop_duplicates(["experiment", "d_model", "steps",
                                                         "P_w", "P_a", "P_kv"])  # fmt: skip
    grid_train_s = float(trained.drop_duplicates("time_s").time_s.sum())

    # one point: calculator vs one training run
    def calc_point():
        th.loss(3e4, 2.6e5, 4.0, 4.0, 4.0)
        th.delta_ptq(3e4, 2.6e5, 4.0)
        th.critical_data(3e4, 4.0)

    t_calc = best_of(lambda: [calc_point() for _ in range(100)], repeat=5) / 100
    c1 = cfg.with_overrides({"runs.runs_source": "train", "runs.d_models": "32"})["runs"]
    src = sim.Source(c1)
    sim.run_one(c1, src, 0, "qat", 32, 25, (4.0, 4.0, 4.0), [])  # compile
    t0 = time.perf_counter()
    sim.run_one(c1, src, 0, "qat", 32, 250, (4.0, 4.0, 4.0), [("rtn", 3.0)])
    t_run = time.perf_counter() - t0

    # the grid: every (run, P_post) of one seed
    N, D = one.N.to_numpy(float), one.D.to_numpy(float)
    P = np.where(one.P_w >= 16, np.inf, one.P_w)
    Pp = one.P_post.fillna(8.0).to_numpy(float)
    t_grid = best_of(lambda: (th.loss(N, D, P, P, P), th.delta_ptq(N, D, Pp),
                              th.critical_data(N, Pp)), repeat=5)  # fmt: skip

    # the fitters on the committed table (seed means, bootstrap 200)
    tab = runs.rename(columns={"experiment": "grid"})  # the runs experiment's table
    t0 = time.perf_counter()
    analysis._FIT_CACHE.clear()
    analysis.fits(cfg["runs"], tab)
    t_fit = time.perf_counter() - t0
    t_co = best_of(lambda: th.compute_optimal(np.logspace(18, 26, 17)), repeat=5)

    rows = [
        ("1 run: loss + delta_PTQ + D_crit", t_calc, t_run, "train d=32, 250 steps, W4A4KV4"),
        (f"grid: {len(one)} (run, P_post) points", t_grid, grid_train_s, "train 1 seed's grid"),
        (
            "fitters: 8 fits x 200 bootstrap",
            t_fit,
            grid_train_s * len(seeds),
            f"train the grid x {len(seeds)} seeds",
        ),
        ("compute-optimal P* at 17 budgets", t_co, float("nan"), "(no training equivalent)"),
    ]
    print(f"{'what':<38} {'theory':>10} {'training':>10} {'ratio':>10}  training means")
    for name, a, b, what in rows:
        ratio = f"{b / a:>9.0f}x" if np.isfinite(b) else f"{'-':>10}"
        bt = f"{b:>9.1f}s" if np.isfinite(b) else f"{'-':>10}"
        print(f"{name:<38} {a * 1e3:>8.3f}ms {bt} {ratio}  {what}")


if __name__ == "__main__":
    main()
