"""Experiment ``dmft``: the weight-decay DMFT fixed point is a kernel machine; finite width.

Synthetic teacher task, ReLU, gradient flow with weight decay ``lam``.  The
DMFT fixed point (weight space, population = neurons of a width-``width``
network) satisfies ``f_test = Phi (Phi + lam I)^{-1} y`` and
``f_test = K (K + 2 lam I)^{-1} y`` with the final kernels; finite-width GD
networks approach its test predictions as the width grows
(docs/adaptive_kernels.md, section "Weight-decay DMFT").
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.checks import Claim
from theorylab.core.config import StudyConfig, param
from theorylab.core.errors import ConfigError
from theorylab.core.experiment import Experiment, Seed, frame
from theorylab.core.plotting import caption, figure, finish, sim_points

from .. import simulate as sim
from .. import theory as th
from ..common import need, teacher_task, theory_seed

NAME = "dmft"


@dataclass(frozen=True)
class Params(StudyConfig):
    """Parameters of ``dmft``."""

    D: int = param(20, "input dimension", ge=1, le=4096)
    P: int = param(30, "training points", ge=2, le=5000)
    P_test: int = param(100, "test points", ge=1, le=20000)
    gamma: float = param(1.0, "richness", gt=0, le=20)
    lam: float = param(0.5, "weight decay", gt=0, le=10)
    width: int = param(4000, "DMFT population (weight-space network width)", ge=100, le=10**6)
    widths: tuple[int, ...] = param((400, 1600), "finite widths N (increasing)", ge=8, le=10**6)
    lam_t_min: float = param(60.0, "minimum lam * t of every flow", gt=0, le=1e4)

    def check(self) -> None:
        w = self.widths
        if len(w) < 2 or any(b <= a for a, b in itertools.pairwise(w)):
            raise ConfigError("widths", w, "must hold >= 2 increasing widths")
        if w[-1] >= self.width:
            raise ConfigError("widths", w, f"every width must be < width={self.width}")


def _task(p):
    X, y = teacher_task(NAME, p.D, p.P + p.P_test)
    return X[: p.P], y[: p.P], X[p.P :], y[p.P :]


def theory(p: Params) -> pd.DataFrame:
    """The two kernel-machine identities and the DMFT test predictions."""
    X, y, Xt, _ = _task(p)
    r = th.dmft_weight_decay(
        X,
        y,
        Xt,
        p.gamma,
        p.lam,
        width=p.width,
        seed=theory_seed(NAME).key("population"),
        lam_t_min=p.lam_t_min,
    )
    return pd.concat(
        [
            frame(
                kind="identity",
                form=["phi", "ntk"],
                value=[r["identity_phi"], r["identity_ntk"]],
                steps=r["steps"],
                t=r["t"],
            ),
            frame(kind="predictor", i=np.arange(len(Xt)), value=r["f_test"]),
            frame(
                kind="alignment", form=["K", "Phi"], value=[r["alignment_K"], r["alignment_Phi"]]
            ),
        ],
        ignore_index=True,
    )


def simulate(p: Params, seed: Seed) -> pd.DataFrame:
    """Test predictions of GD networks at every finite width."""
    X, y, Xt, _ = _task(p)
    rows = []
    for N in p.widths:
        out = sim.train_weight_decay(
            X,
            y,
            p.gamma,
            p.lam,
            width=N,
            seed=seed.key("init", N),
            X_test=Xt,
            lam_t_min=p.lam_t_min,
        )
        rows.append(frame(width=N, i=np.arange(len(Xt)), value=out["f_test"]))
    return pd.concat(rows, ignore_index=True)


def _identity(form):
    def fn(p, theory, sims):
        r = need(theory[(theory.kind == "identity") & (theory.form == form)], "identity")
        return float(
            r.value.iloc[0]
        ), f"after {int(r.steps.iloc[0])} steps, lam t = {p.lam * r.t.iloc[0]:.3g}"

    return fn


def width_errors(theory, sims) -> pd.DataFrame:
    """Per (width, seed): |f_N - f_DMFT| / |f_DMFT| on the test points."""
    ref = need(theory[theory.kind == "predictor"], "predictor").set_index("i").value
    out = []
    for (N, s), g in need(sims, "simulation").groupby(["width", "seed"]):
        f = g.set_index("i").value.reindex(ref.index)
        out.append(
            dict(width=N, seed=s, error=float(np.linalg.norm(f - ref) / np.linalg.norm(ref)))
        )
    return pd.DataFrame(out)


def _smallest(p, theory, sims):
    e = width_errors(theory, sims).groupby("width").error
    m, se = e.mean(), e.sem()
    text = ", ".join(f"N={N}: {m[N]:.3g} +- {se[N]:.2g}" for N in m.index)
    return float(m.iloc[0]), f"vs DMFT population {p.width}; {text}"


def _decreasing(p, theory, sims):
    m = width_errors(theory, sims).groupby("width").error.mean()
    return float(
        np.max(m.to_numpy()[1:] / m.to_numpy()[:-1])
    ), "largest ratio of neighbours' errors"


CHECKS = (
    Claim(
        "dmft_identity_phi",
        _identity("phi"),
        "<=",
        1e-3,
        "|f_test - Phi (Phi + lam I)^-1 y| / |f_test| at the fixed point",
        kind="agreement",
    ),
    Claim(
        "dmft_identity_ntk",
        _identity("ntk"),
        "<=",
        6e-2,
        "|f_test - K (K + 2 lam I)^-1 y| / |f_test| at the fixed point",
        kind="agreement",
    ),
    Claim(
        "dmft_vs_width",
        _smallest,
        "<=",
        0.03,
        "finite-width GD vs DMFT test predictions at the smallest width (tol 0.03)",
        kind="agreement",
    ),
    Claim(
        "dmft_error_decreases",
        _decreasing,
        "<",
        1.0,
        "the finite-width error decreases with the width",
        kind="agreement",
    ),
)


def figures(p: Params, theory, sims) -> dict:
    """Finite-width error vs N."""
    fig, ax = figure()
    e = width_errors(theory, sims).groupby("width").error
    sim_points(ax, e.mean().index, e.mean(), e.sem(), label="GD network vs DMFT")
    N = np.asarray(e.mean().index, dtype=float)
    ax.plot(N, e.mean().iloc[0] * np.sqrt(N[0] / N), "k:", lw=1, label=r"$\propto N^{-1/2}$")
    finish(
        ax,
        xlabel="width N",
        ylabel=r"$|f_N - f_{DMFT}| / |f_{DMFT}|$",
        logx=True,
        logy=True,
        title=rf"$\gamma$={p.gamma:g}, $\lambda$={p.lam:g}",
    )
    return {
        "dmft_width": caption(
            fig,
            "Weight-decay training: relative difference between finite-width "
            "gradient-descent networks and the DMFT fixed point against the width "
            "N, with the N^-1/2 reference (dotted).",
        )
    }


EXPERIMENT = Experiment(
    name=NAME,
    doc="weight-decay DMFT fixed point is a kernel machine; finite-width GD converges to it",
    params=Params,
    theory=theory,
    simulate=simulate,
    checks=CHECKS,
    figures=figures,
)
