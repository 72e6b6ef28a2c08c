"""Deterministic-equivalent theory of random-feature ridge ensembles.

Ruben, Tong, Chaudhry, Pehlevan, "No Free Lunch from Random Feature
Ensembles" (arXiv 2412.05418).  The formulas and their derivations are
written out in ``docs/rf_ensembles.md`` (section Theory); each function names
the part it implements.

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
    lambda-tilde = lambda / P (docs/rf_ensembles.md, section Model, "Ridge
    convention").
``P``, ``N``
    Samples and features per member; either may be ``np.inf``.  Fractional
    values are allowed (needed for clean scaling exponents).
``K``
    Ensemble size (members see the same data and differ in their projections).

Spectral functionals (docs/rf_ensembles.md, section Theory), with kappa the
renormalised ridge::

    df1 = sum l/(l+k)   df2 = sum l^2/(l+k)^2   T1 = sum p/(l+k)   T2 = sum p/(l+k)^2

Every public function validates its arguments once, at its entry (or lets the
core function it delegates to do it), and raises ``ConfigError`` naming the
bad argument.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theorylab.core.deteq import (
    check_count,
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


_COUNT_NAMES = {"n1": "P", "n2": "N"}  # core's names for the two counts


def effective_ridge(eigs, P, N, ridge) -> np.ndarray:
    """Renormalised ridge kappa of a random-feature ridge model.

    Solves kappa (1 - df1(kappa)/P)(1 - df1(kappa)/N) = ridge for the root with
    kappa >= kappa_0, where df1(kappa_0) = min(N, P) (kappa_0 = 0 when
    min(N, P) >= D) (docs/rf_ensembles.md, section Theory, "Renormalised
    ridge").  With N = inf this is kernel ridge regression's
    kappa (1 - df1/P) = ridge; with P = inf, the infinite-data limit.  The
    arguments are validated once, by :func:`theorylab.core.deteq.renormalized_ridge`.

    Parameters
    ----------
    eigs : array_like, shape (D,)
        Kernel eigenvalues, > 0.
    P, N : array_like, any shape
        Samples and features per member (> 0, np.inf allowed); broadcast
        against each other and ``ridge``.
    ridge : array_like, any shape
        Per-sample ridge lambda-tilde >= 0.

    Returns
    -------
    numpy.ndarray, shape broadcast(P, N, ridge)
        kappa.

    Raises
    ------
    ConfigError
        Naming the bad argument (``eigs``, ``P``, ``N`` or ``ridge``).
    SolverError
        If the root finder does not converge (it reports the residual).
    """
    try:
        return renormalized_ridge(eigs, ridge, P, N)
    except ConfigError as exc:
        if exc.field not in _COUNT_NAMES:
            raise
        raise ConfigError(_COUNT_NAMES[exc.field], exc.value, exc.allowed) from None


def _check_power(target_power, eigs: np.ndarray) -> np.ndarray:
    """Validated target powers (>= 0, the shape of the already-validated ``eigs``)."""
    power = check_array("target_power", target_power, nonnegative=True, ndim=1)
    if power.shape != eigs.shape:
        raise ConfigError("target_power", power.shape, f"must have the shape of eigs {eigs.shape}")
    return power


def _check_size(K) -> np.ndarray:
    """Validated ensemble sizes K >= 1 (fractional allowed)."""
    K = check_array("K", K)
    if np.any(K < 1):
        raise ConfigError("K", K, "must be >= 1")
    return K


@dataclass(frozen=True)
class EnsembleTerms:
    """Error of a K-member ensemble and its decomposition.

    docs/rf_ensembles.md, section Theory, "Errors".  All arrays have the
    broadcast shape of the inputs.

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

    Implements the errors of docs/rf_ensembles.md, section Theory, "Errors"
    (the paper's deterministic equivalents, computed by
    :func:`theorylab.core.deteq.rf_errors_at_kappa` at the kappa of
    :func:`effective_ridge`)::

        E_inf = (kappa^2 T2 + noise) / (1 - df2/P)
        rho   = (N - df1)/(N - df2),  gamma1 = (df1 - rho (df1 - df2))/P
        E_1   = (rho kappa^2 T2 + (1 - rho) kappa T1 + noise) / (1 - gamma1)
        E_K   = E_inf + (E_1 - E_inf)/K

    Parameters
    ----------
    eigs : array_like, shape (D,)
        Kernel eigenvalues, > 0.
    target_power : array_like, shape (D,)
        wbar_k^2 lambda_k, >= 0.
    P, N, K, ridge : array_like, any shape
        Broadcast together; P, N > 0 and may be np.inf; K >= 1 (may be
        fractional); per-sample ridge >= 0.
    noise : array_like, any shape
        Variance of the label noise on test labels (sigma_eps^2 >= 0).

    Returns
    -------
    EnsembleTerms
        Arrays of shape broadcast(P, N, K, ridge, noise).  Points where the
        theory diverges (N = P, ridgeless) give ``inf``.

    Raises
    ------
    ConfigError
        Naming the bad argument.
    """
    kappa = effective_ridge(eigs, P, N, ridge)  # validates eigs, P, N and ridge
    eigs = np.asarray(eigs, dtype=float)
    power = _check_power(target_power, eigs)
    K = _check_size(K)
    noise = check_array("noise", noise, nonnegative=True)
    kappa, P, N, K, noise = np.broadcast_arrays(
        kappa, np.asarray(P, float), np.asarray(N, float), K, noise
    )
    shape = kappa.shape
    err, bias, var = rf_errors_at_kappa(
        eigs, power, kappa.ravel(), P.ravel(), N.ravel(), K.ravel(), noise.ravel()
    )
    return EnsembleTerms(
        error=err.reshape(shape),
        bias=bias.reshape(shape),
        variance=var.reshape(shape),
        kappa=np.array(kappa),
    )


def ensemble_error(eigs, target_power, P, N, K, ridge, noise=0.0) -> np.ndarray:
    """Expected test MSE E_K of a K-member random-feature ridge ensemble.

    E_K of docs/rf_ensembles.md, section Theory, "Errors"; see
    :func:`ensemble_terms` for the formulas.

    Parameters
    ----------
    eigs, target_power : array_like, shape (D,)
        Kernel eigenvalues (> 0) and the target's power per mode (>= 0).
    P, N, K, ridge : array_like, any shape
        Broadcast together; P, N > 0 (np.inf allowed), K >= 1, per-sample
        ridge lambda-tilde >= 0.
    noise : array_like, any shape
        Test-label noise variance, included in the error.

    Returns
    -------
    numpy.ndarray, shape broadcast(P, N, K, ridge, noise)
        E_K (``inf`` where the theory diverges).
    """
    return ensemble_terms(eigs, target_power, P, N, K, ridge, noise).error


def _ridge_of_kappa(eigs, kappa, P, N):
    """Per-sample ridge that produces renormalised ridge kappa (the explicit inverse map)."""
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
    """Test error at the optimal ridge, min over ridge >= 0 of E_K.

    docs/rf_ensembles.md, section Theory, "Optimal ridge": the ridge -> kappa
    map is monotone on [kappa_0, inf), so the search is done directly over
    kappa = kappa_0 + s (no root solve per trial ridge): a log-spaced grid of
    ``grid`` values of s in ``span`` x sum(eigs), refined by golden-section
    search around the best grid point, compared with the ridgeless value
    kappa = kappa_0 (often optimal when noise = 0).

    Parameters
    ----------
    eigs, target_power : array_like, shape (D,)
        Kernel eigenvalues (> 0) and the target's power per mode (>= 0).
    P, N, K, noise : array_like, any shape
        Broadcast together (see :func:`ensemble_terms`).
    grid : int
        Coarse grid size.
    span : (float, float)
        Range of kappa - kappa_0, relative to sum(eigs).
    xtol : float
        Golden-section tolerance in log(kappa - kappa_0).

    Returns
    -------
    error : numpy.ndarray, shape broadcast(P, N, K, noise)
        min_ridge E_K.
    ridge : numpy.ndarray, shape broadcast(P, N, K, noise)
        The minimising per-sample ridge (0 for the ridgeless limit).
    """
    K = _check_size(K)
    noise = check_array("noise", noise, nonnegative=True)
    P, N, K, noise = np.broadcast_arrays(check_count("P", P), check_count("N", N), K, noise)
    shape = P.shape
    P, N, K, noise = (a.ravel().astype(float) for a in (P, N, K, noise))
    kappa0 = ridgeless_kappa(eigs, np.minimum(P, N))  # validates eigs
    eigs = np.asarray(eigs, dtype=float)
    power = _check_power(target_power, eigs)
    B = P.size
    s = eigs.sum() * np.logspace(np.log10(span[0]), np.log10(span[1]), grid)

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
    """Closed-form scaling exponent s(ell) of E_K - noise ~ M^(-s).

    docs/rf_ensembles.md, section Theory, "Scaling laws": with M = K N
    parameters, N = M^ell features per member and K = M^(1-ell) members, in
    the data-rich limit P = inf at the optimal ridge::

        s(ell) = min{ 2 alpha ell min(r, 1),  (1 - ell) + alpha ell min(2r, 1) }

    The first term is the bias (infinite-ensemble) exponent, the second the
    variance exponent.

    Parameters
    ----------
    alpha : array_like, any shape
        Capacity exponent (> 1).
    r : array_like, any shape
        Source exponent (> 0).
    ell : array_like, any shape
        Growth exponent in [0, 1].

    Returns
    -------
    numpy.ndarray, shape broadcast(alpha, r, ell)
        s(ell).
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
    """Bias/variance crossover of the scaling exponent.

    ell* = 1 / (1 + 2 alpha min(r,1) - alpha min(2r,1)) (docs/rf_ensembles.md,
    section Theory, "Scaling laws"): bias-limited for ell < ell*,
    variance-limited above.

    Parameters
    ----------
    alpha : array_like, any shape
        Capacity exponent (> 1).
    r : array_like, any shape
        Source exponent (> 0).

    Returns
    -------
    numpy.ndarray, shape broadcast(alpha, r)
        ell*.
    """
    alpha = check_array("alpha", alpha, positive=True)
    r = check_array("r", r, positive=True)
    return 1.0 / (1.0 + 2.0 * alpha * np.minimum(r, 1.0) - alpha * np.minimum(2.0 * r, 1.0))


def scaling_slope(eigs, target_power, M, ell, P=np.inf, noise=0.0) -> np.ndarray:
    """Theory exponent: least-squares slope of -log(E*_K - noise) vs log M.

    docs/rf_ensembles.md, section Theory, "Scaling laws": fractional
    N = M^ell and K = M^(1-ell) (rounding them would blur the exponent) and
    the optimal ridge at every M.

    Parameters
    ----------
    eigs, target_power : array_like, shape (D,)
        Spectrum; D must be >> max N (at least 20 max N, or kappa_0 is wrong).
    M : array_like, shape (m,)
        Parameter budgets (m >= 2).
    ell : array_like, shape (q,)
        Growth exponents.
    P : float
        Samples (np.inf for the data-rich limit).
    noise : float
        Label-noise variance, subtracted from the error before the fit.

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
