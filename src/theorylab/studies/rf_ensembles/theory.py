"""Deterministic-equivalent theory of random-feature ridge ensembles.

Ruben, Tong, Chaudhry, Pehlevan, "No Free Lunch from Random Feature
Ensembles" (arXiv 2412.05418).  Section numbers refer to the project spec
(``specs/rf_ensembles.md``); the derivations are written out in
``docs/rf_ensembles.md``.

Conventions
-----------
``eigs`` (D,)
    lambda_k, eigenvalues of the limiting kernel (input covariance for linear
    features), all > 0.
``target_power`` (D,)
    p_k = wbar_k^2 lambda_k, the target's power in mode k.
``ridge``
    The *per-sample* ridge lambda-tilde.  A member trained on P samples with N
    features psi(x) minimises sum_mu (y_mu - a.psi(x_mu))^2 + lambda N |a|^2 and
    lambda-tilde = lambda / P (spec 2.2).
``P``, ``N``
    Samples and features per member; either may be ``np.inf``.  Fractional
    values are allowed (needed for clean scaling exponents).
``K``
    Ensemble size (members see the same data and differ in their projections).

Spectral functionals (spec 3.1), with kappa the renormalised ridge::

    df1 = sum l/(l+k)   df2 = sum l^2/(l+k)^2   T1 = sum p/(l+k)   T2 = sum p/(l+k)^2
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theorylab.core.deteq import (
    check_count,
    check_spectrum,
    inv,
    renormalized_ridge,
    rf_errors_at_kappa,
    ridgeless_kappa,
    spectral_sums,
)
from theorylab.core.errors import ConfigError, check_array
from theorylab.core.solvers import minimize_scalar

__all__ = [
    "EnsembleTerms",
    "effective_ridge",
    "ensemble_error",
    "ensemble_terms",
    "optimal_error",
    "ridgeless_kappa",
    "scaling_crossover",
    "scaling_exponent",
    "scaling_slope",
]


def effective_ridge(eigs, P, N, ridge) -> np.ndarray:
    """Renormalised ridge kappa of a random-feature ridge model (spec 3.2).

    Solves kappa (1 - df1(kappa)/P)(1 - df1(kappa)/N) = ridge for the root with
    kappa >= kappa_0, where df1(kappa_0) = min(N, P) (kappa_0 = 0 when
    min(N, P) >= D).  With N = inf this is kernel ridge regression's
    kappa (1 - df1/P) = ridge; with P = inf, the infinite-data limit.

    Parameters
    ----------
    eigs : array_like, shape (D,)
        Kernel eigenvalues, > 0.
    P, N : array_like
        Samples and features per member (> 0, np.inf allowed); broadcast
        against each other and ``ridge``.
    ridge : array_like
        Per-sample ridge lambda-tilde >= 0.

    Returns
    -------
    numpy.ndarray
        kappa, with the broadcast shape of (P, N, ridge).

    Raises
    ------
    SolverError
        If the root finder does not converge (it reports the residual).
    """
    eigs, _ = check_spectrum(eigs)
    P = check_count("P", P)
    N = check_count("N", N)
    ridge = check_array("ridge", ridge, nonnegative=True)
    return renormalized_ridge(eigs, ridge, P, N)


@dataclass(frozen=True)
class EnsembleTerms:
    """Error of a K-member ensemble and its decomposition (spec 3.3).

    All arrays have the broadcast shape of the inputs.

    Attributes
    ----------
    error : E_K = bias + variance / K (includes the label noise).
    bias : E_inf, the error of the infinite ensemble (includes the noise).
    variance : E_1 - E_inf >= 0.
    kappa : renormalised ridge.
    """

    error: np.ndarray
    bias: np.ndarray
    variance: np.ndarray
    kappa: np.ndarray


def ensemble_terms(eigs, target_power, P, N, K, ridge, noise=0.0) -> EnsembleTerms:
    """Test error of a random-feature ridge ensemble with its bias/variance split.

    Implements spec 3.3::

        E_inf = (kappa^2 T2 + noise) / (1 - df2/P)
        rho   = (N - df1)/(N - df2),  gamma1 = (df1 - rho (df1 - df2))/P
        E_1   = (rho kappa^2 T2 + (1 - rho) kappa T1 + noise) / (1 - gamma1)
        E_K   = E_inf + (E_1 - E_inf)/K

    Parameters
    ----------
    eigs : array_like, shape (D,)
    target_power : array_like, shape (D,)
        wbar_k^2 lambda_k.
    P, N, K, ridge : array_like
        Broadcast together; P, N may be np.inf; K >= 1 (may be fractional).
    noise : array_like
        Variance of the label noise on test labels (sigma_eps^2 >= 0).

    Returns
    -------
    EnsembleTerms
        Points where the theory diverges (N = P, ridgeless) give ``inf``.
    """
    eigs, power = check_spectrum(eigs, target_power)
    K = check_array("K", K)
    if np.any(K < 1):
        raise ConfigError("K", K, "must be >= 1")
    noise = check_array("noise", noise, nonnegative=True)
    P, N, K, ridge, noise = np.broadcast_arrays(
        np.asarray(P, float), np.asarray(N, float), K, np.asarray(ridge, float), noise
    )
    shape = P.shape
    kappa = effective_ridge(eigs, P, N, ridge).ravel()
    err, bias, var = rf_errors_at_kappa(
        eigs, power, kappa, P.ravel(), N.ravel(), K.ravel(), noise.ravel()
    )
    return EnsembleTerms(
        error=err.reshape(shape),
        bias=bias.reshape(shape),
        variance=var.reshape(shape),
        kappa=kappa.reshape(shape),
    )


def ensemble_error(eigs, target_power, P, N, K, ridge, noise=0.0) -> np.ndarray:
    """Expected test MSE E_K of a K-member random-feature ridge ensemble (spec 3.3).

    See :func:`ensemble_terms` for the formulas and argument conventions.
    ``ridge`` is the per-sample ridge lambda-tilde; the error includes the
    test-label noise variance ``noise``.

    Returns
    -------
    numpy.ndarray
        E_K, with the broadcast shape of (P, N, K, ridge, noise).
    """
    return ensemble_terms(eigs, target_power, P, N, K, ridge, noise).error


def _ridge_of_kappa(eigs, kappa, P, N):
    """Per-sample ridge that produces renormalised ridge kappa (inverse of spec 3.2)."""
    d1 = spectral_sums(eigs, None, kappa, "1")["1"]
    return np.maximum(kappa * (1 - d1 * inv(P)) * (1 - d1 * inv(N)), 0.0)


def optimal_error(
    eigs,
    target_power,
    P,
    N,
    K,
    noise=0.0,
    *,
    grid: int = 41,
    span: tuple[float, float] = (1e-12, 1e3),
    xtol: float = 1e-7,
) -> tuple[np.ndarray, np.ndarray]:
    """Test error at the optimal ridge, min over ridge >= 0 of E_K (spec 3.4, 5.1).

    The ridge -> kappa map is monotone on [kappa_0, inf), so the search is done
    directly over kappa = kappa_0 + s (no root solve per trial ridge): a
    log-spaced grid of ``grid`` values of s in ``span`` x sum(eigs), refined by
    golden-section search around the best grid point, compared with the
    ridgeless value kappa = kappa_0 (often optimal when noise = 0).

    Parameters
    ----------
    eigs, target_power : array_like, shape (D,)
    P, N, K, noise : array_like
        Broadcast together (see :func:`ensemble_terms`).
    grid : int
        Coarse grid size.
    span : (float, float)
        Range of kappa - kappa_0, relative to sum(eigs).
    xtol : float
        Golden-section tolerance in log(kappa - kappa_0).

    Returns
    -------
    error : numpy.ndarray
        min_ridge E_K, broadcast shape.
    ridge : numpy.ndarray
        The minimising per-sample ridge (0 for the ridgeless limit).
    """
    eigs, power = check_spectrum(eigs, target_power)
    K = check_array("K", K)
    if np.any(K < 1):
        raise ConfigError("K", K, "must be >= 1")
    noise = check_array("noise", noise, nonnegative=True)
    P, N, K, noise = np.broadcast_arrays(check_count("P", P), check_count("N", N), K, noise)
    shape = P.shape
    P, N, K, noise = (a.ravel().astype(float) for a in (P, N, K, noise))
    B = P.size
    kappa0 = ridgeless_kappa(eigs, np.minimum(P, N))
    scale = eigs.sum()
    s = scale * np.logspace(np.log10(span[0]), np.log10(span[1]), grid)

    def err_at(k, idx):
        return rf_errors_at_kappa(eigs, power, k, P[idx], N[idx], K[idx], noise[idx])[0]

    # coarse grid: (B, grid)
    idx = np.repeat(np.arange(B), grid)
    kap = (kappa0[:, None] + s[None, :]).ravel()
    E = err_at(kap, idx).reshape(B, grid)
    best = np.argmin(np.where(np.isfinite(E), E, np.inf), axis=1)
    lo = s[np.maximum(best - 1, 0)]
    hi = s[np.minimum(best + 1, grid - 1)]
    all_idx = np.arange(B)
    s_opt, e_opt = minimize_scalar(
        lambda x: err_at(kappa0 + x, all_idx), lo, hi, log=True, xtol=xtol
    )
    # ridgeless candidate (kappa = kappa_0)
    e0 = err_at(kappa0, all_idx)
    use0 = np.isfinite(e0) & (e0 <= e_opt)
    error = np.where(use0, e0, e_opt)
    kappa_best = np.where(use0, kappa0, kappa0 + s_opt)
    ridge = np.where(use0, 0.0, _ridge_of_kappa(eigs, kappa_best, P, N))
    return error.reshape(shape), ridge.reshape(shape)


def scaling_exponent(alpha, r, ell) -> np.ndarray:
    """Closed-form scaling exponent s(ell) of E_K - noise ~ M^(-s) (spec 3.4 item 4).

    With M = K N parameters, N = M^ell features per member and K = M^(1-ell)
    members, in the data-rich limit P = inf at the optimal ridge::

        s(ell) = min{ 2 alpha ell min(r, 1),  (1 - ell) + alpha ell min(2r, 1) }

    The first term is the bias (infinite-ensemble) exponent, the second the
    variance exponent.

    Parameters
    ----------
    alpha : array_like
        Capacity exponent (> 1).
    r : array_like
        Source exponent (> 0).
    ell : array_like
        Growth exponent in [0, 1].

    Returns
    -------
    numpy.ndarray
        s(ell), broadcast shape.
    """
    alpha = check_array("alpha", alpha, positive=True)
    r = check_array("r", r, positive=True)
    ell = check_array("ell", ell)
    if np.any((ell < 0) | (ell > 1)):
        raise ConfigError("ell", ell, "must be in [0, 1]")
    bias = 2.0 * alpha * ell * np.minimum(r, 1.0)
    var = (1.0 - ell) + alpha * ell * np.minimum(2.0 * r, 1.0)
    return np.minimum(bias, var)


def scaling_crossover(alpha, r) -> np.ndarray:
    """ell* = 1 / (1 + 2 alpha min(r,1) - alpha min(2r,1)), bias/variance crossover (spec 3.4)."""
    alpha = check_array("alpha", alpha, positive=True)
    r = check_array("r", r, positive=True)
    return 1.0 / (1.0 + 2.0 * alpha * np.minimum(r, 1.0) - alpha * np.minimum(2.0 * r, 1.0))


def scaling_slope(eigs, target_power, M, ell, P=np.inf, noise=0.0) -> np.ndarray:
    """Theory exponent: least-squares slope of -log(E*_K - noise) vs log M.

    Uses fractional N = M^ell and K = M^(1-ell) (spec pitfall 4) and the
    optimal ridge at every M.

    Parameters
    ----------
    eigs, target_power : array_like, shape (D,)
        Spectrum; D must be >> max N (spec pitfall 3).
    M : array_like, shape (m,)
        Parameter budgets (m >= 2).
    ell : array_like, shape (q,)
        Growth exponents.
    P : float
        Samples (np.inf for the data-rich limit).
    noise : float

    Returns
    -------
    numpy.ndarray, shape (q,)
        Fitted exponents.
    """
    M = check_array("M", M, positive=True, ndim=1)
    ell = np.atleast_1d(check_array("ell", ell))
    if M.size < 2:
        raise ConfigError("M", M, "needs at least two budgets")
    Mg, Lg = np.meshgrid(M, ell)
    N = Mg**Lg
    K = Mg / N
    err, _ = optimal_error(eigs, target_power, P, N, K, noise)
    excess = err - noise
    logM = np.log(M)
    A = np.vstack([logM, np.ones_like(logM)]).T
    coef = np.linalg.lstsq(A, np.log(excess).T, rcond=None)[0]
    return -coef[0]
