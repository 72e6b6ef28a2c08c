"""Study ``rf_ensembles``: the composition of its experiments, presets and STUDY.

Experiments (docs/rf_ensembles.md, section Experiments):

``ridge_curve`` (V1, V2 in simulation)
    Linear random-feature ensembles on power-law Gaussian data at a fixed
    budget M = K N: test error vs ridge for each K, theory vs simulation.
``no_free_lunch`` (V2 in theory)
    Tuned E*_K increases with K on random tasks; decreases in N and in P.
``overparam`` (V3)
    With N >> P the tuned excess over kernel ridge regression depends on M only.
``exponent`` (V4)
    The theory's P = inf scaling exponents vs the closed form.
``scaling`` (V5)
    Simulated tuned error vs M at growth exponents ell (N = M^ell).
``digits`` (V6)
    ReLU random features on scikit-learn's digits, theory from the arc-cosine
    kernel's empirical spectrum.

The power-law task (``alpha``, ``r``, ``noise``) is study-level.
"""

from __future__ import annotations

from theorylab.core.study import Paper, Study

from .common import STUDY_ID, Shared
from .experiments import digits, exponent, no_free_lunch, overparam, ridge_curve, scaling

FULL = {
    "ridge_curve.D": 10_000,
    "ridge_curve.P": 1024,
    "ridge_curve.M": 1024,
    "ridge_curve.ks": (1, 2, 4, 8, 16, 32, 64, 128),
    "ridge_curve.ridge_min": 1e-7,
    "ridge_curve.ridge_max": 1e-1,
    "ridge_curve.n_ridges": 25,
    "scaling.D": 4000,
    "scaling.P": 8000,
    "scaling.Ms": (64, 128, 256, 512, 1024),
    "scaling.ells": (0.25, 0.5, 0.75, 1.0),
    "scaling.ridge_min": 1.25e-10,
    "scaling.ridge_max": 1.25e-4,
    "exponent.ells": (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
    "no_free_lunch.draws": 40,
    "digits.Ns": (32, 64, 128, 256),
    "digits.Ks": (1, 2, 4, 8),
    "digits.n_ridges": 19,
}

STUDY = Study(
    id=STUDY_ID,
    title="Random-feature ridge ensembles: no free lunch at tuned ridge, ensemble scaling laws",
    paper=Paper(
        title="No Free Lunch From Random Feature Ensembles: Scaling Laws and "
        "Near-Optimality Conditions",
        arxiv="2412.05418",
        authors="B. S. Ruben, W. L. Tong, H. T. Chaudhry, C. Pehlevan",
        venue="ICML 2025",
    ),
    shared=Shared,
    experiments=(
        ridge_curve.EXPERIMENT,
        no_free_lunch.EXPERIMENT,
        overparam.EXPERIMENT,
        exponent.EXPERIMENT,
        scaling.EXPERIMENT,
        digits.EXPERIMENT,
    ),
    presets={"quick": {}, "full": FULL},
    seeds={"quick": 8, "full": 10},
)
