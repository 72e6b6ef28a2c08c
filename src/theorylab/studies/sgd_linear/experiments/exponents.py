"""A6 ``exponents``: the t^(-2r) forcing and the N^(-alpha min(2r, 1)) random-feature floor.

Theory only: log-log slopes fitted on D modes against the closed forms, at
several (alpha, r) pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.checks import Claim
from theorylab.core.compare import fit_loglog_slope
from theorylab.core.config import StudyConfig, param
from theorylab.core.deteq import rf_error
from theorylab.core.errors import ConfigError
from theorylab.core.experiment import Experiment, frame
from theorylab.core.plotting import caption, colors, figure, finish
from theorylab.core.spectra import power_law_spectrum

from .. import theory as th

# |fitted - predicted| exponent allowed: the fits are pre-asymptotic by a few
# hundredths at D = 1e5 (docs/sgd_linear.md, section "Scaling exponents")
EXPONENT_TOL = 0.05


@dataclass(frozen=True)
class Params(StudyConfig):
    D: int = param(100_000, "modes", ge=1000, le=10**7)
    pairs: tuple[float, ...] = param(
        (1.5, 0.3, 1.5, 0.8, 2.0, 0.4), "(alpha, r) pairs, flattened", gt=0.0, le=10.0, min_len=2
    )

    def check(self) -> None:
        if len(self.pairs) % 2:
            raise ConfigError("pairs", self.pairs, "needs (alpha, r) pairs")
        if any(a <= 1 for a in self.pairs[::2]):
            raise ConfigError("pairs", self.pairs, "every alpha must be > 1")


def pairs(p: Params) -> list[tuple[float, float]]:
    """The (alpha, r) pairs."""
    return list(zip(p.pairs[::2], p.pairs[1::2], strict=True))


def forcing(sp, t) -> np.ndarray:
    """F_t = sum_k p_k (1 - lr l_k)^(2t) at lr = 1 (l_k <= 1)."""
    return np.array([np.sum(sp.target_power * (1 - sp.eigs) ** (2 * tt)) for tt in t])


def theory(p: Params) -> pd.DataFrame:
    rows = []
    for alpha, r in pairs(p):
        sp = power_law_spectrum(p.D, alpha, r)
        t = np.array([1e2, 1e4])  # forcing slope from t = 1e2 to 1e4
        N = np.array([1e2, 1e3])  # RF floor kappa_0 u(kappa_0) from N = 1e2 to 1e3
        floor = rf_error(sp.eigs, sp.target_power, np.inf, N, 0.0)
        rows.append(
            frame(
                setting=f"alpha={alpha:g},r={r:g}",
                alpha=alpha,
                r=r,
                forcing_fit=-fit_loglog_slope(t, forcing(sp, t)).slope,
                forcing_pred=float(th.forcing_exponent(r)),
                floor_fit=-fit_loglog_slope(N, floor).slope,
                floor_pred=float(th.rf_floor_exponent(alpha, r)),
            )
        )
    return pd.concat(rows, ignore_index=True)


def _deviation(kind: str):
    def fn(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
        dev = (theory[f"{kind}_fit"] - theory[f"{kind}_pred"]).abs()
        return float(dev.max()), f"over {list(theory.setting)} (D = {p.D})"

    return fn


def figures(p: Params, theory: pd.DataFrame, sims: pd.DataFrame) -> dict:
    fig, axes = figure(ncols=2, width=3.6, height=3.0)
    for c, (alpha, r) in zip(colors(len(pairs(p))), pairs(p), strict=True):
        sp = power_law_spectrum(min(p.D, 20_000), alpha, r)
        t = np.logspace(0, 4, 40)
        axes[0].plot(t, forcing(sp, t), color=c, label=f"a={alpha:g}, r={r:g}: t^-{2 * r:g}")
        N = np.logspace(1, 3, 12)
        fl = rf_error(sp.eigs, sp.target_power, np.inf, N, 0.0)
        label = f"N^-{float(th.rf_floor_exponent(alpha, r)):.2g}"
        axes[1].plot(N, fl, "o-", color=c, markersize=3, label=label)
    finish(
        axes[0], xlabel="t", ylabel="forcing F_t", title="GD / online forcing", logx=True, logy=True
    )
    title = "random-feature floor"
    finish(axes[1], xlabel="features N", ylabel="RF floor", title=title, logx=True, logy=True)
    return {
        "exponents": caption(
            fig,
            "Scaling exponents: the forcing term against time for several source and capacity "
            "exponents (left) and the random-feature loss floor against the number of features N "
            "(right).",
        )
    }


EXPERIMENT = Experiment(
    name="exponents",
    doc="A6: fitted vs predicted forcing (t^-2r) and random-feature floor exponents",
    params=Params,
    theory=theory,
    checks=(
        Claim(
            "A6_forcing_exponent",
            _deviation("forcing"),
            "<",
            EXPONENT_TOL,
            detail="max |fitted - predicted| t^(-2r) forcing exponent",
        ),
        Claim(
            "A6_floor_exponent",
            _deviation("floor"),
            "<",
            EXPONENT_TOL,
            detail="max |fitted - predicted| N^(-alpha min(2r,1)) floor exponent",
        ),
    ),
    figures=figures,
)
