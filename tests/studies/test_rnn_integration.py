"""rnn_integration: exact gradients, reductions, the outlier ODE, the lazy threshold,
theory vs simulation at parameters drawn from stated ranges, and bad input."""

import numpy as np
import pytest
from scipy import linalg as sla
from scipy import optimize
from scipy.integrate import simpson
from typer.testing import CliRunner

from theorylab.cli import app
from theorylab.core.compare import agreement_ratio
from theorylab.core.errors import ConfigError, DivergenceError, SolverError
from theorylab.studies.rnn_integration import STUDY
from theorylab.studies.rnn_integration import simulate as sim
from theorylab.studies.rnn_integration import theory as th


def _random_net(rng, N, sigma):
    W = sigma * rng.standard_normal((N, N)) / np.sqrt(N)
    u = rng.standard_normal(N) / np.sqrt(N)
    v = rng.standard_normal(N) / np.sqrt(N)
    return W, u, v


# --------------------------------------------------------------------------
# (A2) exact loss and gradients


@pytest.mark.parametrize("i", range(3))
def test_gradients_match_finite_differences(i):
    """N in [3, 7], sigma in [0.1, 0.7], c* in [0.1, 1], omega* in {0} u [0.3, 2]."""
    rng = np.random.default_rng(100 + i)
    N = int(rng.integers(3, 8))
    sigma, c = rng.uniform(0.1, 0.7), rng.uniform(0.1, 1.0)
    w = 0.0 if i == 0 else rng.uniform(0.3, 2.0)
    W, u, v = _random_net(rng, N, sigma)
    loss, dW, du, dv = th.h2_loss_and_grads(W, u, v, c, w)
    theta = np.concatenate([W.ravel(), u, v])
    exact = np.concatenate([dW.ravel(), du, dv])

    def L(x):
        return th.h2_loss_and_grads(x[: N * N].reshape(N, N), x[N * N : -N], x[-N:], c, w)[0]

    eps = 1e-6
    fd = np.array(
        [(L(theta + eps * e) - L(theta - eps * e)) / (2 * eps) for e in np.eye(theta.size)]
    )
    assert np.max(np.abs(fd - exact)) <= 1e-6 * np.max(np.abs(exact))
    # the loss is 1/2 int (f - f*)^2 of the impulse response (Simpson, expm stepping)
    d = 0.005
    tau = d * np.arange(int(40 / c / d) + 1)
    E = sla.expm((W - np.eye(N)) * d)
    x = np.empty((tau.size, N))
    x[0] = u
    for k in range(1, tau.size):
        x[k] = E @ x[k - 1]
    quad = 0.5 * simpson((x @ v - np.exp(-c * tau) * np.cos(w * tau)) ** 2, x=tau)
    assert loss == pytest.approx(quad, rel=1e-6)
    # at W = 0, u = v = 0 the loss is 1/2 |f*|^2 (closed form)
    z = np.zeros(N)
    assert th.h2_loss_and_grads(np.zeros((N, N)), z, z, c, w)[0] == pytest.approx(
        0.5 * th.target_norm2(c, w), rel=1e-12
    )


def test_jax_gramians_match_scipy():
    """The simulator's Cayley + doubling Lyapunov solver vs SciPy's Bartels-Stewart."""
    rng = np.random.default_rng(7)
    A = 0.5 * rng.standard_normal((8, 8)) / np.sqrt(8) - np.eye(8)
    B, C = rng.standard_normal(8), rng.standard_normal(8)
    P, Q, it = sim.lyapunov_gramians(A, B, C)
    np.testing.assert_allclose(P, sla.solve_continuous_lyapunov(A, -np.outer(B, B)), atol=1e-13)
    np.testing.assert_allclose(Q, sla.solve_continuous_lyapunov(A.T, -np.outer(C, C)), atol=1e-13)
    assert 0 < it < 20
    with pytest.raises(ConfigError, match="Hurwitz"):
        sim.lyapunov_gramians(A + 1.2 * np.eye(8), B, C)
    for w in (0.0, 1.3):
        W, u, v = _random_net(rng, 9, 0.6)
        a = th.h2_loss_and_grads(W, u, v, 0.3, w)
        b = sim.h2_grads(W, u, v, 0.3, w)
        for x, y in zip(a, b, strict=True):
            np.testing.assert_allclose(y, x, rtol=1e-10, atol=1e-12 * np.max(np.abs(x)))


