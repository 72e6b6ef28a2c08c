"""Figures of the Transformer runs (the ``runs`` experiment).

QAT loss vs precision, PTQ degradation vs tokens and bits, critical data
(published constants and the small runs), parity of the fitted laws.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from theorylab.core.compare import r_squared
from theorylab.core.plotting import caption, colors, figure, finish, sim_points, theory_line

from . import theory as th
from .analysis import cell_means, fits, law_inputs
from .common import HP
from .experiments.calculator import critical_table

_FAMILY_COLUMN = {"w": "P_w", "a": "P_a", "kv": "P_kv"}
_FAMILY_NAME = {"w": "weights", "a": "activations", "kv": "KV cache"}


def _plain_log_ticks(ax) -> None:
    """No minor tick labels on a log x axis spanning about a decade (they collide)."""
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())


def qat_loss_vs_precision(p, sims: pd.DataFrame, F: dict):
    """Loss vs training precision per family, the fitted N_eff curves, the all-three prediction."""
    fig, ax = figure(width=4.6, height=3.6, layout="constrained")
    q = cell_means(sims, "qat", "loss")
    q = q[q.method == "none"]
    base = q[(q.P_w == HP) & (q.P_a == HP) & (q.P_kv == HP)]
    law = F["neff"].law
    N0, D0 = float(base.N.iloc[0]), float(base.D.iloc[0])
    Pg = np.linspace(2.8, 16, 200)
    for c, fam in zip(colors(4, "plasma"), [*p.qat_families, "all"], strict=False):
        if fam == "all":
            g = q[(q.P_w == q.P_a) & (q.P_a == q.P_kv) & (q.P_w < HP)]
            x = g.P_w
            kw = {f"P_{f}": Pg for f in p.qat_families}
            lab = "all three (Eq. 4 from the fits)"
        else:
            col = _FAMILY_COLUMN[fam]
            others = [k for k in _FAMILY_COLUMN.values() if k != col]
            g = q[(q[col] < HP) & (q[others] == HP).all(axis=1)]
            x = g[col]
            kw = {f"P_{fam}": Pg}
            lab = f"{_FAMILY_NAME[fam]} (gamma={F['neff'].params[f'gamma_{fam}']:.2f})"
        style = "--" if fam == "all" else "-"
        theory_line(ax, Pg, th.loss(N0, D0, params=law, **kw), color=c, label=lab, style=style)
        sim_points(ax, x, g["mean"], g["se"], color=c)
    ax.axhline(float(base["mean"].iloc[0]), color="0.4", lw=0.8, ls=":", label="16 bit")
    ax.set_ylim(float(base["mean"].iloc[0]) - 0.05, float(q["mean"].max()) + 0.1)
    finish(
        ax,
        xlabel="training precision P (bits)",
        ylabel="held-out loss (nats/token)",
        title=f"quantized training: d={p.qat_d_model}, {int(D0):,} tokens\n"
        f"(N_eff fit R^2={F['neff'].r2:.2f} on its {F['neff'].n} single-family cells)",
    )
    ax.legend(fontsize=7, loc="upper right")
    return fig


def ptq_delta_vs_tokens(p, sims: pd.DataFrame, F: dict):
    """delta vs D per size at 3-5 bits, with the Eq. 2 fit."""
    d = cell_means(sims, "ptq", "delta")
    meth = p.ptq_methods[0]
    shown = [b for b in p.ptq_bits if 3 <= b <= 5] or list(p.ptq_bits[:3])
    fig, axes = figure(ncols=len(shown), width=3.2, height=3.0)
    axes = np.atleast_1d(axes)
    law = F["ptq"].get(meth)
    cols = colors(len(p.d_models))
    for ax, P in zip(axes, shown, strict=True):
        for c, dm in zip(cols, p.d_models, strict=True):
            g = d[(d.method == meth) & (d.P_post == P) & (d.d_model == dm)].sort_values("D")
            ok = g["mean"] > 0
            N = float(g.N.iloc[0])
            sim_points(ax, g.D[ok], g["mean"][ok], g["se"][ok], color=c, label=f"N={int(N):,}")
            if law is not None:
                Dg = np.geomspace(g.D.min(), g.D.max(), 50)
                theory_line(ax, Dg, th.delta_ptq(N, Dg, P, law.law), color=c)
        finish(
            ax,
            xlabel="training tokens D",
            ylabel="delta_PTQ (nats)" if P == shown[0] else "",
            title=f"{meth.upper()} to {P:g} bits",
            logx=True,
            logy=True,
            legend=False,
        )
        _plain_log_ticks(ax)
    axes[0].legend(fontsize=7, loc="lower right", title="lines: Eq. 2 fit", title_fontsize=7)
    return fig


def ptq_delta_vs_bits(p, sims: pd.DataFrame):
    """delta vs P_post at the longest budget, RTN and GPTQ, with the second-order law."""
    from matplotlib.lines import Line2D

    d = cell_means(sims, "ptq", "delta")
    fig, ax = figure(width=4.4, height=3.3)
    s_max = max(p.ptq_steps)
    for c, dm in zip(colors(len(p.d_models)), p.d_models, strict=True):
        for m, mk in zip(p.ptq_methods, ("o", "s"), strict=False):
            g = d[(d.method == m) & (d.d_model == dm) & (d.steps == s_max)].sort_values("P_post")
            ok = g["mean"] > 0
            lab = f"d={dm}" if m == p.ptq_methods[0] else None
            sim_points(ax, g.P_post[ok], g["mean"][ok], g["se"][ok], color=c, marker=mk, label=lab)
        g = d[(d.method == "rtn") & (d.d_model == dm) & (d.steps == s_max) & (d.P_post == 4)]
        if len(g):
            Pg = np.linspace(3, 8, 30)
            ref = float(g["mean"].iloc[0])
            theory_line(ax, Pg, ref / th.ptq_second_order_ratio(4.0, Pg), color=c, style=":")
    finish(
        ax,
        xlabel="post-training precision P_post (bits)",
        ylabel="delta_PTQ (nats)",
        title=f"PTQ after {s_max} steps: o RTN, s GPTQ",
        logy=True,
        legend=False,
    )
    h, _ = ax.get_legend_handles_labels()
    h.append(Line2D([], [], color="0.3", ls=":", label="2nd-order theory (RTN)"))
    ax.legend(handles=h, fontsize=7)
    return fig


def _critical_runs_panels(p, sims: pd.DataFrame, ax_loss, ax_best) -> None:
    """The small runs' post-PTQ loss vs D, and the budget with the lowest post-PTQ loss."""
    r = cell_means(sims, "ptq", "loss")
    pl, meth = min(p.ptq_bits), p.ptq_methods[0]
    for c, dm in zip(colors(len(p.d_models)), p.d_models, strict=True):
        g = r[(r.method == meth) & (r.P_post == pl) & (r.d_model == dm)].sort_values("D")
        ax_loss.errorbar(
            g.D,
            g["mean"],
            g["se"],
            color=c,
            marker="o",
            ms=4,
            capsize=2,
            mfc="white",
            label=f"N={int(g.N.iloc[0]):,}",
        )
        h = r[(r.method == "none") & (r.d_model == dm)].sort_values("D")
        ax_loss.plot(h.D, h["mean"], ":", color=c)
    finish(
        ax_loss,
        xlabel="training tokens D",
        ylabel="loss (nats/token)",
        title=f"tiny runs: {meth.upper()} {pl:g} bits\n(dotted: before PTQ)",
        logx=True,
        legend=False,
    )
    ax_loss.legend(fontsize=6, loc="best")
    _plain_log_ticks(ax_loss)
    # empirical critical budget: the budget with the lowest post-PTQ loss (open
    # markers: the lowest is the largest budget, so D_crit lies beyond it); series
    # that coincide are drawn with their own marker and a small horizontal offset
    s_max = max(p.ptq_steps)
    low_bits = [b for b in p.ptq_bits if b <= 4]
    shifts = np.linspace(-0.1, 0.1, len(low_bits)) if len(low_bits) > 1 else [0.0]
    for c, mk, sh, P in zip(("C3", "C0", "C2"), "osD", shifts, low_bits, strict=False):
        g = r[(r.method == meth) & (r.P_post == P)]
        best = g.loc[g.groupby("d_model")["mean"].idxmin()].sort_values("N")
        inner = (best.steps < s_max).to_numpy()
        x = best.N.to_numpy() * np.exp(sh)
        y = (best.D / best.N).to_numpy()
        ax_best.plot(x, y, "-", color=c, lw=0.8)
        if inner.any():
            ax_best.plot(x[inner], y[inner], mk, color=c, ms=5, label=f"P_post={P:g}")
        if (~inner).any():
            ax_best.plot(
                x[~inner],
                y[~inner],
                mk,
                color=c,
                mfc="white",
                ms=5,
                label=f"P_post={P:g}, beyond the largest budget",
            )
    finish(
        ax_best,
        xlabel="N (parameters; series offset slightly)",
        ylabel="D_crit / N (tiny runs)",
        title="tiny runs: budget with the\nlowest post-PTQ loss",
        logx=True,
        logy=True,
        legend=False,
    )
    ax_best.margins(y=0.25)
    ax_best.legend(fontsize=6, loc="best", framealpha=0.6)


