"""deep_linear: the DMFT against the spec's numbers, exact special cases and simulation."""

import jax
import numpy as np
import pandas as pd
import pytest

from theorylab.core.checks import evaluate_checks
from theorylab.core.compare import agreement_ratio
from theorylab.core.errors import ConfigError, DivergenceError, SolverError
from theorylab.studies.deep_linear import STUDY
from theorylab.studies.deep_linear import simulate as sim
from theorylab.studies.deep_linear import theory as th
from theorylab.studies.deep_linear.experiments import lr_sweep
from theorylab.studies.deep_linear.theory import power_law_task

# the solver as it was before the chunk-rows rewrite (tests/helpers, on sys.path via conftest)
import deep_linear_dmft_reference as reference  # isort: skip


def E(*args, **kw):
    return th.dmft(*args, **kw).test_excess.to_numpy()


# --------------------------------------------------------------------------
# numbers measured independently for the spec (sections 4.2, 4.3)


def test_spec_dmft_numbers():
    np.testing.assert_allclose(
        E(1, 1.0, 2.0, 1.0, 0.2, 40)[[5, 10, 20, 39]], [0.3098, 0.1418, 0.0438, 0.0077], atol=6e-5
    )
    np.testing.assert_allclose(E(3, 2.0, 4.0, 0.5, 0.1, 40)[[10, 39]], [0.1248, 0.0022], atol=6e-5)
    np.testing.assert_allclose(
        E(2, 0.5, 1.5, 1.0, 0.05, 21, noise=0.09)[[10, 20]], [0.768, 0.595], atol=6e-4
    )
    np.testing.assert_allclose(E(2, 0.5, 4.0, 1.0, 0.1, 25)[[5, 24]], [0.599, 0.129], atol=6e-4)
    np.testing.assert_allclose(
        E(2, 1.0, 0.5, 1.0, 0.1, 30, noise=0.04, online=True)[[10, 29]], [0.209, 0.027], atol=6e-4
    )
    np.testing.assert_allclose(
        E(4, 1.0, 2.0, 1.0, 0.05, 11, residual=True)[[6, 10]], [0.5776, 0.4034], atol=6e-5
    )


def test_spec_overfitting_table():
    late = {a: E(1, 1.0, a, 1.0, 0.2, 81, noise=0.25) for a in (0.5, 0.8, 1.0, 1.25, 2.0, 4.0)}
    expect = {0.5: 0.97, 0.8: 1.02, 1.0: 0.95, 1.25: 0.65, 2.0: 0.25, 4.0: 0.083}
    for a, v in expect.items():
        assert late[a][80] == pytest.approx(v, abs=6e-3)
    assert late[0.8].min() == pytest.approx(0.78, abs=6e-3) and late[0.8].argmin() == 8
    assert late[1.0].min() == pytest.approx(0.61, abs=6e-3) and late[1.0].argmin() == 12


def test_spec_lr_sweep_numbers():
    mup = [E(2, nu, 2.0, 1.0, 0.1, 20, online=True)[-1] for nu in (0.5, 1, 2, 4)]
    np.testing.assert_allclose(mup, [0.125, 8.8e-3, 5.2e-4, 4.1e-5], rtol=0.02)

    def largest_stable(nu):
        best = 0.0
        for eta in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6):
            try:
                E(2, nu, 2.0, float(th.ntk_gamma0(nu)), eta, 20, online=True)
                best = eta
            except DivergenceError:
                break
        return best

    # The spec's 0.4 and 0.5 at nu = 2 and 4 came from the full-window fixed point, whose
    # iteration blew up at eta0 = 0.5 (nu = 2) and 0.6 (nu = 4) although the causal solution
    # is finite there (and a D = 200 network at nu = 4, eta0 = 0.6 stays finite and follows it,
    # docs/deep_linear.md, "Solver").  The largest stable rate still grows with the width.
    assert [largest_stable(nu) for nu in (0.5, 1, 2, 4)] == [0.2, 0.3, 0.5, 0.6]


# --------------------------------------------------------------------------
# the solver against the previous implementation (tests/helpers/deep_linear_dmft_reference.py)


