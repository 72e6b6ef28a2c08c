"""Experiment ``levels``: distinct values per scale group inside a trained quantized model.

Per seed, a small model is trained briefly at [P_w, P_a, P_kv] = ``bits``;
the weights (per output channel or tensor), every block linear input and the
keys and values (per token or sequence), and its RTN and GPTQ weights at
``post_bits``, must take at most 2^P distinct values in each scale group
(symmetric absmax integer quantization has 2^P - 1 levels).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from theorylab.core.checks import Claim
from theorylab.core.config import param
from theorylab.core.errors import ConfigError
from theorylab.core.experiment import Experiment, Seed

from .. import simulate as sim
from ..common import Shared, check_budgets, check_widths


@dataclass(frozen=True)
class Params(Shared):
    """The live levels model."""

    d_model: int = param(16, "width of the live quantizer-levels model", ge=4, le=4096)
    steps: int = param(25, "training steps of the live quantizer-levels model", ge=1, le=100_000)
    bits: tuple[float, ...] = param(
        (3.0, 4.0, 3.0),
        "[P_w, P_a, P_kv] of the live levels model",
        unit="bits",
        ge=2.0,
        le=15.0,
        min_len=3,
    )
    post_bits: float = param(3.0, "P_post of the live levels check", unit="bits", ge=2.0, le=15.0)

    def check(self) -> None:
        check_widths(self, "d_model", self.d_model)
        check_budgets(self, "steps", self.steps)
        if len(self.bits) != 3:
            raise ConfigError("bits", self.bits, "needs [P_w, P_a, P_kv]")


def simulate(p: Params, seed: Seed) -> pd.DataFrame:
    """Level counts of one seed's model (:func:`..simulate.level_rows`)."""
    return sim.level_rows(p, seed)


def _levels(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
    ratio = sims["value"] / sims["limit"]
    parts = ", ".join(
        f"{q}: {int(v)}/{int(lim)}"
        for q, v, lim in sims.groupby("quantity")[["value", "limit"]].max().itertuples()
    )
    return float(ratio.max()), (
        f"trained {p.steps} steps at [P_w, P_a, P_kv] = {list(p.bits)} (weights per {p.w_gran}, "
        f"activations and KV per {p.a_gran}/{p.kv_gran}) and its RTN/GPTQ weights at "
        f"{p.post_bits:g} bits: {parts}"
    )


EXPERIMENT = Experiment(
    name="levels",
    doc="distinct values per scale group inside a briefly trained quantized model",
    params=Params,
    simulate=simulate,
    checks=(
        Claim(
            "quantizer_levels_at_most_2_pow_P",
            _levels,
            "<=",
            1.0,
            detail="max over scale groups of distinct values / 2^P",
        ),
    ),
)
