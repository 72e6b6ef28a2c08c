"""A3 ``rf``: online SGD on N linear random features.

Three curves per N: the deterministic equivalent (generating function), the
exact recursion given each seed's projection F, and SGD on that F.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.checks import Agreement, Paired
from theorylab.core.config import param
from theorylab.core.deteq import rf_error
from theorylab.core.experiment import Experiment, Seed, frame
from theorylab.core.plotting import caption, colors, figure, finish, sim_points, theory_line

from .. import simulate as sim
from .. import theory as th
from ..common import DE_REL, EXACT_REL, N_SE, Shared, curve_stats, power_law, record_times, since


@dataclass(frozen=True)
class Params(Shared):
    D: int = param(1000, "dimensions", ge=1, le=100_000)
    Ns: tuple[int, ...] = param((100,), "numbers of random features", ge=1, le=100_000)
    batch: int = param(4, "batch size", ge=1, le=10**4)
    lr: float = param(1.5, "learning rate", gt=0.0, le=1e3)
    steps: int = param(1000, "SGD steps", ge=1, le=10**6)
    runs: int = param(30, "SGD runs per seed (one projection F per seed)", ge=1, le=10**5)
    noise: float = param(0.0, "label-noise variance", ge=0.0, le=100.0)


def theory(p: Params) -> pd.DataFrame:
    sp = power_law(p.D, p.alpha, p.r)
    ts = record_times(p.steps, p.record_points)
    rows = []
    for N in p.Ns:
        L = th.online_rf_curve(sp.eigs, sp.target_power, N, p.lr, p.batch, p.steps, p.noise)
        # RF approximation floor (P = inf, ridgeless): the single-member RF error
        floor = float(rf_error(sp.eigs, sp.target_power, np.inf, N, 0.0, p.noise))
        rows.append(frame(N=N, t=ts, test=L[ts], floor=floor))
    return pd.concat(rows, ignore_index=True)


def simulate(p: Params, seed: Seed) -> pd.DataFrame:
    sp = power_law(p.D, p.alpha, p.r)
    ts = record_times(p.steps, p.record_points)
    rows = []
    for N in p.Ns:
        proj = sim.rf_projection(seed.key("features", N), sp.eigs, sp.weights, p.noise, N)
        curves = sim.online_rf(seed.key("sgd", N), proj, p.lr, p.batch, p.steps, p.runs)
        exact = sim.online_rf_exact(proj, p.lr, p.batch, p.steps)
        rows.append(frame(N=N, t=ts, test=curves.mean(0)[ts], exact_given_F=exact[ts]))
    return pd.concat(rows, ignore_index=True)


def figures(p: Params, theory: pd.DataFrame, sims: pd.DataFrame) -> dict:
    fig, ax = figure(width=4.2, height=3.2)
    m = curve_stats(theory, sims, "N", "test")
    e = curve_stats(theory, sims, "N", "test", "exact_given_F")
    for c, N in zip(colors(len(p.Ns)), p.Ns, strict=True):
        g, h = m[m.N == N], e[e.N == N]
        theory_line(ax, g.t, g["value"], color=c, label=f"N={N}")
        ax.plot(h.t, h["mean"], ":", color=c)
        sim_points(ax, g.t, g["mean"], g.se, color=c)
        ax.axhline(theory[theory.N == N]["floor"].iloc[0], color=c, lw=0.8, ls="--")
    title = f"online random features, D={p.D} (dashed: RF floor)"
    finish(ax, xlabel="step t", ylabel="test loss", title=title, logx=True, logy=True)
    return {
        "online_rf": caption(
            fig,
            "Online SGD on random-feature models of N features: test loss against step, theory "
            "(lines) and simulation (markers, mean +- SE over seeds).",
        )
    }


EXPERIMENT = Experiment(
    name="rf",
    doc="A3: online SGD on N random features: equivalent, exact recursion given F, simulation",
    params=Params,
    theory=theory,
    simulate=simulate,
    checks=(
        Agreement(
            "A3_online_rf_equivalent",
            "exact_given_F",
            on=("N", "t"),
            theory_column="test",
            rel=DE_REL,
            n_se=N_SE,
            where=since(1),
            detail="online RF: deterministic equivalent vs the exact recursion given F, "
            "averaged over F",
        ),
        Paired(
            "A3_online_rf_simulation_given_F",
            "test",
            "exact_given_F",
            on=("N", "t"),
            rel=EXACT_REL,
            n_se=N_SE,
            where=since(1),
            detail="online RF SGD vs the exact recursion of the same projection F",
        ),
    ),
    figures=figures,
)
