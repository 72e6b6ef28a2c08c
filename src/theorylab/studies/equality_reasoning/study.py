"""Study ``equality_reasoning``: the composition of its experiments, presets and STUDY.

Experiments (docs/equality_reasoning.md, section Experiments):

``symbols``
    Unseen accuracy vs training symbols L: rich networks vs the rich-regime
    formula, lazy networks vs the NTK logistic flow; the task's contrastive moment.
``dimension``
    Conceptual (rich, insensitive to d) vs perceptual (lazy, falling with d);
    the NTK flow's symbols for 90 %; parallel / antiparallel weights.
``richness``
    Unseen accuracy and weight change over the richness gamma0.
``noise``
    Noisy symbols: the MLP between the memorising and generalising observers.
``vision``
    PSVRT images: rich vs lazy vs training-set size.

The network and its SGD (``N``, ``steps``, ``batch``, ``eta0``, the two
richness values and the padded shapes ``d_max``, ``L_max``) are study-level.
"""

from __future__ import annotations

from theorylab.core.study import Paper, Study

from .common import STUDY_ID, Shared
from .experiments import dimension, noise, richness, symbols, vision

FULL = {
    "N": 256,
    "steps": 3000,
    "symbols.rich_Ls": (3, 4, 5, 8, 16, 32),
    "symbols.lazy_Ls": (4, 8, 16, 32),
    "symbols.theory_draws": 8,
    "dimension.ds": (8, 16, 32, 64),
    "dimension.theory_ds": (4, 8, 16, 32),
    "dimension.theory_Ls": (4, 8, 12, 16, 24, 32, 48, 64, 96, 128),
    "richness.gamma0s": (1e-3, 1e-2, 0.03, 0.1, 0.3, 1.0, 3.0),
    "noise.d": 64,
    "noise.Ls": (2, 4, 8, 16, 32),
    "noise.regimes": ("rich", "lazy"),
    "vision.n_trains": (4, 8, 16, 32, 64, 128),
    "L_max": 64,
}

STUDY = Study(
    id=STUDY_ID,
    title="Rich vs lazy MLPs on same-different tasks: conceptual vs perceptual equality reasoning",
    paper=Paper(
        title="Learning richness modulates equality reasoning in neural networks",
        arxiv="2503.09781",
        authors="W. L. Tong, C. Pehlevan",
        venue="CCN 2025",
    ),
    shared=Shared,
    experiments=(
        symbols.EXPERIMENT,
        dimension.EXPERIMENT,
        richness.EXPERIMENT,
        noise.EXPERIMENT,
        vision.EXPERIMENT,
    ),
    presets={"quick": {}, "full": FULL},
    seeds={"quick": 3, "full": 5},
)
