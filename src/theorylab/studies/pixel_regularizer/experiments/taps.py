"""Experiment ``taps``: the similarity head's EMA update and regularizer-only fitting.

A tiny CNN (float64) on scikit-learn digits (docs/pixel_regularizer.md,
section "Checks"): one pair batch through :class:`simulate.SimilarityTaps`
moves every running mean to exactly beta m + (1 - beta) batch mean; then
alpha L_sim alone (Adam) on ``n_reg`` digits with S^Th targets raises the
Pearson correlation between S_CNN and S_target on held-out pairs (of
``n_reg`` other digits, their own S^Th) and lowers their L_sim.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.checks import Claim, NotEvaluable
from theorylab.core.config import param
from theorylab.core.experiment import Experiment, Seed, frame
from theorylab.core.plotting import figure, finish

from .. import theory as th
from ..common import Shared, digits, need_torch

NAME = "taps"
EMA_TOL = 1e-12  # float64: the update is one multiply-add per channel
CORR_GAIN = 0.2  # the fit thresholds
LOSS_DROP = 0.3


@dataclass(frozen=True)
class Params(Shared):
    """Parameters of ``taps``."""

    n_reg: int = param(300, "digits in the fitting set (and as many held out)", ge=10, le=898)
    th: float = param(0.8, "threshold of the S^Th targets", ge=0, le=1)
    fit_steps: int = param(300, "Adam steps on alpha L_sim alone", ge=1, le=100_000)
    fit_k: int = param(64, "pairs per fitting step", ge=1, le=4096)
    fit_lr: float = param(3e-2, "Adam learning rate", gt=0, le=1.0)
    fit_alpha: float = param(1.0, "alpha of the fitting loss", gt=0, le=1e4)
    held_out: str = param(
        "pairs",
        "held-out set: unseen pairs of the fitting images, or pairs of other images",
        choices=("pairs", "images"),
    )
    n_eval: int = param(2000, "held-out pairs of the correlation", ge=10, le=100_000)


def _held_out(taps, imgs, T, i, j, form):
    torch = need_torch()
    with torch.no_grad():
        s, _ = taps.similarity(imgs[i], imgs[j], update=False)
    s = s.numpy().astype(np.float64)
    return th.pearson(s, T[i, j]), th.sim_loss(s, T[i, j], form=form), s


def simulate(p: Params, seed: Seed) -> pd.DataFrame:
    """EMA error and the held-out correlation / loss before and after fitting (one seed)."""
    torch = need_torch()
    from .. import simulate as sim

    x, _ = digits()
    fit = x[: p.n_reg]
    held = fit if p.held_out == "pairs" else x[p.n_reg : 2 * p.n_reg]
    S_fit, S_held = (th.pixel_similarity(a[:, 0].numpy()) for a in (fit, held))
    T_fit, T_held = th.threshold_targets(S_fit, p.th), th.threshold_targets(S_held, p.th)
    sampler = th.select_pairs(S_fit, p.th)
    rng = seed.rng("pairs")
    with sim.torch_mode():
        gen = torch.Generator().manual_seed(seed.integer("init"))
        model = sim.TinyCNN(8, p.c1, 2 * p.c1, generator=gen).double()
        taps = sim.SimilarityTaps(model, model.taps(), beta=p.beta)
        hi, hj = _pairs(seed, p.n_reg, p.n_eval)
        # "before": the network as training starts (running means still at zero)
        c0, l0, _ = _held_out(taps, held, T_held, hi, hj, p.form)
        i, j = sampler.sample(rng, p.fit_k)
        with torch.no_grad():
            taps.similarity(fit[i], fit[j])  # sets the means once
            before = [getattr(taps, f"mean{l}").clone() for l in range(taps.n_taps)]
            feats = taps.features(torch.cat([fit[i], fit[j]]))
            want = [
                p.beta * m + (1 - p.beta) * f.mean((0, 2, 3))
                for m, f in zip(before, feats, strict=True)
            ]
            taps.similarity(fit[i], fit[j])
            got = [getattr(taps, f"mean{l}") for l in range(taps.n_taps)]
        ema = max(float((g - w).abs().max()) for g, w in zip(got, want, strict=True))
        opt = torch.optim.Adam([*model.parameters(), taps.theta], lr=p.fit_lr)
        for _ in range(p.fit_steps):
            i, j = sampler.sample(rng, p.fit_k)
            s, _ = taps.similarity(fit[i], fit[j])
            loss = p.fit_alpha * th.sim_loss(s, torch.as_tensor(T_fit[i, j]), form=p.form)
            opt.zero_grad()
            loss.backward()
            opt.step()
        c1, l1, _s1 = _held_out(taps, held, T_held, hi, hj, p.form)
    rows = dict(ema_error=ema, corr_before=c0, corr_after=c1, loss_before=l0, loss_after=l1)
    return frame(quantity=list(rows), value=[float(v) for v in rows.values()])


def _pairs(seed, n, m):
    rng = seed.rng("held_out_pairs")
    a, b = rng.integers(0, n, 2 * m + 8), rng.integers(0, n, 2 * m + 8)
    keep = a != b
    return np.minimum(a, b)[keep][:m], np.maximum(a, b)[keep][:m]


def _per_seed(sims, name):
    if sims.empty or "quantity" not in sims:
        raise NotEvaluable("no simulation rows")
    d = sims[sims.quantity == name].set_index("seed")["value"]
    if d.empty:
        raise NotEvaluable(f"no {name} rows")
    return d


def _ema(p, theory, sims):
    d = _per_seed(sims, "ema_error")
    return float(
        d.max()
    ), f"max over {len(d)} seeds and channels of |m_new - (beta m + (1-beta) mean)|"


def _corr(p, theory, sims):
    a, b = _per_seed(sims, "corr_after"), _per_seed(sims, "corr_before")
    g = a - b
    return float(g.mean()), (
        f"held-out Pearson r {b.mean():.3f} -> {a.mean():.3f} "
        f"(gain SE {g.sem():.3f}, {len(g)} seeds)"
    )


def _drop(p, theory, sims):
    a, b = _per_seed(sims, "loss_after"), _per_seed(sims, "loss_before")
    d = 1 - a / b
    return float(d.mean()), f"held-out L_sim {b.mean():.3f} -> {a.mean():.3f} (SE {d.sem():.3f})"


CHECKS = (
    Claim("ema_update", _ema, "<=", EMA_TOL, "EMA channel means", kind="agreement"),
    Claim(
        "fit_correlation_gain",
        _corr,
        ">=",
        CORR_GAIN,
        "regularizer-only fitting: held-out corr(S_CNN, S^Th) gain",
        kind="agreement",
    ),
    Claim(
        "fit_loss_drop",
        _drop,
        ">=",
        LOSS_DROP,
        "regularizer-only fitting: relative drop of held-out L_sim",
        kind="agreement",
    ),
)


def figures(p: Params, theory, sims) -> dict:
    """Held-out correlation and loss before / after fitting, per seed."""
    fig, ax = figure(ncols=2, width=3.0)
    for a, (b, c, lab) in zip(
        ax,
        (("corr_before", "corr_after", "Pearson r"), ("loss_before", "loss_after", "L_sim")),
        strict=True,
    ):
        if sims.empty:
            continue
        v0, v1 = _per_seed(sims, b), _per_seed(sims, c)
        for s in v0.index:
            a.plot([0, 1], [v0[s], v1[s]], "o-", color="C0", alpha=0.7)
        a.set_xticks([0, 1], ["before", "after"])
        finish(a, ylabel=f"held-out {lab}")
    return {"taps_fit": fig}


EXPERIMENT = Experiment(
    name=NAME,
    doc="EMA means of the similarity taps; regularizer-only fitting of S^Th on digits",
    params=Params,
    simulate=simulate,
    checks=CHECKS,
    figures=figures,
)
