"""Theory of ``adaptive_kernels``: lazy kernels, the Bayesian saddle, the weight-decay DMFT.

Lauditi, Bordelon, Pehlevan, arXiv 2502.07998.  Every equation implemented
here is written out in docs/adaptive_kernels.md (sections "Lazy kernels",
"Bayesian saddle", "Deep linear saddle", "Weight-decay DMFT"); the paper's own
equation numbers are not cited.

Conventions (docs/adaptive_kernels.md, section "Conventions"): input Gram
``C = X X^T / D``; two-layer action with ``-Tr(Phi Phihat)`` and tilt
``exp(-phi^T Phihat phi)`` (so ``Phihat = -(gamma^2/2) alpha alpha^T``); the
weight-decay flow sums the loss over samples without 1/P; the lazy NTK
comparator uses ridge ``2 lam``, the lazy NNGP comparator ridge ``lam``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.special import erf

from theorylab.core import kernels as ck
from theorylab.core.errors import ConfigError, SolverError, check_array, check_int, check_scalar

NONLINEARITIES = ("relu", "step", "erf", "linear")
MIN_ESS = 1000.0
BURN, FINAL = 100, 20  # MALA burn-in steps and final averaging updates


class ExistenceWarning(RuntimeWarning):
    """The saddle's tilted density may not be normalisable (a sufficient bound fails)."""


# -- validation -----------------------------------------------------------------------------


def check_data(X, y, X_test=None):
    """Validate a data set and return it as float64 arrays.

    Parameters
    ----------
    X : array_like, shape (P, D)
    y : array_like, shape (P,)
    X_test : array_like, shape (Pt, D), optional

    Returns
    -------
    tuple
        ``(X, y, X_test)`` (``X_test`` of shape (0, D) when not given).

    Raises
    ------
    ConfigError
        Naming ``X``, ``y`` or ``X_test`` on NaN, a wrong rank or mismatched shapes
        (docs/adaptive_kernels.md, section "Inputs").
    """
    X = check_array("X", X, ndim=2)
    y = check_array("y", y, ndim=1)
    if y.shape[0] != X.shape[0]:
        raise ConfigError("y", f"array of shape {y.shape}", f"must have X's {X.shape[0]} rows")
    if X.shape[0] < 1:
        raise ConfigError("X", f"array of shape {X.shape}", "must hold at least one point")
    if X_test is None:
        X_test = np.zeros((0, X.shape[1]))
    X_test = check_array("X_test", X_test, ndim=2)
    if X_test.shape[1] != X.shape[1]:
        raise ConfigError(
            "X_test", f"array of shape {X_test.shape}", f"must have X's {X.shape[1]} columns"
        )
    return X, y, X_test


def _check_gamma(gamma):
    return check_scalar("gamma", gamma, "must be a finite real number >= 0", lambda g: g >= 0)


def _check_nonlinearity(nonlinearity):
    if nonlinearity not in NONLINEARITIES:
        raise ConfigError("nonlinearity", nonlinearity, f"must be one of {NONLINEARITIES}")
    return nonlinearity


def activation(nonlinearity: str):
    """The activation and its derivative as NumPy functions.

    Parameters
    ----------
    nonlinearity : {"relu", "step", "erf", "linear"}

    Returns
    -------
    tuple of callable
        ``(phi, dphi)``, elementwise (docs/adaptive_kernels.md, section "Model").
    """
    _check_nonlinearity(nonlinearity)
    if nonlinearity == "relu":
        return (lambda h: np.maximum(h, 0.0)), (lambda h: (h > 0).astype(np.float64))
    if nonlinearity == "step":
        return (lambda h: (h > 0).astype(np.float64)), (lambda h: np.zeros_like(h))
    if nonlinearity == "erf":
        return erf, (lambda h: 2.0 / np.sqrt(np.pi) * np.exp(-(h**2)))
    return (lambda h: h), (lambda h: np.ones_like(h))


# -- lazy kernels ---------------------------------------------------------------------------


