"""Experiment ``overparam`` (V3): overparameterised ensembles depend on M only.

With members much wider than the data (N >= 10 P), the tuned error is
E*_K(N) = E*_KRR(P) + c(P)/M + O(1/N^2): the excess over kernel ridge
regression depends on the budget M = K N only, not on how it is split, and
falls as 1/M (docs/rf_ensembles.md, "V3, reformulated").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.checks import Claim
from theorylab.core.config import param
from theorylab.core.experiment import Experiment, frame

from .. import theory as th
from ..common import Shared, check_divides, power_law

# The spread of the excess across K is O(K_max^2 / M): 0.10 at M = 1e4 for every
# task we tried (docs/rf_ensembles.md, "V3, reformulated"), hence 0.15.
SPREAD_TOL = 0.15
# c(P)/M predicts exponent -1 for the excess; the theory measures -1.019 from M = 1e4
# to 1e5 in the quick preset: 0.05 on |s + 1|.
EXPONENT_TOL = 0.05


@dataclass(frozen=True)
class Params(Shared):
    """Parameters of ``overparam`` (the power-law task is study-level)."""

    D: int = param(20_000, "modes of the spectrum", ge=100, le=10**7)
    P: int = param(100, "training samples", ge=1, le=10**6)
    M: int = param(10_000, "budget (the excess is also computed at 10 M)", ge=1, le=10**8)
    ks: tuple[int, ...] = param(
        (1, 2, 5, 10), "ensemble sizes K (each must divide M)", ge=1, le=10**6
    )

    def check(self) -> None:
        check_divides(self.ks, self.M)


def theory(p: Params) -> pd.DataFrame:
    """Tuned E*_K at M and 10 M, with the tuned kernel-ridge error ``krr_error``."""
    sp = power_law(p.D, p.alpha, p.r)
    ks = np.array(p.ks, dtype=float)
    krr, _ = th.optimal_error(sp.eigs, sp.target_power, p.P, np.inf, 1.0, p.noise)
    frames = []
    for M in (p.M, 10 * p.M):
        e, ridge = th.optimal_error(sp.eigs, sp.target_power, p.P, M / ks, ks, p.noise)
        frames.append(frame(K=ks, N=M / ks, M=M, P=p.P, ridge=ridge, error=e, krr_error=float(krr)))
    return pd.concat(frames, ignore_index=True)


def _spread(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
    first = theory[theory.M == p.M]
    excess = first.error - first.krr_error
    return float((excess.max() - excess.min()) / excess.mean()), (
        f"K={list(p.ks)}, M={p.M}, P={p.P} (N >= {p.M // max(p.ks)})"
    )


def _excess_exponent(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
    mean_excess = (theory.error - theory.krr_error).groupby(theory.M).mean()
    slope = float(np.diff(np.log(mean_excess.to_numpy()))[0] / np.log(10.0))
    return abs(slope + 1.0), f"M={p.M} to {10 * p.M}, measured exponent {slope:.3f}"


EXPERIMENT = Experiment(
    name="overparam",
    doc="theory: with N >> P the tuned excess over KRR depends on M = K N only (V3)",
    params=Params,
    theory=theory,
    checks=(
        Claim(
            "V3_overparameterised_M_only",
            _spread,
            "<",
            SPREAD_TOL,
            "spread over K of the tuned excess over KRR, relative to its mean",
        ),
        Claim(
            "V3_excess_falls_as_1_over_M",
            _excess_exponent,
            "<",
            EXPONENT_TOL,
            "|exponent + 1| of the mean tuned excess over KRR from M to 10 M",
        ),
    ),
)
