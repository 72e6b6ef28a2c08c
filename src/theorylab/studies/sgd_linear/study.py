"""Study ``sgd_linear``: the composition of its experiments, presets and STUDY.

Experiments (one module each in ``experiments/``, described in docs/sgd_linear.md):

``static`` (A1)
    the two-point equivalent of lam1 lam2 w*^T G1 A G2 w* for A = Sigma, I and a
    permuted Sigma' (covariate shift), over sampled data sets.
``online`` (A2)
    online SGD on linear regression; the exact Gaussian recursion, and near the
    stability edge the same recursion without the fourth-moment term.
``rf`` (A3)
    online SGD on N linear random features: deterministic equivalent
    (generating function), the exact recursion given each seed's F, simulation.
``gd`` (A4)
    full-batch GD on P samples: train and test curves, two-point equivalent.
``multipass`` (A5)
    multi-pass SGD: exact recursion given the data, decoupled equivalent.
``digits`` (M4)
    kernel SGD on scikit-learn's digits with ReLU-kernel eigenfeatures.
``exponents`` (A6)
    t^(-2r) forcing and N^(-alpha min(2r, 1)) random-feature floor.
"""

from __future__ import annotations

from theorylab.core.study import Paper, Study

from .common import Shared
from .experiments import digits, exponents, gd, multipass, online, rf, static

# the figure set at a size 2 CPU cores finish in ~10 minutes (584 s); N = 1024 random
# features and D = 20000 are the GPU check (docs/sgd_linear.md)
FULL = {
    "static.D": 2000,
    "static.n": 1000,
    "static.draws": 4,
    "online.D": 1000,
    "online.steps": 3000,
    "online.runs": 50,
    "online.edge_runs": 200,
    "online.batches": (1, 4, 16),
    "online.lrs": (0.5, 1.5, 3.0),
    "rf.D": 4000,
    "rf.Ns": (64, 256),
    "rf.batch": 4,
    "rf.lr": 1.5,
    "rf.steps": 2000,
    "rf.runs": 24,
    "gd.D": 400,
    "gd.Ps": (100, 200, 400, 800),
    "gd.steps": 1000,
    "gd.datasets": 5,
    "multipass.D": 200,
    "multipass.P": 100,
    "multipass.steps": 300,
    "multipass.chains": 100,
    "digits.steps": 5000,
    "digits.runs": 20,
}

STUDY = Study(
    id="sgd_linear",
    title="Two-point deterministic equivalents: SGD learning curves of linear, kernel and "
    "random-feature models",
    paper=Paper(
        title="Two-Point Deterministic Equivalence for Stochastic Gradient Dynamics in Linear "
        "Models",
        arxiv="2502.05074",
        authors="A. Atanasov, B. Bordelon, J. A. Zavatone-Veth, C. Paquette, C. Pehlevan",
        venue="Advances in Theoretical and Mathematical Physics (2026)",
    ),
    shared=Shared,
    experiments=(
        static.EXPERIMENT,
        online.EXPERIMENT,
        rf.EXPERIMENT,
        gd.EXPERIMENT,
        multipass.EXPERIMENT,
        digits.EXPERIMENT,
        exponents.EXPERIMENT,
    ),
    presets={"quick": {}, "full": FULL},
    seeds={"quick": 8, "full": 10},
)
