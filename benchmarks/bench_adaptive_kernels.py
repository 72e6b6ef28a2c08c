"""Costs of adaptive_kernels: theory vs the simulation it replaces, measured in one run.

* Lazy kernels: closed forms on 50 points vs 2e5 Monte Carlo neurons.
* Deep linear saddle: the scalar Newton solve vs a Langevin deep linear net
  (N = 256, L = 2, 6000 steps).
* Two-layer Bayesian saddle (P = 16, S = 5e4 importance samples) vs a
  Langevin network (N = 500, 20 000 steps).
* Weight-decay DMFT (population 4000, P = 30) vs one GD network at N = 1000.

Usage: python benchmarks/bench_adaptive_kernels.py
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import jax
import numpy as np

from theorylab.core.timing import best_of
from theorylab.studies.adaptive_kernels import simulate as sim
from theorylab.studies.adaptive_kernels import theory as th


def _task(P, Pt, D):
    rng = np.random.default_rng(0)
    w = rng.standard_normal(D)
    X = rng.standard_normal((P + Pt, D))
    y = np.tanh(X @ w / np.sqrt(D)) + 0.5 * np.tanh(X[:, 0] * X[:, 1])
    return X[:P], y[:P], X[P:]


def main() -> None:
    rows = []
    X = np.random.default_rng(1).standard_normal((50, 20))
    rows.append(
        (
            "lazy ReLU kernels, 50 points: closed form vs 2e5 neurons",
            best_of(lambda: th.lazy_kernels(X)),
            best_of(lambda: sim.monte_carlo_lazy(X, "relu", 200_000, np.random.default_rng(2)), 1),
        )
    )
    Xd, yd = np.sqrt(8) * np.eye(8), np.r_[np.ones(4), -np.ones(4)] / np.sqrt(8)
    keys = [jax.random.key(0)]
    sim.langevin_deep_linear(Xd, yd, 1.0, 10.0, width=256, L=2, keys=keys)  # compile
    rows.append(
        (
            "deep linear saddle L = 2 vs Langevin N = 256, 6000 steps",
            best_of(lambda: th.deep_linear_saddle(1.0, 10.0, 2)),
            best_of(
                lambda: sim.langevin_deep_linear(Xd, yd, 1.0, 10.0, width=256, L=2, keys=keys), 1
            ),
        )
    )
    X2, y2, Xt2 = _task(16, 50, 8)
    sim.langevin_two_layer(X2, y2, 0.5, 10.0, width=500, keys=keys, X_test=Xt2)  # compile
    rows.append(
        (
            "Bayesian saddle P = 16, S = 5e4 vs Langevin N = 500, 20 000 steps",
            best_of(
                lambda: th.bayes_saddle(X2, y2, 0.5, 10.0, samples=50_000, seed=0, X_test=Xt2), 1
            ),
            best_of(
                lambda: sim.langevin_two_layer(X2, y2, 0.5, 10.0, width=500, keys=keys, X_test=Xt2),
                1,
            ),
        )
    )
    X3, y3, Xt3 = _task(30, 100, 20)
    th.dmft_weight_decay(X3, y3, Xt3, 1.0, 0.5, width=4000, seed=0)  # compile both widths
    sim.train_weight_decay(X3, y3, 1.0, 0.5, width=1000, seed=1, X_test=Xt3)
    rows.append(
        (
            "weight-decay DMFT population 4000 vs GD network N = 1000 (P = 30)",
            best_of(lambda: th.dmft_weight_decay(X3, y3, Xt3, 1.0, 0.5, width=4000, seed=0), 1),
            best_of(
                lambda: sim.train_weight_decay(X3, y3, 1.0, 0.5, width=1000, seed=1, X_test=Xt3), 1
            ),
        )
    )
    print(f"{'what':70s} {'theory s':>10s} {'simulation s':>13s}")
    for what, t_th, t_sim in rows:
        print(f"{what:70s} {t_th:10.4f} {t_sim:13.3f}")


if __name__ == "__main__":
    main()