# --------------------------------------------------------------------------
# (A4) conservation law, (A5) exact reduction


def test_conservation_law_along_a_trajectory():
    """Generic init (sigma = 0.4, iid u0, v0): Q_c = uu^T - vv^T + WW^T - W^TW is constant."""
    W0, u0, v0 = sim.init_network(sim.key_for(0, 50), 10, 0.4, 0.5, orthogonal=False)
    run = sim.gradient_flow(W0, u0, v0, 0.3, 1.0, 0.02, 300, every=30)
    assert run["loss"][-1] < 0.5 * run["loss"][0]  # it learned something
    assert sim.conservation_drift(run["W"], run["u"], run["v"]).max() < 1e-6
    # equal rates matter: a different rate for W breaks (A4) at O(1)
    W1 = W0 - 0.02 * th.h2_loss_and_grads(W0, u0, v0, 0.3)[1]
    drift = sim.conservation_drift(np.stack([W0, W1]), np.stack([u0, u0]), np.stack([v0, v0]))
    assert drift[-1] > 1e-4


@pytest.mark.parametrize("w", [0.0, 0.7])
def test_full_network_equals_reduced_system_with_same_integrator(w):
    """W0 = 0, a0 in [0.05, 0.5], c* in [0.15, 0.8]: full N = 12 vs (A5), same RK4 step."""
    rng = np.random.default_rng(11 if w == 0 else 12)
    a0, c = rng.uniform(0.05, 0.5), rng.uniform(0.15, 0.8)
    W0, u0, v0 = sim.init_network(sim.key_for(3, 51), 12, 0.0, a0)
    run = sim.gradient_flow(W0, u0, v0, c, 1.0, 0.05, 160, every=4, omega_star=w)
    red = th.reduced_dynamics(c, 1.0, a0, run["t"], omega_star=w, dt=0.05)
    np.testing.assert_allclose(run["loss"][::4], red["loss"], atol=1e-9)
    # the weights never leave span(u0, v0), and the outliers are the eigenvalues of M
    E = np.linalg.qr(np.stack([u0, v0], axis=1))[0]
    Pr = E @ E.T
    assert np.max(np.abs(run["W"] - Pr @ run["W"] @ Pr)) < 1e-12
    ev = np.linalg.eigvals(E.T @ run["W"][-1] @ E)
    lead = ev[np.lexsort((-ev.imag, -ev.real))[0]]
    assert lead.real == pytest.approx(red["eig_real"].iloc[-1], abs=1e-9)
    assert lead.imag == pytest.approx(red["eig_imag"].iloc[-1], abs=1e-9)
    # and the accurate (adaptive) solution is within the RK4 error of the same curve
    acc = th.reduced_dynamics(c, 1.0, a0, run["t"], omega_star=w)
    np.testing.assert_allclose(acc["loss"], red["loss"], atol=5e-3)


def test_reduction_matches_spec_numbers():
    """Spec 3.3: lambda(4) = 0.4503 (8-D) vs 0.4499 (2-D ODE) at a0 = 0.05, c* = 0.2."""
    t = np.linspace(0, 12, 121)
    red = th.reduced_dynamics(0.2, 1.0, 0.05, t)
    ode = th.outlier_ode(0.2, 1.0, 0.05**2 / 2, t)
    assert red.eig_real[40] == pytest.approx(0.4503, abs=6e-4)
    assert ode.eigenvalue[40] == pytest.approx(0.4499, abs=2e-4)
    assert red.eig_real.iloc[-1] == pytest.approx(0.8, abs=1e-4)
    assert th.escape_time(0.2, 1.0, 0.05**2 / 2) == pytest.approx(4.0, abs=0.02)
    np.testing.assert_allclose(red.imbalance, 0.0, atol=1e-12)  # |u|^2 - |v|^2 conserved


