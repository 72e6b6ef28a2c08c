"""Experiment ``deep_linear``: the deep linear Bayesian saddle against Langevin sampling.

Whitened toy (``X = sqrt(D) I``, so ``C = I``; ``y`` = +1 on half the points,
-1 on the rest, unit norm): the closed form ``c_l = y^T Phi_l y`` of
:func:`~theorylab.studies.adaptive_kernels.theory.deep_linear_saddle`
satisfies the per-layer saddle recursions, and a Langevin-sampled deep
linear network of width N reproduces it layer by layer
(docs/adaptive_kernels.md, section "Deep linear saddle").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.checks import Claim
from theorylab.core.config import StudyConfig, param
from theorylab.core.experiment import Experiment, Seed, frame
from theorylab.core.plotting import caption, figure, finish, sim_points, theory_line

from .. import simulate as sim
from .. import theory as th
from ..common import need

NAME = "deep_linear"
REL = 0.05  # Langevin vs closed form (review: 1.440, 2.052 vs 1.439, 2.072 at N = 256)
RECURSION_CASES = ((1.0, 10.0, 3), (2.0, 5.0, 4), (4.0, 10.0, 8))


@dataclass(frozen=True)
class Params(StudyConfig):
    """Parameters of ``deep_linear``."""

    D: int = param(8, "input dimension = number of points P", ge=2, le=256)
    L: int = param(2, "hidden layers of the sampled network", ge=1, le=16)
    gamma: float = param(1.0, "richness", gt=0, le=20)
    beta: float = param(10.0, "inverse temperature", gt=0, le=1e4)
    width: int = param(256, "network width N", ge=8, le=8192)
    eta: float = param(2e-3, "Langevin step (temperature-1 form)", gt=0, le=0.1)
    steps: int = param(6000, "Langevin steps", ge=100, le=10**7)
    burn: int = param(2000, "burn-in steps discarded", ge=0, le=10**7)
    thin: int = param(10, "steps between kernel averages", ge=1, le=10**4)


def toy(p):
    """The whitened toy: X = sqrt(D) I (D, D), y unit-norm +-1 (D,)."""
    y = np.where(np.arange(p.D) < p.D // 2, 1.0, -1.0)
    return np.sqrt(p.D) * np.eye(p.D), y / np.linalg.norm(y)


def theory(p: Params) -> pd.DataFrame:
    """c_l per layer for the sampled network, and the recursion residuals of three cases."""
    c = th.deep_linear_saddle(p.gamma, p.beta, p.L)
    rows = [frame(case="network", layer=np.arange(1, p.L + 1), c=c, residual=np.nan)]
    for g, b, L in RECURSION_CASES:
        cc = th.deep_linear_saddle(g, b, L)
        res = th.deep_linear_residuals(cc, g, b)
        rows.append(frame(case=f"g{g:g}_b{b:g}_L{L}", layer=L, c=cc[-1], residual=res))
    return pd.concat(rows, ignore_index=True)


def simulate(p: Params, seeds: list[Seed]) -> pd.DataFrame:
    """Posterior mean of y^T H_l y per layer, one chain per seed."""
    X, y = toy(p)
    out = sim.langevin_deep_linear(
        X,
        y,
        p.gamma,
        p.beta,
        width=p.width,
        L=p.L,
        keys=[s.key("langevin") for s in seeds],
        eta=p.eta,
        steps=p.steps,
        burn=p.burn,
        thin=p.thin,
    )
    rows = [
        frame(seed=s.seed, layer=np.arange(1, p.L + 1), c=out["c"][k]) for k, s in enumerate(seeds)
    ]
    return pd.concat(rows, ignore_index=True)


def _langevin(p, theory, sims):
    t = need(theory[theory.case == "network"], "theory").set_index("layer").c
    g = need(sims, "simulation").groupby("layer").c
    m, se = g.mean(), g.sem()
    err = (m - t).abs() / t
    text = ", ".join(f"l={k}: {m[k]:.4g} +- {se[k]:.2g} vs {t[k]:.4g}" for k in t.index)
    return float(err.max()), f"N = {p.width}, {g.size().min()} chains; {text}"


def _recursions(p, theory, sims):
    r = need(theory[theory.case != "network"], "theory")
    return float(r.residual.max()), "cases " + ", ".join(
        f"{c}: {v:.1e}" for c, v in zip(r.case, r.residual, strict=True)
    )


CHECKS = (
    Claim(
        "deep_linear_recursions",
        _recursions,
        "<=",
        1e-10,
        "closed-form c_l satisfy the per-layer saddle recursions: max residual",
        kind="agreement",
    ),
    Claim(
        "deep_linear_langevin",
        _langevin,
        "<=",
        REL,
        "Langevin y^T H_l y vs closed-form c_l: worst relative error over layers (tol 5 %)",
        kind="agreement",
    ),
)


def figures(p: Params, theory, sims) -> dict:
    """c_l vs layer: closed form and Langevin."""
    fig, ax = figure()
    t = theory[theory.case == "network"]
    theory_line(ax, t.layer, t.c, label="closed form")
    g = sims.groupby("layer").c
    sim_points(ax, g.mean().index, g.mean(), g.sem(), label=f"Langevin N = {p.width}")
    finish(
        ax,
        xlabel="layer l",
        ylabel=r"$y^T \Phi_l y$",
        title=rf"$\gamma$={p.gamma:g}, $\beta$={p.beta:g}",
    )
    return {
        "deep_linear_layers": caption(
            fig,
            "Deep linear Bayesian network: the per-layer kernel statistic y^T Phi_l"
            " y from the closed-form saddle (line) and finite-width Langevin "
            "(markers, mean +- SE over seeds).",
        )
    }


EXPERIMENT = Experiment(
    name=NAME,
    doc="deep linear Bayesian saddle closed form vs Langevin, layer by layer",
    params=Params,
    theory=theory,
    simulate=simulate,
    checks=CHECKS,
    figures=figures,
    batched=True,
)
