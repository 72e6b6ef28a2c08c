"""A1 ``static``: the two-point equivalent of lam1 lam2 w*^T G1 A G2 w* on sampled data.

A = Sigma (generalisation error), A = I and A = Sigma' (a permuted Sigma:
covariate shift), every A evaluated on the same data sets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.checks import Agreement
from theorylab.core.config import param
from theorylab.core.experiment import Experiment, Seed, frame

from .. import simulate as sim
from .. import theory as th
from ..common import N_SE, Shared, power_law


@dataclass(frozen=True)
class Params(Shared):
    D: int = param(600, "dimensions", ge=2, le=20_000)
    n: int = param(300, "samples of the sample covariance", ge=1, le=100_000)
    lam1: float = param(1e-3, "first ridge", gt=0.0, le=1e3)
    lam2: float = param(3e-2, "second ridge", gt=0.0, le=1e3)
    draws: int = param(4, "data sets per seed", ge=1, le=10_000)


def matrices(p: Params) -> dict[str, np.ndarray]:
    """The diagonals of A = Sigma, I and Sigma'.

    Sigma' permutes Sigma's eigenvalues by a fixed permutation (part of the
    problem's definition, the same for theory, simulation and every seed).
    """
    eigs = power_law(p.D, p.alpha, p.r).eigs
    perm = np.random.default_rng(0).permutation(eigs.size)
    return {"Sigma": eigs, "I": np.ones_like(eigs), "Sigma'": eigs[perm]}


def theory(p: Params) -> pd.DataFrame:
    sp = power_law(p.D, p.alpha, p.r)
    As = matrices(p)
    value = [float(th.two_point(sp.eigs, p.n, p.lam1, p.lam2, A, sp.weights)) for A in As.values()]
    return frame(A=list(As), two_point=value)


def simulate(p: Params, seed: Seed) -> pd.DataFrame:
    sp = power_law(p.D, p.alpha, p.r)
    As = matrices(p)
    A = np.stack(list(As.values()))
    v = sim.static_two_point(seed.key("data"), sp.eigs, sp.weights, p.n, p.lam1, p.lam2, A, p.draws)
    return frame(A=list(As), two_point=v.mean(axis=0))


EXPERIMENT = Experiment(
    name="static",
    doc="A1: two-point equivalent of lam1 lam2 w*^T G1 A G2 w* (A = Sigma, I, Sigma') vs data",
    params=Params,
    theory=theory,
    simulate=simulate,
    checks=(
        Agreement(
            "A1_static_two_point",
            "two_point",
            on=("A",),
            # finite-size bias of the equivalent at D = 600, n = 300: ~2 % (docs)
            rel=0.03,
            n_se=N_SE,
            detail="lam1 lam2 w*^T G1 A G2 w* for A = Sigma, I, Sigma' (covariate shift)",
        ),
    ),
)
