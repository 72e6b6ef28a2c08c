"""Deterministic equivalents of sample covariances: edges, complex continuation, real ridges."""

import numpy as np
import pytest

from theorylab.core.deteq import (
    kappa_and_sums_on_path,
    kappa_on_path,
    renormalized_ridge,
    rf_error,
    rf_errors_at_kappa,
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


# --------------------------------------------------------------------------
# the fused / active-set implementation against the old one (tests/helpers),
# live at random points


def _random_spectrum(rng):
    D = int(rng.choice([1, 7, 300, 2500]))
    sp = power_law_spectrum(D, rng.uniform(1.1, 2.0), rng.uniform(0.2, 1.5))
    return sp.eigs, sp.target_power


def _rel(a, b):
    return np.max(np.abs(np.asarray(a) - np.asarray(b)) / np.maximum(np.abs(b), 1e-300))


@pytest.mark.parametrize("seed", range(6))
def test_spectral_sums_equal_the_old_sums(seed):
    import deteq_reference as ref

    rng = np.random.default_rng(seed)
    eigs, power = _random_spectrum(rng)
    real = 10 ** rng.uniform(-9, 2, 37)
    real = np.concatenate([real, real[:20]])  # repeated kappas are evaluated once
    top = eigs.max()
    cplx = np.concatenate(
        [
            10 ** rng.uniform(-4, 1, 30) * np.exp(1j * rng.uniform(-3, 3, 30)),
            -top * (1 + rng.uniform(0.01, 3, 10)) + 1j * rng.normal(size=10),  # Re < 0
        ]
    )
    for kappa in (real, cplx, real[:1], cplx[:1]):
        for which in ("R12dTS", "1", "1d", "12", "1T", "12TS", "2"):
            old = ref.spectral_sums(eigs, power, kappa, which)
            new = spectral_sums(eigs, power, kappa, which)
            for w in which:
                assert new[w].dtype == old[w].dtype and new[w].shape == old[w].shape
                assert _rel(new[w], old[w]) < 1e-10, (which, w)


@pytest.mark.parametrize("seed", range(4))
def test_real_solvers_equal_the_old_solvers(seed):
    import deteq_reference as ref

    rng = np.random.default_rng(10 + seed)
    eigs, power = _random_spectrum(rng)
    D = eigs.size
    ridge = np.concatenate([[0.0], 10 ** rng.uniform(-10, 1, 40)])
    n1 = rng.choice([0.3 * D + 1, 2.0 * D, np.inf, rng.uniform(1, 3 * D)], 41)
    n2 = rng.choice([0.5 * D + 2, np.inf, rng.uniform(1, 3 * D)], 41)
    kw = {"eigs": eigs, "ridge": ridge, "n1": n1, "n2": n2}
    assert _rel(renormalized_ridge(**kw), ref.renormalized_ridge(**kw)) < 1e-10
    assert _rel(ridgeless_kappa(eigs, n1), ref.ridgeless_kappa(eigs, n1)) < 1e-10
    for n in (0.4 * D, 3.0 * D):
        assert support_edge(eigs, n) == pytest.approx(ref.support_edge(eigs, n), rel=1e-10)
    noise = rng.uniform(0, 0.1, 41)
    old = ref.rf_error(eigs, power, n1, n2, ridge, noise)
    new = rf_error(eigs, power, n1, n2, ridge, noise)
    np.testing.assert_array_equal(np.isinf(new), np.isinf(old))
    fin = np.isfinite(old)
    assert _rel(new[fin], old[fin]) < 1e-10
    kappa = ref.renormalized_ridge(eigs, ridge, n1, n2)
    K = rng.uniform(1, 50, 41)
    new = rf_errors_at_kappa(eigs, power, kappa, n1, n2, K, noise)
    old = ref.rf_errors_at_kappa(eigs, power, kappa, n1, n2, K, noise)
    fin = np.isfinite(old[1]) & np.isfinite(old[2])
    for a, b in zip(new, old, strict=True):
        np.testing.assert_array_equal(np.isfinite(a), np.isfinite(b))
    e1 = old[1][fin] + old[2][fin]  # the variance E_1 - E_inf carries E_1's rounding
    assert _rel(new[0][fin], old[0][fin]) < 1e-10
    assert _rel(new[1][fin], old[1][fin]) < 1e-10
    assert np.max(np.abs(new[2][fin] - old[2][fin]) / e1) < 1e-10


@pytest.mark.parametrize("seed", range(3))
def test_kappa_on_path_equals_the_old_continuation(seed):
    import deteq_reference as ref

    rng = np.random.default_rng(20 + seed)
    sp = power_law_spectrum(int(rng.integers(50, 1500)), rng.uniform(1.1, 2.0), 0.8)
    n = float(rng.integers(20, 2 * sp.eigs.size))
    edge = support_edge(sp.eigs, n)
    radius = rng.uniform(0.55, 0.9) * edge
    theta = np.linspace(0, np.pi, int(rng.integers(100, 700)))
    z = edge / 2 + (radius + edge / 2 * rng.uniform(0.2, 0.5)) * np.exp(1j * theta)  # encloses
    z[[0, -1]] = z[[0, -1]].real  # both ends on the real axis
    for path in (-z, -z[::-1]):
        old = ref.kappa_on_path(sp.eigs, path, n)
        assert _rel(kappa_on_path(sp.eigs, path, n), old) < 1e-10
        kap, sums = kappa_and_sums_on_path(sp.eigs, sp.target_power, path, n, "1T2")
        assert _rel(kap, old) < 1e-10
        direct = spectral_sums(sp.eigs, sp.target_power, kap, "1T2")
        for w in "1T2":
            assert _rel(sums[w], direct[w]) < 1e-10
