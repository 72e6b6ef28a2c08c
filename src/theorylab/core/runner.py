"""Running one study: theory, simulation over seeds, checks, figures, outputs.

:func:`run_study` writes ``OUT/<study>/`` as the study contract says
(``summary.json``, ``theory.parquet``, ``simulation.parquet``,
``figures/*.png|svg``).  A run is a set of (experiment, seed) simulation
tasks; each task's table is saved under
``OUT/<study>/.partial/<experiment>-<fingerprint>/`` as soon as it is
computed, so an interrupted run resumes where it stopped; the folder is
removed when the run completes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import platform
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from .checks import evaluate_checks
from .config import ComposedConfig
from .errors import ConfigError
from .executors import check_executor, map_unordered
from .experiment import Experiment, Seed
from .progress import Progress
from .registry import get_study
from .results import (
    FIGURES_DIR,
    SIM_TABLE,
    SUMMARY,
    THEORY_TABLE,
    Check,
    atomic_save_figure,
    atomic_write_json,
    atomic_write_parquet,
)
from .study import Study

MAX_SEEDS = 10_000


@dataclass(frozen=True, repr=False)
class RunResult:
    """What :func:`run_study` returns.

    Attributes
    ----------
    study : str
    out_dir : pathlib.Path or None
        Where the run was written (``None`` for a run kept in memory, ``out=None``).
    summary : dict
        The contents of ``summary.json``.
    checks : list of Check
        The verdicts, in declaration order (:attr:`checks_table` as a DataFrame).
    theory, simulation : pandas.DataFrame
        The run's tables (as written to ``theory.parquet`` / ``simulation.parquet``).
    figures : dict of str to matplotlib.figure.Figure
        The run's figures by name (closed for pyplot, still drawable and savable).
    derived : dict of str to pandas.DataFrame
        The experiments' derived tables (written as ``<name>.parquet``).
    """

    study: str
    out_dir: Path | None
    summary: dict[str, Any]
    checks: list[Check]
    theory: pd.DataFrame = field(default_factory=pd.DataFrame)
    simulation: pd.DataFrame = field(default_factory=pd.DataFrame)
    figures: dict[str, Any] = field(default_factory=dict)
    derived: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __repr__(self) -> str:
        n_ok = sum(c.passed for c in self.checks)
        where = f"'{self.out_dir}'" if self.out_dir is not None else "None (in memory)"
        return (
            f"RunResult(study={self.study!r}, passed={self.passed}, "
            f"checks={n_ok}/{len(self.checks)} passed, out_dir={where})"
        )

    @property
    def passed(self) -> bool:
        return bool(self.summary["passed"])

    @property
    def checks_table(self) -> pd.DataFrame:
        """One row per check: experiment, name, kind, value, op, threshold, passed,
        theory, simulation, se (the compared quantities of agreement checks) and detail."""
        cols = ["experiment", "name", "kind", "value", "op", "threshold", "passed"]
        cols += ["theory", "simulation", "se", "detail"]
        return pd.DataFrame([c.to_dict() for c in self.checks], columns=cols).astype(
            {"value": float, "threshold": float, "theory": float, "simulation": float, "se": float}
        )

    def _repr_html_(self) -> str:
        """Jupyter: a one-line verdict, the checks table and the figures inline."""
        import base64
        import html
        import io

        s = self.summary
        n_ok = sum(c.passed for c in self.checks)
        verdict = "passed" if self.passed else "FAILED"
        t = s.get("timings_s", {}).get("total", float("nan"))
        head = (
            f"<p><b>{html.escape(self.study)}</b> ({html.escape(str(s.get('preset')))}, "
            f"{len(s.get('seeds', []))} seeds): <b>{verdict}</b>, {n_ok}/{len(self.checks)} "
            f"checks passed in {t:.1f} s; "
            + (
                f"written to <code>{html.escape(str(self.out_dir))}</code>"
                if self.out_dir
                else "kept in memory"
            )
            + "</p>"
        )
        rows = []
        for c in self.checks:
            mark = "pass" if c.passed else "<b style='color:#b00'>FAIL</b>"
            rows.append(
                "<tr>"
                + "".join(
                    f"<td>{x}</td>"
                    for x in (
                        html.escape(c.experiment),
                        f"<span title='{html.escape(c.detail, quote=True)}'>"
                        f"{html.escape(c.name)}</span>",
                        c.kind,
                        f"{c.value:.4g} {html.escape(c.op)} {c.threshold:.4g}",
                        mark,
                    )
                )
                + "</tr>"
            )
        table = (
            "<table><thead><tr><th>experiment</th><th>check</th><th>kind</th>"
            "<th>value</th><th></th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        )
        imgs = []
        for name, fig in self.figures.items():
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=80)
            b64 = base64.b64encode(buf.getvalue()).decode("ascii")
            imgs.append(
                f"<figure style='display:inline-block;margin:4px;max-width:48%'>"
                f"<img src='data:image/png;base64,{b64}' style='max-width:100%'/>"
                f"<figcaption>{html.escape(name)}</figcaption></figure>"
            )
        return head + table + "".join(imgs)


def versions() -> dict[str, str]:
    """Versions of Python and the numerical stack, recorded in every summary."""
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for pkg in ("theorylab", "numpy", "scipy", "pandas", "jax", "optax", "matplotlib"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def resolve_config(
    study: Study, preset: str = "quick", overrides: Mapping[str, Any] | None = None
) -> ComposedConfig:
    """The preset with ``overrides`` (flat field names) applied, coerced and validated."""
    cfg = study.preset(preset)
    return cfg.with_overrides(overrides or {}) if overrides else cfg


def resolve_seeds(study: Study, preset: str, seeds: int | Sequence[int] | None) -> list[int]:
    """Seed list: the preset's default count, a count ``n`` (0..n-1), or an explicit list."""
    if seeds is None:
        return list(range(study.default_seeds(preset)))
    if isinstance(seeds, bool):
        raise ConfigError("seeds", seeds, "must be a positive integer or a list of seeds")
    if isinstance(seeds, int):
        if not 1 <= seeds <= MAX_SEEDS:
            raise ConfigError("seeds", seeds, f"must be between 1 and {MAX_SEEDS}")
        return list(range(seeds))
    try:
        out = [int(s) for s in seeds]
    except (TypeError, ValueError):
        raise ConfigError("seeds", seeds, "must be distinct non-negative integers") from None
    if not out or len(set(out)) != len(out) or min(out) < 0 or max(out) >= 2**32:
        raise ConfigError("seeds", seeds, "must be distinct integers in [0, 2^32)")
    return out


