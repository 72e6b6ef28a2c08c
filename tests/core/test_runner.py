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
        "experiments",
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
    assert s["experiments"] == ["mean", "spread"]
    assert set(s["timings_s"]) == {"theory", "simulate", "total", "experiments"}
    assert set(s["timings_s"]["experiments"]) == {"mean", "spread"}
    assert {c["kind"] for c in s["checks"]} == {"agreement", "claim"}
    assert [(c["experiment"], c["name"]) for c in s["checks"]] == [
        ("mean", "mean_agrees"),
        ("mean", "mean_below"),
        ("spread", "variance_agrees"),
    ]
    assert s["config"]["mu"] == 1.0 and s["config"]["mean.n"] == 100
    assert s["figures"] == ["figures/means.png"]
    assert (d / "figures" / "means.png").is_file() and (d / "figures" / "means.svg").is_file()
    sims = pd.read_parquet(d / "simulation.parquet")
    assert list(sims.columns[:2]) == ["experiment", "seed"]
    assert sorted(sims[sims.experiment == "mean"].seed) == [0, 1, 2]
    assert sorted(sims[sims.experiment == "spread"].seed) == [0, 1, 2]
    theory = pd.read_parquet(d / "theory.parquet")
    assert list(theory.experiment) == ["mean", "spread"]
    pd.testing.assert_frame_equal(theory, res.theory)
    pd.testing.assert_frame_equal(sims, res.simulation)
    assert "passed=True" in repr(res) and len(repr(res)) < 200
    assert verify_run_dir(d)
    assert not (d / ".partial").exists()


def test_in_memory_run_for_notebooks(tmp_path, toy_registered, monkeypatch):
    """out=None: nothing on disk; tables, checks, figures and an HTML summary on the result."""
    import re
    import tempfile

    from matplotlib.figure import Figure

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    res = theorylab.run("toy", out=None, seeds=3, progress=False)
    assert res.out_dir is None and "in memory" in repr(res)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tmp"] and not any(
        (tmp_path / "tmp").iterdir()
    )
    on_disk = theorylab.run("toy", out=tmp_path / "disk", seeds=3, progress=False)
    pd.testing.assert_frame_equal(res.simulation, on_disk.simulation)
    assert list(res.figures) == ["means"] and isinstance(res.figures["means"], Figure)
    table = res.checks_table
    assert list(table.name) == [c.name for c in res.checks]
    assert list(table.value) == [c.value for c in res.checks]
    assert table.passed.tolist() == [c.passed for c in res.checks]
    agree = table.set_index("name").loc["mean_agrees"]
    assert agree.theory == 1.0 and agree.simulation == pytest.approx(
        res.simulation[res.simulation.experiment == "mean"].value.mean(), rel=1e-12
    )
    page = res._repr_html_()
    for c in res.checks:
        assert c.name in page
    assert len(re.findall(r"<img src='data:image/png;base64,", page)) == len(res.figures)
    assert "kept in memory" in page and "3 seeds" in page


def test_failed_claim_is_reported(tmp_path, toy_registered):
    res = theorylab.run("toy", out=tmp_path, seeds=2, overrides={"mean.claim_bound": "-5"})
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
    assert len(list((tmp_path / "toy" / ".partial").glob("mean-*/seed_*.parquet"))) == 2
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


def test_resolve_seeds(toy_registered):
    study = toy_registered
    assert resolve_seeds(study, "quick", None) == list(range(study.default_seeds("quick")))
    assert resolve_seeds(study, "quick", 3) == [0, 1, 2]
    assert resolve_seeds(study, "quick", [5, 7]) == [5, 7]
    for bad in (0, [1, 1], [-1], True, 10**9, ["a"], [2**32]):
        with pytest.raises(ConfigError, match="seeds"):
            resolve_seeds(study, "quick", bad)


