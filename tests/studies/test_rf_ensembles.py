"""rf_ensembles: theory against closed forms, spec numbers and simulation."""

import numpy as np
import pytest
from scipy.optimize import brentq

from theorylab.core.compare import agreement_ratio
from theorylab.core.errors import ConfigError
from theorylab.core.spectra import power_law_spectrum
from theorylab.core.train import key_for
from theorylab.studies.rf_ensembles import STUDY
from theorylab.studies.rf_ensembles import simulate as sim
from theorylab.studies.rf_ensembles import theory as th


@pytest.fixture(scope="module")
def spec():
    return power_law_spectrum(2000, 1.5, 0.8)


# --------------------------------------------------------------------------
# closed-form limits (acceptance: 1e-8)


def _krr_kappa(eigs, P, ridge):
    """Independent KRR solve: kappa (1 - df1/P) = ridge by Brent."""
    f = lambda k: k * (1 - np.sum(eigs / (eigs + k)) / P) - ridge  # noqa: E731
    k0 = brentq(lambda k: np.sum(eigs / (eigs + k)) - P, 1e-300, 1e3) if P < eigs.size else 0.0
    return brentq(f, max(k0, 1e-300), 10.0, xtol=1e-300, rtol=1e-15)


@pytest.mark.parametrize("P", [50, 300, 5000])
@pytest.mark.parametrize("ridge", [1e-8, 1e-4, 1e-1])
def test_infinite_width_is_kernel_ridge_regression(spec, P, ridge):
    kappa = th.effective_ridge(spec.eigs, P, np.inf, ridge)
    k_ref = _krr_kappa(spec.eigs, P, ridge)
    assert kappa == pytest.approx(k_ref, rel=1e-8)
    # KRR error: (kappa^2 T2 + noise) / (1 - df2/P), evaluated independently
    lam, p = spec.eigs, spec.target_power
    df2 = np.sum(lam**2 / (lam + k_ref) ** 2)
    ref = (k_ref**2 * np.sum(p / (lam + k_ref) ** 2) + 0.1) / (1 - df2 / P)
    for K in (1, 7):
        e = th.ensemble_error(spec.eigs, spec.target_power, P, np.inf, K, ridge, noise=0.1)
        assert e == pytest.approx(ref, rel=1e-8)


@pytest.mark.parametrize("N", [10, 100, 1000])
def test_infinite_data_ridgeless_is_rf_approximation_error(spec, N):
    lam, p = spec.eigs, spec.target_power
    k0 = brentq(lambda k: np.sum(lam / (lam + k)) - N, 1e-300, 10.0, xtol=1e-300, rtol=1e-15)
    assert th.effective_ridge(lam, np.inf, N, 0.0) == pytest.approx(k0, rel=1e-8)
    assert th.ridgeless_kappa(lam, N) == pytest.approx(k0, rel=1e-8)
    e1 = th.ensemble_error(lam, p, np.inf, N, 1, 0.0)
    assert e1 == pytest.approx(k0 * np.sum(p / (lam + k0)), rel=1e-8)
    # and the limit ridge -> 0 is continuous
    e_small = th.ensemble_error(lam, p, np.inf, N, 1, 1e-13)
    assert e_small == pytest.approx(e1, rel=1e-6)


def test_kappa_equation_residual_and_symmetry(spec):
    rng = np.random.default_rng(3)
    P = rng.uniform(5, 3000, 50)
    N = rng.uniform(5, 3000, 50)
    ridge = 10 ** rng.uniform(-10, 0, 50)
    k = th.effective_ridge(spec.eigs, P, N, ridge)
    df1 = np.array([np.sum(spec.eigs / (spec.eigs + x)) for x in k])
    np.testing.assert_allclose(k * (1 - df1 / P) * (1 - df1 / N), ridge, rtol=1e-9)
    assert np.all(df1 < np.minimum(P, N))  # the branch above kappa_0
    np.testing.assert_allclose(th.effective_ridge(spec.eigs, N, P, ridge), k, rtol=1e-12)


def test_both_infinite_and_large_counts(spec):
    assert th.effective_ridge(spec.eigs, np.inf, np.inf, 0.3) == pytest.approx(0.3)
    # min(N, P) >= D: ridgeless kappa is 0 and the ridge is barely renormalised
    assert th.ridgeless_kappa(spec.eigs, 5000) == 0.0


