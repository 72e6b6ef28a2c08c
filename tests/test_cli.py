"""The CLI contract: exit codes, one-line errors, outputs."""

import json

import pytest
from typer.testing import CliRunner

from theorylab.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


def test_list_and_show():
    r = invoke("list")
    assert r.exit_code == 0 and "rf_ensembles" in r.output and "2412.05418" in r.output
    r = invoke("show", "rf_ensembles")
    assert r.exit_code == 0
    for text in ("ridge_curve.ridge_min", "per-sample", "preset quick", "preset full", "tuple[int"):
        assert text in r.output


@pytest.mark.parametrize(
    ("assignment", "field", "fragment"),
    [
        ("no_such_field=1", "no_such_field", "unknown field"),
        ("ridge_curve.P=abc", "ridge_curve.P", "expected an integer"),
        ("ridge_curve.P=-3", "ridge_curve.P", "out of range"),
        ("alpha=0.5", "alpha", "allowed: > 1"),
        ("ridge_curve.ks=1,3", "ridge_curve.ks", "must divide M=256"),
        ("ridge_curve.ridge_min=1", "ridge_curve.ridge_min", "must be < ridge_max"),
        ("scaling.no_such=1", "scaling.no_such", "unknown field"),
        ("scaling.Ms=abc", "scaling.Ms", "expected an integer"),
    ],
)
def test_bad_config_exits_2_with_one_line_naming_the_field(assignment, field, fragment, tmp_path):
    r = invoke("run", "rf_ensembles", "--set", assignment, "--out", str(tmp_path))
    assert r.exit_code == 2
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1, r.output
    assert lines[0].startswith(f"error: {field}=") and fragment in lines[0]
    assert "Traceback" not in r.output
    assert not (tmp_path / "rf_ensembles" / "summary.json").exists()


@pytest.mark.parametrize(
    "args",
    [
        ("run", "no_such_study"),
        ("run", "rf_ensembles", "--preset", "huge"),
        ("run", "rf_ensembles", "--set", "novalue"),
        ("run", "rf_ensembles", "--seeds", "0"),
        ("run", "rf_ensembles", "--executor", "threads"),
        ("reproduce", "--only", "nope"),
    ],
)
def test_bad_usage_exits_2(args):
    r = invoke(*args)
    assert r.exit_code == 2
    assert r.output.startswith("error: ") and len(r.output.strip().splitlines()) == 1


def test_unknown_option_is_a_usage_error():
    assert invoke("run", "rf_ensembles", "--bogus").exit_code == 2


def test_exit_codes_follow_checks(tmp_path, toy_registered):
    ok = invoke("run", "toy", "--out", str(tmp_path), "--seeds", "3")
    assert ok.exit_code == 0, ok.output
    bad = invoke(
        "run", "toy", "--out", str(tmp_path), "--set", "mean.claim_bound=-9", "--seeds", "3"
    )
    assert bad.exit_code == 1
    assert "FAIL" in bad.output
    s = json.loads((tmp_path / "toy" / "summary.json").read_text())
    assert s["passed"] is False and s["config"]["mean.claim_bound"] == -9.0


def test_only_and_dotted_set_on_the_toy(tmp_path, toy_registered):
    r = invoke("run", "toy", "--only", "spread", "--set", "spread.m=50", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    s = json.loads((tmp_path / "toy" / "summary.json").read_text())
    assert s["experiments"] == ["spread"] and [c["name"] for c in s["checks"]] == [
        "variance_agrees"
    ]
    assert s["config"]["spread.m"] == 50
    for args, field in (
        (("--set", "spread.no_such=1"), "spread.no_such"),
        (("--set", "spread.m=abc"), "spread.m"),
        (("--set", "m=3"), "m"),
        (("--only", "nosuch"), "only"),
    ):
        r = invoke("run", "toy", *args, "--out", str(tmp_path / "x"))
        assert r.exit_code == 2 and r.output.startswith(f"error: {field}="), r.output
        assert len(r.output.strip().splitlines()) == 1
    r = invoke("show", "toy")
    assert r.exit_code == 0
    for text in ("experiment mean", "experiment spread", "mean.n", "spread.m", "mu"):
        assert text in r.output


def test_reproduce_only_and_report(tmp_path, toy_registered):
    r = invoke("reproduce", "--only", "toy", "--out", str(tmp_path), "--seeds", "2")
    assert r.exit_code == 0, r.output
    html = (tmp_path / "index.html").read_text()
    assert "toy" in html and 'class="checks"' in html and "toy/figures/means.png" in html
    (tmp_path / "index.html").unlink()
    assert invoke("report", str(tmp_path)).exit_code == 0
    assert (tmp_path / "index.html").is_file()
    assert invoke("report", str(tmp_path / "missing")).exit_code == 2


def test_sweep_cli_exit_codes_and_plot(tmp_path, toy_registered):
    r = invoke(
        "sweep",
        "toy",
        "--grid",
        "mean.n=20,40",
        "--grid",
        "mu=0,1",
        "--seeds",
        "2",
        "--out",
        str(tmp_path),
        "--plot",
        "x=mean.n,y=mean_agrees,hue=mu",
    )
    assert r.exit_code == 0, r.output
    assert (tmp_path / "results.parquet").is_file()
    assert (tmp_path / "figures" / "sweep_mean_agrees_vs_mean_n.png").stat().st_size > 5000
    bad = invoke("sweep", "toy", "--grid", "mean.n=20,abc", "--out", str(tmp_path / "b"))
    assert bad.exit_code == 2 and bad.output.startswith("error: mean.n=")
    assert not (tmp_path / "b").exists()
    assert invoke("sweep", "toy", "--out", str(tmp_path / "c")).exit_code == 2  # no grid
    assert invoke("sweep", "toy", "--grid", "mean.n=3", "--plot", "y=n").exit_code == 2
    failing = invoke(
        "sweep",
        "toy",
        "--grid",
        "mean.claim_bound=-9,9",
        "--seeds",
        "2",
        "--out",
        str(tmp_path / "f"),
    )
    assert failing.exit_code == 1


def test_rf_ensembles_sweep_on_dask_and_rerun(tmp_path):
    """Acceptance of the sweep issue: three values of one field on a 2-worker LocalCluster,
    one row per point, and an identical rerun computes nothing new."""
    import pandas as pd

    args = [
        "sweep",
        "rf_ensembles",
        "--grid",
        "noise=0,0.05,0.1",
        "--executor",
        "dask",
        "--workers",
        "2",
        "--seeds",
        "2",
        "--out",
        str(tmp_path),
        "--set",
        "exponent.D=20000",
        "--set",
        "no_free_lunch.D=5000",
        "--set",
        "overparam.D=5000",
        "--set",
        "no_free_lunch.draws=3",
    ]
    r = invoke(*args)
    assert r.exit_code in (0, 1), r.output
    table = pd.read_parquet(tmp_path / "results.parquet")
    assert len(table) == 3 and sorted(table.noise) == [0.0, 0.05, 0.1]
    assert (table.status == "ok").all()
    again = invoke(*args)
    assert "computed now" in again.output
    assert again.exit_code == r.exit_code
    rerun = pd.read_parquet(tmp_path / "results.parquet")
    pd.testing.assert_frame_equal(rerun, table)
    assert "computed 3 points, reused 0" in r.output
    assert "computed 0 points, reused 3" in again.output
