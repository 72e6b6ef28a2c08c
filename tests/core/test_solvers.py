import numpy as np
import pytest

from theorylab.core.errors import SolverError
from theorylab.core.solvers import find_root, fixed_point, integrate_ode, minimize_scalar


def test_find_root_vectorised_against_closed_form():
    a = np.array([0.5, 2.0, 9.0, 1e6])
    res = find_root(lambda x: x**2 - a, 0.0, 2e3, fprime=lambda x: 2 * x)
    np.testing.assert_allclose(res.x, np.sqrt(a), rtol=1e-12)
    assert res.converged.all()


def test_find_root_log_space_spans_decades():
    # x e^x = c has the Lambert-W solution; compare with scipy
    from scipy.special import lambertw

    c = np.logspace(-12, 3, 16)
    res = find_root(
        lambda x: x * np.exp(x) - c, 1e-20, 10.0, fprime=lambda x: (1 + x) * np.exp(x), log=True
    )
    np.testing.assert_allclose(res.x, lambertw(c).real, rtol=1e-11)


def test_find_root_bisection_only_and_decreasing_functions():
    res = find_root(lambda x: 1.0 - x, 0.0, 3.0)  # decreasing, no derivative
    np.testing.assert_allclose(res.x, 1.0, rtol=1e-12)


def test_find_root_reports_missing_bracket_with_residual():
    with pytest.raises(SolverError, match="no sign change") as info:
        find_root(lambda x: x**2 + 1.0, -1.0, 1.0)
    assert info.value.residual == pytest.approx(2.0)  # |f(+-1)| = 2


def test_find_root_raises_when_not_converged():
    with pytest.raises(SolverError, match="did not converge after 3 iterations"):
        find_root(lambda x: x - 0.123456789, 0.0, 1.0, maxiter=3)


def test_minimize_scalar_vectorised():
    c = np.array([0.3, 1.0, 7.0])
    x, fx = minimize_scalar(lambda x: (x - c) ** 2 + 1.0, 0.0, 10.0, xtol=1e-10)
    np.testing.assert_allclose(x, c, atol=1e-8)
    np.testing.assert_allclose(fx, 1.0, atol=1e-14)
    x, _ = minimize_scalar(lambda x: (np.log(x) - np.log(c)) ** 2, 1e-6, 1e3, log=True, xtol=1e-10)
    np.testing.assert_allclose(x, c, rtol=1e-8)


def test_fixed_point_plain_and_anderson():
    dottie = 0.7390851332151607  # x = cos x
    plain = fixed_point(np.cos, 1.0, damping=1.0, tol=1e-13)
    acc = fixed_point(np.cos, 1.0, damping=1.0, anderson=3, tol=1e-13)
    assert plain.x == pytest.approx(dottie, abs=1e-12)
    assert acc.x == pytest.approx(dottie, abs=1e-12)
    assert acc.iterations < plain.iterations / 3


def test_fixed_point_vector_linear_system():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(20, 20))
    A *= 0.9 / np.abs(np.linalg.eigvals(A)).max()
    b = rng.normal(size=20)
    res = fixed_point(lambda x: A @ x + b, np.zeros(20), damping=0.7, anderson=5, tol=1e-12)
    np.testing.assert_allclose(res.x, np.linalg.solve(np.eye(20) - A, b), atol=1e-9)


def test_fixed_point_divergence_is_an_error():
    with pytest.raises(SolverError, match="residual"):
        fixed_point(lambda x: 2.0 * x + 1.0, 1.0, damping=1.0, maxiter=50)


def test_integrate_ode_matches_exponential():
    t = np.linspace(0, 2, 11)
    y = integrate_ode(lambda t, y: -3.0 * y, [2.0], t)
    np.testing.assert_allclose(y[:, 0], 2.0 * np.exp(-3.0 * t), rtol=1e-7)


def test_integrate_ode_blow_up_is_an_error():
    with pytest.raises(SolverError):
        integrate_ode(lambda t, y: y**2, [1.0], np.linspace(0, 2, 5))
