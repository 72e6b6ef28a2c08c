"""The run contract on the toy study: files, resume, executors, errors."""

import json

import pandas as pd
import pytest
import toy_study

import theorylab
from theorylab.core.errors import ConfigError
from theorylab.core.results import verify_run_dir
from theorylab.core.runner import resolve_seeds


def test_run_writes_the_contract(tmp_path, toy_registered):
    res = theorylab.run("toy", out=tmp_path, seeds=3)
    d = tmp_path / "toy"
    assert res.passed and res.out_dir == d
    s = json.loads((d / "summary.json").read_text())
    for key in (
        "study",
        "title",
        "paper",
        "preset",
        "config",
        "seeds",
        "versions",
        "timings_s",
        "checks",
        "passed",
        "figures",
        "tables",
    ):
        assert key in s
    assert s["seeds"] == [0, 1, 2]
    assert set(s["timings_s"]) == {"theory", "simulate", "total"}
    assert {c["kind"] for c in s["checks"]} == {"agreement", "claim"}
    assert s["figures"] == ["figures/means.png"]
    assert (d / "figures" / "means.png").is_file() and (d / "figures" / "means.svg").is_file()
    sims = pd.read_parquet(d / "simulation.parquet")
    assert sorted(sims.seed) == [0, 1, 2]
    assert verify_run_dir(d)
    assert not (d / ".partial").exists()


def test_failed_claim_is_reported(tmp_path, toy_registered):
    res = theorylab.run("toy", out=tmp_path, seeds=2, overrides={"claim_bound": "-5"})
    assert not res.passed
    assert [c.name for c in res.checks if not c.passed] == ["mean_below"]


def test_same_seed_same_numbers(tmp_path, toy_registered):
    a = theorylab.run("toy", out=tmp_path / "a", seeds=2)
    b = theorylab.run("toy", out=tmp_path / "b", seeds=2)
    pd.testing.assert_frame_equal(
        pd.read_parquet(a.out_dir / "simulation.parquet"),
        pd.read_parquet(b.out_dir / "simulation.parquet"),
    )


def test_interrupted_run_resumes_seeds(tmp_path, toy_registered):
    toy_study.CALLS.clear()
    toy_study.INTERRUPT_AT.add(2)
    try:
        with pytest.raises(KeyboardInterrupt):
            theorylab.run("toy", out=tmp_path, seeds=4)
    finally:
        toy_study.INTERRUPT_AT.clear()
    assert sorted(toy_study.CALLS) == [0, 1]
    assert len(list((tmp_path / "toy" / ".partial").rglob("seed_*.parquet"))) == 2
    assert not (tmp_path / "toy" / "summary.json").exists()
    toy_study.CALLS.clear()
    res = theorylab.run("toy", out=tmp_path, seeds=4)
    assert sorted(toy_study.CALLS) == [2, 3]  # seeds 0 and 1 were kept on disk
    assert res.summary["seeds"] == [0, 1, 2, 3]


def test_processes_executor_gives_identical_tables(tmp_path, toy_registered):
    a = theorylab.run("toy", out=tmp_path / "s", seeds=3)
    b = theorylab.run("toy", out=tmp_path / "p", seeds=3, executor="processes", workers=2)
    pd.testing.assert_frame_equal(
        pd.read_parquet(a.out_dir / "simulation.parquet"),
        pd.read_parquet(b.out_dir / "simulation.parquet"),
    )
    with pytest.raises(ConfigError, match="executor"):
        theorylab.run("toy", out=tmp_path / "x", executor="threads")


def test_resolve_seeds():
    study = theorylab.get_study("rf_ensembles")
    assert resolve_seeds(study, "quick", None) == list(range(study.default_seeds("quick")))
    assert resolve_seeds(study, "quick", 3) == [0, 1, 2]
    assert resolve_seeds(study, "quick", [5, 7]) == [5, 7]
    for bad in (0, [1, 1], [-1]):
        with pytest.raises(ConfigError, match="seeds"):
            resolve_seeds(study, "quick", bad)


def test_unknown_study_and_preset():
    with pytest.raises(ConfigError, match="unknown study"):
        theorylab.get_study("nope")
    with pytest.raises(ConfigError, match="preset"):
        theorylab.get_study("rf_ensembles").preset("huge")


def test_derived_tables_are_written_and_listed(tmp_path, toy_registered):
    import dataclasses

    def derived(cfg, th, sims):
        return {"pooled": sims.groupby("seed", as_index=False)["value"].mean()}

    study = dataclasses.replace(toy_registered, derived=derived)
    res = theorylab.run(study, out=tmp_path, seeds=3)
    d = tmp_path / "toy"
    pooled = pd.read_parquet(d / "pooled.parquet")
    sims = pd.read_parquet(d / "simulation.parquet")
    assert len(pooled) == 3
    assert pooled["value"].tolist() == pytest.approx(
        sims.groupby("seed")["value"].mean().tolist(), rel=1e-12
    )
    assert res.summary["tables"]["pooled"] == {
        "file": "pooled.parquet",
        "rows": 3,
        "columns": ["seed", "value"],
    }
    bad = dataclasses.replace(toy_registered, derived=lambda cfg, th, sims: {"theory": sims})
    with pytest.raises(ValueError, match="bad table name"):
        theorylab.run(bad, out=tmp_path / "bad", seeds=1)
