"""Experiment ``rich`` (V2, V3, escape-time law): full networks trained from W0 = 0.

The main run (|u0| = |v0| = a0, orthogonal) against the exact 8-variable
reduction (A5) integrated with the same RK4 step (exact to rounding), the
conservation law (A4) and the 2-D outlier ODE (A6); then one run per initial
scale in ``a0s`` for the slope of the escape-time law
(docs/rnn_integration.md, sections "(A4)"-"(A6)").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from theorylab.core.checks import Claim
from theorylab.core.compare import mean_se
from theorylab.core.config import param
from theorylab.core.experiment import Experiment, Seed, frame
from theorylab.core.plotting import caption, figure, finish, sim_points, theory_line

from .. import simulate as sim
from .. import theory as th
from ..common import (
    WHY_C,
    Shared,
    grid,
    max_gap,
    mean_curve,
    outlier,
    require_multiple,
    require_plateau,
    subspace,
    train,
)

# the reduction is exact step by step: agreement to rounding (measured 1e-15)
EXACT_TOL = 1e-8
# RK4 at dt = 0.05 conserves (A4) to ~2e-7 over the quick trajectory (measured)
CONSERVATION_TOL = 1e-6
# (A6) assumes u = v; the conserved |u|^2 - |v|^2 keeps the network O(a0^2) away
# (9e-4 at a0 = 0.05, measured)
ODE_TOL = 5e-3
# escape-time law: relative error of the fitted slope (its O(A0) corrections)
SLOPE_TOL = 0.03


@dataclass(frozen=True)
class Params(Shared):
    c_star: float = param(0.2, "target decay rate: f*(tau) = exp(-c* tau)", gt=0.0, le=10.0)
    a0: float = param(0.05, "main run: |u0| = |v0| = a0, u0 orthogonal to v0", gt=0.0, le=10.0)
    N: int = param(16, "neurons (any N: the reduction is exact)", ge=2, le=10_000)
    T: float = param(12.0, "main run: training time", gt=0.0, le=1e5)
    dt: float = param(0.05, "RK4 step of the full-network gradient flow", gt=0.0, le=1.0)
    record_dt: float = param(0.1, "time between recorded snapshots", gt=0.0, le=1e3)
    a0s: tuple[float, ...] = param(
        (0.02, 0.05, 0.1, 0.2), "escape law: initial scales a0", gt=0.0, lt=1.0, min_len=2
    )
    escape_T: float = param(7.0, "escape law: training time of each run", gt=0.0, le=1e5)

    WHY: ClassVar[dict[str, str]] = {"c_star": WHY_C}

    def check(self) -> None:
        require_multiple("record_dt", self.record_dt, self.dt, "dt")
        require_multiple("T", self.T, self.record_dt, "record_dt")
        require_multiple("escape_T", self.escape_T, self.record_dt, "record_dt")
        require_plateau(self.a0)


def theory(p: Params) -> pd.DataFrame:
    c, eta = p.c_star, p.eta
    t = grid(p.T, p.record_dt)
    red = th.reduced_dynamics(c, eta, p.a0, t)
    rk4 = th.reduced_dynamics(c, eta, p.a0, t, dt=p.dt)
    ode = th.outlier_ode(c, eta, p.a0**2 / 2, t)
    a0s = np.array(p.a0s)
    return pd.concat(
        [
            frame(
                part="trajectory",
                t=t,
                loss=red.loss.to_numpy(),
                outlier=red.eig_real.to_numpy(),
                loss_rk4=rk4.loss.to_numpy(),
                outlier_rk4=rk4.eig_real.to_numpy(),
                ode_loss=ode.loss.to_numpy(),
                ode_outlier=ode.eigenvalue.to_numpy(),
            ),
            frame(
                part="escape",
                a0=a0s,
                t_esc_reduced=[th.escape_time_reduced(c, eta, a) for a in a0s],
                t_esc_law=th.escape_time(c, eta, a0s**2 / 2),
                t_esc_refined=th.escape_time(c, eta, a0s**2 / 2, refined=True),
            ),
        ],
        ignore_index=True,
    )


def simulate(p: Params, seed: Seed) -> pd.DataFrame:
    W0, u0, v0 = sim.init_network(seed.key("main"), p.N, 0.0, p.a0)
    run = train(W0, u0, v0, p.c_star, p.eta, p.dt, p.T, p.record_dt)
    top, _ = outlier(run["W"])
    t_esc = []
    for a0 in p.a0s:
        W0, u0_, v0_ = sim.init_network(seed.key("escape", a0), p.N, 0.0, a0)
        t_esc.append(train(W0, u0_, v0_, p.c_star, p.eta, p.dt, p.escape_T, p.record_dt)["t_esc"])
    return pd.concat(
        [
            frame(
                part="trajectory",
                t=run["t"],
                loss=run["loss"],
                outlier=top,
                residual=subspace(u0, v0, run)[2],
                drift=sim.conservation_drift(run["W"], run["u"], run["v"]),
                t_esc=run["t_esc"],
            ),
            frame(part="escape", a0=np.array(p.a0s), t_esc=t_esc),
        ],
        ignore_index=True,
    )


def _part(df: pd.DataFrame, part: str) -> pd.DataFrame:
    return df[df.part == part]


def _reduction(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
    s, t = _part(sims, "trajectory"), _part(theory, "trajectory")
    dl, dlam = max_gap(s, t, "loss", "loss_rk4"), max_gap(s, t, "outlier", "outlier_rk4")
    res = float(s.residual.max())
    return max(dl, dlam, res), (
        f"N={p.N}, dt={p.dt:g}: max |dL| {dl:.1e}, max |d lambda_max| {dlam:.1e}, "
        f"weights outside span(u0, v0) {res:.1e}"
    )


def _conservation(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
    return float(_part(sims, "trajectory").drift.max()), f"T={p.T:g}"


def _outlier_ode(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
    s, t = _part(sims, "trajectory"), _part(theory, "trajectory")
    te = s.groupby("seed").t_esc.first().mean()
    te_ode = th.plateau_end(t.t, t.ode_loss)
    return max_gap(s, t, "outlier", "ode_outlier"), (
        f"A(0) = a0^2/2 = {p.a0**2 / 2:.3g}; escape times {te:.3f} (full) vs {te_ode:.3f} (2-D ODE)"
    )


def _escape_law(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
    es = mean_se(_part(sims, "escape"), ["a0"], "t_esc")
    fit = np.polyfit(np.log(2 / es.a0**2), es["mean"], 1)
    law = (1 + p.c_star) / (2 * p.eta)
    return abs(fit[0] / law - 1), (
        f"a0 in {list(p.a0s)}: fitted d t_esc / d ln(1/A0) = {fit[0]:.4f} vs (1 + c*)/(2 eta) "
        f"= {law:.4f}; offset {fit[1]:+.3f} (theory {th.escape_offset(p.c_star) / p.eta:+.3f})"
    )


def figures(p: Params, theory: pd.DataFrame, sims: pd.DataFrame) -> dict:
    th_, sm = _part(theory, "trajectory"), _part(sims, "trajectory")
    fig, axes = figure(ncols=2, width=3.8, height=3.0)
    for ax, q, lab in zip(axes, ("loss", "outlier"), ("loss L", "outlier eigenvalue"), strict=True):
        theory_line(ax, th_.t, th_[q], color="C0", label="exact reduction (A5)")
        theory_line(
            ax, th_.t, th_["ode_" + q], color="C3", style="--", label="2-D outlier ODE (A6)"
        )
        tt, y, se = mean_curve(sm, q)
        sim_points(ax, tt[::5], y[::5], se[::5], color="k", label=f"full net N={p.N}")
        finish(
            ax,
            xlabel="training time t",
            ylabel=lab,
            title=f"rich regime, c*={p.c_star:g}, a0={p.a0:g}",
            legend=q == "loss",
        )
    axes[1].axhline(1 - p.c_star, color="0.5", lw=0.8, ls=":")
    axes[1].text(0.2, 1 - p.c_star + 0.02, "1 - c*", color="0.4", fontsize=8)
    figs = {
        "rich_trajectory": caption(
            fig,
            "Rich-regime training from a small initialisation: the exact reduction "
            "and the two-dimensional outlier ODE (lines) against the full network "
            "(markers, mean +- SE over seeds).",
        )
    }
    fig, ax = figure(width=3.8, height=3.0)
    es = mean_se(_part(sims, "escape"), ["a0"], "t_esc")
    x = np.log(2 / es.a0.to_numpy() ** 2)
    sim_points(ax, x, es["mean"], es.se, color="k", label="full net (W0 = 0)")
    xx = np.linspace(x.min() * 0.9, x.max() * 1.05, 50)
    slope = (1 + p.c_star) / (2 * p.eta)
    theory_line(ax, xx, slope * xx, color="C0", label="(1+c*)/(2 eta) ln(1/A0)")
    offset = th.escape_offset(p.c_star) / p.eta
    theory_line(
        ax, xx, slope * xx + offset, color="C3", style="--", label="+ offset delta(c*) (A6)"
    )
    finish(ax, xlabel="ln(1/A0), A0 = a0^2/2", ylabel="escape time", title="plateau vs init scale")
    figs["escape_time"] = caption(
        fig,
        "Escape time from the initial plateau against ln(1/A0): the full "
        "network (markers) against the leading-order slope and the slope plus "
        "the offset delta(c*) (lines).",
    )
    return figs


EXPERIMENT = Experiment(
    name="rich",
    doc="V2, V3: full networks from W0 = 0 vs the exact reduction (A5), the conservation law "
    "(A4) and the 2-D outlier ODE (A6); the escape-time law over a0",
    params=Params,
    theory=theory,
    simulate=simulate,
    checks=(
        Claim(
            "V2_exact_reduction",
            _reduction,
            "<=",
            EXACT_TOL,
            detail="full network, W0 = 0 vs the 8-variable system (A5) integrated with the same "
            "RK4 step (max over seeds and recorded times)",
            kind="agreement",
        ),
        Claim(
            "V2_conservation_law",
            _conservation,
            "<=",
            CONSERVATION_TOL,
            detail="max over t and entries of |Q_c(t) - Q_c(0)|, Q_c = uu^T - vv^T + WW^T - W^TW "
            "(A4), along the RK4 trajectory",
            kind="agreement",
        ),
        Claim(
            "V3_outlier_ode",
            _outlier_ode,
            "<=",
            ODE_TOL,
            detail="max over seeds and t of |lambda_full - lambda_2D|",
            kind="agreement",
        ),
        Claim(
            "escape_time_law",
            _escape_law,
            "<=",
            SLOPE_TOL,
            detail="full networks from W0 = 0: relative error of the fitted slope of the escape "
            "time in ln(1/A0)",
        ),
    ),
    figures=figures,
)
