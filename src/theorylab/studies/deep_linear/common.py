"""Pieces shared by the deep_linear experiments: fields, curves, agreement checks, figures.

The four single-network experiments (V2-V5) differ only in their parameters:
:func:`curve_experiment` builds each of them from a parameter class whose
``model()`` gives the arguments of :func:`~theorylab.studies.deep_linear.theory.dmft`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from theorylab.core.checks import Agreement
from theorylab.core.compare import mean_se
from theorylab.core.config import param
from theorylab.core.errors import DivergenceError
from theorylab.core.experiment import Experiment, Seed
from theorylab.core.plotting import caption, figure, finish, sim_points, theory_line

from . import simulate as sim
from . import theory as th

# Coverage of every theory-vs-simulation check: 3 normal sigmas, as a Student-t
# multiple of the SE over the seeds (4.4 SE for 12 seeds).
N_SE = 3.0
# Relative slack of the DMFT (the D -> infinity limit) against a network at D = 200-400:
# the finite-size gaps measured when the study was specified are 1-3 % (docs/deep_linear.md,
# "What agrees" and "Full preset").
REL_TOL = 0.03


# -- fields with the same meaning and range in every experiment ----------------


def input_dim(default: int) -> int:
    """The simulation's input dimension D (N = nu D hidden units, P = alpha D samples)."""
    return param(default, "input dimension D of the simulation", ge=10, le=4096)


def width_ratio(default: float) -> float:
    return param(default, "width ratio nu = N / D", gt=0.0, le=16.0)


def data_ratio(default: float, doc: str = "data ratio alpha = P / D") -> float:
    return param(default, doc, gt=0.0, le=1000.0)


def learning_rate(default: float) -> float:
    return param(default, "learning rate eta0 (raw step eta0 gamma0^2 N)", gt=0.0, le=10.0)


def n_steps(default: int, doc: str = "GD steps T") -> int:
    return param(default, doc, ge=2, le=1000)


# -- tables ---------------------------------------------------------------------


def check_times(steps: int) -> list[int]:
    """The four times an agreement check compares: T/8, T/4, T/2 and T - 1."""
    return sorted({max(1, steps // 8), steps // 4, steps // 2, steps - 1})


def at_check_times(merged: pd.DataFrame, p) -> np.ndarray:
    """``where`` filter of the curve agreements: the rows at :func:`check_times` of ``p.steps``."""
    return merged["t"].isin(check_times(p.steps)).to_numpy()


def curve_agreement(
    name: str, column: str, detail: str, rel: float = REL_TOL, on: tuple[str, ...] = ("t",)
) -> Agreement:
    """DMFT vs the simulation's mean over seeds of ``column`` at the four check times."""
    return Agreement(name, column, on=on, rel=rel, n_se=N_SE, where=at_check_times, detail=detail)


def simulated_curves(seeds: Sequence[Seed], D: int, path: tuple = (), **model) -> pd.DataFrame:
    """Every seed's network trained at once (vmapped): columns seed, t, test_excess, train_mse.

    Each seed's weights, teacher and data come from ``seed.key("train", *path)``.
    """
    keys = [s.key("train", *path) for s in seeds]
    test, train = sim.train_curves(keys, D=D, **model)
    n, T = test.shape
    return pd.DataFrame(
        {
            "seed": np.repeat([s.seed for s in seeds], T),
            "t": np.tile(np.arange(T), n),
            "test_excess": test.ravel(),
            "train_mse": train.ravel(),
        }
    )


def final_or_inf(**model) -> float:
    """The DMFT's test excess error at the last step (inf when it diverges)."""
    try:
        return float(th.dmft(**model).test_excess.iloc[-1])
    except DivergenceError:
        return float("inf")


# -- the V2-V5 experiments ------------------------------------------------------

_LABEL = {"test_excess": "test excess", "train_mse": "train MSE"}


def curve_figure(theory: pd.DataFrame, sims: pd.DataFrame, title: str, columns: Sequence[str]):
    """DMFT lines and simulation means (+- SE) of ``columns`` against t."""
    fig, ax = figure(width=4.0, height=3.1)
    for color, col in zip(("C0", "C3"), columns, strict=False):
        st = mean_se(sims, ["t"], col)
        theory_line(ax, theory.t, theory[col], color=color, label=f"DMFT, {_LABEL[col]}")
        sim_points(ax, st.t, st["mean"], st.se, color=color, label=f"simulation, {_LABEL[col]}")
    finish(ax, xlabel="step t", ylabel="error", logy=True, title=title)
    return fig


def curve_experiment(
    name: str,
    doc: str,
    params: type,
    checks: tuple,
    title: Callable[[object], str],
    columns: Sequence[str] = ("test_excess",),
) -> Experiment:
    """A one-network experiment: DMFT curve, simulated curves over seeds, one figure.

    ``params`` has the field ``D`` and a method ``model()`` returning the
    arguments of :func:`~theorylab.studies.deep_linear.theory.dmft` (also those of
    :func:`~theorylab.studies.deep_linear.simulate.train_curves`, with ``D``).
    """

    def theory(p) -> pd.DataFrame:
        return th.dmft(**p.model())

    def simulate(p, seeds: list[Seed]) -> pd.DataFrame:
        return simulated_curves(seeds, p.D, **p.model())

    def figures(p, theory: pd.DataFrame, sims: pd.DataFrame) -> dict:
        fig = curve_figure(theory, sims, title(p), columns)
        text = (
            f"Test excess error of the {name} setting against training step: DMFT (lines) "
            "and trained deep linear networks (markers, mean +- SE over seeds)."
        )
        return {f"agreement_{name}": caption(fig, text)}

    return Experiment(
        name=name,
        doc=doc,
        params=params,
        theory=theory,
        simulate=simulate,
        checks=checks,
        figures=figures,
        batched=True,
    )
