"""Deterministic equivalents of sample covariances: edges, complex continuation, real ridges."""

import numpy as np
import pytest

from theorylab.core.deteq import (
    kappa_on_path,
    renormalized_ridge,
    ridgeless_kappa,
    spectral_sums,
    support_edge,
)
from theorylab.core.errors import ConfigError
from theorylab.core.spectra import power_law_spectrum


@pytest.mark.parametrize(("D", "n"), [(100, 400), (200, 200), (300, 100)])
def test_support_edge_marchenko_pastur(D, n):
    """Sigma = I: the edge of the Marchenko-Pastur law is (1 + sqrt(D/n))^2."""
    assert support_edge(np.ones(D), n) == pytest.approx((1 + np.sqrt(D / n)) ** 2, rel=1e-10)


def test_support_edge_is_where_the_density_starts():
    """The deterministic-equivalent density -Im m(x + i0)/pi vanishes above the edge and
    not below it; the edge lies between max(eigs) and the Gordon bound on E||Sigma_hat||.
    (A sampled top eigenvalue fluctuates around the edge on both sides: with a dominant
    eigenvalue the density near the edge carries O(1/D) mass.)"""
    sp = power_law_spectrum(400, 1.5, 0.8)
    n = 200
    edge = support_edge(sp.eigs, n)
    gordon = (np.sqrt(sp.eigs.max()) + np.sqrt(sp.eigs.sum() / n)) ** 2
    assert sp.eigs.max() < edge < gordon
    xs = np.linspace(1.5 * edge, 0.8 * edge, 3000)
    path = np.concatenate([[-1.5 * edge], -(xs + 1e-7j)])
    kap = kappa_on_path(sp.eigs, path, n)[1:]
    m = (kap / (xs + 1e-7j)) * np.sum(1 / (sp.eigs[None, :] + kap[:, None]), 1) / sp.eigs.size
    rho = -m.imag / np.pi
    assert rho[xs > 1.01 * edge].max() < 1e-4
    assert rho[(xs < 0.99 * edge) & (xs > 0.9 * edge)].min() > 1e-3


def test_kappa_on_path_solves_equation_and_stays_on_branch():
    sp = power_law_spectrum(300, 1.5, 0.8)
    n = 150.0
    theta = np.linspace(0, np.pi, 400)
    z = (1 - 1.05 * np.exp(1j * theta)) / 1.0  # circle around [0, 2)
    kap = kappa_on_path(sp.eigs, -z, n)
    d1 = spectral_sums(sp.eigs, None, kap, "1")["1"]
    np.testing.assert_allclose(kap * (1 - d1 / n), -z, rtol=1e-10, atol=1e-14)
    inner = np.abs(z.imag) > 1e-9
    assert np.all(np.sign(kap.imag[inner]) == np.sign(-z.imag[inner]))
    # real start agrees with the real solver
    assert kap[0].real == pytest.approx(
        float(renormalized_ridge(sp.eigs, -z[0].real, n)), rel=1e-12
    )


def test_kappa_on_path_matches_sample_stieltjes_transform():
    """(kappa/z) tr R(kappa) / D is the Stieltjes transform of the sample spectrum."""
    sp = power_law_spectrum(400, 1.2, 0.5)
    n = 800
    z = np.array([0.3 + 0.2j, -0.1 + 0.05j, 1.0 + 0.5j])
    path = np.concatenate([[0.5], np.linspace(-0.5, -z[0], 50)])  # start real, walk to z
    kap = kappa_on_path(sp.eigs, path, n)[-1]
    de = (kap / z[0]) * np.sum(1 / (sp.eigs + kap)) / sp.eigs.size
    rng = np.random.default_rng(1)
    vals = []
    for _ in range(10):
        X = rng.normal(size=(n, 400)) * np.sqrt(sp.eigs)
        ev = np.linalg.eigvalsh(X.T @ X / n)
        vals.append(np.mean(1 / (z[0] - ev)))
    assert abs(np.mean(vals) - de) / abs(de) < 0.01


def test_real_solver_limits():
    sp = power_law_spectrum(500, 1.5, 0.8)
    assert renormalized_ridge(sp.eigs, 0.0, 100) == pytest.approx(ridgeless_kappa(sp.eigs, 100))
    assert renormalized_ridge(sp.eigs, 0.2, np.inf) == pytest.approx(0.2)
    with pytest.raises(ConfigError, match="n1"):
        renormalized_ridge(sp.eigs, 0.1, -1)
    with pytest.raises(ConfigError, match="start on the real axis"):
        kappa_on_path(sp.eigs, [1j, 2j], 100)
