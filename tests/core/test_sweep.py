"""Sweeps: validation first, identical results across executors, resume, faults."""

import pandas as pd
import pytest
import toy_study

import theorylab
from theorylab.core.errors import ConfigError
from theorylab.core.sweep import TIMING_COLUMNS, parse_grid, plot_sweep

GRID = {"mean.n": ["50", "100"], "mu": ["0", "1.5"]}


def _content(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=[c for c in TIMING_COLUMNS if c in table]).reset_index(drop=True)


def test_parse_grid():
    assert parse_grid(["n=1,2", "mu=0.5"]) == {"n": ["1", "2"], "mu": ["0.5"]}
    for bad in (["n"], ["n="], ["n=1", "n=2"]):
        with pytest.raises(ConfigError):
            parse_grid(bad)


@pytest.mark.parametrize(
    ("grid", "field"),
    [
        ({"mean.n": ["10", "zero"]}, "mean.n"),
        ({"mean.n": ["10", "-1"]}, "mean.n"),
        ({"nope": ["1"]}, "nope"),
        ({"mean.nope": ["1"]}, "mean.nope"),
        ({"n": ["1"]}, "n"),
    ],
)
def test_bad_grid_values_fail_before_any_work(tmp_path, toy_registered, grid, field):
    toy_study.CALLS.clear()
    with pytest.raises(ConfigError) as info:
        theorylab.sweep("toy", grid, out=tmp_path / "s", seeds=2)
    assert info.value.field == field
    assert toy_study.CALLS == [] and not (tmp_path / "s").exists()


def test_executors_give_identical_results_and_rerun_computes_nothing(tmp_path, toy_registered):
    serial = theorylab.sweep("toy", GRID, out=tmp_path / "serial", seeds=2)
    assert serial.computed == 4 and serial.reused == 0 and serial.passed
    t = serial.table
    assert (
        list(t.point) == [0, 1, 2, 3] and set(t["mean.n"]) == {50, 100} and set(t.mu) == {0.0, 1.5}
    )
    assert {"mean_agrees", "mean_agrees__passed", "folder", "time_total_s"} <= set(t.columns)
    for folder, mu, th, sim, se in zip(
        t.folder,
        t.mu,
        t.mean_agrees__theory,
        t.mean_agrees__simulation,
        t.mean_agrees__se,
        strict=True,
    ):
        assert (tmp_path / "serial" / folder / "summary.json").is_file()
        # the compared quantities: the theory (mu) and the simulation's seed mean and SE
        values = pd.read_parquet(tmp_path / "serial" / folder / "simulation.parquet")
        values = values[values.experiment == "mean"].value
        assert th == mu and sim == pytest.approx(values.mean(), rel=1e-12)
        assert se == pytest.approx(values.std(ddof=1) / len(values) ** 0.5, rel=1e-12)
    assert "mean_below__theory" not in t  # a claim compares no theory with a simulation
    theory = serial.load("theory")  # the physical quantities of every point, stacked
    assert list(theory.columns[:3]) == ["point", "mean.n", "mu"] and len(theory) == 4 * 2
    means = theory[theory.experiment == "mean"]
    assert (means.value == means.mu).all()
    sims = serial.load("simulation")
    assert sorted(set(sims.point)) == [0, 1, 2, 3] and set(sims.seed) == {0, 1}
    with pytest.raises(ConfigError, match="table='nope'"):
        serial.load("nope")
    procs = theorylab.sweep(
        "toy", GRID, out=tmp_path / "procs", seeds=2, executor="processes", workers=2
    )
    dask = theorylab.sweep("toy", GRID, out=tmp_path / "dask", seeds=2, executor="dask", workers=2)
    pd.testing.assert_frame_equal(_content(serial.table), _content(procs.table))
    pd.testing.assert_frame_equal(_content(serial.table), _content(dask.table))
    again = theorylab.sweep("toy", GRID, out=tmp_path / "serial", seeds=2)
    assert again.computed == 0 and again.reused == 4
    pd.testing.assert_frame_equal(again.table, serial.table)


def test_interrupted_sweep_resumes_with_only_the_rest(tmp_path, toy_registered):
    grid = {"mean.n": ["10", "20", "30", "40", "50"]}
    toy_study.INTERRUPT_N.add(40)
    try:
        with pytest.raises(KeyboardInterrupt):
            theorylab.sweep("toy", grid, out=tmp_path, seeds=2)
    finally:
        toy_study.INTERRUPT_N.clear()
    done = pd.read_parquet(tmp_path / "results.parquet")
    assert sorted(done["mean.n"]) == [10, 20, 30]  # finished points were written as they finished
    res = theorylab.sweep("toy", grid, out=tmp_path, seeds=2)
    assert res.computed == 2 and res.reused == 3
    assert sorted(res.table["mean.n"]) == [10, 20, 30, 40, 50]


def test_corrupt_point_is_recomputed(tmp_path, toy_registered):
    first = theorylab.sweep("toy", GRID, out=tmp_path, seeds=2)
    victim = tmp_path / first.table.folder[2]
    (victim / "simulation.parquet").write_bytes(b"not parquet")
    (tmp_path / first.table.folder[0] / "summary.json").unlink()
    res = theorylab.sweep("toy", GRID, out=tmp_path, seeds=2)
    assert res.computed == 2 and res.reused == 2
    assert (victim / "simulation.parquet").stat().st_size > 100
    pd.testing.assert_frame_equal(_content(res.table), _content(first.table))


def test_failing_point_is_recorded_and_others_finish(tmp_path, toy_registered):
    toy_study.FAIL_N.add(20)
    try:
        res = theorylab.sweep("toy", {"mean.n": ["10", "20", "30"]}, out=tmp_path, seeds=2)
    finally:
        toy_study.FAIL_N.clear()
    assert res.failed == [1] and not res.passed
    row = res.table.set_index("mean.n").loc[20]
    assert row.status == "failed" and "toy failure at n=20" in row.error
    assert list(res.table.status) == ["ok", "failed", "ok"]
    # the failed point is retried on the next run; the others are reused
    res = theorylab.sweep("toy", {"mean.n": ["10", "20", "30"]}, out=tmp_path, seeds=2)
    assert res.computed == 1 and res.passed


def test_dask_worker_killed_mid_sweep(tmp_path, toy_registered):
    """A worker process dies while running a point; the point is rescheduled and the
    sweep completes with every point exactly once."""
    marker = tmp_path / "crashed"
    grid = {"mean.n": ["10", "20", "30", "40", "50", "60"]}
    base = {"mean.crash_marker": str(marker), "mean.crash_n": "30"}
    res = theorylab.sweep(
        "toy", grid, base=base, out=tmp_path / "s", seeds=2, executor="dask", workers=2
    )
    assert marker.exists()  # a worker really died
    assert res.computed == 6 and not res.failed
    assert sorted(res.table["mean.n"]) == [10, 20, 30, 40, 50, 60]
    assert res.table.point.is_unique and (res.table.status == "ok").all()


def test_plot_sweep(tmp_path, toy_registered):
    res = theorylab.sweep("toy", GRID, out=tmp_path, seeds=2)
    fig = plot_sweep(res.table, x="mean.n", y="mean_agrees", hue="mu")
    ax = fig.axes[0]
    assert len([ln for ln in ax.lines if ln.get_label().startswith("mu=")]) == 2
    assert ax.get_xlabel() == "mean.n" and ax.get_ylabel() == "mean_agrees"
    with pytest.raises(ConfigError, match="not a column"):
        plot_sweep(tmp_path, x="mean.n", y="nope")
