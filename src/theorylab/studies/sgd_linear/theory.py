"""Deterministic equivalents for SGD learning curves of linear models.

Atanasov, Bordelon, Zavatone-Veth, Paquette, Pehlevan, "Two-Point Deterministic
Equivalence for Stochastic Gradient Dynamics in Linear Models"
(arXiv 2502.05074).  The paper's body was not available when the study was
written; the equations are a self-contained reconstruction, derived and
checked against simulation in ``docs/sgd_linear.md`` (its sections are cited
below).

Conventions
-----------
``eigs`` (D,)
    lambda_k, eigenvalues of the input covariance Sigma (or of a kernel).
``target_power`` (D,)
    p_k = lambda_k w*_k^2, the target's power in mode k (as in ``rf_ensembles``).
``lr``, ``batch``
    SGD w <- w - (lr/B) sum_b x_b (x_b.w - y_b): the batch gradient is averaged
    over the B samples; full-batch GD uses the per-sample loss
    (1/P) sum_mu (...)^2 / 2, i.e. w <- w - lr (Sigma_hat w - X^T y / P).
``noise``
    Label-noise variance sigma^2; every loss includes it (population loss
    E(y - f(x))^2 = (w - w*)^T Sigma (w - w*) + sigma^2).

Every curve is returned at steps t = 0, 1, ..., steps (length steps + 1),
starting from w = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theorylab.core.deteq import (
    check_count,
    check_spectrum,
    kappa_and_sums_on_path,
    kappa_on_path,
    renormalized_ridge,
    spectral_sums,
    support_edge,
)
from theorylab.core.errors import ConfigError, check_array, check_int, check_scalar
from theorylab.core.solvers import find_root

__all__ = [
    "Contour",
    "forcing_exponent",
    "gd_curves",
    "multipass_sgd_curves",
    "online_rf_curve",
    "online_sgd_curve",
    "online_stability_edge",
    "rf_floor_exponent",
    "stationary_loss",
    "two_point",
    "volterra",
]


# ----------------------------------------------------------------------------
# argument checks (once, in the public functions)


def _check_steps(lr, steps) -> None:
    check_scalar("lr", lr, "must be a finite number > 0", lambda x: x > 0)
    check_int("steps", steps, 0)


def _check_noise(noise) -> None:
    check_scalar("noise", noise, "must be a finite number >= 0", lambda x: x >= 0)


# ----------------------------------------------------------------------------
# (A) online SGD on linear regression: exact Gaussian recursion


def _online_multipliers(eigs, lr, batch, fourth_moment=True):
    a = (1.0 - lr * eigs) ** 2
    if fourth_moment:
        a = a + lr**2 * eigs**2 / batch
    return a


def _stability_edge(eigs: np.ndarray, batch: int, fourth_moment: bool) -> float:
    """:func:`online_stability_edge` on validated arguments."""
    c = 1.0 + 1.0 / batch if fourth_moment else 1.0
    mode_edge = 2.0 / (eigs.max() * c)

    def mass(lr):
        lr = np.atleast_1d(lr)
        return (lr / batch) * np.sum(eigs[None, :] / (2.0 - lr[:, None] * eigs[None, :] * c), 1) - 1

    hi = mode_edge * (1 - 1e-12)
    if mass(hi)[0] < 0:
        return float(mode_edge)
    return float(find_root(mass, np.array([1e-300]), np.array([hi]), what="stability edge").x[0])


def online_stability_edge(eigs, batch: int, fourth_moment: bool = True) -> float:
    """Largest stable learning rate of online SGD on linear regression.

    docs/sgd_linear.md, section "(A) Online SGD: exact recursion".  Stable
    means a_k = (1 - lr l_k)^2 + lr^2 l_k^2 / B < 1 for every mode and
    (lr/B) sum_k l_k / (2 - lr l_k (1 + 1/B)) < 1 (the Volterra kernel's mass
    below one), so that the loss converges to the stationary floor.

    Parameters
    ----------
    eigs : array_like, shape (D,)
        Covariance eigenvalues lambda_k > 0.
    batch : int
        Batch size B >= 1.
    fourth_moment : bool
        Keep the Gaussian fourth-moment term (the exact recursion).

    Returns
    -------
    float
        The edge lr_max (learning rates must be strictly below it).
    """
    eigs, _ = check_spectrum(eigs)
    batch = check_int("batch", batch, 1)
    return _stability_edge(eigs, batch, bool(fourth_moment))


def stationary_loss(eigs, lr, batch, noise) -> float:
    """Stationary floor of online SGD, L_inf = sigma^2 / (1 - (lr/B) sum l/(2 - lr l (1+1/B))).

    docs/sgd_linear.md, section "(A) Online SGD: exact recursion" (every mode
    learned).

    Parameters
    ----------
    eigs : array_like, shape (D,)
        Covariance eigenvalues lambda_k > 0.
    lr : float
        Learning rate > 0.
    batch : int
        Batch size B >= 1.
    noise : float
        Label-noise variance sigma^2 >= 0.

    Returns
    -------
    float
        The floor; ``inf`` at and beyond the stability edge.
    """
    eigs, _ = check_spectrum(eigs)
    check_scalar("lr", lr, "must be a finite number > 0", lambda x: x > 0)
    batch = check_int("batch", batch, 1)
    _check_noise(noise)
    m = (lr / batch) * np.sum(eigs / (2.0 - lr * eigs * (1.0 + 1.0 / batch)))
    return float(noise / (1.0 - m)) if m < 1 else float("inf")


def online_sgd_curve(
    eigs, target_power, lr, batch, steps, noise=0.0, *, fourth_moment: bool = True
) -> np.ndarray:
    """Expected test loss of online SGD on linear regression, exact for Gaussian inputs.

    docs/sgd_linear.md, section "(A) Online SGD: exact recursion".  With
    p_k(t) = lambda_k E[(w_t - w*)_k^2]::

        p_k(t+1) = a_k p_k(t) + (lr^2/B) lambda_k^2 L_t,
        a_k = (1 - lr lambda_k)^2 + lr^2 lambda_k^2 / B,
        L_t = sum_k p_k(t) + sigma^2,          p_k(0) = target_power_k.

    The lr^2 lambda_k^2 / B part of a_k comes from the Gaussian fourth moment
    E[x x^T C x x^T] = 2 Sigma C Sigma + Sigma tr(Sigma C); ``fourth_moment=False``
    drops it (the common approximation, wrong when one mode carries O(1) of
    tr Sigma near the stability edge).

    Parameters
    ----------
    eigs, target_power : array_like, shape (D,)
        Covariance eigenvalues and the target's power per mode.
    lr : float
        Learning rate (below :func:`online_stability_edge`).
    batch : int
        Batch size B >= 1.
    steps : int
        Number of SGD steps T.
    noise : float
        Label-noise variance.
    fourth_moment : bool
        Keep the Gaussian fourth-moment term.

    Returns
    -------
    numpy.ndarray, shape (steps + 1,)
        L_t for t = 0, ..., T.

    Raises
    ------
    ConfigError
        For bad arguments, or a learning rate at or beyond the stability edge.
    """
    eigs, power = check_spectrum(eigs, target_power)
    _check_steps(lr, steps)
    batch = check_int("batch", batch, 1)
    _check_noise(noise)
    edge = _stability_edge(eigs, batch, bool(fourth_moment))
    if lr >= edge:
        raise ConfigError("lr", lr, f"beyond the stability edge: must be < {edge:.6g} (B={batch})")
    a = _online_multipliers(eigs, lr, batch, fourth_moment)
    drive = lr**2 / batch * eigs**2
    p = power.copy()
    out = np.empty(int(steps) + 1)
    for t in range(int(steps) + 1):
        L = p.sum() + noise
        out[t] = L
        p = a * p + drive * L
    return out


def volterra(forcing, kernel, coupling: float) -> np.ndarray:
    """Solve L_t = forcing_t + coupling * sum_{s<t} kernel_{t-1-s} L_s.

    The Volterra form of the online-SGD recursion (docs/sgd_linear.md,
    section "(A) Online SGD: exact recursion") and of the decoupled
    multi-pass equivalent (section "(D) Multi-pass SGD").

    Parameters
    ----------
    forcing : array_like, shape (T,)
        Forcing F_t.
    kernel : array_like, shape (>= T-1,)
        Memory kernel K_tau.
    coupling : float
        Coupling constant (lr^2 / B for SGD).

    Returns
    -------
    numpy.ndarray, shape (T,)
        The solution L_t.
    """
    f = np.asarray(forcing, dtype=float)
    k = np.asarray(kernel, dtype=float)
    out = np.empty_like(f)
    for t in range(f.size):
        out[t] = f[t] + coupling * np.dot(k[:t][::-1], out[:t]) if t else f[0]
    return out


# ----------------------------------------------------------------------------
# (B) online SGD on linear random features: generating function + FFT


def _quadratic_roots(u, lr, c2):
    """Roots x+- of u a(x) = 1 with a(x) = 1 - 2 lr x + c2 x^2 (docs section (B))."""
    disc = np.sqrt(lr**2 * u**2 - u * c2 * (u - 1.0) + 0j)
    return (lr * u + disc) / (u * c2), (lr * u - disc) / (u * c2)


def _continuous_pair(xp, xm):
    """Relabel root pairs so each branch moves continuously along the path."""
    xp, xm = xp.copy(), xm.copy()
    for j in range(1, xp.size):
        if abs(xp[j] - xp[j - 1]) + abs(xm[j] - xm[j - 1]) > abs(xp[j] - xm[j - 1]) + abs(
            xm[j] - xp[j - 1]
        ):
            xp[j], xm[j] = xm[j], xp[j]
    return xp, xm


def online_rf_curve(
    eigs,
    target_power,
    N,
    lr,
    batch,
    steps,
    noise=0.0,
    *,
    oversample: int = 4,
    decay: float = 18.0,
) -> np.ndarray:
    """Expected test loss of online SGD on N linear random features.

    docs/sgd_linear.md, section "(B) Online random features: generating
    function".  Model: features phi(x) = F x / sqrt(N), F with i.i.d. N(0, 1)
    entries, readout a trained by online SGD from a = 0; the loss is
    (beta - w*)^T Sigma (beta - w*) + sigma^2 with beta = F^T a / sqrt(N),
    averaged over F by the one-point deterministic equivalent of
    H = Sigma^(1/2) F^T F Sigma^(1/2) / N (a sample covariance of N "samples").

    Generating function L(u) = sum_t L_t u^t::

        L(u) = [F(u) + sigma^2/(1-u)] / [1 - (lr^2/B) u K(u)],
        F(u) = e0^T (1 - u a(H))^-1 e0,  K(u) = tr[H^2 (1 - u a(H))^-1],
        a(x) = 1 - 2 lr x + lr^2 (1 + 1/B) x^2,

    with (1 - u a(H))^-1 split into resolvents at the roots x+- of u a(x) = 1,
    e0^T (z - H)^-1 e0 ~ (kappa/z) sum_k p_k/(l_k + kappa),
    tr[H^2 (z - H)^-1] ~ -z df1(kappa) - tr Sigma, kappa (1 - df1(kappa)/N) = -z.
    L_t is recovered by an FFT of L on |u| = exp(-decay / (oversample T)).

    Parameters
    ----------
    eigs, target_power : array_like, shape (D,)
        Covariance eigenvalues and the target's power per mode.
    N : int
        Features.
    lr : float
        Learning rate; a(h) < 1 on the feature spectrum is required.
    batch : int
        Batch size B >= 1.
    steps : int
        Number of SGD steps T.
    noise : float
        Label-noise variance.
    oversample : int
        FFT length / steps.
    decay : float
        Radius exponent; aliasing is suppressed by exp(-decay).

    Returns
    -------
    numpy.ndarray, shape (steps + 1,)
        L_t for t = 0, ..., T.

    Raises
    ------
    ConfigError
        For bad arguments, or a learning rate beyond the stability edge.
    """
    eigs, power = check_spectrum(eigs, target_power)
    _check_steps(lr, steps)
    batch = check_int("batch", batch, 1)
    _check_noise(noise)
    N = check_int("N", N, 1)
    c2 = lr**2 * (1.0 + 1.0 / batch)
    # stability: a(h) < 1 on the support of H, i.e. its edge below 2 lr / c2
    edge = support_edge(eigs, float(N))
    if edge >= 2.0 * lr / c2:
        raise ConfigError(
            "lr",
            lr,
            f"beyond the stability edge: must be < {2.0 / (edge * (1 + 1 / batch)):.6g} "
            f"(edge of the feature spectrum {edge:.4g}, B={batch})",
        )
    T = int(steps) + 1
    n_u = int(oversample) * max(T, 16)
    rho = np.exp(-decay / n_u)
    # half circle u = rho e^{i phi}, phi in [0, pi]; the rest by conjugation
    half = n_u // 2
    phi = 2.0 * np.pi * np.arange(half + 1) / n_u
    u = rho * np.exp(1j * phi)
    xp, xm = _continuous_pair(*_quadratic_roots(u, lr, c2))

    def resolvents(x):
        # x: path of spectral points; lambda = -x starts real (x<0 small or x>edge)
        kap, f = kappa_and_sums_on_path(eigs, power, -x, float(N), "1T")
        e = (kap / x) * f["T"]
        k = -x * f["1"] - eigs.sum()
        return e, k

    ep, kp = resolvents(xp)
    em, km = resolvents(xm)
    denom = u * c2 * (xp - xm)
    Fu = (ep - em) / denom
    Ku = (kp - km) / denom
    Lu = (Fu + noise / (1.0 - u)) / (1.0 - lr**2 / batch * u * Ku)
    full = np.concatenate([Lu, np.conj(Lu[1 : n_u - half][::-1])])
    coeffs = np.fft.fft(full).real / n_u  # sum_j L(u_j) e^{-2 pi i j t / n}
    return coeffs[:T] / rho ** np.arange(T)


# ----------------------------------------------------------------------------
# contour integrals of functions of a sample covariance


@dataclass(frozen=True)
class Contour:
    """Circle contour z_i = (1 - rho e^{i theta_i}) / lr around the spectrum.

    docs/sgd_linear.md, section "(C) Full-batch GD: two-point equivalent on a
    circle, all t by one FFT".  On it |1 - lr z| = rho, so the GD propagator
    (1 - lr z)^t = rho^t e^{i t theta} has constant modulus: integrals of
    f(z)^t g(z) for *every* t are one FFT of the node weights (the trapezoid
    rule on uniform theta is a DFT).  Build it with :meth:`build`.

    Parameters
    ----------
    z : numpy.ndarray of complex, shape (n,)
        Nodes.
    w : numpy.ndarray of complex, shape (n,)
        Weights dz / (2 pi i) of the trapezoid rule.
    kappa : numpy.ndarray of complex, shape (n,)
        Renormalised ridge at lambda = -z (one-point equivalent, n_samples).
    rho : float
        Radius of the circle in the propagator variable 1 - lr z.
    theta : numpy.ndarray, shape (n,)
        Angles.
    """

    z: np.ndarray
    w: np.ndarray
    kappa: np.ndarray
    rho: float
    theta: np.ndarray

    @classmethod
    def build(
        cls,
        eigs,
        n_samples: float,
        lr: float,
        t_max: int,
        nodes: int | None = None,
        radius: float = 3.0,
    ):
        """Contour for GD with learning rate ``lr`` up to time ``t_max``.

        rho = 1 + radius/t_max bounds the propagator by rho^t <= e^radius while
        keeping the circle a distance radius/(lr t_max) from the spectrum, so
        the trapezoid rule converges geometrically; ``nodes`` defaults to
        6 t_max + 200 (the integrand oscillates t times around the circle).
        Measured against 32 t_max + 400 nodes at radius 1: relative error
        below 1e-8 (docs/sgd_linear.md, section (C)).

        Parameters
        ----------
        eigs : array_like, shape (D,)
            Population eigenvalues.
        n_samples : float
            Samples of the sample covariance.
        lr : float
            Learning rate; the equivalent spectrum's edge x+ must be < 2 / lr.
        t_max : int
            Largest time the contour must resolve.
        nodes : int, optional
            Number of nodes (rounded up to even).
        radius : float
            rho = 1 + radius / t_max.

        Returns
        -------
        Contour

        Raises
        ------
        ConfigError
            If lr x+ >= 2.
        """
        n = int(nodes) if nodes else 6 * int(t_max) + 200
        n += n % 2
        rho = 1.0 + radius / max(int(t_max), 1)
        edge = support_edge(eigs, n_samples)
        if lr * edge >= 2.0:
            raise ConfigError(
                "lr",
                lr,
                f"beyond the stability edge: must be < {2.0 / edge:.6g} (edge of the "
                f"sample-covariance spectrum {edge:.4g})",
            )
        theta = 2.0 * np.pi * np.arange(n) / n
        z = (1.0 - rho * np.exp(1j * theta)) / lr
        w = -(rho / lr) * np.exp(1j * theta) / n  # dz/(2 pi i) for the trapezoid rule
        half = n // 2
        kap_half = kappa_on_path(eigs, -z[: half + 1], n_samples)
        kappa = np.concatenate([kap_half, np.conj(kap_half[1:half][::-1])])
        return cls(z=z, w=w, kappa=kappa, rho=rho, theta=theta)

    def fourier(self, values: np.ndarray, orders: np.ndarray) -> np.ndarray:
        """sum_i values_i e^{i m theta_i} for each m in ``orders`` (all at once by FFT).

        The trapezoid rule for every t as one DFT (docs/sgd_linear.md, section (C)).

        Parameters
        ----------
        values : numpy.ndarray, shape (n,)
            One value per node.
        orders : array_like of int, shape (m,)
            Fourier orders.

        Returns
        -------
        numpy.ndarray of complex, shape (m,)
        """
        n = self.z.size
        spec = np.fft.ifft(values) * n  # sum_i v_i e^{+2 pi i i m / n}
        return spec[np.asarray(orders) % n]


def _gd_parts(eigs, power, P, lr, steps, noise, nodes=None):
    """One- and two-point contour pieces of full-batch GD (docs section (C)), all t at once."""
    T = int(steps)
    ct = Contour.build(eigs, float(P), lr, max(T, 1), nodes)
    z, w, kap, rho = ct.z, ct.w, ct.kappa, ct.rho
    f = spectral_sums(eigs, power, kap, "12TSR")
    df1, df2, u, T2, trR = f["1"], f["2"], f["T"], f["S"], f["R"]
    t = np.arange(T + 1)
    two_t = 2 * t
    # train: w*^T Sigma_hat f^{2t} w*  ~  contour of f(z)^{2t} (-u(kappa))
    train_signal = (rho ** (2 * t)) * ct.fourier(-u * w, two_t)
    # tr f(Sigma_hat)^{2t}  ~  contour of f^{2t} (kappa/z) tr R(kappa)
    tr_f2 = (rho ** (2 * t)) * ct.fourier((kap / z) * trR * w, two_t)
    D = eigs.size
    train = train_signal.real + noise / P * (tr_f2.real + (P - D))
    # test signal S_t = w*^T f Sigma f w*, f = 1 + Sigma_hat g, g = (f - 1)/z
    total = power.sum()
    cross_vals = (kap / z) * u * w
    cross = rho**t * ct.fourier(cross_vals, t) - cross_vals.sum()
    # quadratic: sum_ij g_i g_j w_i w_j kappa_i kappa_j (u_i - u_j)/(z_i - z_j)
    b = w / z
    diag = kap**2 * T2 / (1.0 - df2 / P)  # kappa^2 du/dz with du/dz = T2/(1 - gamma)
    anti, rows, tot = _pair_sums(b, u, z, kap, diag)
    quad = rho ** (2 * t) * _anti_fourier(anti, t) - 2 * rho**t * ct.fourier(rows, t) + tot
    signal = total + 2 * cross.real + quad.real
    # noise: (sigma^2/P) tr[Sigma h_t(Sigma_hat)], h_t = (1 - f^t)^2 / z
    nv = (kap / z) * df1 * w / z
    noise_part = nv.sum() - 2 * rho**t * ct.fourier(nv, t) + rho ** (2 * t) * ct.fourier(nv, two_t)
    test = signal + noise / P * noise_part.real + noise
    return train, test, ct


def _pair_sums(b, u, z, kap, diag, block: int = 512):
    """Anti-diagonal sums, row sums and total of B_ij = b_i b_j kappa_i kappa_j M_ij.

    M_ij = (u_i - u_j)/(z_i - z_j) for i != j and diag_i / kappa_i^2 on the diagonal
    (so kappa_i kappa_j M_ii = diag_i).  Anti-diagonal s collects i + j = s mod n.
    """
    n = z.size
    anti = np.zeros(n, dtype=complex)
    rows = np.zeros(n, dtype=complex)
    bk = b * kap
    j = np.arange(n)
    for start in range(0, n, block):
        i = np.arange(start, min(start + block, n))
        dz = z[i, None] - z[None, :]
        du = u[i, None] - u[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            M = du / dz
        Bb = bk[i, None] * bk[None, :] * M
        Bb[np.arange(i.size), i] = b[i] ** 2 * diag[i]
        rows[i] = Bb.sum(axis=1)
        idx = (i[:, None] + j[None, :]) % n
        anti += np.bincount(idx.ravel(), weights=Bb.real.ravel(), minlength=n)
        anti += 1j * np.bincount(idx.ravel(), weights=Bb.imag.ravel(), minlength=n)
    return anti, rows, rows.sum()


def _anti_fourier(anti, t):
    """sum_s anti_s e^{i t s 2 pi / n} for each t (one FFT)."""
    n = anti.size
    return (np.fft.ifft(anti) * n)[np.asarray(t) % n]


def _check_gd(eigs, target_power, P, lr, steps, noise):
    eigs, power = check_spectrum(eigs, target_power)
    _check_steps(lr, steps)
    _check_noise(noise)
    P = float(check_count("P", P))
    return eigs, power, P


def gd_curves(eigs, target_power, P, lr, steps, noise=0.0, *, nodes=None):
    """Train and test loss of full-batch GD on P samples, two-point deterministic equivalent.

    docs/sgd_linear.md, section "(C) Full-batch GD: two-point equivalent on a
    circle, all t by one FFT".  Exact expressions (w_0 = 0, f(x) = (1 - lr x)^t)::

        train_t = w*^T Sigma_hat f^2 w* + (sigma^2/P) [tr f(Sigma_hat)^2 + P - D]
        test_t  = w*^T f Sigma f w* + (sigma^2/P) tr[Sigma (1 - f)^2 / Sigma_hat] + sigma^2

    The one-point pieces use lambda (Sigma_hat + lambda)^-1 ~ kappa (Sigma + kappa)^-1,
    the signal of the test loss the two-point equivalent
    lambda1 lambda2 w^T G1 Sigma G2 w ~ kappa1 kappa2 (u(kappa1) - u(kappa2))/(lambda2 - lambda1),
    all integrated over the circle of :class:`Contour` with an FFT in t.

    Parameters
    ----------
    eigs, target_power : array_like, shape (D,)
        Covariance eigenvalues and the target's power per mode.
    P : int
        Training samples.
    lr : float
        Learning rate; must satisfy lr * x+ < 2 (x+ the spectrum's edge).
    steps : int
        GD steps T.
    noise : float
        Label-noise variance.
    nodes : int, optional
        Contour nodes (default 6 steps + 200).

    Returns
    -------
    train, test : numpy.ndarray, shape (steps + 1,)
        Losses at t = 0, ..., T (both include sigma^2).
    """
    eigs, power, P = _check_gd(eigs, target_power, P, lr, steps, noise)
    train, test, _ = _gd_parts(eigs, power, P, float(lr), int(steps), noise, nodes)
    return train, test


def _one_point_kernels(eigs, ct: Contour, P: float, lr: float, steps: int):
    """tr[Sigma_hat^2 f^{2 tau}] and tr[Sigma Sigma_hat f^{2 tau}], tau = 0..steps (docs (D))."""
    f = spectral_sums(eigs, None, ct.kappa, "1R")
    z, w, kap, rho = ct.z, ct.w, ct.kappa, ct.rho
    tau = np.arange(int(steps) + 1)
    amp = rho ** (2 * tau)
    k_train = amp * ct.fourier(z * kap * f["R"] * w, 2 * tau)
    k_test = amp * ct.fourier(kap * f["1"] * w, 2 * tau)
    return k_train.real, k_test.real


def multipass_sgd_curves(eigs, target_power, P, lr, batch, steps, noise=0.0, *, nodes=None):
    """Train and test loss of multi-pass SGD on P samples, decoupled deterministic equivalent.

    docs/sgd_linear.md, section "(D) Multi-pass SGD: exact recursion and the
    decoupled closure".  Each step draws B indices uniformly with replacement
    from the P samples.  The exact second-moment recursion injects
    (lr^2 P / B) K_hat [Diag(Q_t) - Q_t/P] K_hat into the residual covariance Q_t.
    The *decoupled* closure replaces Diag(Q_t) by (tr Q_t / P) I and drops -Q_t/P::

        train_t = train^GD_t + (lr^2/B) sum_{s<t} tr[Sigma_hat^2 f^{2(t-1-s)}] train_s
        test_t  = test^GD_t  + (lr^2/B) sum_{s<t} tr[Sigma Sigma_hat f^{2(t-1-s)}] train_s

    with the GD forcings of :func:`gd_curves` and one-point kernels.  Its
    error grows with the heterogeneity of the samples' leverages (measured in
    the same section); the exact recursion given the data is
    :func:`theorylab.studies.sgd_linear.simulate.multipass_exact`.

    Parameters
    ----------
    eigs, target_power : array_like, shape (D,)
        Covariance eigenvalues and the target's power per mode.
    P : int
        Training samples.
    lr : float
        Learning rate; lr * x+ < 2.
    batch : int
        Batch size B >= 1.
    steps : int
        SGD steps T.
    noise : float
        Label-noise variance.
    nodes : int, optional
        Contour nodes (default 6 steps + 200).

    Returns
    -------
    train, test : numpy.ndarray, shape (steps + 1,)
        Losses at t = 0, ..., T (both include sigma^2).
    """
    eigs, power, P = _check_gd(eigs, target_power, P, lr, steps, noise)
    batch = check_int("batch", batch, 1)
    gd_train, gd_test, ct = _gd_parts(eigs, power, P, float(lr), int(steps), noise, nodes)
    k_train, k_test = _one_point_kernels(eigs, ct, P, float(lr), int(steps))
    c = lr**2 / batch
    train = volterra(gd_train, k_train, c)
    test = gd_test.copy()
    for t in range(1, test.size):
        test[t] += c * np.dot(k_test[:t][::-1], train[:t])
    return train, test


# ----------------------------------------------------------------------------
# static two-point equivalent


def two_point(eigs, n, lam1, lam2, A, w, *, normalized: bool = True):
    """Two-point deterministic equivalent of w^T G(lam1) A G(lam2) w.

    docs/sgd_linear.md, section "Theory", paragraph "Two-point equivalent".
    G(lam) = (Sigma_hat + lam)^-1 with Sigma_hat a sample covariance of n
    Gaussian samples of N(0, diag(eigs)), A independent of the data::

        lam1 lam2 G1 A G2 ~ kappa1 kappa2 [R1 A R2 + c12 R1 Sigma R2],
        c12 = tr[A Sigma R1 R2] / n / (1 - df2(kappa1, kappa2)/n),
        R = (Sigma + kappa)^-1, df2(k1, k2) = sum l^2 / ((l + k1)(l + k2)).

    Parameters
    ----------
    eigs : array_like, shape (D,)
        Population eigenvalues.
    n : float
        Samples.
    lam1, lam2 : array_like
        Ridges > 0 (broadcast together).
    A : array_like, shape (D,) or (D, D)
        A diagonal (as a vector) or full matrix in the eigenbasis of Sigma
        (A = Sigma: generalisation error; A = Sigma' : covariate shift).
    w : array_like, shape (D,)
        The vector (e.g. target weights).
    normalized : bool
        Return lam1 lam2 w^T G1 A G2 w (default) rather than w^T G1 A G2 w.

    Returns
    -------
    numpy.ndarray
        Broadcast shape of (lam1, lam2).
    """
    eigs, _ = check_spectrum(eigs)
    n = float(check_count("n", n))
    w = check_array("w", w, ndim=1)
    A = check_array("A", A)
    if w.shape != eigs.shape:
        raise ConfigError("w", w.shape, f"must have the shape of eigs {eigs.shape}")
    if A.shape not in (eigs.shape, (eigs.size, eigs.size)):
        raise ConfigError("A", A.shape, f"must be ({eigs.size},) or ({eigs.size}, {eigs.size})")
    lam1 = check_array("lam1", lam1, positive=True)
    lam2 = check_array("lam2", lam2, positive=True)
    l1, l2 = np.broadcast_arrays(lam1, lam2)
    shape = l1.shape
    k1 = renormalized_ridge(eigs, l1.ravel(), n)
    k2 = renormalized_ridge(eigs, l2.ravel(), n)
    R1 = 1.0 / (eigs[None, :] + k1[:, None])
    R2 = 1.0 / (eigs[None, :] + k2[:, None])
    if A.ndim == 1:
        wAw = np.sum(w**2 * R1 * A * R2, axis=1)
        trASRR = np.sum(A * eigs * R1 * R2, axis=1)
    else:
        wAw = np.einsum("bi,ij,bj->b", w * R1, A, w * R2)
        trASRR = np.einsum("ii,i,bi->b", A, eigs, R1 * R2)
    wSw = np.sum(w**2 * eigs * R1 * R2, axis=1)
    df2_12 = np.sum(eigs**2 * R1 * R2, axis=1)
    c12 = trASRR / n / (1.0 - df2_12 / n)
    out = k1 * k2 * (wAw + c12 * wSw)
    if not normalized:
        out = out / (l1.ravel() * l2.ravel())
    return out.reshape(shape)


# ----------------------------------------------------------------------------
# scaling exponents


def forcing_exponent(r) -> np.ndarray:
    """Decay exponent 2r of the GD / online-SGD forcing F_t ~ t^(-2r).

    docs/sgd_linear.md, section "Scaling exponents".

    Parameters
    ----------
    r : array_like
        Source exponents > 0.

    Returns
    -------
    numpy.ndarray, shape of ``r``
    """
    return 2.0 * check_array("r", r, positive=True)


def rf_floor_exponent(alpha, r) -> np.ndarray:
    """Exponent alpha min(2r, 1) of the random-feature floor N^(-alpha min(2r, 1)).

    docs/sgd_linear.md, section "Scaling exponents".

    Parameters
    ----------
    alpha, r : array_like
        Capacity and source exponents > 0 (broadcast together).

    Returns
    -------
    numpy.ndarray, broadcast shape of ``alpha`` and ``r``
    """
    alpha = check_array("alpha", alpha, positive=True)
    return alpha * np.minimum(2.0 * check_array("r", r, positive=True), 1.0)