def _random_model(rng, i: int) -> dict:
    """A stable point: plain, noisy, online, residual or structured by turns."""
    kw = dict(
        depth=int(rng.integers(1, 5)),
        nu=float(rng.uniform(0.5, 3.0)),
        alpha=float(rng.uniform(0.7, 5.0)),
        gamma0=float(rng.uniform(0.5, 1.5)),
        eta0=float(rng.uniform(0.02, 0.08)),
        steps=int(rng.integers(3, 28)),
    )
    kind = i % 5
    if kind == 1:
        kw["noise"] = float(rng.uniform(0.0, 0.3))
    elif kind == 2:
        kw.update(online=True, noise=float(rng.uniform(0.0, 0.1)))
    elif kind == 3:
        kw.update(residual=True, depth=int(rng.integers(1, 4)), beta0=float(rng.uniform(0, 1.5)))
    elif kind == 4:
        x = np.arange(60) / 60
        lam = ((x + 0.05) / 0.05) ** -rng.uniform(0.3, 0.9)
        kw["spectrum"] = (lam, lam * ((x + 0.05) / 0.05) ** -0.2)
        kw["bins"] = int(rng.integers(4, 20))
    return kw


def test_dmft_equals_the_previous_solver_at_random_points():
    """Every order parameter equals the full-window fixed point's to 1e-10 (absolute,
    on values of order 1) at 15 random (L, T, nu, alpha, gamma0, eta0) points
    (eta0 <= 0.08: stable for both; the old iteration can blow up near the stability edge)."""
    rng = np.random.default_rng(13)
    for i in range(15):
        kw = _random_model(rng, i)
        new, st = th.dmft(**kw, return_state=True)
        old, ref = reference.dmft(**kw, return_state=True)
        for col in ("test_excess", "train_mse"):
            np.testing.assert_allclose(new[col], old[col], rtol=0, atol=1e-10, err_msg=str(kw))
        for key in ("C_e", "C_delta", "C_r", "R_delta"):
            np.testing.assert_allclose(getattr(st, key), getattr(ref, key), atol=1e-10)
        for key in ("C_h", "C_g", "R_h", "R_g"):
            for a, b in zip(getattr(st, key), getattr(ref, key), strict=True):
                np.testing.assert_allclose(a, b, atol=1e-10, err_msg=f"{key} {kw}")
        assert st.residual <= 1e-10 * max(1.0, np.abs(st.C_e).max())


def test_one_step_chunks_equal_the_default_chunks():
    """chunk = 1 (pure time stepping) and chunk = 6 solve the same causal equations."""
    a = th.dmft(3, 1.3, 2.5, 0.8, 0.1, 30, noise=0.1, chunk=1)
    b = th.dmft(3, 1.3, 2.5, 0.8, 0.1, 30, noise=0.1, chunk=7)
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=0, atol=1e-12)


# --------------------------------------------------------------------------
# exact special cases (V1)


@pytest.mark.parametrize(("gamma0", "nu"), [(1.0, 1.0), (0.5, 2.0), (2.0, 0.25)])
def test_initial_error(gamma0, nu):
    assert E(2, nu, 2.0, gamma0, 0.1, 1)[0] == pytest.approx(1 + 1 / (gamma0**2 * nu), rel=1e-12)
    e = E(3, nu, 2.0, gamma0, 0.1, 1, residual=True, beta0=0.7)[0]
    assert e == pytest.approx(1 + (1 + 0.49 / 3) ** 3 / (gamma0**2 * nu), rel=1e-12)


def test_residual_without_branches_is_the_two_layer_net():
    a = E(3, 1.5, 2.0, 1.0, 0.2, 20, residual=True, beta0=1e-9)
    b = E(1, 1.5, 2.0, 1.0, 0.2, 20)
    np.testing.assert_allclose(a, b, atol=1e-8)


def test_structured_with_flat_spectrum_is_isotropic():
    lam = np.ones(30)
    np.testing.assert_allclose(
        E(2, 1.0, 2.0, 1.0, 0.2, 15, spectrum=(lam, lam)), E(2, 1.0, 2.0, 1.0, 0.2, 15), atol=1e-12
    )


def test_infinite_data_limit():
    _, st = th.dmft(2, 1.0, 1e8, 1.0, 0.2, 12, return_state=True)
    np.testing.assert_allclose(st.R_delta, np.eye(12), atol=1e-6)
    np.testing.assert_allclose(st.C_r, st.C_e, atol=1e-6)


