"""Study ``adaptive_kernels``: the composition of its experiments, presets and STUDY.

Experiments (docs/adaptive_kernels.md, section "Experiments"):

``lazy``
    Analytic arc-cosine / erf lazy kernels vs Monte Carlo.
``deep_linear``
    Deep linear Bayesian saddle (closed form) vs Langevin, layer by layer.
``bayes``
    Two-layer Bayesian min-max saddle vs Langevin; alignment vs gamma; gamma -> 0.
``dmft``
    Weight-decay DMFT fixed point = kernel machine; finite-width GD vs DMFT.
``real_data``
    Adapted vs lazy predictors on digits 4 vs 9 (and Fashion-MNIST in full).
"""

from __future__ import annotations

from theorylab.core.experiment import NoParams
from theorylab.core.study import Paper, Study

from .common import STUDY_ID
from .experiments import bayes, deep_linear, dmft, lazy, real_data

QUICK = {
    "lazy.samples": 100_000,
    "deep_linear.width": 128,
    "deep_linear.steps": 3000,
    "deep_linear.burn": 1000,
    "bayes.eta": 2e-3,
    "bayes.steps": 5000,
    "bayes.burn": 1250,
    "bayes.thin": 5,
}
FULL = {
    "lazy.samples": 200_000,
    "deep_linear.steps": 6000,
    "deep_linear.burn": 2000,
    "bayes.samples": 200_000,
    "bayes.gammas": (1e-3, 0.25, 0.5, 0.75, 1.0),
    "bayes.width": 1000,
    "bayes.steps": 40_000,
    "dmft.widths": (250, 1000, 4000),
    "dmft.width": 16000,
    "real_data.datasets": ("digits", "fashion"),
    "real_data.P": 200,
    "real_data.gammas": (0.25, 0.5, 1.0, 2.0),
    "real_data.width": 1000,
    "real_data.lam_t_min": 20.0,
}

STUDY = Study(
    id=STUDY_ID,
    title="Feature-learning infinite-width networks as data-adaptive kernel machines",
    paper=Paper(
        title="Adaptive kernel predictors from feature-learning infinite limits of neural networks",
        arxiv="2502.07998",
        authors="C. Lauditi, B. Bordelon, C. Pehlevan",
        venue="ICML 2025",
    ),
    shared=NoParams,
    experiments=(
        lazy.EXPERIMENT,
        deep_linear.EXPERIMENT,
        bayes.EXPERIMENT,
        dmft.EXPERIMENT,
        real_data.EXPERIMENT,
    ),
    presets={"quick": QUICK, "full": FULL},
    seeds={"quick": 2, "full": 4},
)
