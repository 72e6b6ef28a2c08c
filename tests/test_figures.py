"""Every quick-preset figure is readable: captioned, no overlapping text, labelled log axes.

The runner measures each saved figure (core.plotting.readability: matplotlib's rendered
boxes of titles, axis labels and tick labels; labelled major ticks on log axes) and records
it in summary.json; these tests hold the session's quick `reproduce` run to it.
"""

from __future__ import annotations

import pytest

import theorylab
from theorylab.core.results import read_summary


def _summary(quick_report, sid):
    return read_summary(quick_report["out"] / sid)


@pytest.mark.parametrize("sid", theorylab.list_studies())
def test_quick_figures_have_no_overlapping_text_and_readable_log_axes(quick_report, sid):
    s = _summary(quick_report, sid)
    assert s["figures"], f"{sid} draws no figure"
    bad = {
        name: diag
        for name, diag in s["figure_readability"].items()
        if diag["overlaps"] or diag["sparse_log_axes"]
    }
    assert not bad, f"{sid}: {bad}"


@pytest.mark.parametrize("sid", theorylab.list_studies())
def test_every_quick_figure_has_a_one_sentence_caption(quick_report, sid):
    s = _summary(quick_report, sid)
    names = [f.split("/")[-1].rsplit(".", 1)[0] for f in s["figures"]]
    missing = [n for n in names if not s["figure_captions"].get(n, "").strip()]
    assert not missing, f"{sid}: figures without a caption: {missing}"
    for n in names:
        cap = s["figure_captions"][n]
        assert len(cap) <= 400 and cap.rstrip().endswith("."), f"{sid}/{n}: {cap!r}"


def test_polish_labels_short_log_axes_and_detects_overlaps():
    import numpy as np

    from theorylab.core.plotting import figure, finish, polish, readability, theory_line

    fig, ax = figure()
    theory_line(ax, np.linspace(0.15, 0.7, 5), np.linspace(0.2, 0.9, 5))
    finish(ax, xlabel="x", ylabel="y", logx=True, logy=True)
    assert readability(fig)["sparse_log_axes"]  # under one decade: at most one labelled decade
    polish(fig)
    assert readability(fig) == {"overlaps": [], "sparse_log_axes": []}
    fig2, (a, b) = figure(ncols=2, width=1.0, layout="none")
    a.set_title("a title far too long for such a narrow panel")
    b.set_title("another title far too long for its panel")
    assert any("title" in o for o in readability(fig2)["overlaps"])
