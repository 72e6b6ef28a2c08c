"""Experiment ``ridge_curve`` (V1, V2 in simulation): error vs ridge at a fixed budget.

Linear random-feature ensembles on power-law Gaussian data at a fixed budget
M = K N: the test error vs the per-sample ridge for each K, theory vs
simulation (V1), and the paper's no-free-lunch claim in simulation: at the
tuned ridge the error increases with K, while at a too-small ridge an
ensemble can beat K = 1 (V2; docs/rf_ensembles.md, "Checks").
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.checks import Agreement, Claim, NotEvaluable
from theorylab.core.compare import agreement_ratio, mean_se
from theorylab.core.config import param
from theorylab.core.experiment import Experiment, Seed, frame
from theorylab.core.plotting import caption, figure, finish, sim_points, theory_line

from .. import theory as th
from ..common import (
    AGREE_MIN_N,
    N_SE,
    REL_TOL,
    Shared,
    check_divides,
    check_ridge_range,
    error_vs_ridge_figure,
    linear_trial,
    optimum_over_ridge,
    power_law,
    ridge_grid,
)

# V2_untuned_ridge_ensembles_can_win is evaluated only where the theory predicts
# the inversion at the smallest ridge by more than 5 % (it does not exist for
# every M, P: it needs N ~ P, near the interpolation threshold).
INVERSION_MARGIN = 1.05


@dataclass(frozen=True)
class Params(Shared):
    """Parameters of ``ridge_curve`` (the power-law task is study-level)."""

    D: int = param(1000, "number of input dimensions / spectral modes", ge=2, le=10**6)
    P: int = param(200, "training samples", ge=1, le=10**6)
    M: int = param(256, "parameter budget M = K N", ge=1, le=10**6)
    ks: tuple[int, ...] = param((1, 4, 16), "ensemble sizes K (each must divide M)", ge=1, le=10**6)
    ridge_min: float = param(5e-7, "smallest simulated ridge", unit="per-sample", gt=0.0, le=1e6)
    ridge_max: float = param(5e-2, "largest simulated ridge", unit="per-sample", gt=0.0, le=1e6)
    n_ridges: int = param(11, "simulated ridges (log-spaced)", ge=2, le=1000)
    theory_ridges: int = param(61, "ridges on the theory curves", ge=2, le=10_000)

    def check(self) -> None:
        check_divides(self.ks, self.M)
        check_ridge_range(self)


def theory(p: Params) -> pd.DataFrame:
    """E_K vs ridge per K (``part`` ``sim``: the simulated grid, ``fine``: a finer
    one) and the tuned E*_K with its bias/variance split (``part`` ``tuned``)."""
    sp = power_law(p.D, p.alpha, p.r)
    ks = np.array(p.ks)
    frames = []
    for part, ridges in (
        ("sim", ridge_grid(p.ridge_min, p.ridge_max, p.n_ridges)),
        ("fine", ridge_grid(p.ridge_min / 10, p.ridge_max * 10, p.theory_ridges)),
    ):
        K, ridge = (a.ravel() for a in np.meshgrid(ks, ridges, indexing="ij"))
        t = th.ensemble_terms(sp.eigs, sp.target_power, p.P, p.M / K, K, ridge, p.noise)
        frames.append(
            frame(
                part=part,
                K=K,
                N=p.M // K,
                M=p.M,
                P=p.P,
                ridge=ridge,
                error=t.error,
                bias=t.bias,
                variance=t.variance,
                kappa=t.kappa,
            )
        )
    # every power-of-two divisor of M and the simulated K
    K = np.array(sorted(set(p.ks) | {2**i for i in range(12) if p.M % 2**i == 0}))
    e, ridge = th.optimal_error(sp.eigs, sp.target_power, p.P, p.M / K, K, p.noise)
    t = th.ensemble_terms(sp.eigs, sp.target_power, p.P, p.M / K, K, ridge, p.noise)
    frames.append(
        frame(
            part="tuned",
            K=K,
            N=p.M // K,
            M=p.M,
            P=p.P,
            ridge=ridge,
            error=e,
            bias=t.bias,
            variance=t.variance,
            kappa=t.kappa,
        )
    )
    return pd.concat(frames, ignore_index=True)


def simulate(p: Params, seed: Seed) -> pd.DataFrame:
    """One trial: fresh data (shared by every K, so K's are paired) and projections."""
    return linear_trial(p, seed, [((K,), dict(K=K, N=p.M // K, M=p.M)) for K in p.ks])


# ----------------------------------------------------------------------------
# checks


def _large_N(merged: pd.DataFrame, p: Params):
    return merged["N"] >= AGREE_MIN_N


def _error_vs_ridge(name: str, **select) -> Agreement:
    what = f"K={select['K']}" if select else "every K"
    return Agreement(
        name,
        "error",
        on=("K", "ridge"),
        rel=REL_TOL,
        n_se=N_SE,
        select={"part": "sim", **select},
        where=_large_N,
        detail=f"error vs ridge, {what} (checked where N >= {AGREE_MIN_N})",
    )


def _tuned_stats(sims: pd.DataFrame) -> pd.DataFrame:
    """Per K, the grid ridge with the smallest seed-mean error (mean, se, n there)."""
    return optimum_over_ridge(mean_se(sims, ["K", "N", "ridge"], "error"), ["K"])


def _tuned_error(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
    opt = _tuned_stats(sims)
    best = theory[theory.part == "sim"].groupby("K")["error"].min().rename("theory")
    big = opt.merge(best.reset_index(), on="K")
    big = big[big.N >= AGREE_MIN_N]
    if big.empty:
        raise NotEvaluable(f"no K with N >= {AGREE_MIN_N}")
    ratio = agreement_ratio(big.theory, big["mean"], big.se, N_SE, REL_TOL, n=big["n"])
    return float(ratio.max()), f"K in {sorted(big.K.tolist())}"


def paired_z(diff: pd.Series) -> float:
    """Mean of paired differences over their standard error (+-inf when the SE is 0)."""
    d = diff.to_numpy(dtype=float)
    se = d.std(ddof=1) / np.sqrt(d.size) if d.size > 1 else 0.0
    if se == 0:
        return float(np.sign(d.mean()) * np.inf) if d.mean() != 0 else 0.0
    return float(d.mean() / se)


def _tuned_per_seed(sims: pd.DataFrame) -> pd.DataFrame:
    """Seed x K table of the error at the ridge tuned on the seed average.

    Every K is trained on the same data per seed, so K's are paired over seeds.
    """
    opt = _tuned_stats(sims)[["K", "ridge"]]
    table = sims.merge(opt, on=["K", "ridge"]).pivot(index="seed", columns="K", values="error")
    if table.shape[1] < 2:
        raise NotEvaluable("needs at least two ensemble sizes K")
    return table[sorted(table.columns)]


def _no_free_lunch(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
    tuned = _tuned_per_seed(sims)
    lo, hi = tuned.columns[0], tuned.columns[-1]
    return paired_z(tuned[hi] - tuned[lo]), f"K={lo} to K={hi} at M={p.M}"


def _no_free_lunch_steps(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
    tuned = _tuned_per_seed(sims)
    steps = [paired_z(tuned[b] - tuned[a]) for a, b in itertools.pairwise(tuned.columns)]
    return min(steps), f"K={list(tuned.columns)}"


def _untuned_can_win(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
    k1 = min(p.ks)
    if len(p.ks) < 2:
        raise NotEvaluable("needs at least two ensemble sizes K")
    tv = theory[theory.part == "sim"]
    small_t = tv[tv.ridge == tv.ridge.min()].set_index("K")["error"]
    predicted = float(small_t[k1] / small_t.drop(k1).min())
    if not predicted > INVERSION_MARGIN:
        raise NotEvaluable(
            f"the theory predicts no inversion at the smallest ridge here "
            f"(E_{k1} / min E_K = {predicted:.2f} <= {INVERSION_MARGIN})"
        )
    st = mean_se(sims, ["K", "ridge"], "error")
    small_s = st[st.ridge == st.ridge.min()].set_index("K")["mean"]
    return float(small_s[k1] / small_s.drop(k1).min()), (
        f"K={k1} at the smallest ridge {p.ridge_min:g} (theory ratio {predicted:.2f})"
    )


CHECKS = (
    _error_vs_ridge("V1_error_vs_ridge_K1", K=1),
    _error_vs_ridge("V1_error_vs_ridge_K4", K=4),
    _error_vs_ridge("V1_error_vs_ridge_all_K"),
    Claim(
        "V1_tuned_ridge_error",
        _tuned_error,
        "<=",
        1.0,
        f"min-over-ridge error, sim vs theory on the same grid, for N >= {AGREE_MIN_N}: "
        f"max |sim - theory| / (t-quantile of {N_SE:g} sigma x SE + {REL_TOL:.0%} theory)",
        kind="agreement",
    ),
    Claim(
        "V2_no_free_lunch_simulation",
        _no_free_lunch,
        ">",
        2.0,
        "z-score (paired over seeds) of the increase of the tuned sim error from the "
        "smallest to the largest K",
    ),
    Claim(
        "V2_no_free_lunch_simulation_steps",
        _no_free_lunch_steps,
        ">",
        -2.0,
        "smallest paired z-score of the tuned-error change between consecutive K; "
        "> -2: no step significantly reverses the ordering",
    ),
    Claim(
        "V2_untuned_ridge_ensembles_can_win",
        _untuned_can_win,
        ">",
        1.0,
        "sim error of the smallest K over the best larger K at the smallest ridge, "
        "where the theory predicts the inversion",
    ),
)


# ----------------------------------------------------------------------------
# figures


def figures(p: Params, theory: pd.DataFrame, sims: pd.DataFrame) -> dict:
    """Error vs ridge per K, and the tuned error vs K with its bias/variance split."""
    fig1 = error_vs_ridge_figure(
        theory[theory.part == "fine"],
        sims,
        ["K"],
        [(K,) for K in p.ks],
        [f"K={K}, N={p.M // K}" for K in p.ks],
        ylabel="test MSE",
        title=f"M = KN = {p.M}, P = {p.P}",
        logy=True,
    )
    fig2, ax = figure(width=4.2, height=3.2)
    ok = theory[theory.part == "tuned"].sort_values("K")
    theory_line(ax, ok.K, ok.error, color="C0", label=r"$E^*_K$ (tuned ridge)")
    theory_line(ax, ok.K, ok.bias, color="C1", style="--", label="bias $E_\\infty$")
    theory_line(ax, ok.K, ok.variance / ok.K, color="C2", style=":", label="variance / K")
    opt = optimum_over_ridge(mean_se(sims, ["K", "ridge"], "error"), ["K"])
    sim_points(ax, opt.K, opt["mean"], opt.se, color="C0", label="sim. (best ridge on grid)")
    finish(
        ax,
        xlabel="ensemble size K (N = M/K)",
        ylabel="test MSE at tuned ridge",
        title=f"no free lunch: M = {p.M}, P = {p.P}",
        logx=True,
        logy=True,
    )
    return {
        "error_vs_ridge": caption(
            fig1,
            "Test error against the ridge for each ensemble size K at fixed M = KN: theory "
            "(lines) and simulated ensembles (markers, mean +- SE over seeds).",
        ),
        "optimal_error_vs_K": caption(
            fig2,
            "Error at the tuned ridge against the ensemble size K with its bias and"
            " variance / K parts: theory (lines) and the best ridge of the "
            "simulated grid (markers); K = 1 is optimal.",
        ),
    }


EXPERIMENT = Experiment(
    name="ridge_curve",
    doc="error vs ridge at fixed budget M = K N, theory vs simulation (V1, V2 in simulation)",
    params=Params,
    theory=theory,
    simulate=simulate,
    checks=CHECKS,
    figures=figures,
)
