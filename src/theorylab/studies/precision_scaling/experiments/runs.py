"""Experiment ``runs``: the Transformer runs, post-train quantized and trained quantized.

The runs come from the committed table (``runs_source="committed"``, the
quick preset: produced by the ``train`` preset, docs/precision_scaling.md,
"The committed table") or are trained now (``runs_source="train"``), one seed
at a time (the table's random streams, :mod:`..streams`).  Two grids, column
``grid`` of the simulation table:

``ptq``
    high-precision runs on ``d_models`` x ``ptq_steps``, each post-train
    quantized with every method at every P_post;
``qat``
    quantized training at ``qat_d_model``, ``qat_steps``: each family alone at
    every ``qat_bits``, all three at ``qat_all_bits``; the weight arms (and the
    16-bit baseline) also RTN-quantized to ``unified_post_bits``.

The laws fitted to the seed means are the run's ``fits.parquet``
(:func:`..analysis.fit_table`).  Checks: :mod:`..claims`; figures:
:mod:`..figures`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.checks import Claim
from theorylab.core.config import param
from theorylab.core.errors import ConfigError, DataError
from theorylab.core.experiment import Experiment, Seed

from .. import claims
from .. import simulate as sim
from ..analysis import fit_table
from ..common import (
    HP,
    N_SE,
    Shared,
    check_budgets,
    check_widths,
    committed_seed,
    training_mismatch,
)
from ..figures import runs_figures


@dataclass(frozen=True)
class Params(Shared):
    """The two grids of Transformer runs and the fits to them."""

    runs_source: str = param(
        "committed",
        "Transformer runs: the committed table (quick) or trained now",
        choices=("committed", "train"),
    )
    d_models: tuple[int, ...] = param(
        (16, 32, 48, 64), "residual widths of the ptq grid", ge=4, le=4096
    )
    arms_per_call: int = param(
        1, "precision arms trained together (vmap; > 1 keeps a GPU busy)", ge=1, le=64
    )
    # ptq grid: high-precision runs, post-train quantized
    ptq_steps: tuple[int, ...] = param(
        (125, 250, 500, 1000), "token budgets of the ptq grid, in steps", ge=1, le=10**6, min_len=2
    )
    ptq_bits: tuple[float, ...] = param(
        (2.0, 3.0, 4.0, 5.0, 6.0, 8.0), "post-train precisions P_post", unit="bits", ge=2.0, le=15.0
    )
    ptq_methods: tuple[str, ...] = param(
        ("rtn", "gptq"), "post-train quantizers", choices=("rtn", "gptq")
    )
    # qat grid: quantized training at one size and budget
    qat_d_model: int = param(64, "width of the quantized-training runs", ge=4, le=4096)
    qat_steps: int = param(500, "budget of the quantized-training runs, in steps", ge=1, le=10**6)
    qat_families: tuple[str, ...] = param(
        ("w", "a", "kv"), "families quantized alone", choices=("w", "a", "kv")
    )
    qat_bits: tuple[float, ...] = param(
        (3.0, 4.0, 6.0, 8.0),
        "training precisions of each family alone",
        unit="bits",
        ge=2.0,
        le=15.0,
    )
    qat_all_bits: tuple[float, ...] = param(
        (3.0, 4.0, 6.0),
        "precisions with all three families quantized",
        unit="bits",
        ge=2.0,
        le=15.0,
    )
    unified_post_bits: tuple[float, ...] = param(
        (2.0, 3.0),
        "P_post applied (RTN) to the weight-quantized runs",
        unit="bits",
        ge=2.0,
        le=15.0,
    )
    # fits
    fit_boot: int = param(200, "bootstrap replicates of the fits to the runs", ge=0, le=100_000)

    def check(self) -> None:
        check_widths(self, "d_models", self.d_models)
        check_widths(self, "qat_d_model", self.qat_d_model)
        check_budgets(self, "ptq_steps", self.ptq_steps)
        check_budgets(self, "qat_steps", self.qat_steps)
        if not any(b <= 4 for b in self.ptq_bits):
            raise ConfigError(
                "ptq_bits",
                self.ptq_bits,
                "must contain at least one P_post <= 4 bits (the PTQ checks compare RTN, GPTQ, "
                "sizes and budgets at 2-4 bits)",
            )
        if self.runs_source == "committed" and self.data != "markov":
            raise ConfigError(
                "data", self.data, "the committed table is Markov; use runs.runs_source=train"
            )


_NO_POST = "nan"  # P_post of a run without post-train quantization (NaN in the table)


def _expected_cells(p: Params) -> set[tuple]:
    """(grid, d_model, steps, P_w, P_a, P_kv, method, P_post) of every evaluation of the grids."""
    cells = set()
    for d in p.d_models:
        for S in p.ptq_steps:
            cells.add(("ptq", d, S, HP, HP, HP, "none", _NO_POST))
            cells |= {
                ("ptq", d, S, HP, HP, HP, m, float(P)) for m in p.ptq_methods for P in p.ptq_bits
            }
    for arm in sim.qat_arms(p):
        cells.add(("qat", p.qat_d_model, p.qat_steps, *arm, "none", _NO_POST))
        if arm[1] == HP and arm[2] == HP:
            cells |= {
                ("qat", p.qat_d_model, p.qat_steps, *arm, "rtn", float(P))
                for P in p.unified_post_bits
            }
    return cells


def _key(r) -> tuple:
    P = float(r.P_post)
    return (
        r.experiment,
        int(r.d_model),
        int(r.steps),
        float(r.P_w),
        float(r.P_a),
        float(r.P_kv),
        r.method,
        _NO_POST if np.isnan(P) else P,
    )


def committed_rows(p: Params, seed: int) -> pd.DataFrame:
    """The committed runs of one seed, restricted to (and complete for) the config's grid.

    Raises
    ------
    DataError
        If the table lacks a run of the grid or was trained with other
        study-level fields.
    """
    df = committed_seed(p, seed)
    want = _expected_cells(p)
    keys = [_key(r) for r in df.itertuples()]
    missing = want - set(keys)
    if missing:
        raise DataError(
            f"the committed run table lacks {len(missing)} run(s) of this config's grid "
            f"(e.g. {sorted(map(str, missing))[0]}); use --preset train to train them"
        )
    df = df[np.array([k in want for k in keys], dtype=bool)]
    why = training_mismatch(p, df)
    if why:
        raise DataError(f"{why}; use --preset train")
    return df.reset_index(drop=True)


def simulate(p: Params, seed: Seed) -> pd.DataFrame:
    """One seed's runs, committed or trained now (the integer seed keys the table's streams)."""
    runs = sim.run_grid(p, seed.seed) if p.runs_source == "train" else committed_rows(p, seed.seed)
    return runs.rename(columns={"experiment": "grid"})


_SE_CLAIM = f"(>= {N_SE:g} SE)"

EXPERIMENT = Experiment(
    name="runs",
    doc="Transformer runs post-train quantized (ptq grid) and trained quantized (qat grid)",
    params=Params,
    simulate=simulate,
    checks=(
        Claim(
            "ptq_second_order_bit_ratio",
            claims.second_order_bit_ratio,
            "<=",
            1.0,
            detail="RTN degradation ratio delta(P)/delta(P+1) in the perturbative regime vs the "
            "second-order prediction (q_max(P+1)/q_max(P))^2 (theory.ptq_second_order_ratio): "
            "|mean log ratio - prediction| / (t-quantile x SE + 0.1)",
            kind="agreement",
        ),
        Claim(
            "ptq_at_2_3_bits_costs_loss",
            claims.ptq_at_low_bits_costs_loss,
            ">=",
            N_SE,
            detail=f"PTQ at 2-3 bits costs loss {_SE_CLAIM}",
        ),
        Claim(
            "ptq_degradation_grows_with_tokens",
            claims.degradation_grows_with_tokens,
            ">=",
            N_SE,
            detail=f"delta_PTQ grows with the training tokens {_SE_CLAIM}",
        ),
        Claim(
            "more_tokens_can_hurt_after_ptq",
            claims.more_tokens_can_hurt,
            ">=",
            N_SE,
            detail=f"past a critical data size the post-PTQ loss rises {_SE_CLAIM}",
        ),
        Claim(
            "larger_models_degrade_less",
            claims.larger_models_degrade_less,
            ">=",
            N_SE,
            detail=f"larger models degrade less at the longest budget {_SE_CLAIM}",
        ),
        Claim(
            "gptq_degrades_less_than_rtn",
            claims.gptq_degrades_less,
            ">=",
            0.9,
            detail="GPTQ below RTN in at least 90 % of the cells",
        ),
        Claim(
            "lower_training_precision_costs_loss",
            claims.lower_precision_costs_loss,
            ">=",
            N_SE,
            detail=f"quantized training costs loss {_SE_CLAIM}",
        ),
        Claim(
            "combined_quantization_costs_more",
            claims.combined_costs_more,
            ">=",
            N_SE,
            detail=f"all three families quantized cost more than one {_SE_CLAIM}",
        ),
        Claim(
            "low_precision_training_degrades_less",
            claims.low_precision_training_degrades_less,
            ">=",
            N_SE,
            detail=f"lower training precision degrades less under PTQ {_SE_CLAIM}",
        ),
        Claim(
            "runs_below_unigram_entropy",
            claims.below_unigram_entropy,
            "<",
            0.0,
            detail="every high-precision run learned something beyond unigram statistics",
        ),
    ),
    figures=runs_figures,
    derived=lambda p, theory, sims: {"fits": fit_table(p, sims)},
)