def simulate_task(
    study: str | Study, cfg: ComposedConfig, experiment: str, seeds: Sequence[int]
) -> tuple[pd.DataFrame, float]:
    """One task's simulation table (one seed, or all seeds of a batched experiment).

    Module-level and picklable, so process pools and Dask can run it.

    Returns
    -------
    (DataFrame, float)
        The table (with its ``seed`` column) and the task's wall time in seconds.
    """
    t0 = time.perf_counter()
    study = get_study(study)
    exp = study.experiment(experiment)
    streams = [Seed(study.id, experiment, int(s)) for s in seeds]
    return exp.run_simulation(cfg[experiment], streams), time.perf_counter() - t0


def _concat(frames: list[pd.DataFrame], experiments: list[str], extra: str | None) -> pd.DataFrame:
    """Stack per-experiment tables with the ``experiment`` column first (and ``seed`` next)."""
    parts = []
    for name, df in zip(experiments, frames, strict=True):
        if df.empty and not len(df.columns):
            continue
        df = df.copy()
        df.insert(0, "experiment", name)
        if extra and extra in df:
            df.insert(1, extra, df.pop(extra))
        parts.append(df)
    if not parts:
        return pd.DataFrame({"experiment": pd.Series([], dtype=object)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # all-NA columns of other experiments
        return pd.concat(parts, ignore_index=True)


def _simulate_all(
    study: Study,
    cfg: ComposedConfig,
    exps: list[Experiment],
    seed_list: list[int],
    partial: Path,
    executor: str,
    workers: int | None,
    address: str | None,
    on_task: Callable[[int, int], None] | None,
    timings: dict[str, dict[str, float]],
) -> dict[str, pd.DataFrame]:
    """Every (experiment, seed) task through the executor, each kept on disk as it finishes."""
    tasks: list[tuple[str, tuple[int, ...], Path]] = []
    for e in exps:
        if e.simulate is None:
            continue
        folder = partial / f"{e.name}-{cfg.fingerprint(seed_list, e.name)}"
        groups = [tuple(seed_list)] if e.batched else [(s,) for s in seed_list]
        for g in groups:
            name = "all_seeds" if e.batched else f"seed_{g[0]}"
            tasks.append((e.name, g, folder / f"{name}.parquet"))
    done: dict[int, pd.DataFrame] = {}
    todo = []
    for i, (_, _, f) in enumerate(tasks):
        if f.is_file():
            try:
                done[i] = pd.read_parquet(f)
                continue
            except Exception:  # corrupt partial file: recompute it
                f.unlink(missing_ok=True)
        todo.append(i)
    if on_task:
        on_task(len(done), len(tasks))
    args = [(study, cfg, tasks[i][0], tasks[i][1]) for i in todo]
    results = map_unordered(
        simulate_task, args, executor=executor, workers=workers, address=address
    )
    try:
        for j, (df, seconds) in results:
            i = todo[j]
            t = timings[tasks[i][0]]
            t["simulate"] = round(t.get("simulate", 0.0) + seconds, 4)
            atomic_write_parquet(tasks[i][2], df)
            done[i] = df
            if on_task:
                on_task(len(done), len(tasks))
    finally:
        results.close()  # on an interrupt: stop the workers now
    out: dict[str, list[pd.DataFrame]] = {}
    for i, (name, _, _) in enumerate(tasks):
        out.setdefault(name, []).append(done[i])
    return {
        name: pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        for name, frames in out.items()
    }


def run_study(
    study: str | Study,
    *,
    preset: str = "quick",
    overrides: Mapping[str, Any] | None = None,
    config: ComposedConfig | None = None,
    seeds: int | Sequence[int] | None = None,
    only: Sequence[str] | str | None = None,
    out: str | Path | None = "runs",
    executor: str = "serial",
    workers: int | None = None,
    address: str | None = None,
    on_seed: Callable[[int, int], None] | None = None,
    progress: bool | str | Progress | None = None,
) -> RunResult:
    """Run a study end to end and write its outputs.

    Parameters
    ----------
    study : str or Study
        Study id (see :func:`theorylab.list_studies`) or object.
    preset : str
        Preset name (``"quick"`` or ``"full"``); with ``config`` it only labels
        the summary (the preset the config was derived from).
    overrides : mapping, optional
        Field overrides with flat names (``"scaling.Ms"``, ``"alpha"``),
        coerced like ``--set field=value``.
    config : ComposedConfig, optional
        A complete config (replaces preset + overrides; still validated).
    seeds : int or sequence of int, optional
        Number of seeds or explicit seeds (default: the preset's count).
    only : str or sequence of str, optional
        Run only these experiments (and only their checks and figures).
    out : path or None
        Output root; results go to ``out/<study>/``.  ``None`` keeps the run in
        memory (the tables, checks and figures on the result; nothing is left
        on disk, and an interrupted run is not resumable).
    executor, workers, address
        Where the (experiment, seed) simulation tasks run (see
        :mod:`theorylab.core.executors`).
    on_seed : callable, optional
        Called as ``on_seed(done, total)`` after each simulation task.
    progress : bool, str or Progress, optional
        Report what the run is doing (see :mod:`theorylab.core.progress`): ``None`` or
        ``True`` a bar on a terminal or in Jupyter and timestamped lines on stderr
        otherwise; ``False`` silent; ``"bar"``/``"lines"`` forced; or a
        :class:`~theorylab.core.progress.Progress` to report into (the CLI's, which
        says "study k of n").

    Returns
    -------
    RunResult
    """
    t_start = time.perf_counter()
    study = get_study(study)
    check_executor(executor, workers)
    kw = dict(
        preset=preset,
        overrides=overrides,
        config=config,
        seeds=seeds,
        only=only,
        out=out,
        executor=executor,
        workers=workers,
        address=address,
        on_seed=on_seed,
        t_start=t_start,
    )
    with contextlib.ExitStack() as stack:
        if out is None:  # in memory: the partial files live in a folder removed at the end
            kw["out"] = stack.enter_context(tempfile.TemporaryDirectory(prefix="theorylab-"))
        if not isinstance(progress, Progress):
            progress = stack.enter_context(Progress(study.id, progress))
        result = _run_study(study, progress, **kw)
    if out is None:
        result = dataclasses.replace(result, out_dir=None)
    return result


def _run_study(
    study: Study,
    reporter: Progress,
    *,
    preset: str,
    overrides: Mapping[str, Any] | None,
    config: ComposedConfig | None,
    seeds: int | Sequence[int] | None,
    only: Sequence[str] | str | None,
    out: str | Path,
    executor: str,
    workers: int | None,
    address: str | None,
    on_seed: Callable[[int, int], None] | None,
    t_start: float,
) -> RunResult:
    if config is not None:
        if not isinstance(config, ComposedConfig) or config.names != study.experiment_names:
            raise ConfigError("config", type(config).__name__, f"must be a config of {study.id}")
        cfg = config.validate()
    else:
        cfg = resolve_config(study, preset, overrides)
    exps = study.select(only)
    names = [e.name for e in exps]
    seed_list = resolve_seeds(study, preset, seeds)
    out_dir = Path(out) / study.id
    out_dir.mkdir(parents=True, exist_ok=True)
    partial = out_dir / ".partial"

    timings: dict[str, dict[str, float]] = {}
    theories = []
    t0 = time.perf_counter()
    for e in exps:
        t = time.perf_counter()
        reporter.stage(f"theory of {e.name}")
        theories.append(e.run_theory(cfg[e.name]))
        timings[e.name] = {"theory": round(time.perf_counter() - t, 4)}
    t_theory = time.perf_counter() - t0

    t0 = time.perf_counter()
    reporter.stage(f"simulating {len(seed_list)} seed(s)")

    def on_task(done: int, total: int) -> None:
        reporter.advance(done, total, "simulation tasks")
        if on_seed:
            on_seed(done, total)

    sims = _simulate_all(
        study, cfg, exps, seed_list, partial, executor, workers, address, on_task, timings
    )
    reporter.stage("checks, figures and tables")
    t_sim = time.perf_counter() - t0

    checks: list[Check] = []
    figs: dict[str, Any] = {}
    derived: dict[str, pd.DataFrame] = {}
    sim_frames = []
    for e, th in zip(exps, theories, strict=True):
        p = cfg[e.name]
        sm = sims.get(e.name, pd.DataFrame())
        sim_frames.append(sm)
        checks += evaluate_checks(e.checks, p, th, sm, e.name)
        for name, fig in (e.figures(p, th, sm) if e.figures else {}).items():
            if name in figs:
                raise ValueError(f"{study.id}: figure name {name!r} used twice")
            figs[name] = fig
        for name, df in (e.derived(p, th, sm) if e.derived else {}).items():
            if name in ("theory", "simulation", "summary") or not name.isidentifier():
                raise ValueError(f"{study.id}.{e.name}.derived: bad table name {name!r}")
            if name in derived:
                raise ValueError(f"{study.id}: derived table {name!r} written twice")
            derived[name] = df
    theory_df = _concat(theories, names, None)
    sims_df = _concat(sim_frames, names, "seed")

    atomic_write_parquet(out_dir / THEORY_TABLE, theory_df)
    atomic_write_parquet(out_dir / SIM_TABLE, sims_df)
    for name, df in derived.items():
        atomic_write_parquet(out_dir / f"{name}.parquet", df)
    fig_paths = []
    captions: dict[str, str] = {}
    readable: dict[str, dict[str, list[str]]] = {}
    import matplotlib.pyplot as plt

    from .plotting import get_caption, polish, readability

    for name, fig in figs.items():
        polish(fig)
        captions[name] = get_caption(fig)
        readable[name] = readability(fig)
        atomic_save_figure(fig, out_dir / FIGURES_DIR / name)
        plt.close(fig)  # out of pyplot's registry; the Figure stays drawable on the result
        fig_paths.append(f"{FIGURES_DIR}/{name}.png")

    summary = {
        "study": study.id,
        "title": study.title,
        "paper": study.paper.to_dict(),
        "preset": preset,
        "experiments": names,
        "config": cfg.to_dict(),
        "fingerprint": run_fingerprint(cfg, seed_list, names, study),
        "seeds": seed_list,
        "versions": versions(),
        "timings_s": {
            "theory": round(t_theory, 4),
            "simulate": round(t_sim, 4),
            "total": round(time.perf_counter() - t_start, 4),
            "experiments": timings,
        },
        "checks": [c.to_dict() for c in checks],
        "passed": bool(checks) and all(c.passed for c in checks),
        "figures": fig_paths,
        "figure_captions": captions,
        "figure_readability": readable,
        "tables": {
            "theory": {"file": THEORY_TABLE, "rows": len(theory_df), "columns": list(theory_df)},
            "simulation": {"file": SIM_TABLE, "rows": len(sims_df), "columns": list(sims_df)},
            **{
                name: {"file": f"{name}.parquet", "rows": len(df), "columns": list(df)}
                for name, df in derived.items()
            },
        },
    }
    atomic_write_json(out_dir / SUMMARY, summary)
    shutil.rmtree(partial, ignore_errors=True)
    return RunResult(
        study=study.id,
        out_dir=out_dir,
        summary=summary,
        checks=checks,
        theory=theory_df,
        simulation=sims_df,
        figures=figs,
        derived=derived,
    )


def run_fingerprint(
    cfg: ComposedConfig, seeds: Sequence[int], experiments: Sequence[str], study: Study
) -> str:
    """The run's fingerprint: the config and seeds, plus the experiment subset when not all."""
    fp = cfg.fingerprint(seeds)
    if list(experiments) == study.experiment_names:
        return fp
    return hashlib.sha256(json.dumps([fp, list(experiments)]).encode()).hexdigest()[:16]
