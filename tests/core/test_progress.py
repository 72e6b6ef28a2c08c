"""Progress: timestamped lines off a terminal, a heartbeat during long tasks, silence on request."""

from __future__ import annotations

import io
import re
import time

import pytest
from typer.testing import CliRunner

import theorylab
from theorylab.cli import app
from theorylab.core.progress import Progress, resolve_mode

LINE = re.compile(r"^\[\d\d:\d\d:\d\d\] (?P<label>[^:]+): (?P<text>.*) \(elapsed [^)]*\)$")


def _lines(text: str) -> list[re.Match]:
    return [m for ln in text.splitlines() if (m := LINE.match(ln))]


def test_lines_mode_reports_stages_tasks_and_eta():
    buf = io.StringIO()
    with Progress("demo (study 2/3)", "lines", stream=buf, heartbeat_s=60) as p:
        p.stage("theory of scaling")
        p.advance(0, 4)
        time.sleep(0.01)
        p.advance(4, 4)
    found = _lines(buf.getvalue())
    assert [m["label"] for m in found] == ["demo (study 2/3)"] * 2
    assert found[0]["text"] == "theory of scaling"
    assert found[1]["text"] == "tasks 4/4"  # the last task is always reported, without an ETA


def test_task_lines_carry_an_eta_and_are_rate_limited():
    buf = io.StringIO()
    with Progress("demo", "lines", stream=buf, heartbeat_s=60) as p:
        p.advance(0, 10)
        p._last -= 5.0  # pretend the last line was 5 s ago
        p.advance(1, 10)  # printed: 5 s since the last line
        p.advance(2, 10)  # suppressed: < 2 s since the last line
    texts = [m["text"] for m in _lines(buf.getvalue())]
    assert len(texts) == 1 and texts[0].startswith("tasks 1/10, ETA ")


def test_heartbeat_breaks_every_silence():
    buf = io.StringIO()
    with Progress("demo", "lines", stream=buf, heartbeat_s=0.2) as p:
        p.stage("simulating")
        p.advance(0, 3)
        time.sleep(0.9)
    texts = [m["text"] for m in _lines(buf.getvalue())]
    beats = [t for t in texts if t.startswith("still working: simulating, 0/3 tasks done")]
    assert 2 <= len(beats) <= 5, texts


def test_off_and_bar_modes_print_no_lines():
    for mode in ("off", False):
        buf = io.StringIO()
        with Progress("demo", mode, stream=buf, heartbeat_s=0.05) as p:
            p.stage("x")
            p.advance(1, 2)
            time.sleep(0.2)
        assert buf.getvalue() == ""


def test_resolve_mode():
    assert resolve_mode(False) == "off"
    assert resolve_mode("lines") == "lines"
    assert resolve_mode(None) == "lines"  # pytest's captured stderr is not a terminal
    with pytest.raises(ValueError, match="progress='loud' is invalid"):
        resolve_mode("loud")


def test_cli_run_logs_progress_lines_and_quiet_silences_them(tmp_path, toy_registered):
    r = CliRunner().invoke(app, ["run", "toy", "--out", str(tmp_path / "a")])
    texts = [m["text"] for m in _lines(r.output)]
    assert r.exit_code == 0 and "simulating 5 seed(s)" in texts
    assert any(t.startswith("theory of ") for t in texts)
    assert texts[-1] == "checks, figures and tables"
    r = CliRunner().invoke(app, ["run", "toy", "--quiet", "--out", str(tmp_path / "b")])
    assert r.exit_code == 0 and not _lines(r.output)


def test_cli_reproduce_says_study_k_of_n(tmp_path, toy_registered):
    r = CliRunner().invoke(app, ["reproduce", "--only", "toy", "--out", str(tmp_path)])
    assert r.exit_code == 0
    assert {m["label"] for m in _lines(r.output)} == {"toy (study 1/1)"}


def test_python_api_takes_progress_false(tmp_path, toy_registered, capsys):
    theorylab.run("toy", out=tmp_path / "a", progress=False)
    assert not _lines(capsys.readouterr().err)
    theorylab.run("toy", out=tmp_path / "b")
    assert _lines(capsys.readouterr().err)
