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


# --------------------------------------------------------------------------
# the active-set root finder against the old full-batch one (tests/helpers)


def _random_cubics(seed, B):
    """f(x) = (x - r)(x^2 + c) with a root r in a random bracket, and f'."""
    rng = np.random.default_rng(seed)
    r = rng.uniform(-5, 5, B)
    c = rng.uniform(0.1, 4.0, B)
    lo, hi = r - rng.uniform(0.1, 10, B), r + rng.uniform(0.1, 10, B)
    return r, c, lo, hi


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_find_root_equals_old_full_batch_solver(seed):
    import deteq_reference as ref

    r, c, lo, hi = _random_cubics(seed, 300)

    def f(x, idx=slice(None)):
        return (x - r[idx]) * (x**2 + c[idx])

    def df(x, idx=slice(None)):
        return x**2 + c[idx] + 2 * x * (x - r[idx])

    for kw in ({}, {"fprime": df}, {"fprime": df, "x0": r + 0.3}):
        old = ref.find_root(f, lo, hi, **kw)
        new = find_root(f, lo, hi, **kw)
        ind = find_root(f, lo, hi, indexed=True, **kw)
        np.testing.assert_allclose(new.x, old.x, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ind.x, old.x, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ind.x, r, rtol=1e-11, atol=1e-12)
        assert ind.converged.all() and new.iterations == old.iterations


def test_find_root_indexed_evaluates_only_the_active_set():
    r, c, lo, hi = _random_cubics(3, 200)
    sizes = []

    def f(x, idx):
        sizes.append(x.size)
        assert x.shape == idx.shape
        return (x - r[idx]) * (x**2 + c[idx]), x**2 + c[idx] + 2 * x * (x - r[idx])

    res = find_root(f, lo, hi, fprime=True, indexed=True)
    np.testing.assert_allclose(res.x, r, rtol=1e-11, atol=1e-12)
    # the bracket ends and the start use the whole batch, then the batch shrinks
    assert sizes[:3] == [200, 200, 200] and sizes[-1] < 200
    assert sizes == sorted(sizes, reverse=True)
    assert sum(sizes) < 0.8 * 200 * len(sizes)


def test_find_root_indexed_keeps_the_diagnostics():
    a = np.array([0.2, 0.5])
    with pytest.raises(SolverError, match="did not converge after 3 iterations") as info:
        find_root(lambda x, idx: x - a[idx], [0.0, 0.0], [1.0, 1.0], indexed=True, maxiter=3)
    assert 0 < info.value.residual <= 1.0 / 2**3
    with pytest.raises(SolverError, match="no sign change"):
        find_root(lambda x, idx: x + 1.0, [0.0], [1.0], indexed=True)
    # a given f_lo is checked like a computed one
    with pytest.raises(SolverError, match="no sign change"):
        find_root(lambda x: x - 0.5, 0.0, 1.0, f_lo=1.0)
    res = find_root(lambda x: x - 0.5, 0.0, 1.0, f_lo=-0.5, f_hi=0.5)
    assert res.x[0] == pytest.approx(0.5, abs=1e-13)