def gram(X, Y=None):
    """Input Gram ``C(x, x') = x . x' / D``.

    Parameters
    ----------
    X : array_like, shape (n, D)
    Y : array_like, shape (m, D), optional

    Returns
    -------
    numpy.ndarray, shape (n, m)
        docs/adaptive_kernels.md, section "Model".
    """
    X = np.asarray(X, dtype=np.float64)
    Y = X if Y is None else np.asarray(Y, dtype=np.float64)
    return X @ Y.T / X.shape[1]


def gaussian_kernels(C, nonlinearity: str = "relu"):
    """Phi = E[phi(h) phi(h)^T] and G = E[phi'(h) phi'(h)^T] for h ~ N(0, C), closed form.

    Parameters
    ----------
    C : array_like, shape (n, n)
        Preactivation covariance.
    nonlinearity : {"relu", "step", "erf", "linear"}
        For ``step`` the derivative vanishes almost everywhere and G = 0.

    Returns
    -------
    tuple of numpy.ndarray
        ``(Phi, G)``, each of shape (n, n) (docs/adaptive_kernels.md, section
        "Lazy kernels": arc-cosine of degree 1 and 0, Williams' erf kernel).
    """
    _check_nonlinearity(nonlinearity)
    C = check_array("C", C, ndim=2)
    if nonlinearity == "relu":
        return ck.relu_gram_kernel(C), ck.step_gram_kernel(C)
    if nonlinearity == "step":
        return ck.step_gram_kernel(C), np.zeros_like(C)
    if nonlinearity == "erf":
        return ck.erf_gram_kernel(C), ck.erf_derivative_gram_kernel(C)
    return C.copy(), np.ones_like(C)


def lazy_kernels(X, nonlinearity: str = "relu"):
    """Lazy (initial) kernels of the two-layer network: NNGP Phi0, gradient G0, NTK K0.

    Parameters
    ----------
    X : array_like, shape (n, D)
        Inputs (train and test stacked when both are wanted).
    nonlinearity : {"relu", "step", "erf", "linear"}

    Returns
    -------
    dict
        ``C``, ``Phi0``, ``G0`` and ``K0 = Phi0 + G0 * C``, each of shape (n, n)
        (docs/adaptive_kernels.md, section "Lazy kernels", the NTK
        ``K = Phi + G ⊙ C``).
    """
    X = check_array("X", X, ndim=2)
    C = gram(X)
    Phi0, G0 = gaussian_kernels(C, nonlinearity)
    return dict(C=C, Phi0=Phi0, G0=G0, K0=Phi0 + G0 * C)


def kernel_predictor(K_train, K_test_train, y, ridge: float):
    """Kernel ridge predictor ``K(x*, X) (K + ridge I)^{-1} y``.

    Parameters
    ----------
    K_train : array_like, shape (P, P)
    K_test_train : array_like, shape (Pt, P)
    y : array_like, shape (P,)
    ridge : float
        Ridge (not per sample), > 0 unless K_train is invertible.

    Returns
    -------
    numpy.ndarray, shape (Pt,)
        docs/adaptive_kernels.md, section "Weight-decay DMFT" (both predictor forms).
    """
    K_train = np.asarray(K_train, dtype=np.float64)
    A = K_train + ridge * np.eye(K_train.shape[0])
    return np.asarray(K_test_train) @ np.linalg.solve(A, np.asarray(y, dtype=np.float64))


