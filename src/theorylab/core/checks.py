"""Declared checks: what an experiment compares, evaluated by core.

An experiment states *what* is compared; this module does the merging, the
statistics over seeds and the detail text, so every study means the same
thing by "agreement":

:class:`Agreement`
    Theory vs the simulation's mean over seeds, point by point on key
    columns.  Per point the ratio is ``|mean - theory| / (c SE + rel |theory|)``
    with ``c`` the Student-t multiplier for the seed count
    (:func:`~theorylab.core.compare.se_multiplier`); the check's value is the
    worst ratio and it passes when that is ``<= 1``.
:class:`Paired`
    Two columns of the simulation table measured on the same realisation
    (e.g. a per-seed exact theory and the trained network): the per-seed
    differences are averaged, and the ratio is ``|mean d| / (c SE(d) + rel |mean b|)``.
:class:`Claim`
    A function of the tables returning a number, compared with a threshold
    by an operator (a headline claim of the paper, or a bespoke agreement
    statistic with ``kind="agreement"``).

A check that cannot be evaluated (no rows after its filters, a missing
column, a function that raises) is reported as *not passed* with the reason:
a declared check never vanishes from a run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .compare import agreement_ratio, mean_se, se_multiplier
from .results import Check


class NotEvaluable(Exception):
    """Raised inside a check when this run's tables cannot answer it (the reason)."""


def _resolve(value: Any, p: Any) -> Any:
    return value(p) if callable(value) else value


def _select(df: pd.DataFrame, select: Mapping[str, Any] | None) -> pd.DataFrame:
    """Rows where each named column equals the value (columns a table lacks are skipped)."""
    if not select:
        return df
    mask = np.ones(len(df), dtype=bool)
    for col, val in select.items():
        if col in df:
            if isinstance(val, float):
                mask &= np.isclose(df[col].to_numpy(dtype=float), val, rtol=1e-12, atol=0)
            else:
                mask &= (df[col] == val).to_numpy()
    return df[mask]


def fmt_value(v: Any) -> str:
    """A number or label as a person writes it (no NumPy reprs)."""
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        return f"{float(v):.4g}"
    return str(v)


def fmt_point(row: Mapping[str, Any], keys) -> str:
    """``K=4, ridge=0.001`` for the key columns of one row."""
    return ", ".join(f"{k}={fmt_value(row[k])}" for k in keys)


def _enough_seeds(m: pd.DataFrame) -> None:
    if int(m["n"].min()) < 2:
        raise NotEvaluable("a standard error needs at least 2 seeds at every point")


def _worst_point_check(spec, m: pd.DataFrame, rel: float, text, reference: str) -> Check:
    """The agreement verdict of a per-point table with a ``ratio`` column: its worst point.

    ``text(worst_row, n_seeds, se_multiplier, rel)`` says what was compared; a NaN ratio
    counts as the worst (and fails).  The worst point's ``reference`` column, simulation
    mean and SE are recorded on the check (what a sweep tabulates).
    """
    ratio = m["ratio"].to_numpy(dtype=float)
    i = int(np.argmax(np.where(np.isnan(ratio), np.inf, ratio)))
    n = int(m["n"].min())
    body = text(m.iloc[i], n, float(se_multiplier(n, spec.n_se)), rel)
    detail = f"{spec.detail}: {body}" if spec.detail else body
    w = m.iloc[i]
    sim = float(w["mean"]) + (float(w["ref"]) if reference == "ref" else 0.0)
    return Check.evaluate(
        spec.name,
        "agreement",
        float(ratio[i]),
        1.0,
        "<=",
        detail,
        theory=float(w[reference]),
        simulation=sim,
        se=float(w["se"]),
    )


def _columns(df: pd.DataFrame, cols, table: str) -> None:
    missing = [c for c in cols if c not in df]
    if missing:
        raise NotEvaluable(f"the {table} table has no column(s) {missing}")