def test_bias_variance_structure(spec):
    t = th.ensemble_terms(spec.eigs, spec.target_power, 200, 64, np.array([1, 4, 1e9]), 1e-4, 0.2)
    np.testing.assert_allclose(t.error, t.bias + t.variance / np.array([1, 4, 1e9]))
    assert np.all(t.variance > 0)
    assert t.error[-1] == pytest.approx(t.bias[-1], rel=1e-8)
    # N = P ridgeless: the single model diverges, reported as inf, not NaN
    e = th.ensemble_error(spec.eigs, spec.target_power, 100, 100, 1, 0.0)
    assert np.isinf(e)


# --------------------------------------------------------------------------
# numbers measured independently for the spec (section 5.3)


def test_spec_no_free_lunch_numbers():
    sp = power_law_spectrum(50_000, 1.5, 0.8)
    K = np.array([1, 2, 5, 10])
    e, _ = th.optimal_error(sp.eigs, sp.target_power, 100, 1000 / K, K)
    np.testing.assert_allclose(e, [7.86e-4, 8.59e-4, 1.088e-3, 1.445e-3], rtol=2e-3)
    e, _ = th.optimal_error(sp.eigs, sp.target_power, 100, 1e4 / K, K)
    np.testing.assert_allclose(e, [2.50e-4, 2.50e-4, 2.52e-4, 2.55e-4], rtol=5e-3)
    e, _ = th.optimal_error(sp.eigs, sp.target_power, 100, 1e4 / K, K, noise=0.1)
    np.testing.assert_allclose(e, 0.112183, rtol=2e-5)


def test_spec_monotonicity_numbers():
    sp = power_law_spectrum(20_000, 1.5, 0.8)
    grid = np.array([10, 30, 100, 300, 1000])
    eN, _ = th.optimal_error(sp.eigs, sp.target_power, 100, grid, 2, noise=0.1)
    eP, _ = th.optimal_error(sp.eigs, sp.target_power, grid, 100, 2, noise=0.1)
    np.testing.assert_allclose(eN, [0.1865, 0.1316, 0.1171, 0.1137, 0.1126], atol=6e-5)
    np.testing.assert_allclose(eP, [0.1837, 0.1367, 0.1171, 0.1096, 0.1058], atol=6e-5)


def test_optimal_error_is_the_minimum(spec):
    ridges = np.logspace(-12, 1, 400)
    for P, N, K, noise in [(100, 50, 3, 0.0), (300, 1000, 1, 0.5), (80, 80, 2, 0.1)]:
        e_opt, r_opt = th.optimal_error(spec.eigs, spec.target_power, P, N, K, noise)
        grid = th.ensemble_error(spec.eigs, spec.target_power, P, N, K, ridges, noise)
        assert e_opt <= grid.min() * (1 + 1e-9)
        assert e_opt >= grid.min() * (1 - 1e-2)
        again = th.ensemble_error(spec.eigs, spec.target_power, P, N, K, r_opt, noise)
        assert again == pytest.approx(e_opt, rel=1e-6)


def test_no_free_lunch_on_random_tasks():
    """E*_K increases with K at fixed M = K N for random (alpha, r, noise, P, M)."""
    rng = np.random.default_rng(11)
    K = np.array([1.0, 2.0, 4.0, 8.0])
    for _ in range(6):
        alpha, r = rng.uniform(1.1, 3.0), rng.uniform(0.2, 1.5)
        sp = power_law_spectrum(10_000, alpha, r)
        P, M = rng.uniform(30, 400), rng.uniform(64, 1500)
        e, _ = th.optimal_error(sp.eigs, sp.target_power, P, M / K, K, rng.choice([0.0, 0.3]))
        assert np.all(np.diff(e) > 0), (alpha, r, P, M, e)


# --------------------------------------------------------------------------
# scaling exponents


def test_scaling_exponent_closed_form():
    ell = np.linspace(0, 1, 11)
    np.testing.assert_allclose(th.scaling_exponent(1.5, 0.4, ell), 1.2 * ell)
    np.testing.assert_allclose(
        th.scaling_exponent(1.5, 0.8, ell), np.minimum(2.4 * ell, 1 + 0.5 * ell)
    )
    np.testing.assert_allclose(
        th.scaling_exponent(1.5, 1.2, ell), np.minimum(3 * ell, 1 + 0.5 * ell)
    )
    assert th.scaling_crossover(1.5, 0.8) == pytest.approx(1 / 1.9)
    assert th.scaling_crossover(1.5, 1.2) == pytest.approx(0.4)
    # the best growth exponent is ell = 1 (single model): s(1) = alpha min(2r, 1)
    assert th.scaling_exponent(2.0, 0.3, 1.0) == pytest.approx(1.2)
    with pytest.raises(ConfigError):
        th.scaling_exponent(1.5, 0.8, 1.5)


