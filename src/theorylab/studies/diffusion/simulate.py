"""The tied-weight autoencoder denoiser trained by online SGD in d dimensions, and its flow.

Exactly the model of :mod:`theorylab.studies.diffusion.theory` (eqs. (D1)-(D2) of
docs/diffusion.md): one pass of online SGD with batch 1 on
(1/2)|f(x_t) - x_1|^2, step eta on W plus weight decay eta lam / d, step
eta / d^2 on the skip connection b; the structured subspace U is spanned by the
first k coordinates.  Generation runs the full Euler flow in d dimensions.

The jitted kernels run in float64 through :func:`theorylab.core.train.x64`
(which also raises :class:`~theorylab.core.errors.DivergenceError` on a
non-finite output); keys come from the caller (a study passes
``Seed.key(...)``).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

# key_for (integer key paths) is re-exported for the unit tests and the benchmark only;
# the study's experiments derive every key from their Seed.
from theorylab.core.train import key_for, x64  # noqa: F401

__all__ = ["full_flow", "init_weights", "train_gmm", "train_on_samples"]


def init_weights(centroids, r: int, d: int, scale: float = 0.1) -> np.ndarray:
    """Informed initialisation: row gamma of W is scale sqrt(d) mu_gamma, eq. (D4).

    Parameters
    ----------
    centroids : array_like, shape (K, k)
        Centroid coordinates in the first k input coordinates.
    r, d : int
        Hidden units and input dimension.
    scale : float
        Scale of the initialised rows (0.1 in the authors' code); rows
        gamma >= min(r, K) are 0.

    Returns
    -------
    numpy.ndarray, shape (r, d)
    """
    m = np.asarray(centroids, dtype=float)
    W = np.zeros((r, d))
    K = min(r, m.shape[0])
    W[:K, : m.shape[1]] = scale * np.sqrt(d) * m[:K]
    return W


def _sgd_step(W, b, x0, x1, alpha, beta, eta, lam):
    d = x0.shape[0]
    xt = alpha * x0 + beta * x1
    h = W @ xt / jnp.sqrt(d)
    sig = jnp.tanh(h)
    e = b * xt + W.T @ sig / jnp.sqrt(d) - x1
    eW = W @ e / jnp.sqrt(d)
    grad = (jnp.outer(sig, e) + jnp.outer((1.0 - sig**2) * eW, xt)) / jnp.sqrt(d)
    W = W - eta * grad - (eta * lam / d) * W
    b = b - (eta / d**2) * jnp.dot(e, xt)
    return W, b


def _stats(W, b, k):
    """(b, Omega, Q): b first, so a divergence is reported at its record."""
    d = W.shape[1]
    return b, W[:, :k] / jnp.sqrt(d), W @ W.T / d


@x64(check="autoencoder SGD")
@partial(jax.jit, static_argnames=("k", "n_chunks", "chunk"))
def _train_gmm(key, W, b, centroids, weights, s, alpha, beta, eta, lam, *, k, n_chunks, chunk):
    d = W.shape[1]
    mus = (
        jnp.zeros((centroids.shape[0], d), dtype=W.dtype).at[:, : centroids.shape[1]].set(centroids)
    )

    def one(carry, kk):
        W, b = carry
        k0, kc, kz = jax.random.split(kk, 3)
        x0 = jax.random.normal(k0, (d,), dtype=W.dtype)
        c = jax.random.choice(kc, weights.shape[0], p=weights)
        x1 = mus[c] + s * jax.random.normal(kz, (d,), dtype=W.dtype)
        return _sgd_step(W, b, x0, x1, alpha, beta, eta, lam), None

    def block(carry, kb):
        carry, _ = jax.lax.scan(one, carry, jax.random.split(kb, chunk))
        return carry, _stats(*carry, k)

    (W, b), recs = jax.lax.scan(block, (W, b), jax.random.split(key, n_chunks))
    return recs, W, b


def train_gmm(
    key, centroids, weights, s, *, d, r, t, eta, lam, tau, record_every_tau=0.1, start=None
):
    """Online SGD on an isotropic Gaussian mixture, recording summary statistics.

    Parameters
    ----------
    key : PRNG key
    centroids : array_like, shape (K, k)
        Centroids in the first k coordinates (O(1) norms).
    weights : array_like, shape (K,)
    s : float
        Noise standard deviation.
    d, r : int
        Input dimension and hidden units.
    t : float
        Training noise level.
    eta, lam : float
    tau : float
        Training time; n = tau d / eta samples.
    record_every_tau : float
        Statistics are recorded every this much training time.
    start : tuple (W, b), optional
        Continue from these weights instead of the informed initialisation.

    Returns
    -------
    W : numpy.ndarray, shape (r, d)
    b : float
    table : dict of numpy arrays ``tau, Omega (n_rec, r, k), Q (n_rec, r, r), b (n_rec,)``
        including tau = 0.

    Raises
    ------
    DivergenceError
        At the first record where b is not finite.
    """
    m = np.asarray(centroids, dtype=float)
    k = m.shape[1]
    chunk = max(1, round(record_every_tau * d / eta))
    n_chunks = max(1, round(tau * d / eta / chunk))
    W0, b0 = (init_weights(m, r, d), 0.0) if start is None else start
    W0 = np.asarray(W0, dtype=float)
    (bs, O, Qs), W, b = _train_gmm(
        key,
        W0,
        float(b0),
        m,
        np.asarray(weights, dtype=float),
        float(s),
        1.0 - float(t),
        float(t),
        float(eta),
        float(lam),
        k=k,
        n_chunks=n_chunks,
        chunk=chunk,
    )
    O = np.concatenate([(W0[:, :k] / np.sqrt(d))[None], O])
    Qs = np.concatenate([(W0 @ W0.T / d)[None], Qs])
    bs = np.concatenate([[b0], bs])
    taus = eta * chunk * np.arange(n_chunks + 1) / d
    return W, float(b), {"tau": taus, "Omega": O, "Q": Qs, "b": bs}


@x64(check="autoencoder SGD")
@jax.jit
def _train_samples(key, W, b, X1, alpha, beta, eta, lam):
    d = W.shape[1]

    def one(carry, inp):
        W, b = carry
        kk, x1 = inp
        x0 = jax.random.normal(kk, (d,), dtype=W.dtype)
        return _sgd_step(W, b, x0, x1, alpha, beta, eta, lam), None

    (W, b), _ = jax.lax.scan(one, (W, b), (jax.random.split(key, X1.shape[0]), X1))
    return b, W  # b first: a divergence is reported at step 0, as for one record


def train_on_samples(key, X1, W0, b0, *, t, eta, lam):
    """One pass of online SGD over the rows of ``X1`` from (W0, b0), eq. (D12) of docs/diffusion.md.

    Parameters
    ----------
    key : PRNG key
        Key of the initial noise x_0 of each step.
    X1 : array_like, shape (n, d)
        The training samples x_1, used once each in order.
    W0 : array_like, shape (r, d)
        Initial weights.
    b0 : float
        Initial skip connection.
    t, eta, lam : float
        Training noise level, learning rate and weight decay.

    Returns
    -------
    W : numpy.ndarray, shape (r, d)
    b : float

    Raises
    ------
    DivergenceError
        If the trained weights are not finite.
    """
    b, W = _train_samples(
        key,
        np.asarray(W0, dtype=float),
        float(b0),
        np.asarray(X1, dtype=float),
        1.0 - float(t),
        float(t),
        float(eta),
        float(lam),
    )
    return W, float(b)


@x64(check="generation flow")
@partial(jax.jit, static_argnames=("n", "steps"))
def _flow(key, W, b, *, n, steps):
    d = W.shape[1]
    x = jax.random.normal(key, (n, d), dtype=W.dtype)
    h = 1.0 / steps

    def step(x, tk):
        f = b * x + jnp.tanh(x @ W.T / jnp.sqrt(d)) @ W / jnp.sqrt(d)
        return x + h * (f - x) / (1.0 - tk), None

    x, _ = jax.lax.scan(step, x, jnp.arange(steps - 1) / steps)
    return x


def full_flow(key, W, b, n: int, steps: int = 100) -> np.ndarray:
    """Generate n samples by the Euler flow (D1) in d dimensions.

    x_0 ~ N(0, I_d); x <- x + h (f(x) - x)/(1 - t_k) for t_k = k/T, k = 0..T-2.

    Parameters
    ----------
    key : PRNG key
        Key of the initial noise x_0.
    W : array_like, shape (r, d)
        Trained weights.
    b : float
        Skip connection.
    n : int
        Number of samples.
    steps : int
        T, the number of Euler grid points (T - 1 steps).

    Returns
    -------
    numpy.ndarray, shape (n, d)

    Raises
    ------
    DivergenceError
        If a generated sample is not finite.
    """
    return _flow(key, np.asarray(W, dtype=float), float(b), n=int(n), steps=int(steps))
