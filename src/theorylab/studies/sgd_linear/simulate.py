"""SGD on linear models, trained for real (JAX, float64), and the exact recursions.

Simulations (``jax.vmap`` over independent runs, ``lax.scan`` over steps):

* :func:`online_sgd` -- fresh Gaussian batches every step (model M1), the
  batch gradient drawn from its exact law given w (D + 2B normals per step),
  optionally in float32, many seeds' keys in one compiled call; kernel
  regression with empirical eigenfeatures (M4) is :func:`online_sgd_indices`
  (also many keys in one call).
* :func:`online_rf` -- N linear random features with a fixed projection F
  (M2).  (phi(x), y) is drawn from its exact joint Gaussian law (phi = F x /
  sqrt(N) has covariance F Sigma F^T / N and covariance F Sigma w* / sqrt(N)
  with y), which costs O(N^2) per sample instead of O(N D).
* :func:`full_batch_gd` -- GD on P samples (M3a); :func:`sampled_gd` draws
  many data sets and runs GD on all of them in one compiled call.
* :func:`multipass_sgd` -- SGD drawing B of the P samples with replacement
  each step (M3b).
* :func:`static_two_point` -- lam1 lam2 w^T G1 A G2 w on sampled data.

Exact recursions *given the realised* F or data (NumPy): :func:`online_rf_exact`,
:func:`multipass_exact`.

Every test loss is exact given the weights: (w - w*)^T Sigma (w - w*) + sigma^2.
The jitted kernels run through :func:`theorylab.core.train.x64` (float64
inputs; ``online_sgd(..., dtype="float32")`` computes in float32 inside),
which also raises :class:`~theorylab.core.errors.DivergenceError` at the first
step where a loss is not finite.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from theorylab.core.train import x64

__all__ = [
    "full_batch_gd",
    "multipass_exact",
    "multipass_sgd",
    "online_rf",
    "online_rf_exact",
    "online_sgd",
    "online_sgd_indices",
    "rf_projection",
    "sample_data",
    "sampled_gd",
    "static_two_point",
]


# ----------------------------------------------------------------------------
# online SGD on linear regression (M1)


def _batch_gradient(key, v, noise_sd, batch: int):
    """sum_b z_b rho_b in law, for z_b ~ N(0, I_n) iid and rho_b = z_b . v - noise_sd xi_b.

    ``v`` has shape (runs, n).  Splitting z_b into its component g_b = z_b . v/|v|
    and the orthogonal rest, sum_b z_b rho_b = v/|v| sum_b g_b rho_b + P sum_b zeta_b rho_b
    with P = I - v v^T/|v|^2, and given rho the last sum is sqrt(sum_b rho_b^2) P zeta
    for one standard normal zeta: n + 2B normals per run instead of B (n + 1)
    (docs/sgd_linear.md, "Simulations").  Returns shape (runs, n).
    """
    kg, kn, kz = jax.random.split(key, 3)
    runs, n = v.shape
    norm = jnp.sqrt(jnp.sum(v * v, axis=-1, keepdims=True))
    vhat = v / jnp.where(norm > 0, norm, 1.0)
    g = jax.random.normal(kg, (runs, batch), dtype=v.dtype)
    rho = norm * g - noise_sd * jax.random.normal(kn, (runs, batch), dtype=v.dtype)
    zeta = jax.random.normal(kz, (runs, n), dtype=v.dtype)
    zeta = zeta - vhat * jnp.sum(vhat * zeta, axis=-1, keepdims=True)
    along = jnp.sum(g * rho, axis=-1, keepdims=True)
    return vhat * along + jnp.sqrt(jnp.sum(rho * rho, axis=-1, keepdims=True)) * zeta


def _keys(keys):
    """(keys with a leading axis, whether a single key was given)."""
    single = jnp.ndim(keys) == 0
    return (keys[None] if single else keys), single


def _out(out, single):
    """float64 NumPy arrays, the leading seed axis dropped for a single key."""

    def one(c):
        c = np.asarray(c, dtype=np.float64)
        return c[0] if single else c

    return tuple(one(c) for c in out) if isinstance(out, tuple) else one(out)


@x64(check="online SGD")
@partial(jax.jit, static_argnames=("batch", "steps", "runs", "dtype"))
def _online_sgd(keys, eigs, weights, noise, lr, *, batch, steps, runs, dtype):
    eigs, weights, noise, lr = (jnp.asarray(a, dtype) for a in (eigs, weights, noise, lr))
    sq, sd = jnp.sqrt(eigs), jnp.sqrt(noise)

    def loss(w):
        return jnp.sum(eigs * (w - weights) ** 2, axis=-1) + noise

    def step(w, k):
        # x_b = sqrt(eigs) z_b: the batch gradient sum_b x_b (x_b . (w - w*) - noise_b)
        w = w - (lr / batch) * sq * _batch_gradient(k, sq * (w - weights), sd, batch)
        return w, loss(w)

    def one(key):
        w0 = jnp.zeros((runs, eigs.shape[0]), dtype=dtype)
        _, losses = jax.lax.scan(step, w0, jax.random.split(key, steps))
        return jnp.concatenate([loss(w0)[None, :], losses], axis=0).T  # (runs, steps+1)

    return jax.vmap(one)(keys)


def online_sgd(keys, eigs, weights, noise, lr, batch, steps, runs, dtype="float64") -> np.ndarray:
    """Test-loss curves of online SGD on Gaussian linear regression.

    Each step draws a fresh batch x_b ~ N(0, diag(eigs)), y_b = x_b . w* +
    noise and takes w <- w - (lr/B) sum_b x_b (x_b . w - y_b).  The batch
    gradient is drawn from its exact law given w (:func:`_batch_gradient`:
    D + 2B normals per step and run instead of B (D + 1)), so the curves have
    the law of SGD on sampled data.

    Parameters
    ----------
    keys : jax.Array, shape () or (n,)
        PRNG key, or one key per seed (all seeds in one compiled call; seed i
        gets the same numbers as a call with ``keys[i]`` alone).
    eigs, weights : array_like, shape (D,)
        Covariance eigenvalues and target weights w*.
    noise : float
        Label-noise variance.
    lr : float
        Learning rate.
    batch, steps, runs : int
        Batch size, SGD steps and independent runs.
    dtype : {"float64", "float32"}
        Arithmetic of the simulation (the losses are returned in float64).

    Returns
    -------
    numpy.ndarray, shape (runs, steps + 1) or (n, runs, steps + 1)
        Test loss of every run at t = 0, ..., steps.

    Raises
    ------
    DivergenceError
        With the first step at which a loss stopped being finite.
    """
    keys, single = _keys(keys)
    out = _online_sgd(
        keys,
        eigs,
        weights,
        float(noise),
        float(lr),
        batch=int(batch),
        steps=int(steps),
        runs=int(runs),
        dtype=dtype,
    )
    return _out(out, single)


@x64(check="online kernel SGD")
@partial(jax.jit, static_argnames=("batch", "steps", "runs"))
def _online_sgd_indices(keys, feats, labels, eigs, wbar, floor, lr, *, batch, steps, runs):
    n, D = feats.shape

    def loss(w):
        return jnp.sum(eigs * (w - wbar) ** 2, axis=-1) + floor

    def step(w, k):
        idx = jax.random.randint(k, (runs, batch), 0, n)
        x = feats[idx]  # (runs, batch, D)
        r = jnp.einsum("rbd,rd->rb", x, w) - labels[idx]
        w = w - (lr / batch) * jnp.einsum("rbd,rb->rd", x, r)
        return w, loss(w)

    def one(key):
        w0 = jnp.zeros((runs, D), dtype=feats.dtype)
        _, losses = jax.lax.scan(step, w0, jax.random.split(key, steps))
        return jnp.concatenate([loss(w0)[None, :], losses], axis=0).T

    return jax.vmap(one)(keys)


def online_sgd_indices(keys, feats, labels, eigs, wbar, floor, lr, batch, steps, runs):
    """Online SGD on a finite population (kernel regression with eigenfeatures, M4).

    Each step draws B points uniformly (with replacement) from the n rows of
    ``feats``; the population loss is sum_k eigs_k (w_k - wbar_k)^2 + floor,
    exact when E[phi phi^T] = diag(eigs) over the population.

    Parameters
    ----------
    keys : jax.Array, shape () or (n_keys,)
        PRNG key (the sampled indices), or one key per seed (all in one
        compiled call).
    feats : array_like, shape (n, D)
        Feature vector of every point.
    labels : array_like, shape (n,)
        Label of every point.
    eigs, wbar : array_like, shape (D,)
        Population feature covariance (diagonal) and target coefficients.
    floor : float
        Population loss not captured by the D features.
    lr : float
        Learning rate.
    batch, steps, runs : int
        Batch size, SGD steps and independent runs.

    Returns
    -------
    numpy.ndarray, shape (runs, steps + 1) or (n_keys, runs, steps + 1)
        Population loss of every run at t = 0, ..., steps.

    Raises
    ------
    DivergenceError
        With the first step at which a loss stopped being finite.
    """
    keys, single = _keys(keys)
    out = _online_sgd_indices(
        keys,
        np.asarray(feats, dtype=np.float64),
        np.asarray(labels, dtype=np.float64),
        eigs,
        wbar,
        float(floor),
        float(lr),
        batch=batch,
        steps=steps,
        runs=runs,
    )
    return _out(out, single)


# ----------------------------------------------------------------------------
# online SGD on linear random features (M2)


@x64
@partial(jax.jit, static_argnames=("shape",))
def _normal(key, *, shape):
    return jax.random.normal(key, shape, dtype=jnp.float64)


def rf_projection(key, eigs, weights, noise, N: int) -> dict:
    """Draw F (N x D) and return the joint law of (phi, y) and the loss constants.

    Parameters
    ----------
    key : jax.Array
        PRNG key (the entries of F).
    eigs, weights : array_like, shape (D,)
        Covariance eigenvalues and target weights w*.
    noise : float
        Label-noise variance.
    N : int
        Number of random features.

    Returns
    -------
    dict
        ``G`` = F Sigma F^T / N, shape (N, N); ``c`` = F Sigma w* / sqrt(N),
        shape (N,); ``wSw`` = w*^T Sigma w* (float); ``noise`` (float).
    """
    eigs = np.asarray(eigs, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    F = _normal(key, shape=(int(N), eigs.size))
    FS = F * eigs
    G = FS @ F.T / N
    c = FS @ weights / np.sqrt(N)
    return {"G": G, "c": c, "wSw": float(np.sum(eigs * weights**2)), "noise": noise}


@x64(check="online random-feature SGD")
@partial(jax.jit, static_argnames=("batch", "steps", "runs"))
def _online_rf(key, L, b, resid_sd, noise_sd, G, c, const, lr, *, batch, steps, runs):
    N = L.shape[0]

    def loss(a):
        return jnp.einsum("ri,ij,rj->r", a, G, a) - 2 * a @ c + const

    def step(a, k):
        kz, kr, ke = jax.random.split(k, 3)
        z = jax.random.normal(kz, (runs, batch, N), dtype=L.dtype)
        phi = z @ L.T
        y = z @ b + resid_sd * jax.random.normal(kr, (runs, batch), dtype=L.dtype)
        y = y + noise_sd * jax.random.normal(ke, (runs, batch), dtype=L.dtype)
        r = jnp.einsum("rbn,rn->rb", phi, a) - y
        a = a - (lr / batch) * jnp.einsum("rbn,rb->rn", phi, r)
        return a, loss(a)

    a0 = jnp.zeros((runs, N), dtype=L.dtype)
    _, losses = jax.lax.scan(step, a0, jax.random.split(key, steps))
    return jnp.concatenate([loss(a0)[None, :], losses], axis=0).T


def online_rf(key, proj: dict, lr, batch, steps, runs) -> np.ndarray:
    """Test-loss curves of online SGD on the random features of ``proj``.

    Parameters
    ----------
    key : jax.Array
        PRNG key (the SGD samples).
    proj : dict
        The projection's law, from :func:`rf_projection` (G of shape (N, N),
        c of shape (N,)).
    lr : float
        Learning rate.
    batch, steps, runs : int
        Batch size, SGD steps and independent runs.

    Returns
    -------
    numpy.ndarray, shape (runs, steps + 1)
        Test loss of every run at t = 0, ..., steps.

    Raises
    ------
    DivergenceError
        With the first step at which a loss stopped being finite.
    """
    G, c = proj["G"], proj["c"]
    g, V = np.linalg.eigh(G)
    g = np.clip(g, 0.0, None)
    keep = g > 1e-14 * g.max()
    L = V[:, keep] * np.sqrt(g[keep])  # G = L L^T
    b = (V[:, keep].T @ c) / np.sqrt(g[keep])  # Cov(phi, y) = L b = c
    L = np.hstack([L, np.zeros((L.shape[0], (~keep).sum()))])
    b = np.concatenate([b, np.zeros((~keep).sum())])
    resid = max(proj["wSw"] - float(b @ b), 0.0)  # part of y no feature sees
    const = proj["wSw"] + proj["noise"]
    return _online_rf(
        key,
        L,
        b,
        float(np.sqrt(resid)),
        float(np.sqrt(proj["noise"])),
        np.asarray(G, dtype=np.float64),
        np.asarray(c, dtype=np.float64),
        float(const),
        float(lr),
        batch=batch,
        steps=steps,
        runs=runs,
    )


def online_rf_exact(proj: dict, lr: float, batch: int, steps: int) -> np.ndarray:
    """Exact expected loss of online RF SGD given F (the conditional-exact reference).

    In the eigenbasis (h_j, v_j) of G = F Sigma F^T / N (the nonzero spectrum of
    H): c_j(t+1) = a_j c_j(t) + (lr^2/B) h_j^2 L_t, a_j = (1 - lr h_j)^2 + lr^2 h_j^2/B,
    c_j(0) = (v_j^T c)^2 / h_j, L_t = sum_j c_j + (w*^T Sigma w* - sum_j c_j(0)) + sigma^2
    (docs/sgd_linear.md, section (B)).

    Parameters
    ----------
    proj : dict
        The projection's law, from :func:`rf_projection`.
    lr : float
        Learning rate.
    batch, steps : int
        Batch size and SGD steps.

    Returns
    -------
    numpy.ndarray, shape (steps + 1,)
        Expected test loss given F at t = 0, ..., steps.
    """
    h, V = np.linalg.eigh(proj["G"])
    keep = h > 1e-14 * h.max()
    h = h[keep]
    c0 = (V[:, keep].T @ proj["c"]) ** 2 / h
    frozen = proj["wSw"] - c0.sum() + proj["noise"]
    a = (1 - lr * h) ** 2 + lr**2 * h**2 / batch
    drive = lr**2 / batch * h**2
    out = np.empty(steps + 1)
    cj = c0.copy()
    for t in range(steps + 1):
        L = cj.sum() + frozen
        out[t] = L
        cj = a * cj + drive * L
    return out


# ----------------------------------------------------------------------------
# finite data: full-batch GD (M3a) and multi-pass SGD (M3b)


def _draw(key, eigs, weights, noise, P):
    kx, ke = jax.random.split(key)
    X = jax.random.normal(kx, (P, eigs.shape[0]), dtype=eigs.dtype) * jnp.sqrt(eigs)
    y = X @ weights + jnp.sqrt(noise) * jax.random.normal(ke, (P,), dtype=eigs.dtype)
    return X, y


_sample = x64(jax.jit(_draw, static_argnames=("P",)))


def sample_data(key, eigs, weights, noise, P: int):
    """P Gaussian samples: X with covariance diag(eigs), y = X w* + noise.

    Parameters
    ----------
    key : jax.Array
        PRNG key.
    eigs, weights : array_like, shape (D,)
        Covariance eigenvalues and target weights w*.
    noise : float
        Label-noise variance.
    P : int
        Number of samples.

    Returns
    -------
    X : numpy.ndarray, shape (P, D)
    y : numpy.ndarray, shape (P,)
    """
    return _sample(key, eigs, weights, float(noise), P=int(P))


def _gd(X, y, eigs, weights, noise, lr, steps):
    """GD on data sets batched over the leading axis: X (n, P, D), y (n, P) -> (n, steps + 1) x 2.

    The train loss is evaluated from the sufficient statistics,
    |X w - y|^2 / P = w.S w - 2 b.w + y.y / P with S = X^T X / P, b = X^T y / P,
    reusing the S w of the update (equal to the residual form to rounding).
    """
    P = X.shape[-2]
    S = jnp.einsum("npd,npe->nde", X, X) / P
    b = jnp.einsum("npd,np->nd", X, y) / P
    yy = jnp.mean(y**2, axis=-1)

    def losses(w, Sw):
        train = jnp.sum(w * Sw, axis=-1) - 2 * jnp.sum(b * w, axis=-1) + yy
        return train, jnp.sum(eigs * (w - weights) ** 2, axis=-1) + noise

    def step(w, _):
        Sw = jnp.einsum("nde,ne->nd", S, w)
        return w - lr * (Sw - b), losses(w, Sw)

    w0 = jnp.zeros((X.shape[0], X.shape[-1]), dtype=X.dtype)
    w, (tr, te) = jax.lax.scan(step, w0, None, length=steps)
    trT, teT = losses(w, jnp.einsum("nde,ne->nd", S, w))
    return jnp.concatenate([tr, trT[None]]).T, jnp.concatenate([te, teT[None]]).T


@x64(check="full-batch GD")
@partial(jax.jit, static_argnames=("steps",))
def _full_batch_gd(X, y, eigs, weights, noise, lr, *, steps):
    tr, te = _gd(X[None], y[None], eigs, weights, noise, lr, steps)
    return tr[0], te[0]


def full_batch_gd(X, y, eigs, weights, noise, lr, steps):
    """Train and test curves of full-batch GD w <- w - lr (Sigma_hat w - X^T y / P).

    Parameters
    ----------
    X : array_like, shape (P, D)
        Inputs.
    y : array_like, shape (P,)
        Labels.
    eigs, weights : array_like, shape (D,)
        Population covariance eigenvalues and target weights w* (test loss).
    noise : float
        Label-noise variance (added to the test loss).
    lr : float
        Learning rate.
    steps : int
        GD steps.

    Returns
    -------
    train, test : numpy.ndarray, shape (steps + 1,)
        Losses at t = 0, ..., steps.

    Raises
    ------
    DivergenceError
        With the first step at which a loss stopped being finite.
    """
    return _full_batch_gd(
        np.asarray(X, dtype=np.float64),
        np.asarray(y, dtype=np.float64),
        eigs,
        weights,
        float(noise),
        float(lr),
        steps=int(steps),
    )


@x64(check="full-batch GD")
@partial(jax.jit, static_argnames=("P", "steps"))
def _sampled_gd(keys, eigs, weights, noise, lr, *, P, steps):
    X, y = jax.vmap(lambda k: _draw(k, eigs, weights, noise, P))(keys)
    return _gd(X, y, eigs, weights, noise, lr, steps)


def sampled_gd(keys, eigs, weights, noise, lr, P: int, steps: int):
    """Full-batch GD on one data set per key, all in one compiled call.

    Each key draws a data set as :func:`sample_data` does (the same numbers)
    and runs :func:`full_batch_gd` on it; the data never leave the device.

    Parameters
    ----------
    keys : jax.Array, shape (n,)
        PRNG keys, one per data set.
    eigs, weights : array_like, shape (D,)
        Covariance eigenvalues and target weights w*.
    noise : float
        Label-noise variance.
    lr : float
        Learning rate.
    P : int
        Samples per data set.
    steps : int
        GD steps.

    Returns
    -------
    train, test : numpy.ndarray, shape (n, steps + 1)
        Losses of every data set at t = 0, ..., steps.

    Raises
    ------
    DivergenceError
        With the first step at which a loss stopped being finite.
    """
    return _sampled_gd(keys, eigs, weights, float(noise), float(lr), P=int(P), steps=int(steps))


@x64(check="multi-pass SGD")
@partial(jax.jit, static_argnames=("batch", "steps", "chains"))
def _multipass(key, X, y, eigs, weights, noise, lr, *, batch, steps, chains):
    P, D = X.shape

    def losses(w):
        tr = jnp.mean((w @ X.T - y) ** 2, axis=-1)
        te = jnp.sum(eigs * (w - weights) ** 2, axis=-1) + noise
        return tr, te

    def step(w, k):
        idx = jax.random.randint(k, (chains, batch), 0, P)
        x = X[idx]
        r = jnp.einsum("cbd,cd->cb", x, w) - y[idx]
        w = w - (lr / batch) * jnp.einsum("cbd,cb->cd", x, r)
        return w, losses(w)

    w0 = jnp.zeros((chains, D), dtype=X.dtype)
    _, (tr, te) = jax.lax.scan(step, w0, jax.random.split(key, steps))
    tr0, te0 = losses(w0)
    return jnp.concatenate([tr0[None], tr]).T, jnp.concatenate([te0[None], te]).T


def multipass_sgd(key, X, y, eigs, weights, noise, lr, batch, steps, chains):
    """Train/test curves of multi-pass SGD chains on one data set.

    Parameters
    ----------
    key : jax.Array
        PRNG key (the sampled indices).
    X : array_like, shape (P, D)
        Inputs.
    y : array_like, shape (P,)
        Labels.
    eigs, weights : array_like, shape (D,)
        Population covariance eigenvalues and target weights w* (test loss).
    noise : float
        Label-noise variance (added to the test loss).
    lr : float
        Learning rate.
    batch, steps, chains : int
        Batch size, SGD steps and independent chains.

    Returns
    -------
    train, test : numpy.ndarray, shape (chains, steps + 1)
        Losses of every chain at t = 0, ..., steps.

    Raises
    ------
    DivergenceError
        With the first step at which a loss stopped being finite.
    """
    return _multipass(
        key,
        np.asarray(X, dtype=np.float64),
        np.asarray(y, dtype=np.float64),
        eigs,
        weights,
        float(noise),
        float(lr),
        batch=batch,
        steps=steps,
        chains=chains,
    )


def multipass_exact(X, y, eigs, weights, lr: float, batch: int, steps: int):
    """Exact expected train/test loss of multi-pass SGD given the data.

    With e = w - w*, A = I - lr Sigma_hat, b = (lr/P) X^T eps, the index
    multinomial S_t (E S = I, Cov(S_mm, S_nn) = (P/B)(delta_mn - 1/P)) gives::

        m_{t+1} = A m_t + b,                        m_0 = -w*
        C_{t+1} = A C_t A + A m_t b^T + b m_t^T A + b b^T
                  + lr^2/(B P) X^T [Diag(Q_t) - Q_t/P] X,
        Q_t = X C_t X^T - X m_t eps^T - eps m_t^T X^T + eps eps^T  (residual 2nd moment)
        train_t = tr(Q_t)/P,  test_t = tr(Sigma C_t) + sigma^2,

    where eps = y - X w* are the realised label noises (docs/sgd_linear.md,
    section (D)).  Computed in the eigenbasis of Sigma_hat.

    Parameters
    ----------
    X : array_like, shape (P, D)
        Inputs.
    y : array_like, shape (P,)
        Labels.
    eigs, weights : array_like, shape (D,)
        Population covariance eigenvalues and target weights w*.
    lr : float
        Learning rate.
    batch, steps : int
        Batch size and SGD steps.

    Returns
    -------
    train, test : numpy.ndarray, shape (steps + 1,)
        ``test`` excludes the label-noise variance (add sigma^2).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    P = X.shape[0]
    ev, U = np.linalg.eigh(X.T @ X / P)
    Xr = X @ U  # data in the eigenbasis
    Sig = (U.T * eigs) @ U  # Sigma in the eigenbasis
    eps = y - X @ weights
    a = 1.0 - lr * ev
    b = lr / P * (Xr.T @ eps)
    m = -(U.T @ weights)
    C = np.outer(m, m)
    train = np.empty(steps + 1)
    test = np.empty(steps + 1)
    c = lr**2 / (batch * P)
    for t in range(steps + 1):
        Xm = Xr @ m
        Q = Xr @ C @ Xr.T - np.outer(Xm, eps) - np.outer(eps, Xm) + np.outer(eps, eps)
        train[t] = np.trace(Q) / P
        test[t] = np.sum(Sig * C)
        if t == steps:
            break
        inj = Xr.T @ (np.diag(Q)[:, None] * Xr) - (Xr.T @ Q @ Xr) / P
        Am = a * m
        C = (a[:, None] * C * a[None, :]) + np.outer(Am, b) + np.outer(b, Am) + np.outer(b, b)
        C += c * inj
        m = Am + b
    return train, test


