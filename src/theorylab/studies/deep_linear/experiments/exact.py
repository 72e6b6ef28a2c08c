"""V1: the DMFT against its exact special cases (docs/deep_linear.md, (B2) and (B3))."""

from __future__ import annotations

import numpy as np
import pandas as pd

from theorylab.core.checks import Claim
from theorylab.core.experiment import Experiment

from .. import theory as th

# The special cases hold exactly; 1e-6 leaves room for the solver's tolerance
# (1e-10 relative per chunk) and for beta0 = 1e-9 standing in for beta0 -> 0.
EXACT_TOL = 1e-6


def _initial_errors() -> list[tuple[str, float]]:
    rows = []
    for g0, nu in ((1.0, 1.0), (0.5, 2.0)):
        e = th.dmft(2, nu, 2.0, g0, 0.1, 2).test_excess.iloc[0]
        rows.append(("C_e(0,0) plain = 1 + 1/(gamma0^2 nu)", abs(e - (1 + 1 / (g0**2 * nu)))))
        e = th.dmft(3, nu, 2.0, g0, 0.1, 2, residual=True, beta0=1.0).test_excess.iloc[0]
        rows.append(
            (
                "C_e(0,0) residual = 1 + (1+beta0^2/L)^L/(gamma0^2 nu)",
                abs(e - (1 + (1 + 1 / 3) ** 3 / (g0**2 * nu))),
            )
        )
    return rows


def theory(p) -> pd.DataFrame:
    """Absolute deviation of the DMFT from each exact special case."""
    rows = _initial_errors()
    a = th.dmft(2, 1.0, 2.0, 1.0, 0.2, 15, residual=True, beta0=1e-9).test_excess.to_numpy()
    b = th.dmft(1, 1.0, 2.0, 1.0, 0.2, 15).test_excess.to_numpy()
    rows.append(("residual with beta0 -> 0 = plain L = 1", float(np.max(np.abs(a - b)))))
    lam = np.ones(40)
    a = th.dmft(2, 1.0, 2.0, 1.0, 0.2, 15, spectrum=(lam, lam)).test_excess.to_numpy()
    b = th.dmft(2, 1.0, 2.0, 1.0, 0.2, 15).test_excess.to_numpy()
    rows.append(("structured with lambda = 1 = isotropic", float(np.max(np.abs(a - b)))))
    _, st = th.dmft(2, 1.0, 1e7, 1.0, 0.2, 15, return_state=True)
    gap = max(
        float(np.max(np.abs(st.C_r - st.C_e))), float(np.max(np.abs(st.R_delta - np.eye(15))))
    )
    rows.append(("alpha -> inf: C_r = C_e and R_delta = I (x 1e-1)", 0.1 * gap))
    case, deviation = zip(*rows, strict=True)
    return pd.DataFrame({"case": case, "deviation": deviation})


def _worst(p, theory: pd.DataFrame, sims: pd.DataFrame):
    worst = theory.loc[theory.deviation.idxmax()]
    return float(worst.deviation), f"{len(theory)} cases; worst: {worst.case}"


EXPERIMENT = Experiment(
    name="exact",
    doc="V1: the DMFT against its exact special cases (initial error, limits)",
    theory=theory,
    checks=(
        Claim(
            "V1_exact_special_cases",
            _worst,
            "<",
            EXACT_TOL,
            detail="max deviation of the DMFT from its exact special cases",
        ),
    ),
)
