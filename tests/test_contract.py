"""The study contract, held against every registered study (present and future) and the toy.

A new study passes this file without any change to it: it is driven by the registry.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import toy_study

import theorylab
from theorylab.core.checks import evaluate_checks
from theorylab.core.errors import ConfigError
from theorylab.core.runner import simulate_task

REGISTERED = theorylab.list_studies()
STUDIES = [*REGISTERED, "toy"]
SRC = Path(theorylab.__file__).parent
NUMERIC = ("int", "float", "tuple[int, ...]", "tuple[float, ...]")
EQUATION = re.compile(r"\bEq|\beq\.|equation|Section|section|§|docs/")


def _study(sid: str):
    return toy_study.STUDY if sid == "toy" else theorylab.get_study(sid)


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    from theorylab.studies import REGISTRY

    REGISTRY["toy"] = "toy_study"
    try:
        out = tmp_path_factory.mktemp("toy_quick")
        theorylab.run("toy", out=out)
    finally:
        del REGISTRY["toy"]
    return out


@pytest.fixture
def run_dir(request):
    """The study's quick run: the session's `reproduce` output (the toy's own run)."""
    sid = request.node.callspec.params["sid"]
    if sid == "toy":
        return request.getfixturevalue("toy_run") / sid
    return request.getfixturevalue("quick_report")["out"] / sid


@pytest.mark.parametrize("sid", STUDIES)
def test_every_field_is_documented_with_a_range(sid):
    study = _study(sid)
    for f in study.default_config().fields_info():
        assert f.doc.strip(), f"{sid}: field {f.name} has no doc"
        if f.type in NUMERIC:
            assert f.allowed != "any", f"{sid}: numeric field {f.name} has no allowed range"


@pytest.mark.parametrize("sid", STUDIES)
def test_presets_validate(sid):
    study = _study(sid)
    assert {"quick", "full"} <= set(study.presets)
    for name in study.presets:
        cfg = study.preset(name)
        assert cfg.validate() is cfg
        assert study.default_seeds(name) >= 2


@pytest.mark.parametrize("sid", STUDIES)
def test_check_names_are_unique_and_never_depend_on_the_config(sid):
    """Evaluated on empty tables under two configs, every declared check is reported (not
    passed, with the reason) under its declared name."""
    study = _study(sid)
    names = study.check_names()
    assert names and len(set(names)) == len(names)
    empty = pd.DataFrame()
    for preset in ("quick", "full"):
        cfg = study.preset(preset)
        got = []
        for e in study.experiments:
            checks = evaluate_checks(e.checks, cfg[e.name], empty, empty, e.name)
            assert all(not c.passed for c in checks)
            got += [c.name for c in checks]
        assert got == names


@pytest.mark.parametrize("sid", STUDIES)
def test_bad_values_name_experiment_and_field(sid):
    study = _study(sid)
    cfg = study.preset("quick")
    for e in study.experiments:
        with pytest.raises(ConfigError) as info:
            cfg.with_overrides({f"{e.name}.no_such_field": "1"})
        assert info.value.field == f"{e.name}.no_such_field"
    for f in cfg.fields_info():
        if f.type == "str" and f.allowed == "any":
            continue
        with pytest.raises(ConfigError) as info:
            cfg.with_overrides({f.name: "not-a-value"})
        assert info.value.field == f.name, (f.name, str(info.value))


@pytest.mark.parametrize("sid", STUDIES)
def test_run_tables_have_the_experiment_column_and_the_declared_checks(sid, run_dir):
    study = _study(sid)
    s = theorylab.core.results.read_summary(run_dir)
    assert s["experiments"] == study.experiment_names
    assert [c["name"] for c in s["checks"]] == study.check_names()
    assert [c["experiment"] for c in s["checks"]] == [
        e.name for e in study.experiments for _ in e.checks
    ]
    theory = pd.read_parquet(run_dir / "theory.parquet")
    sims = pd.read_parquet(run_dir / "simulation.parquet")
    assert theory.columns[0] == "experiment" and list(sims.columns[:2]) == ["experiment", "seed"]
    assert set(theory.experiment) <= set(study.experiment_names)
    simulated = {e.name for e in study.experiments if e.simulate is not None}
    assert set(sims.experiment) == simulated
    for name in simulated:
        assert sorted(set(sims[sims.experiment == name].seed)) == s["seeds"]


@pytest.mark.slow
@pytest.mark.parametrize("sid", STUDIES)
def test_same_seed_gives_bit_identical_tables(sid, run_dir):
    """Each simulated experiment's first task, recomputed, equals the run's rows exactly."""
    study = _study(sid)
    s = theorylab.core.results.read_summary(run_dir)
    cfg = study.default_config().with_overrides(
        {k: tuple(v) if isinstance(v, list) else v for k, v in s["config"].items()}
    )
    sims = pd.read_parquet(run_dir / "simulation.parquet")
    for e in study.experiments:
        if e.simulate is None:
            continue
        seeds = s["seeds"] if e.batched else s["seeds"][:1]
        fresh, _ = simulate_task(study, cfg, e.name, seeds)
        fresh = pd.read_parquet(_roundtrip(fresh))  # the run's tables went through Parquet
        old = sims[(sims.experiment == e.name) & sims.seed.isin(seeds)]
        old = old[list(fresh.columns)].reset_index(drop=True)
        pd.testing.assert_frame_equal(fresh, old, check_dtype=False, check_exact=True)


def _roundtrip(df: pd.DataFrame):
    import io

    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    buf.seek(0)
    return buf


@pytest.mark.parametrize("sid", STUDIES)
def test_only_runs_one_experiment(sid, run_dir, tmp_path, monkeypatch):
    """--only on the cheapest experiment of the quick run: its checks and rows only."""
    study = _study(sid)
    if sid == "toy":
        from theorylab.studies import REGISTRY

        monkeypatch.setitem(REGISTRY, "toy", "toy_study")
    t = theorylab.core.results.read_summary(run_dir)["timings_s"]["experiments"]
    name = min(t, key=lambda n: t[n].get("theory", 0) + t[n].get("simulate", 0))
    res = theorylab.run(sid, only=name, seeds=2, out=tmp_path)
    assert res.summary["experiments"] == [name]
    assert [c.name for c in res.checks] == study.experiment(name).check_names
    assert set(res.theory.experiment) <= {name} and set(res.simulation.experiment) <= {name}


# -- the shape of the code (registered studies) ---------------------------------------------


def _public_functions(module):
    for name, obj in vars(module).items():
        if name.startswith("_") or not inspect.isfunction(obj):
            continue
        if obj.__module__ == module.__name__:
            yield name, obj


@pytest.mark.parametrize("sid", REGISTERED)
@pytest.mark.parametrize("part", ["theory", "simulate"])
def test_public_functions_have_numpydoc_docstrings(sid, part):
    module = importlib.import_module(f"theorylab.studies.{sid}.{part}")
    bad = []
    for name, fn in _public_functions(module):
        doc = inspect.getdoc(fn) or ""
        params = [p for p in inspect.signature(fn).parameters if p not in ("self", "cls")]
        if params and "Parameters" not in doc:
            bad.append(f"{name}: no Parameters section")
        if "Returns" not in doc and "Yields" not in doc:
            bad.append(f"{name}: no Returns section")
        if re.search(r"ndarray|array_like", doc) and "shape" not in doc:
            bad.append(f"{name}: arrays without shapes")
        if part == "theory" and not EQUATION.search(doc):
            bad.append(f"{name}: names no equation or section")
        if re.search(r"\bspec(s/| \d| section)", doc):
            bad.append(f"{name}: cites the internal spec")
    assert not bad, bad


@pytest.mark.parametrize("sid", REGISTERED)
def test_folder_shape_and_sizes(sid):
    folder = SRC / "studies" / sid
    for f in ("__init__.py", "theory.py", "simulate.py", "study.py", "experiments/__init__.py"):
        assert (folder / f).is_file(), f"{sid}: missing {f}"
    assert len((folder / "study.py").read_text().splitlines()) <= 400
    for f in (folder / "experiments").glob("*.py"):
        assert len(f.read_text().splitlines()) < 300, f"{f.name} has 300 lines or more"
    for f in folder.rglob("*.py"):
        tree = ast.parse(f.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                assert n <= 120, f"{f.relative_to(SRC)}:{node.name} has {n} lines"


@pytest.mark.parametrize("sid", REGISTERED)
def test_no_study_imports_another_and_no_integer_key_paths(sid):
    others = [s for s in REGISTERED if s != sid]
    folder = SRC / "studies" / sid
    for f in folder.rglob("*.py"):
        text = f.read_text()
        for other in others:
            assert f"studies.{other}" not in text and f"studies import {other}" not in text
    # the runner's seeds reach the science only through Seed streams (the public simulate
    # functions may still accept a plain integer seed for direct use)
    for f in [*folder.glob("experiments/*.py"), folder / "study.py", folder / "common.py"]:
        if not f.is_file():
            continue
        text = f.read_text()
        assert "key_for(" not in text, f"{f.name}: integer key path (use Seed)"
        assert not re.search(r"seed\s*[*+]\s*\d|\d\s*[*+]\s*seed\b", text), f"{f.name}: seed math"
        assert not re.search(r"default_rng\(\s*\[\s*seed", text), f"{f.name}: seed list"


def test_seed_multiplier_docstring_is_scipys_value():
    from theorylab.core.compare import se_multiplier

    assert float(se_multiplier(8)) == pytest.approx(4.53, abs=5e-3)
    assert "4.53" in inspect.getdoc(se_multiplier)
    assert np.isinf(se_multiplier(1))


@pytest.mark.parametrize("sid", REGISTERED)
def test_catalogue_entry_equals_the_study(sid):
    """`theorylab list` prints the catalogue without importing studies: it must not drift."""
    from theorylab.studies import CATALOGUE, REGISTRY

    if not REGISTRY[sid].startswith("theorylab.studies."):
        pytest.skip(f"{sid} is registered from THEORYLAB_STUDIES (listed by import, not catalogue)")
    study = _study(sid)
    assert CATALOGUE[sid] == (study.title, study.paper.arxiv)


def test_list_imports_no_study_and_no_jax():
    import subprocess
    import sys

    code = (
        "import sys; from theorylab.cli import main\n"
        "try: main(['list'])\n"
        "except SystemExit: pass\n"
        "bad = [m for m in sys.modules if m.startswith(('jax', 'torch', 'theorylab.studies.'))]\n"
        "print('IMPORTED', bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "IMPORTED []" in out.stdout, out.stdout[-500:]
    for sid in REGISTERED:
        assert sid in out.stdout
