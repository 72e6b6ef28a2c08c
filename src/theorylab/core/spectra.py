"""Spectra and targets: power laws, empirical kernel spectra, Gaussian data.

Conventions (shared by every study):

* ``eigs[k]`` = lambda_k, eigenvalues of the input covariance (or kernel
  operator), sorted in decreasing order.
* ``target_power[k]`` = lambda_k * wbar_k^2, the target's power in mode k, so
  that sum(target_power) is the target's variance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ConfigError, check_array


@dataclass(frozen=True)
class Spectrum:
    """Eigenvalues of a covariance/kernel and the target's power per mode.

    Attributes
    ----------
    eigs : numpy.ndarray, shape (D,)
        lambda_k, decreasing, > 0.
    target_power : numpy.ndarray, shape (D,)
        lambda_k wbar_k^2 >= 0.
    noise : float
        Label-noise variance sigma_eps^2 the spectrum comes with (0 if none).
    """

    eigs: np.ndarray
    target_power: np.ndarray
    noise: float = 0.0

    @property
    def weights(self) -> np.ndarray:
        """Target weights wbar_k = sqrt(target_power_k / lambda_k), shape (D,)."""
        return np.sqrt(self.target_power / self.eigs)

    def __len__(self) -> int:
        return self.eigs.size


def power_law_spectrum(D: int, alpha: float, r: float) -> Spectrum:
    """Power-law capacity/source spectrum (the task of docs/rf_ensembles.md).

    lambda_k proportional to k^(-alpha), normalised so sum_k lambda_k = 1;
    target weights w*_k proportional to k^(-(1 - alpha + 2 alpha r)/2), normalised
    so w*^T Sigma w* = 1; hence target_power_k proportional to k^(-(1 + 2 alpha r))
    and sum_k target_power_k = 1.

    Parameters
    ----------
    D : int
        Number of modes (>= 1).
    alpha : float
        Capacity exponent (> 0; > 1 for a trace-class spectrum as D -> inf).
    r : float
        Source exponent (> 0).

    Returns
    -------
    Spectrum
    """
    if int(D) != D or D < 1:
        raise ConfigError("D", D, "must be an integer >= 1")
    if not (np.isfinite(alpha) and alpha > 0):
        raise ConfigError("alpha", alpha, "must be > 0")
    if not (np.isfinite(r) and r > 0):
        raise ConfigError("r", r, "must be > 0")
    k = np.arange(1, int(D) + 1, dtype=np.float64)
    eigs = k**-alpha
    eigs /= eigs.sum()
    power = k ** -(1.0 + 2.0 * alpha * r)
    power /= power.sum()
    return Spectrum(eigs=eigs, target_power=power)


def empirical_spectrum(gram, y, *, rtol: float = 1e-12, return_vectors: bool = False):
    """Kernel spectrum and target powers from an n x n Gram matrix.

    With K_n = V diag(mu) V^T over n samples of the data distribution,
    lambda_k = mu_k / n and target_power_k = (v_k^T y)^2 / n (the target's
    power in the k-th empirical eigenfunction; docs/rf_ensembles.md, digits).
    Modes with mu_k <= rtol * mu_max are dropped (their target power is
    returned as ``noise``: the part of the target no retained mode explains).

    Parameters
    ----------
    gram : array_like, shape (n, n)
        Symmetric positive semi-definite Gram matrix.
    y : array_like, shape (n,)
        Targets.
    rtol : float
        Relative eigenvalue cut-off.

    return_vectors : bool
        Also return the kept eigenvectors V (n, D): the k-th eigenfunction at
        sample i is sqrt(n) V[i, k], so the features sqrt(lambda_k) e_k(x_i)
        are ``V * sqrt(n * eigs)``.

    Returns
    -------
    Spectrum
        eigs sorted decreasingly (and V when ``return_vectors``).
    """
    K = check_array("gram", gram, ndim=2)
    y = check_array("y", y, ndim=1)
    n = K.shape[0]
    if K.shape != (n, n) or y.size != n:
        raise ConfigError("gram", K.shape, f"must be square and match y of length {y.size}")
    mu, V = np.linalg.eigh(0.5 * (K + K.T))
    order = np.argsort(mu)[::-1]
    mu, V = mu[order], V[:, order]
    power = (V.T @ y) ** 2 / n
    keep = mu > rtol * mu[0]
    spec = Spectrum(eigs=mu[keep] / n, target_power=power[keep], noise=float(power[~keep].sum()))
    return (spec, V[:, keep]) if return_vectors else spec


def gaussian_data(key, n: int, eigs, weights, noise: float = 0.0):
    """Sample x ~ N(0, diag(eigs)) and y = w . x + sqrt(noise) eps in JAX.

    Parameters
    ----------
    key : jax.Array
        PRNG key.
    n : int
        Number of samples.
    eigs : array_like, shape (D,)
        Covariance eigenvalues (the covariance is diagonal WLOG).
    weights : array_like, shape (D,)
        Target weights.
    noise : float
        Label-noise variance.

    Returns
    -------
    X : jax.Array, shape (n, D)
    y : jax.Array, shape (n,)
    """
    import jax
    import jax.numpy as jnp

    kx, ke = jax.random.split(key)
    eigs = jnp.asarray(eigs)
    Z = jax.random.normal(kx, (n, eigs.shape[0]), dtype=eigs.dtype)
    X = Z * jnp.sqrt(eigs)
    y = X @ jnp.asarray(weights, dtype=eigs.dtype)
    y = y + jnp.sqrt(noise) * jax.random.normal(ke, (n,), dtype=eigs.dtype)
    return X, y
