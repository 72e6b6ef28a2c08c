"""Experiment ``no_free_lunch`` (V2 in theory): the tuned error on random tasks.

The paper's main claim, checked with the theory alone: at fixed budget
M = K N and tuned ridge, E*_K increases with K, on random draws of
(alpha, r, noise, P, M); and its companion, "more is better": the tuned error
decreases in N and in P (docs/rf_ensembles.md, "Checks").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.checks import Claim
from theorylab.core.config import StudyConfig, param
from theorylab.core.experiment import Experiment, Seed, frame
from theorylab.core.spectra import power_law_spectrum

from .. import theory as th
from ..common import STUDY_ID

# the three tasks (alpha, r, noise) of the N- and P-sweeps (docs/rf_ensembles.md)
MONOTONE_TASKS = ((1.5, 0.8, 0.1), (1.2, 0.4, 0.5), (2.0, 1.2, 0.0))
MONOTONE_GRID = np.array([10.0, 30.0, 100.0, 300.0, 1000.0])


@dataclass(frozen=True)
class Params(StudyConfig):
    """Parameters of ``no_free_lunch`` (its tasks are drawn, not the study's)."""

    D: int = param(20_000, "modes of the spectra", ge=100, le=10**7)
    draws: int = param(12, "random (alpha, r, noise, P, M) draws", ge=1, le=10_000)
    ks: tuple[int, ...] = param((1, 2, 4, 8), "ensemble sizes K", ge=1, le=10_000)
    draw_seed: int = param(0, "seed of the random task draws", ge=0, lt=2**32)


def _draws(p: Params) -> pd.DataFrame:
    """The random tasks, from the experiment's own named stream."""
    rng = Seed(STUDY_ID, "no_free_lunch", p.draw_seed).rng("tasks")
    n = p.draws
    return pd.DataFrame(
        {
            "alpha": rng.uniform(1.1, 3.0, n),
            "r": rng.uniform(0.2, 1.5, n),
            "noise": rng.choice([0.0, 0.3], n),
            "P": np.round(np.exp(rng.uniform(np.log(30), np.log(500), n))),
            "M": np.round(np.exp(rng.uniform(np.log(8 * max(p.ks)), np.log(2000), n))),
        }
    )


def theory(p: Params) -> pd.DataFrame:
    """Tuned E*_K over K per random draw (``part`` ``random``) and the tuned error
    along N and P sweeps at K = 2 (``part`` ``monotone_N``, ``monotone_P``)."""
    ks = np.array(p.ks, dtype=float)
    frames = []
    for i, task in _draws(p).iterrows():
        sp = power_law_spectrum(p.D, task.alpha, task.r)
        e, ridge = th.optimal_error(sp.eigs, sp.target_power, task.P, task.M / ks, ks, task.noise)
        frames.append(
            frame(part="random", draw=i, **task, K=ks, N=task.M / ks, ridge=ridge, error=e)
        )
    grid = MONOTONE_GRID
    for j, (alpha, r, noise) in enumerate(MONOTONE_TASKS):
        sp = power_law_spectrum(p.D, alpha, r)
        eN, _ = th.optimal_error(sp.eigs, sp.target_power, 100.0, grid, 2.0, noise)
        eP, _ = th.optimal_error(sp.eigs, sp.target_power, grid, 100.0, 2.0, noise)
        common = dict(task=j, alpha=alpha, r=r, noise=noise, K=2.0)
        frames.append(frame(part="monotone_N", N=grid, P=100.0, error=eN, **common))
        frames.append(frame(part="monotone_P", P=grid, N=100.0, error=eP, **common))
    return pd.concat(frames, ignore_index=True)


def _increasing_fraction(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
    nfl = theory[theory.part == "random"].sort_values(["draw", "K"])
    rel_inc = nfl.groupby("draw")["error"].apply(
        lambda e: float(np.min(np.diff(e.to_numpy()) / e.to_numpy()[:-1]))
    )
    return float((rel_inc > 0).mean()), (
        f"{int((rel_inc > 0).sum())} of {len(rel_inc)} draws, K={list(p.ks)}"
    )


def _monotone_failures(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
    fails = total = 0
    for part, along in (("monotone_N", "N"), ("monotone_P", "P")):
        for _, g in theory[theory.part == part].groupby("task"):
            total += 1
            fails += int(np.any(np.diff(g.sort_values(along)["error"].to_numpy()) >= 0))
    return float(fails), f"{fails} of {total} sweeps"


EXPERIMENT = Experiment(
    name="no_free_lunch",
    doc="theory: tuned E*_K increases with K on random tasks; decreases in N and P (V2)",
    params=Params,
    theory=theory,
    checks=(
        Claim(
            "V2_no_free_lunch_theory",
            _increasing_fraction,
            ">=",
            1.0,
            "fraction of random (alpha in [1.1, 3], r in [0.2, 1.5], noise in {0, 0.3}, P, M) "
            "draws where the tuned E_K strictly increases over K",
        ),
        Claim(
            "V2_more_is_better_N_and_P",
            _monotone_failures,
            "<=",
            0.0,
            "sweeps (three tasks, N and P from 10 to 1000, K = 2) where the tuned error "
            "fails to decrease in N or P",
        ),
    ),
)
