"""The tied-weight autoencoder denoiser trained by online SGD in d dimensions, and its flow.

Exactly the model of :mod:`theorylab.studies.diffusion.theory` (eqs. (D1)-(D2) of
docs/diffusion.md): one pass of online SGD with batch 1 on
(1/2)|f(x_t) - x_1|^2, step eta on W plus weight decay eta lam / d, step
eta / d^2 on the skip connection b; the structured subspace U is spanned by the
first k coordinates.  Generation runs the full Euler flow in d dimensions.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from theorylab.core.train import check_finite, f64, key_for

__all__ = ["full_flow", "init_weights", "key_for", "train_gmm", "train_on_samples"]


def init_weights(centroids, r: int, d: int, scale: float = 0.1) -> np.ndarray:
    """Informed initialisation: row gamma of W is scale sqrt(d) mu_gamma, eq. (D4).

    Parameters
    ----------
    centroids : array_like, shape (K, k)
        Centroid coordinates in the first k input coordinates.
    r, d : int
        Hidden units and input dimension.

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
    d = W.shape[1]
    return W[:, :k] / jnp.sqrt(d), W @ W.T / d, b


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
    return W, b, recs


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
    """
    m = np.asarray(centroids, dtype=float)
    chunk = max(1, round(record_every_tau * d / eta))
    n_chunks = max(1, round(tau * d / eta / chunk))
    W0, b0 = (init_weights(m, r, d), 0.0) if start is None else start
    with jax.enable_x64(True):
        W, b, (O, Qs, bs) = _train_gmm(
            key,
            f64(W0),
            f64(b0),
            f64(m),
            f64(weights),
            f64(s),
            f64(1.0 - t),
            f64(t),
            f64(eta),
            f64(lam),
            k=m.shape[1],
            n_chunks=n_chunks,
            chunk=chunk,
        )
        W, b, O, Qs, bs = map(np.asarray, (W, b, O, Qs, bs))
    check_finite(bs[None, :], "autoencoder SGD")
    k = m.shape[1]
    O = np.concatenate([(W0[:, :k] / np.sqrt(d))[None], O])
    Qs = np.concatenate([(W0 @ W0.T / d)[None], Qs])
    bs = np.concatenate([[b0], bs])
    taus = eta * chunk * np.arange(n_chunks + 1) / d
    return W, float(b), {"tau": taus, "Omega": O, "Q": Qs, "b": bs}


@partial(jax.jit, static_argnames=())
def _train_samples(key, W, b, X1, alpha, beta, eta, lam):
    d = W.shape[1]

    def one(carry, inp):
        W, b = carry
        kk, x1 = inp
        x0 = jax.random.normal(kk, (d,), dtype=W.dtype)
        return _sgd_step(W, b, x0, x1, alpha, beta, eta, lam), None

    (W, b), _ = jax.lax.scan(one, (W, b), (jax.random.split(key, X1.shape[0]), X1))
    return W, b


def train_on_samples(key, X1, W0, b0, *, t, eta, lam):
    """One pass of online SGD over the rows of ``X1`` (n, d) from (W0, b0), eq. (D12)."""
    with jax.enable_x64(True):
        W, b = _train_samples(
            key, f64(W0), f64(b0), f64(X1), f64(1.0 - t), f64(t), f64(eta), f64(lam)
        )
        W, b = np.asarray(W), float(b)
    check_finite(np.array([[b]]), "autoencoder SGD")
    return W, b


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

    Returns
    -------
    numpy.ndarray, shape (n, d)
    """
    with jax.enable_x64(True):
        x = np.asarray(_flow(key, f64(W), f64(b), n=int(n), steps=int(steps)))
    return check_finite(x, "generation flow")
