"""Analytic infinite-width kernels and their Monte Carlo counterparts.

Each analytic kernel is E_f[g(f.x) g(f.x')] for f ~ N(0, weight_var I) and a
pointwise activation g (the NNGP kernel of one hidden layer without bias).
"""

from __future__ import annotations

import numpy as np

from .errors import ConfigError, check_array


def _pair(X, Y):
    X = check_array("X", X, ndim=2)
    Y = X if Y is None else check_array("Y", Y, ndim=2)
    if X.shape[1] != Y.shape[1]:
        raise ConfigError("Y", Y.shape, f"must have {X.shape[1]} columns like X")
    return X, Y


def linear_kernel(X, Y=None, weight_var: float = 1.0) -> np.ndarray:
    """k(x, x') = weight_var x . x'  (identity activation).

    Parameters
    ----------
    X : array_like, shape (n, d)
    Y : array_like, shape (m, d), optional (defaults to X)
    weight_var : float
        Variance of each feature weight.

    Returns
    -------
    numpy.ndarray, shape (n, m)
    """
    X, Y = _pair(X, Y)
    return weight_var * X @ Y.T


def relu_kernel(X, Y=None, weight_var: float = 1.0) -> np.ndarray:
    """Arc-cosine kernel of degree 1 (ReLU features), closed form.

    k(x, x') = weight_var |x||x'| (sin t + (pi - t) cos t) / (2 pi), t = angle(x, x')
    (Cho & Saul 2009).  With weight_var = 2/d this is the rf_ensembles spec's
    |x||x'| (sin t + (pi - t) cos t) / (pi d).

    Parameters
    ----------
    X : array_like, shape (n, d)
    Y : array_like, shape (m, d), optional
    weight_var : float
        Variance of each entry of the feature weights.

    Returns
    -------
    numpy.ndarray, shape (n, m)
    """
    X, Y = _pair(X, Y)
    nx = np.linalg.norm(X, axis=1)
    ny = np.linalg.norm(Y, axis=1)
    dot = X @ Y.T
    denom = np.outer(nx, ny)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.where(denom > 0, dot / denom, 1.0)
    cos = np.clip(cos, -1.0, 1.0)
    t = np.arccos(cos)
    return weight_var * denom * (np.sin(t) + (np.pi - t) * cos) / (2.0 * np.pi)


def erf_kernel(X, Y=None, weight_var: float = 1.0) -> np.ndarray:
    """NNGP kernel of erf features (Williams 1997), closed form.

    k(x, x') = (2/pi) arcsin( 2 s x.x' / sqrt((1 + 2 s |x|^2)(1 + 2 s |x'|^2)) ),
    s = weight_var.

    Returns
    -------
    numpy.ndarray, shape (n, m)
    """
    X, Y = _pair(X, Y)
    s = weight_var
    nx = 1.0 + 2.0 * s * np.sum(X**2, axis=1)
    ny = 1.0 + 2.0 * s * np.sum(Y**2, axis=1)
    arg = 2.0 * s * (X @ Y.T) / np.sqrt(np.outer(nx, ny))
    return (2.0 / np.pi) * np.arcsin(np.clip(arg, -1.0, 1.0))


def monte_carlo_kernel(
    X, Y=None, *, activation: str = "relu", weight_var: float = 1.0, n_features: int, seed: int
) -> np.ndarray:
    """Finite-feature estimate (1/N) sum_i g(f_i.x) g(f_i.x') of the kernels above.

    Parameters
    ----------
    X, Y : array_like
        As in :func:`relu_kernel`.
    activation : {"relu", "erf", "linear"}
    weight_var : float
    n_features : int
        Number of random features N.
    seed : int
        Seed of the NumPy generator drawing the features.

    Returns
    -------
    numpy.ndarray, shape (n, m)
    """
    from scipy.special import erf

    X, Y = _pair(X, Y)
    acts = {"relu": lambda z: np.maximum(z, 0.0), "erf": erf, "linear": lambda z: z}
    if activation not in acts:
        raise ConfigError("activation", activation, "must be one of relu, erf, linear")
    rng = np.random.default_rng(seed)
    F = rng.normal(scale=np.sqrt(weight_var), size=(n_features, X.shape[1]))
    g = acts[activation]
    return g(X @ F.T) @ g(Y @ F.T).T / n_features
