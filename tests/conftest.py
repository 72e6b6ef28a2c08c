"""Shared fixtures: thread limits, a toy study, and one quick rf_ensembles run per session."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# small-matrix work is faster single-threaded on 2 cores (DESIGN conventions)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("MPLBACKEND", "Agg")
# no persistent JAX compilation cache in tests (no dependence on earlier processes)
os.environ["THEORYLAB_JAX_CACHE"] = "off"
sys.path.insert(0, str(Path(__file__).parent / "helpers"))

import pytest  # noqa: E402

import theorylab  # noqa: E402
from theorylab.studies import REGISTRY  # noqa: E402


def pytest_collection_modifyitems(config, items):
    """Tests on the session's quick `reproduce` run share one xdist worker and go first.

    `make test` runs the suite on 2 workers (``-n 2 --dist loadgroup``): one worker runs
    the ~5-minute reproduce and the tests that read it, the other everything else.
    """
    quick = [i for i in items if {"quick_report", "run_dir"} & set(getattr(i, "fixturenames", ()))]
    for item in quick:
        item.add_marker(pytest.mark.xdist_group("quick_report"))
    ids = {id(i) for i in quick}
    items[:] = quick + [i for i in items if id(i) not in ids]


@pytest.fixture
def toy_registered(monkeypatch):
    """Register the toy study (tests/helpers/toy_study.py) with one registry line."""
    monkeypatch.setitem(REGISTRY, "toy", "toy_study")
    return theorylab.get_study("toy")


@pytest.fixture(scope="session")
def quick_report(tmp_path_factory):
    """`theorylab reproduce --preset quick` over every registered study, through the CLI."""
    import time

    from typer.testing import CliRunner

    from theorylab.cli import app

    out = tmp_path_factory.mktemp("quick")
    t0 = time.perf_counter()
    result = CliRunner().invoke(app, ["reproduce", "--preset", "quick", "--out", str(out)])
    elapsed = time.perf_counter() - t0
    return {"out": out, "exit_code": result.exit_code, "output": result.output, "elapsed": elapsed}
