"""Theory of linear RNNs learning to integrate white noise.

Bordelon, Cotler, Pehlevan, Zavatone-Veth, "Dynamically Learning to Integrate
in Recurrent Neural Networks" (arXiv 2503.18754).  Only the paper's abstract
was available, so the equations are a self-contained formulation: the labels
(A1)-(A9) are those of ``docs/rnn_integration.md``, where everything is
derived (each function names its section there).

Every public function validates its arguments once and then calls private,
unchecked helpers (``_target``, ``_reduced``, ...), so that no argument is
checked twice along one call path.

Model and conventions
---------------------
Continuous time, N neurons, leak 1::

    dh/dt = -h + W h + u x(t),   y = v.h,   E[x(t) x(t')] = delta(t - t')

The network's impulse response is f(tau) = v^T exp((W - I) tau) u; the target
filter is f*(tau) = exp(-c* tau) (integrator, ``omega_star = 0``) or
exp(-c* tau) cos(omega* tau) (damped oscillator).  The stationary loss is the
L2 distance of the filters (Ito isometry),
L = 1/2 E[(y - y*)^2] = 1/2 int_0^inf (f - f*)^2 dtau             (A1)
which needs c* > 0 and W - I Hurwitz.  Training is gradient flow with one rate
eta for (W, u, v):  d theta/dt = -eta grad L.  The target eigenvalue of W is
1 - c* (1 - c* +- i omega* for the oscillator).  The random initial
recurrence is W0 = sigma J with J_ij ~ N(0, 1/N) (bulk: the disk |z| <= sigma).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import linalg as sla
from scipy import special
from scipy.optimize import brentq

from theorylab.core.errors import (
    ConfigError,
    SolverError,
    check_array,
    check_int,
    check_scalar,
)
from theorylab.core.solvers import integrate_ode

__all__ = [
    "bessel_correlation",
    "escape_offset",
    "escape_time",
    "escape_time_reduced",
    "escape_time_sigma",
    "h2_loss_and_grads",
    "lazy_feature_gram",
    "lazy_learnable",
    "lazy_loss",
    "lazy_rkhs_norm2",
    "linear_phase_gain",
    "oscillator_saddle",
    "outlier_ode",
    "outlier_ode_rates",
    "plateau_end",
    "reduced_dynamics",
    "reduced_rhs",
    "resolvent_singular_values",
    "target_eigenvalues",
    "target_norm2",
    "target_system",
]


# ----------------------------------------------------------------------------
# argument checks (the public edge)


def _check_c_star(c_star) -> float:
    return check_scalar(
        "c_star",
        c_star,
        "must be > 0: the stationary loss 1/2 int (f - f*)^2 diverges for a target "
        "exp(-c* tau) with c* <= 0 (perfect integration needs a finite-horizon loss)",
        lambda c: c > 0,
    )


def _check_omega(omega_star) -> float:
    return check_scalar("omega_star", omega_star, "must be finite and >= 0", lambda w: w >= 0)


def _check_positive(name: str, value) -> float:
    return check_scalar(name, value, "must be finite and > 0", lambda x: x > 0)


def _check_times(t) -> np.ndarray:
    t = check_array("t", t, nonnegative=True, ndim=1)
    if t.size == 0 or np.any(np.diff(t) <= 0):
        raise ConfigError("t", "array", "must be a non-empty increasing array of times >= 0")
    return t


def _check_sigma(sigma) -> float:
    return check_scalar(
        "sigma",
        sigma,
        "must be in (0, 1): the bulk of W0 = sigma J fills |z| <= sigma, and W0 - I is "
        "Hurwitz only for sigma < 1",
        lambda s: 0 < s < 1,
    )


def _check_sigmas(sigma) -> np.ndarray:
    """Bulk radii in [0, 1) (scalar or array)."""
    s = check_array("sigma", sigma, nonnegative=True)
    if np.any(s >= 1):
        raise ConfigError("sigma", sigma, "must be in [0, 1): W0 - I is Hurwitz only for sigma < 1")
    return s


def _check_hurwitz(name: str, W: np.ndarray) -> None:
    """Raise a :class:`ConfigError` on ``name`` unless every eigenvalue of W has real part < 1."""
    top = float(np.max(np.linalg.eigvals(W).real))
    if top >= 1.0:
        raise ConfigError(
            name,
            f"matrix with max Re eig = {top:.6g}",
            f"{name} - I must be Hurwitz (every eigenvalue of {name} must have real part < 1); "
            "otherwise the network's response does not decay and the stationary loss is "
            "infinite",
        )


# ----------------------------------------------------------------------------
# target filters


def _target(c: float, w: float):
    if w == 0.0:
        return np.array([[-c]]), np.array([1.0]), np.array([1.0])
    return np.array([[-c, -w], [w, -c]]), np.array([1.0, 0.0]), np.array([1.0, 0.0])


def _norm2(c: float, w: float) -> float:
    return 1.0 / (4 * c) + c / (4 * (c * c + w * w))


def target_system(c_star: float, omega_star: float = 0.0):
    """State-space realisation (A*, B*, C*) of the target filter.

    docs/rnn_integration.md, section "(A2) Exact loss and gradients" (the
    realisation stacked with the network in the error system).

    Parameters
    ----------
    c_star : float
        Decay rate of the target filter, > 0.
    omega_star : float
        Frequency of the damped oscillator (0: the leaky integrator).

    Returns
    -------
    A, B, C : numpy.ndarray, shapes (m, m), (m,), (m,)
        f*(tau) = C exp(A tau) B; m = 1 for the integrator, 2 for the oscillator.
    """
    return _target(_check_c_star(c_star), _check_omega(omega_star))


def target_norm2(c_star: float, omega_star: float = 0.0) -> float:
    """Target norm |f*|^2 = int_0^inf f*(tau)^2 dtau, the constant term of the loss (A1).

    docs/rnn_integration.md, section "Model and conventions", Eq. (A1).  For
    f*(tau) = e^{-c* tau} cos(omega* tau): 1/(4c) + c/(4(c^2 + omega^2));
    1/(2c) for the integrator (omega* = 0).

    Parameters
    ----------
    c_star : float
        Target decay, > 0.
    omega_star : float
        Target frequency, >= 0.

    Returns
    -------
    float
    """
    return _norm2(_check_c_star(c_star), _check_omega(omega_star))


def target_eigenvalues(c_star: float, omega_star: float = 0.0) -> np.ndarray:
    """Eigenvalue(s) of W that realise the target: 1 - c* (+- i omega*).

    The fixed point of the reduced dynamics (A5) (docs/rnn_integration.md,
    section "Model and conventions": the loss vanishes when W's outlier
    matches the target filter's pole).

    Parameters
    ----------
    c_star : float
        Target decay, > 0.
    omega_star : float
        Target frequency, >= 0 (0: one real eigenvalue).

    Returns
    -------
    numpy.ndarray of complex, shape (1,) or (2,)
    """
    c = _check_c_star(c_star)
    w = _check_omega(omega_star)
    if w == 0.0:
        return np.array([1.0 - c + 0j])
    return np.array([1.0 - c + 1j * w, 1.0 - c - 1j * w])


# ----------------------------------------------------------------------------
# (A2) exact loss and gradients for any N


def _lyap_pair(A: np.ndarray, BB: np.ndarray, CC: np.ndarray):
    """Solve A P + P A^T + BB = 0 and A^T Q + Q A + CC = 0.

    Tiny systems (n <= 6, the reduced dynamics) use the Kronecker form
    (I (x) A + A (x) I) vec P = -vec BB and its transpose for Q (one batched
    solve); larger ones SciPy's Bartels-Stewart solver.
    """
    n = A.shape[0]
    if n <= 6:
        eye = np.eye(n)
        K = (eye[:, None, :, None] * A[None, :, None, :]).reshape(n * n, n * n)
        K += (A[:, None, :, None] * eye[None, :, None, :]).reshape(n * n, n * n)
        rhs = -np.stack([BB.reshape(-1, order="F"), CC.reshape(-1, order="F")])[..., None]
        P, Q = np.linalg.solve(np.stack([K, K.T]), rhs)[..., 0]
        P, Q = P.reshape(n, n, order="F"), Q.reshape(n, n, order="F")
    else:
        P = sla.solve_continuous_lyapunov(A, -BB)
        Q = sla.solve_continuous_lyapunov(A.T, -CC)
    return 0.5 * (P + P.T), 0.5 * (Q + Q.T)


def _h2(W, u, v, tA, tB, tC):
    """Loss, gradients and Gramian of the error system (no input checks)."""
    N = W.shape[0]
    m = tA.shape[0]
    A = np.zeros((N + m, N + m))
    A[:N, :N] = W - np.eye(N)
    A[N:, N:] = tA
    B = np.concatenate([u, tB])
    C = np.concatenate([v, -tC])
    P, Q = _lyap_pair(A, np.outer(B, B), np.outer(C, C))
    loss = 0.5 * C @ P @ C
    dW = (Q @ P)[:N, :N]
    du = (Q @ B)[:N]
    dv = (P @ C)[:N]
    return loss, dW, du, dv, P


def h2_loss_and_grads(W, u, v, c_star: float, omega_star: float = 0.0):
    """Exact stationary loss (A1) and its gradients for any N, via Lyapunov equations (A2).

    docs/rnn_integration.md, section "(A2) Exact loss and gradients".  The
    error system stacks the network and a realisation (A*, B*, C*) of the
    target: A = diag(W - I, A*), B = [u; B*], C = [v^T, -C*].  With the
    controllability and observability Gramians,
    A P + P A^T + B B^T = 0 and A^T Q + Q A + C^T C = 0,
    L = 1/2 C P C^T, dL/dA = Q P, dL/dB = Q B, dL/dC = C P, hence
    dL/dW = (QP)[:N, :N], dL/du = (QB)[:N], dL/dv = (PC^T)[:N].

    Parameters
    ----------
    W : array_like, shape (N, N)
        Recurrent weights; every eigenvalue must have real part < 1.
    u, v : array_like, shape (N,)
        Read-in and read-out vectors.
    c_star : float
        Target decay rate, > 0.
    omega_star : float
        Target frequency (0: leaky integrator).

    Returns
    -------
    loss : float
    dW : numpy.ndarray, shape (N, N)
    du, dv : numpy.ndarray, shape (N,)

    Raises
    ------
    ConfigError
        If W - I is not Hurwitz (the loss is infinite), c* <= 0, or the shapes
        disagree.
    """
    W = check_array("W", W, ndim=2)
    N = W.shape[0]
    if W.shape != (N, N) or N == 0:
        raise ConfigError("W", f"array of shape {W.shape}", "must be a non-empty square matrix")
    u = check_array("u", u, ndim=1)
    v = check_array("v", v, ndim=1)
    for name, x in (("u", u), ("v", v)):
        if x.shape != (N,):
            raise ConfigError(name, f"array of shape {x.shape}", f"must have shape ({N},) like W")
    tA, tB, tC = target_system(c_star, omega_star)
    _check_hurwitz("W", W)
    loss, dW, du, dv, _ = _h2(W, u, v, tA, tB, tC)
    return float(loss), dW, du, dv


# ----------------------------------------------------------------------------
# (A5) exact reduction when W0 = 0


def _reduced_rhs(tA, tB, tC, eta: float):
    def rhs(_t, y):
        try:
            _, dM, da, db, _ = _h2(y[4:].reshape(2, 2), y[:2], y[2:4], tA, tB, tC)
        except np.linalg.LinAlgError:  # a trial step left the Hurwitz region: reject it
            return np.full(8, np.nan)
        return -eta * np.concatenate([da, db, dM.ravel()])

    return rhs


def reduced_rhs(c_star: float, eta: float, omega_star: float = 0.0):
    """Right-hand side of the exact W0 = 0 system (A5) on y = [a (2), b (2), M (2x2) row-major].

    docs/rnn_integration.md, section "(A5) Exact reduction for W0 = 0":
    u = E a, v = E b, W = E M E^T with E an orthonormal basis of span(u0, v0);
    (a, b, M) follow gradient flow of the N = 2 loss, so this is (A2) with N = 2.

    Parameters
    ----------
    c_star : float
        Target decay, > 0.
    eta : float
        Learning rate, > 0.
    omega_star : float
        Target frequency, >= 0 (0: integrator).

    Returns
    -------
    callable
        ``rhs(t, y) -> dy/dt`` for :func:`scipy.integrate.solve_ivp`, y of shape (8,).
    """
    tA, tB, tC = target_system(c_star, omega_star)
    return _reduced_rhs(tA, tB, tC, _check_positive("eta", eta))


def _rk4(rhs, y0, t, dt: float) -> np.ndarray:
    """Classical RK4 with fixed step dt, output at the times t (multiples of dt apart)."""
    gaps = np.diff(t) / dt
    n_steps = np.rint(gaps).astype(int)
    if np.any(np.abs(gaps - n_steps) > 1e-9 * np.maximum(1, gaps)):
        raise ConfigError("t", "array", f"every gap must be a multiple of dt={dt:g}")
    y = np.asarray(y0, dtype=float).copy()
    out = [y.copy()]
    step = 0
    for n in n_steps:
        for _ in range(n):
            k1 = rhs(0.0, y)
            k2 = rhs(0.0, y + 0.5 * dt * k1)
            k3 = rhs(0.0, y + 0.5 * dt * k2)
            k4 = rhs(0.0, y + dt * k3)
            y = y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            step += 1
            top = (
                np.max(np.linalg.eigvals(y[4:].reshape(2, 2)).real)
                if np.all(np.isfinite(y))
                else np.inf
            )
            if not top < 1:
                raise SolverError(
                    f"fixed-step RK4 (dt={dt:g}) of the reduced system (A5) left the region where "
                    f"M - I is Hurwitz at step {step} (residual: max Re eig M - 1)",
                    residual=top - 1,
                )
        out.append(y.copy())
    return np.array(out)


def _leading_pair(M: np.ndarray):
    """Eigenvalues of a 2x2 matrix: (leading, other); leading has the larger real part
    (positive imaginary part for a complex pair)."""
    ev = np.linalg.eigvals(M)
    order = np.lexsort((-ev.imag, -ev.real))
    return ev[order[0]], ev[order[1]]


def _reduced(target, eta, a0, t, theta=np.pi / 2, rtol=1e-10, atol=1e-12, dt=None):
    """:func:`reduced_dynamics` on checked arguments (target = (A*, B*, C*))."""
    tA, tB, tC = target
    y0 = np.zeros(8)
    y0[0] = a0
    y0[2:4] = a0 * np.cos(theta), a0 * np.sin(theta)
    rhs = _reduced_rhs(tA, tB, tC, eta)
    if dt is None:
        ys = integrate_ode(
            rhs, y0, t, rtol=rtol, atol=atol, what="reduced (W0 = 0) gradient flow (A5)"
        )
    else:
        ys = _rk4(rhs, y0, t, dt)
    rows = []
    for y in ys:
        a, b, M = y[:2], y[2:4], y[4:].reshape(2, 2)
        loss = _h2(M, a, b, tA, tB, tC)[0]
        e1, e2 = _leading_pair(M)
        rows.append((loss, e1.real, e1.imag, e2.real, e2.imag, a @ b, a @ a - b @ b))
    out = pd.DataFrame(
        rows,
        columns=["loss", "eig_real", "eig_imag", "eig2_real", "eig2_imag", "gain", "imbalance"],
    )
    out.insert(0, "t", t)
    return out


def reduced_dynamics(
    c_star: float,
    eta: float,
    a0: float,
    t,
    omega_star: float = 0.0,
    theta: float = np.pi / 2,
    *,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    dt: float | None = None,
) -> pd.DataFrame:
    """Loss and outlier eigenvalues of the exact W0 = 0 reduction (A5), any N.

    docs/rnn_integration.md, section "(A5) Exact reduction for W0 = 0".
    Initial condition: a = (a0, 0), b = (a0 cos theta, a0 sin theta), M = 0,
    i.e. |u0| = |v0| = a0 at angle theta (pi/2: orthogonal, the large-N
    typical case).  The outlier eigenvalues of the N-neuron W are the
    eigenvalues of M; every other eigenvalue is 0.

    Parameters
    ----------
    c_star, eta, a0 : float
        Target decay (> 0), learning rate (> 0), read-in/out norm (> 0).
    t : array_like, shape (T,)
        Increasing output times, starting at the first (usually 0).
    omega_star : float
        Target frequency (0: integrator).
    theta : float
        Angle between u0 and v0.
    rtol, atol : float
        Integrator tolerances (:func:`scipy.integrate.solve_ivp`, RK45).
    dt : float, optional
        Use classical RK4 with this fixed step instead (every gap of ``t`` must
        be a multiple of dt).  The reduction is exact step by step for any
        Runge-Kutta scheme, so a full-network simulation with the same scheme
        and step must agree to rounding; that isolates the reduction from
        integration error.

    Returns
    -------
    pandas.DataFrame, T rows
        Columns ``t, loss, eig_real, eig_imag`` (leading outlier: largest real
        part, positive imaginary part for a pair), ``eig2_real, eig2_imag`` (the
        other eigenvalue of M), ``gain`` (u.v) and ``imbalance``
        (|u|^2 - |v|^2, conserved by (A4)).

    Raises
    ------
    SolverError
        If the integrator fails.
    """
    target = target_system(c_star, omega_star)
    eta = _check_positive("eta", eta)
    a0 = _check_positive("a0", a0)
    t = _check_times(t)
    theta = check_scalar("theta", theta, "must be a finite angle (radians)")
    dt = None if dt is None else _check_positive("dt", dt)
    return _reduced(target, eta, a0, t, theta, rtol, atol, dt)


# ----------------------------------------------------------------------------
# (A6) the 2-D outlier ODE (integrator)


def _outlier_ode(c, eta, A0, t, rtol=1e-10) -> pd.DataFrame:
    """:func:`outlier_ode` on checked arguments."""

    def rhs(_t, y):
        A, lam = y
        x = 1.0 - lam
        return [
            -eta * A * (A / x - 2.0 / (x + c)),
            eta * (A / (x + c) ** 2 - A * A / (4 * x * x)),
        ]

    ys = integrate_ode(rhs, [A0, 0.0], t, rtol=rtol, atol=1e-13, what="outlier ODE (A6)")
    A, lam = ys[:, 0], ys[:, 1]
    x = 1.0 - lam
    loss = 0.5 * (A * A / (2 * x) - 2 * A / (x + c) + 1 / (2 * c))
    return pd.DataFrame({"t": t, "loss": loss, "eigenvalue": lam, "gain": A})


def outlier_ode(c_star: float, eta: float, A0: float, t, *, rtol: float = 1e-10) -> pd.DataFrame:
    """The 2-D outlier ODE (A6) on the aligned, balanced manifold u = v = sqrt(A) e, W = lam e e^T.

    docs/rnn_integration.md, section "(A6) The 2-D outlier ODE, escape time
    and local rates".  With x = 1 - lam the filter is A exp(-x tau) and
    L = 1/2 [A^2/(2x) - 2A/(x + c*) + 1/(2c*)],
    dA/dt = -eta A [A/x - 2/(x + c*)],
    dlam/dt = eta [A/(x + c*)^2 - A^2/(4 x^2)].
    Unique stable fixed point lam = 1 - c*, A = 1, L = 0.

    Parameters
    ----------
    c_star, eta : float
        Target decay and learning rate, > 0.
    A0 : float
        Initial gain u.v on the manifold; |u0 + v0|^2/4 (= a0^2/2 for
        orthogonal read-in/out of norm a0) matches the full network's early phase.
    t : array_like, shape (T,)
        Increasing output times.
    rtol : float
        Relative tolerance of the adaptive integrator.

    Returns
    -------
    pandas.DataFrame, T rows
        Columns ``t, loss, eigenvalue, gain``.
    """
    c = _check_c_star(c_star)
    eta = _check_positive("eta", eta)
    A0 = _check_positive("A0", A0)
    return _outlier_ode(c, eta, A0, _check_times(t), rtol)


def outlier_ode_rates(c_star: float, eta: float) -> np.ndarray:
    """Local convergence rates of (A6) at its fixed point (lam, A) = (1 - c*, 1).

    docs/rnn_integration.md, section "(A6) The 2-D outlier ODE, escape time
    and local rates" (*Local rates*).  (A6) is gradient flow with metric
    diag(2A, 1) in (A, lam); at the fixed point the loss Hessian in
    (A, x = 1 - lam) is [[1/2c, -1/4c^2], [-1/4c^2, 1/4c^3]], so the Jacobian
    is -eta [[1/c, 1/(2c^2)], [1/(4c^2), 1/(4c^3)]] with trace
    -eta (1/c + 1/(4c^3)) and determinant eta^2/(8c^4).  The slow rate is
    eta/(2c(1 + 4c^2)) to leading order (-> eta/(2c) as c* -> 0), the fast one
    ~ eta/(4c^3): the final approach is stiff for small c*.

    Parameters
    ----------
    c_star : float
        Target decay, > 0.
    eta : float
        Learning rate, > 0.

    Returns
    -------
    numpy.ndarray, shape (2,)
        (slow, fast) decay rates.
    """
    c = _check_c_star(c_star)
    eta = _check_positive("eta", eta)
    tr = 1 / c + 1 / (4 * c**3)
    det = 1 / (8 * c**4)
    disc = np.sqrt(tr * tr - 4 * det)
    return eta * np.array([(tr - disc) / 2, (tr + disc) / 2])


def escape_time(c_star: float, eta: float, A0, refined: bool = False):
    """Plateau length (1 + c*)/(2 eta) ln(1/A0) of the rich regime.

    docs/rnn_integration.md, section "(A6) The 2-D outlier ODE, escape time
    and local rates" (*Escape time*).  In the early phase A grows as
    A0 exp(2 eta t/(1 + c*)) while lam ~ 0; the loss drops once A = O(1).  The
    slope in ln(1/A0) is exact as A0 -> 0; the time to fall from A = O(1) to
    L(0)/2 adds an A0-independent offset delta(c*)/eta (``refined=True``, from
    the 2-D ODE (A6): delta = -0.12 at c* = 0.2, -0.49 at c* = 0.5; see
    :func:`escape_offset`).

    Parameters
    ----------
    c_star, eta : float
        Target decay and learning rate, > 0.
    A0 : float or array_like
        Initial gain(s), in (0, 1).
    refined : bool
        Add the offset delta(c*)/eta.

    Returns
    -------
    float or numpy.ndarray
        Same shape as ``A0``.
    """
    c = _check_c_star(c_star)
    eta = _check_positive("eta", eta)
    A0a = check_array("A0", A0, positive=True)
    if np.any(A0a >= 1):
        raise ConfigError(
            "A0", A0, "must be in (0, 1): the law describes a plateau from small gain"
        )
    out = (1 + c) / (2 * eta) * np.log(1 / A0a)
    if refined:
        out = out + _escape_offset(c) / eta
    return float(out) if out.ndim == 0 else out


@lru_cache(maxsize=64)
def _escape_offset(c: float, A0: float = 1e-9) -> float:
    T = (1 + c) / 2 * np.log(1 / A0)
    t = np.linspace(0.0, T + 4 * (1 + c) + 5.0, 4001)
    r = _outlier_ode(c, 1.0, A0, t)
    return plateau_end(r.t, r.loss) - T


def escape_offset(c_star: float, A0: float = 1e-9) -> float:
    """delta(c*) = lim_{A0 -> 0} [t_1/2(A0) - (1 + c*)/2 ln(1/A0)] for eta = 1, from (A6).

    docs/rnn_integration.md, section "(A6) The 2-D outlier ODE, escape time
    and local rates" (*Escape time*).  t_1/2 is the first time the loss of the
    2-D outlier ODE falls below half its initial value; the limit is reached
    to ~A0 (evaluated at A0 = 1e-9).

    Parameters
    ----------
    c_star : float
        Target decay, > 0.
    A0 : float
        Initial gain at which the limit is evaluated, in (0, 1).

    Returns
    -------
    float
        delta(c*) (-0.123 at c* = 0.2).
    """
    c = _check_c_star(c_star)
    A0 = check_scalar("A0", A0, "must be in (0, 1)", lambda a: 0 < a < 1)
    return _escape_offset(c, A0)


def oscillator_saddle(c_star: float, omega_star: float) -> dict:
    """The single-real-mode plateau of the oscillator task.

    docs/rnn_integration.md, section "Damped oscillator" (*The plateau is the
    best single exponential*).  Small-init learning of
    f* = e^{-c tau} cos(omega tau) first fits the best single decaying
    exponential A e^{-x tau}: with <e^{-x tau}, f*> = (x + c)/((x + c)^2 + omega^2),
    the loss minimised over A is
    L(x) = 1/2 |f*|^2 - x (x + c)^2 / ((x + c)^2 + omega^2)^2, minimised over x > 0.
    The learned outlier eigenvalue is 1 - x (real) and the plateau loss is L(x).

    Parameters
    ----------
    c_star : float
        Target decay, > 0.
    omega_star : float
        Target frequency, >= 0.

    Returns
    -------
    dict
        ``eigenvalue`` (1 - x), ``loss``, ``gain`` (A), floats.
    """
    c = _check_c_star(c_star)
    w = _check_omega(omega_star)

    def neg_gain(x):
        return -x * (x + c) ** 2 / ((x + c) ** 2 + w * w) ** 2

    # d/dx log of the gain: 1/x + 2/(x+c) - 4(x+c)/((x+c)^2+w^2) = 0, unique root
    def dlog(x):
        return 1 / x + 2 / (x + c) - 4 * (x + c) / ((x + c) ** 2 + w * w)

    hi = 1.0
    while dlog(hi) > 0:
        hi *= 2
        if hi > 1e8:  # pragma: no cover - dlog < 0 for x > sqrt(3) (c + w) + ...
            raise SolverError("oscillator saddle: no maximum of the single-mode gain", hi)
    x = brentq(dlog, 1e-12, hi, xtol=1e-14)
    A = 2 * x * (x + c) / ((x + c) ** 2 + w * w)
    return {"eigenvalue": 1 - x, "loss": 0.5 * _norm2(c, w) + neg_gain(x), "gain": A}


# ----------------------------------------------------------------------------
# sigma > 0: the linear phase and the shortened plateau (derived in the docs)


def _singular_values(sg: float, z: float, nodes: int):
    """:func:`resolvent_singular_values` on checked arguments."""

    def coeffs(x):
        return sg**4, 2 * x * sg**2, x * x + sg**2 - z * z, x

    def disc(x):
        a, b, c, d = coeffs(x)
        return 18 * a * b * c * d - 4 * b**3 * d + b * b * c * c - 4 * a * c**3 - 27 * a * a * d * d

    # the support lies inside [|z| - 2 sigma, |z| + 2 sigma] (|J| -> 2)
    xs = np.linspace(max(abs(z) - 2.5 * sg, 1e-9), abs(z) + 2.5 * sg, 4001)
    d = disc(xs)
    idx = np.nonzero(np.diff(np.sign(d)))[0]
    if idx.size != 2:
        raise SolverError(
            "singular-value support of z - sigma J: expected one interval",
            residual=float(idx.size),
        )
    lo, hi = (brentq(disc, xs[i], xs[i + 1], xtol=1e-15) for i in idx)
    th_ = (np.arange(nodes) + 0.5) * np.pi / nodes
    s = lo + (hi - lo) * (1 - np.cos(th_)) / 2
    ds = (hi - lo) / 2 * np.sin(th_) * np.pi / nodes
    # companion-matrix roots of the cubic at every node, vectorised
    a, b, c, dd = coeffs(s)
    comp = np.zeros((nodes, 3, 3))
    comp[:, 0, :] = -np.stack([b / a, c / a, dd / a], axis=1)
    comp[:, 1, 0] = 1.0
    comp[:, 2, 1] = 1.0
    im = np.linalg.eigvals(comp).imag.max(axis=1)
    w = 2 / np.pi * im * ds
    total = w.sum()
    if abs(total - 1) > 1e-6:
        raise SolverError("singular-value density of z - sigma J: normalisation", abs(total - 1))
    return s, w / total


def resolvent_singular_values(sigma: float, z: float, nodes: int = 400):
    """Quadrature for the singular values s of Y = z I - sigma J at large N (Hermitisation).

    docs/rnn_integration.md, section "sigma > 0: the outlier leaves the bulk,
    and the plateau shortens" (used by the linear-phase theory).  The
    normalised trace r(x) = (1/2N) tr (H - x)^-1 of H = [[0, Y], [Y^T, 0]]
    obeys sigma^4 r^3 + 2 x sigma^2 r^2 + (x^2 + sigma^2 - z^2) r + x = 0; the
    singular-value density is (2/pi) Im r(x + i0) for x > 0.  For |z| > sigma
    the support is one interval [s-, s+] (the edges are the roots of the
    cubic's discriminant), integrated with the substitution
    s = s- + (s+ - s-)(1 - cos th)/2 and the midpoint rule (spectral accuracy
    for square-root edges).

    Parameters
    ----------
    sigma : float
        Radius of the bulk, in (0, |z|).
    z : float
        Shift (1 + c* for the integrator's resolvent ((1 + c*) I - W0)^-1).
    nodes : int
        Quadrature nodes, >= 1.

    Returns
    -------
    s, w : numpy.ndarray, shape (nodes,)
        Nodes and weights: sum w g(s) = lim (1/N) sum_k g(s_k(Y)).
    """
    z = check_scalar("z", z, "must be finite and nonzero", lambda x: x != 0)
    sg = check_scalar(
        "sigma", sigma, f"must be in (0, |z|) = (0, {abs(z):g})", lambda s: 0 < s < abs(z)
    )
    return _singular_values(sg, z, check_int("nodes", nodes, 1))


def _gain(sg: float, c: float, eta: float, a0: float, t: np.ndarray) -> np.ndarray:
    """:func:`linear_phase_gain` on checked arguments."""
    z = 1 + c
    if sg == 0.0:
        return a0 * a0 / z * np.sinh(2 * eta * t / z)
    s, w = _singular_values(sg, z, 400)
    sr = 1 / s  # singular values of R
    return a0 * a0 * (np.sinh(2 * eta * np.outer(t, sr)) * sr) @ w


def linear_phase_gain(sigma: float, c_star: float, eta: float, a0: float, t) -> np.ndarray:
    """Early-phase overlap G(t) = E[v^T R u], R = ((1 + c*) I - W0)^-1, at large N.

    docs/rnn_integration.md, section "sigma > 0: the outlier leaves the bulk,
    and the plateau shortens" (*Linear phase*), derived from the exact
    gradients (A2) linearised around u = v = 0.

    While u, v are small, W ~ W0 and the loss is L0 - v^T R u + O(|u|^2 |v|^2), so
    du/dt = eta R^T v, dv/dt = eta R u.  With u0 perpendicular to v0, |u0| =
    |v0| = a0, isotropic: G(t) = a0^2 (1/N) sum_k s_k sinh(2 eta t s_k) over
    the singular values s_k of R (sigma = 0: (a0^2/z) sinh(2 eta t/z), z = 1 + c*).

    Parameters
    ----------
    sigma : float
        Bulk radius of W0, in [0, 1).
    c_star, eta, a0 : float
        Target decay, learning rate and initial scale, > 0.
    t : array_like, shape (T,)
        Training times.

    Returns
    -------
    numpy.ndarray, shape (T,)
    """
    sg = check_scalar(
        "sigma",
        sigma,
        "must be in [0, 1): W0 - I is Hurwitz only for sigma < 1",
        lambda x: 0 <= x < 1,
    )
    c = _check_c_star(c_star)
    eta = _check_positive("eta", eta)
    a0 = _check_positive("a0", a0)
    t = check_array("t", t, nonnegative=True, ndim=1)
    return _gain(sg, c, eta, a0, t)


def escape_time_sigma(sigma, c_star: float, eta: float, a0: float, t0: float | None = None):
    """Plateau length with a random bulk W0 = sigma J: linear-phase matching.

    docs/rnn_integration.md, section "sigma > 0: the outlier leaves the bulk,
    and the plateau shortens" (*How sigma > 0 shortens the plateau*).  The
    plateau ends when the early-phase overlap G_sigma(t) (see
    :func:`linear_phase_gain`) reaches the level G_0(t0) at which the sigma = 0
    network escapes (t0: the escape time of the exact reduction (A5)).  The
    faster growth of the top singular directions of the resolvent shortens the
    plateau; the (ignored) nonlinear phase is sigma-dependent too, so this is
    accurate to a few per cent for sigma <= 0.3 (docs: measured).

    Parameters
    ----------
    sigma : float or array_like, shape (S,)
        Bulk radius (or radii), in [0, 1).
    c_star, eta, a0 : float
        Target decay, learning rate and initial scale, > 0.
    t0 : float, optional
        sigma = 0 escape time (> 0); default: from :func:`reduced_dynamics`.

    Returns
    -------
    float or numpy.ndarray, shape (S,)
    """
    sig = _check_sigmas(sigma)
    c = _check_c_star(c_star)
    eta = _check_positive("eta", eta)
    a0 = _check_positive("a0", a0)
    t0 = _escape_time_reduced(c, eta, a0) if t0 is None else _check_positive("t0", t0)
    level = float(_gain(0.0, c, eta, a0, np.array([t0]))[0])
    out = []
    for sg in np.atleast_1d(sig):
        if sg == 0:
            out.append(t0)
            continue
        s, w = _singular_values(float(sg), 1 + c, 400)
        sr = 1 / s

        def gap(tt, sr=sr, w=w):
            return a0 * a0 * np.sum(w * sr * np.sinh(2 * eta * tt * sr)) - level

        hi = t0
        while gap(hi) < 0:
            hi *= 2
            if hi > 64 * t0:
                raise SolverError(
                    f"escape_time_sigma: G_sigma never reaches the escape level (sigma={sg:g})",
                    residual=float(-gap(hi)),
                )
        out.append(brentq(gap, 0.0, hi, xtol=1e-12))
    out = np.array(out)
    return float(out[0]) if sig.ndim == 0 else out


@lru_cache(maxsize=64)
def _escape_time_reduced(c: float, eta: float, a0: float) -> float:
    A0 = min(a0 * a0 / 2, 0.5)
    T = (1 + c) / (2 * eta) * np.log(1 / A0) + 6 * (1 + c) / eta
    t = np.linspace(0.0, T, int(T / 0.01) + 1)
    r = _reduced(_target(c, 0.0), eta, a0, t)
    return plateau_end(r.t, r.loss)


def escape_time_reduced(c: float, eta: float, a0: float) -> float:
    """Plateau length of the exact W0 = 0 reduction (A5): first time L < L(0)/2.

    docs/rnn_integration.md, section "(A6) The 2-D outlier ODE, escape time
    and local rates" (the measured plateau the laws are compared with).

    Parameters
    ----------
    c, eta, a0 : float
        Target decay, learning rate, |u0| = |v0| (orthogonal), all > 0.

    Returns
    -------
    float
        NaN if the loss never halves within the horizon.
    """
    return _escape_time_reduced(
        _check_c_star(c), _check_positive("eta", eta), _check_positive("a0", a0)
    )


def plateau_end(t, loss, frac: float = 0.5) -> float:
    """First time the loss falls below ``frac`` times its initial value (linear interpolation).

    docs/rnn_integration.md, section "sigma > 0: the outlier leaves the bulk,
    and the plateau shortens" (the escape time: loss below half its initial
    value).

    Parameters
    ----------
    t, loss : array_like, shape (T,)
        Times and losses.
    frac : float in (0, 1)
        Fraction of the initial loss.

    Returns
    -------
    float
        NaN if the loss never falls that low.
    """
    t = np.asarray(t, dtype=float)
    loss = np.asarray(loss, dtype=float)
    level = frac * loss[0]
    below = np.nonzero(loss < level)[0]
    if below.size == 0:
        return float("nan")
    i = int(below[0])
    if i == 0:
        return float(t[0])
    w = (loss[i - 1] - level) / (loss[i - 1] - loss[i])
    return float(t[i - 1] + w * (t[i] - t[i - 1]))


# ----------------------------------------------------------------------------
# (A7)-(A9) lazy regime: Bessel kernel and learnability threshold


def bessel_correlation(sigma: float, tau1, tau2):
    """Bulk correlation C(tau, tau') = exp(-(tau + tau')) I0(2 sigma sqrt(tau tau')) (A7).

    docs/rnn_integration.md, section "(A7)-(A9) Lazy regime: Bessel kernel and
    learnability threshold" (*Bulk correlation*).  The large-N limit of
    p^T exp((sigma J - I) tau) exp((sigma J - I)^T tau') p for a unit vector p
    independent of J (J_ij ~ N(0, 1/N)).  Uses the scaled Bessel function i0e
    for stability.

    Parameters
    ----------
    sigma : float
        Bulk radius, >= 0.
    tau1, tau2 : array_like
        Filter times >= 0 (broadcast together).

    Returns
    -------
    numpy.ndarray
        The broadcast shape of ``tau1`` and ``tau2``.
    """
    s = check_scalar("sigma", sigma, "must be finite and >= 0", lambda x: x >= 0)
    t1 = check_array("tau1", tau1, nonnegative=True)
    t2 = check_array("tau2", tau2, nonnegative=True)
    z = 2 * s * np.sqrt(t1 * t2)
    return np.exp(z - t1 - t2) * special.i0e(z)


def _n_features(sigma: float, tol: float = 1e-18, cap: int = 1000) -> int:
    """Features k = 0..K-1 whose neglected Gram mass sum_{k>=K} sigma^(2k)/(1 - sigma^2) < tol."""
    k = np.log(tol * (1 - sigma * sigma)) / (2 * np.log(sigma))
    return int(min(max(np.ceil(k) + 5, 8), cap))


def _feature_gram(s: float, K: int) -> np.ndarray:
    k = np.arange(K)
    kl = k[:, None] + k[None, :]
    logG = (
        kl * np.log(s / 2)
        + special.gammaln(kl + 1)
        - special.gammaln(k + 1)[:, None]
        - special.gammaln(k + 1)[None, :]
        - np.log(2)
    )
    return np.exp(logG)


def lazy_feature_gram(sigma: float, K: int | None = None) -> np.ndarray:
    """Gram matrix G_kl = <phi_k, phi_l> of the lazy features phi_k = e^-tau (sigma tau)^k / k!.

    docs/rnn_integration.md, section "(A7)-(A9) Lazy regime: Bessel kernel and
    learnability threshold" (*Readout-only learning (A8)*).
    K(tau, tau') = sum_k phi_k(tau) phi_k(tau') is the Bessel kernel (A7), so G
    is the kernel's integral operator written in the feature basis:
    G_kl = sigma^(k+l) (k+l)! / (k! l! 2^(k+l+1)).

    Parameters
    ----------
    sigma : float
        Bulk radius of W0, in (0, 1).
    K : int, optional
        Number of features (default: enough for a neglected mass < 1e-18).

    Returns
    -------
    numpy.ndarray, shape (K, K)
    """
    s = _check_sigma(sigma)
    if K is None:
        return _feature_gram(s, _n_features(s))
    return _feature_gram(s, check_int("K", K, 1))


@lru_cache(maxsize=64)
def _gram_eigh(sigma: float):
    """Eigen-decomposition of the feature Gram matrix (cached per sigma; eigenvalues >= 0)."""
    g, U = np.linalg.eigh(_feature_gram(sigma, _n_features(sigma)))
    g = np.clip(g, 0.0, None)
    g.flags.writeable = False
    U.flags.writeable = False
    return g, U


def _lazy_target_coeffs(sigma: float, c: float, w: float, K: int) -> np.ndarray:
    """b_k = <phi_k, f*> = Re sigma^k / (1 + c - i w)^(k+1)."""
    k = np.arange(K)
    z = 1 + c - 1j * w
    return np.real(np.exp(k * np.log(sigma) - (k + 1) * np.log(z)))


def lazy_loss(sigma: float, c_star: float, eta: float, t, omega_star: float = 0.0) -> np.ndarray:
    """Readout-only lazy loss L(t) from the Bessel kernel (A7, A8), N -> infinity.

    docs/rnn_integration.md, section "(A7)-(A9) Lazy regime: Bessel kernel and
    learnability threshold" (*Readout-only learning (A8)*).  W = sigma J and
    u (|u| = 1) frozen, v trained from 0 by gradient flow:
    d f_t/dt = -eta K (f_t - f*), K the kernel (A7).  In the feature basis
    phi_k (see :func:`lazy_feature_gram`) with b_k = <phi_k, f*>,

    L(t) = 1/2 |f*|^2 - 1/2 b^T h_t(G) b,   h_t(g) = (1 - exp(-2 eta g t))/g,

    an exact rewriting of 1/2 sum_i exp(-2 eta kappa_i t) c_i^2 that stays
    accurate for the kernel's tiny eigenvalues (h_t is bounded by 2 eta t).

    Parameters
    ----------
    sigma : float
        Bulk radius of W0, in (0, 1).
    c_star, eta : float
        Target decay and learning rate, > 0.
    t : array_like, shape (T,)
        Training times >= 0.
    omega_star : float
        Target frequency (0: integrator).

    Returns
    -------
    numpy.ndarray, shape (T,)
    """
    s = _check_sigma(sigma)
    c = _check_c_star(c_star)
    w = _check_omega(omega_star)
    eta = _check_positive("eta", eta)
    t = check_array("t", t, nonnegative=True, ndim=1)
    g, U = _gram_eigh(s)
    b = _lazy_target_coeffs(s, c, w, g.size)
    beta2 = (U.T @ b) ** 2
    x = 2 * eta * np.outer(t, g)  # (T, K)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(x > 1e-12, -np.expm1(-x) / np.where(g > 0, g, 1.0), 2 * eta * t[:, None])
    L = 0.5 * _norm2(c, w) - 0.5 * h @ beta2
    return np.maximum(L, 0.0)


def lazy_rkhs_norm2(sigma: float, c_star: float, omega_star: float = 0.0) -> float:
    """|f*|_K^2 = sum_k Re(rho^k)^2 with rho = (1 - c* + i omega*)/sigma (A9); inf if |rho| >= 1.

    docs/rnn_integration.md, section "(A7)-(A9) Lazy regime: Bessel kernel and
    learnability threshold" (*Threshold (A9)*).  For the integrator this is
    1/(1 - rho^2) = sigma^2/(sigma^2 - (1 - c*)^2).

    Parameters
    ----------
    sigma : float
        Bulk radius of W0, in (0, 1).
    c_star : float
        Target decay, > 0.
    omega_star : float
        Target frequency, >= 0.

    Returns
    -------
    float
        The squared RKHS norm, ``inf`` outside the threshold.
    """
    s = _check_sigma(sigma)
    c = _check_c_star(c_star)
    w = _check_omega(omega_star)
    rho = (1 - c + 1j * w) / s
    if abs(rho) >= 1:
        return float("inf")
    return float(0.5 * (1 / (1 - abs(rho) ** 2) + np.real(1 / (1 - rho * rho))))


def lazy_learnable(sigma, c_star, omega_star=0.0):
    """Lazy learnability threshold |1 - c* + i omega*| < sigma (A9).

    docs/rnn_integration.md, section "(A7)-(A9) Lazy regime: Bessel kernel and
    learnability threshold" (*Threshold (A9)*).  The target lies in the RKHS
    of the Bessel kernel (finite weight norm) exactly when its eigenvalue lies
    inside the bulk disk of W0.

    Parameters
    ----------
    sigma, c_star, omega_star : float or array_like (broadcast)
        Bulk radius in [0, 1), target decay > 0, target frequency >= 0.

    Returns
    -------
    bool or numpy.ndarray of bool
        True where the target is lazily learnable (the broadcast shape).
    """
    s = _check_sigmas(sigma)
    c = check_array("c_star", c_star, positive=True)
    w = check_array("omega_star", omega_star, nonnegative=True)
    out = np.abs(1 - c + 1j * w) < s
    return bool(out) if out.ndim == 0 else out
