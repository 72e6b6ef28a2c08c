"""V6 hyperparameter transfer: final loss vs learning rate across widths, muP and NTK (DMFT)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.checks import Claim, NotEvaluable
from theorylab.core.config import StudyConfig, param
from theorylab.core.experiment import Experiment
from theorylab.core.plotting import caption, colors, figure, finish, theory_line

from .. import theory as th
from ..common import data_ratio, final_or_inf, n_steps

PARAMETERIZATIONS = ("muP", "NTK")


@dataclass(frozen=True)
class Params(StudyConfig):
    nus: tuple[float, ...] = param(
        (0.5, 1.0, 2.0, 4.0), "width ratios nu", gt=0.0, le=16.0, min_len=2
    )
    eta0s: tuple[float, ...] = param(
        (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8),
        "learning rates eta0 of the sweep",
        gt=0.0,
        le=10.0,
        min_len=2,
    )
    alpha: float = data_ratio(2.0, "online batch ratio alpha_B = B / D")
    steps: int = n_steps(20, "online SGD steps T")


def theory(p: Params) -> pd.DataFrame:
    """Loss after ``steps`` online steps (L = 2) per (parameterization, nu, eta0); inf: diverges."""
    rows = []
    for par in PARAMETERIZATIONS:
        for nu in p.nus:
            g0 = 1.0 if par == "muP" else float(th.ntk_gamma0(nu))
            for eta in p.eta0s:
                final = final_or_inf(
                    depth=2, nu=nu, alpha=p.alpha, gamma0=g0, eta0=eta, steps=p.steps, online=True
                )
                rows.append((par, nu, eta, final))
    return pd.DataFrame(rows, columns=["parameterization", "nu", "eta0", "test_excess"])


def _mup_violations(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
    """Learning rates at which the muP loss fails to fall with width (finite losses only)."""
    mup = theory[theory.parameterization == "muP"]
    finite = mup.pivot(index="eta0", columns="nu", values="test_excess").replace(np.inf, np.nan)
    viol, compared = 0, 0
    for _, row in finite.iterrows():
        vals = row.dropna().to_numpy()
        if vals.size >= 2:
            compared += 1
            viol += int(np.any(np.diff(vals) >= 0))
    if compared == 0:  # every learning rate diverges at all but (at most) one width
        raise NotEvaluable(f"no learning rate of eta0s={list(p.eta0s)} is stable at two widths")
    return viol, f"{viol} of {compared} learning rates; nu={list(p.nus)}"


def _ntk_stable_lr_ratio(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
    """Largest stable eta0 at the widest over the narrowest NTK net (0 unless it grows)."""
    ntk = theory[theory.parameterization == "NTK"]
    stable = ntk[np.isfinite(ntk.test_excess)].groupby("nu")["eta0"].max()
    unstable = sorted(set(p.nus) - set(stable.index))
    if unstable:  # some width has no stable learning rate in the grid: nothing to compare
        return 0.0, f"no stable eta0 in eta0s={list(p.eta0s)} at nu={unstable}"
    monotone = bool(np.all(np.diff(stable.to_numpy()) >= 0))
    ratio = float(stable.iloc[-1] / stable.iloc[0]) if monotone else 0.0
    return ratio, f"stable eta0 by nu: {dict(zip(stable.index, stable.round(3), strict=True))}"


def figures(p: Params, theory: pd.DataFrame, sims: pd.DataFrame) -> dict:
    fig, axes = figure(ncols=2, width=3.7, height=3.0)
    for ax, par in zip(axes, PARAMETERIZATIONS, strict=True):
        for c, nu in zip(colors(len(p.nus)), p.nus, strict=True):
            g = theory[(theory.parameterization == par) & (theory.nu == nu)].sort_values("eta0")
            ok = np.isfinite(g.test_excess)
            theory_line(
                ax,
                g.eta0[ok],
                g.test_excess[ok],
                color=c,
                label=f"nu={nu:g}",
                marker="o",
                markersize=3,
            )
            if (~ok).any() and ok.any():
                ax.plot(g.eta0[~ok].iloc[:1], [g.test_excess[ok].max() * 3], "x", color=c)
        finish(
            ax,
            xlabel="learning rate eta0",
            ylabel=f"loss after {p.steps} steps",
            title=f"{par} (x: diverges)",
            logx=True,
            logy=True,
        )
    return {
        "lr_transfer": caption(
            fig,
            "Loss after a fixed number of steps against the learning rate for several widths, muP"
            " and NTK parameterisations (x: the run diverged).",
        )
    }


EXPERIMENT = Experiment(
    name="lr_sweep",
    doc="V6: DMFT loss after online SGD vs learning rate across widths (muP transfers, NTK not)",
    params=Params,
    theory=theory,
    checks=(
        Claim(
            "V6_muP_wider_is_better",
            _mup_violations,
            "<=",
            0,
            detail="learning rates at which the muP DMFT loss fails to fall with width",
        ),
        Claim(
            "V6_NTK_stable_lr_grows_with_width",
            _ntk_stable_lr_ratio,
            ">",
            1.0,
            detail="largest stable eta0 at the widest over the narrowest net (NTK), "
            "0 if not monotone or not stable at every width",
        ),
    ),
    figures=figures,
)