def critical_data(p, sims: pd.DataFrame):
    """D_crit / N from the published constants, then the small runs' two panels."""
    fig, axes = figure(ncols=3, width=3.6, height=3.3, layout="constrained")
    crit = critical_table()
    for c, (setting, g) in zip(
        colors(4, "magma"), crit.groupby("setting", sort=True), strict=False
    ):
        theory_line(axes[0], g.x, g["value"], color=c, label=setting)
    finish(
        axes[0],
        xlabel="N (parameters)",
        ylabel="D_crit / N (tokens per parameter)",
        title="Eq. 13, published constants",
        logx=True,
        logy=True,
    )
    _critical_runs_panels(p, sims, axes[1], axes[2])
    return fig


def parity(p, sims: pd.DataFrame, F: dict):
    """Fitted vs measured loss (Eq. 1, Eq. 4) and delta (Eq. 2), with R^2."""
    fig, axes = figure(ncols=2, width=3.7, height=3.3, layout="constrained")
    hp = cell_means(sims, "ptq", "loss")
    hp = hp[hp.method == "none"]
    b = F.get("base")
    pb = th.loss(hp.N, hp.D, params=b.law) if b else hp["mean"] * np.nan
    lab = f"Eq. 1 on the {b.n} ptq (N, D) cells, R^2={b.r2:.2f}" if b else "Eq. 1: too few runs"
    axes[0].scatter(hp["mean"], pb, s=14, color="C0", label=lab)
    hi = hp["mean"].max()
    if "neff" in F:
        q = cell_means(sims, "qat", "loss")
        q = q[q.method == "none"]
        pq = th.loss(q.N, q.D, *law_inputs(q), params=F["neff"].law)
        lab = f"Eq. 4 on all {len(q)} qat cells, R^2={r_squared(q['mean'], pq):.2f}"
        axes[0].scatter(q["mean"], pq, s=14, color="C3", marker="s", label=lab)
        hi = max(hi, float(q["mean"].max()))
    lo = min(hp["mean"].min(), 1.3)
    axes[0].plot([lo, hi], [lo, hi], color="0.5", lw=0.8)
    finish(axes[0], xlabel="measured loss", ylabel="fitted law", title="loss laws", legend=False)
    axes[0].legend(fontsize=6, loc="upper left")
    d = cell_means(sims, "ptq", "delta")
    for c, m in zip(("C0", "C2"), p.ptq_methods, strict=False):
        fr = F["ptq"].get(m)
        g = d[(d.method == m) & (d["mean"] > 0)]
        if fr is None or g.empty:
            continue
        pdel = th.delta_ptq(g.N, g.D, g.P_post, fr.law)
        lab = f"{m}: R^2={fr.r2:.2f} on all {fr.n} cells"
        axes[1].scatter(g["mean"], pdel, s=10, color=c, label=lab)
    lo = max(float(d["mean"][d["mean"] > 0].min()), 1e-5)
    axes[1].plot([lo, 5], [lo, 5], color="0.5", lw=0.8)
    finish(
        axes[1],
        xlabel="measured delta_PTQ (cells with delta > 0)",
        ylabel="fitted Eq. 2",
        title="PTQ law",
        logx=True,
        logy=True,
        legend=False,
    )
    axes[1].legend(fontsize=6, loc="upper left")
    return fig


