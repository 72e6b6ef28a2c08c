"""Study ``overtraining``: the composition of its experiments, presets and STUDY.

Experiments (docs/overtraining.md, section Experiments):

``linear``
    Implicit bias of GD on separable data: |w| grows like w_svm ln t, the
    normalized margin creeps up to gamma*, hinge GD freezes.
``odor``
    The centred two-layer odor network after its accuracy plateau t_p:
    CE keeps moving and separating classes (margins, S_TN, probes), hinge freezes.
``reversal``
    Overtraining reversal: steps to learn y -> -y after L t_p of overtraining,
    three protocols; kernel alignment of the features.
``neural``
    The paper's neural analyses on a synthetic 4-mouse x 26-day stand-in and
    on its null (learning switched off after t_p).

The odor task and network (``k``, ``n``, ``H``, ``alpha``, ``eta``, ...) are study-level.
"""

from __future__ import annotations

from theorylab.core.study import Paper, Study

from .common import STUDY_ID, Shared
from .experiments import linear, neural, odor, reversal

FULL = {
    "H": 200,
    "dtype": "float64",
    "linear.steps": 1_000_000,
    "odor.span": 30.0,
    "odor.per_decade": 10,
    "reversal.lengths": (0.0, 1.0, 3.0, 10.0, 30.0),
    "reversal.net_lengths": (0.0, 1.0, 3.0, 10.0, 30.0),
    "reversal.net_cap": 20_000,
    "neural.span": 30.0,
    "neural.n_perm": 10_000,
}

STUDY = Study(
    id=STUDY_ID,
    title="Hidden progress after accuracy plateaus: margin maximization, class separation, "
    "overtraining reversal",
    paper=Paper(
        title="Do Mice Grok? Glimpses of Hidden Progress During Overtraining in Sensory Cortex",
        arxiv="2411.03541",
        authors="T. Kumar, B. Bordelon, C. Pehlevan, V. N. Murthy, S. J. Gershman",
        venue="ICLR 2025",
    ),
    shared=Shared,
    experiments=(linear.EXPERIMENT, odor.EXPERIMENT, reversal.EXPERIMENT, neural.EXPERIMENT),
    presets={"quick": {}, "full": FULL},
    seeds={"quick": 4, "full": 16},
)