# --------------------------------------------------------------------------
# (A6) 2-D outlier ODE and the escape-time law


def test_outlier_ode_at_random_parameters():
    """c* in [0.1, 0.8], eta in [0.5, 2], a0 in [0.01, 0.08]: fixed point, (A5) vs (A6),
    escape-time slope and offset."""
    rng = np.random.default_rng(5)
    for _ in range(3):
        c, eta, a0 = rng.uniform(0.1, 0.8), rng.uniform(0.5, 2.0), rng.uniform(0.01, 0.08)
        A0 = a0 * a0 / 2
        slow, fast = th.outlier_ode_rates(c, eta)
        T = th.escape_time(c, eta, A0) + (1 + c) / eta + 20 / slow
        t = np.linspace(0, T, 1601)
        ode = th.outlier_ode(c, eta, A0, t)
        assert ode.eigenvalue.iloc[-1] == pytest.approx(1 - c, abs=1e-6)
        assert ode.gain.iloc[-1] == pytest.approx(1.0, abs=1e-6)
        assert ode.loss.iloc[-1] < 1e-10
        # the late approach decays at the slow rate of the linearisation
        dev = np.abs(ode.eigenvalue.to_numpy() - (1 - c))
        i, j = np.searchsorted(t, T - 12 / slow), np.searchsorted(t, T - 4 / slow)
        rate = np.log(dev[i] / dev[j]) / (t[j] - t[i])
        assert rate == pytest.approx(slow, rel=0.02)
        assert fast > slow
        red = th.reduced_dynamics(c, eta, a0, t)
        assert np.max(np.abs(red.eig_real - ode.eigenvalue)) < 5e-3
        # the law with its (A6) offset predicts the exact reduction's plateau
        t_esc = th.plateau_end(t, red.loss)
        assert t_esc == pytest.approx(th.escape_time(c, eta, A0, refined=True), rel=0.01)
    # slope of t_esc in ln(1/A0) is (1 + c*)/(2 eta), up to O(A0)
    c, eta = rng.uniform(0.1, 0.8), rng.uniform(0.5, 2.0)
    A0s = np.array([1e-6, 1e-5, 1e-4])
    te = [
        th.plateau_end(
            *th.outlier_ode(c, eta, A0, np.linspace(0, 20 / eta, 4001))[["t", "loss"]].T.values
        )
        for A0 in A0s
    ]
    slope = np.polyfit(np.log(1 / A0s), te, 1)[0]
    assert slope == pytest.approx((1 + c) / (2 * eta), rel=2e-3)


def test_outlier_ode_hessian_at_the_fixed_point():
    """Spec 3.3: Hessian of L(A, x = 1 - lam) at (1, c*) is [[1/2c, -1/4c^2], [-1/4c^2, 1/4c^3]]."""
    c = 0.3

    def L(A, x):
        return 0.5 * (A * A / (2 * x) - 2 * A / (x + c) + 1 / (2 * c))

    h = 1e-4
    H = np.array(
        [
            [(L(1 + h, c) - 2 * L(1, c) + L(1 - h, c)) / h**2, 0],
            [0, (L(1, c + h) - 2 * L(1, c) + L(1, c - h)) / h**2],
        ]
    )
    H[0, 1] = H[1, 0] = (L(1 + h, c + h) - L(1 + h, c - h) - L(1 - h, c + h) + L(1 - h, c - h)) / (
        4 * h * h
    )
    np.testing.assert_allclose(
        H, [[1 / (2 * c), -1 / (4 * c * c)], [-1 / (4 * c * c), 1 / (4 * c**3)]], rtol=1e-5
    )