@dataclass(frozen=True)
class Agreement:
    """Theory vs simulation mean over seeds on the points named by ``on``.

    Parameters
    ----------
    name : str
        The check's fixed name.
    column : str
        Value column of the simulation table (and of the theory table unless
        ``theory_column`` is given).
    on : tuple of str
        Key columns identifying a point in both tables.
    rel : float or callable
        Relative slack on |theory| (the theory's stated finite-size error);
        ``rel(p)`` when it depends on the parameters.
    n_se : float
        Coverage in normal sigmas; the multiplier is the Student-t quantile
        for the seed count with that coverage.
    theory_column : str, optional
        Theory column when it differs from ``column``.
    select : mapping or callable, optional
        ``{column: value}`` equality filters applied to both tables (a table
        without the column is not filtered on it); ``select(p)`` when it
        depends on the parameters.
    where : callable, optional
        ``where(merged, p) -> boolean mask`` on the merged table (key columns,
        every theory column, the theory value as ``theory`` and the
        simulation's ``mean``, ``se``, ``n``).
    detail : str
        What is compared, in words; the worst point is appended.
    """

    name: str
    column: str
    on: tuple[str, ...]
    rel: float | Callable[[Any], float] = 0.0
    n_se: float = 3.0
    theory_column: str | None = None
    select: Mapping[str, Any] | Callable[[Any], Mapping[str, Any]] | None = None
    where: Callable[[pd.DataFrame, Any], Any] | None = None
    detail: str = ""
    kind = "agreement"

    def merged(self, p: Any, theory: pd.DataFrame, sims: pd.DataFrame) -> pd.DataFrame:
        """The per-point table the check is computed from (with its ``ratio`` column)."""
        on = list(self.on)
        tcol = self.theory_column or self.column
        select = _resolve(self.select, p)
        _columns(sims, [*on, self.column], "simulation")
        _columns(theory, [*on, tcol], "theory")
        sims, theory = _select(sims, select), _select(theory, select)
        if sims.empty or theory.empty:
            raise NotEvaluable("no simulation or theory rows after the selection")
        stats = mean_se(sims, on, self.column)
        th = theory.rename(columns={tcol: "theory"}).drop(
            columns=[c for c in ("mean", "se", "n") if c in theory and c not in on]
        )
        if th.duplicated(on).any():
            raise NotEvaluable(f"the theory table has several rows per {tuple(on)}")
        m = stats.merge(th, on=on, how="inner")
        if self.where is not None and len(m):
            m = m[np.asarray(self.where(m, p), dtype=bool)]
        if m.empty:
            raise NotEvaluable(f"no point has both theory and simulation on {tuple(on)}")
        _enough_seeds(m)
        rel = float(_resolve(self.rel, p))
        m = m.assign(
            ratio=agreement_ratio(m["theory"], m["mean"], m["se"], self.n_se, rel, n=m["n"])
        )
        return m.reset_index(drop=True)

    def evaluate(self, p: Any, theory: pd.DataFrame, sims: pd.DataFrame) -> Check:
        m = self.merged(p, theory, sims)

        def text(w, n, c, rel):
            return (
                f"max over {len(m)} points ({', '.join(self.on)}) of |sim - theory| / "
                f"({c:.3g} SE + {rel:.3g} |theory|) "
                f"(t-quantile with the coverage of {self.n_se:g} sigma over {n} seeds); "
                f"worst at {fmt_point(w, self.on)}: sim {fmt_value(w['mean'])} +- "
                f"{fmt_value(w['se'])} vs theory {fmt_value(w['theory'])}"
            )

        return _worst_point_check(self, m, float(_resolve(self.rel, p)), text, "theory")


