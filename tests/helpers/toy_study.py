"""A minimal study used to test the contract: estimate a Gaussian mean.

Theory: the mean is ``mu``.  Simulation: the sample mean of ``n`` draws.
The claim check ``mean_below`` passes when the simulated mean is below
``claim_bound`` (set it low to force a failing check).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.compare import mean_se
from theorylab.core.config import StudyConfig, param
from theorylab.core.plotting import figure, finish, sim_points, theory_line
from theorylab.core.results import Check
from theorylab.core.study import Paper, Study

CALLS: list[int] = []
INTERRUPT_AT: set[int] = set()  # seeds whose simulation raises KeyboardInterrupt
INTERRUPT_N: set[int] = set()  # values of n whose simulation raises KeyboardInterrupt
FAIL_N: set[int] = set()  # values of n whose simulation raises ValueError


@dataclass(frozen=True)
class Config(StudyConfig):
    mu: float = param(1.0, "true mean")
    n: int = param(100, "draws per seed", ge=1)
    claim_bound: float = param(10.0, "the claim passes when the mean is below this")
    label: str = param("a", "a label", choices=("a", "b"))
    flag: bool = param(False, "a flag")
    crash_marker: str = param("", "if set and missing: create it, then kill the process")
    crash_n: int = param(-1, "the n at which crash_marker applies")


def theory(cfg: Config) -> pd.DataFrame:
    return pd.DataFrame({"quantity": ["mean"], "value": [cfg.mu]})


def simulate(cfg: Config, seed: int) -> pd.DataFrame:
    if seed in INTERRUPT_AT or cfg.n in INTERRUPT_N:
        raise KeyboardInterrupt
    if cfg.n in FAIL_N:
        raise ValueError(f"toy failure at n={cfg.n}")
    if cfg.crash_marker and cfg.n == cfg.crash_n and not os.path.exists(cfg.crash_marker):
        open(cfg.crash_marker, "w").close()
        os._exit(1)  # the worker process dies mid-task
    CALLS.append(seed)
    x = np.random.default_rng(seed).normal(cfg.mu, 1.0, cfg.n)
    return pd.DataFrame({"quantity": ["mean"], "value": [x.mean()]})


def checks(cfg: Config, th: pd.DataFrame, sims: pd.DataFrame) -> list[Check]:
    st = mean_se(sims, ["quantity"], "value")
    m, se = float(st["mean"].iloc[0]), float(st["se"].iloc[0])
    return [
        Check.evaluate("mean_agrees", "agreement", abs(m - cfg.mu) / max(se, 1e-12), 4.0, "<="),
        Check.evaluate("mean_below", "claim", m, cfg.claim_bound, "<"),
    ]


def figures(cfg: Config, th: pd.DataFrame, sims: pd.DataFrame) -> dict:
    fig, ax = figure()
    theory_line(ax, [0, 1], [cfg.mu, cfg.mu], label="theory")
    sim_points(ax, sims.seed, sims.value, label="sim")
    finish(ax, xlabel="seed", ylabel="mean")
    return {"means": fig}


STUDY = Study(
    id="toy",
    title="Toy: Gaussian mean",
    paper=Paper(title="A toy", arxiv="0000.00000"),
    config=Config,
    presets={"quick": Config(), "full": Config(n=1000)},
    theory=theory,
    simulate=simulate,
    checks=checks,
    figures=figures,
    seeds={"quick": 5, "full": 10},
)