# --------------------------------------------------------------------------
# sigma > 0: singular values of the resolvent, linear phase, shortened plateau


def test_resolvent_singular_values_match_sampled_matrices():
    rng = np.random.default_rng(21)
    N = 600
    for sigma in rng.uniform(0.1, 0.8, 2):
        z = 1 + rng.uniform(0.1, 0.5)
        s, w = th.resolvent_singular_values(sigma, z)
        assert w.sum() == pytest.approx(1.0, abs=1e-12)
        assert np.sum(w * s * s) == pytest.approx(z * z + sigma * sigma, rel=1e-8)  # exact moment
        J = rng.standard_normal((N, N)) / np.sqrt(N)
        sv = np.linalg.svd(z * np.eye(N) - sigma * J, compute_uv=False)
        assert np.mean(1 / sv) == pytest.approx(np.sum(w / s), rel=5e-3)
        assert sv.min() == pytest.approx(s.min(), abs=0.05)  # edge, up to N^-2/3


def test_linear_phase_gain_matches_finite_network():
    """G(t) = E v^T R u of the linearised flow, N = 300, 24 (u0, v0) draws, sigma drawn."""
    rng = np.random.default_rng(22)
    sigma, c, a0, N = rng.uniform(0.2, 0.5), 0.2, 0.05, 300
    z = 1 + c
    J = rng.standard_normal((N, N)) / np.sqrt(N)
    R = np.linalg.inv(z * np.eye(N) - sigma * J)
    t = np.array([1.0, 2.0, 3.0])
    Y0 = []
    for _ in range(24):
        g = rng.standard_normal((2, N))
        e1 = g[0] / np.linalg.norm(g[0])
        e2 = g[1] - (g[1] @ e1) * e1
        Y0.append(a0 * np.concatenate([e1, e2 / np.linalg.norm(e2)]))
    Y0 = np.array(Y0).T  # (2N, draws): [u0; v0]
    Mx = np.block([[np.zeros((N, N)), R.T], [R, np.zeros((N, N))]])
    G = np.array(
        [np.einsum("id,ij,jd->d", Y[N:], R, Y[:N]) for Y in (sla.expm(tt * Mx) @ Y0 for tt in t)]
    ).T
    m, se = G.mean(0), G.std(0, ddof=1) / np.sqrt(len(G))
    theory = th.linear_phase_gain(sigma, c, 1.0, a0, t)
    assert np.all(agreement_ratio(theory, m, se, 3, 0.03, n=len(G)) <= 1), (m, theory)


def test_plateau_shortens_with_sigma_as_predicted():
    """Escape time at N = 48, sigma drawn in [0.15, 0.35], 3 seeds vs linear-phase theory."""
    rng = np.random.default_rng(23)
    sigma = rng.uniform(0.15, 0.35)
    c, a0 = 0.2, 0.05
    te = []
    for s in range(3):
        W0, u0, v0 = sim.init_network(sim.key_for(s, 52), 48, sigma, a0)
        run = sim.gradient_flow(W0, u0, v0, c, 1.0, 0.05, 100, every=50)
        te.append(th.plateau_end(0.05 * np.arange(run["loss"].size), run["loss"]))
    theory = th.escape_time_sigma(sigma, c, 1.0, a0)
    t0 = th.escape_time_sigma(0.0, c, 1.0, a0)
    assert theory < t0
    assert np.mean(te) < t0 - 0.1
    assert np.mean(te) == pytest.approx(theory, rel=0.06)


# --------------------------------------------------------------------------
# (A7)-(A9) lazy regime