@pytest.mark.parametrize("L", [1, 2, 3])
def test_lazy_infinite_width_limit(L):
    """gamma0 -> 0, nu -> inf, population gradient: e(t) = (1 - (L+1) eta0)^t e(0)."""
    e = E(L, 1e9, 1e9, 1e-3, 0.1, 8, online=True)
    np.testing.assert_allclose(e, (1 - (L + 1) * 0.1) ** (2 * np.arange(8)), rtol=2e-3)


def test_structured_binning_is_accurate():
    x = np.arange(800) / 800
    lam = ((x + 0.02) / 0.02) ** -0.6
    power = lam * ((x + 0.02) / 0.02) ** -0.2
    full = E(2, 1.0, 2.0, 1.0, 0.3, 25, spectrum=(lam, power), bins=None)
    binned = E(2, 1.0, 2.0, 1.0, 0.3, 25, spectrum=(lam, power), bins=48)
    np.testing.assert_allclose(full[[10, 24]], [0.0507, 0.0257], atol=6e-5)  # spec 4.3
    np.testing.assert_allclose(binned, full, rtol=1e-3)


def test_grouping_is_accurate_on_a_steep_spectrum():
    """lambda_k = k^-1.5 (isolated top modes): log-spaced groups match every mode
    to 3e-3 relative (equal-count quantile groups were off by 40 %)."""
    spec = power_law_task(400, 1.5, 0.5)
    full = E(2, 1.0, 2.0, 1.0, 0.3, 25, spectrum=spec, bins=None)
    binned = E(2, 1.0, 2.0, 1.0, 0.3, 25, spectrum=spec)
    np.testing.assert_allclose(binned, full, rtol=3e-3)
    assert full[24] == pytest.approx(0.069, abs=0.01)  # 0.0668 at D = 800


def test_grouping_keeps_repeated_and_top_eigenvalues():
    lam = np.r_[93.0, np.full(99, 0.1)]
    full = E(2, 1.0, 2.0, 1.0, 0.005, 12, spectrum=(lam, lam), bins=None)
    binned = E(2, 1.0, 2.0, 1.0, 0.005, 12, spectrum=(lam, lam), bins=4)
    np.testing.assert_allclose(binned, full, rtol=1e-12)
    modes = th._Modes.from_spectrum(lam, lam, bins=4)
    np.testing.assert_allclose(sorted(modes.lam), [0.1, 93.0])
    np.testing.assert_allclose(sorted(modes.w), [0.01, 0.99])


def test_grouping_reports_the_divergence_of_the_top_mode():
    """lambda_k = 30/k: eta0 = 0.07 is unstable for the top mode (lazy factor
    |1 - 3 eta0 lambda_1| = 5.3), and grouping must not hide it: every mode and
    48 groups diverge at the same step."""
    k = np.arange(1, 401.0)
    lam = 30 / k
    steps = []
    for bins in (None, 48):
        with pytest.raises(DivergenceError) as info:
            th.dmft(2, 1.0, 2.0, 1.0, 0.07, 30, spectrum=(lam, lam), bins=bins)
        steps.append(info.value.step)
    assert steps[0] == steps[1] and 0 < steps[0] < 30


# --------------------------------------------------------------------------
# errors


def test_divergence_is_reported_with_the_step():
    with pytest.raises(DivergenceError) as info:
        th.dmft(4, 1.0, 2.0, 1.0, 0.05, 11, residual=True, branch_scale=1.0)
    assert 0 < info.value.step < 11 and "eta0=0.05" in str(info.value)
    with pytest.raises(DivergenceError):
        th.dmft(2, 1.0, 2.0, 1.0, 2.0, 30)


