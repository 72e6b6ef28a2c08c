"""Experiment ``lazy``: analytic lazy kernels against their Monte Carlo estimates.

Arc-cosine (ReLU, step) and erf NNGP kernels Phi0 and the gradient kernels G0
of the two-layer NTK ``K0 = Phi0 + G0 ⊙ C`` on synthetic inputs, against the
averages over ``samples`` random neurons per seed (docs/adaptive_kernels.md,
section "Lazy kernels").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.checks import Claim
from theorylab.core.config import StudyConfig, param
from theorylab.core.experiment import Experiment, Seed, frame
from theorylab.core.plotting import caption, figure, finish

from .. import simulate as sim
from .. import theory as th
from ..common import need, rel_frob, teacher_task

NAME = "lazy"
TOL = 1.5e-2  # relative Frobenius error at S = 2e5 is ~6e-3 (review: 5.9e-3, 3.4e-3, 8.8e-3)


@dataclass(frozen=True)
class Params(StudyConfig):
    """Parameters of ``lazy``."""

    D: int = param(20, "input dimension", ge=1, le=4096)
    n: int = param(50, "points", ge=2, le=2000)
    samples: int = param(200_000, "Monte Carlo neurons per seed", ge=1000, le=10**8)
    nonlinearities: tuple[str, ...] = param(
        ("relu", "step", "erf"), "activations", choices=("relu", "step", "erf", "linear")
    )


def _kernels(p):
    X, _ = teacher_task(NAME, p.D, p.n)
    return X, {nl: th.lazy_kernels(X, nl) for nl in p.nonlinearities}


def theory(p: Params) -> pd.DataFrame:
    """Frobenius norms of the analytic Phi0 and G0."""
    _, ks = _kernels(p)
    rows = [
        frame(nonlinearity=nl, kernel=k, norm=float(np.linalg.norm(ks[nl][k + "0"])))
        for nl in p.nonlinearities
        for k in ("Phi", "G")
    ]
    return pd.concat(rows, ignore_index=True)


def simulate(p: Params, seed: Seed) -> pd.DataFrame:
    """Relative Frobenius error of the Monte Carlo kernels (G skipped where it is 0)."""
    X, ks = _kernels(p)
    rows = []
    for nl in p.nonlinearities:
        Phi, G = sim.monte_carlo_lazy(X, nl, p.samples, seed.rng("neurons", nl))
        for k, M in (("Phi", Phi), ("G", G)):
            ref = ks[nl][k + "0"]
            err = rel_frob(M, ref) if np.linalg.norm(ref) > 0 else float(np.linalg.norm(M))
            rows.append(frame(nonlinearity=nl, kernel=k, rel_error=err))
    return pd.concat(rows, ignore_index=True)


def _worst(p, theory, sims):
    m = need(sims, "simulation").groupby(["nonlinearity", "kernel"]).rel_error.mean()
    text = ", ".join(f"{a} {b}: {v:.2g}" for (a, b), v in m.items())
    return float(m.max()), f"S = {p.samples}; mean over seeds {text}"


CHECKS = (
    Claim(
        "lazy_analytic_vs_mc",
        _worst,
        "<=",
        TOL,
        "analytic vs Monte Carlo lazy kernels: worst relative Frobenius error (tol 1.5e-2)",
        kind="agreement",
    ),
)


def figures(p: Params, theory, sims) -> dict:
    """Monte Carlo error per kernel."""
    fig, ax = figure()
    m = sims.groupby(["nonlinearity", "kernel"]).rel_error.mean()
    labels = [f"{a}\n{b}" for a, b in m.index]
    ax.bar(range(len(m)), m.to_numpy(), color="C0")
    ax.axhline(TOL, color="k", ls="--", lw=1, label="tolerance")
    ax.set_xticks(range(len(m)), labels)
    finish(ax, ylabel=r"$|K_{MC} - K| / |K|$", title=f"S = {p.samples} neurons")
    return {
        "lazy_mc_error": caption(
            fig,
            "Relative error of Monte Carlo estimates of the lazy NNGP and NTK "
            "kernels against their analytic arc-cosine and erf forms, with the "
            "check's tolerance (dashed).",
        )
    }


EXPERIMENT = Experiment(
    name=NAME,
    doc="analytic arc-cosine / erf lazy kernels vs Monte Carlo",
    params=Params,
    theory=theory,
    simulate=simulate,
    checks=CHECKS,
    figures=figures,
)
