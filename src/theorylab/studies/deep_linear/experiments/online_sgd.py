"""V4: online SGD (a fresh batch every step) with label noise, DMFT vs simulation."""

from __future__ import annotations

from dataclasses import dataclass

from theorylab.core.config import StudyConfig, param

from ..common import (
    curve_agreement,
    curve_experiment,
    data_ratio,
    input_dim,
    learning_rate,
    n_steps,
)


@dataclass(frozen=True)
class Params(StudyConfig):
    D: int = input_dim(300)
    alpha: float = data_ratio(0.5, "batch ratio alpha_B = B / D")
    noise: float = param(0.04, "label-noise variance sigma^2", ge=0.0, le=100.0)
    eta0: float = learning_rate(0.1)
    steps: int = n_steps(30, "SGD steps T")

    def model(self) -> dict:
        """Arguments of the DMFT (L = 2, nu = 1, gamma0 = 1, online)."""
        return dict(
            depth=2,
            nu=1.0,
            alpha=self.alpha,
            gamma0=1.0,
            eta0=self.eta0,
            steps=self.steps,
            noise=self.noise,
            online=True,
        )


EXPERIMENT = curve_experiment(
    "online_sgd",
    "V4: online SGD with label noise (L = 2): test excess error vs the DMFT",
    Params,
    checks=(curve_agreement("V4_online_sgd", "test_excess", "online SGD"),),
    title=lambda p: f"V4 online SGD, alpha_B={p.alpha:g}, D={p.D}",
)
