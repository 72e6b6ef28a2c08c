"""V6 depth: residual networks across depth, branches beta0/sqrt(L) vs a constant scale (DMFT)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.checks import Claim
from theorylab.core.config import StudyConfig, param
from theorylab.core.errors import ConfigError, DivergenceError
from theorylab.core.experiment import Experiment
from theorylab.core.plotting import caption, colors, figure, finish, theory_line

from .. import theory as th
from ..common import learning_rate, n_steps

# Relative spread of E(check_t) allowed across depths with beta0/sqrt(L): the
# approach to the infinite-depth limit is O(1/L) (2.9 % from L = 1 to 8 measured).
DEPTH_TOL = 0.05
BRANCHES = ("scaled", "constant")  # beta_r = beta0 / sqrt(L), or beta_r = beta0 at every L


@dataclass(frozen=True)
class Params(StudyConfig):
    depths: tuple[int, ...] = param((1, 2, 4, 8), "residual depths L", ge=1, le=64, min_len=2)
    beta0: float = param(1.0, "branch multiplier beta0", ge=0.0, le=10.0)
    eta0: float = learning_rate(0.05)
    steps: int = n_steps(12)
    check_t: int = param(10, "time at which depth stability is checked", ge=1, le=999)

    def check(self) -> None:
        if self.check_t >= self.steps:
            raise ConfigError("check_t", self.check_t, f"must be < steps={self.steps}")


def _curve(p: Params, L: int, branch: str) -> pd.DataFrame:
    """The DMFT curve at depth L; a diverging one is a single row (its step, inf)."""
    scale = {"branch_scale": p.beta0} if branch == "constant" else {"beta0": p.beta0}
    try:
        df = th.dmft(L, 1.0, 2.0, 1.0, p.eta0, p.steps, residual=True, **scale)
    except DivergenceError as exc:
        df = pd.DataFrame({"t": [exc.step], "test_excess": [np.inf], "train_mse": [np.inf]})
    return df.assign(branch=branch, depth=L)


def theory(p: Params) -> pd.DataFrame:
    """nu = 1, alpha = 2, gamma0 = 1, full-batch GD, at every depth and branch scaling."""
    frames = [_curve(p, L, branch) for branch in BRANCHES for L in p.depths]
    return pd.concat(frames, ignore_index=True)


def _diverged(theory: pd.DataFrame, branch: str) -> list[int]:
    b = theory[theory.branch == branch]
    return sorted(int(d) for d in b[~np.isfinite(b.test_excess)].depth.unique())


def _spread(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
    """(max - min) / min of E(check_t) across the depths with branches beta0/sqrt(L)."""
    scaled = theory[theory.branch == "scaled"]
    diverged = _diverged(theory, "scaled")
    if diverged:
        return float("inf"), f"beta0/sqrt(L) diverges at L={diverged}"
    e = scaled[scaled.t == p.check_t].test_excess
    return float((e.max() - e.min()) / e.min()), f"t={p.check_t}, L={list(p.depths)}"


def _constant_diverges(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
    """The number of depths at which a constant branch scale diverges."""
    diverged = _diverged(theory, "constant")
    stable = sorted(set(p.depths) - set(diverged))
    return float(len(diverged)), (
        f"beta_r={p.beta0:g} at eta0={p.eta0:g} diverges at L={diverged} (stable: {stable})"
    )


def figures(p: Params, theory: pd.DataFrame, sims: pd.DataFrame) -> dict:
    fig, ax = figure(width=4.0, height=3.1)
    for c, L in zip(colors(len(p.depths)), p.depths, strict=True):
        for branch, style, label in (
            ("scaled", "-", "beta0/sqrt L"),
            ("constant", ":", "constant"),
        ):
            g = theory[(theory.depth == L) & (theory.branch == branch)].sort_values("t")
            if np.isfinite(g.test_excess).all():
                theory_line(ax, g.t, g.test_excess, color=c, style=style, label=f"L={L} ({label})")
    finish(
        ax,
        xlabel="step t",
        ylabel="test excess error",
        logy=True,
        title="residual nets across depth (dotted: constant scale)",
    )
    return {
        "residual_depth": caption(
            fig,
            "Residual networks across depth L: test excess error against training step with the "
            "1/sqrt(L) branch scale, and with a constant scale (dotted).",
        )
    }


EXPERIMENT = Experiment(
    name="depth",
    doc="V6: DMFT of residual nets across depth: beta0/sqrt(L) is stable, a constant branch not",
    params=Params,
    theory=theory,
    checks=(
        Claim(
            "V6_residual_depth_stable",
            _spread,
            "<",
            DEPTH_TOL,
            detail="relative spread of E(check_t) over residual depths with branches beta0/sqrt(L)",
        ),
        Claim(
            "V6_constant_branch_scale_unstable",
            _constant_diverges,
            ">",
            0.0,
            detail="depths at which a constant branch scale diverges at the same eta0 "
            "(beta0/sqrt(L) is stable at all)",
        ),
    ),
    figures=figures,
)
