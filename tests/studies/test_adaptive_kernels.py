"""adaptive_kernels: lazy kernels against Monte Carlo, the deep linear saddle against its
recursions and the issue's number, the two-layer saddle against its limits and between its
two samplers, the weight-decay fixed point against its kernel-machine identities, and bad
inputs.  The theory-vs-simulation agreement at scale is carried by the quick preset's checks."""

import warnings

import numpy as np
import pytest

from theorylab.core.errors import ConfigError, DivergenceError, SolverError
from theorylab.studies.adaptive_kernels import simulate as sim
from theorylab.studies.adaptive_kernels import theory as th


def _task(P, Pt, D, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(D)
    X = rng.standard_normal((P + Pt, D))
    y = np.tanh(X @ w / np.sqrt(D)) + 0.5 * np.tanh(X[:, 0] * X[:, 1])
    return X[:P], y[:P], X[P:], y[P:]


def _raises(field, fn, *args, **kw):
    with pytest.raises(ConfigError) as err:
        fn(*args, **kw)
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}=")


# -- lazy kernels ---------------------------------------------------------------------------


@pytest.mark.parametrize("nl", ["relu", "step", "erf", "linear"])
def test_lazy_kernels_vs_monte_carlo(nl):
    X = np.random.default_rng(1).standard_normal((10, 6))
    lk = th.lazy_kernels(X, nl)
    Phi, G = sim.monte_carlo_lazy(X, nl, 200_000, np.random.default_rng(2))
    assert np.linalg.norm(Phi - lk["Phi0"]) / np.linalg.norm(lk["Phi0"]) < 1.5e-2
    if nl != "step":
        assert np.linalg.norm(G - lk["G0"]) / np.linalg.norm(lk["G0"]) < 1.5e-2
    np.testing.assert_allclose(lk["K0"], lk["Phi0"] + lk["G0"] * lk["C"], rtol=1e-14)


def test_kernel_predictor_and_alignment():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((6, 6))
    K = A @ A.T
    y = rng.standard_normal(6)
    f = th.kernel_predictor(K, K, y, 0.3)
    np.testing.assert_allclose(K @ np.linalg.solve(K + 0.3 * np.eye(6), y), f, rtol=1e-12)
    assert th.alignment(np.outer(y, y), y) == pytest.approx(1.0, rel=1e-12)
    assert th.raw_alignment(np.eye(6), y) == pytest.approx(y @ y / 6, rel=1e-12)


# -- deep linear ----------------------------------------------------------------------------


def test_deep_linear_issue_number():
    c = th.deep_linear_saddle(1, 10, 3)
    assert c[-1] == pytest.approx(2.540, abs=1e-3)
    np.testing.assert_allclose(c, [1.364, 1.862, 2.540], atol=1e-3)


@pytest.mark.parametrize(("g", "b", "L"), [(1, 10, 3), (2, 5, 4), (4, 10, 8), (0.3, 100, 1)])
def test_deep_linear_recursions(g, b, L):
    c = th.deep_linear_saddle(g, b, L)
    assert th.deep_linear_residuals(c, g, b) < 1e-10
    ib = 1 / b
    assert c[-1] == pytest.approx((1 + g**2 * c[-1] / (c[-1] + ib) ** 2) ** L, rel=1e-12)
    assert np.all(np.diff(np.log(c)) == pytest.approx(np.log(c[0])))  # geometric in depth


def test_deep_linear_limits():
    np.testing.assert_allclose(th.deep_linear_saddle(0.0, 10, 4), 1.0, rtol=1e-14)
    assert th.deep_linear_saddle(4, 10, 8)[-1] == pytest.approx(30.0, abs=0.01)