def runs_figures(p, theory: pd.DataFrame, sims: pd.DataFrame) -> dict:
    """Every figure of the ``runs`` experiment (the QAT one when the N_eff law was fitted)."""
    if sims.empty:
        return {}
    F = fits(p, sims)
    figs = {}
    if "neff" in F:
        figs["qat_loss_vs_precision"] = caption(
            qat_loss_vs_precision(p, sims, F),
            "Held-out loss of quantized training against the training precision: measured runs "
            "(markers) and the fitted N_eff law (lines), with the 16-bit baseline (dotted).",
        )
    figs["ptq_delta_vs_tokens"] = caption(
        ptq_delta_vs_tokens(p, sims, F),
        "Post-training quantization degradation against training tokens D per model size and "
        "target precision: measured (markers) and the fitted law (lines); the small CPU runs do "
        "not reproduce the paper's exponents.",
    )
    figs["ptq_delta_vs_bits"] = caption(
        ptq_delta_vs_bits(p, sims),
        "Post-training quantization degradation against the post-training precision for RTN "
        "(circles) and GPTQ (squares), with the second-order theory for RTN (dotted).",
    )
    figs["critical_data"] = caption(
        critical_data(p, sims),
        "Critical data D_crit / N beyond which more pretraining data hurts after quantization, "
        "from the published constants (lines) and the runs.",
    )
    figs["parity"] = caption(
        parity(p, sims, F),
        "Fitted laws against measured values for the loss (left) and the PTQ degradation (right);"
        " points on the diagonal are fitted exactly.",
    )
    return figs
