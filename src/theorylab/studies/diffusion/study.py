"""Study ``diffusion``: the composition of its experiments, presets and STUDY.

Experiments (docs/diffusion.md, "Experiments and checks"): ``learning`` (B1
skip connection, B2 learning ODE, B3 exact reduction of generation, B4 ODE
then reduced flow, and the paper's Figure 1), ``generated_law`` (B5
sample-size dependence, B6 mode collapse) and ``collapse_loop`` (B7 model
collapse).  The study-level fields (:class:`~.common.Shared`: t_train, eta,
lam, gen_steps, dtau, mc_samples, reduced_samples) are set without a prefix.
"""

from __future__ import annotations

from theorylab.core.study import Paper, Study

from .common import Shared
from .experiments import collapse_loop, generated_law, learning

__all__ = ["STUDY", "Shared"]

FULL = {
    "learning.d": 2000,
    "learning.n_gen": 4000,
    "generated_law.d": 1000,
    "generated_law.n_gen": 2000,
    "generated_law.n_gen_imbalanced": 4000,
    "collapse_loop.d": 500,
    "collapse_loop.tau": 4.0,
    "collapse_loop.generations": 5,
    "collapse_loop.steps": 100,
    "mc_samples": 16384,
}

STUDY = Study(
    id="diffusion",
    title="A solvable flow/diffusion model: learning ODEs of a two-layer autoencoder, "
    "generated densities, mode and model collapse",
    paper=Paper(
        title="A solvable model of learning generative diffusion: theory and insights",
        arxiv="2501.03937",
        authors="H. Cui, C. Pehlevan, Y. M. Lu",
        venue="NeurIPS 2025",
    ),
    shared=Shared,
    experiments=(learning.EXPERIMENT, generated_law.EXPERIMENT, collapse_loop.EXPERIMENT),
    presets={"quick": {}, "full": FULL},
    seeds={"quick": 4, "full": 4},
)