def test_deep_linear_langevin_tiny():
    X, y = np.sqrt(4) * np.eye(4), np.array([1.0, 1, -1, -1]) / 2
    out = sim.langevin_deep_linear(
        X, y, 1.0, 10.0, width=64, L=1, keys=[sim.jax.random.key(0)], steps=2000, burn=500
    )
    c = th.deep_linear_saddle(1.0, 10.0, 1)
    assert out["c"].shape == (1, 1)
    assert out["c"][0, 0] == pytest.approx(c[0], rel=0.15)  # N = 64, one short chain


# -- two-layer Bayesian saddle --------------------------------------------------------------


def test_bayes_lazy_limit_and_monotone():
    X, y, Xt, _ = _task(8, 5, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", th.ExistenceWarning)
        rs = [
            th.bayes_saddle(X, y, g, 10.0, samples=40_000, seed=1, X_test=Xt)
            for g in (1e-3, 0.3, 0.6)
        ]
    r0 = rs[0]
    assert np.linalg.norm(r0.Phi - r0.Phi0) / np.linalg.norm(r0.Phi0) < 6 / np.sqrt(40_000)
    # gamma -> 0: the predictor is NNGP ridge regression with ridge 1/beta
    ref = th.kernel_predictor(r0.Phi, r0.Phi_test, y, 0.1)
    np.testing.assert_allclose(r0.f_test, ref, rtol=1e-10)
    a = [r.alignment for r in rs]
    assert a[0] < a[1] < a[2]
    assert all(r.ess > 1000 and r.method == "fixed_point" for r in rs)


def test_bayes_fixed_point_satisfies_its_equation():
    X, y, _, _ = _task(6, 1, 3)
    r = th.bayes_saddle(X, y, 0.4, 5.0, samples=20_000, seed=2, tol=1e-9)
    assert r.residual < 1e-9  # the damped map's relative change: Phi = <phi phi^T>_Phi


def test_bayes_mcmc_agrees_with_importance_sampling():
    X, y, Xt, _ = _task(6, 4, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", th.ExistenceWarning)
        r = th.bayes_saddle(X, y, 0.5, 10.0, samples=100_000, seed=3, X_test=Xt)
        m = th.bayes_saddle(
            X,
            y,
            0.5,
            10.0,
            samples=100_000,
            seed=4,
            X_test=Xt,
            method="mcmc",
            mcmc_chains=2000,
            mcmc_iterations=80,
        )
    assert m.method == "mcmc" and 0.2 < m.mcmc["acceptance"] <= 1.0
    assert np.linalg.norm(m.Phi - r.Phi) / np.linalg.norm(r.Phi) < 0.05
    assert abs(m.alignment - r.alignment) / r.alignment < 0.05


def test_bayes_falls_back_to_mcmc_when_ess_is_low():
    X, y, _, _ = _task(6, 1, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", th.ExistenceWarning)
        r = th.bayes_saddle(
            X, y, 0.5, 10.0, samples=2000, seed=5, min_ess=1e9, mcmc_chains=1000, mcmc_iterations=40
        )
    assert r.method == "mcmc" and r.mcmc["chains"] == 1000


def test_bayes_existence_bound_warns_not_refuses():
    X, y, _, _ = _task(6, 1, 3)
    with pytest.warns(th.ExistenceWarning):
        r = th.bayes_saddle(X, 3 * y, 1.0, 10.0, samples=20_000, seed=6, min_ess=0)
    assert np.all(np.isfinite(r.Phi))


def test_bayes_nonconvergence_raises_with_residual():
    X, y, _, _ = _task(6, 1, 3)
    with pytest.raises(SolverError) as err:
        th.bayes_saddle(X, y, 0.5, 10.0, samples=2000, seed=7, max_iter=2, tol=1e-12)
    assert err.value.residual > 1e-12


# -- weight-decay DMFT ----------------------------------------------------------------------


def test_dmft_fixed_point_is_a_kernel_machine():
    X, y, Xt, _ = _task(12, 20, 6)
    r = th.dmft_weight_decay(X, y, Xt, 1.0, 0.5, width=800, seed=0, lam_t_min=60)
    assert r["identity_phi"] < 1e-3
    assert r["identity_ntk"] < 6e-2
    np.testing.assert_allclose(r["K"], r["Phi"] + r["G"] * (X @ X.T / 6), rtol=1e-12)
    # at the fixed point the training residual obeys f = Phi Delta / lam
    f_tr = r["Phi"] @ (y - r["f_train"]) / 0.5
    assert np.linalg.norm(f_tr - r["f_train"]) / np.linalg.norm(r["f_train"]) < 1e-3


def test_dmft_small_gamma_keeps_features_near_init_scale():
    X, y, Xt, _ = _task(10, 5, 5)
    out = sim.train_weight_decay(X, y, 1e-3, 0.5, width=200, seed=1, X_test=Xt, lam_t_max=5)
    assert out["steps"] > 0 and np.all(np.isfinite(out["f_test"]))


def test_dmft_divergence_raises_with_step():
    X, y, _, _ = _task(10, 5, 5)
    with pytest.raises(DivergenceError) as err:  # targets that drive |f| past 1e6
        sim.train_weight_decay(X, 1e8 * y, 1.0, 0.5, width=200, seed=1, dt_max=50.0, lam_t_max=1e4)
    assert err.value.step >= 100


# -- bad inputs -----------------------------------------------------------------------------


def test_bad_inputs_name_the_argument():
    X, y, Xt, _ = _task(6, 3, 3)
    _raises("gamma", th.bayes_saddle, X, y, -1.0, 10.0, samples=1000, seed=0)
    _raises("beta", th.bayes_saddle, X, y, 0.5, 0.0, samples=1000, seed=0)
    _raises("y", th.bayes_saddle, X, y[:-1], 0.5, 10.0, samples=1000, seed=0)
    bad = X.copy()
    bad[0, 0] = np.nan
    _raises("X", th.bayes_saddle, bad, y, 0.5, 10.0, samples=1000, seed=0)
    _raises("X_test", th.dmft_weight_decay, X, y, Xt[:, :2], 1.0, 0.5, width=10, seed=0)
    _raises("lam", th.dmft_weight_decay, X, y, Xt, 1.0, -0.5, width=10, seed=0)
    _raises("gamma", th.dmft_weight_decay, X, y, Xt, 0.0, 0.5, width=10, seed=0)
    _raises("gamma", th.deep_linear_saddle, -1.0, 10, 3)
    _raises("beta", th.deep_linear_saddle, 1.0, -1.0, 3)
    _raises("L", th.deep_linear_saddle, 1.0, 10, 0)
    _raises("nonlinearity", th.lazy_kernels, X, "tanh")
    _raises("method", th.bayes_saddle, X, y, 0.5, 10.0, samples=1000, seed=0, method="hmc")


def test_cli_bad_value_exits_2(monkeypatch):
    from typer.testing import CliRunner

    from theorylab.cli import app
    from theorylab.studies import REGISTRY

    monkeypatch.setitem(REGISTRY, "adaptive_kernels", "theorylab.studies.adaptive_kernels")
    res = CliRunner().invoke(app, ["run", "adaptive_kernels", "--set", "bayes.beta=-1"])
    assert res.exit_code == 2
    assert "bayes.beta" in res.output


def test_weight_decay_span_projection_is_consistent():
    X, y, Xt, _ = _task(6, 4, 10)  # D > P: trained in the span of the inputs
    out = sim.train_weight_decay(X, y, 1.0, 0.5, width=300, seed=2, X_test=Xt, lam_t_max=1.0)
    W, a = out["W"], out["a"]
    assert W.shape == (300, 10)
    f_direct = np.maximum(Xt @ W.T / np.sqrt(10), 0) @ a / 300
    np.testing.assert_allclose(out["f_test"], f_direct, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        out["f_train"], np.maximum(X @ W.T / np.sqrt(10), 0) @ a / 300, rtol=1e-10, atol=1e-12
    )
