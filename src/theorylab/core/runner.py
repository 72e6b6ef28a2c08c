"""Running one study: theory, simulation over seeds, checks, figures, outputs.

:func:`run_study` writes ``OUT/<study>/`` as the study contract says
(``summary.json``, ``theory.parquet``, ``simulation.parquet``,
``figures/*.png|svg``).  Each seed's simulation table is saved under
``OUT/<study>/.partial/<fingerprint>/`` as soon as it is computed, so an
interrupted run resumes where it stopped; the folder is removed when the run
completes.
"""

from __future__ import annotations

import platform
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from .config import StudyConfig
from .errors import ConfigError
from .executors import check_executor, map_unordered
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


@dataclass(frozen=True)
class RunResult:
    """What :func:`run_study` returns."""

    study: str
    out_dir: Path
    summary: dict[str, Any]
    checks: list[Check]

    @property
    def passed(self) -> bool:
        return bool(self.summary["passed"])


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
) -> StudyConfig:
    """The preset with ``overrides`` applied (coerced and validated)."""
    cfg = study.preset(preset)
    return cfg.with_overrides(overrides or {})


def resolve_seeds(study: Study, preset: str, seeds: int | Sequence[int] | None) -> list[int]:
    """Seed list: the preset's default count, a count ``n`` (0..n-1), or an explicit list."""
    if seeds is None:
        return list(range(study.default_seeds(preset)))
    if isinstance(seeds, int):
        if seeds < 1:
            raise ConfigError("seeds", seeds, "must be >= 1")
        return list(range(seeds))
    out = [int(s) for s in seeds]
    if not out or len(set(out)) != len(out) or min(out) < 0:
        raise ConfigError("seeds", seeds, "must be distinct non-negative integers")
    return out


def simulate_one(study: str | Study, cfg: StudyConfig, seed: int) -> pd.DataFrame:
    """One seed's simulation table with its ``seed`` column (module-level, picklable)."""
    study = get_study(study)
    df = study.simulate(cfg, seed)
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{study.id}.simulate returned {type(df).__name__}, not a DataFrame")
    df = df.copy()
    df.insert(0, "seed", seed)
    return df


def run_study(
    study: str | Study,
    *,
    preset: str = "quick",
    overrides: Mapping[str, Any] | None = None,
    config: StudyConfig | None = None,
    seeds: int | Sequence[int] | None = None,
    out: str | Path = "runs",
    executor: str = "serial",
    workers: int | None = None,
    address: str | None = None,
    on_seed: Callable[[int, int], None] | None = None,
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
        Field overrides, coerced like ``--set field=value``.
    config : StudyConfig, optional
        A complete config (replaces preset + overrides; still validated).
    seeds : int or sequence of int, optional
        Number of seeds or explicit seeds (default: the preset's count).
    out : path
        Output root; results go to ``out/<study>/``.
    executor, workers, address
        Where the per-seed simulations run (see :mod:`theorylab.core.executors`).
    on_seed : callable, optional
        Called as ``on_seed(done, total)`` after each seed (progress bars).

    Returns
    -------
    RunResult
    """
    t_start = time.perf_counter()
    study = get_study(study)
    check_executor(executor, workers)
    if config is not None:
        if not isinstance(config, study.config):
            raise ConfigError("config", type(config).__name__, f"must be a {study.config.__name__}")
        cfg = config.validate()
    else:
        cfg = resolve_config(study, preset, overrides)
    seed_list = resolve_seeds(study, preset, seeds)
    out_dir = Path(out) / study.id
    out_dir.mkdir(parents=True, exist_ok=True)
    partial = out_dir / ".partial" / cfg.fingerprint(seed_list)
    partial.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    theory_df = study.theory(cfg)
    t_theory = time.perf_counter() - t0

    t0 = time.perf_counter()
    tables: dict[int, pd.DataFrame] = {}
    todo = []
    for s in seed_list:
        f = partial / f"seed_{s}.parquet"
        if f.is_file():
            try:
                tables[s] = pd.read_parquet(f)
                continue
            except Exception:  # corrupt partial file: recompute it
                f.unlink(missing_ok=True)
        todo.append(s)
    if on_seed:
        on_seed(len(tables), len(seed_list))
    # the Study object travels by reference to its module, so unregistered
    # studies work in worker processes too
    tasks = [(study, cfg, s) for s in todo]
    for i, df in map_unordered(
        simulate_one, tasks, executor=executor, workers=workers, address=address
    ):
        s = todo[i]
        atomic_write_parquet(partial / f"seed_{s}.parquet", df)
        tables[s] = df
        if on_seed:
            on_seed(len(tables), len(seed_list))
    sims_df = pd.concat([tables[s] for s in seed_list], ignore_index=True)
    t_sim = time.perf_counter() - t0

    checks = list(study.checks(cfg, theory_df, sims_df))
    for c in checks:
        if not isinstance(c, Check):
            raise TypeError(f"{study.id}.checks returned {type(c).__name__}, not a Check")
    figs = study.figures(cfg, theory_df, sims_df)
    derived = dict(study.derived(cfg, theory_df, sims_df)) if study.derived else {}
    for name in derived:
        if name in ("theory", "simulation", "summary") or not name.isidentifier():
            raise ValueError(f"{study.id}.derived: bad table name {name!r}")

    atomic_write_parquet(out_dir / THEORY_TABLE, theory_df)
    atomic_write_parquet(out_dir / SIM_TABLE, sims_df)
    for name, df in derived.items():
        atomic_write_parquet(out_dir / f"{name}.parquet", df)
    fig_paths = []
    import matplotlib.pyplot as plt

    for name, fig in figs.items():
        atomic_save_figure(fig, out_dir / FIGURES_DIR / name)
        plt.close(fig)
        fig_paths.append(f"{FIGURES_DIR}/{name}.png")

    summary = {
        "study": study.id,
        "title": study.title,
        "paper": study.paper.to_dict(),
        "preset": preset,
        "config": cfg.to_dict(),
        "fingerprint": cfg.fingerprint(seed_list),
        "seeds": seed_list,
        "versions": versions(),
        "timings_s": {
            "theory": round(t_theory, 4),
            "simulate": round(t_sim, 4),
            "total": round(time.perf_counter() - t_start, 4),
        },
        "checks": [c.to_dict() for c in checks],
        "passed": bool(checks) and all(c.passed for c in checks),
        "figures": fig_paths,
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
    shutil.rmtree(out_dir / ".partial", ignore_errors=True)
    return RunResult(study=study.id, out_dir=out_dir, summary=summary, checks=checks)
