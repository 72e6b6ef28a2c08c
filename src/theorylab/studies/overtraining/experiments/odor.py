"""Experiment ``odor``: hidden progress after the accuracy plateau in the odor network.

The centred two-layer network is trained on the odor task with cross-entropy
(CE) and, on the same task and initialization, with the hinge loss.  Every
network is measured at log-spaced multiples c of its own plateau epoch t_p
(first epoch with 100 % training accuracy): training accuracy and loss,
normalized network margin, hidden-layer SVM margin, target-nontarget
similarity S_TN, kernel alignment, probe accuracy and Fisher discriminant per
overlap m, plus the weight change over the last ``window`` epochs and the
late learners among the hardest probes (docs/overtraining.md, section
"Experiments").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.checks import Claim, NotEvaluable
from theorylab.core.config import param
from theorylab.core.experiment import Experiment, Seed

from .. import simulate as sim
from .. import theory as th
from ..common import (
    Shared,
    distance,
    init_norm,
    log_grid,
    make_batch,
    plateau,
    train,
    train_metrics,
)
from ..figures import odor_figures as figures

OVER = 10.0  # the checks compare c = 10 (10 t_p) with the plateau c = 1 (the "10 t_p")


@dataclass(frozen=True)
class Params(Shared):
    """Parameters of ``odor``."""

    span: float = param(10.0, "last checkpoint, in multiples of t_p", ge=OVER, le=1000.0)
    first: float = param(0.05, "first checkpoint, in multiples of t_p", gt=0.0, lt=1.0)
    per_decade: int = param(6, "checkpoints per decade of epochs", ge=1, le=100)
    window: int = param(500, "epochs over which the late weight change is measured", ge=1, le=10**6)
    probes: int = param(200, "held-out probes per overlap m", ge=10, le=100_000)


def _schedule(p: Params, tp: np.ndarray):
    """Per network: sorted (epoch, nominal multiple c) with the window start and end (c = nan)."""
    mults = log_grid(p.first, p.span, p.per_decade, include=(1.0, OVER))
    end = np.maximum(np.round(p.span * tp), tp + 2 * p.window).astype(int)
    rows = []
    for i, t in enumerate(tp):
        entries = [(round(c * t), float(c)) for c in mults]
        entries += [(int(end[i] - p.window), -1.0), (int(end[i]), np.nan)]
        rows.append(sorted(entries, key=lambda e: (e[0], np.isnan(e[1]))))
    return np.array([[e[0] for e in r] for r in rows]), np.array([[e[1] for e in r] for r in rows])


def _probe_rows(p, b, W, a, epochs, cs, j, keep) -> list[dict]:
    """Probe accuracy and Fisher discriminant per overlap at column ``j``."""
    hp, gp = sim.forward(W, a, b.P)
    ht, _ = sim.forward(W, a, b.T[:, None, :])
    out = []
    for i in range(len(b.seed)):
        if not np.isfinite(cs[i, j]) or cs[i, j] < 0:
            continue
        f = p.alpha * (gp[i] - b.g0_probe[i])
        keep[i].append((epochs[i, j], -f[b.p_overlap[i] >= p.n - 2]))
        for m in range(p.n):
            sel = b.p_overlap[i] == m
            out.append(
                dict(
                    part="probe",
                    seed=int(b.seed[i]),
                    loss=b.loss[i],
                    c=cs[i, j],
                    epoch=int(epochs[i, j]),
                    overlap=m,
                    accuracy=float(np.mean(f[sel] < 0)),
                    fisher=th.fisher_discriminant(ht[i], hp[i][sel]),
                )
            )
    return out


def simulate(p: Params, seeds: list[Seed]) -> pd.DataFrame:
    """CE and hinge networks of every seed, measured at multiples of their own t_p."""
    b = make_batch(p, seeds, ("logistic", "hinge"), probes=p.probes)
    tp, _, _ = plateau(p, b)
    epochs, cs = _schedule(p, tp)
    W, a, done = b.W0, b.a0, np.zeros(len(tp), dtype=int)
    rows, keep, start = [], [[] for _ in tp], {}
    for j in range(epochs.shape[1]):
        W, a, _ = train(p, b, W, a, epochs[:, j] - done)
        done = epochs[:, j]
        metrics = train_metrics(p, b, W, a) if np.any(cs[:, j] >= 0) else None
        for i in range(len(tp)):
            if cs[i, j] == -1.0:
                start[i] = (W[i].copy(), a[i].copy())
            elif np.isfinite(cs[i, j]):
                rows.append(
                    dict(part="curve", seed=int(b.seed[i]), loss=b.loss[i], c=cs[i, j])
                    | dict(epoch=int(epochs[i, j]), t_p=int(tp[i]))
                    | metrics[i]
                )
        rows += _probe_rows(p, b, W, a, epochs, cs, j, keep)
    norm0 = init_norm(b)
    for i in range(len(tp)):
        W1, a1 = start[i]
        change = np.sqrt(np.sum((W[i] - W1) ** 2) + np.sum((a[i] - a1) ** 2)) / norm0[i]
        t, m = zip(*sorted(dict(keep[i]).items()), strict=True)
        tr = th.transitions(np.stack(m, axis=1), np.maximum(np.array(t, float), 0.5), tp[i])
        rows.append(
            dict(part="summary", seed=int(b.seed[i]), loss=b.loss[i], t_p=int(tp[i]))
            | dict(epoch=int(done[i]), window_change=float(change))
            | dict(rel_change=float(distance(b, W, a)[i] / norm0[i]))
            | dict(late_fraction=float(np.mean(tr["late"])))
            | dict(abruptness=float(np.nanmedian(tr["abruptness"])) if tr["late"].any() else np.nan)
        )
    return pd.DataFrame(rows)


# -- checks ------------------------------------------------------------------------------------


def _per_seed(sims, part, loss, column, c=None, overlap=None) -> pd.Series:
    d = sims[(sims.part == part) & (sims.loss == loss)]
    if c is not None:
        d = d[np.isclose(d.c, c)]
    if overlap is not None:
        d = d[d.overlap == overlap]
    if d.empty:
        raise NotEvaluable(f"no {part} rows for loss={loss}, c={c}, overlap={overlap}")
    return d.set_index("seed")[column].sort_index()


def _gain(sims, part, loss, column, overlap=None, ratio=False) -> pd.Series:
    late = _per_seed(sims, part, loss, column, OVER, overlap)
    at_p = _per_seed(sims, part, loss, column, 1.0, overlap)
    return late / at_p if ratio else late - at_p


def _fmt(s: pd.Series) -> str:
    return ", ".join(f"{v:.4g}" for v in s)


def _ce_moving(p, theory, sims):
    v = _per_seed(sims, "summary", "logistic", "window_change")
    return float(v.min()), f"CE per seed: {_fmt(v)}"


def _hinge_frozen(p, theory, sims):
    h = _per_seed(sims, "summary", "hinge", "window_change")
    ce = _per_seed(sims, "summary", "logistic", "window_change")
    last = sims[(sims.part == "probe") & (sims.overlap == p.n - 1)]
    last = last[np.isclose(last.c, p.span)].groupby("loss").accuracy.apply(_fmt)
    return float(h.max() / ce.min()), (
        f"hinge changes {_fmt(h)} vs CE {_fmt(ce)}; final probe accuracy at m = {p.n - 1}: "
        f"hinge {last.get('hinge', '-')}, CE {last.get('logistic', '-')}"
    )


def _margin_ratio(p, theory, sims):
    r = _gain(sims, "curve", "logistic", "norm_margin", ratio=True)
    return float(r.median()), f"per seed: {_fmt(r)}"


def _hidden_ratio(p, theory, sims):
    ce = _gain(sims, "curve", "logistic", "hidden_margin", ratio=True)
    hi = _gain(sims, "curve", "hinge", "hidden_margin", ratio=True)
    return float(ce.median()), f"CE per seed {_fmt(ce)}; hinge per seed {_fmt(hi)}"


def _probe_gain(p, theory, sims):
    g = _gain(sims, "probe", "logistic", "accuracy", overlap=p.n - 1)
    return float(g.median()), f"per seed: {_fmt(g)}"


def _stn_change(p, theory, sims):
    g = _gain(sims, "curve", "logistic", "stn")
    return float(g.median()), f"per seed: {_fmt(g)}"


CHECKS = (
    # CE gradients never vanish on separable data (Section 3.1): the review measured
    # changes of order 1e-2 over the last 500 epochs; 1e-3 is the threshold.
    Claim(
        "ce_weights_keep_moving",
        _ce_moving,
        ">",
        1e-3,
        "smallest relative weight change |theta(end) - theta(end - window)| / |theta_0| of "
        "the CE networks (hidden progress after the plateau)",
    ),
    # hinge gradients are exactly 0 once every margin >= 1 (float64: exactly 0 change);
    # CE keeps moving (> 1e-3), so the ratio is < 1e-6 only if hinge froze.
    Claim(
        "hinge_freezes_while_ce_learns",
        _hinge_frozen,
        "<",
        1e-6,
        "largest hinge weight change over the last window / smallest CE change (hinge freezes, "
        "CE keeps learning; hinge does not generalise worse)",
    ),
    # the threshold 1.5 (at t_p the smallest margin has only just turned positive)
    Claim(
        "margin_grows_after_plateau",
        _margin_ratio,
        ">=",
        1.5,
        "median over seeds of the normalized network margin min_i y_i f_i / |theta - theta_0| "
        "at 10 t_p over its value at t_p (at t_p the smallest margin has just turned positive)",
    ),
    # measured over 16 seeds (H = 100): CE 1.11-1.22 per seed, hinge (frozen after a few
    # t_p) 0.97-1.06; 1.08 separates the two medians (1.15 and 1.03; docs, "Calibration")
    Claim(
        "hidden_margin_grows",
        _hidden_ratio,
        ">=",
        1.08,
        "median over seeds of the hidden-layer SVM margin (RMS-normalized features) at "
        "10 t_p over t_p",
    ),
    # the issue: median over >= 4 seeds >= 0.03 (the review measured 0.06 and 0.065)
    Claim(
        "probe_gain_overlap9",
        _probe_gain,
        ">=",
        0.03,
        "median over seeds of the probe accuracy gain at the hardest overlap m = n - 1 "
        "from t_p to 10 t_p (CE)",
    ),
    Claim(
        "stn_decreases_after_plateau",
        _stn_change,
        "<",
        0.0,
        "median over seeds of S_TN (cosine, hidden layer) at 10 t_p minus at t_p (CE)",
    ),
)


EXPERIMENT = Experiment(
    name="odor",
    doc="CE vs hinge odor networks after the plateau: margins, S_TN, probes, late learning",
    params=Params,
    simulate=simulate,
    checks=CHECKS,
    figures=figures,
    batched=True,
)
