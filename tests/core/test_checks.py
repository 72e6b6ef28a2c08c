"""Declared checks against their definitions: merging, Student-t SE, filters, the worst point."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from theorylab.core.checks import Agreement, Claim, NotEvaluable, Paired, evaluate_checks


def _tables(offset=0.0, seeds=4):
    rng = np.random.default_rng(0)
    ks = [1, 2, 4]
    theory = pd.DataFrame({"K": ks, "ridge": 0.1, "error": [1.0, 2.0, 3.0], "part": "sim"})
    rows = []
    for s in range(seeds):
        for k, e in zip(ks, theory.error, strict=True):
            rows.append({"seed": s, "K": k, "ridge": 0.1, "error": e + offset + rng.normal(0, 0.1)})
    return theory, pd.DataFrame(rows)


def test_agreement_is_the_worst_student_t_ratio():
    theory, sims = _tables(offset=0.05)
    c = Agreement("a", "error", on=("K", "ridge"), rel=0.01).evaluate(None, theory, sims)
    g = sims.groupby("K")["error"]
    mean, se = g.mean().to_numpy(), (g.std(ddof=1) / 2).to_numpy()
    t = stats.t.ppf(stats.norm.cdf(3.0), 3)
    expect = np.abs(mean - theory.error.to_numpy()) / (t * se + 0.01 * theory.error.to_numpy())
    assert c.value == pytest.approx(expect.max(), rel=1e-12)
    assert c.passed == (expect.max() <= 1) and c.kind == "agreement" and c.threshold == 1.0
    worst = int(theory.K[np.argmax(expect)])
    assert f"worst at K={worst}, ridge=0.1" in c.detail and "np." not in c.detail
    i = int(np.argmax(expect))  # the compared quantities at the worst point
    assert (c.theory, c.simulation) == (theory.error[i], pytest.approx(mean[i], rel=1e-12))
    assert c.se == pytest.approx(se[i], rel=1e-12)


def test_agreement_filters_and_selection():
    theory, sims = _tables(offset=0.0)
    sims.loc[sims.K == 4, "error"] += 10.0  # K = 4 disagrees badly
    full = Agreement("a", "error", on=("K",)).evaluate(None, theory, sims)
    assert not full.passed
    sel = Agreement("a", "error", on=("K",), select={"K": 2}).evaluate(None, theory, sims)
    where = Agreement("a", "error", on=("K",), where=lambda m, p: m.K < p).evaluate(4, theory, sims)
    assert sel.passed and where.passed and "1 points" in sel.detail and "2 points" in where.detail


def test_paired_differences_over_seeds():
    sims = pd.DataFrame({"seed": range(5), "net": [1.0, 2.0, 3.0, 4.0, 5.5], "exact": 1.0})
    sims["exact"] = sims["net"] - np.array([0.1, -0.1, 0.2, 0.0, 0.05])
    c = Paired("p", "net", "exact").evaluate(None, pd.DataFrame(), sims)
    d = np.array([0.1, -0.1, 0.2, 0.0, 0.05])
    t = stats.t.ppf(stats.norm.cdf(3.0), 4)
    assert c.value == pytest.approx(abs(d.mean()) / (t * d.std(ddof=1) / np.sqrt(5)), rel=1e-12)
    # reference = mean of the reference column, simulation = mean of the other one
    assert c.theory == pytest.approx(sims.exact.mean(), rel=1e-12)
    assert c.simulation == pytest.approx(sims.net.mean(), rel=1e-12)


def test_claims_and_unevaluable_checks_never_vanish():
    theory, sims = _tables()

    def raises(p, th, sm):
        raise NotEvaluable("the theory predicts no inversion here")

    checks = (
        Claim("c1", lambda p, th, sm: (2.0, "two"), ">", lambda p: p, detail="a value"),
        Claim("c2", raises, ">", 1.0),
        Claim("c3", lambda p, th, sm: 1 / 0, "<", 1.0),
        Agreement("a1", "error", on=("K",), select={"K": 99}),
        Agreement("a2", "nope", on=("K",)),
        Agreement("a3", "error", on=("K",)),
    )
    out = evaluate_checks(checks, 1.0, theory, sims.query("seed == 0"), "exp")
    assert [c.name for c in out] == ["c1", "c2", "c3", "a1", "a2", "a3"]
    assert out[0].passed and out[0].detail == "a value; two" and out[0].experiment == "exp"
    for c in out[1:]:
        assert not c.passed and np.isnan(c.value) and c.detail.startswith("not evaluated: ")
    assert "no inversion" in out[1].detail and "ZeroDivisionError" in out[2].detail
    assert "at least 2 seeds" in out[5].detail
