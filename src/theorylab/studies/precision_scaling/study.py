"""Study ``precision_scaling``: the composition of its experiments, presets and STUDY.

Experiments (``experiment`` column of the tables; see :mod:`.experiments`):
``calculator``, ``synthetic``, ``rerun``, ``runs`` (its fitted laws are
``fits.parquet``), ``levels``, ``compute_optimal``.  Study-level fields
(:class:`.common.Shared`): the data, the Transformer, its training and
quantization, the committed run table.
"""

from __future__ import annotations

from theorylab.core.study import Paper, Study

from .common import STUDY_ID, Shared
from .experiments import calculator, compute_optimal, levels, rerun, runs, synthetic

__all__ = ["FULL", "QUICK", "STUDY", "TRAIN", "Shared"]

#: the defaults: the Transformer runs read from the committed table
QUICK: dict = {}

#: trains the grid the committed table holds (a few minutes per seed on 2 cores)
TRAIN = {"runs.runs_source": "train"}

#: the GPU protocol (docs/precision_scaling.md, "GPU protocol"): d in {128, 192,
#: 256, 384} (non-embedding N ~ 0.8M-7.1M), 4 layers, head dim 32, seq 256, batch
#: 128 (32k tokens/step), on a V = 256, k = 8 Markov language.  Not run (no GPU
#: was available).  Its rerun check is not evaluable against the packaged
#: runs.csv (another language and shape); it is against a table of its own.
FULL = {
    "runs.runs_source": "train",
    "vocab": 256,
    "successors": 8,
    "runs.d_models": (128, 192, 256, 384),
    "n_layers": 4,
    "head_dim": 32,
    "seq_len": 256,
    "batch": 128,
    "lr": 3e-3,
    "chunk": 50,
    "eval_seqs": 1024,
    "calib_seqs": 128,
    "runs.ptq_steps": (250, 500, 1000, 2000),
    "runs.ptq_bits": (3.0, 4.0, 5.0, 6.0, 8.0),
    "runs.qat_d_model": 192,
    "runs.qat_steps": 1000,
    "runs.qat_bits": (3.0, 4.0, 6.0, 8.0),
    "levels.d_model": 128,
    "levels.steps": 50,
    "runs.arms_per_call": 8,
}

STUDY = Study(
    id=STUDY_ID,
    title="Precision-aware scaling laws: N_eff of quantized training, post-train quantization "
    "degradation, critical data, compute-optimal precision",
    paper=Paper(
        title="Scaling Laws for Precision",
        arxiv="2411.04330",
        authors="T. Kumar, Z. Ankner, B. F. Spector, B. Bordelon, N. Muennighoff, M. Paul, "
        "C. Pehlevan, C. Ré, A. Raghunathan",
        venue="ICLR 2025",
    ),
    shared=Shared,
    experiments=(
        calculator.EXPERIMENT,
        synthetic.EXPERIMENT,
        rerun.EXPERIMENT,
        runs.EXPERIMENT,
        levels.EXPERIMENT,
        compute_optimal.EXPERIMENT,
    ),
    presets={"quick": QUICK, "train": TRAIN, "full": FULL},
    seeds={"quick": 3, "train": 3, "full": 2},
)
