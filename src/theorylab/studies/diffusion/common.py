"""Pieces shared by the diffusion experiments: study-level fields, targets, the
three-cluster learning ODE and its generated law, table rows and look-ups.

Tables are tidy: one row per (``part``, ``quantity``, ``tau`` or
``generation``) with the number in ``value``; ``part`` names the sub-table
(e.g. ``"B2"`` for the summary statistics, ``"generated"`` for the generated
law) and sample rows carry the projections in ``x``, ``y``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from theorylab.core.config import StudyConfig, param
from theorylab.core.errors import ConfigError

from . import theory as th

#: mu_1 = 3 e1, mu_2 = -3 e2, mu_3 = -3 e1 (the paper's Figure 1), learned with r = 2
THREE = np.array([[3.0, 0.0], [0.0, -3.0], [-3.0, 0.0]])
#: two clusters at +-3 e1, learned with r = 1 (B6, B7)
TWO = np.array([[3.0], [-3.0]])

#: seed standard errors allowed on generated means (B3, B4, B6) and on the B7 statistics:
#: the study's acceptance criterion (docs/diffusion.md, "Checks")
N_SE = 4.0

#: seed of the three-cluster learning ODE's Sobol scrambling, and of its reduced flows
ODE_SEED, GENERATED_SEED = 0, 7


@dataclass(frozen=True)
class Shared(StudyConfig):
    """The study-level fields: training and generation of every network, ODE numerics.

    Conventions as in docs/diffusion.md: eta, lam in the 1/2-loss convention,
    training time tau = eta n / d.
    """

    t_train: float = param(0.7, "noise level of the single denoiser", gt=0.0, lt=1.0)
    eta: float = param(
        0.2, "learning rate (1/2-loss convention; the authors' lr is eta/2)", gt=0.0, le=10.0
    )
    lam: float = param(
        0.05, "weight decay (the authors' weight decay is 2 lam / d)", ge=0.0, le=10.0
    )
    gen_steps: int = param(
        100, "Euler steps T of generation (last step from t = 1 - 2/T)", ge=3, le=10_000
    )
    dtau: float = param(
        0.01,
        "Euler step of the learning ODE (>= 1e-5: at most 1e5 steps per unit tau)",
        ge=1e-5,
        le=1.0,
    )
    mc_samples: int = param(
        4096, "quasi-Monte Carlo (scrambled Sobol) samples per ODE step", ge=1000, le=2**20
    )
    reduced_samples: int = param(40000, "samples of the reduced flow", ge=1000, le=10**7)


def on_grid(value: float, step: float) -> bool:
    """Whether ``value`` is an integer multiple of ``step`` (up to round-off)."""
    q = value / step
    return abs(q - round(q)) <= 1e-6 * max(1.0, abs(q))


def require_on_dtau(p: Shared, name: str, values) -> None:
    """:class:`ConfigError` naming ``dtau`` unless every entry of ``values`` is a multiple of it.

    The learning ODE is read at those times, not at a neighbouring step.
    """
    values = tuple(values)
    if not all(on_grid(v, p.dtau) for v in values):
        raise ConfigError(
            "dtau",
            p.dtau,
            f"{name}={values if len(values) > 1 else values[0]} must be multiples of "
            "dtau (the learning ODE is read at those times)",
        )


@lru_cache(maxsize=8)
def _ode_three(t, eta, lam, tau_end, dtau, mc):
    return th.learning_ode(
        th.gmm_target(THREE), t, eta, lam, tau_end, dtau, mc, ODE_SEED, r=2, record_every=1
    )


def ode_three(p: Shared, tau_end: float) -> pd.DataFrame:
    """Learning ODE of the three-cluster target (r = 2) to ``tau_end``, one row per Euler step.

    Cached: the experiments that read the same ODE share one integration.
    """
    return _ode_three(p.t_train, p.eta, p.lam, tau_end, p.dtau, p.mc_samples)


@lru_cache(maxsize=32)
def _generated_three(t, eta, lam, tau_end, dtau, mc, n, steps, tau):
    O, Q, b = th.state_at(_ode_three(t, eta, lam, tau_end, dtau, mc), tau, 2, 2)
    P = th.generated_projection(O, Q, b, t, np.eye(2), n, steps, seed=GENERATED_SEED)
    _, cT = th.reduced_flow(Q, b, np.zeros((1, 2)), steps)
    return P, float(cT), b


def generated_three(p: Shared, tau_end: float, tau: float):
    """Theory of the three-cluster model at ``tau``: ODE then reduced flow (eq. (D10)).

    Returns
    -------
    P : numpy.ndarray, shape (reduced_samples, 2)
        Generated projections on e1, e2.
    c_T : float
        Bulk amplitude (bulk variance c_T^2).
    b : float
        Skip connection.
    """
    return _generated_three(
        p.t_train, p.eta, p.lam, tau_end, p.dtau, p.mc_samples, p.reduced_samples, p.gen_steps, tau
    )


def row(part: str, quantity: str, value, **keys) -> dict:
    """One table row."""
    return {"part": part, "quantity": quantity, **keys, "value": float(value)}


def sample_rows(part: str, tau: float, P: np.ndarray) -> pd.DataFrame:
    """Rows ``x, y`` holding 2-D projected samples P (n, 2)."""
    return pd.DataFrame(
        {
            "part": part,
            "quantity": "sample",
            "tau": tau,
            "value": np.nan,
            "x": P[:, 0],
            "y": P[:, 1],
        }
    )


def projection_stats(P: np.ndarray) -> dict:
    """Means and variances of projections P (n, 1 or 2) on e1 (and e2)."""
    return {
        "mean_e1": P[:, 0].mean(),
        "mean_e2": P[:, 1].mean() if P.shape[1] > 1 else np.nan,
        "var_e1": P[:, 0].var(),
        "var_e2": P[:, 1].var() if P.shape[1] > 1 else np.nan,
    }


def bulk_variance(X: np.ndarray, W: np.ndarray, k: int) -> float:
    """Mean per-coordinate variance of generated samples X (n, d) outside span(W, U)."""
    d = X.shape[1]
    Pm = np.linalg.qr(np.hstack([W.T, np.eye(d)[:, :k]]))[0]
    resid = X - (X @ Pm) @ Pm.T
    return float((resid**2).sum(1).mean() / (d - Pm.shape[1]))


def _rows(df: pd.DataFrame, part: str, quantity: str, sel) -> pd.Series:
    s = df[(df.part == part) & (df.quantity == quantity)]
    for k, v in sel.items():
        s = s[np.isclose(s[k], v)]
    return s.value


def mean(df: pd.DataFrame, part: str, quantity: str, **sel) -> float:
    """Mean of ``value`` over the rows (seeds) of ``part``/``quantity`` where ``sel`` holds."""
    return float(_rows(df, part, quantity, sel).mean())


def se(df: pd.DataFrame, part: str, quantity: str, **sel) -> float:
    """Standard error of that mean (0 for a single row)."""
    v = _rows(df, part, quantity, sel)
    return float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0


def first(df: pd.DataFrame, part: str, quantity: str, **sel) -> float:
    """The value of the first matching row (a theory number)."""
    return float(_rows(df, part, quantity, sel).iloc[0])