def test_theory_exponents_approach_closed_form():
    """Fitted P = inf exponents with N in [100, 1000] (V4 with a 5e4-mode spectrum)."""
    for r, ell in [(0.8, 1.0), (1.2, 0.6), (0.4, 0.4)]:
        sp = power_law_spectrum(50_000, 1.5, r)
        M = np.array([100.0, 1000.0]) ** (1 / ell)
        s = th.scaling_slope(sp.eigs, sp.target_power, M, [ell])[0]
        assert s == pytest.approx(th.scaling_exponent(1.5, r, ell), abs=0.08)


# --------------------------------------------------------------------------
# theory vs simulation at random points (acceptance: 3 SE + 5 % for N >= 64)


def test_theory_matches_simulation_at_random_points():
    """Points drawn from alpha in [1.2, 2], r in [0.3, 1.2], P in [100, 300],
    N in [64, 256], K in {1, 2, 4}, per-sample ridge in [1e-6, 1e-1], noise in {0, 0.2}."""
    rng = np.random.default_rng(2024)
    seeds = 16
    for i in range(4):
        alpha, r = rng.uniform(1.2, 2.0), rng.uniform(0.3, 1.2)
        P, N = int(rng.integers(100, 301)), int(rng.integers(64, 257))
        K = int(rng.choice([1, 2, 4]))
        noise = float(rng.choice([0.0, 0.2]))
        ridges = 10 ** rng.uniform(-6, -1, 3)
        sp = power_law_spectrum(600, alpha, r)
        errs = np.array(
            [
                sim.linear_errors(
                    key_for(s, 99, i),
                    key_for(s, 98, i),
                    sp.eigs,
                    sp.weights,
                    noise,
                    ridges,
                    P,
                    N,
                    K,
                )
                for s in range(seeds)
            ]
        )
        mean, se = errs.mean(0), errs.std(0, ddof=1) / np.sqrt(seeds)
        theory = th.ensemble_error(sp.eigs, sp.target_power, P, N, K, ridges, noise)
        ratio = agreement_ratio(theory, mean, se, n_se=3, rel=0.05)
        assert np.all(ratio <= 1), (alpha, r, P, N, K, noise, ridges, mean, theory)


def test_simulation_ridge_convention_matches_direct_solve():
    """The simulation's per-member ridge equals (psi^T psi + lambda-tilde P N)^-1 psi^T y."""
    import jax
    import jax.numpy as jnp

    from theorylab.core.spectra import gaussian_data

    sp = power_law_spectrum(50, 1.5, 0.8)
    P, N, ridge = 30, 20, 1e-2
    k_data, k_proj = key_for(0, 5), key_for(1, 5)
    err = sim.linear_errors(k_data, k_proj, sp.eigs, sp.weights, 0.0, np.array([ridge]), P, N, 1)
    err = err[0]
    with jax.enable_x64(True):
        X, y = gaussian_data(k_data, P, jnp.asarray(sp.eigs), jnp.asarray(sp.weights), 0.0)
        F = jax.random.normal(k_proj, (1, N, 50), dtype=jnp.float64)[0]
    X, y, F = map(np.asarray, (X, y, F))
    psi = X @ F.T
    a = np.linalg.solve(psi.T @ psi + ridge * P * N * np.eye(N), psi.T @ y)
    beta = F.T @ a
    assert err == pytest.approx(np.sum(sp.eigs * (beta - sp.weights) ** 2), rel=1e-8)


# --------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"eigs": [1.0, -1.0]}, "eigs"),
        ({"eigs": [1.0, np.nan]}, "eigs"),
        ({"eigs": [1.0, np.inf]}, "eigs"),
        ({"P": 0}, "P"),
        ({"N": -5}, "N"),
        ({"ridge": -1e-3}, "ridge"),
        ({"K": 0.5}, "K"),
        ({"target_power": [1.0]}, "target_power"),
        ({"noise": -0.1}, "noise"),
    ],
)
def test_bad_arguments_raise_config_error_naming_them(kwargs, name):
    args = dict(eigs=[1.0, 0.5], target_power=[0.5, 0.5], P=10, N=10, K=1, ridge=1e-3, noise=0.0)
    args.update(kwargs)
    with pytest.raises(ConfigError) as info:
        th.ensemble_error(**args)
    assert info.value.field == name


def test_config_cross_field_rules():
    cfg = STUDY.default_config()
    cfg.validate()
    with pytest.raises(ConfigError, match="ks"):
        cfg.with_overrides({"ridge_curve.ks": "1,3"})
    with pytest.raises(ConfigError, match=r"exponent\.N_max"):
        cfg.with_overrides({"exponent.N_max": "50000"})
    with pytest.raises(ConfigError, match=r"scaling\.ells"):
        cfg.with_overrides({"scaling.ells": "0.5,1.5"})


