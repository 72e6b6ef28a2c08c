"""Interrupts, file permissions, exit codes and one-line errors, as a user meets them."""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import theorylab
from theorylab.cli import app

HELPERS = Path(__file__).parent / "helpers"
runner = CliRunner()


def _env(tmp_path: Path, **extra) -> dict:
    env = dict(os.environ)
    env.update(
        THEORYLAB_STUDIES="toy=toy_study",
        PYTHONPATH=os.pathsep.join([str(HELPERS), env.get("PYTHONPATH", "")]),
        THEORYLAB_CACHE=str(tmp_path / "cache"),
        TOY_CALL_LOG=str(tmp_path / "calls.log"),
        **extra,
    )
    return env


def _cli(tmp_path, *args, **popen):
    return subprocess.Popen(
        [sys.executable, "-m", "theorylab.cli", *args],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def _calls(tmp_path) -> list[str]:
    log = tmp_path / "calls.log"
    return log.read_text().split("\n")[:-1] if log.exists() else []


# -- files ------------------------------------------------------------------------------------


def test_outputs_are_readable_by_group_and_others(tmp_path, toy_registered):
    old = os.umask(0o022)
    try:
        theorylab.run("toy", out=tmp_path, seeds=2)
    finally:
        os.umask(old)
    files = [f for f in (tmp_path / "toy").rglob("*") if f.is_file()]
    assert len(files) >= 5
    for f in files:
        mode = stat.S_IMODE(f.stat().st_mode)
        assert mode == 0o644, (f, oct(mode))


# -- exit codes and one-line errors -----------------------------------------------------------


def test_unwritable_out_is_a_usage_error_before_any_work(tmp_path, toy_registered):
    import toy_study

    toy_study.CALLS.clear()
    for out in ("/proc/theorylab", str(tmp_path / "file")):
        (tmp_path / "file").write_text("x")
        r = runner.invoke(app, ["run", "toy", "--out", out])
        assert r.exit_code == 2 and r.output.startswith("error: out="), r.output
        assert len(r.output.strip().splitlines()) == 1
    assert toy_study.CALLS == []


def test_internal_error_exits_3_with_a_saved_traceback(tmp_path, toy_registered, monkeypatch):
    import toy_study

    monkeypatch.setenv("THEORYLAB_CACHE", str(tmp_path / "cache"))
    toy_study.FAIL_N.add(77)
    try:
        r = runner.invoke(app, ["run", "toy", "--set", "mean.n=77", "--out", str(tmp_path)])
    finally:
        toy_study.FAIL_N.clear()
    assert r.exit_code == 3
    # one error line, after the progress lines of the work that ran ("[hh:mm:ss] toy: ...")
    lines = [ln for ln in r.output.strip().splitlines() if not ln.startswith("[")]
    assert len(lines) == 1 and lines[0].startswith("internal error: ValueError: toy failure")
    saved = list((tmp_path / "cache" / "crashes").glob("theorylab-crash-*.txt"))
    assert len(saved) == 1 and str(saved[0]) in lines[0]
    assert "Traceback" in saved[0].read_text() and "Traceback" not in r.output


def test_bad_preset_report_and_plot_fail_before_work(tmp_path, toy_registered):
    r = runner.invoke(app, ["reproduce", "--preset", "nosuch", "--out", str(tmp_path / "r")])
    assert r.exit_code == 2 and r.output.startswith("error: preset=")
    assert not (tmp_path / "r" / "index.html").exists()
    (tmp_path / "empty").mkdir()
    r = runner.invoke(app, ["report", str(tmp_path / "empty")])
    assert r.exit_code == 2 and "no study runs" in r.output
    r = runner.invoke(
        app,
        [
            "sweep",
            "toy",
            "--grid",
            "mean.n=3,4",
            "--plot",
            "x=mean.n,y=nosuch",
            "--out",
            str(tmp_path / "s"),
        ],
    )
    assert r.exit_code == 2 and r.output.startswith("error: y=") and not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    "args",
    [
        ("run", "toy", "--seeds", "abc"),
        ("run", "toy", "--seeds", "-1"),
        ("run", "toy", "--workers", "x"),
        ("run", "toy", "--bogus"),
        ("run", "toy", "--set", "mean.n=1e308"),
        ("sweep", "toy", "--grid", "mean.n=1,abc"),
        ("show", "nosuch"),
    ],
)
def test_cli_usage_errors_are_one_line(tmp_path, args):
    p = (
        _cli(tmp_path, *args, "--out", str(tmp_path / "o"))
        if args[0] != "show"
        else _cli(tmp_path, *args)
    )
    out, err = p.communicate(timeout=60)
    assert p.returncode == 2, (out, err)
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
    assert "Traceback" not in err + out


