"""Costs of overtraining: theory vs simulation, and the network loop's throughput.

* Linear model: the implicit-bias asymptote (one NNLS solve for the SVM and its
  dual) against the 1e5 GD steps it predicts (JAX, 4 datasets vmapped).
* Max-margin solvers: the NNLS hull solve against SciPy's SLSQP on the primal.
* Odor network: milliseconds per network-epoch of full-batch GD (float32 and
  float64, 8 networks vmapped, H = 100), compile time excluded.

Usage: python benchmarks/bench_overtraining.py
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from scipy.optimize import minimize

from theorylab.core.experiment import Seed
from theorylab.studies.overtraining import simulate as sim
from theorylab.studies.overtraining import theory as th
from theorylab.studies.overtraining.common import make_batch, train
from theorylab.studies.overtraining.experiments import odor


def _best(fn, repeats: int = 3) -> float:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return min(out)


def linear() -> dict:
    seeds = [Seed("overtraining", "bench", s) for s in range(4)]
    data = [sim.teacher_data(s.rng("data"), 200, 50, 0.3) for s in seeds]
    Z = np.stack([y[:, None] * X for X, y in data])
    lr = np.array([200 / np.linalg.eigvalsh(X.T @ X)[-1] for X, _ in data])
    t = th.log_checkpoints(100_000)
    sim.linear_gd_run(Z, lr, t[:3])  # compile
    t_sim = _best(lambda: sim.linear_gd_run(Z, lr, t), 1)
    t_th = _best(
        lambda: [th.soudry_asymptote(X, y, r, t) for (X, y), r in zip(data, lr, strict=True)]
    )
    return {"theory_s": t_th, "sim_s": t_sim}


def solvers() -> dict:
    X, y = sim.teacher_data(np.random.default_rng(0), 200, 50, 0.3)
    Z = y[:, None] * X

    def slsqp():
        minimize(
            lambda w: 0.5 * w @ w,
            np.zeros(50),
            jac=lambda w: w,
            constraints=[{"type": "ineq", "fun": lambda w: Z @ w - 1, "jac": lambda w: Z}],
            method="SLSQP",
        )

    return {"nnls_s": _best(lambda: th.max_margin(X, y)), "slsqp_s": _best(slsqp, 1)}


def network(dtype: str, epochs: int = 2000) -> float:
    p = odor.Params().with_overrides({"dtype": dtype})
    b = make_batch(p, [Seed("overtraining", "bench", s) for s in range(4)], ("logistic", "hinge"))
    train(p, b, b.W0, b.a0, 5)  # compile
    seconds = _best(lambda: train(p, b, b.W0, b.a0, epochs), 1)
    return 1e3 * seconds / (epochs * len(b.seed))


def main() -> None:
    lin = linear()
    print(
        f"linear, 4 datasets, 1e5 GD steps: simulation {lin['sim_s']:.2f} s, asymptote "
        f"{lin['theory_s'] * 1e3:.1f} ms ({lin['sim_s'] / lin['theory_s']:.0f}x)"
    )
    s = solvers()
    print(
        f"hard-margin SVM (N=200, d=50): NNLS {s['nnls_s'] * 1e3:.1f} ms, "
        f"SLSQP {s['slsqp_s'] * 1e3:.1f} ms"
    )
    for dtype in ("float32", "float64"):
        print(f"odor network GD, H=100, {dtype}: {network(dtype):.3f} ms per network-epoch")


if __name__ == "__main__":
    main()
