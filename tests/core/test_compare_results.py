import json
import math

import numpy as np
import pandas as pd
import pytest

from theorylab.core.compare import (
    agreement_ratio,
    fit_loglog_slope,
    max_relative_error,
    mean_se,
    r_squared,
    relative_l2,
)
from theorylab.core.results import (
    Check,
    atomic_write_json,
    atomic_write_parquet,
    read_summary,
    verify_run_dir,
)


def test_mean_se():
    df = pd.DataFrame(
        {"seed": [0, 1, 2, 0, 1, 2], "g": [1, 1, 1, 2, 2, 2], "v": [1, 2, 3, 5, 5, 5]}
    )
    st = mean_se(df, ["g"], "v").set_index("g")
    assert st.loc[1, "mean"] == 2 and st.loc[1, "se"] == pytest.approx(1 / np.sqrt(3))
    assert st.loc[2, "se"] == 0 and st.loc[1, "n"] == 3


def test_metrics():
    assert relative_l2([1, 1], [1, 2]) == pytest.approx(1 / np.sqrt(5))
    assert max_relative_error([1.1, 2.0], [1.0, 2.0]) == pytest.approx(0.1)
    assert r_squared([1, 2, 3], [1, 2, 3]) == 1.0
    r = agreement_ratio([1.0, 1.0], [1.2, 1.0], [0.1, 0.0], n_se=2, rel=0.0)
    np.testing.assert_allclose(r, [1.0, 0.0])


def test_fit_loglog_slope_exact_power_law():
    x = np.logspace(0, 3, 10)
    fit = fit_loglog_slope(x, 3.0 * x**-1.7)
    assert fit.slope == pytest.approx(-1.7, abs=1e-12)
    assert math.exp(fit.intercept) == pytest.approx(3.0)
    assert fit.r2 == pytest.approx(1.0)


def test_check_evaluate():
    assert Check.evaluate("a", "claim", 0.5, 1.0, "<").passed
    assert not Check.evaluate("a", "claim", 1.0, 1.0, "<").passed
    assert Check.evaluate("a", "claim", 1.0, 1.0, "<=").passed
    assert not Check.evaluate("a", "agreement", float("nan"), 1.0, "<=").passed
    assert not Check.evaluate("a", "agreement", float("nan"), 1.0, ">").passed
    with pytest.raises(ValueError):
        Check.evaluate("a", "claim", 1.0, 1.0, "==")
    with pytest.raises(ValueError):
        Check.evaluate("a", "other", 1.0, 1.0, "<")
    d = Check.evaluate("a", "claim", float("inf"), 1.0, ">").to_dict()
    json.dumps(d)  # JSON-safe
    assert d["passed"] is True


def test_atomic_writes_leave_no_temporaries(tmp_path):
    atomic_write_json(tmp_path / "s.json", {"x": np.float64(1.5), "a": np.arange(3)})
    atomic_write_parquet(tmp_path / "t.parquet", pd.DataFrame({"a": [1, 2]}))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json", "t.parquet"]
    assert json.loads((tmp_path / "s.json").read_text()) == {"x": 1.5, "a": [0, 1, 2]}


def test_verify_run_dir_detects_corruption(tmp_path):
    atomic_write_parquet(tmp_path / "theory.parquet", pd.DataFrame({"a": [1]}))
    atomic_write_parquet(tmp_path / "simulation.parquet", pd.DataFrame({"a": [1]}))
    atomic_write_json(tmp_path / "summary.json", {"study": "x", "checks": [], "figures": []})
    assert verify_run_dir(tmp_path)
    assert read_summary(tmp_path)["study"] == "x"
    (tmp_path / "simulation.parquet").write_bytes(b"garbage")
    assert not verify_run_dir(tmp_path)
    atomic_write_parquet(tmp_path / "simulation.parquet", pd.DataFrame({"a": [1]}))
    (tmp_path / "summary.json").write_text("{truncated")
    assert not verify_run_dir(tmp_path)


def test_se_multiplier_student_t():
    from scipy import stats

    from theorylab.core.compare import se_multiplier

    # the interval +-c SE over 8 samples has the coverage of +-3 normal sigmas (99.73 %)
    c = float(se_multiplier(8, 3.0))
    coverage = stats.t.cdf(c, 7) - stats.t.cdf(-c, 7)
    assert coverage == pytest.approx(stats.norm.cdf(3) - stats.norm.cdf(-3), abs=1e-12)
    assert 4.0 < c < 5.0
    assert float(se_multiplier(10**6, 3.0)) == pytest.approx(3.0, abs=1e-3)
    assert np.isinf(se_multiplier(1, 3.0))
    r = agreement_ratio([1.0], [1.3], [0.1], n_se=3, n=[8])
    assert r[0] == pytest.approx(0.3 / (0.1 * float(se_multiplier(8, 3.0))))
