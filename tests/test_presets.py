"""Every registered study's quick preset: exit 0, enough checks, all passed.

How long a preset takes is measured by the benchmarks, never asserted here.
"""

import json

import pytest

import theorylab

# minimum (agreement, claim) checks per study, from each study's issue
MIN_CHECKS = {
    "rf_ensembles": (3, 2),
    "rnn_integration": (5, 3),
    "sgd_linear": (5, 2),
    "deep_linear": (4, 4),
    "diffusion": (5, 3),
    "precision_scaling": (4, 3),
    "overtraining": (3, 4),
    "equality_reasoning": (4, 5),
    "adaptive_kernels": (4, 3),
}


def test_reproduce_quick_exits_0(quick_report):
    assert quick_report["exit_code"] == 0, quick_report["output"]
    assert (quick_report["out"] / "index.html").is_file()


@pytest.mark.parametrize("study", theorylab.list_studies())
def test_quick_preset(quick_report, study):
    s = json.loads((quick_report["out"] / study / "summary.json").read_text())
    assert s["preset"] == "quick"
    kinds = [c["kind"] for c in s["checks"]]
    n_agree, n_claim = MIN_CHECKS.get(study, (1, 1))
    assert kinds.count("agreement") >= n_agree and kinds.count("claim") >= n_claim
    failed = [c["name"] for c in s["checks"] if not c["passed"]]
    assert not failed and s["passed"] is True, failed
    assert len(s["figures"]) >= 3
    for f in s["figures"]:
        assert (quick_report["out"] / study / f).stat().st_size > 10_000
