"""Figures of the overtraining study that would crowd their experiment modules."""

from __future__ import annotations

import pandas as pd

from theorylab.core.plotting import caption, colors, figure, finish


def odor_figures(p, theory: pd.DataFrame, sims: pd.DataFrame) -> dict:
    """Accuracy and margins vs epoch / t_p; S_TN and probe accuracy vs epoch / t_p."""
    curve = sims[sims.part == "curve"]
    probe = sims[sims.part == "probe"]
    med = lambda d, col: d.groupby("c")[col].median()  # noqa: E731
    style = {"logistic": ("C0", "CE"), "hinge": ("C3", "hinge")}
    fig, ax = figure(ncols=3, width=3.8)
    for loss, (col, name) in style.items():
        d = curve[curve.loss == loss]
        ax[0].plot(med(d, "train_acc"), color=col, label=f"{name} train")
        q = probe[(probe.loss == loss) & (probe.overlap == p.n - 1)]
        ax[0].plot(med(q, "accuracy"), "--", color=col, label=f"{name} probe m={p.n - 1}")
        ax[1].plot(med(d[d.c >= 1], "norm_margin").clip(lower=-0.2), color=col, label=name)
        ax[2].plot(med(d, "hidden_margin"), color=col, label=name)
    for a in ax:
        a.axvline(1.0, color="0.5", lw=0.8, ls=":")
    finish(ax[0], xlabel="epoch / t_p", ylabel="accuracy (median over seeds)", logx=True)
    finish(
        ax[1],
        xlabel="epoch / t_p",
        ylabel=r"min $yf$ / $|\theta-\theta_0|$ (clipped at -0.2)",
        logx=True,
    )
    finish(ax[2], xlabel="epoch / t_p", ylabel="hidden SVM margin (normalized)", logx=True)
    fig2, bx = figure(ncols=2, width=4.2)
    ce = curve[curve.loss == "logistic"]
    for _, d in ce.groupby("seed"):
        bx[0].plot(d.c, d.stn, color="0.6", lw=0.8)
    bx[0].plot(med(ce, "stn"), color="C0", lw=2, label="median")
    for col, m in zip(colors(p.n, "viridis"), range(p.n), strict=True):
        q = probe[(probe.loss == "logistic") & (probe.overlap == m)]
        bx[1].plot(med(q, "accuracy"), color=col, label=f"m={m}" if m >= p.n - 3 else None)
    for a in bx:
        a.axvline(1.0, color="0.5", lw=0.8, ls=":")
    finish(bx[0], xlabel="epoch / t_p", ylabel="S_TN (cosine, hidden layer)", logx=True)
    finish(bx[1], xlabel="epoch / t_p", ylabel="CE probe accuracy by overlap", logx=True)
    return {
        "odor_accuracy_margin": caption(
            fig,
            "Odor task: train accuracy plateaus while the normalized network margin"
            " and the hidden-layer SVM margin keep growing (medians over seeds, "
            "epochs in units of the plateau epoch t_p).",
        ),
        "odor_stn_probes": caption(
            fig2,
            "After the plateau the target-nontarget similarity falls (left) and "
            "probe accuracy on overlapping odors rises (right), medians over seeds.",
        ),
    }
