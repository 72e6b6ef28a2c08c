"""Study ``pixel_regularizer``: the composition of its experiments, presets and STUDY.

Experiments (docs/pixel_regularizer.md, section Experiments):

``similarity``
    Invariants of S^pixel (and a plain NumPy reference); the code's arctanh form.
``taps``
    EMA channel means of the similarity taps; regularizer-only fitting on digits.
``attacks``
    Attack plumbing: identity at eps = 0, image ranges, salt-and-pepper rate.
``robustness``
    Fashion-MNIST: S^Th / S^pixel-regularized vs unregularized CNNs under
    noise, transferred FGSM, Boundary (foolbox), Square and PGD (torchattacks).

The CNN, its SGD and the similarity loss are study-level.  The simulations
need the ``torch`` extra; the study imports without it.
"""

from __future__ import annotations

from theorylab.core.study import Paper, Study

from .common import STUDY_ID, Shared
from .experiments import attacks, robustness, similarity, taps

QUICK = {
    "c1": 8,
    "taps.fit_steps": 200,
    "robustness.steps": 100,
    "robustness.n_test": 300,
    "robustness.boundary_images": 8,
    "robustness.square_images": 30,
    "robustness.square_queries": 30,
}

FULL = {
    "similarity.n_images": 1797,
    "robustness.n_train": 20000,
    "robustness.n_test": 2000,
    "robustness.n_reg": 1000,
    "robustness.steps": 2000,
    "robustness.boundary_images": 50,
    "robustness.boundary_steps": 1000,
    "robustness.square_images": 200,
    "robustness.square_queries": 500,
    "robustness.pgd_steps": 10,
}

STUDY = Study(
    id=STUDY_ID,
    title="CNN robustness from a pixel-similarity regularizer, under black-box attacks",
    paper=Paper(
        title="A Brain-Inspired Regularizer for Adversarial Robustness (Pixel-Based "
        "Similarities as an Alternative to Neural Data)",
        arxiv="2410.03952",
        authors="E. Attias, C. Pehlevan, D. Obeid",
        venue="CCN 2024 / ICLR 2025 submission",
    ),
    shared=Shared,
    experiments=(similarity.EXPERIMENT, taps.EXPERIMENT, attacks.EXPERIMENT, robustness.EXPERIMENT),
    presets={"quick": QUICK, "full": FULL},
    seeds={"quick": 2, "full": 3},
)
