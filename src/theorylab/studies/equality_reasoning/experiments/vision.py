"""Experiment ``vision``: PSVRT same-different images, rich vs lazy, vs training-set size.

An image is a grid of ``n_patches`` x ``n_patches`` cells of ``patch`` x
``patch`` pixels; two distinct cells hold +-1 bit patches (scaled to unit
norm), identical for "same".  Training patches come from a fixed set of
``n_train`` random patterns, test patches are fresh.  The MLP sees the
flattened image (its pixels in cell-major order, a fixed permutation the MLP
is indifferent to).  Richness gamma = gamma0 sqrt(patch^2)
(docs/equality_reasoning.md, section "Vision").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.checks import Claim, NotEvaluable
from theorylab.core.config import param
from theorylab.core.errors import ConfigError
from theorylab.core.experiment import Experiment, Seed
from theorylab.core.plotting import caption, figure, finish, sim_points

from .. import simulate as sim
from ..common import REGIMES, Shared, regime_configs, train

NAME = "vision"
GAIN = 0.1  # the claim: rich minus lazy unseen accuracy at the small training size
# (n_train = 8: at 4 both regimes are near chance, measured 0.60 vs 0.53 in the full preset)


@dataclass(frozen=True)
class Params(Shared):
    """Parameters of ``vision``."""

    n_patches: int = param(3, "cells per image side (3: a 15 x 15 image)", ge=2, le=16)
    patch: int = param(5, "patch side in pixels", ge=1, le=16)
    n_trains: tuple[int, ...] = param(
        (8, 32), "training-pattern counts (must contain claim_n_train)", ge=2, le=4096
    )
    claim_n_train: int = param(
        8, "the small training size of the rich-vs-lazy claim", ge=2, le=4096
    )
    vision_eta0: float = param(
        0.5,
        "base learning rate of the vision networks (the authors' PSVRT runs: 0.5)",
        gt=0,
        le=10.0,
    )

    def check(self) -> None:
        super().check()
        if self.claim_n_train not in self.n_trains:
            raise ConfigError(
                "claim_n_train", self.claim_n_train, f"must be one of n_trains={self.n_trains}"
            )


def simulate(p: Params, seeds: list[Seed]) -> pd.DataFrame:
    """Rich and lazy networks per training size; one row per (regime, n_train, seed)."""
    configs = [
        c | dict(n_slots=p.n_patches**2, kind=sim.BITS)
        for c in regime_configs(p, REGIMES, d=[p.patch**2], L=list(p.n_trains))
    ]
    geo = sim.psvrt_geometry(max(p.n_trains), p.n_patches, p.patch, batch=p.batch)
    df = train(p, seeds, configs, geo=geo, path="psvrt_mlp", eta0=p.vision_eta0)
    return df.rename(columns={"L": "n_train"}).drop(columns=["d"])


def _gain(p, theory, sims):
    if sims.empty:
        raise NotEvaluable("no networks")
    n = p.claim_n_train
    m = sims[sims.n_train == n].groupby("regime").unseen.mean()
    if not {"rich", "lazy"} <= set(m.index):
        raise NotEvaluable("needs rich and lazy networks")
    return float(m["rich"] - m["lazy"]), (
        f"n_train={n}: rich {m['rich']:.3f}, lazy {m['lazy']:.3f} (unseen patterns)"
    )


CHECKS = (
    Claim(
        "vision_rich_gain",
        _gain,
        ">=",
        GAIN,
        "PSVRT: rich minus lazy unseen-pattern accuracy at the small training size",
    ),
)


def _examples(p: Params) -> np.ndarray:
    rng = Seed("equality_reasoning", NAME, 0).rng("examples")
    bits = np.sign(rng.standard_normal((3, p.patch, p.patch)))
    cells = rng.permutation(p.n_patches**2)
    img = sim.psvrt_image(
        bits[[0, 1]], bits[[0, 2]], cells[[0, 2]], cells[[1, 3]], n_patches=p.n_patches
    )
    return img


def figures(p: Params, theory, sims: pd.DataFrame) -> dict:
    """Unseen / seen accuracy vs training size, with a same and a different example."""
    fig, ax = figure(ncols=3, width=2.8)
    img = _examples(p)
    for k, title in enumerate(("same", "different")):
        ax[k].imshow(img[k], cmap="gray", vmin=-1, vmax=1)
        ax[k].set_title(title)
        ax[k].set_xticks([])
        ax[k].set_yticks([])
        ax[k].grid(False)
    for regime, color in (("rich", "C0"), ("lazy", "C3")):
        d = sims[sims.regime == regime]
        for col, marker in (("unseen", "o"), ("seen", "^")):
            g = d.groupby("n_train")[col]
            sim_points(
                ax[2],
                g.mean().index,
                g.mean(),
                g.sem(),
                color=color,
                marker=marker,
                label=f"{regime}, {col}",
            )
    finish(ax[2], xlabel="training patterns", ylabel="accuracy", logx=True)
    ax[2].legend(fontsize=6)
    return {
        "vision_psvrt": caption(
            fig,
            "PSVRT same-different images (left) and accuracy of rich and lazy "
            "networks against the number of training patterns (right).",
        )
    }


EXPERIMENT = Experiment(
    name=NAME,
    doc="PSVRT images: rich networks generalise to unseen patterns from few training patterns",
    params=Params,
    simulate=simulate,
    checks=CHECKS,
    figures=figures,
    batched=True,
)
