import numpy as np
import pytest

from theorylab.core.errors import ConfigError
from theorylab.core.kernels import erf_kernel, linear_kernel, monte_carlo_kernel, relu_kernel
from theorylab.core.spectra import empirical_spectrum, gaussian_data, power_law_spectrum


def test_power_law_normalisation_and_exponents():
    sp = power_law_spectrum(5000, 1.5, 0.8)
    assert sp.eigs.sum() == pytest.approx(1.0, rel=1e-12)
    assert sp.target_power.sum() == pytest.approx(1.0, rel=1e-12)
    # w*^T Sigma w* = sum lambda w^2 = 1
    assert np.sum(sp.eigs * sp.weights**2) == pytest.approx(1.0, rel=1e-12)
    k = np.arange(1, 5001)
    slope_l = np.polyfit(np.log(k), np.log(sp.eigs), 1)[0]
    slope_p = np.polyfit(np.log(k), np.log(sp.target_power), 1)[0]
    assert slope_l == pytest.approx(-1.5, abs=1e-10)
    assert slope_p == pytest.approx(-(1 + 2 * 1.5 * 0.8), abs=1e-10)


@pytest.mark.parametrize(("D", "alpha", "r"), [(0, 1.5, 1), (10, -1, 1), (10, 1.5, 0)])
def test_power_law_rejects_bad_arguments(D, alpha, r):
    with pytest.raises(ConfigError):
        power_law_spectrum(D, alpha, r)


def test_empirical_spectrum_traces():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 5))
    y = rng.normal(size=200)
    K = relu_kernel(X, weight_var=2 / 5)
    sp = empirical_spectrum(K, y)
    n = 200
    # sum of lambda_k = trace(K)/n ; sum of powers + dropped part = |y|^2 / n
    assert sp.eigs.sum() == pytest.approx(np.trace(K) / n, rel=1e-10)
    assert sp.target_power.sum() + sp.noise == pytest.approx(y @ y / n, rel=1e-10)
    assert np.all(np.diff(sp.eigs) <= 0)


def test_gaussian_data_covariance():
    import jax

    eigs = np.array([4.0, 1.0, 0.25])
    w = np.array([1.0, -2.0, 0.5])
    with jax.enable_x64(True):
        X, y = gaussian_data(jax.random.key(0), 40_000, eigs, w, noise=0.09)
    X, y = np.asarray(X), np.asarray(y)
    np.testing.assert_allclose(X.var(axis=0), eigs, rtol=0.03)
    resid = y - X @ w
    assert resid.var() == pytest.approx(0.09, rel=0.03)


@pytest.mark.parametrize(
    ("name", "fn"), [("relu", relu_kernel), ("erf", erf_kernel), ("linear", linear_kernel)]
)
def test_analytic_kernels_match_monte_carlo(name, fn):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 4))
    exact = fn(X, weight_var=0.5)
    mc = monte_carlo_kernel(X, activation=name, weight_var=0.5, n_features=400_000, seed=1)
    # MC standard error ~ O(1/sqrt(N)) times the kernel scale
    np.testing.assert_allclose(mc, exact, atol=6 * np.abs(exact).max() / np.sqrt(400_000) * 3)


def test_relu_kernel_diagonal():
    X = np.array([[3.0, 4.0]])
    assert relu_kernel(X, weight_var=2.0)[0, 0] == pytest.approx(25.0)  # weight_var |x|^2 / 2
