"""Random-feature ridge ensembles, trained for real (JAX, float64).

Each member k draws its own projection F_k (N x D), builds features
psi_k(x) = g(F_k x) on the *same* P training points and fits its readout by
ridge regression with the unnormalised penalty lambda N |a|^2, where
lambda = ridge * P (``ridge`` is the theory's per-sample lambda-tilde).  The
ensemble predicts with the mean of its members.  All K members are handled
with ``jax.vmap``; each member's Gram matrix is eigendecomposed once and
reused for every ridge.

* Linear features on Gaussian data (g = identity): the test error is exact,
  E = (beta - w*)^T Sigma (beta - w*) + noise with beta = mean_k F_k^T a_k.
* ReLU features on real data: held-out mean squared error.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from theorylab.core.spectra import gaussian_data
from theorylab.core.train import x64

__all__ = ["linear_ensemble_errors", "linear_errors", "relu_ensemble_errors", "relu_errors"]


def _member_readouts(psi, y, ridges, N: int):
    """Ridge readouts of one member for every ridge.

    Parameters
    ----------
    psi : (P, N) feature matrix.
    y : (P,) labels.
    ridges : (R,) per-sample ridges lambda-tilde.
    N : number of features (static).

    Returns
    -------
    (R, N) readouts a(lambda) = (psi^T psi + lambda-tilde P N I)^-1 psi^T y.
    """
    P = psi.shape[0]
    shift = ridges * P * N  # (R,)
    if N <= P:
        s, U = jnp.linalg.eigh(psi.T @ psi)
        c = U.T @ (psi.T @ y)  # (N,)
        return (c[None, :] / (s[None, :] + shift[:, None])) @ U.T
    s, V = jnp.linalg.eigh(psi @ psi.T)
    c = V.T @ y  # (P,)
    return ((c[None, :] / (s[None, :] + shift[:, None])) @ V.T) @ psi


@partial(jax.jit, static_argnames=("P", "N", "K"))
def linear_ensemble_errors(
    data_key, proj_key, eigs, weights, noise, ridges, *, P: int, N: int, K: int
):
    """Exact test errors of a linear random-feature ensemble on Gaussian data (jitted).

    Parameters
    ----------
    data_key : jax.Array (PRNG key)
        Draws the training data (P points); share it between ensembles to
        compare them on the same data (paired comparisons).
    proj_key : jax.Array (PRNG key)
        Draws the K projections, each (N, D).
    eigs : jax.Array, shape (D,)
        Covariance eigenvalues.
    weights : jax.Array, shape (D,)
        Target weights w*.
    noise : float
        Label-noise variance (train and test).
    ridges : jax.Array, shape (R,)
        Per-sample ridges lambda-tilde.
    P, N, K : int
        Samples, features per member, members (static).

    Returns
    -------
    jax.Array, shape (R,)
        Test errors E = (beta - w*)^T Sigma (beta - w*) + noise.
    """
    X, y = gaussian_data(data_key, P, eigs, weights, noise)
    F = jax.random.normal(proj_key, (K, N, eigs.shape[0]), dtype=eigs.dtype)

    def member(Fk):
        a = _member_readouts(X @ Fk.T, y, ridges, N)  # (R, N)
        return a @ Fk  # (R, D): effective linear weights

    beta = jax.vmap(member)(F).mean(axis=0)
    diff = beta - weights[None, :]
    return (diff**2 * eigs[None, :]).sum(axis=1) + noise


@partial(jax.jit, static_argnames=("N", "K"))
def relu_ensemble_errors(key, X_train, y_train, X_test, y_test, ridges, weight_var, *, N, K):
    """Held-out MSE of a ReLU random-feature ensemble (jitted).

    Parameters
    ----------
    key : jax.Array (PRNG key)
        Draws the K projections, each (N, d).
    X_train : jax.Array, shape (P, d)
    y_train : jax.Array, shape (P,)
    X_test : jax.Array, shape (n, d)
    y_test : jax.Array, shape (n,)
    ridges : jax.Array, shape (R,)
        Per-sample ridges lambda-tilde.
    weight_var : float
        Variance of each projection entry (2/d: He scale).
    N, K : int
        Features per member and members (static).

    Returns
    -------
    jax.Array, shape (R,)
        Test MSE of the ensemble's mean prediction.
    """
    d = X_train.shape[1]
    F = jnp.sqrt(weight_var) * jax.random.normal(key, (K, N, d), dtype=X_train.dtype)

    def member(Fk):
        a = _member_readouts(jax.nn.relu(X_train @ Fk.T), y_train, ridges, N)  # (R, N)
        return a @ jax.nn.relu(X_test @ Fk.T).T  # (R, n)

    pred = jax.vmap(member)(F).mean(axis=0)
    return ((pred - y_test[None, :]) ** 2).mean(axis=1)


_linear_x64 = x64(linear_ensemble_errors)
_relu_x64 = x64(relu_ensemble_errors)


def linear_errors(data_key, proj_key, eigs, weights, noise, ridges, P, N, K) -> np.ndarray:
    """:func:`linear_ensemble_errors` in float64, from and to NumPy.

    Parameters
    ----------
    data_key, proj_key : jax.Array (PRNG keys)
        Training data and projections (see :func:`linear_ensemble_errors`).
    eigs, weights : array_like, shape (D,)
        Covariance eigenvalues and target weights w*.
    noise : float
        Label-noise variance.
    ridges : array_like, shape (R,)
        Per-sample ridges lambda-tilde.
    P, N, K : int
        Samples, features per member, members.

    Returns
    -------
    numpy.ndarray, shape (R,)
        Exact test errors, float64.
    """
    return _linear_x64(
        data_key,
        proj_key,
        np.asarray(eigs, dtype=float),
        np.asarray(weights, dtype=float),
        float(noise),
        np.asarray(ridges, dtype=float),
        P=int(P),
        N=int(N),
        K=int(K),
    )


def relu_errors(seed_key, X_train, y_train, X_test, y_test, ridges, weight_var, N, K):
    """:func:`relu_ensemble_errors` in float64, from and to NumPy.

    Parameters
    ----------
    seed_key : jax.Array (PRNG key)
        Draws the projections.
    X_train : array_like, shape (P, d)
    y_train : array_like, shape (P,)
    X_test : array_like, shape (n, d)
    y_test : array_like, shape (n,)
    ridges : array_like, shape (R,)
        Per-sample ridges lambda-tilde.
    weight_var : float
        Variance of each projection entry.
    N, K : int
        Features per member and members.

    Returns
    -------
    numpy.ndarray, shape (R,)
        Test MSE of the ensemble's mean prediction, float64.
    """
    f = partial(np.asarray, dtype=float)
    return _relu_x64(
        seed_key,
        f(X_train),
        f(y_train),
        f(X_test),
        f(y_test),
        f(ridges),
        float(weight_var),
        N=int(N),
        K=int(K),
    )
