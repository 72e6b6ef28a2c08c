"""Experiment ``real_data``: adapted vs lazy kernel predictors on real image pairs.

Digits 4 vs 9 (scikit-learn, 8x8, standardised) and, in the full preset,
Fashion-MNIST pullover vs coat.  For each gamma the weight-decay DMFT fixed
point gives the adaptive NTK predictor ``K (K + 2 lam I)^{-1} y``, compared
with the lazy ``K0 (K0 + 2 lam I)^{-1} y`` and ``Phi0 (Phi0 + lam I)^{-1} y``;
a finite GD network at ``gamma`` is compared with the aNTK predictor
(docs/adaptive_kernels.md, section "Real data").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.checks import Claim
from theorylab.core.config import StudyConfig, param
from theorylab.core.errors import ConfigError
from theorylab.core.experiment import Experiment, Seed, frame
from theorylab.core.plotting import caption, figure, finish, theory_line

from .. import simulate as sim
from .. import theory as th
from ..common import need, real_split, theory_seed

NAME = "real_data"


@dataclass(frozen=True)
class Params(StudyConfig):
    """Parameters of ``real_data``."""

    datasets: tuple[str, ...] = param(("digits",), "data sets", choices=("digits", "fashion"))
    P: int = param(100, "training points", ge=4, le=20000)
    P_test: int = param(1000, "test points (at most what the pair leaves)", ge=1, le=20000)
    lam: float = param(0.5, "weight decay", gt=0, le=10)
    gamma: float = param(1.0, "richness of the claims and of the finite network", gt=0, le=20)
    gammas: tuple[float, ...] = param((0.5, 1.0), "richness sweep", gt=0, le=20)
    width: int = param(1000, "DMFT population (weight-space width)", ge=100, le=10**6)
    net_width: int = param(500, "finite GD network width", ge=8, le=10**6)
    lam_t_min: float = param(15.0, "minimum lam * t of every flow", gt=0, le=1e4)

    def check(self) -> None:
        if self.gamma not in self.gammas:
            raise ConfigError("gamma", self.gamma, f"must be one of gammas={self.gammas}")


def _split(p, dataset):
    return real_split(NAME, dataset, p.P, p.P_test)


def _dmft(p, X, y, Xt, gamma, key):
    return th.dmft_weight_decay(
        X, y, Xt, gamma, p.lam, width=p.width, seed=key, lam_t_min=p.lam_t_min, tol=1e-3
    )


def theory(p: Params) -> pd.DataFrame:
    """Test MSE and alignment of adapted and lazy predictors per (dataset, gamma)."""
    rows = []
    for ds in p.datasets:
        X, y, Xt, yt = _split(p, ds)
        lk = th.lazy_kernels(np.vstack([X, Xt]))
        P = len(y)
        K0, Phi0 = lk["K0"], lk["Phi0"]
        f_K0 = th.kernel_predictor(K0[:P, :P], K0[P:, :P], y, 2 * p.lam)
        f_P0 = th.kernel_predictor(Phi0[:P, :P], Phi0[P:, :P], y, p.lam)
        for g in p.gammas:
            r = _dmft(p, X, y, Xt, g, theory_seed(NAME).key("population", ds, g))
            rows.append(
                frame(
                    kind="sweep",
                    dataset=ds,
                    gamma=g,
                    mse_antk=float(np.mean((r["f_ntk"] - yt) ** 2)),
                    mse_aphi=float(np.mean((r["f_phi"] - yt) ** 2)),
                    mse_K0=float(np.mean((f_K0 - yt) ** 2)),
                    mse_Phi0=float(np.mean((f_P0 - yt) ** 2)),
                    align_K=th.raw_alignment(r["K"], y),
                    align_K0=th.raw_alignment(K0[:P, :P], y),
                    nalign_K=r["alignment_K"],
                    nalign_K0=th.alignment(K0[:P, :P], y),
                )
            )
            if g == p.gamma:
                rows.append(
                    frame(
                        kind="predictor",
                        dataset=ds,
                        gamma=g,
                        i=np.arange(len(yt)),
                        value=r["f_ntk"],
                    )
                )
    return pd.concat(rows, ignore_index=True)


def simulate(p: Params, seed: Seed) -> pd.DataFrame:
    """Test predictions of a finite GD network at ``gamma`` per data set."""
    rows = []
    for ds in p.datasets:
        X, y, Xt, _ = _split(p, ds)
        out = sim.train_weight_decay(
            X,
            y,
            p.gamma,
            p.lam,
            width=p.net_width,
            X_test=Xt,
            seed=seed.key("init", ds),
            lam_t_min=p.lam_t_min,
            tol=1e-3,
        )
        rows.append(frame(dataset=ds, i=np.arange(len(Xt)), value=out["f_test"]))
    return pd.concat(rows, ignore_index=True)


def _row(p, theory):
    s = need(theory[(theory.kind == "sweep") & (theory.dataset == "digits")], "digits sweep")
    return s[np.isclose(s.gamma, p.gamma)].iloc[0]


def _mse(p, theory, sims):
    r = _row(p, theory)
    return r.mse_antk / r.mse_K0, (
        f"digits 4 vs 9, gamma = {p.gamma:g}, lam = {p.lam:g}: aNTK {r.mse_antk:.4g} vs "
        f"K0 {r.mse_K0:.4g} (Phi0 {r.mse_Phi0:.4g}, adapted Phi {r.mse_aphi:.4g})"
    )


def _align(p, theory, sims):
    r = _row(p, theory)
    return r.align_K / r.align_K0, (
        f"y^T K y / P: adapted {r.align_K:.4g} vs K0 {r.align_K0:.4g} "
        f"(normalised: {r.nalign_K:.3g} vs {r.nalign_K0:.3g})"
    )


def _net(p, theory, sims):
    ref = need(theory[(theory.kind == "predictor") & (theory.dataset == "digits")], "predictor")
    ref = ref.set_index("i").value
    errs = []
    for _, g in need(sims[sims.dataset == "digits"], "network").groupby("seed"):
        f = g.set_index("i").value.reindex(ref.index)
        errs.append(float(np.linalg.norm(f - ref) / np.linalg.norm(ref)))
    return max(
        errs
    ), f"width {p.net_width} vs aNTK predictor (population {p.width}), per seed " + ", ".join(
        f"{e:.3g}" for e in errs
    )


CHECKS = (
    Claim(
        "real_data_antk_beats_lazy",
        _mse,
        "<=",
        0.8,
        "test MSE of the aNTK predictor / that of K0 (ridge 2 lam)",
    ),
    Claim(
        "real_data_alignment_grows",
        _align,
        ">=",
        2.0,
        "alignment y^T K y / P of the adapted NTK / that of K0",
    ),
    Claim(
        "real_data_network_is_antk",
        _net,
        "<=",
        0.1,
        "finite GD network vs aNTK predictor: worst relative test-prediction difference",
    ),
)


def figures(p: Params, theory, sims) -> dict:
    """Test loss vs gamma, adapted and lazy, per data set."""
    out = {}
    for ds in p.datasets:
        s = theory[(theory.kind == "sweep") & (theory.dataset == ds)].sort_values("gamma")
        fig, ax = figure()
        theory_line(ax, s.gamma, s.mse_antk, label="adaptive NTK", marker="o")
        theory_line(ax, s.gamma, s.mse_aphi, label=r"adaptive $\Phi$", marker="s", style="-.")
        theory_line(ax, s.gamma, s.mse_K0, label=r"lazy $K_0$", style="--")
        theory_line(ax, s.gamma, s.mse_Phi0, label=r"lazy $\Phi_0$", style=":")
        finish(
            ax,
            xlabel=r"richness $\gamma$",
            ylabel="test MSE",
            logx=True,
            title=f"{ds}, P = {p.P}, $\\lambda$ = {p.lam:g}",
        )
        out[f"real_data_{ds}"] = caption(
            fig,
            f"Test MSE against the richness gamma on {ds}: the adaptive NTK and adaptive "
            "Phi predictors against the lazy kernels K_0 and Phi_0.",
        )
    return out


EXPERIMENT = Experiment(
    name=NAME,
    doc="adapted vs lazy kernel predictors on digits 4 vs 9 (and Fashion-MNIST)",
    params=Params,
    theory=theory,
    simulate=simulate,
    checks=CHECKS,
    figures=figures,
)