def test_lazy_loss_spec_numbers():
    """Spec 3.5: t L(t) at t = 1e2, 1e3, 1e4 for rho = 0.8, 1 and 1.1."""
    t = np.array([1e2, 1e3, 1e4])
    np.testing.assert_allclose(
        t * th.lazy_loss(0.5, 0.6, 1.0, t), [0.027, 0.012, 0.0065], rtol=0.03
    )
    np.testing.assert_allclose(t * th.lazy_loss(0.8, 0.2, 1.0, t), [0.55, 0.54, 0.54], rtol=0.02)
    np.testing.assert_allclose(t * th.lazy_loss(0.5, 0.45, 1.0, t), [0.34, 0.41, 0.52], rtol=0.02)


def test_lazy_loss_matches_kernel_on_a_grid():
    """Feature-Gram formula vs the spec's Nystrom solution of (A8) on a tau grid."""
    rng = np.random.default_rng(31)
    for _ in range(2):
        sigma, c = rng.uniform(0.3, 0.6), rng.uniform(0.1, 0.8)
        w = rng.choice([0.0, 0.8])
        d = 0.05
        tau = d * (np.arange(int(30 / (1 - sigma) / d)) + 0.5)
        K = th.bessel_correlation(sigma, tau[:, None], tau[None, :]) * d
        kap, U = np.linalg.eigh(K)
        coef = U.T @ (np.sqrt(d) * np.exp(-c * tau) * np.cos(w * tau))
        t = np.array([1.0, 10.0, 100.0])
        grid = 0.5 * np.exp(-2 * np.outer(t, np.clip(kap, 0, None))) @ coef**2
        np.testing.assert_allclose(th.lazy_loss(sigma, c, 1.0, t, w), grid, rtol=5e-3)


