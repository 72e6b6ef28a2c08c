"""Experiment ``bessel`` (V4): the bulk correlation of W0 = sigma J against the Bessel law (A7).

Per seed one J and ``vectors`` random unit vectors p: the mean of
p^T e^{(sigma J - I) tau} e^{(sigma J - I)^T tau'} p over p, for every pair
tau <= tau' of ``taus``, against e^-(tau + tau') I0(2 sigma sqrt(tau tau'))
(docs/rnn_integration.md, section "(A7)-(A9) Lazy regime").
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

from .. import simulate as sim
from .. import theory as th
from ..common import Shared

# finite-N slack of the Bessel law on top of 3 SE (largest ratio 0.12 quick, 0.24 full)
BESSEL_REL = 0.01


@dataclass(frozen=True)
class Params(Shared):
    N: int = param(1000, "neurons", ge=2, le=10_000)
    sigma: float = param(0.7, "bulk radius", gt=0.0, lt=1.0)
    vectors: int = param(20, "random unit vectors per seed", ge=1, le=10_000)
    taus: tuple[float, ...] = param(
        (0.5, 1.0, 2.0, 4.0), "filter times tau (all pairs tau <= tau')", ge=0.0, le=1e4
    )

    WHY: ClassVar[dict[str, str]] = {"sigma": "W0 - I is Hurwitz only for sigma < 1"}

    def check(self) -> None:
        if len(set(self.taus)) != len(self.taus):
            raise ConfigError("taus", self.taus, "must be distinct")


def _pairs(p: Params):
    taus = sorted(p.taus)
    return [(a, b) for i, a in enumerate(taus) for b in taus[i:]]


def theory(p: Params) -> pd.DataFrame:
    a, b = (np.array(x) for x in zip(*_pairs(p), strict=True))
    return frame(tau1=a, tau2=b, C=th.bessel_correlation(p.sigma, a, b))


def simulate(p: Params, seed: Seed) -> pd.DataFrame:
    taus = np.array(sorted(p.taus))
    C = sim.bulk_correlation(seed.key("bulk"), p.N, p.sigma, taus, p.vectors).mean(-1)
    idx = {t: i for i, t in enumerate(taus)}
    pairs = _pairs(p)
    return frame(
        tau1=[a for a, _ in pairs],
        tau2=[b for _, b in pairs],
        C=[C[idx[a], idx[b]] for a, b in pairs],
    )


EXPERIMENT = Experiment(
    name="bessel",
    doc="V4: bulk correlation of W0 = sigma J vs e^-(tau+tau') I0(2 sigma sqrt(tau tau')) (A7)",
    params=Params,
    theory=theory,
    simulate=simulate,
    checks=(
        Agreement(
            "V4_bessel_law",
            "C",
            on=("tau1", "tau2"),
            rel=BESSEL_REL,
            detail="bulk correlation (mean over the random vectors of each seed) vs "
            "e^-(tau+tau') I0(2 sigma sqrt(tau tau'))",
        ),
    ),
)
