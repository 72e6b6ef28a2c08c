"""Experiment ``compute_optimal``: the compute-optimal precision of the published constants.

Theory only: P* vs compute C = (6/16) N D P over C = 1e18..1e26, jointly
over (N, D, P) with and without offsets n = 2.5 bits, and at fixed N = 1e8,
1e9 (docs/precision_scaling.md, "The 7-8 bit optimum").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from theorylab.core.checks import Claim
from theorylab.core.experiment import Experiment
from theorylab.core.plotting import caption, colors, figure, finish, theory_line

from .. import theory as th

P0 = th.PAPER_PARAMS

# P* is analytically independent of C; 1e-3 bits is far above the golden-section
# tolerance (1e-10) and far below any difference that matters (1.5e-6 measured)
SPREAD_TOL = 1e-3


def theory(p) -> pd.DataFrame:
    """P* per budget C for each setting (joint, joint with offsets, fixed N)."""
    Cs = np.logspace(18, 26, 17)
    shifted = P0.replace(n_w=2.5, n_a=2.5, n_kv=2.5)
    curves = {
        "joint": th.compute_optimal(Cs).P,
        "joint, offsets n=2.5": th.compute_optimal(Cs, shifted).P,
        **{f"fixed N={N:.0e}": th.compute_optimal(Cs, fixed_N=N).P for N in (1e8, 1e9)},
    }
    return pd.concat(
        [
            pd.DataFrame({"quantity": "P_star", "setting": s, "x": Cs, "value": v})
            for s, v in curves.items()
        ],
        ignore_index=True,
    )


def _spread(p, theory: pd.DataFrame, sims: pd.DataFrame):
    j = theory[theory.setting == "joint"]["value"]
    off = theory[theory.setting.str.contains("offsets")]["value"].mean()
    return float(j.max() - j.min()), (
        f"P* = {j.mean():.4f} bits; with offsets n = 2.5 bits: {off:.2f} bits (paper: 7-8)"
    )


def _slope(p, theory: pd.DataFrame, sims: pd.DataFrame):
    fN = theory[theory.setting == "fixed N=1e+08"].sort_values("x")
    slope = np.polyfit(np.log(fN.x), fN["value"], 1)[0]
    return float(slope), (
        f"the first-order estimate gamma beta = {P0.gamma_w * P0.beta:.2f} for the largest gamma"
    )


def figures(p, theory: pd.DataFrame, sims: pd.DataFrame) -> dict:
    """P* vs C, joint and at fixed N, with and without offsets."""
    fig, ax = figure(width=4.4, height=3.3)
    for c, (setting, g) in zip(
        colors(4, "cividis"), theory.groupby("setting", sort=True), strict=False
    ):
        style = "--" if "offsets" in setting else "-"
        theory_line(ax, g.x, g["value"], color=c, label=setting, style=style)
    ax.axhspan(7, 8, color="0.85", zorder=0, label="paper: 7-8 bits")
    finish(
        ax,
        xlabel="compute C (FLOPs; C = 6/16 N D P)",
        ylabel="optimal precision P* (bits)",
        title="compute-optimal precision, published constants",
        logx=True,
    )
    ax.legend(fontsize=7)
    return {
        "compute_optimal_precision": caption(
            fig,
            "Compute-optimal training precision against compute C from the published constants, "
            "with the paper's 7-8 bit band (shaded).",
        )
    }


EXPERIMENT = Experiment(
    name="compute_optimal",
    doc="compute-optimal precision P* vs compute (published constants)",
    theory=theory,
    checks=(
        Claim(
            "optimal_precision_independent_of_compute",
            _spread,
            "<=",
            SPREAD_TOL,
            detail="spread (bits) of the joint compute-optimal P* over C = 1e18..1e26 "
            "(published constants, no offsets)",
        ),
        Claim(
            "optimal_precision_grows_with_log_compute_at_fixed_N",
            _slope,
            ">",
            0.0,
            detail="dP*/d ln C at N = 1e8 fixed over C = 1e18..1e26 (bits per e-fold)",
        ),
    ),
    figures=figures,
)
