"""V2: a plain MLP trained by full-batch GD, DMFT vs simulation (test and train)."""

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
    width_ratio,
)

# The train MSE is measured on the P samples the network fits; the study allows it
# 15 % against the DMFT (docs/deep_linear.md, "What agrees").
TRAIN_REL_TOL = 0.15


@dataclass(frozen=True)
class Params(StudyConfig):
    D: int = input_dim(300)
    depth: int = param(1, "hidden layers L", ge=1, le=64)
    nu: float = width_ratio(1.0)
    alpha: float = data_ratio(2.0)
    eta0: float = learning_rate(0.2)
    steps: int = n_steps(40)

    def model(self) -> dict:
        """Arguments of the DMFT (gamma0 = 1)."""
        return dict(
            depth=self.depth,
            nu=self.nu,
            alpha=self.alpha,
            gamma0=1.0,
            eta0=self.eta0,
            steps=self.steps,
        )


EXPERIMENT = curve_experiment(
    "plain_mlp",
    "V2: plain MLP (L = 1) by full-batch GD: test excess error and train MSE vs the DMFT",
    Params,
    checks=(
        curve_agreement("V2_plain_mlp_test", "test_excess", "plain MLP, test excess error"),
        curve_agreement(
            "V2_plain_mlp_train", "train_mse", "plain MLP, train MSE", rel=TRAIN_REL_TOL
        ),
    ),
    title=lambda p: f"V2 plain MLP, L={p.depth}, D={p.D}",
    columns=("test_excess", "train_mse"),
)