def test_version():
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and r.output.strip() == f"theorylab {theorylab.__version__}"
    r = runner.invoke(app, ["--help"])
    assert "Exit codes" in r.output and "130" in r.output and "3 internal" in r.output


# -- interrupts -------------------------------------------------------------------------------


def _wait_for(cond, timeout=60.0):
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            raise TimeoutError("condition not reached")
        time.sleep(0.05)


def _results(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception:
        return pd.DataFrame(columns=["point"])


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["serial", "processes", "dask"])
def test_sigint_during_a_sweep_loses_no_finished_point(tmp_path, executor):
    out = tmp_path / "sweep"
    grid = "mean.n=" + ",".join(str(10 * i) for i in range(1, 9))
    args = [
        "sweep",
        "toy",
        "--grid",
        grid,
        "--set",
        "mean.sleep=0.3",
        "--set",
        f"mean.use_jax={executor == 'serial'}",
        "--seeds",
        "2",
        "--out",
        str(out),
        "--executor",
        executor,
        "--workers",
        "2",
    ]
    p = _cli(tmp_path, *args)
    _wait_for(lambda: len(_results(out / "results.parquet")) >= 2, timeout=90)
    time.sleep(random.uniform(0.0, 0.6))
    p.send_signal(signal.SIGINT)
    t0 = time.monotonic()
    _, err = p.communicate(timeout=30)
    assert time.monotonic() - t0 < 10, "took too long to stop"
    assert p.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    table = _results(out / "results.parquet")
    assert table.point.is_unique
    complete = {
        json.loads(f.read_text())["fingerprint"] for f in out.glob("points/*/toy/summary.json")
    }
    assert set(table.key) == complete  # every finished point is recorded, exactly once
    n_done = len(table)
    r = _cli(tmp_path, *args[:-4])  # rerun serially
    rout, rerr = r.communicate(timeout=120)
    assert r.returncode == 0, rerr
    assert f"computed {8 - n_done} points, reused {n_done}" in rout


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["serial", "processes", "dask"])
def test_sigint_during_a_run_resumes_the_missing_seeds(tmp_path, executor):
    out = tmp_path / "run"
    args = [
        "run",
        "toy",
        "--only",
        "mean",
        "--set",
        "mean.sleep=0.4",
        "--seeds",
        "8",
        "--out",
        str(out),
        "--executor",
        executor,
        "--workers",
        "2",
    ]
    p = _cli(tmp_path, *args)
    partial = out / "toy" / ".partial"
    _wait_for(lambda: len(list(partial.glob("mean-*/seed_*.parquet"))) >= 2, timeout=90)
    time.sleep(random.uniform(0.0, 0.5))
    p.send_signal(signal.SIGINT)
    t0 = time.monotonic()
    _, err = p.communicate(timeout=30)
    assert time.monotonic() - t0 < 10 and p.returncode == 130, err
    kept = sorted(int(f.stem.split("_")[1]) for f in partial.glob("mean-*/seed_*.parquet"))
    assert len(kept) >= 2 and not (out / "toy" / "summary.json").exists()
    (tmp_path / "calls.log").unlink()
    r = _cli(tmp_path, *args[:-4])
    _, rerr = r.communicate(timeout=120)
    assert r.returncode == 0, rerr
    recomputed = sorted(int(line.split()[1]) for line in _calls(tmp_path))
    assert recomputed == sorted(set(range(8)) - set(kept))
