"""Experiment ``reversal``: the overtraining-reversal effect through feature reuse.

A CE network is trained to its plateau t_p and then for L t_p more epochs
for every overtraining length L in ``lengths`` (L = 0: "just trained",
L = 10: "overtrained").  The labels are then reversed (y -> -y) and three
protocols measure the steps to 100 % reversed training accuracy
(docs/overtraining.md, section "Overtraining reversal"):

``readout_only``
    Logistic regression by fixed-step GD on the frozen hidden features
    ReLU(W x) / sqrt(H), readout from 0; also on the initial features W0.
``keep_readout``
    The whole centred network keeps training from where it is (its readout
    included) on the reversed labels.
``reset_readout``
    The readout is set to 0 (and the centring dropped, so f starts at 0) and
    the whole network trains; also from the initial weights ("naive").

The kernel-target alignment of every feature set is recorded with them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from theorylab.core.checks import Claim, NotEvaluable
from theorylab.core.config import param
from theorylab.core.errors import ConfigError
from theorylab.core.experiment import Experiment, Seed
from theorylab.core.plotting import caption, figure, finish

from .. import simulate as sim
from .. import theory as th
from ..common import Batch, Shared, check_multiple, make_batch, plateau, train

JUST, OVER = 0.0, 10.0  # the comparison: stopped at t_p vs 10 t_p more epochs


@dataclass(frozen=True)
class Params(Shared):
    """Parameters of ``reversal``."""

    lengths: tuple[float, ...] = param(
        (0.0, 1.0, 3.0, 10.0), "overtraining lengths L (epochs after t_p, in t_p)", ge=0, le=1000
    )
    net_lengths: tuple[float, ...] = param(
        (0.0, 10.0),
        "lengths at which the full-network protocols run (subset of lengths)",
        ge=0,
        le=1000,
    )
    net_protocols: bool = param(True, "run the keep-readout and reset-readout protocols")
    readout_lr: float = param(1.0, "step of readout-only logistic GD", gt=0, le=1e4)
    readout_cap: int = param(20_000, "cap on readout-only GD steps (censoring)", ge=1, le=10**7)
    net_cap: int = param(3000, "cap on full-network reversal epochs (censoring)", ge=1, le=10**7)

    def check(self) -> None:
        super().check()
        check_multiple(self, "lengths", JUST)
        check_multiple(self, "lengths", OVER)
        for v in self.net_lengths:
            if not any(abs(v - x) < 1e-12 for x in self.lengths):
                raise ConfigError("net_lengths", self.net_lengths, "must be a subset of lengths")


def _features(W, X, H: int) -> np.ndarray:
    h, _ = sim.forward(W, np.zeros(W.shape[:2]), X)
    return h / np.sqrt(H)


def _snapshots(p: Params, b: Batch):
    """t_p and the weights after L t_p more epochs, for every L in ``lengths``."""
    tp, W, a = plateau(p, b)
    out, done = {}, np.zeros_like(tp)
    for L in sorted(p.lengths):
        target = np.round(L * tp).astype(int)
        W, a, _ = train(p, b, W, a, target - done)
        done = target
        out[L] = (W, a)
    return tp, out


def _net_runs(p: Params, b: Batch, snaps) -> list[dict]:
    """The keep-readout and reset-readout protocols, every run in one batched call."""
    S = len(b.seed)
    runs = [("keep_readout", L, snaps[L][0], snaps[L][1], b.g0) for L in p.net_lengths]
    runs += [("reset_readout", L, snaps[L][0], 0 * snaps[L][1], 0 * b.g0) for L in p.net_lengths]
    runs.append(("reset_readout", -1.0, b.W0, 0 * b.a0, 0 * b.g0))
    rep = lambda x: np.concatenate([x] * len(runs))  # noqa: E731
    big = Batch(**{f: rep(getattr(b, f)) for f in Batch.__dataclass_fields__})
    W, a, f0 = (np.concatenate([r[i] for r in runs]) for i in (2, 3, 4))
    _, _, steps = train(p, big, W, a, p.net_cap, y=-big.y, g0=f0, stop=True)
    return [
        dict(protocol=name, length=L, seed=int(b.seed[i]), steps=int(steps[r * S + i]))
        | dict(censored=bool(steps[r * S + i] >= p.net_cap))
        for r, (name, L, *_) in enumerate(runs)
        for i in range(S)
    ]


def simulate(p: Params, seeds: list[Seed]) -> pd.DataFrame:
    """Overtrain, reverse the labels, count the steps of each protocol."""
    b = make_batch(p, seeds)
    tp, snaps = _snapshots(p, b)
    sets = [(-1.0, b.W0)] + [(L, snaps[L][0]) for L in sorted(p.lengths)]
    S = len(b.seed)
    h = np.concatenate([_features(W, b.X, p.H) for _, W in sets])
    y, w = np.concatenate([b.y] * len(sets)), np.concatenate([b.w] * len(sets))
    steps, fitted = sim.readout_reversal(
        h, -y, w, lr=p.readout_lr, cap=p.readout_cap, dtype=p.dtype
    )
    rows = []
    for r, (L, _) in enumerate(sets):
        for i in range(S):
            j = r * S + i
            rows.append(
                dict(protocol="readout_only", length=L, seed=int(b.seed[i]), steps=int(steps[j]))
                | dict(censored=not bool(fitted[j]))
                | dict(alignment=th.kernel_alignment(h[j], y[j], weights=w[j]))
            )
    if p.net_protocols:
        rows += _net_runs(p, b, snaps)
    df = pd.DataFrame(rows)
    df["t_p"] = df.seed.map(dict(zip(b.seed.tolist(), tp.tolist(), strict=True)))
    return df


# -- checks ------------------------------------------------------------------------------------


def _table(sims, protocol, column) -> pd.DataFrame:
    d = sims[sims.protocol == protocol]
    if d.empty:
        raise NotEvaluable(f"no {protocol} rows")
    return d.pivot(index="seed", columns="length", values=column)


def _faster(p, theory, sims):
    t = _table(sims, "readout_only", "steps")
    faster = t[OVER] < t[JUST]
    return float(faster.mean()), (
        "steps just / over per seed: "
        + ", ".join(f"{int(a)}/{int(b)}" for a, b in zip(t[JUST], t[OVER], strict=True))
        + f"; init: {', '.join(str(int(v)) for v in t[-1.0])}"
    )


def _alignment(p, theory, sims):
    t = _table(sims, "readout_only", "alignment")
    up = (t[-1.0] < t[JUST]) & (t[JUST] < t[OVER])
    return float(up.mean()), "A(init) / A(just) / A(over) per seed: " + ", ".join(
        f"{a:.3f}/{b:.3f}/{c:.3f}" for a, b, c in zip(t[-1.0], t[JUST], t[OVER], strict=True)
    )


def _ore_curve(p, theory, sims):
    t = _table(sims, "readout_only", "steps").drop(columns=-1.0)
    if t.shape[1] < 3:
        raise NotEvaluable("needs at least 3 overtraining lengths")
    med = t.median()
    rho = spearmanr(med.index, med.values).statistic
    return float(rho), "median steps by length: " + ", ".join(
        f"L={k:g}: {v:.0f}" for k, v in med.items()
    )


CHECKS = (
    # the issue: overtrained reverses faster in >= 3 of 4 seeds (readout-only protocol)
    Claim(
        "reversal_readout_only_overtrained_faster",
        _faster,
        ">=",
        0.75,
        "fraction of seeds in which readout-only reversal takes fewer steps on the "
        "overtrained (10 t_p) than on the just-trained (t_p) features",
    ),
    # the review found the ordering in 4 of 4 seeds; the same ">= 3 of 4" rule as above
    Claim(
        "alignment_increases",
        _alignment,
        ">=",
        0.75,
        "fraction of seeds with kernel-target alignment A(init) < A(just) < A(over)",
    ),
    # the GPU pass criterion (iv) of the reconstruction: reversal time falls with length
    Claim(
        "ore_curve_decreasing",
        _ore_curve,
        "<",
        0.0,
        "Spearman correlation of the median readout-only reversal steps with the "
        "overtraining length",
    ),
)


def figures(p: Params, theory: pd.DataFrame, sims: pd.DataFrame) -> dict:
    """Steps to reversal vs overtraining length per protocol; alignment vs length."""
    fig, ax = figure(ncols=2, width=4.2)
    x = lambda L: np.where(L < 0, 0.3, L + 1.0)  # noqa: E731  (init at the left, L + 1 on log axis)
    for col, (protocol, d) in zip(("C0", "C1", "C2"), sims.groupby("protocol"), strict=False):
        med = d.groupby("length").steps.median()
        ax[0].plot(x(d.length), d.steps, "o", color=col, alpha=0.3, ms=3)
        ax[0].plot(x(med.index.to_numpy()), med.values, "-", color=col, label=protocol)
    finish(
        ax[0],
        xlabel="1 + overtraining length L / t_p  (init at 0.3)",
        ylabel="steps to 100 % reversed accuracy",
        logx=True,
        logy=True,
    )
    d = sims[sims.protocol == "readout_only"]
    for _, g in d.groupby("seed"):
        ax[1].plot(x(g.length.to_numpy()), g.alignment, "o-", color="0.5", ms=3, lw=0.8)
    med = d.groupby("length").alignment.median()
    ax[1].plot(x(med.index.to_numpy()), med.values, "-", color="C0", lw=2, label="median")
    finish(ax[1], xlabel="1 + L / t_p  (init at 0.3)", ylabel="kernel alignment A(K, y)", logx=True)
    return {
        "reversal_steps": caption(
            fig,
            "Overtraining reversal: steps to relearn reversed labels (left) and "
            "kernel-target alignment (right) against the overtraining length, "
            "medians over seeds.",
        )
    }


EXPERIMENT = Experiment(
    name="reversal",
    doc="overtraining reversal: steps to learn y -> -y after L t_p of overtraining, 3 protocols",
    params=Params,
    simulate=simulate,
    checks=CHECKS,
    figures=figures,
    batched=True,
)