def test_unknown_study_and_preset(toy_registered):
    with pytest.raises(ConfigError, match="unknown study"):
        theorylab.get_study("nope")
    with pytest.raises(ConfigError, match="preset"):
        toy_registered.preset("huge")


def _with_experiment(study, name, **changes):
    import dataclasses

    exps = tuple(
        dataclasses.replace(e, **changes) if e.name == name else e for e in study.experiments
    )
    return dataclasses.replace(study, experiments=exps)


def test_derived_tables_are_written_and_listed(tmp_path, toy_registered):
    def derived(p, th, sims):
        return {"pooled": sims.groupby("seed", as_index=False)["value"].mean()}

    study = _with_experiment(toy_registered, "mean", derived=derived)
    res = theorylab.run(study, out=tmp_path, seeds=3)
    d = tmp_path / "toy"
    pooled = pd.read_parquet(d / "pooled.parquet")
    sims = pd.read_parquet(d / "simulation.parquet")
    sims = sims[sims.experiment == "mean"]
    assert len(pooled) == 3
    assert pooled["value"].tolist() == pytest.approx(
        sims.groupby("seed")["value"].mean().tolist(), rel=1e-12
    )
    assert res.summary["tables"]["pooled"] == {
        "file": "pooled.parquet",
        "rows": 3,
        "columns": ["seed", "value"],
    }
    bad = _with_experiment(toy_registered, "mean", derived=lambda p, th, sims: {"theory": sims})
    with pytest.raises(ValueError, match="bad table name"):
        theorylab.run(bad, out=tmp_path / "bad", seeds=1)


def test_only_runs_the_named_experiments(tmp_path, toy_registered):
    toy_study.CALLS.clear()
    res = theorylab.run("toy", out=tmp_path, seeds=2, only="spread")
    assert toy_study.CALLS == []  # the mean experiment never ran
    assert [c.name for c in res.checks] == ["variance_agrees"]
    assert res.summary["experiments"] == ["spread"]
    assert set(res.simulation.experiment) == {"spread"} and set(res.theory.experiment) == {"spread"}
    assert (
        res.summary["fingerprint"]
        != theorylab.run("toy", out=tmp_path / "all", seeds=2).summary["fingerprint"]
    )
    with pytest.raises(ConfigError, match="only"):
        theorylab.run("toy", out=tmp_path, only="nosuch")


def test_seed_streams_are_named_not_arithmetic():
    from theorylab.core.experiment import Seed

    a = Seed("toy", "mean", 0)
    assert a.rng("x").random() == Seed("toy", "mean", 0).rng("x").random()
    draws = {
        Seed("toy", "mean", 0).rng("x").random(),
        Seed("toy", "mean", 1).rng("x").random(),
        Seed("toy", "spread", 0).rng("x").random(),
        Seed("other", "mean", 0).rng("x").random(),
        a.rng("y").random(),
        a.rng("x", 4).random(),
        a.rng("x", 4.0).random(),
    }
    assert len(draws) == 7  # every (study, experiment, seed, path) is its own stream
    import jax

    k1, k2 = a.key("data"), Seed("toy", "mean", 0).key("data")
    assert (jax.random.key_data(k1) == jax.random.key_data(k2)).all()
    assert not (jax.random.key_data(a.key("proj", 1)) == jax.random.key_data(k1)).all()
    assert 0 <= a.integer("torch") < 2**63
    with pytest.raises(TypeError):
        a.rng(True)


def test_experiment_tables_may_not_carry_reserved_columns(tmp_path, toy_registered):
    import dataclasses

    bad = _with_experiment(
        toy_registered, "mean", theory=lambda p: pd.DataFrame({"experiment": ["x"], "value": [1]})
    )
    with pytest.raises(TypeError, match="experiment"):
        theorylab.run(bad, out=tmp_path, seeds=1)
    with pytest.raises(TypeError, match="unique"):
        dataclasses.replace(toy_registered, experiments=(toy_study.MEAN, toy_study.MEAN))
