"""V5: a residual network with branches beta0 / sqrt(L), DMFT vs simulation."""

from __future__ import annotations

from dataclasses import dataclass

from theorylab.core.config import StudyConfig, param

from ..common import curve_agreement, curve_experiment, input_dim, learning_rate, n_steps


@dataclass(frozen=True)
class Params(StudyConfig):
    D: int = input_dim(300)
    depth: int = param(2, "residual blocks L", ge=1, le=64)
    beta0: float = param(
        1.0, "branch multiplier beta0 (branches scale beta0/sqrt(L))", ge=0.0, le=10.0
    )
    eta0: float = learning_rate(0.05)
    steps: int = n_steps(12)

    def model(self) -> dict:
        """Arguments of the DMFT (nu = 1, alpha = 2, gamma0 = 1, residual)."""
        return dict(
            depth=self.depth,
            nu=1.0,
            alpha=2.0,
            gamma0=1.0,
            eta0=self.eta0,
            steps=self.steps,
            residual=True,
            beta0=self.beta0,
        )


EXPERIMENT = curve_experiment(
    "residual",
    "V5: residual network, branches beta0/sqrt(L), full-batch GD: test excess vs the DMFT",
    Params,
    checks=(curve_agreement("V5_residual", "test_excess", "residual network"),),
    title=lambda p: f"V5 residual, L={p.depth}, D={p.D}",
)