def test_lazy_threshold_at_random_parameters():
    """rho = |1 - c* + i w*|/sigma drawn inside (learnable, rho in [0.5, 0.8]) or outside
    (rho in [1.2, 2] for the integrator, [1.6, 2] for the oscillator): t L(t) decreases
    over [1e2, 1e4] exactly inside.  Near rho = 1 the asymptotic sign appears only at
    later times (docs/rnn_integration.md), so the draws keep away from it."""
    rng = np.random.default_rng(32)
    t = np.array([1e2, 1e4])
    for i in range(8):
        oscillator, inside = i % 2 == 1, (i // 2) % 2 == 0
        rho = rng.uniform(0.5, 0.8) if inside else rng.uniform(1.6 if oscillator else 1.2, 2.0)
        sigma = rng.uniform(0.4, min(0.85, 0.95 / rho))
        w = rng.uniform(0.05, 0.2) * sigma if oscillator else 0.0
        c = 1 - np.sqrt((rho * sigma) ** 2 - w * w)  # >= 0.05 by construction
        tL = t * th.lazy_loss(sigma, c, 1.0, t, w)
        learnable = th.lazy_learnable(sigma, c, w)
        assert learnable == inside
        assert (tL[1] < tL[0]) == learnable, (sigma, c, w, rho, tL)
        norm = th.lazy_rkhs_norm2(sigma, c, w)
        assert np.isfinite(norm) == learnable
        if learnable and w == 0:
            # |f*|_K^2 = sum_k rho^(2k) and the theory's L(t) <= |f*|_K^2 / (4 e eta t)
            assert norm == pytest.approx(1 / (1 - rho * rho), rel=1e-9)
            assert np.all(th.lazy_loss(sigma, c, 1.0, t) <= norm / (4 * np.e * t))
    with pytest.raises(ConfigError, match="sigma"):
        th.lazy_learnable(1.5, 0.2)


def test_readout_simulation_matches_bessel_kernel_theory():
    """Readout-only gradient flow at N = 300, sigma in [0.4, 0.6], rho in {0.8, 1.5},
    24 independent networks, t <= 10: 3 SE (Student-t) + 3 %."""
    rng = np.random.default_rng(33)
    sigma = rng.uniform(0.4, 0.6)
    cs = (1 - 0.8 * sigma, 1 - 1.5 * sigma)
    t = np.array([1.0, 3.0, 10.0])
    L = np.array(
        [
            sim.readout_lazy_loss(
                *sim.init_network(sim.key_for(d, 53), 300, sigma, 1.0)[:2], cs, 1.0, t
            )
            for d in range(24)
        ]
    )
    for j, c in enumerate(cs):
        m, se = L[:, j].mean(0), L[:, j].std(0, ddof=1) / np.sqrt(24)
        theory = th.lazy_loss(sigma, c, 1.0, t)
        assert np.all(agreement_ratio(theory, m, se, 3, 0.03, n=24) <= 1), (sigma, c, m, theory)


def test_readout_loss_finite_n_krylov_identity():
    """At finite N, P = X G X^T and b = X b_inf with X = [u, Ju, J^2 u, ...]: the
    simulation equals the theory's formula with G -> R G R^T (X = QR): the finite-N
    correction is the Krylov Gram X^T X != I."""
    sigma, c, N = 0.5, 0.45, 200
    W0, u0, _ = sim.init_network(sim.key_for(1, 54), N, sigma, 1.0)
    t = np.array([1.0, 10.0, 100.0])
    L_sim = sim.readout_lazy_loss(W0, u0, c, 1.0, t)
    K = 50
    X = np.empty((N, K))
    x = u0.copy()
    for k in range(K):
        X[:, k] = x
        x = W0 @ x / sigma
    R = np.linalg.qr(X)[1]
    G = th.lazy_feature_gram(sigma, K)
    b = th._lazy_target_coeffs(sigma, c, 0.0, K)
    g, U = np.linalg.eigh(R @ G @ R.T)
    g = np.clip(g, 1e-300, None)
    L_kr = (
        0.5 * th.target_norm2(c) - 0.5 * (-np.expm1(-2 * np.outer(t, g)) / g) @ (U.T @ R @ b) ** 2
    )
    np.testing.assert_allclose(L_sim, L_kr, rtol=1e-6)
    assert not np.allclose(L_sim, th.lazy_loss(sigma, c, 1.0, t), rtol=1e-3)


def test_bessel_law_at_random_sigma():
    rng = np.random.default_rng(34)
    sigma = rng.uniform(0.3, 0.8)
    taus = np.array([0.5, 2.0, 3.0])
    C = np.array(
        [sim.bulk_correlation(sim.key_for(s, 55), 500, sigma, taus, 10).mean(-1) for s in range(4)]
    )
    m, se = C.mean(0), C.std(0, ddof=1) / 2
    theory = th.bessel_correlation(sigma, taus[:, None], taus[None, :])
    assert np.all(agreement_ratio(theory, m, se, 3, 0.02, n=4) <= 1), (sigma, m, theory)


# --------------------------------------------------------------------------
# damped oscillator


def test_oscillator_saddle_is_best_single_exponential():
    rng = np.random.default_rng(41)
    c, w = rng.uniform(0.1, 0.4), rng.uniform(0.6, 1.5)
    sad = th.oscillator_saddle(c, w)

    def loss(p):
        A, x = p
        # 1/2 int (A e^{-x tau} - f*)^2 in closed form
        return 0.5 * (
            A * A / (2 * x) - 2 * A * (x + c) / ((x + c) ** 2 + w * w)
        ) + 0.5 * th.target_norm2(c, w)

    best = optimize.minimize(loss, [1.0, 1.0], bounds=[(0, 10), (1e-3, 20)], tol=1e-14)
    assert sad["loss"] == pytest.approx(best.fun, rel=1e-6)
    assert sad["eigenvalue"] == pytest.approx(1 - best.x[1], abs=1e-4)
    # spec 3.6 numbers at c* = 0.2, omega* = 1: plateau L ~ 0.36 with a real pair
    r = th.reduced_dynamics(0.2, 1.0, 0.05, [0.0, 30.0], omega_star=1.0)
    assert r.loss.iloc[1] == pytest.approx(th.oscillator_saddle(0.2, 1.0)["loss"], rel=2e-3)
    assert r.eig_imag.iloc[1] == 0.0 and r.eig2_imag.iloc[1] == 0.0


def test_oscillator_converges_to_the_target_pair():
    rng = np.random.default_rng(42)
    c, w = rng.uniform(0.15, 0.4), rng.uniform(0.5, 1.5)
    r = th.reduced_dynamics(c, 1.0, 1.0, [0.0, 150.0], omega_star=w)
    lam = r.eig_real.iloc[-1] + 1j * r.eig_imag.iloc[-1]
    assert abs(lam - th.target_eigenvalues(c, w)[0]) < 1e-3
    assert r.eig2_imag.iloc[-1] == pytest.approx(-w, abs=1e-3)


# --------------------------------------------------------------------------
# stochastic BPTT on the white-noise-driven RNN


def test_bptt_gradient_is_the_stationary_gradient():
    """E[BPTT minibatch gradient] = grad (A1) up to O(dt) (8 x 512 trials, dt = 0.05)."""
    rng = np.random.default_rng(61)
    W, u, v = _random_net(rng, 5, 0.3)
    _, dW, du, dv = th.h2_loss_and_grads(W, u, v, 0.5)
    exact = np.concatenate([dW.ravel(), du, dv])
    g = np.array(
        [
            np.concatenate(
                [
                    x.ravel()
                    for x in sim.bptt_gradient(sim.key_for(s, 56), W, u, v, 0.5, batch=512)[1:]
                ]
            )
            for s in range(8)
        ]
    )
    err = np.linalg.norm(g.mean(0) - exact) / np.linalg.norm(exact)
    se = np.linalg.norm(g.std(0, ddof=1)) / np.sqrt(8) / np.linalg.norm(exact)
    assert err < 0.04 + 3 * se


def test_bptt_sgd_follows_gradient_flow():
    c, a0 = 0.5, 0.2
    esc = []
    for s in range(3):
        W0, u0, v0 = sim.init_network(sim.key_for(s, 57), 8, 0.0, a0)
        r = sim.bptt_sgd(sim.key_for(s, 58), W0, u0, v0, c, 1.0, 0.05, 160, batch=32, every=2)
        L = sim.exact_losses(r["W"], r["u"], r["v"], c)
        esc.append(th.plateau_end(r["t"], L))
        assert np.max(np.linalg.eigvals(r["W"][-1]).real) == pytest.approx(0.5, abs=0.01)
    red = th.reduced_dynamics(c, 1.0, a0, r["t"])
    assert np.mean(esc) == pytest.approx(th.plateau_end(red.t, red.loss), rel=0.05)


# --------------------------------------------------------------------------
# bad input


def test_non_hurwitz_and_bad_targets_raise_clear_errors():
    N = 4
    W = np.diag([1.2, 0.1, 0.0, -0.3])
    u = v = np.ones(N)
    with pytest.raises(ConfigError, match="Hurwitz") as info:
        th.h2_loss_and_grads(W, u, v, 0.2)
    assert info.value.field == "W"
    for bad in (0.0, -0.1, np.nan):
        with pytest.raises(ConfigError, match="diverges") as info:
            th.h2_loss_and_grads(np.zeros((N, N)), u, v, bad)
        assert info.value.field == "c_star"
    with pytest.raises(ConfigError) as info:
        th.h2_loss_and_grads(np.zeros((N, N)), u, v, 0.2, omega_star=-1)
    assert info.value.field == "omega_star"
    with pytest.raises(ConfigError) as info:
        th.h2_loss_and_grads(np.zeros((N, N)), np.ones(3), v, 0.2)
    assert info.value.field == "u"
    with pytest.raises(ConfigError, match="Hurwitz") as info:
        sim.gradient_flow(W, u, v, 0.2, 1.0, 0.05, 10)
    assert info.value.field == "W0"
    with pytest.raises(ConfigError, match="Hurwitz") as info:
        th.lazy_loss(1.05, 0.2, 1.0, [1.0])
    assert info.value.field == "sigma"
    with pytest.raises(ConfigError) as info:
        th.escape_time(0.2, 1.0, 1.5)
    assert info.value.field == "A0"
    with pytest.raises(ConfigError) as info:
        th.reduced_dynamics(0.2, -1.0, 0.1, [0.0, 1.0])
    assert info.value.field == "eta"


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda W, u, v: sim.gradient_flow(W, u[:3], v, 0.2, 1.0, 0.05, 10), "W0, u0, v0"),
        (lambda W, u, v: sim.gradient_flow(W * np.nan, u, v, 0.2, 1.0, 0.05, 10), "W0"),
        (lambda W, u, v: sim.gradient_flow(W, u, v, 0.2, -1.0, 0.05, 10), "eta"),
        (lambda W, u, v: sim.gradient_flow(W, u, v, 0.2, 1.0, 0.0, 10), "dt"),
        (lambda W, u, v: sim.gradient_flow(W + 0j, u, v, 0.2, 1.0, 0.05, 10), "W0"),
        (
            lambda W, u, v: sim.bptt_sgd(sim.key_for(1), 1.5 * np.eye(4), u, v, 0.2, 1.0, 0.1, 10),
            "W0",
        ),
        (lambda W, u, v: sim.bptt_sgd(sim.key_for(1), W, u, v, 0.2, 1.0, -0.1, 10), "lr_time"),
        (lambda W, u, v: th.h2_loss_and_grads(W, u, v, "abc"), "c_star"),
        (lambda W, u, v: th.h2_loss_and_grads(W, u, v, None), "c_star"),
        (lambda W, u, v: th.h2_loss_and_grads(W + 1j, u, v, 0.2), "W"),
        (lambda W, u, v: th.reduced_dynamics(0.2, 1.0, 0.1, [0.0, 1.0], theta=np.nan), "theta"),
        (lambda W, u, v: th.lazy_learnable([0.5, 1.0], 0.2), "sigma"),
    ],
)
def test_bad_inputs_name_the_argument(call, field):
    W, u, v = 0.1 * np.eye(4), np.ones(4), np.ones(4)
    with pytest.raises(ConfigError) as info:
        call(W, u, v)
    assert info.value.field == field


