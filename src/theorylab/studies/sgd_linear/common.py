"""Pieces shared by the sgd_linear experiments: study-level parameters, spectra, tables, plots."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from theorylab.core.compare import mean_se
from theorylab.core.config import StudyConfig, param
from theorylab.core.data import digits_relu_gram
from theorylab.core.plotting import colors, sim_points, theory_line
from theorylab.core.spectra import Spectrum, empirical_spectrum, power_law_spectrum

# Tolerances of the agreement checks (the values the study has always used):
N_SE = 3.0  # coverage in normal sigmas; the Student-t multiplier for the seed count
EXACT_REL = 0.01  # exact recursions: only the SGD sampling error remains (1 % slack)
DE_REL = 0.02  # deterministic equivalents: finite-size corrections of ~1-2 % (docs)


@dataclass(frozen=True)
class Shared(StudyConfig):
    """Study-level parameters: the power-law spectrum and the recording grid.

    Learning rates are given relative to a stability edge where noted, so that
    a config stays valid when the spectrum changes.
    """

    alpha: float = param(1.5, "capacity exponent: lambda_k ~ k^-alpha", gt=1.0, le=10.0)
    r: float = param(0.8, "source exponent of the target", gt=0.0, le=10.0)
    record_points: int = param(30, "log-spaced times at which curves are compared", ge=4, le=10_000)


@lru_cache(maxsize=16)
def power_law(D: int, alpha: float, r: float) -> Spectrum:
    """The power-law spectrum (cached: every experiment asks for it several times)."""
    return power_law_spectrum(D, alpha, r)


def record_times(steps: int, points: int) -> np.ndarray:
    """0 and ``points`` log-spaced integer times in [1, steps]."""
    t = np.unique(np.round(np.logspace(0, np.log10(max(steps, 1)), points)).astype(int))
    return np.concatenate([[0], t[t <= steps]])


@lru_cache(maxsize=1)
def digits_kernel():
    """ReLU-kernel eigenfeatures of the digits (pixels in [0, 1]): spectrum, features, targets."""
    _, y, K = digits_relu_gram(False)
    spec, V = empirical_spectrum(K, y, return_vectors=True)
    n = K.shape[0]
    feats = V * np.sqrt(n * spec.eigs)  # sqrt(lambda_k) e_k(x_i)
    wbar = (V.T @ y) / np.sqrt(n * spec.eigs)
    return spec, feats, y, wbar


def since(t0: int):
    """A check's ``where``: the points at t >= t0."""
    return lambda m, p: m["t"] >= t0


def curve_stats(theory, sims, key: str, column: str, sim_column: str | None = None, t_min=1):
    """Theory ``column`` as ``value`` next to the seed mean and SE of ``sim_column``.

    Parameters
    ----------
    theory, sims : pandas.DataFrame
        The experiment's tables, with columns ``key`` and ``t``.
    key : str
        The column naming a curve.
    column, sim_column : str
        Theory column and simulation column (default: the same).
    t_min : int
        Smallest time kept.

    Returns
    -------
    pandas.DataFrame
        Columns ``key, t, mean, se, n, value``, sorted by (key, t).
    """
    st = mean_se(sims, [key, "t"], sim_column or column)
    m = st.merge(theory[[key, "t", column]].rename(columns={column: "value"}), on=[key, "t"])
    return m[m.t >= t_min].sort_values([key, "t"]).reset_index(drop=True)


def plot_curves(ax, stats: pd.DataFrame, key: str, cmap="viridis", label="{}={}", keys=None):
    """Theory lines and simulation markers (with SE bars), one colour per curve."""
    keys = list(stats[key].unique()) if keys is None else list(keys)
    for c, k in zip(colors(len(keys), cmap), keys, strict=True):
        g = stats[stats[key] == k]
        theory_line(ax, g.t, g["value"], color=c, label=label.format(key, k))
        sim_points(ax, g.t, g["mean"], g.se, color=c)
