"""A minimal study used to test the contract: estimate a Gaussian's mean and variance.

Study-level field ``mu``.  Experiment ``mean``: theory ``mu``, simulation the
sample mean of ``n`` draws per seed; its claim ``mean_below`` passes when the
simulated mean is below ``claim_bound`` (set it low to force a failing check).
Experiment ``spread`` (batched: every seed in one call): theory variance 1,
simulation the sample variance of ``m`` draws per seed.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.checks import Agreement, Claim
from theorylab.core.compare import mean_se
from theorylab.core.config import StudyConfig, param
from theorylab.core.experiment import Experiment, Seed, frame
from theorylab.core.plotting import figure, finish, sim_points, theory_line
from theorylab.core.study import Paper, Study

CALLS: list[int] = []
INTERRUPT_AT: set[int] = set()  # seeds whose simulation raises KeyboardInterrupt
INTERRUPT_N: set[int] = set()  # values of n whose simulation raises KeyboardInterrupt
FAIL_N: set[int] = set()  # values of n whose simulation raises ValueError


@dataclass(frozen=True)
class Shared(StudyConfig):
    mu: float = param(1.0, "true mean", ge=-1e6, le=1e6)


@dataclass(frozen=True)
class MeanParams(Shared):
    n: int = param(100, "draws per seed", ge=1, le=10**6)
    claim_bound: float = param(
        10.0, "the claim passes when the mean is below this", ge=-1e6, le=1e6
    )
    label: str = param("a", "a label", choices=("a", "b"))
    flag: bool = param(False, "a flag")
    crash_marker: str = param("", "if set and missing: create it, then kill the process")
    crash_n: int = param(-1, "the n at which crash_marker applies", ge=-1)
    sleep: float = param(0.0, "seconds each simulation task sleeps (interrupt tests)", ge=0, le=60)
    use_jax: bool = param(False, "compute the mean with a jitted JAX function")


def mean_theory(p: MeanParams) -> pd.DataFrame:
    return frame(quantity="mean", value=p.mu)


def mean_simulate(p: MeanParams, seed: Seed) -> pd.DataFrame:
    if seed.seed in INTERRUPT_AT or p.n in INTERRUPT_N:
        raise KeyboardInterrupt
    if p.n in FAIL_N:
        raise ValueError(f"toy failure at n={p.n}")
    if p.crash_marker and p.n == p.crash_n and not os.path.exists(p.crash_marker):
        open(p.crash_marker, "w").close()
        os._exit(1)  # the worker process dies mid-task
    CALLS.append(seed.seed)
    if os.environ.get("TOY_CALL_LOG"):  # subprocess tests count the calls
        with open(os.environ["TOY_CALL_LOG"], "a") as f:
            f.write(f"{p.n} {seed.seed}\n")
    if p.sleep:
        time.sleep(p.sleep)
    x = seed.rng("draws").normal(p.mu, 1.0, p.n)
    if p.use_jax:
        import jax
        import jax.numpy as jnp

        return frame(quantity="mean", value=float(jax.jit(jnp.mean)(x)))
    return frame(quantity="mean", value=x.mean())


def _mean_below(p: MeanParams, theory: pd.DataFrame, sims: pd.DataFrame) -> float:
    return float(mean_se(sims, ["quantity"], "value")["mean"].iloc[0])


def mean_figures(p: MeanParams, theory: pd.DataFrame, sims: pd.DataFrame) -> dict:
    fig, ax = figure()
    theory_line(ax, [0, 1], [p.mu, p.mu], label="theory")
    sim_points(ax, sims.seed, sims.value, label="sim")
    finish(ax, xlabel="seed", ylabel="mean")
    return {"means": fig}


MEAN = Experiment(
    name="mean",
    doc="sample mean of n Gaussian draws",
    params=MeanParams,
    theory=mean_theory,
    simulate=mean_simulate,
    checks=(
        Agreement("mean_agrees", "value", on=("quantity",), n_se=4.0),
        Claim("mean_below", _mean_below, "<", lambda p: p.claim_bound),
    ),
    figures=mean_figures,
)


@dataclass(frozen=True)
class SpreadParams(StudyConfig):
    m: int = param(200, "draws per seed", ge=2, le=10**6)


def spread_theory(p: SpreadParams) -> pd.DataFrame:
    return frame(quantity="variance", value=1.0)


def spread_simulate(p: SpreadParams, seeds: list[Seed]) -> pd.DataFrame:
    x = np.stack([s.rng("draws").normal(0.0, 1.0, p.m) for s in seeds])
    return pd.DataFrame(
        {"seed": [s.seed for s in seeds], "quantity": "variance", "value": x.var(axis=1, ddof=1)}
    )


SPREAD = Experiment(
    name="spread",
    doc="sample variance of m standard Gaussian draws (all seeds in one call)",
    params=SpreadParams,
    theory=spread_theory,
    simulate=spread_simulate,
    checks=(Agreement("variance_agrees", "value", on=("quantity",)),),
    batched=True,
)

STUDY = Study(
    id="toy",
    title="Toy: Gaussian mean and variance",
    paper=Paper(title="A toy", arxiv="0000.00000"),
    shared=Shared,
    experiments=(MEAN, SPREAD),
    presets={"quick": {}, "full": {"mean.n": 1000}},
    seeds={"quick": 5, "full": 10},
)
