"""House style for figures: theory as lines, simulation as markers with error bars.

Every study draws with these helpers so that all figures look alike::

    fig, ax = figure()
    theory_line(ax, x, y, label="K=1", color=colors(3)[0])
    sim_points(ax, x_sim, mean, se, color=colors(3)[0])
    finish(ax, xlabel="ridge", ylabel="test MSE", logx=True, logy=True)
    caption(fig, "Test error against the ridge: theory (lines), simulation (markers).")

Figures use constrained layout (no overlapping titles and labels), and the
runner calls :func:`polish` before saving (log axes get at least two labelled
ticks) and writes 200-dpi PNG plus SVG.  :func:`text_overlaps` and
:func:`sparse_log_axes` are the checks the test suite holds every figure to.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import matplotlib

if "ipykernel" not in sys.modules and not os.environ.get("MPLBACKEND"):
    matplotlib.use("Agg")  # no display needed; a notebook keeps its inline backend
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
    "savefig.dpi": 200,
}


def figure(ncols: int = 1, nrows: int = 1, width: float = 3.6, height: float = 2.8, **kw):
    """A new figure in the house style, with constrained layout unless ``layout`` is given.

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : Axes or numpy.ndarray of Axes (squeezed like ``plt.subplots``)
    """
    kw.setdefault("layout", "constrained")
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


def caption(fig, text: str):
    """Attach a one-sentence caption to ``fig`` (shown under the figure in the report)."""
    fig.theorylab_caption = " ".join(str(text).split())
    return fig


def get_caption(fig) -> str:
    """The caption attached by :func:`caption` ("" when there is none)."""
    return getattr(fig, "theorylab_caption", "")


def _in_view(axis):
    """A predicate: is a tick location inside the axis' view interval (to rounding)?"""
    lo, hi = sorted(axis.get_view_interval())
    eps = 1e-9 * max(abs(lo), abs(hi), 1e-300)
    return lambda v: lo - eps <= v <= hi + eps


def _tick_labels(axis) -> list[tuple[float, str]]:
    """(location, label) of the labelled major ticks in view, from the axis' locator
    and formatter (no draw needed)."""
    locs = [v for v in axis.get_major_locator()() if _in_view(axis)(v)]
    fmt = axis.get_major_formatter()
    fmt.set_locs(locs)
    return [(v, t) for i, v in enumerate(locs) if (t := fmt(v, i)).strip()]


def _visible_ticks(axis) -> list:
    """The drawn tick-label Text objects of the labelled major ticks in view."""
    in_view = _in_view(axis)
    return [
        t.label1
        for t in axis.get_major_ticks()
        if in_view(t.get_loc()) and t.label1.get_visible() and t.label1.get_text().strip()
    ]


def _short(value: float, pos=None) -> str:
    return f"{value:g}"


def polish(fig):
    """Make ``fig`` readable before it is saved: a log axis whose decades alone would
    label fewer than two ticks gets labelled ticks at 1, 2 and 5 per decade, or at
    every integer multiple when even that gives fewer than two.  Returns ``fig``."""
    from matplotlib.ticker import (
        FuncFormatter,
        LogFormatterSciNotation,
        LogLocator,
        NullFormatter,
    )

    for ax in fig.axes:
        ax.get_xlim(), ax.get_ylim()  # settle autoscaling
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_scale() != "log" or len(_tick_labels(axis)) >= 2:
                continue
            axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            axis.set_major_formatter(
                LogFormatterSciNotation(labelOnlyBase=False, minor_thresholds=(np.inf, np.inf))
            )
            axis.set_minor_formatter(NullFormatter())
            if len(_tick_labels(axis)) < 2:  # less than a factor 2.5 in view
                axis.set_major_locator(LogLocator(base=10, subs=tuple(range(1, 10))))
                axis.set_major_formatter(FuncFormatter(_short))
    return fig


def sparse_log_axes(fig, *, draw: bool = True) -> list[str]:
    """Log axes of ``fig`` with fewer than two labelled major ticks in view, as
    ``"panel k x"`` strings (empty when every log axis is readable)."""
    if draw:
        fig.canvas.draw()
    bad = []
    for k, ax in enumerate(fig.axes):
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            if axis.get_scale() == "log" and len(_visible_ticks(axis)) < 2:
                bad.append(f"panel {k} {name} ({ax.get_title() or 'untitled'})")
    return bad


def _texts(fig) -> list[tuple[str, object]]:
    items = []
    if fig._suptitle is not None and fig._suptitle.get_text():
        items.append(("suptitle", fig._suptitle))
    for k, ax in enumerate(fig.axes):
        for t in (ax._left_title, ax.title, ax._right_title):
            if t.get_text():
                items.append((f"panel {k} title", t))
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            if axis.label.get_text() and axis.label.get_visible():
                items.append((f"panel {k} {name}label", axis.label))
            for label in _visible_ticks(axis):
                items.append((f"panel {k} {name} tick {label.get_text()!r}", label))
    return items


def text_overlaps(fig, tol_px: float = 1.0, *, draw: bool = True) -> list[str]:
    """Pairs of titles, axis labels and tick labels of ``fig`` whose rendered boxes
    overlap by more than ``tol_px`` pixels in both directions (empty when none)."""
    if draw:
        fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [(name, t.get_window_extent(renderer)) for name, t in _texts(fig)]
    bad = []
    for i in range(len(boxes)):
        a_name, a = boxes[i]
        for j in range(i + 1, len(boxes)):
            b_name, b = boxes[j]
            dx = min(a.x1, b.x1) - max(a.x0, b.x0)
            dy = min(a.y1, b.y1) - max(a.y0, b.y0)
            if dx > tol_px and dy > tol_px:
                bad.append(f"{a_name} overlaps {b_name}")
    return bad


def readability(fig) -> dict[str, list[str]]:
    """Both checks of a saved figure after one draw: ``{"overlaps": [...],
    "sparse_log_axes": [...]}`` (empty lists for a readable figure)."""
    fig.canvas.draw()
    return {
        "overlaps": text_overlaps(fig, draw=False),
        "sparse_log_axes": sparse_log_axes(fig, draw=False),
    }