def test_non_convergence_is_a_solver_error():
    with pytest.raises(SolverError, match="residual"):
        # one sweep (the causal pass) cannot measure its own change
        th.dmft(2, 1.0, 2.0, 1.0, 0.2, 20, max_sweeps=1)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"depth": 0}, "depth"),
        ({"nu": -1.0}, "nu"),
        ({"alpha": 0.0}, "alpha"),
        ({"eta0": np.nan}, "eta0"),
        ({"steps": 0}, "steps"),
        ({"noise": -0.1}, "noise"),
        ({"gamma0": np.inf}, "gamma0"),
        ({"eta0": -0.1}, "eta0"),
        ({"nu": None}, "nu"),
        ({"nu": [1.0, 2.0]}, "nu"),
        ({"depth": 1.5}, "depth"),
        ({"branch_scale": np.nan, "residual": True}, "branch_scale"),
        ({"branch_scale": -1.0, "residual": True}, "branch_scale"),
        ({"beta0": np.nan}, "beta0"),
        ({"spectrum": np.ones(3)}, "spectrum"),
        ({"spectrum": (np.ones(3), np.ones(4))}, "spectrum"),
        ({"spectrum": (-np.ones(3), np.ones(3))}, "spectrum eigs"),
        ({"bins": 0, "spectrum": (np.ones(3), np.ones(3))}, "bins"),
        ({"chunk": 0}, "chunk"),
        ({"max_sweeps": 0}, "max_sweeps"),
        ({"tol": np.nan}, "tol"),
    ],
)
def test_bad_arguments(kwargs, field):
    args = dict(depth=2, nu=1.0, alpha=2.0, gamma0=1.0, eta0=0.1, steps=5)
    args.update(kwargs)
    with pytest.raises(ConfigError) as info:
        th.dmft(**args)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"depth": 0}, "depth"),
        ({"D": 0}, "D"),
        ({"eta0": -0.1}, "eta0"),
        ({"nu": None}, "nu"),
        ({"steps": 0}, "steps"),
        ({"noise": np.nan}, "noise"),
        ({"seeds": []}, "seeds"),
        ({"spectrum": (np.ones(5), np.ones(5))}, "spectrum"),
    ],
)
def test_bad_simulation_arguments(kwargs, field):
    args = dict(seeds=range(2), D=8, nu=1.0, alpha=2.0, depth=2, gamma0=1.0, eta0=0.1, steps=3)
    args.update(kwargs)
    with pytest.raises(ConfigError) as info:
        sim.train_curves(args.pop("seeds"), **args)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("fn", "kwargs", "field"),
    [
        (th.ntk_gamma0, {"gamma_bar": -1.0}, "gamma_bar"),
        (th.ntk_gamma0, {"nu": 0.0}, "nu"),
        (th.mup_gamma0, {"gamma0": np.nan}, "gamma0"),
    ],
)
def test_bad_parameterisation_arguments(fn, kwargs, field):
    args = {"nu": 1.0, **kwargs}
    with pytest.raises(ConfigError) as info:
        fn(**args)
    assert info.value.field == field


def test_parameterisations():
    np.testing.assert_allclose(th.ntk_gamma0([0.25, 1, 4]), [2, 1, 0.5])
    np.testing.assert_allclose(th.mup_gamma0([0.25, 4], 0.7), [0.7, 0.7])
    assert STUDY.default_config().validate()


def test_check_names_are_fixed():
    """The declared checks, the same for every config (the names the study always had)."""
    names = [
        "V2_plain_mlp_test",
        "V2_plain_mlp_train",
        "V3_depth_narrow_width",
        "V4_online_sgd",
        "V5_residual",
        "widths_muP_and_NTK",
        "V1_exact_special_cases",
        "V6_muP_wider_is_better",
        "V6_NTK_stable_lr_grows_with_width",
        "V6_overfitting_peak_near_alpha_1",
        "V6_residual_depth_stable",
        "V6_constant_branch_scale_unstable",
        "V6_rich_acceleration_hard_task",
        "V6_no_acceleration_easy_task",
    ]
    assert STUDY.check_names() == names


# --------------------------------------------------------------------------
# theory vs simulation at random points


def test_dmft_matches_simulation_at_random_points():
    """L in {1, 2}, nu in [1, 2], alpha in [2, 4], gamma0 in [0.7, 1.3], eta0 in [0.05, 0.15],
    sigma^2 in [0, 0.1], D = 300, 8 seeds: t-quantile 3 SE + 3 % at four times."""
    rng = np.random.default_rng(5)
    for i in range(2):
        L = int(rng.integers(1, 3))
        nu, a = rng.uniform(1, 2), rng.uniform(2, 4)
        g0, eta, s2 = rng.uniform(0.7, 1.3), rng.uniform(0.05, 0.15), rng.uniform(0, 0.1)
        theory = E(L, nu, a, g0, eta, 20, noise=s2)
        test, _ = sim.train_curves(
            range(8),
            D=300,
            nu=nu,
            alpha=a,
            depth=L,
            gamma0=g0,
            eta0=eta,
            steps=20,
            noise=s2,
            stream=100 + i,
        )
        ts = [2, 5, 10, 19]
        m, se = test.mean(0)[ts], test.std(0, ddof=1)[ts] / np.sqrt(8)
        assert np.all(agreement_ratio(theory[ts], m, se, 3, 0.03, n=8) <= 1), (L, nu, a, g0, eta)


