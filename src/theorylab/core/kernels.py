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


def _covariance(C) -> np.ndarray:
    """``C`` validated as a square float64 covariance matrix (non-negative diagonal)."""
    C = check_array("C", C, ndim=2)
    if C.shape[0] != C.shape[1]:
        raise ConfigError("C", f"array of shape {C.shape}", "must be a square covariance matrix")
    d = np.diag(C)
    if (d < 0).any():
        raise ConfigError("C", f"diagonal with min {d.min():.3g}", "variances must be >= 0")
    return np.asarray(C, dtype=np.float64)


def _gram_angles(C):
    """Standard deviations (n,) and clipped correlations (n, n) of a covariance matrix."""
    C = _covariance(C)
    s = np.sqrt(np.diag(C))
    denom = np.outer(s, s)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.where(denom > 0, C / np.where(denom > 0, denom, 1.0), 1.0)
    return s, denom, np.clip(cos, -1.0, 1.0)


def relu_gram_kernel(C) -> np.ndarray:
    """E[relu(u) relu(v)] for (u, v) ~ N(0, C) restricted to each pair, closed form.

    The arc-cosine kernel of degree 1 as a function of a covariance matrix:
    sqrt(C_uu C_vv) (sin t + (pi - t) cos t) / (2 pi), cos t = C_uv / sqrt(C_uu C_vv).

    Parameters
    ----------
    C : array_like, shape (n, n)
        Covariance of the preactivations at n points.

    Returns
    -------
    numpy.ndarray, shape (n, n)
    """
    _, denom, cos = _gram_angles(C)
    t = np.arccos(cos)
    return denom * (np.sin(t) + (np.pi - t) * cos) / (2.0 * np.pi)


def step_gram_kernel(C) -> np.ndarray:
    """E[step(u) step(v)] = (pi - t) / (2 pi) for (u, v) ~ N(0, C), closed form.

    The arc-cosine kernel of degree 0 (the ReLU derivative's kernel); a point
    with zero variance has step = 0 (Heaviside at 0 taken as 0).

    Parameters
    ----------
    C : array_like, shape (n, n)

    Returns
    -------
    numpy.ndarray, shape (n, n)
    """
    s, _, cos = _gram_angles(C)
    K = (np.pi - np.arccos(cos)) / (2.0 * np.pi)
    alive = s > 0
    return K * np.outer(alive, alive)


def erf_gram_kernel(C) -> np.ndarray:
    """E[erf(u) erf(v)] = (2/pi) arcsin(2 C_uv / sqrt((1 + 2 C_uu)(1 + 2 C_vv))), closed form.

    Parameters
    ----------
    C : array_like, shape (n, n)

    Returns
    -------
    numpy.ndarray, shape (n, n)
    """
    C = _covariance(C)
    d = 1.0 + 2.0 * np.diag(C)
    return (2.0 / np.pi) * np.arcsin(np.clip(2.0 * C / np.sqrt(np.outer(d, d)), -1.0, 1.0))


def erf_derivative_gram_kernel(C) -> np.ndarray:
    """E[erf'(u) erf'(v)] = (4/pi) / sqrt((1 + 2 C_uu)(1 + 2 C_vv) - 4 C_uv^2), closed form.

    Parameters
    ----------
    C : array_like, shape (n, n)

    Returns
    -------
    numpy.ndarray, shape (n, n)
    """
    C = _covariance(C)
    d = 1.0 + 2.0 * np.diag(C)
    return (4.0 / np.pi) / np.sqrt(np.outer(d, d) - 4.0 * C**2)


def step_kernel(X, Y=None, weight_var: float = 1.0) -> np.ndarray:
    """Arc-cosine kernel of degree 0: E_f[step(f.x) step(f.x')] = (pi - t) / (2 pi).

    Parameters
    ----------
    X : array_like, shape (n, d)
    Y : array_like, shape (m, d), optional
    weight_var : float
        Variance of each feature weight (does not change the kernel's value).

    Returns
    -------
    numpy.ndarray, shape (n, m)
    """
    X, Y = _pair(X, Y)
    nx = np.linalg.norm(X, axis=1)
    ny = np.linalg.norm(Y, axis=1)
    denom = np.outer(nx, ny)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.where(denom > 0, (X @ Y.T) / np.where(denom > 0, denom, 1.0), 1.0)
    K = (np.pi - np.arccos(np.clip(cos, -1.0, 1.0))) / (2.0 * np.pi)
    return K * (denom > 0)


def relu_ntk(X, Y=None, weight_var: float = 1.0) -> np.ndarray:
    """NTK of a two-layer ReLU network without bias, readout variance 1.

    K(x, x') = k1(x, x') + weight_var (x . x') k0(x, x'), with k1 the
    arc-cosine kernel of degree 1 (:func:`relu_kernel`) and k0 that of degree
    0 (:func:`step_kernel`): the feature term plus the first-layer gradient term.

    Parameters
    ----------
    X : array_like, shape (n, d)
    Y : array_like, shape (m, d), optional
    weight_var : float
        Variance of each first-layer weight (1/d for preactivations w.x/sqrt(d)).

    Returns
    -------
    numpy.ndarray, shape (n, m)
    """
    X, Y = _pair(X, Y)
    return relu_kernel(X, Y, weight_var) + weight_var * (X @ Y.T) * step_kernel(X, Y)
