"""Study ``deep_linear``: the composition of its experiments, presets and STUDY.

Each experiment lives in its own module under ``experiments/`` (see
docs/deep_linear.md, section "Experiments"): V2-V5 and ``widths`` compare the
DMFT with finite-width simulation, ``exact`` (V1) checks the DMFT's exact
special cases, and ``lr_sweep``, ``alpha_sweep``, ``depth`` (DMFT) and
``power_law`` (simulation) test the paper's claims (V6).
"""

from __future__ import annotations

from theorylab.core.study import Paper, Study

from .experiments import (
    alpha_sweep,
    deep_narrow,
    depth,
    exact,
    lr_sweep,
    online_sgd,
    plain_mlp,
    power_law,
    residual,
    widths,
)

FULL = {
    "plain_mlp.D": 800,
    "deep_narrow.D": 800,
    "online_sgd.D": 800,
    "residual.D": 800,
    "widths.D": 400,
    "widths.steps": 60,
    "lr_sweep.eta0s": (0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.8),
    "lr_sweep.steps": 40,
    "alpha_sweep.alphas": (0.3, 0.5, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 4.0),
    "depth.depths": (1, 2, 4, 8, 16),
    "power_law.D": 1000,
    "power_law.window": (10, 300),
}

STUDY = Study(
    id="deep_linear",
    title="DMFT of deep linear networks: width, depth, data reuse, muP vs NTK, residual scaling",
    paper=Paper(
        title="Deep Linear Network Training Dynamics from Random Initialization: Data, Width, "
        "Depth, and Hyperparameter Transfer",
        arxiv="2502.02531",
        authors="B. Bordelon, C. Pehlevan",
        venue="ICML 2025",
    ),
    experiments=(
        plain_mlp.EXPERIMENT,
        deep_narrow.EXPERIMENT,
        online_sgd.EXPERIMENT,
        residual.EXPERIMENT,
        widths.EXPERIMENT,
        exact.EXPERIMENT,
        lr_sweep.EXPERIMENT,
        alpha_sweep.EXPERIMENT,
        depth.EXPERIMENT,
        power_law.EXPERIMENT,
    ),
    presets={"quick": {}, "full": FULL},
    seeds={"quick": 12, "full": 16},
)