def test_diverging_flow_and_failing_solver():
    # a huge step overshoots the outlier past 1: W - I loses stability -> DivergenceError
    W0, u0, v0 = sim.init_network(sim.key_for(0, 59), 4, 0.0, 1.0)
    with pytest.raises(DivergenceError) as info:
        sim.gradient_flow(W0, u0, v0, 0.05, 1.0, 2.0, 20)
    assert 0 < info.value.step < 20
    # the same with the fixed-step reduced system: SolverError with the residual
    with pytest.raises(SolverError, match="Hurwitz") as info:
        th.reduced_dynamics(0.2, 1.0, 1.0, [0.0, 60.0], dt=3.0)
    assert info.value.residual >= 0


def test_config_rules_and_cli_errors(tmp_path):
    cfg = STUDY.default_config().validate()
    with pytest.raises(ConfigError, match="diverges") as info:
        cfg.with_overrides({"rich.c_star": "0"})
    assert info.value.field == "rich.c_star"
    with pytest.raises(ConfigError, match="Hurwitz") as info:
        cfg.with_overrides({"bulk.sigma": "1.2", "bulk.sigmas": "0.1,1.2"})
    assert info.value.field == "bulk.sigma"
    with pytest.raises(ConfigError, match="record_dt"):
        cfg.with_overrides({"rich.record_dt": "0.07"})
    with pytest.raises(ConfigError, match=r"bulk\.sigmas.*sigma=0\.3"):
        cfg.with_overrides({"bulk.sigmas": "0.1,0.2"})
    r = CliRunner().invoke(
        app, ["run", "rnn_integration", "--set", "rich.c_star=-0.1", "--out", str(tmp_path)]
    )
    assert r.exit_code == 2
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: rich.c_star=") and "diverges" in lines[0]
