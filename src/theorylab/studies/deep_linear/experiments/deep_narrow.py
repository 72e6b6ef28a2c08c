"""V3: depth at narrow width (L = 2, nu = 0.5), DMFT vs simulation."""

from __future__ import annotations

from dataclasses import dataclass

from theorylab.core.config import StudyConfig

from ..common import (
    curve_agreement,
    curve_experiment,
    data_ratio,
    input_dim,
    learning_rate,
    n_steps,
    width_ratio,
)


@dataclass(frozen=True)
class Params(StudyConfig):
    D: int = input_dim(400)
    nu: float = width_ratio(0.5)
    alpha: float = data_ratio(4.0)
    eta0: float = learning_rate(0.1)
    steps: int = n_steps(25)

    def model(self) -> dict:
        """Arguments of the DMFT (L = 2, gamma0 = 1)."""
        return dict(
            depth=2, nu=self.nu, alpha=self.alpha, gamma0=1.0, eta0=self.eta0, steps=self.steps
        )


EXPERIMENT = curve_experiment(
    "deep_narrow",
    "V3: two hidden layers at narrow width by full-batch GD: test excess error vs the DMFT",
    Params,
    checks=(curve_agreement("V3_depth_narrow_width", "test_excess", "L=2 at narrow width"),),
    title=lambda p: f"V3 L=2, nu={p.nu:g}, D={p.D}",
)
