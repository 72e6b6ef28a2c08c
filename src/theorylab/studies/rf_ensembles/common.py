"""Helpers shared by the experiments of ``rf_ensembles``.

The study-level parameters (the power-law task every synthetic experiment
uses), the agreement tolerances, the cached spectra, the ridge grids, one
simulated trial of linear ensembles on shared data, the per-group optimum
over the ridge grid and the error-vs-ridge figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from theorylab.core.compare import mean_se
from theorylab.core.config import StudyConfig, param
from theorylab.core.errors import ConfigError
from theorylab.core.experiment import Seed, frame
from theorylab.core.plotting import colors, figure, finish, sim_points, theory_line
from theorylab.core.spectra import Spectrum, power_law_spectrum

from . import simulate as sim

STUDY_ID = "rf_ensembles"

# Agreement slack of the theory at finite N on Gaussian data: the
# deterministic equivalent's finite-size bias at N >= 64 stays below 5 %
# (docs/rf_ensembles.md, "Where the theory stops"); "3 SE" is the Student-t
# multiple with the coverage of 3 normal sigmas for the seed count.
N_SE = 3.0
REL_TOL = 0.05
AGREE_MIN_N = 64  # agreement is checked for N >= 64 only (finite-N bias, same page)


@dataclass(frozen=True)
class Shared(StudyConfig):
    """The power-law task (docs/rf_ensembles.md, section Model).

    Ridges are *per-sample* ridges lambda-tilde throughout (the theory's
    convention); the simulation adds lambda-tilde * P * N to each member's
    unnormalised Gram matrix.
    """

    alpha: float = param(
        1.5, "capacity exponent of the spectrum lambda_k ~ k^-alpha", gt=1.0, le=10.0
    )
    r: float = param(0.8, "source exponent of the target", gt=0.0, le=10.0)
    noise: float = param(0.0, "label-noise variance sigma_eps^2", ge=0.0, le=100.0)


def check_divides(ks: tuple[int, ...], M: int) -> None:
    """Raise :class:`ConfigError` on ``ks`` unless every K divides the budget M."""
    for k in ks:
        if M % k:
            raise ConfigError("ks", ks, f"every K must divide M={M}")


def check_ridge_range(p, lo: str = "ridge_min", hi: str = "ridge_max") -> None:
    """Raise :class:`ConfigError` on ``lo`` unless ``p.lo < p.hi``."""
    if getattr(p, lo) >= getattr(p, hi):
        raise ConfigError(lo, getattr(p, lo), f"must be < {hi}={getattr(p, hi)}")


def ridge_grid(lo: float, hi: float, n: int) -> np.ndarray:
    """``n`` log-spaced per-sample ridges from ``lo`` to ``hi``."""
    return np.logspace(np.log10(lo), np.log10(hi), n)


@lru_cache(maxsize=8)
def power_law(D: int, alpha: float, r: float) -> Spectrum:
    """The power-law spectrum of ``D`` modes (cached: experiments share it)."""
    return power_law_spectrum(D, alpha, r)


def optimum_over_ridge(stats: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Row of minimal mean error per group (the ridge tuned on the seed average)."""
    return stats.loc[stats.groupby(by)["mean"].idxmin()].reset_index(drop=True)


def linear_trial(p, seed: Seed, points) -> pd.DataFrame:
    """One trial of linear random-feature ensembles on power-law Gaussian data.

    Every point sees the same training data (``seed.key("data")``), so the
    points are paired within a seed; each draws its own projections.

    Parameters
    ----------
    p : Params
        An experiment's parameters with the task (``alpha``, ``r``, ``noise``),
        ``D``, ``P`` and the ridge grid (``ridge_min``, ``ridge_max``, ``n_ridges``).
    seed : Seed
    points : iterable of (tuple, dict)
        Per ensemble: the path of its projection stream (after ``"proj"``) and
        its columns, which include ``N`` and ``K``.

    Returns
    -------
    pandas.DataFrame
        One row per (point, ridge): the point's columns, ``P``, ``ridge``, ``error``.
    """
    sp = power_law(p.D, p.alpha, p.r)
    ridges = ridge_grid(p.ridge_min, p.ridge_max, p.n_ridges)
    data = seed.key("data")
    frames = []
    for path, cols in points:
        err = sim.linear_errors(
            data,
            seed.key("proj", *path),
            sp.eigs,
            sp.weights,
            p.noise,
            ridges,
            p.P,
            cols["N"],
            cols["K"],
        )
        frames.append(frame(**cols, P=p.P, ridge=ridges, error=err))
    return pd.concat(frames, ignore_index=True)


def error_vs_ridge_figure(theory, sims, by: list[str], groups, labels, *, cmap="viridis", **kw):
    """Theory lines and simulation means (+- SE) of the error vs ridge, one colour per group.

    ``groups`` are tuples of values of the columns ``by``; ``kw`` goes to
    :func:`~theorylab.core.plotting.finish`.
    """
    fig, ax = figure(width=4.2, height=3.2)
    stats = mean_se(sims, [*by, "ridge"], "error")

    def rows(df, g):
        return df[np.all([df[k] == v for k, v in zip(by, g, strict=True)], axis=0)]

    for c, g, label in zip(colors(len(groups), cmap), groups, labels, strict=True):
        t, s = rows(theory, g), rows(stats, g)
        theory_line(ax, t.ridge, t.error, color=c, label=label)
        sim_points(ax, s.ridge, s["mean"], s.se, color=c)
    finish(ax, xlabel=r"per-sample ridge $\tilde\lambda$", logx=True, **kw)
    return fig