@dataclass(frozen=True)
class Paired:
    """Two simulation columns on the same realisation, differences averaged over seeds.

    Parameters
    ----------
    name : str
    a, b : str
        Columns of the simulation table; ``a - b`` is averaged over seeds per
        point, and ``b`` is the reference for the relative slack.
    on : tuple of str
        Key columns identifying a point (may be empty: one point).
    rel, n_se, select, where, detail
        As for :class:`Agreement` (``where`` sees the columns ``mean``
        (of a - b), ``se``, ``n`` and ``ref`` (mean of b)).
    """

    name: str
    a: str
    b: str
    on: tuple[str, ...] = ()
    rel: float | Callable[[Any], float] = 0.0
    n_se: float = 3.0
    select: Mapping[str, Any] | Callable[[Any], Mapping[str, Any]] | None = None
    where: Callable[[pd.DataFrame, Any], Any] | None = None
    detail: str = ""
    kind = "agreement"

    def merged(self, p: Any, theory: pd.DataFrame, sims: pd.DataFrame) -> pd.DataFrame:
        on = list(self.on)
        _columns(sims, [*on, self.a, self.b], "simulation")
        sims = _select(sims, _resolve(self.select, p))
        if sims.empty:
            raise NotEvaluable("no simulation rows after the selection")
        d = sims.assign(_d=sims[self.a] - sims[self.b], _one=0)
        keys = on or ["_one"]
        stats = mean_se(d, keys, "_d")
        ref = d.groupby(keys, sort=True, dropna=False)[self.b].mean().rename("ref").reset_index()
        m = stats.merge(ref, on=keys)
        if self.where is not None:
            m = m[np.asarray(self.where(m, p), dtype=bool)]
        if m.empty:
            raise NotEvaluable("no point left after the filter")
        _enough_seeds(m)
        rel = float(_resolve(self.rel, p))
        ratio = agreement_ratio(m["ref"], m["ref"] + m["mean"], m["se"], self.n_se, rel, n=m["n"])
        return m.assign(ratio=ratio).reset_index(drop=True)

    def evaluate(self, p: Any, theory: pd.DataFrame, sims: pd.DataFrame) -> Check:
        m = self.merged(p, theory, sims)

        def text(w, n, c, rel):
            where = f" at {fmt_point(w, self.on)}" if self.on else ""
            return (
                f"max over {len(m)} points of |mean({self.a} - {self.b})| / "
                f"({c:.3g} SE + {rel:.3g} |{self.b}|), paired over "
                f"{n} seeds; worst{where}: difference {fmt_value(w['mean'])} +- "
                f"{fmt_value(w['se'])} on {self.b} = {fmt_value(w['ref'])}"
            )

        return _worst_point_check(self, m, float(_resolve(self.rel, p)), text, "ref")


@dataclass(frozen=True)
class Claim:
    """A number computed from the tables, compared with a threshold.

    Parameters
    ----------
    name : str
    fn : callable
        ``fn(p, theory, sims) -> value`` or ``-> (value, detail)``; raise
        :class:`NotEvaluable` with the reason when this run cannot answer.
    op : {"<=", "<", ">=", ">"}
        Passing means ``value op threshold``.
    threshold : float or callable
        ``threshold(p)`` when it depends on the parameters.
    detail : str
        What the value is, in words (the function's detail is appended).
    kind : {"claim", "agreement"}
        ``claim`` for a headline claim of the paper; ``agreement`` for a
        bespoke theory-vs-simulation statistic.
    """

    name: str
    fn: Callable[[Any, pd.DataFrame, pd.DataFrame], Any]
    op: str
    threshold: float | Callable[[Any], float]
    detail: str = ""
    kind: str = "claim"

    def evaluate(self, p: Any, theory: pd.DataFrame, sims: pd.DataFrame) -> Check:
        out = self.fn(p, theory, sims)
        value, extra = out if isinstance(out, tuple) else (out, "")
        detail = "; ".join(s for s in (self.detail, extra) if s)
        return Check.evaluate(
            self.name, self.kind, float(value), float(_resolve(self.threshold, p)), self.op, detail
        )


def evaluate_checks(
    checks, p: Any, theory: pd.DataFrame, sims: pd.DataFrame, experiment: str = ""
) -> list[Check]:
    """Evaluate declared checks; one that cannot be evaluated is a failed check with the reason."""
    out = []
    for spec in checks:
        try:
            c = spec.evaluate(p, theory, sims)
        except Exception as exc:  # a check never vanishes: report why it could not be computed
            reason = str(exc) if isinstance(exc, NotEvaluable) else f"{type(exc).__name__}: {exc}"
            op = getattr(spec, "op", "<=")
            thr = _resolve(getattr(spec, "threshold", 1.0), p)
            c = Check(
                spec.name,
                spec.kind,
                float("nan"),
                float(thr),
                op,
                False,
                f"not evaluated: {reason}",
            )
        out.append(dataclasses.replace(c, experiment=experiment))
    return out