def test_structured_dmft_matches_simulation():
    """Bounded spectrum (spec 4.3): D = 400, 8 seeds."""
    D = 400
    x = np.arange(D) / D
    lam = ((x + 0.02) / 0.02) ** -0.6
    power = lam * ((x + 0.02) / 0.02) ** -0.2
    theory = E(2, 1.0, 2.0, 1.0, 0.3, 25, spectrum=(lam, power))
    test, _ = sim.train_curves(
        range(8),
        D=D,
        nu=1.0,
        alpha=2.0,
        depth=2,
        gamma0=1.0,
        eta0=0.3,
        steps=25,
        spectrum=(lam, power),
        stream=7,
    )
    ts = [5, 10, 24]
    m, se = test.mean(0)[ts], test.std(0, ddof=1)[ts] / np.sqrt(8)
    # few effective modes: the spec measured ~5 % finite-size bias at D = 200-800
    assert np.all(agreement_ratio(theory[ts], m, se, 3, 0.08, n=8) <= 1)


def test_lazy_population_gd_follows_the_kernel_closed_form():
    lam, power = power_law_task(300, 1.5, 0.5)
    test = sim.population_gd(sim.key_for(0, 1), lam, power, nu=4.0, gamma0=0.02, eta0=0.3, steps=60)
    t = np.arange(60)
    lazy = np.array([np.sum(power * (1 - 0.6 * lam) ** (2 * s)) for s in t]) / 300
    np.testing.assert_allclose(test[5:], lazy[5:], rtol=0.05)


def test_population_gd_equals_the_explicit_weight_updates():
    """The Gram-matrix form of population GD is the same GD as updating W0 and w (NumPy)."""
    D, N, c = 60, 240, 0.3
    lam, power = power_law_task(D, 1.5, 0.5)
    key = sim.key_for(2, 4)
    with jax.enable_x64(True):
        W0, w, z = (np.asarray(a) for a in sim._normals(key, [(N, D), (N,), (D,)]))
    beta_star = np.where(z >= 0, 1.0, -1.0) * np.sqrt(power / lam)
    curves = []
    for gamma0 in (1.0, 0.05):
        kappa, W, v, expect = np.sqrt(D) / (gamma0 * N), W0.copy(), w.copy(), []
        for _ in range(50):
            e = beta_star - kappa * (W.T @ v - W0.T @ w)
            expect.append(np.sum(lam * e**2) / D)
            r = lam * e
            W, v = W + c * gamma0 * np.outer(v, r) / np.sqrt(D), v + c * gamma0 * W @ r / np.sqrt(D)
        curves.append(expect)
    # both gamma0 in one call (the same initial weights, as power_law uses it)
    both = sim.population_gd(key, lam, power, nu=N / D, gamma0=(1.0, 0.05), eta0=c, steps=50)
    np.testing.assert_allclose(both, np.array(curves), rtol=1e-10)


def test_lr_checks_fail_cleanly_when_every_learning_rate_diverges():
    cfg = STUDY.default_config().with_overrides({"lr_sweep.eta0s": (5.0, 6.0)})["lr_sweep"]
    rows = [(par, nu, eta, np.inf) for par in ("muP", "NTK") for nu in cfg.nus for eta in cfg.eta0s]
    lr = pd.DataFrame(rows, columns=["parameterization", "nu", "eta0", "test_excess"])
    mup, ntk = evaluate_checks(lr_sweep.EXPERIMENT.checks, cfg, lr, pd.DataFrame())
    assert not mup.passed and "stable at two widths" in mup.detail
    assert not ntk.passed and ntk.value == 0.0 and "no stable eta0" in ntk.detail
    # a stable grid: eta0 0.2 stable only at nu >= 1, 0.1 everywhere, loss falls with width
    lr.loc[lr.eta0 == 5.0, "test_excess"] = 1.0 / lr.nu
    lr.loc[(lr.eta0 == 6.0) & (lr.nu >= 1), "test_excess"] = 2.0 / lr.nu
    mup, ntk = evaluate_checks(lr_sweep.EXPERIMENT.checks, cfg, lr, pd.DataFrame())
    assert mup.passed and mup.value == 0
    assert ntk.passed and ntk.value == pytest.approx(6.0 / 5.0)
