"""Widths: test excess error vs t across widths in muP and NTK, DMFT vs simulation."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from theorylab.core.compare import mean_se
from theorylab.core.config import StudyConfig, param
from theorylab.core.errors import ConfigError
from theorylab.core.experiment import Experiment, Seed
from theorylab.core.plotting import caption, colors, figure, finish, sim_points, theory_line

from .. import theory as th
from ..common import (
    curve_agreement,
    data_ratio,
    input_dim,
    learning_rate,
    n_steps,
    simulated_curves,
)

PARAMETERIZATIONS = ("muP", "NTK")


@dataclass(frozen=True)
class Params(StudyConfig):
    D: int = input_dim(200)
    nus: tuple[float, ...] = param(
        (0.5, 1.0, 2.0, 4.0), "width ratios nu (theory)", gt=0.0, le=16.0, min_len=2
    )
    sim_min_nu: float = param(
        1.0,
        "simulate only nu >= this (N = nu D < 200 is dominated by finite size)",
        gt=0.0,
        le=16.0,
    )
    depth: int = param(2, "hidden layers L", ge=1, le=64)
    alpha: float = data_ratio(2.0)
    eta0: float = learning_rate(0.1)
    steps: int = n_steps(30)

    def check(self) -> None:
        if self.sim_min_nu > max(self.nus):
            raise ConfigError(
                "sim_min_nu",
                self.sim_min_nu,
                f"must be <= the largest width in nus={self.nus} (nothing would be simulated)",
            )

    def settings(self, simulated: bool = False) -> list[tuple[str, float, float]]:
        """(parameterization, nu, gamma0) of every curve (``simulated``: nu >= sim_min_nu)."""
        return [
            (par, nu, 1.0 if par == "muP" else float(th.ntk_gamma0(nu)))
            for par in PARAMETERIZATIONS
            for nu in self.nus
            if not simulated or nu >= self.sim_min_nu
        ]

    def model(self, nu: float, gamma0: float) -> dict:
        return dict(
            depth=self.depth,
            nu=nu,
            alpha=self.alpha,
            gamma0=gamma0,
            eta0=self.eta0,
            steps=self.steps,
        )


def theory(p: Params) -> pd.DataFrame:
    frames = [
        th.dmft(**p.model(nu, g0)).assign(parameterization=par, nu=nu, gamma0=g0)
        for par, nu, g0 in p.settings()
    ]
    return pd.concat(frames, ignore_index=True)


def simulate(p: Params, seeds: list[Seed]) -> pd.DataFrame:
    frames = [
        simulated_curves(seeds, p.D, (par, nu), **p.model(nu, g0)).assign(
            parameterization=par, nu=nu
        )
        for par, nu, g0 in p.settings(simulated=True)
    ]
    return pd.concat(frames, ignore_index=True)


def figures(p: Params, theory: pd.DataFrame, sims: pd.DataFrame) -> dict:
    fig, axes = figure(ncols=2, width=3.7, height=3.0)
    st = mean_se(sims, ["parameterization", "nu", "t"], "test_excess")
    for ax, par in zip(axes, PARAMETERIZATIONS, strict=True):
        for c, nu in zip(colors(len(p.nus)), p.nus, strict=True):
            tv = theory[(theory.parameterization == par) & (theory.nu == nu)]
            theory_line(ax, tv.t, tv.test_excess, color=c, label=f"nu={nu:g}")
            g = st[(st.parameterization == par) & (st.nu == nu)]
            if len(g):
                sim_points(ax, g.t, g["mean"], g.se, color=c)
        finish(
            ax,
            xlabel="step t",
            ylabel="test excess error",
            logy=True,
            title=f"{par}, L={p.depth}, alpha={p.alpha:g}",
        )
    return {
        "widths": caption(
            fig,
            "Test excess error against training step for several width ratios nu, muP and NTK: "
            "DMFT (lines) and simulation (markers, mean +- SE over seeds).",
        )
    }


EXPERIMENT = Experiment(
    name="widths",
    doc="test excess error vs t across widths, muP and NTK: DMFT vs simulation (nu >= sim_min_nu)",
    params=Params,
    theory=theory,
    simulate=simulate,
    checks=(
        curve_agreement(
            "widths_muP_and_NTK",
            "test_excess",
            "muP and NTK across the simulated widths",
            on=("parameterization", "nu", "t"),
        ),
    ),
    figures=figures,
    batched=True,
)