# --------------------------------------------------------------------------
# the study in the experiment form

BASELINE_CHECKS = [
    "V1_error_vs_ridge_K1",
    "V1_error_vs_ridge_K4",
    "V1_tuned_ridge_error",
    "V2_no_free_lunch_simulation",
    "V2_no_free_lunch_simulation_steps",
    "V2_untuned_ridge_ensembles_can_win",
    "V2_no_free_lunch_theory",
    "V2_more_is_better_N_and_P",
    "V3_overparameterised_M_only",
    "V3_excess_falls_as_1_over_M",
    "V4_scaling_exponent_closed_form",
    "V5_simulated_exponent",
    "V6_digits_tuned_error",
    "V6_digits_no_free_lunch",
]


def test_declared_checks_are_the_fixed_names():
    names = STUDY.check_names()
    assert sorted(names) == sorted([*BASELINE_CHECKS, "V1_error_vs_ridge_all_K"])
    assert STUDY.check_names("scaling") == ["V5_simulated_exponent"]
    # the names do not follow the config: the full preset declares the same ones
    assert [c for e in STUDY.experiments for c in e.check_names] == names
    cfg = STUDY.preset("full").with_overrides({"scaling.Ms": "32,64,128"})
    assert cfg.get("scaling.Ms") == (32, 64, 128)


def test_theory_only_experiments_run_with_their_declared_checks(tmp_path):
    import theorylab

    res = theorylab.run(
        "rf_ensembles",
        only="overparam,no_free_lunch",
        overrides={"no_free_lunch.D": 2000, "no_free_lunch.draws": 2, "overparam.D": 2000},
        seeds=1,
        out=tmp_path,
    )
    assert [c.name for c in res.checks] == STUDY.check_names("no_free_lunch,overparam")
    assert set(res.theory.experiment) == {"no_free_lunch", "overparam"}


def test_check_on_an_absent_K_is_reported_not_dropped():
    """With K = 4 not simulated, V1_error_vs_ridge_K4 is not evaluable, not missing."""
    import pandas as pd

    from theorylab.core.checks import evaluate_checks

    exp = STUDY.experiment("ridge_curve")
    p = STUDY.default_config().with_overrides({"ridge_curve.ks": "1,16"})["ridge_curve"]
    theory = exp.run_theory(p)
    part = theory[theory.part == "sim"]
    sims = pd.concat(
        [part.assign(seed=s, error=part.error * (1 + 0.01 * s)) for s in range(3)],
        ignore_index=True,
    )[["seed", "K", "N", "M", "P", "ridge", "error"]]
    checks = {c.name: c for c in evaluate_checks(exp.checks, p, theory, sims)}
    assert list(checks) == exp.check_names
    assert not checks["V1_error_vs_ridge_K4"].passed
    assert "not evaluated" in checks["V1_error_vs_ridge_K4"].detail
    assert checks["V1_error_vs_ridge_K1"].passed


@pytest.mark.parametrize("seed", range(3))
def test_broadcast_grid_equals_the_old_implementation(seed):
    """The fused, deduplicated solve equals the old per-point one (tests/helpers) at
    random grids of ridge x K x P, with N tied to K (M = K N) or fixed."""
    import deteq_reference as ref

    rng = np.random.default_rng(seed)
    sp = power_law_spectrum(int(rng.integers(300, 3000)), rng.uniform(1.1, 2.0), 0.8)
    ridges = np.sort(10 ** rng.uniform(-8, 0, 9))[:, None, None]
    K = rng.choice([1, 2, 4, 8, 16, 32], 4, replace=False)[None, :, None].astype(float)
    P = rng.uniform(50, 2 * sp.eigs.size, 3)[None, None, :]
    noise = rng.uniform(0, 0.1)
    for N in (256.0 / K, float(rng.integers(20, 500))):
        old = ref.ensemble_terms(sp.eigs, sp.target_power, P, N, K, ridges, noise)
        new = th.ensemble_terms(sp.eigs, sp.target_power, P, N, K, ridges, noise)
        assert new.error.shape == old.error.shape == (9, 4, 3)
        np.testing.assert_allclose(new.kappa, old.kappa, rtol=1e-10)
        np.testing.assert_allclose(new.error, old.error, rtol=1e-10)
        np.testing.assert_allclose(new.bias, old.bias, rtol=1e-10)
        # the variance E_1 - E_inf is a difference: it carries E_1's rounding
        np.testing.assert_allclose(new.variance, old.variance, rtol=0, atol=1e-10 * old.error.max())
