"""House style for figures: theory as lines, simulation as markers with error bars.

Every study draws with these helpers so that all figures look alike::

    fig, ax = figure()
    theory_line(ax, x, y, label="K=1", color=colors(3)[0])
    sim_points(ax, x_sim, mean, se, color=colors(3)[0])
    finish(ax, xlabel="ridge", ylabel="test MSE", logx=True, logy=True)
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

STYLE = {
    "figure.dpi": 110,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "lines.linewidth": 1.6,
    "savefig.bbox": "tight",
}


def figure(ncols: int = 1, nrows: int = 1, width: float = 3.6, height: float = 2.8, **kw):
    """A new figure in the house style.

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : Axes or numpy.ndarray of Axes (squeezed like ``plt.subplots``)
    """
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=True, **kw
        )
    for ax in np.atleast_1d(axes).ravel():
        ax.grid(True, alpha=STYLE["grid.alpha"])
        ax.spines["top"].set_visible(False)
        ax.spines["right"].set_visible(False)
    return fig, axes


def colors(n: int, cmap: str = "viridis") -> list:
    """``n`` distinguishable colours from a sequential colormap."""
    cm = plt.get_cmap(cmap)
    return [cm(x) for x in np.linspace(0.05, 0.85, max(n, 1))]


def theory_line(ax, x, y, *, label: str | None = None, color=None, style: str = "-", **kw):
    """Draw a theory curve (solid line)."""
    return ax.plot(x, y, style, color=color, label=label, zorder=2, **kw)


def sim_points(ax, x, mean, se=None, *, label: str | None = None, color=None, marker="o", **kw):
    """Draw simulation means as markers with +-1 standard-error bars."""
    return ax.errorbar(
        x,
        mean,
        yerr=se,
        fmt=marker,
        color=color,
        label=label,
        markersize=4,
        capsize=2,
        elinewidth=1,
        markerfacecolor="white",
        zorder=3,
        **kw,
    )


def finish(
    ax,
    *,
    xlabel: str = "",
    ylabel: str = "",
    title: str = "",
    logx: bool = False,
    logy: bool = False,
    legend: bool = True,
    legend_title: str | None = None,
):
    """Labels, log axes and legend in one call."""
    from matplotlib.ticker import NullFormatter

    if logx:
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())  # no crowded "2x10^-1" labels
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(title=legend_title)
    return ax


def theory_sim_legend(ax, extra: Sequence = ()):
    """Add a small legend explaining 'line = theory, marker = simulation'."""
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color="0.3", ls="-", label="theory"),
        Line2D([], [], color="0.3", ls="", marker="o", markerfacecolor="white", label="simulation"),
        *extra,
    ]
    leg = ax.legend(handles=handles, loc="lower right", fontsize=7)
    ax.add_artist(leg)
    return leg
