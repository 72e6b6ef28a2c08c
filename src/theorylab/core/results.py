"""Checks, run summaries and atomic writing of every output file.

A run directory ``DIR/<study>/`` holds ``theory.parquet``,
``simulation.parquet``, ``figures/*.png|svg`` and ``summary.json``.  Every
file is written to a temporary name in the same folder and renamed into place,
so an interrupted run never leaves a half-written file; ``summary.json`` is
written last, so its presence means the run is complete.
"""

from __future__ import annotations

import json
import math
import operator
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

SUMMARY = "summary.json"
THEORY_TABLE = "theory.parquet"
SIM_TABLE = "simulation.parquet"
FIGURES_DIR = "figures"

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
}

CheckKind = Literal["agreement", "claim"]


@dataclass(frozen=True)
class Check:
    """One verdict of a run.

    Attributes
    ----------
    name : str
        Short identifier, e.g. ``"V1_agreement_K1"``.
    kind : {"agreement", "claim"}
        ``agreement``: theory vs simulation on the same configuration;
        ``claim``: a headline claim of the paper evaluated on this run's numbers.
    value : float
        The measured statistic.
    threshold : float
        What it is compared with.
    op : {"<=", "<", ">=", ">"}
        Passing means ``value op threshold``.
    passed : bool
        The verdict (a NaN value never passes).
    detail : str
        One sentence saying what was measured.
    experiment : str
        The experiment that declared the check ("" outside a study run).
    theory, simulation, se : float
        For agreement checks, the compared values at the worst point: the
        theory (for a paired check, the mean of the reference column), the
        simulation mean and its standard error over seeds; NaN for claims.
    """

    name: str
    kind: CheckKind
    value: float
    threshold: float
    op: str
    passed: bool
    detail: str = ""
    experiment: str = ""
    theory: float = math.nan
    simulation: float = math.nan
    se: float = math.nan

    @classmethod
    def evaluate(
        cls,
        name: str,
        kind: CheckKind,
        value: float,
        threshold: float,
        op: str = "<=",
        detail: str = "",
        experiment: str = "",
        *,
        theory: float = math.nan,
        simulation: float = math.nan,
        se: float = math.nan,
    ) -> Check:
        """Build a check, computing ``passed = value op threshold``."""
        if op not in _OPS:
            raise ValueError(f"op must be one of {sorted(_OPS)}, got {op!r}")
        if kind not in ("agreement", "claim"):
            raise ValueError(f"kind must be 'agreement' or 'claim', got {kind!r}")
        value = float(value)
        passed = (not math.isnan(value)) and bool(_OPS[op](value, float(threshold)))
        return cls(
            name,
            kind,
            value,
            float(threshold),
            op,
            passed,
            detail,
            experiment,
            float(theory),
            float(simulation),
            float(se),
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("value", "threshold", "theory", "simulation", "se"):
            d[key] = _json_float(d[key])
        return d


def _json_float(x: float) -> float | str:
    if math.isnan(x) or math.isinf(x):
        return str(x)
    return x


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _tmp_in(path: Path, suffix: str) -> Path:
    """A temporary file next to ``path``, with the permissions a plain write would give.

    ``mkstemp`` creates files readable by their owner only; a run's outputs
    are meant to be shared (a cluster's scratch space, a served report), so the
    mode becomes 0o666 less the umask, as ``open(path, "w")`` would make it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
    finally:
        os.close(fd)
    return Path(tmp)


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (temporary file, then rename)."""
    path = Path(path)
    tmp = _tmp_in(path, ".tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_write_json(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented JSON, atomically."""
    return atomic_write_text(path, json.dumps(obj, indent=2, default=_json_default) + "\n")


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return _json_float(float(o))
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def atomic_write_parquet(path: str | Path, df: pd.DataFrame) -> Path:
    """Write a DataFrame as Parquet, atomically."""
    path = Path(path)
    tmp = _tmp_in(path, ".parquet")
    try:
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_save_figure(fig, path_stem: str | Path, formats: tuple[str, ...] = ("png", "svg")):
    """Save a matplotlib figure as ``<stem>.png`` and ``<stem>.svg``, atomically.

    Returns
    -------
    list of pathlib.Path
        The written files.
    """
    stem = Path(path_stem)
    written = []
    for fmt in formats:
        target = stem.with_suffix("." + fmt)
        tmp = _tmp_in(target, "." + fmt)
        try:
            fig.savefig(tmp, format=fmt, dpi=200 if fmt == "png" else None, bbox_inches="tight")
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        written.append(target)
    return written


def read_summary(run_dir: str | Path) -> dict[str, Any]:
    """Read ``summary.json`` of a study run directory."""
    return json.loads((Path(run_dir) / SUMMARY).read_text())


def verify_run_dir(run_dir: str | Path) -> bool:
    """True when a run directory is complete and readable.

    Complete means: ``summary.json`` parses, names the study, both tables are
    present and readable by pyarrow, and every listed figure exists.
    """
    run_dir = Path(run_dir)
    try:
        summary = read_summary(run_dir)
        if "study" not in summary or "checks" not in summary:
            return False
        import pyarrow.parquet as pq

        for name in (THEORY_TABLE, SIM_TABLE):
            pq.read_metadata(run_dir / name)
        return all((run_dir / f).is_file() for f in summary.get("figures", []))
    except (OSError, ValueError, KeyError, TypeError):
        return False
    except Exception:  # pyarrow raises its own error types for corrupt files
        return False
