"""Experiment ``richness``: unseen accuracy and weight change over the richness gamma0.

Networks at one (d, L) are trained at every gamma0 in ``gamma0s``
(gamma = gamma0 sqrt(d)): unseen accuracy rises from the lazy value to the
rich one, and the relative weight change |W - W_0| / |W_0| grows with
gamma0 (docs/equality_reasoning.md, section "Richness").
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.checks import Claim, NotEvaluable
from theorylab.core.config import param
from theorylab.core.errors import ConfigError
from theorylab.core.experiment import Experiment, Seed
from theorylab.core.plotting import caption, figure, finish, sim_points

from ..common import Shared, check_within, train

NAME = "richness"
TOL = 0.02  # tolerance on "non-decreasing" (review prototype; 3-seed means' noise ~0.005-0.01)


@dataclass(frozen=True)
class Params(Shared):
    """Parameters of ``richness``."""

    d: int = param(32, "symbol dimension", ge=1, le=4096)
    L: int = param(16, "training symbols", ge=2, le=4096)
    gamma0s: tuple[float, ...] = param(
        (1e-3, 0.03, 0.1, 0.3, 1.0), "richness values gamma0 (increasing)", gt=0, le=1e3
    )

    def check(self) -> None:
        super().check()
        check_within(self, "d", ds=(self.d,))
        check_within(self, "L", Ls=(self.L,))
        g = self.gamma0s
        if len(g) < 3 or any(b <= a for a, b in itertools.pairwise(g)):
            raise ConfigError("gamma0s", g, "must hold >= 3 increasing values")


def simulate(p: Params, seeds: list[Seed]) -> pd.DataFrame:
    """One row per (gamma0, seed)."""
    configs = [dict(d=p.d, L=p.L, gamma0=float(g)) for g in p.gamma0s]
    return train(p, seeds, configs)


def _means(sims, column):
    if sims.empty:
        raise NotEvaluable("no networks")
    return sims.groupby("gamma0")[column].mean().sort_index()


def _accuracy(p, theory, sims):
    m = _means(sims, "unseen")
    worst = float(np.min(np.diff(m.to_numpy()), initial=0.0))
    return worst, "mean unseen accuracy " + ", ".join(f"{g:g}: {v:.3f}" for g, v in m.items())


def _weights(p, theory, sims):
    m = _means(sims, "weight_change")
    ratio = float(np.min(m.to_numpy()[1:] / m.to_numpy()[:-1]))
    return ratio, "mean |W - W0| / |W0| " + ", ".join(f"{g:g}: {v:.3g}" for g, v in m.items())


CHECKS = (
    Claim(
        "richness_accuracy_monotone",
        _accuracy,
        ">=",
        -TOL,
        "unseen accuracy non-decreasing in gamma0: smallest step between neighbours (tol 0.02)",
    ),
    Claim(
        "richness_weight_change_grows",
        _weights,
        ">",
        1.0,
        "relative weight change increasing in gamma0: smallest ratio of neighbours",
    ),
)


def figures(p: Params, theory, sims: pd.DataFrame) -> dict:
    """Unseen / seen accuracy and weight change vs gamma0."""
    fig, ax = figure(ncols=2, width=3.6)
    for col, color, label in (("unseen", "C0", "unseen symbols"), ("seen", "C2", "seen symbols")):
        g = sims.groupby("gamma0")[col]
        sim_points(ax[0], g.mean().index, g.mean(), g.sem(), color=color, label=label)
    finish(ax[0], xlabel=r"richness $\gamma_0$", ylabel="accuracy", logx=True)
    g = sims.groupby("gamma0").weight_change
    sim_points(ax[1], g.mean().index, g.mean(), g.sem(), color="C1")
    finish(
        ax[1],
        xlabel=r"richness $\gamma_0$",
        ylabel=r"$|W - W_0| / |W_0|$",
        logx=True,
        logy=True,
        title=f"d = {p.d}, L = {p.L}",
    )
    return {
        "richness_sweep": caption(
            fig,
            "Accuracy (left) and relative weight change (right) against the "
            "richness gamma_0: rich networks generalise, lazy ones barely move "
            "their weights (mean +- SE over seeds).",
        )
    }


EXPERIMENT = Experiment(
    name=NAME,
    doc="unseen accuracy and weight change increase with the richness gamma0",
    params=Params,
    simulate=simulate,
    checks=CHECKS,
    figures=figures,
    batched=True,
)