# ----------------------------------------------------------------------------
# static two-point object (docs/sgd_linear.md, section "Theory")


def static_two_point(key, eigs, w, n, lam1, lam2, A_diag, draws: int) -> np.ndarray:
    """lam1 lam2 w^T (S + lam1)^-1 diag(A) (S + lam2)^-1 w over ``draws`` sample covariances.

    Every A is evaluated on the same ``draws`` data sets (the resolvents are
    computed once per data set).

    Parameters
    ----------
    key : jax.Array
        PRNG key (the data sets).
    eigs : array_like, shape (D,)
        Population covariance eigenvalues.
    w : array_like, shape (D,)
        The vector.
    n : int
        Samples per sample covariance S.
    lam1, lam2 : float
        Ridges > 0.
    A_diag : array_like, shape (D,) or (k, D)
        Diagonal of A, or of k matrices A.
    draws : int
        Number of data sets.

    Returns
    -------
    numpy.ndarray, shape (draws,) or (draws, k)
        The value on every data set (for every A).
    """
    eigs = np.asarray(eigs, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    A = np.asarray(A_diag, dtype=np.float64)
    Z = _normal(key, shape=(int(draws), int(n), eigs.size))
    eye = np.eye(eigs.size)
    out = np.empty((int(draws), *A.shape[:-1]))
    for d in range(int(draws)):
        X = Z[d] * np.sqrt(eigs)
        S = X.T @ X / n
        g1 = np.linalg.solve(S + lam1 * eye, w)
        g2 = np.linalg.solve(S + lam2 * eye, w)
        out[d] = lam1 * lam2 * (A @ (g1 * g2))
    return out
