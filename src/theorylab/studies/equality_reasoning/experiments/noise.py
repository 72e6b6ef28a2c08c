"""Experiment ``noise``: the MLP on noisy symbols between the two Bayes observers.

Every presented symbol carries i.i.d. N(0, sigma^2 / d) noise per
coordinate.  Rich and lazy networks trained on L symbols are compared with
the generalising observer (knows symbols are fresh N(0, I/d) draws: exact
accuracy as one integral, and by Monte Carlo) and the memorising observer
(believes the symbols are the L training symbols), all on fresh-symbol test
pairs (docs/equality_reasoning.md, section "Noise").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.checks import Claim, NotEvaluable
from theorylab.core.config import param
from theorylab.core.experiment import Experiment, Seed
from theorylab.core.plotting import caption, figure, finish, sim_points, theory_line

from .. import theory as th
from ..common import REGIMES, STUDY_ID, Shared, check_within, regime_configs, train

NAME = "noise"


@dataclass(frozen=True)
class Params(Shared):
    """Parameters of ``noise``."""

    d: int = param(32, "symbol dimension of the networks and observers", ge=1, le=4096)
    sigma2: float = param(1.0, "noise variance sigma^2 (per coordinate sigma^2 / d)", gt=0, le=100)
    Ls: tuple[int, ...] = param((16,), "training symbols L", ge=2, le=4096)
    regimes: tuple[str, ...] = param(
        ("rich",), "networks trained (the check uses rich)", choices=REGIMES
    )
    observer_pairs: int = param(40_000, "Monte Carlo test pairs of the observers", ge=100, le=10**7)

    def check(self) -> None:
        super().check()
        check_within(self, "d", ds=(self.d,))
        check_within(self, "Ls", Ls=self.Ls)

    bayes_d: int = param(64, "dimension of the generalising-observer check", ge=1, le=4096)


def theory(p: Params) -> pd.DataFrame:
    """Both observers at every L (Monte Carlo) and the exact generalising accuracy."""
    rng = Seed(STUDY_ID, NAME, 0).rng("observers")
    rows = []
    for L in p.Ls:
        obs = th.bayes_observers(p.d, L, p.sigma2, p.observer_pairs, rng)
        rows.append(
            dict(part="observers", d=p.d, L=L, generalising=obs.generalising)
            | dict(memorising=obs.memorising, exact=th.generalising_accuracy(p.d, p.sigma2))
        )
    obs = th.bayes_observers(p.bayes_d, 2, p.sigma2, p.observer_pairs, rng)
    rows.append(
        dict(part="bayes_check", d=p.bayes_d, generalising=obs.generalising)
        | dict(exact=th.generalising_accuracy(p.bayes_d, p.sigma2))
    )
    return pd.DataFrame(rows)


def simulate(p: Params, seeds: list[Seed]) -> pd.DataFrame:
    """Rich and lazy networks on noisy symbols; one row per (regime, L, seed)."""
    configs = regime_configs(p, p.regimes, d=[p.d], L=list(p.Ls), sigma2=[p.sigma2])
    return train(p, seeds, configs, path="noisy_mlp")


def _bayes_mc(p, theory, sims):
    rows = theory[theory.generalising.notna()]
    if rows.empty:
        raise NotEvaluable("no observer rows")
    z = (rows.generalising - rows.exact).abs() / np.sqrt(
        rows.exact * (1 - rows.exact) / p.observer_pairs
    )
    return float(z.max()), f"largest |MC - exact| in binomial SEs over {len(rows)} points"


def _bayes_range(p, theory, sims):
    r = theory[theory.part == "bayes_check"]
    return float(
        r.exact.iloc[0]
    ), f"exact generalising accuracy at d={p.bayes_d}, sigma2={p.sigma2:g}"


def _between(p, theory, sims):
    rich = sims[sims.regime == "rich"].groupby("L").unseen.mean()
    if rich.empty:
        raise NotEvaluable("no rich networks")
    t = theory[theory.part == "observers"].set_index("L")
    gap = [min(rich[L] - t.memorising[L], t.exact[L] - rich[L]) for L in rich.index]
    return float(min(gap)), ", ".join(
        f"L={L}: memorising {t.memorising[L]:.3f} < rich {rich[L]:.3f} < generalising "
        f"{t.exact[L]:.3f}"
        for L in rich.index
    )


CHECKS = (
    # a correct integral leaves z ~ N(0, 1) per point (the binomial SE over-covers the
    # half-same test set); 4 SEs on the max over points: false alarm ~ 1e-4.  Checked
    # against 600 000 pairs at (d, sigma2) = (8, 1), (32, 1), (64, 1), (64, 4): |z| <= 1.3
    Claim(
        "generalising_observer_mc_vs_exact",
        _bayes_mc,
        "<=",
        4.0,
        "Monte Carlo generalising observer vs its exact one-integral accuracy (binomial SEs)",
        kind="agreement",
    ),
    Claim(
        "generalising_observer_d64",
        _bayes_range,
        ">=",
        0.97,
        "the generalising observer at d = 64, sigma^2 = 1 is near perfect (in [0.97, 1])",
    ),
    Claim(
        "noisy_mlp_between_observers",
        _between,
        ">",
        0.0,
        "rich MLP unseen accuracy above the memorising and below the generalising observer",
    ),
)


def figures(p: Params, theory: pd.DataFrame, sims: pd.DataFrame) -> dict:
    """Observers (lines) and networks (markers) vs L under noise."""
    fig, ax = figure(width=4.4)
    t = theory[theory.part == "observers"].sort_values("L")
    style = "-" if len(t) > 1 else "--"
    theory_line(ax, t.L, t.exact, color="k", style=style, label="generalising observer")
    theory_line(ax, t.L, t.memorising, color="0.5", style=style, marker="s", label="memorising")
    for regime, color in (("rich", "C0"), ("lazy", "C3")):
        g = sims[sims.regime == regime].groupby("L").unseen
        sim_points(ax, g.mean().index, g.mean(), g.sem(), color=color, label=f"{regime} MLP")
    finish(
        ax,
        xlabel="training symbols L",
        ylabel="unseen-symbol accuracy",
        logx=True,
        title=f"d = {p.d}, sigma^2 = {p.sigma2:g}",
    )
    return {
        "noise_observers": caption(
            fig,
            "Same-different under input noise: trained networks (markers, mean +- "
            "SE over seeds) against the generalising and memorising Bayes observers"
            " (lines).",
        )
    }


EXPERIMENT = Experiment(
    name=NAME,
    doc="noisy symbols: rich MLP between the memorising and generalising Bayes observers",
    params=Params,
    theory=theory,
    simulate=simulate,
    checks=CHECKS,
    figures=figures,
    batched=True,
)
