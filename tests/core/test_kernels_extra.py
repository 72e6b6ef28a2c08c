"""The Gram-form arc-cosine / erf kernels, the step kernel and the two-layer ReLU NTK
against Monte Carlo, against the existing data-form kernels and against their limits."""

import numpy as np
import pytest

from theorylab.core import kernels as ck
from theorylab.core.errors import ConfigError


def _data(n=12, d=5, seed=0):
    return np.random.default_rng(seed).standard_normal((n, d))


def test_gram_forms_match_data_forms():
    X = _data()
    C = X @ X.T / X.shape[1]
    # the data form loses ~1e-8 on the diagonal (arccos of a rounded cosine near 1)
    np.testing.assert_allclose(
        ck.relu_gram_kernel(C), ck.relu_kernel(X, weight_var=1 / 5), rtol=1e-12, atol=1e-8
    )
    np.testing.assert_allclose(
        ck.erf_gram_kernel(C), ck.erf_kernel(X, weight_var=1 / 5), rtol=1e-12
    )
    np.testing.assert_allclose(ck.step_gram_kernel(C), ck.step_kernel(X), rtol=1e-12, atol=1e-8)


def test_against_monte_carlo():
    X = _data(8, 4, 1)
    C = X @ X.T / 4
    rng = np.random.default_rng(2)
    H = X @ rng.standard_normal((4, 400_000)) / 2.0
    from scipy.special import erf

    S = H.shape[1]
    for K, F in (
        (ck.relu_gram_kernel(C), np.maximum(H, 0)),
        (ck.step_gram_kernel(C), (H > 0) * 1.0),
        (ck.erf_gram_kernel(C), erf(H)),
        (ck.erf_derivative_gram_kernel(C), 2 / np.sqrt(np.pi) * np.exp(-(H**2))),
    ):
        mc = F @ F.T / S
        assert np.linalg.norm(mc - K) / np.linalg.norm(K) < 1e-2


def test_limits_and_ntk():
    C = np.array([[1.0, 1.0], [1.0, 1.0]])  # identical points: E[relu^2] = 1/2, step = 1/2
    np.testing.assert_allclose(ck.relu_gram_kernel(C), 0.5, rtol=1e-12)
    np.testing.assert_allclose(ck.step_gram_kernel(C), 0.5, rtol=1e-12)
    C = np.array([[1.0, -1.0], [-1.0, 1.0]])  # antipodal: relu and step products vanish
    assert ck.relu_gram_kernel(C)[0, 1] == pytest.approx(0.0, abs=1e-15)
    assert ck.step_gram_kernel(C)[0, 1] == pytest.approx(0.0, abs=1e-15)
    X = _data()
    ntk = ck.relu_ntk(X, weight_var=0.2)
    ref = ck.relu_kernel(X, weight_var=0.2) + 0.2 * (X @ X.T) * ck.step_kernel(X)
    np.testing.assert_allclose(ntk, ref, rtol=1e-12)
    assert np.linalg.eigvalsh(ntk).min() > -1e-10


def test_bad_covariance():
    with pytest.raises(ConfigError, match="C="):
        ck.relu_gram_kernel(np.ones((2, 3)))
    with pytest.raises(ConfigError, match="C="):
        ck.step_gram_kernel(-np.eye(2))
    with pytest.raises(ConfigError, match="C="):
        ck.erf_gram_kernel(np.array([[np.nan, 0], [0, 1.0]]))
