"""A4 ``gd``: full-batch GD on P samples, train and test curves vs the two-point equivalent.

Batched: every seed's data sets are drawn and trained in one compiled call
per P (``simulate.sampled_gd``).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import numpy as np
import pandas as pd

from theorylab.core.checks import Agreement, Claim
from theorylab.core.compare import mean_se
from theorylab.core.config import param
from theorylab.core.deteq import support_edge
from theorylab.core.experiment import Experiment, Seed, frame
from theorylab.core.plotting import caption, figure, finish

from .. import simulate as sim
from .. import theory as th
from ..common import DE_REL, N_SE, Shared, curve_stats, plot_curves, power_law, record_times, since


@dataclass(frozen=True)
class Params(Shared):
    D: int = param(200, "dimensions", ge=1, le=20_000)
    Ps: tuple[int, ...] = param((400, 100), "sample sizes", ge=1, le=10**6)
    noise: float = param(0.1, "label-noise variance", ge=0.0, le=100.0)
    lr_frac: float = param(
        0.77, "learning rate times the spectrum edge x+ (stable below 2)", gt=0.0, lt=2.0
    )
    steps: int = param(300, "GD steps", ge=1, le=10**6)
    datasets: int = param(5, "data sets per seed", ge=1, le=10_000)


def learning_rate(p: Params, P: int) -> float:
    """lr_frac / x+, x+ the edge of the equivalent spectrum of P samples."""
    return p.lr_frac / support_edge(power_law(p.D, p.alpha, p.r).eigs, P)


def theory(p: Params) -> pd.DataFrame:
    sp = power_law(p.D, p.alpha, p.r)
    ts = record_times(p.steps, p.record_points)
    rows = []
    for P in p.Ps:
        lr = learning_rate(p, P)
        tr, te = th.gd_curves(sp.eigs, sp.target_power, P, lr, p.steps, p.noise)
        rows.append(
            frame(
                P=P,
                lr=lr,
                t=ts,
                train=tr[ts],
                test=te[ts],
                test_min=te.min(),
                t_test_min=int(np.argmin(te)),
            )
        )
    return pd.concat(rows, ignore_index=True)


def simulate(p: Params, seeds: list[Seed]) -> pd.DataFrame:
    sp = power_law(p.D, p.alpha, p.r)
    ts = record_times(p.steps, p.record_points)
    rows = []
    for P in p.Ps:
        keys = jax.numpy.concatenate(
            [jax.random.split(s.key("data", P), p.datasets) for s in seeds]
        )
        tr, te = sim.sampled_gd(keys, sp.eigs, sp.weights, p.noise, learning_rate(p, P), P, p.steps)
        shape = (len(seeds), p.datasets, -1)
        tr = tr.reshape(shape).mean(1)[:, ts]
        te = te.reshape(shape).mean(1)[:, ts]
        for i, s in enumerate(seeds):
            rows.append(frame(seed=s.seed, P=P, t=ts, train=tr[i], test=te[i]))
    return pd.concat(rows, ignore_index=True)


def _early_stopping(p: Params, theory: pd.DataFrame, sims: pd.DataFrame) -> float:
    """Smallest relative rise of the simulated mean test loss from its minimum to the end."""
    m = mean_se(sims, ["P", "t"], "test")
    return min(
        float((g["mean"].iloc[-1] - g["mean"].min()) / g["mean"].min())
        for _, g in m.sort_values("t").groupby("P")
    )


def figures(p: Params, theory: pd.DataFrame, sims: pd.DataFrame) -> dict:
    fig, axes = figure(ncols=2, width=3.6, height=3.0)
    for ax, q in zip(axes, ("train", "test"), strict=True):
        plot_curves(ax, curve_stats(theory, sims, "P", q), "P", cmap="plasma")
        title = f"full-batch GD, D={p.D}"
        finish(ax, xlabel="step t", ylabel=f"{q} loss", title=title, logx=True, logy=True)
    return {
        "gd": caption(
            fig,
            "Full-batch gradient descent on finite data: train and test loss against step, "
            "deterministic equivalent (lines) and simulation (markers, mean +- SE over data "
            "sets).",
        )
    }


def _agree(name: str, q: str) -> Agreement:
    return Agreement(
        name,
        q,
        on=("P", "t"),
        rel=DE_REL,
        n_se=N_SE,
        # the first steps carry finite-size corrections of a few % (docs)
        where=since(3),
        detail=f"full-batch GD {q} loss, two-point equivalent, t >= 3",
    )


EXPERIMENT = Experiment(
    name="gd",
    doc="A4: full-batch GD train and test curves vs the two-point equivalent",
    params=Params,
    theory=theory,
    simulate=simulate,
    batched=True,
    checks=(
        _agree("A4_gd_test", "test"),
        _agree("A4_gd_train", "train"),
        Claim(
            "A4_early_stopping_minimum",
            _early_stopping,
            ">",
            0.0,
            detail="smallest relative rise of the simulated GD test loss from its minimum to "
            "the last step (> 0: early stopping beats training to the end, sigma^2 > 0)",
        ),
    ),
    figures=figures,
)
