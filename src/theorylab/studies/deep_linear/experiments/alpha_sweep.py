"""V6 overfitting: the late-time test-error peak near alpha = P/D ~ 1 with label noise (DMFT)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.checks import Claim
from theorylab.core.config import StudyConfig, param
from theorylab.core.experiment import Experiment
from theorylab.core.plotting import caption, figure, finish, theory_line

from .. import theory as th
from ..common import learning_rate, n_steps

# The late-time peak must lie at an alpha within this factor of alpha = 1
# (|log alpha_peak| < log 1.6): the grid's neighbours of 1 are 0.8 and 1.25.
PEAK_FACTOR = 1.6


@dataclass(frozen=True)
class Params(StudyConfig):
    alphas: tuple[float, ...] = param(
        (0.5, 0.8, 1.0, 1.25, 2.0, 4.0),
        "data ratios alpha = P / D",
        gt=0.0,
        le=1000.0,
        min_len=3,
    )
    noise: float = param(0.25, "label-noise variance sigma^2", ge=0.0, le=100.0)
    eta0: float = learning_rate(0.2)
    steps: int = n_steps(81)


def theory(p: Params) -> pd.DataFrame:
    """DMFT curves of the plain L = 1, nu = 1 network by full-batch GD, one per alpha."""
    frames = [
        th.dmft(1, 1.0, a, 1.0, p.eta0, p.steps, noise=p.noise).assign(alpha=a) for a in p.alphas
    ]
    return pd.concat(frames, ignore_index=True)


def _peak_and_early_stopping(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
    """max(|log alpha_peak| / log PEAK_FACTOR, argmin_t E(t) / (T - 1) at the alpha nearest 1).

    Each condition is normalised so that it holds iff its margin is < 1: the
    late-time error peaks near alpha = 1, and there early stopping helps.
    """
    late = theory[theory.t == theory.t.max()].set_index("alpha")["test_excess"]
    peak_alpha = float(late.idxmax())
    a_one = float(late.index[np.argmin(np.abs(np.log(late.index.to_numpy(dtype=float))))])
    one = theory[theory.alpha == a_one]
    argmin = int(one.loc[one.test_excess.idxmin(), "t"])
    last = p.steps - 1
    peak_margin = abs(np.log(peak_alpha)) / np.log(PEAK_FACTOR)
    stop_margin = argmin / last
    return max(peak_margin, stop_margin), (
        f"|log alpha_peak| / log({PEAK_FACTOR:g}) = {peak_margin:.3f} (late-time test error "
        f"over alpha={list(p.alphas)} peaks at alpha={peak_alpha:g}) and argmin_t E(t) / (T-1) "
        f"= {argmin}/{last} = {stop_margin:.3f} at alpha={a_one:g} (< 1: early stopping helps)"
    )


def figures(p: Params, theory: pd.DataFrame, sims: pd.DataFrame) -> dict:
    fig, ax = figure(width=4.0, height=3.1)
    last = theory[theory.t == theory.t.max()].sort_values("alpha")
    best = theory.groupby("alpha")["test_excess"].min().sort_index()
    theory_line(
        ax,
        last.alpha,
        last.test_excess,
        color="C3",
        label=f"t = {p.steps - 1}",
        marker="o",
        markersize=3,
    )
    theory_line(ax, best.index, best.values, color="C0", style="--", label="early stopping")
    finish(
        ax,
        xlabel="alpha = P/D",
        ylabel="test excess error",
        logx=True,
        title=f"overfitting peak, sigma^2={p.noise:g}",
    )
    return {
        "alpha_peak": caption(
            fig,
            "Test excess error against the sample ratio alpha = P/D at the last step and with "
            "early stopping, from the DMFT: the overfitting peak near alpha = 1.",
        )
    }


EXPERIMENT = Experiment(
    name="alpha_sweep",
    doc="V6: DMFT test error vs data ratio with label noise: overfitting peak near alpha = 1",
    params=Params,
    theory=theory,
    checks=(
        Claim(
            "V6_overfitting_peak_near_alpha_1",
            _peak_and_early_stopping,
            "<",
            1.0,
            detail="max of the late-time peak's distance from alpha = 1 and the early-stopping "
            "time at alpha = 1, each normalised to < 1",
        ),
    ),
    figures=figures,
)
