"""Figures of the diffusion experiments (theory lines or contours, simulation markers).

Each function takes an experiment's own theory and simulation tables (see
:mod:`theorylab.studies.diffusion.common` for their layout) and returns one figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from theorylab.core.plotting import caption, colors, figure, finish, sim_points, theory_line


def _smooth(H: np.ndarray) -> np.ndarray:
    """A 3 x 3 binomial blur of a 2-D histogram (for readable contours)."""
    k = np.array([1.0, 2.0, 1.0]) / 4.0
    P = np.pad(H, 1, mode="edge")
    P = k[0] * P[:-2] + k[1] * P[1:-1] + k[2] * P[2:]
    return k[0] * P[:, :-2] + k[1] * P[:, 1:-1] + k[2] * P[:, 2:]


def _seed_stats(df: pd.DataFrame, quantity: str, by: str) -> pd.DataFrame:
    """Mean, std and count over seeds of one quantity, per value of ``by``."""
    sel = df[df.quantity == quantity]
    return sel.groupby(by).value.agg(["mean", "std", "count"]).reset_index()


def projections(taus, centroids, theory: pd.DataFrame, sims: pd.DataFrame):
    """The paper's Figure 1: generated samples on the centroid plane at each training time.

    Simulation (first seed) as dots, the theory's density as contours, the
    target's clusters dotted.
    """
    fig, axes = figure(ncols=len(taus), width=2.8, height=2.8)
    axes = np.atleast_1d(axes)
    ft = theory[theory.part == "fig1"]
    fs = sims[(sims.part == "fig1") & (sims.seed == sims.seed.min())]
    lim = 9.0
    grid = np.linspace(-lim, lim, 90)
    Xg, Yg = np.meshgrid(grid, grid)
    target = sum(np.exp(-((Xg - m[0]) ** 2 + (Yg - m[1]) ** 2) / 2) for m in centroids)
    for ax, tau in zip(axes, taus, strict=True):
        s = fs[np.isclose(fs.tau, tau)]
        ax.scatter(s.x, s.y, s=2, color="C1", alpha=0.35, label="simulation", rasterized=True)
        t = ft[np.isclose(ft.tau, tau)]
        H, xe, ye = np.histogram2d(
            t.x, t.y, bins=36, range=[[-lim, lim], [-lim, lim]], density=True
        )
        xc, yc = 0.5 * (xe[1:] + xe[:-1]), 0.5 * (ye[1:] + ye[:-1])
        ax.contour(xc, yc, _smooth(H).T, levels=4, colors="C0", linewidths=0.9)
        ax.contour(Xg, Yg, target, levels=3, colors="0.5", linewidths=0.6, linestyles="dotted")
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        finish(ax, xlabel="e1 . x", ylabel="e2 . x", title=f"tau = {tau:g}", legend=False)
    axes[0].legend(loc="lower left", fontsize=6)
    return caption(
        fig,
        "Generated samples projected on the centroid plane at several training times tau: "
        "the reduced theory against samples from the trained autoencoder.",
    )


def summary_statistics(theory: pd.DataFrame, sims: pd.DataFrame):
    """Omega, Q and b over training time: learning ODE (lines) vs SGD (markers)."""
    fig, axes = figure(ncols=2, width=3.8, height=3.0)
    tv = theory[theory.part == "B2"]
    sv = sims[sims.part == "B2"].groupby(["quantity", "tau"])["value"].mean().reset_index()
    for ax, names in zip(
        axes,
        (["Omega_00", "Omega_01", "Omega_10", "Omega_11"], ["Q_00", "Q_01", "Q_11", "b"]),
        strict=True,
    ):
        for c, q in zip(colors(len(names)), names, strict=True):
            t = tv[tv.quantity == q].sort_values("tau")
            theory_line(ax, t.tau, t.value, color=c, label=q)
            s = sv[sv.quantity == q].sort_values("tau").iloc[::3]
            sim_points(ax, s.tau, s["value"], None, color=c)
        finish(
            ax,
            xlabel="training time tau = eta n / d",
            ylabel="summary statistic",
            title="learning ODE (lines) vs SGD (markers)",
        )
    return caption(
        fig,
        "Summary statistics of the autoencoder (overlaps Omega, Q and the skip b) against "
        "training time: the learning ODE (lines) and online SGD (markers, mean +- SE over "
        "seeds).",
    )


def sample_size(eta: float, n_gen: int, theory: pd.DataFrame, sims: pd.DataFrame):
    """Bulk variance, Var(e1 . x) and the mass on e1 . x > 0 against n / d = tau / eta.

    ``n_gen`` is the number of generated samples per seed (binomial SE of the mass).
    """
    fig, axes = figure(ncols=2, width=3.8, height=3.0)
    g = theory[theory.part == "generated"]
    s5 = sims[sims.part == "B5"]
    bulk = g[g.quantity == "bulk_var"].sort_values("tau")
    theory_line(
        axes[0],
        bulk.tau / eta,
        bulk.value,
        color="C0",
        label="bulk variance c_T^2",
        marker="o",
        markersize=3,
    )
    st = _seed_stats(s5, "bulk_var", "tau")
    sim_points(axes[0], st.tau / eta, st["mean"], st["std"] / np.sqrt(st["count"]), color="C0")
    axes[0].axhline(1.0, color="0.5", lw=0.8, ls="--", label="target (s^2 = 1)")
    finish(axes[0], xlabel="samples n / d", ylabel="bulk variance", title="scale vs n/d")
    ve = g[g.quantity == "var_e1"].sort_values("tau")
    theory_line(
        axes[1], ve.tau / eta, ve.value, color="C3", label="Var(e1 . x)", marker="o", markersize=3
    )
    st = _seed_stats(s5, "var_e1", "tau")
    sim_points(axes[1], st.tau / eta, st["mean"], st["std"] / np.sqrt(st["count"]), color="C3")
    # three-cluster target: mass on e1.x > 0 is 1/3 (mu = 3 e1) + 1/6 (mu = -3 e2) = 1/2
    mp = g[g.quantity == "mass_pos_e1"].sort_values("tau")
    ax2 = axes[1].twinx()
    ax2.plot(mp.tau / eta, mp.value, ":", color="C2", label="mass on e1 > 0")
    sm = _seed_stats(s5, "mass_pos_e1", "tau")
    n_mass = n_gen * sm["count"]  # binomial SE of the pooled mass
    sim_points(
        ax2,
        sm.tau / eta,
        sm["mean"],
        np.sqrt(sm["mean"] * (1 - sm["mean"]) / n_mass),
        color="C2",
        marker="s",
    )
    ax2.set_ylim(0, 1)
    ax2.set_ylabel("mass on e1 . x > 0 (green; target 1/2)")
    finish(axes[1], xlabel="samples n / d", ylabel="Var(e1 . x)", title="modes vs n/d")
    return fig


def collapse_loop(theory: pd.DataFrame, sims: pd.DataFrame):
    """b, Var(e1 . x) and the bulk variance generation after generation."""
    fig, axes = figure(ncols=3, width=3.0, height=2.8)
    t7 = theory[theory.part == "B7"]
    s7 = sims[sims.part == "B7"]
    for ax, q in zip(axes, ("b", "var_e1", "bulk_var"), strict=True):
        t = t7[t7.quantity == q].sort_values("generation")
        theory_line(ax, t.generation, t.value, color="C0", label="theory", marker="o", markersize=3)
        st = _seed_stats(s7, q, "generation")
        sim_points(
            ax,
            st.generation,
            st["mean"],
            st["std"] / np.sqrt(st["count"]),
            color="C3",
            label="simulation",
        )
        finish(ax, xlabel="generation", ylabel=q, title=f"retraining loop: {q}")
    return fig
