"""Experiment ``rerun``: the smallest committed Transformer cell, retrained live.

Per seed, the smallest, shortest ``ptq`` cell of the committed run table
(d = 16, 125 steps in ``runs.csv``) is trained again with the table's random
streams (:mod:`..streams`), evaluated and post-train quantized at its first
PTQ (RTN to 2 bits), and compared with the table: the loss and delta must
match within 3 eval SE.  When the committed table was trained with other
study-level fields than the config's (another vocabulary, depth, context,
granularity, ...), nothing is trained and the check says why it cannot be
evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from theorylab.core.checks import Claim, NotEvaluable
from theorylab.core.experiment import Experiment, Seed

from .. import simulate as sim
from ..common import N_SE, Shared, committed_seed, training_mismatch

_COLUMNS = ["quantity", "value", "committed", "se", "d_model", "steps", "method", "P_post"]


@dataclass(frozen=True)
class Params(Shared):
    """No fields of its own: the study-level fields and the committed table (``runs_path``)."""


def simulate(p: Params, seed: Seed) -> pd.DataFrame:
    """The live and committed loss and delta of the smallest committed cell, for one seed."""
    committed = committed_seed(p, seed.seed)
    if training_mismatch(p, committed):
        return pd.DataFrame(columns=_COLUMNS)
    # the committed table's streams are keyed by the integer seed (see streams.py)
    return sim.rerun_rows(p, seed.seed, committed)


def _matches(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
    if sims.empty:
        why = training_mismatch(p, sim.load_committed(p.runs_path or None))
        raise NotEvaluable(why or "no rerun rows")
    ratio = (sims["value"] - sims["committed"]).abs() / (N_SE * sims["se"])
    w = sims.loc[ratio.idxmax()]
    return float(ratio.max()), (
        f"d_model={int(w.d_model)}, {int(w.steps)} steps, {w.method} {w.P_post:g} bits, "
        f"{sims.seed.nunique()} seeds: largest difference "
        f"{(sims['value'] - sims['committed']).abs().max():.2g} nats"
    )


EXPERIMENT = Experiment(
    name="rerun",
    doc="the smallest committed Transformer cell retrained live vs the committed table",
    params=Params,
    simulate=simulate,
    checks=(
        Claim(
            "rerun_matches_committed_table",
            _matches,
            "<=",
            1.0,
            detail=f"the smallest committed cell retrained now: max |live - committed| of the "
            f"loss and of delta_PTQ in units of {N_SE:g} eval SE",
            kind="agreement",
        ),
    ),
)
