"""Sweeps: a study run at every point of a grid of config values.

``run_sweep(study, {"P": [100, 200], "noise": [0, 0.1]}, out=DIR)`` runs the
study (theory, simulation, checks, figures: the same files as
``theorylab run``) at each of the 4 points and keeps one row per point in
``DIR/results.parquet``: the point's config fields, its status and timings,
and per check its value, ``<check>__passed`` and, for agreement checks, the
compared quantities at the worst point (``<check>__theory``,
``<check>__simulation`` and its standard error ``<check>__se``).

* **Validated first.** Every grid value is coerced and every point's config
  validated before any work starts; a bad value raises :class:`ConfigError`
  naming the field.
* **Resumable.** A point is keyed by a hash of its resolved config and seed
  list and lives in ``DIR/points/<key>/<study>/``.  A rerun skips points whose
  folder is complete and verified (summary readable, fingerprint matching,
  tables present) and recomputes missing or corrupt ones.
  ``results.parquet`` is rewritten atomically as each point finishes, so an
  interrupted sweep loses no finished point.
* **Fault tolerant.** A point that raises is recorded as ``failed`` with its
  error message and does not stop the others.  On Dask, the points of a
  worker that dies are rescheduled on the remaining workers.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import shutil
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .config import ComposedConfig, coerce_field
from .errors import ConfigError
from .executors import check_executor, map_unordered
from .progress import Progress
from .registry import get_study
from .results import atomic_write_parquet, read_summary, verify_run_dir
from .runner import resolve_config, resolve_seeds, run_study
from .study import Study

RESULTS = "results.parquet"
POINTS_DIR = "points"
TIMING_COLUMNS = ("time_theory_s", "time_simulate_s", "time_total_s")


@dataclass(frozen=True)
class SweepPoint:
    """One grid point: its overrides, resolved config, key and folder."""

    index: int
    overrides: dict[str, Any]
    config: ComposedConfig
    key: str
    folder: Path


@dataclass(frozen=True)
class SweepResult:
    """What :func:`run_sweep` returns.

    Attributes
    ----------
    table : pandas.DataFrame
        ``results.parquet``: one row per point, in grid order.
    computed : int
        Points computed in this call (the others came from disk).
    reused : int
        Points whose complete outputs were found and kept.
    failed : list of int
        Indices of points that raised.
    path : pathlib.Path
        The results file.
    grid : tuple of str
        The swept fields, in grid order.
    """

    table: pd.DataFrame
    computed: int
    reused: int
    failed: list[int]
    path: Path
    grid: tuple[str, ...] = ()

    def load(self, table: str = "theory") -> pd.DataFrame:
        """One table of every finished point, stacked: the physical quantities.

        Parameters
        ----------
        table : str
            ``"theory"``, ``"simulation"`` or a derived table's name (its
            ``<name>.parquet`` in each point's folder).

        Returns
        -------
        pandas.DataFrame
            The points' rows with ``point`` and the swept fields as leading
            columns (a column of the table with a swept field's name is
            replaced by the field's value).
        """
        parts = []
        for _, row in self.table[self.table.status == "ok"].iterrows():
            f = self.path.parent / row.folder / f"{table}.parquet"
            if not f.is_file():
                raise ConfigError("table", table, f"not written by the study (no {f.name})")
            df = pd.read_parquet(f).drop(columns=list(self.grid), errors="ignore")
            lead = {"point": row.point, **{g: row[g] for g in self.grid}}
            parts.append(pd.concat([pd.DataFrame(lead, index=df.index), df], axis=1))
        if not parts:
            return pd.DataFrame(columns=["point", *self.grid])
        return pd.concat(parts, ignore_index=True)

    @property
    def passed(self) -> bool:
        """Every point ran and every check of every point passed."""
        return not self.failed and bool(self.table["passed"].all())


def parse_grid(items: Sequence[str]) -> dict[str, list[str]]:
    """Parse CLI ``--grid field=v1,v2,...`` options into ``{field: [v1, v2, ...]}``."""
    grid: dict[str, list[str]] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError("--grid", item, "expected field=v1,v2,...")
        name, values = item.split("=", 1)
        name = name.strip()
        vals = [v.strip() for v in values.split(",") if v.strip()]
        if not name or not vals:
            raise ConfigError("--grid", item, "expected field=v1,v2,...")
        if name in grid:
            raise ConfigError("--grid", item, f"field {name!r} given twice")
        grid[name] = vals
    return grid


def expand_grid(
    study: Study,
    grid: Mapping[str, Sequence[Any]],
    *,
    preset: str = "quick",
    base: Mapping[str, Any] | None = None,
    seeds: Sequence[int] = (),
    out: str | Path = "sweep",
) -> list[SweepPoint]:
    """Every point of the grid (cartesian product, first field slowest), validated.

    Values of tuple-typed fields are given as strings ``"1;4;16"`` or
    ``"1 4 16"`` on the command line (commas separate grid values) or as
    tuples from Python.

    Raises
    ------
    ConfigError
        For an unknown field, a value of the wrong type or out of range, or a
        point that breaks a cross-field rule; nothing has run yet.
    """
    if not grid:
        raise ConfigError("grid", {}, "needs at least one field=v1,v2,...")
    base_cfg = resolve_config(study, preset, base)
    axes: list[tuple[str, list[Any]]] = []
    for name, values in grid.items():
        try:
            hint = base_cfg.annotation(name)
        except ConfigError as exc:
            raise ConfigError(exc.field, list(values), exc.allowed) from None
        coerced = []
        for v in values:
            if isinstance(v, str) and (";" in v or " " in v.strip()):
                v = v.replace(" ", ";").replace(";", ",")
            try:
                coerced.append(coerce_field(name, hint, v))
            except ConfigError as exc:
                raise ConfigError(name, exc.value, exc.allowed) from None
        axes.append((name, coerced))
    points = []
    for i, combo in enumerate(itertools.product(*(vals for _, vals in axes))):
        overrides = dict(zip((n for n, _ in axes), combo, strict=True))
        cfg = base_cfg.with_overrides(overrides)
        key = cfg.fingerprint(seeds)
        points.append(SweepPoint(i, overrides, cfg, key, Path(out) / POINTS_DIR / key))
    keys = [p.key for p in points]
    if len(set(keys)) != len(keys):
        raise ConfigError("grid", dict(grid), "contains the same point twice")
    return points


def _row(point: SweepPoint, study_id: str, summary: dict | None, error: str | None) -> dict:
    row: dict[str, Any] = {"point": point.index, "key": point.key}
    for name, value in point.config.to_dict().items():
        row[name] = json.dumps(value) if isinstance(value, list) else value
    row["folder"] = str(Path(POINTS_DIR) / point.key / study_id)
    if summary is None:
        row.update(status="failed", passed=False, error=error or "unknown error")
        return row
    row.update(status="ok", passed=bool(summary["passed"]), error="")
    t = summary.get("timings_s", {})
    row.update(
        time_theory_s=t.get("theory"),
        time_simulate_s=t.get("simulate"),
        time_total_s=t.get("total"),
    )
    for c in summary.get("checks", []):
        row[c["name"]] = float(c["value"])  # "inf"/"nan" strings parse too
        row[f"{c['name']}__passed"] = bool(c["passed"])
        for q in ("theory", "simulation", "se"):  # the compared quantities (agreement checks)
            if q in c and not (isinstance(c[q], str) or math.isnan(c[q])):
                row[f"{c['name']}__{q}"] = float(c[q])
    return row


def run_point(
    study: Study, cfg: ComposedConfig, preset: str, seeds: list[int], folder: str
) -> dict:
    """Run one point into ``folder``; return ``{"summary": ...}`` or ``{"error": ...}``.

    Exceptions (other than KeyboardInterrupt) are caught so one failing point
    never stops a sweep.  Module-level so that process pools and Dask can
    pickle it.
    """
    try:
        res = run_study(study, config=cfg, preset=preset, seeds=seeds, out=folder, progress=False)
        return {"summary": res.summary}
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return {"error": tb}


def _complete(point: SweepPoint, study_id: str) -> dict | None:
    """The summary of a point whose outputs are complete and match its key, else None."""
    d = point.folder / study_id
    if not verify_run_dir(d):
        return None
    try:
        summary = read_summary(d)
    except (OSError, ValueError):
        return None
    if summary.get("fingerprint") != point.key:
        return None
    return summary


def run_sweep(
    study: str | Study,
    grid: Mapping[str, Sequence[Any]],
    *,
    preset: str = "quick",
    base: Mapping[str, Any] | None = None,
    seeds: int | Sequence[int] | None = None,
    out: str | Path = "sweep",
    executor: str = "serial",
    workers: int | None = None,
    address: str | None = None,
    on_point: Callable[[int, int], None] | None = None,
    progress: bool | str | Progress | None = None,
) -> SweepResult:
    """Run a study at every point of a grid; see the module docstring.

    Parameters
    ----------
    study : str or Study
    grid : mapping of field name to a sequence of values
        Values may be strings (coerced like ``--set``) or Python values.
    preset : str
        Preset the grid modifies.
    base : mapping, optional
        Overrides applied to the preset before the grid.
    seeds : int or sequence of int, optional
        Seeds of every point (default: the preset's count).
    out : path
        Sweep directory.
    executor, workers, address
        ``serial``, ``processes`` (local pool) or ``dask`` (scheduler at
        ``address`` or a LocalCluster of ``workers``).
    on_point : callable, optional
        ``on_point(done, total)`` after every finished point.
    progress : bool, str or Progress, optional
        Report the points as they finish (see :mod:`theorylab.core.progress`):
        ``None``/``True`` a bar on a terminal or in Jupyter, timestamped lines
        otherwise; ``False`` silent.

    Returns
    -------
    SweepResult
    """
    study = get_study(study)
    with contextlib.ExitStack() as stack:
        if not isinstance(progress, Progress):
            progress = stack.enter_context(Progress(f"{study.id} sweep", progress))
        return _run_sweep(
            study, grid, progress, preset, base, seeds, out, executor, workers, address, on_point
        )


def _run_sweep(
    study, grid, reporter, preset, base, seeds, out, executor, workers, address, on_point
) -> SweepResult:
    def report(done: int, total: int) -> None:
        reporter.advance(done, total, "points")
        if on_point:
            on_point(done, total)

    check_executor(executor, workers)
    seed_list = resolve_seeds(study, preset, seeds)
    out = Path(out)
    points = expand_grid(study, grid, preset=preset, base=base, seeds=seed_list, out=out)
    rows: dict[int, dict] = {}
    failed: list[int] = []
    todo: list[SweepPoint] = []
    for p in points:
        summary = _complete(p, study.id)
        if summary is not None:
            rows[p.index] = _row(p, study.id, summary, None)
        else:
            shutil.rmtree(p.folder, ignore_errors=True)  # missing or corrupt: start clean
            todo.append(p)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / RESULTS
    _write(results_path, rows)
    reporter.stage(f"{len(todo)} of {len(points)} points to compute")
    report(len(rows), len(points))
    tasks = [(study, p.config, preset, seed_list, str(p.folder)) for p in todo]
    results = map_unordered(run_point, tasks, executor=executor, workers=workers, address=address)
    try:
        for i, res in results:
            p = todo[i]
            if "error" in res:
                failed.append(p.index)
                rows[p.index] = _row(p, study.id, None, res["error"])
            else:
                rows[p.index] = _row(p, study.id, res["summary"], None)
            _write(results_path, rows)
            report(len(rows), len(points))
    except BaseException:
        # interrupted: stop the workers, then keep every point that is complete on disk
        # (one may have finished after the interrupt but before its worker stopped)
        results.close()
        for p in todo:
            if p.index not in rows and (summary := _complete(p, study.id)) is not None:
                rows[p.index] = _row(p, study.id, summary, None)
        _write(results_path, rows)
        raise
    table = pd.read_parquet(results_path)
    return SweepResult(
        table=table,
        computed=len(todo),
        reused=len(points) - len(todo),
        failed=sorted(failed),
        path=results_path,
        grid=tuple(grid),
    )


def _write(path: Path, rows: Mapping[int, dict]) -> None:
    df = pd.DataFrame([rows[i] for i in sorted(rows)])
    if "point" not in df:
        df = pd.DataFrame(columns=["point", "key", "folder", "status", "passed", "error"])
    atomic_write_parquet(path, df)


def check_plot(study: Study, x: str, y: str, hue: str | None = None) -> None:
    """Check a plot spec against the columns a sweep of ``study`` will have, before it runs.

    ``x`` and ``hue`` must be config fields; ``y`` a config field, a declared check
    name or a timing column.

    Raises
    ------
    ConfigError
        Naming the bad part of the spec.
    """
    fields = study.default_config().field_names()
    ys = [*fields, *study.check_names(), *TIMING_COLUMNS]
    for what, col, allowed in (("x", x, fields), ("y", y, ys), ("hue", hue, fields)):
        if col is not None and col not in allowed:
            raise ConfigError(
                what, col, "not a column of the sweep; use a config field, check or timing"
            )


def plot_sweep(
    table: pd.DataFrame | str | Path,
    x: str,
    y: str,
    hue: str | None = None,
    *,
    logx: bool | None = None,
    logy: bool | None = None,
):
    """Draw a sweep the way papers show it: ``y`` against ``x``, one line per ``hue``.

    Parameters
    ----------
    table : DataFrame or path
        ``results.parquet`` (or a sweep directory holding it).
    x : str
        A config field that varies.
    y : str
        A check name (its value is drawn; failed checks are marked with a
        cross) or any numeric column (e.g. ``time_total_s``).
    hue : str, optional
        A config field: one line per value.
    logx, logy : bool, optional
        Log axes (default: when the values span more than a factor 20 and are positive).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .plotting import colors, figure, finish

    if not isinstance(table, pd.DataFrame):
        path = Path(table)
        table = pd.read_parquet(path / RESULTS if path.is_dir() else path)
    for col, what in ((x, "x"), (y, "y"), (hue, "hue")):
        if col is not None and col not in table:
            cols = [c for c in table.columns if not c.endswith("__passed")]
            raise ConfigError(what, col, "not a column of the sweep; columns: " + ", ".join(cols))
    ok = table[table.status == "ok"]
    groups = [(None, ok)] if hue is None else list(ok.groupby(hue, sort=True))
    fig, ax = figure(width=4.4, height=3.3)
    for c, (h, g) in zip(colors(len(groups)), groups, strict=True):
        g = g.sort_values(x)
        label = None if hue is None else f"{hue}={h}"
        ax.plot(g[x], g[y], "o-", color=c, label=label, markerfacecolor="white", markersize=4)
        flag = f"{y}__passed"
        if flag in g:
            bad = g[~g[flag].astype(bool)]
            ax.plot(bad[x], bad[y], "x", color="red", markersize=7)

    def _auto(v: pd.Series) -> bool:
        v = pd.to_numeric(v, errors="coerce").dropna()
        return bool(len(v)) and (v > 0).all() and v.max() / v.min() > 20

    finish(
        ax,
        xlabel=x,
        ylabel=y,
        title=f"sweep: {y}" + ("" if f"{y}__passed" not in ok else " (x = check failed)"),
        logx=_auto(ok[x]) if logx is None else logx,
        logy=_auto(ok[y]) if logy is None else logy,
    )
    return fig


def summarize(table: pd.DataFrame) -> dict[str, int]:
    """Counts of points: total, ok, failed, passed (every check)."""
    ok = table["status"] == "ok"
    return {
        "points": len(table),
        "ok": int(ok.sum()),
        "failed": int((~ok).sum()),
        "passed": int((ok & table["passed"].astype(bool)).sum()),
    }
