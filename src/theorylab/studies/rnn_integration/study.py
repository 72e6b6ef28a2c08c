"""Study ``rnn_integration``: the composition of its experiments, presets and STUDY.

Experiments (one module each under ``experiments/``), each theory vs
simulation (docs/rnn_integration.md, section "Experiments"):

``gradients`` (V1)
    exact H2 loss and gradients (A2) vs finite differences and vs quadrature
    of the simulated impulse response.
``rich`` (V2, V3, escape-time law)
    full-network gradient flow from W0 = 0 vs the exact 8-variable reduction
    (A5) (same integrator: exact to rounding) and vs the 2-D outlier ODE (A6);
    the conservation law (A4); plateau length vs the initial scale a0.
``bulk``
    W0 = sigma J: the outlier leaves the bulk and stops at 1 - c*; the plateau
    shortens with sigma (linear-phase theory derived in the docs).
``bessel`` (V4) and ``lazy`` (V5)
    the bulk correlation vs the Bessel law (A7); readout-only training vs the
    Bessel-kernel theory (A8) and the learnability threshold |1 - c*| < sigma (A9).
``oscillator`` (V6)
    damped-oscillator target: conjugate outlier pair, two-stage plateau.
``bptt``
    SGD with back-propagation through time on the noise-driven RNN vs
    gradient flow on the stationary loss.
"""

from __future__ import annotations

from theorylab.core.study import Paper, Study

from .common import Shared
from .experiments import bessel, bptt, bulk, gradients, lazy, oscillator, rich

# the paper's figure scale (docs/rnn_integration.md: R1, R3-R6; R2's clouds at N = 200,
# not 400) on 2 CPU cores
# (docs: measured cost)
FULL = {
    "rich.N": 100,
    "rich.a0s": (0.01, 0.02, 0.05, 0.1, 0.2),
    "rich.escape_T": 8.0,
    "bulk.N": 200,
    "bulk.sigmas": (0.1, 0.2, 0.3, 0.5),
    "lazy.N": 800,
    "lazy.draws": 8,
    "lazy.times": (1.0, 3.0, 10.0, 30.0, 100.0, 1000.0, 10000.0),
    "bessel.N": 2000,
    "bessel.vectors": 40,
    "oscillator.N": 16,
    "bptt.N": 32,
    "bptt.batch": 64,
    "bptt.updates": 400,
    "bptt.lr_time": 0.025,
}

STUDY = Study(
    id="rnn_integration",
    title="Linear RNNs learning to integrate white noise: outlier eigenvalue (rich), Bessel-kernel "
    "threshold (lazy), damped-oscillator pair",
    paper=Paper(
        title="Dynamically Learning to Integrate in Recurrent Neural Networks",
        arxiv="2503.18754",
        authors="B. Bordelon, J. A. Cotler, C. Pehlevan, J. A. Zavatone-Veth",
        venue="preprint (2025)",
    ),
    shared=Shared,
    experiments=(
        gradients.EXPERIMENT,
        rich.EXPERIMENT,
        bulk.EXPERIMENT,
        bessel.EXPERIMENT,
        lazy.EXPERIMENT,
        oscillator.EXPERIMENT,
        bptt.EXPERIMENT,
    ),
    presets={"quick": {}, "full": FULL},
    seeds={"quick": 4, "full": 8},
)