def alignment(K, y):
    """Kernel-target alignment ``A = y^T K y / (|K|_F |y|^2)`` (the authors' normalised form).

    Parameters
    ----------
    K : array_like, shape (P, P)
    y : array_like, shape (P,)

    Returns
    -------
    float
        In [-1, 1] (docs/adaptive_kernels.md, section "Alignment").
    """
    K = np.asarray(K, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return float(y @ K @ y / (np.linalg.norm(K) * (y @ y)))


def raw_alignment(K, y):
    """Unnormalised alignment ``y^T K y / P``.

    Parameters
    ----------
    K : array_like, shape (P, P)
    y : array_like, shape (P,)

    Returns
    -------
    float
        docs/adaptive_kernels.md, section "Alignment".
    """
    y = np.asarray(y, dtype=np.float64)
    return float(y @ np.asarray(K) @ y / y.shape[0])


def psd_sqrt(C, jitter: float = 1e-10):
    """A factor ``L`` with ``L L^T = C`` from eigh, negatives clipped, relative jitter added.

    Parameters
    ----------
    C : array_like, shape (n, n)
    jitter : float
        Added to the eigenvalues, relative to the largest one.

    Returns
    -------
    numpy.ndarray, shape (n, n)
        docs/adaptive_kernels.md, section "Bayesian saddle" (sample banks).
    """
    w, V = np.linalg.eigh(np.asarray(C, dtype=np.float64))
    w = np.clip(w, 0.0, None) + jitter * max(float(w.max()), 1e-300)
    return V * np.sqrt(w)


# -- deep linear Bayesian saddle ------------------------------------------------------------


def deep_linear_saddle(gamma, beta, L, *, tol: float = 1e-14, max_iter: int = 200):
    """Per-layer alignments ``c_l = y^T Phi_l y`` of the deep linear Bayesian saddle.

    Whitened toy (``C = I``, ``|y| = 1``): ``Phi_l = I + (c_l - 1) y y^T`` with
    ``c_l = (1 - chi)^l``, ``chi = -gamma^2 c_L / (c_L + 1/beta)^2``, so ``c = c_L``
    solves ``c = (1 + gamma^2 c / (c + 1/beta)^2)^L`` (Newton from ``1 + L gamma^2``).

    Parameters
    ----------
    gamma : float
        Richness, >= 0.
    beta : float
        Inverse temperature, > 0 (``inf`` allowed: ridgeless).
    L : int
        Hidden layers, >= 1.
    tol : float
        Relative tolerance of Newton's method.
    max_iter : int

    Returns
    -------
    numpy.ndarray, shape (L,)
        ``c_1 .. c_L`` (docs/adaptive_kernels.md, section "Deep linear saddle";
        ``(1, 10, 3)`` gives 1.364, 1.862, 2.540).

    Raises
    ------
    ConfigError
        On gamma < 0, beta <= 0 or L < 1.
    SolverError
        When Newton's method does not converge (with its residual).
    """
    gamma = _check_gamma(gamma)
    if isinstance(beta, float) and np.isinf(beta) and beta > 0:
        ib = 0.0
    else:
        ib = 1.0 / check_scalar(
            "beta", beta, "must be a real number > 0 (inf allowed)", lambda b: b > 0
        )
    L = check_int("L", L, 1)
    g2 = gamma**2

    def F(c):
        return np.log(c) - L * np.log1p(g2 * c / (c + ib) ** 2)

    def dF(c):
        q = g2 * c / (c + ib) ** 2
        dq = g2 * (ib - c) / (c + ib) ** 3
        return 1.0 / c - L * dq / (1.0 + q)

    c, res = 1.0 + L * g2, np.inf
    it = 0
    for it in range(max_iter):  # noqa: B007
        step = F(c) / dF(c)
        c_new = c - step
        if not np.isfinite(c_new) or c_new <= 0:
            c_new = 0.5 * c
        res = abs(c_new - c) / c
        c = c_new
        if res < tol:
            break
    else:
        raise SolverError(f"deep linear saddle (gamma={gamma}, beta={beta}, L={L})", res, it + 1)
    if abs(F(c)) > 1e-10:
        raise SolverError(f"deep linear saddle (gamma={gamma}, beta={beta}, L={L})", abs(F(c)))
    chi = -g2 * c / (c + ib) ** 2
    return (1.0 - chi) ** np.arange(1, L + 1)


def deep_linear_residuals(c, gamma, beta, y=None):
    """Largest residual of the per-layer saddle recursions at ``Phi_l = I + (c_l - 1) y y^T``.

    The equations: ``Phi_l = (Phi_{l-1}^{-1} + Phihat_l)^{-1}`` (Gaussian tilt),
    ``Phihat_L = -gamma^2 alpha alpha^T`` with ``alpha = (Phi_L + I/beta)^{-1} y`` and
    ``Phihat_l = Phi_l^{-1} - Phi_l^{-1} Phi_{l+1} Phi_l^{-1}`` for ``l < L``, with
    ``Phi_0 = C = I``.

    Parameters
    ----------
    c : array_like, shape (L,)
        Per-layer alignments, e.g. from :func:`deep_linear_saddle`.
    gamma, beta : float
    y : array_like, shape (P,), optional
        Unit target (default: +1 on the first half, -1 on the rest of P = 8, normalised).

    Returns
    -------
    float
        Max-abs residual over all matrix equations (docs/adaptive_kernels.md,
        section "Deep linear saddle").
    """
    c = np.asarray(c, dtype=np.float64)
    if y is None:
        y = np.r_[np.ones(4), -np.ones(4)]
    y = np.asarray(y, dtype=np.float64) / np.linalg.norm(y)
    P = y.shape[0]
    eye, yy = np.eye(P), np.outer(y, y)
    Phis = [eye] + [eye + (cl - 1.0) * yy for cl in c]
    L = len(c)
    alpha = np.linalg.solve(Phis[L] + eye / beta, y)
    hats = [None] * (L + 1)
    hats[L] = -(gamma**2) * np.outer(alpha, alpha)
    for layer in range(1, L):
        inv = np.linalg.inv(Phis[layer])
        hats[layer] = inv - inv @ Phis[layer + 1] @ inv
    res = 0.0
    for layer in range(1, L + 1):
        pred = np.linalg.inv(np.linalg.inv(Phis[layer - 1]) + hats[layer])
        res = max(res, float(np.abs(pred - Phis[layer]).max()))
    return res


# -- two-layer Bayesian saddle --------------------------------------------------------------


@dataclass
class SaddleResult:
    """The two-layer Bayesian saddle (docs/adaptive_kernels.md, section "Bayesian saddle").

    Attributes
    ----------
    Phi : numpy.ndarray, shape (P, P)
        Adapted feature kernel on the training points.
    Phi0 : numpy.ndarray, shape (P, P)
        Lazy NNGP kernel (analytic where available, else the bank's estimate).
    Phi_test : numpy.ndarray, shape (Pt, P)
        Adapted kernel between test and training points.
    f_test : numpy.ndarray, shape (Pt,)
        Posterior-mean predictor ``Phi(x*, X)(Phi + I/beta)^{-1} y``.
    alignment : float
        ``y^T Phi y / P``.
    ess : float
        Effective sample size (importance weights, or chains x snapshots / tau for MCMC).
    residual : float
        Relative Frobenius change of Phi at the last iteration.
    iterations : int
    method : str
        ``fixed_point`` or ``mcmc``.
    mcmc : dict
        Step size, acceptance, chains and chain length when MCMC ran.
    """

    Phi: np.ndarray
    Phi0: np.ndarray
    Phi_test: np.ndarray
    f_test: np.ndarray
    alignment: float
    ess: float
    residual: float
    iterations: int
    method: str
    mcmc: dict = field(default_factory=dict)


def _conditional(C_all, P):
    """Test-given-train Gaussian: h_test = A h_train + B z."""
    Ctt, Cst, Css = C_all[:P, :P], C_all[P:, :P], C_all[P:, P:]
    jit = 1e-10 * max(np.trace(Ctt) / P, 1e-300)
    A = np.linalg.solve(Ctt + jit * np.eye(P), Cst.T).T
    B = psd_sqrt(Css - A @ Cst.T) if Css.size else np.zeros((0, 0))
    return A, B


def _existence(gamma, alpha, C):
    bound = gamma**2 * np.abs(alpha) @ np.abs(C) @ np.abs(alpha)
    if bound >= 1.0:
        warnings.warn(
            f"Bayesian saddle: the sufficient existence bound gamma^2 |alpha|^T |C| |alpha| = "
            f"{bound:.3g} >= 1 (it is conservative; the solution is still returned, watch the ESS)",
            ExistenceWarning,
            stacklevel=4,
        )
    return float(bound)


def _importance(phi_h, y, gamma, ib, Phi, damping, tol, max_iter):
    """Damped fixed point over a fixed bank with importance weights."""
    P = y.shape[0]
    res, logw = np.inf, None
    for it in range(1, max_iter + 1):
        alpha = np.linalg.solve(Phi + ib * np.eye(P), y)
        logw = 0.5 * gamma**2 * (phi_h @ alpha) ** 2
        w = np.exp(logw - logw.max())
        w /= w.sum()
        new = (phi_h * w[:, None]).T @ phi_h
        res = np.linalg.norm(new - Phi) / np.linalg.norm(Phi)
        Phi = (1.0 - damping) * Phi + damping * new
        if not np.isfinite(res):
            raise SolverError(
                "Bayesian saddle (importance sampling): weights overflowed", np.inf, it
            )
        if res < tol:
            break
    ess = 1.0 / float(np.sum(w**2))
    return Phi, w, ess, float(res), it


def bayes_saddle(
    X,
    y,
    gamma,
    beta,
    *,
    samples: int,
    seed,
    method: str = "fixed_point",
    X_test=None,
    nonlinearity: str = "relu",
    damping: float = 0.2,
    tol: float = 1e-5,
    max_iter: int = 1000,
    min_ess: float = MIN_ESS,
    mcmc_chains: int = 4000,
    mcmc_step: float = 0.3,
    mcmc_iterations: int = 150,
    mcmc_sweeps: int = 4,
    mcmc_tol: float = 0.05,
):
    """Two-layer Bayesian min-max saddle: the adapted NNGP kernel and its predictor.

    Solves ``Phi = <phi(h) phi(h)^T>`` under the tilted single-neuron density
    ``p(h) ∝ N(h; 0, C) exp((gamma^2/2)(alpha . phi(h))^2)``,
    ``alpha = (Phi + I/beta)^{-1} y``, by damped fixed-point iteration
    ``Phi <- (1 - damping) Phi + damping <phi phi^T>``.

    ``method="fixed_point"`` estimates the average by importance sampling
    over a fixed bank of ``samples`` draws ``h ~ N(0, C)`` (common random
    numbers, log-sum-exp weights); when the final effective sample size is
    below ``min_ess`` it falls back to MCMC.  ``method="mcmc"`` runs MALA
    directly: ``mcmc_chains`` chains in whitened coordinates ``h = L z``
    (``L L^T = C``), warm-started across ``mcmc_iterations`` damped updates of
    ``mcmc_sweeps`` MALA steps each after a burn-in of 100 steps; the step size
    starts at ``mcmc_step`` and is adapted during burn-in towards acceptance
    0.57 (then frozen); the last half of the iterations are averaged.

    Parameters
    ----------
    X : array_like, shape (P, D)
    y : array_like, shape (P,)
    gamma : float
        Richness, >= 0.
    beta : float
        Inverse temperature, > 0 (``inf``: ridgeless, a jitter 1e-8 |Phi| replaces 1/beta).
    samples : int
        Importance-sampling bank size S (>= 100).
    seed : int or numpy.random.Generator
        Randomness of the bank and chains.
    method : {"fixed_point", "mcmc"}
    X_test : array_like, shape (Pt, D), optional
    nonlinearity : {"relu", "step", "erf", "linear"}
    damping, tol, max_iter : float, float, int
        Fixed-point damping, relative-change tolerance and iteration cap.
    min_ess : float
        ESS below which the importance-sampling answer is replaced by MCMC.
    mcmc_chains, mcmc_step, mcmc_iterations, mcmc_sweeps, mcmc_tol
        MALA settings; ``mcmc_tol`` bounds the relative Frobenius distance
        between the averaged kernel and one more update from it.

    Returns
    -------
    SaddleResult
        Arrays of shapes (P, P), (Pt, P), (Pt,) (docs/adaptive_kernels.md,
        section "Bayesian saddle").

    Raises
    ------
    ConfigError
        On gamma < 0, beta <= 0, bad shapes or NaN data.
    SolverError
        When the iteration does not converge (with the residual).

    Warns
    -----
    ExistenceWarning
        When the (very conservative) sufficient existence bound fails.
    """
    X, y, X_test = check_data(X, y, X_test)
    gamma = _check_gamma(gamma)
    if isinstance(beta, float) and np.isinf(beta) and beta > 0:
        ib = None
    else:
        ib = 1.0 / check_scalar(
            "beta", beta, "must be a real number > 0 (inf allowed)", lambda b: b > 0
        )
    samples = check_int("samples", samples, 100)
    if method not in ("fixed_point", "mcmc"):
        raise ConfigError("method", method, "must be 'fixed_point' or 'mcmc'")
    _check_nonlinearity(nonlinearity)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    mcmc = dict(M=mcmc_chains, eps=mcmc_step, n_it=mcmc_iterations, sweeps=mcmc_sweeps)
    return _saddle(
        X,
        y,
        X_test,
        gamma,
        ib,
        samples,
        rng,
        method,
        nonlinearity,
        damping,
        tol,
        max_iter,
        min_ess,
        mcmc,
        mcmc_tol,
    )


def _saddle(
    X,
    y,
    X_test,
    gamma,
    ib,
    samples,
    rng,
    method,
    nonlinearity,
    damping,
    tol,
    max_iter,
    min_ess,
    mcmc,
    mcmc_tol,
):
    """The body of :func:`bayes_saddle` (validated arguments)."""
    phi, dphi = activation(nonlinearity)
    P = X.shape[0]
    C_all = gram(np.vstack([X, X_test]))
    C = C_all[:P, :P]
    Lc = psd_sqrt(C)
    A, B = _conditional(C_all, P)
    Phi0 = gaussian_kernels(C, nonlinearity)[0]
    ridge = ib if ib is not None else 1e-8 * np.trace(Phi0) / P
    mc, start = {}, Phi0.copy()
    if method == "fixed_point":
        z = rng.standard_normal((samples, P))
        h = z @ Lc.T
        phi_h = phi(h)
        Phi, w, ess, res, it = _importance(
            phi_h, y, gamma, ridge, Phi0.copy(), damping, tol, max_iter
        )
        if res >= tol:
            raise SolverError("Bayesian saddle (importance sampling)", res, it)
        if ess < min_ess:
            method = "mcmc"
            start = Phi
        else:
            ht = h @ A.T + rng.standard_normal((samples, B.shape[0])) @ B.T
            Phi_test = (phi(ht) * w[:, None]).T @ phi_h
    if method == "mcmc":
        Phi, Phi_test, ess, res, it, mc = _mala_saddle(
            Lc,
            A,
            B,
            y,
            gamma,
            ridge,
            start,
            phi,
            dphi,
            rng,
            damping,
            **mcmc,
        )
        if res > mcmc_tol:
            raise SolverError("Bayesian saddle (MALA)", res, it)
    alpha = np.linalg.solve(Phi + ridge * np.eye(P), y)
    _existence(gamma, alpha, C)
    return SaddleResult(
        Phi=Phi,
        Phi0=Phi0,
        Phi_test=Phi_test,
        f_test=Phi_test @ alpha,
        alignment=raw_alignment(Phi, y),
        ess=float(ess),
        residual=float(res),
        iterations=int(it),
        method=method,
        mcmc=mc,
    )


def _mala_saddle(Lc, A, B, y, gamma, ridge, Phi, phi, dphi, rng, damping, M, eps, n_it, sweeps):
    """MALA single-site sampler inside the damped fixed point (see :func:`bayes_saddle`)."""
    P = y.shape[0]
    g2 = gamma**2
    z = rng.standard_normal((M, P))

    def logp_grad(z, alpha):
        h = z @ Lc.T
        s = phi(h) @ alpha
        lp = -0.5 * np.sum(z**2, axis=1) + 0.5 * g2 * s**2
        grad = -z + (g2 * s)[:, None] * ((dphi(h) * alpha) @ Lc)
        return lp, grad

    def sweep(z, alpha, eps):
        lp, g = logp_grad(z, alpha)
        prop = z + 0.5 * eps**2 * g + eps * rng.standard_normal(z.shape)
        lq, gq = logp_grad(prop, alpha)
        fwd = -np.sum((prop - z - 0.5 * eps**2 * g) ** 2, axis=1) / (2 * eps**2)
        bwd = -np.sum((z - prop - 0.5 * eps**2 * gq) ** 2, axis=1) / (2 * eps**2)
        acc = np.log(rng.uniform(size=M)) < (lq - lp + bwd - fwd)
        return np.where(acc[:, None], prop, z), float(acc.mean())

    alpha = np.linalg.solve(Phi + ridge * np.eye(P), y)
    for _ in range(BURN):  # burn-in with step-size adaptation towards acceptance 0.57
        z, rate = sweep(z, alpha, eps)
        eps *= np.exp(2.0 * (rate - 0.57))
    kept, s_trace, rates = [], [], []
    res = np.inf
    for it in range(1, n_it + 1):
        alpha = np.linalg.solve(Phi + ridge * np.eye(P), y)
        for _ in range(sweeps):
            z, rate = sweep(z, alpha, eps)
            rates.append(rate)
        f = phi(z @ Lc.T)
        new = f.T @ f / M
        res = np.linalg.norm(new - Phi) / np.linalg.norm(Phi)
        Phi = (1.0 - damping) * Phi + damping * new
        if not np.all(np.isfinite(Phi)):
            raise SolverError("Bayesian saddle (MALA): kernel not finite", np.inf, it)
        if it > n_it // 2:
            kept.append(new)
            s_trace.append(f @ alpha)
    Phi = np.mean(kept, axis=0)
    alpha = np.linalg.solve(Phi + ridge * np.eye(P), y)
    acc_f, acc_t = np.zeros((P, P)), np.zeros((B.shape[0], P))
    for _ in range(FINAL):  # final block at the averaged kernel: residual and test kernel
        for _ in range(sweeps):
            z, rate = sweep(z, alpha, eps)
        h = z @ Lc.T
        f = phi(h)
        ft = phi(h @ A.T + rng.standard_normal((M, B.shape[0])) @ B.T)
        acc_f += f.T @ f / M / FINAL
        acc_t += ft.T @ f / M / FINAL
    res = float(np.linalg.norm(acc_f - Phi) / np.linalg.norm(Phi))
    s = np.asarray(s_trace)
    r1 = np.mean([np.corrcoef(s[:-1, k], s[1:, k])[0, 1] for k in range(min(M, 200))])
    tau = (1.0 + r1) / max(1.0 - r1, 1e-3)
    ess = M * len(s) / max(tau, 1.0)
    info = dict(
        step=float(eps),
        acceptance=float(np.mean(rates)),
        chains=M,
        chain_length=BURN + (n_it + FINAL) * sweeps,
        tau=float(tau),
    )
    return Phi, acc_t, ess, res, n_it, info


# -- weight-decay DMFT ----------------------------------------------------------------------


def dmft_weight_decay(
    X,
    y,
    X_test,
    gamma,
    lam,
    *,
    width: int,
    seed,
    nonlinearity: str = "relu",
    dt_max: float = 0.1,
    lam_t_min: float = 40.0,
    lam_t_max: float = 400.0,
    tol: float = 3e-4,
):
    """Fixed point of gradient flow with weight decay at large width (two-layer DMFT).

    The single-site DMFT ``dh/dt = gamma sum_mu Delta_mu g_mu C(., x_mu) - lam h``,
    ``da/dt = gamma sum_mu Delta_mu phi(h_mu) - lam a`` is integrated in weight
    space: a width-``width`` network (identical in law, the population being its
    neurons) trained by explicit Euler steps of gradient flow with the step
    adapted to ``dt <= min(dt_max, 1 / lambda_max(K_train + lam))`` as K grows,
    until ``lam t >= lam_t_min`` and the relative change of f per unit time is below
    ``tol`` (see :func:`~theorylab.studies.adaptive_kernels.simulate.train_weight_decay`).

    Parameters
    ----------
    X : array_like, shape (P, D)
    y : array_like, shape (P,)
    X_test : array_like, shape (Pt, D)
    gamma : float
        Richness, > 0.
    lam : float
        Weight decay, > 0.
    width : int
        Population size / network width (>= 1).
    seed : int or JAX key
        Initial weights.
    nonlinearity : {"relu", "erf", "linear"}
    dt_max, lam_t_min, lam_t_max, tol : float
        Step cap, minimum and maximum training time, stopping tolerance.

    Returns
    -------
    dict
        ``Phi, G, K`` (P, P), ``Phi_test, K_test`` (Pt, P), ``f_train`` (P,),
        ``f_test`` (Pt,), ``f_phi = Phi*(Phi + lam I)^{-1} y`` and
        ``f_ntk = K*(K + 2 lam I)^{-1} y`` (Pt,), ``alignment`` (of K and Phi),
        ``identity_phi``, ``identity_ntk`` (relative errors of the two forms),
        ``steps``, ``t`` (docs/adaptive_kernels.md, section "Weight-decay DMFT").

    Raises
    ------
    ConfigError
        On bad arguments.
    DivergenceError
        When training diverges (with the step).
    SolverError
        When the fixed point is not reached by ``lam t = lam_t_max`` (with the residual).
    """
    from . import simulate as sim

    X, y, X_test = check_data(X, y, X_test)
    gamma = check_scalar("gamma", gamma, "must be a finite real number > 0", lambda g: g > 0)
    lam = check_scalar("lam", lam, "must be a real number > 0", lambda v: v > 0)
    width = check_int("width", width, 1)
    if nonlinearity not in ("relu", "erf", "linear"):
        raise ConfigError("nonlinearity", nonlinearity, "must be one of relu, erf, linear")
    out = sim.train_weight_decay(
        X,
        y,
        gamma,
        lam,
        width=width,
        seed=seed,
        nonlinearity=nonlinearity,
        dt_max=dt_max,
        lam_t_min=lam_t_min,
        lam_t_max=lam_t_max,
        tol=tol,
        X_test=X_test,
    )
    if out["residual"] > tol:
        raise SolverError("weight-decay DMFT fixed point", out["residual"], out["steps"])
    return fixed_point_summary(out, y, lam)


def fixed_point_summary(out, y, lam):
    """Kernels, predictors and identities of a trained weight-decay network.

    Parameters
    ----------
    out : dict
        From :func:`~theorylab.studies.adaptive_kernels.simulate.train_weight_decay`
        (``Phi_all``, ``G_all``, ``C_all`` of shape (P+Pt, P+Pt), ``f_train``, ``f_test``).
    y : array_like, shape (P,)
    lam : float

    Returns
    -------
    dict
        As :func:`dmft_weight_decay` (docs/adaptive_kernels.md, section "Weight-decay DMFT").
    """
    y = np.asarray(y, dtype=np.float64)
    P = y.shape[0]
    Phi_all, G_all, C_all = out["Phi_all"], out["G_all"], out["C_all"]
    K_all = Phi_all + G_all * C_all
    Phi, Phi_test = Phi_all[:P, :P], Phi_all[P:, :P]
    K, K_test = K_all[:P, :P], K_all[P:, :P]
    f_test = out["f_test"]
    f_phi = kernel_predictor(Phi, Phi_test, y, lam)
    f_ntk = kernel_predictor(K, K_test, y, 2.0 * lam)
    norm = max(np.linalg.norm(f_test), 1e-300)
    return dict(
        Phi=Phi,
        G=G_all[:P, :P],
        K=K,
        Phi_test=Phi_test,
        K_test=K_test,
        f_train=out["f_train"],
        f_test=f_test,
        f_phi=f_phi,
        f_ntk=f_ntk,
        identity_phi=float(np.linalg.norm(f_test - f_phi) / norm),
        identity_ntk=float(np.linalg.norm(f_test - f_ntk) / norm),
        alignment_K=alignment(K, y),
        alignment_Phi=alignment(Phi, y),
        steps=int(out["steps"]),
        t=float(out["t"]),
        residual=float(out["residual"]),
    )
