"""Experiment ``bptt``: SGD with back-propagation through time on the noise-driven RNN.

The RNN itself, driven by white noise (Euler-Maruyama), trained from W0 = 0
by minibatch SGD (optax) on its squared output error; the exact stationary
loss (A1) of the trained snapshots against gradient flow of (A1) from the
same initialisation (docs/rnn_integration.md, section "Stochastic BPTT on
the white-noise-driven RNN").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from theorylab.core.checks import Agreement
from theorylab.core.config import param
from theorylab.core.errors import ConfigError
from theorylab.core.experiment import Experiment, Seed, frame
from theorylab.core.plotting import caption, figure, finish, sim_points, theory_line

from .. import simulate as sim
from .. import theory as th
from ..common import WHY_C, Shared, mean_curve, outlier

# O(dt, lr) discretisation of SGD + Euler-Maruyama vs gradient flow (1.2 % measured)
BPTT_REL = 0.05
_EVERY = 2  # updates between snapshots


@dataclass(frozen=True)
class Params(Shared):
    c_star: float = param(0.5, "target decay (short memory, short trials)", gt=0.0, le=10.0)
    a0: float = param(0.2, "initial scale |u0| = |v0| (orthogonal)", gt=0.0, le=10.0)
    N: int = param(16, "neurons (W0 = 0)", ge=2, le=4096)
    lr_time: float = param(0.05, "gradient-flow time per SGD update", gt=0.0, le=10.0)
    updates: int = param(200, "SGD updates", ge=2, le=1_000_000)
    batch: int = param(32, "white-noise trials per update", ge=1, le=65_536)
    dt: float = param(0.05, "Euler-Maruyama step of the RNN", gt=0.0, le=1.0)
    burn: float = param(6.0, "discarded transient of each trial", ge=0.0, le=1e4)
    window: float = param(6.0, "averaging window of each trial", gt=0.0, le=1e4)

    WHY: ClassVar[dict[str, str]] = {"c_star": WHY_C}

    def check(self) -> None:
        if self.updates % _EVERY:
            raise ConfigError("updates", self.updates, "must be even")


def _times(p: Params) -> np.ndarray:
    return p.lr_time * _EVERY * np.arange(p.updates // _EVERY + 1)


def _summary(t_esc: float, final_outlier: float) -> pd.DataFrame:
    return frame(part="summary", quantity=["t_esc", "final_outlier"], value=[t_esc, final_outlier])


def theory(p: Params) -> pd.DataFrame:
    t = _times(p)
    r = th.reduced_dynamics(p.c_star, p.eta, p.a0, t)
    curve = frame(part="curve", t=t, loss=r.loss.to_numpy(), outlier=r.eig_real.to_numpy())
    summary = _summary(th.plateau_end(t, r.loss), r.eig_real.iloc[-1])
    return pd.concat([curve, summary], ignore_index=True)


def simulate(p: Params, seed: Seed) -> pd.DataFrame:
    W0, u0, v0 = sim.init_network(seed.key("init"), p.N, 0.0, p.a0)
    r = sim.bptt_sgd(
        seed.key("noise"),
        W0,
        u0,
        v0,
        p.c_star,
        p.eta,
        p.lr_time,
        p.updates,
        dt_noise=p.dt,
        burn_in=p.burn,
        window=p.window,
        batch=p.batch,
        every=_EVERY,
    )
    L = sim.exact_losses(r["W"], r["u"], r["v"], p.c_star)
    top, _ = outlier(r["W"])
    curve = frame(part="curve", t=r["t"], loss=L, outlier=top)
    return pd.concat([curve, _summary(th.plateau_end(r["t"], L), top[-1])], ignore_index=True)


def figures(p: Params, theory: pd.DataFrame, sims: pd.DataFrame) -> dict:
    fig, axes = figure(ncols=2, width=3.8, height=3.0)
    tc, sc = theory[theory.part == "curve"], sims[sims.part == "curve"]
    for ax, q, lab in zip(
        axes, ("loss", "outlier"), ("exact loss (A1)", "outlier eigenvalue"), strict=True
    ):
        theory_line(ax, tc.t, tc[q], color="C0", label="gradient flow of (A1)")
        tt, y, se = mean_curve(sc, q)
        sim_points(ax, tt[::4], y[::4], se[::4], color="k", label="SGD + BPTT, white noise")
        title = f"c*={p.c_star:g}, N={p.N}"
        finish(ax, xlabel="training time t = updates x lr", ylabel=lab, title=title)
    return {
        "bptt": caption(
            fig,
            "Training by SGD with backpropagation through time on white-noise "
            "inputs (markers, mean +- SE over seeds) against the gradient flow of "
            "the reduced dynamics (line).",
        )
    }


EXPERIMENT = Experiment(
    name="bptt",
    doc="SGD + BPTT on the white-noise-driven RNN vs gradient flow of the stationary loss (A1)",
    params=Params,
    theory=theory,
    simulate=simulate,
    checks=(
        Agreement(
            "bptt_vs_gradient_flow",
            "value",
            on=("quantity",),
            rel=BPTT_REL,
            select={"part": "summary"},
            detail="SGD + BPTT on the noise-driven RNN vs gradient flow of (A1) from the same "
            "initialisation: escape time of the exact loss and final outlier",
        ),
    ),
    figures=figures,
)
