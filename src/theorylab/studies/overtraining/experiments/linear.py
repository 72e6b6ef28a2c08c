"""Experiment ``linear``: the implicit bias of gradient descent on separable data.

Teacher-separable Gaussian data (x ~ N(0, I_d), kept when |w*.x| > threshold);
full-batch GD from w = 0 with step N / lambda_max(X^T X) on the logistic loss
(``steps`` steps), and with the hinge (step ``hinge_lr`` times smaller) and
squared losses (``short_steps`` steps).  Per dataset the theory is computed
on the same data: the hard-margin SVM (gamma*, w_hat, its dual) and Soudry et
al.'s asymptote w(t) = w_svm ln t + w_tilde, which fixes the growth of |w|
per decade (|w_svm| ln 10) and the margin gap gamma* - gamma(t) to
O(1/ln^2 t) (docs/overtraining.md, section "Theory").  These per-dataset
theory columns travel in the simulation table (``*_theory``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.checks import Claim, NotEvaluable, Paired
from theorylab.core.config import StudyConfig, param
from theorylab.core.errors import ConfigError
from theorylab.core.experiment import Experiment, Seed, frame
from theorylab.core.plotting import caption, figure, finish

from .. import simulate as sim
from .. import theory as th


@dataclass(frozen=True)
class Params(StudyConfig):
    """Parameters of ``linear`` (the odor task does not apply)."""

    d: int = param(50, "input dimension", ge=1, le=10_000)
    N: int = param(200, "training points", ge=2, le=100_000)
    threshold: float = param(0.3, "teacher margin |w*.x| a point must exceed", ge=0.0, le=1.0)
    steps: int = param(
        100_000,
        "logistic GD steps (the growth is measured over the last decade)",
        ge=1000,
        le=10**8,
    )
    per_decade: int = param(10, "log-spaced checkpoints per decade", ge=1, le=100)
    short_steps: int = param(5000, "hinge and squared-loss GD steps", ge=10, le=10**7)
    hinge_lr: float = param(10.0, "hinge step = logistic step / hinge_lr", ge=1.0, le=1e6)
    window: int = param(500, "steps over which the hinge weight change is measured", ge=1, le=10**6)

    def check(self) -> None:
        if self.window >= self.short_steps:
            raise ConfigError("window", self.window, f"must be < short_steps={self.short_steps}")


def _checkpoints(p: Params, steps: int) -> np.ndarray:
    extra = (
        [1000, steps // 10, steps - p.window] if steps > 1000 else [steps // 10, steps - p.window]
    )
    return np.unique(np.r_[th.log_checkpoints(steps, p.per_decade), extra])


def _rows(Z, W, steps, loss, w_hat, seeds) -> list[pd.DataFrame]:
    out = []
    for s, seed in enumerate(seeds):
        u = np.einsum("nd,td->tn", Z[s], W[s])
        norm = np.linalg.norm(W[s], axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            gamma = np.where(norm > 0, u.min(axis=1) / norm, 0.0)
            cos = np.where(norm > 0, W[s] @ w_hat[s] / norm, np.nan)
        value = {
            "logistic": np.logaddexp(0, -u),
            "hinge": np.maximum(0, 1 - u),
            "squared": 0.5 * (1 - u) ** 2,
        }[loss].mean(axis=1)
        out.append(
            frame(seed=seed.seed, part="curve", loss=loss, step=steps, gamma=gamma).assign(
                w_norm=norm, cos=cos, loss_value=value, accuracy=(u > 0).mean(axis=1)
            )
        )
    return out


def simulate(p: Params, seeds: list[Seed]) -> pd.DataFrame:
    """GD paths of every dataset (vmapped over seeds) and the per-dataset theory."""
    data = [sim.teacher_data(s.rng("data"), p.N, p.d, p.threshold) for s in seeds]
    Z = np.stack([y[:, None] * X for X, y in data])
    lr = np.array([p.N / np.linalg.eigvalsh(X.T @ X)[-1] for X, _ in data])
    svm = [th.max_margin(X, y) for X, y in data]
    w_hat = np.stack([w for w, _ in svm])
    frames = []
    runs = [("logistic", p.steps, lr), ("hinge", p.short_steps, lr / p.hinge_lr)]
    runs.append(("squared", p.short_steps, lr))
    for loss, steps, step in runs:
        t = _checkpoints(p, steps)
        W = sim.linear_gd_run(Z, step, t, loss)
        rows = _rows(Z, W, t, loss, w_hat, seeds)
        if loss == "logistic":  # the asymptote on every checkpoint, per dataset
            for s, (X, y) in enumerate(data):
                a = th.soudry_asymptote(X, y, lr[s], t)
                rows[s] = rows[s].assign(w_norm_theory=a["w_norm"], gamma_theory=a["gamma"])
        frames += rows
        for s, seed in enumerate(seeds):
            last = np.linalg.norm(W[s, -1] - W[s, t == steps - p.window][0])
            frames.append(frame(seed=seed.seed, part="window", loss=loss, step=steps))
            frames[-1] = frames[-1].assign(window_change=last)
    df = pd.concat(frames, ignore_index=True)
    summary = []
    for s, (seed, (X, y)) in enumerate(zip(seeds, data, strict=True)):
        t = np.array([p.steps // 10, p.steps])
        a = th.soudry_asymptote(X, y, lr[s], t)
        c = df[(df.seed == seed.seed) & (df.part == "curve") & (df.loss == "logistic")]
        c = c.set_index("step")
        growth = c.w_norm[p.steps] - c.w_norm[p.steps // 10]
        summary.append(
            frame(seed=seed.seed, part="summary", loss="logistic", step=p.steps)
            .assign(gamma_star=svm[s][1], support=a["support"], per_decade=growth)
            .assign(per_decade_theory=a["per_decade"], gap=svm[s][1] - c.gamma[p.steps])
            .assign(gap_theory=a["gap"][-1], w_norm_theory=a["w_norm"][-1])
        )
    return pd.concat([df, *summary], ignore_index=True)


# -- checks ------------------------------------------------------------------------------------


def _summary(sims) -> pd.DataFrame:
    d = sims[sims.part == "summary"]
    if d.empty:
        raise NotEvaluable("no summary rows")
    return d.set_index("seed")


def _growth(p, theory, sims):
    d = _summary(sims)
    r = d.per_decade / d.per_decade_theory
    return float(np.max(np.abs(r - 1))), "growth / (|w_svm| ln 10) per seed: " + ", ".join(
        f"{v:.3f}" for v in r
    )


def _hinge(p, theory, sims):
    w = sims[(sims.part == "window") & (sims.loss == "hinge")]
    c = sims[(sims.part == "curve") & (sims.loss == "hinge") & (sims.step == p.short_steps)]
    if w.empty or c.empty:
        raise NotEvaluable("no hinge rows")
    value = max(float(w.window_change.max()), float(c.loss_value.max()))
    return value, (
        f"max weight change over the last {p.window} steps {w.window_change.max():.3g}, max final "
        f"hinge loss {c.loss_value.max():.3g}; hinge margins gamma = "
        + ", ".join(f"{v:.4f}" for v in c.gamma)
    )


def _direction(p, theory, sims):
    c = sims[(sims.part == "curve") & (sims.loss == "logistic")]
    err = lambda t: 1 - c[c.step == t].set_index("seed").cos  # noqa: E731
    if not (c.step == 1000).any():
        raise NotEvaluable("no checkpoint at step 1000")
    r = err(p.steps) / err(1000)
    return float(r.median()), "per seed: " + ", ".join(f"{v:.3f}" for v in r)


CHECKS = (
    # the issue: per-decade growth of |w| over the last decade within 10 % of |w_svm| ln 10
    Claim(
        "linear_norm_per_decade",
        _growth,
        "<=",
        0.10,
        "largest |(|w(T)| - |w(T/10)|) / (|w_svm| ln 10) - 1| over seeds (Soudry et al. 2018)",
        kind="agreement",
    ),
    # The 0.069 +- 0.01 is one dataset's gap; over datasets it varies (measured
    # 0.035-0.064), so the gap is compared, per dataset, with the asymptote's prediction.
    # 15 %: the expansion drops O(1/ln^2 t) and t^-delta terms of near-support points;
    # over 12 datasets the measured gap was 0.90 +- 0.13 (sd) of the prediction at t = 1e5.
    Paired(
        "linear_margin_gap",
        "gap",
        "gap_theory",
        select={"part": "summary"},
        rel=0.15,
        detail="gamma* - gamma(T) of logistic GD vs the implicit-bias asymptote on the same data",
    ),
    # hinge gradients are exactly 0 once every margin >= 1 (float64 arithmetic)
    Claim(
        "linear_hinge_freezes",
        _hinge,
        "<",
        1e-9,
        "hinge GD reaches zero loss and stops: max(weight change over the window, final loss)",
        kind="agreement",
    ),
    # calibration (docs/overtraining.md): 1 - cos fell to 0.36-0.5 of its step-1000 value
    # by 1e5 (O(1/ln t))
    Claim(
        "linear_direction_converges",
        _direction,
        "<",
        0.6,
        "median over seeds of (1 - cos(w, w_hat)) at T over its value at step 1000",
    ),
)


def figures(p: Params, theory: pd.DataFrame, sims: pd.DataFrame) -> dict:
    """|w| and the margin gap vs log t, simulation (markers) and the asymptote (lines)."""
    c = sims[(sims.part == "curve") & (sims.loss == "logistic")]
    s = _summary(sims)
    fig, ax = figure(ncols=2, width=4.2)
    for k, (seed, d) in enumerate(c.groupby("seed")):
        col, late = f"C{k % 10}", d.step >= 1000  # where the 1/ln t expansion applies
        label = f"seed {seed}" if k < 4 else None  # a legend of 16 seeds squeezes the axes
        ax[0].plot(d.step, d.w_norm, "o", ms=2.5, color=col, label=label)
        ax[0].plot(d.step[d.step >= 100], d.w_norm_theory[d.step >= 100], "-", color=col, lw=0.9)
        g = s.loc[seed].gamma_star
        ax[1].plot(d.step, g - d.gamma, "o", ms=2.5, color=col)
        ax[1].plot(d.step[late], g - d.gamma_theory[late], "-", color=col, lw=0.9)
    n_seeds = c.seed.nunique()
    if n_seeds > 4:
        ax[0].plot([], [], "o", ms=2.5, color="0.6", label=f"+ {n_seeds - 4} more seeds")
    finish(
        ax[0],
        xlabel="GD step t",
        ylabel=r"$|w(t)|$; lines $|w_{svm}| \ln t + c/|w_{svm}|$",
        logx=True,
        title="logistic GD: markers GD, lines asymptote",
    )
    finish(ax[1], xlabel="GD step t", ylabel=r"$\gamma^* - \gamma(t)$", logx=True, logy=True)
    return {
        "linear_norm_margin": caption(
            fig,
            "Logistic gradient descent on separable data: |w| grows like |w_svm| ln"
            " t (markers GD, lines the asymptote) and the normalized margin "
            "approaches the max-margin value.",
        )
    }


EXPERIMENT = Experiment(
    name="linear",
    doc="implicit bias of linear GD: |w| ~ w_svm ln t, slow margin growth, hinge freezes",
    params=Params,
    simulate=simulate,
    checks=CHECKS,
    figures=figures,
    batched=True,
)
