"""Agreement metrics between theory and simulation.

All functions take plain arrays (theory values, simulation means and standard
errors) so they can be used on any study's tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


def mean_se(df: pd.DataFrame, by: Sequence[str], value: str) -> pd.DataFrame:
    """Mean, standard error and count of ``value`` over seeds, grouped by ``by``.

    Parameters
    ----------
    df : pandas.DataFrame
        Tidy simulation table, one row per (seed, point).
    by : sequence of str
        Columns identifying a point.
    value : str
        Column to aggregate; rows sharing ``by`` are independent seeds.

    Returns
    -------
    pandas.DataFrame
        Columns ``*by, mean, se, n``; ``se`` is the sample standard deviation
        over sqrt(n) (0 when n == 1).
    """
    g = df.groupby(list(by), sort=True, dropna=False)[value]
    out = g.agg(mean="mean", sd="std", n="count").reset_index()
    out["se"] = (out["sd"] / np.sqrt(out["n"])).fillna(0.0)
    return out.drop(columns="sd")


def relative_l2(estimate, reference) -> float:
    """||estimate - reference||_2 / ||reference||_2."""
    e = np.asarray(estimate, dtype=float)
    r = np.asarray(reference, dtype=float)
    return float(np.linalg.norm(e - r) / np.linalg.norm(r))


def max_relative_error(estimate, reference) -> float:
    """max_i |estimate_i - reference_i| / |reference_i|."""
    e = np.asarray(estimate, dtype=float)
    r = np.asarray(reference, dtype=float)
    return float(np.max(np.abs(e - r) / np.abs(r)))


def r_squared(observed, predicted) -> float:
    """Coefficient of determination of ``predicted`` for ``observed``."""
    o = np.asarray(observed, dtype=float)
    p = np.asarray(predicted, dtype=float)
    ss_res = np.sum((o - p) ** 2)
    ss_tot = np.sum((o - o.mean()) ** 2)
    return float(1.0 - ss_res / ss_tot) if ss_tot > 0 else float("nan")


def se_multiplier(n, n_se: float = 3.0) -> np.ndarray:
    """Student-t multiplier with the coverage of ``n_se`` normal standard errors.

    A standard error estimated from n samples is itself uncertain; the
    interval mean +- c SE has the coverage of +-n_se sigma (99.73 % for 3) when
    c is the Student-t quantile with n - 1 degrees of freedom:
    c = t_{n-1}^-1(Phi(n_se)).  For n = 8 seeds and n_se = 3, c = 4.53; c -> n_se
    as n grows.

    Parameters
    ----------
    n : array_like of int
        Samples behind each standard error (>= 2; smaller n gives inf).
    n_se : float

    Returns
    -------
    numpy.ndarray
    """
    from scipy import stats

    n = np.asarray(n, dtype=float)
    p = stats.norm.cdf(n_se)
    with np.errstate(invalid="ignore"):
        c = stats.t.ppf(p, np.maximum(n - 1, 1))
    return np.where(n >= 2, c, np.inf)


def agreement_ratio(theory, mean, se, n_se: float = 3.0, rel: float = 0.0, n=None) -> np.ndarray:
    """Per-point |mean - theory| / (c * se + rel * |theory|).

    A value <= 1 means the simulation mean lies within ``n_se`` standard errors
    plus a relative slack ``rel`` of the theory.  This is the tolerance every
    theory-vs-simulation test uses: the ``c * se`` part is the simulation's
    own statistical error; ``rel`` covers the theory's stated finite-size
    error.  With ``n`` (the samples behind each SE, e.g. seeds), c is the
    Student-t multiplier of :func:`se_multiplier` (same coverage as n_se
    normal SEs); without it, c = n_se.

    Returns
    -------
    numpy.ndarray
        Same shape as the broadcast inputs.
    """
    t = np.asarray(theory, dtype=float)
    m = np.asarray(mean, dtype=float)
    s = np.asarray(se, dtype=float)
    c = n_se if n is None else se_multiplier(n, n_se)
    tol = c * s + rel * np.abs(t)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(m - t) / tol
    return np.where((tol == 0) & (m == t), 0.0, ratio)


@dataclass(frozen=True)
class SlopeFit:
    """Least-squares fit of log(y) = slope * log(x) + intercept."""

    slope: float
    intercept: float
    slope_se: float
    r2: float


def fit_loglog_slope(x, y) -> SlopeFit:
    """Fit a power law y ~ C x^slope by least squares in log-log space.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        Positive values, n >= 2.

    Returns
    -------
    SlopeFit
    """
    lx = np.log(np.asarray(x, dtype=float))
    ly = np.log(np.asarray(y, dtype=float))
    if lx.size < 2:
        raise ValueError("need at least two points to fit a slope")
    A = np.vstack([lx, np.ones_like(lx)]).T
    coef, *_ = np.linalg.lstsq(A, ly, rcond=None)
    pred = A @ coef
    dof = lx.size - 2
    if dof > 0:
        s2 = np.sum((ly - pred) ** 2) / dof
        se = float(np.sqrt(s2 / np.sum((lx - lx.mean()) ** 2)))
    else:
        se = 0.0
    return SlopeFit(float(coef[0]), float(coef[1]), se, r_squared(ly, pred))
