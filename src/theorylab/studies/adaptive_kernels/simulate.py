"""Finite-width networks of ``adaptive_kernels`` in JAX (docs/adaptive_kernels.md, "Simulation").

Mean-field parameterisation with richness gamma: ``h_i(x) = w_i . x / sqrt(D)``,
``f(x) = (1/(gamma N)) sum_i a_i phi(h_i(x))`` (deep: ``h^{l+1} = W^l phi(h^l) / sqrt(N)``),
every weight N(0, 1) at initialisation.

* :func:`train_weight_decay`: gradient flow with weight decay,
  ``d theta/dt = -N gamma^2 grad (1/2) sum_mu (f_mu - y_mu)^2 - lam theta``
  (explicit Euler, adaptive step), returning the empirical kernels.
* :func:`langevin_two_layer`, :func:`langevin_deep_linear`: the Bayesian
  posterior ``∝ exp(-(beta N gamma^2 / 2) sum_mu (f_mu - y_mu)^2 - |theta|^2 / 2)``
  sampled by unadjusted Langevin in its temperature-1 form
  ``theta <- theta - eta grad U + sqrt(2 eta) xi``.
* :func:`monte_carlo_lazy`: Monte Carlo estimates of the lazy kernels.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from theorylab.core.errors import DivergenceError
from theorylab.core.train import x64

CHUNK = 100  # Euler steps between step-size updates of the weight-decay flow


def _act(name):
    if name == "relu":
        return jax.nn.relu, lambda h: (h > 0).astype(h.dtype)
    if name == "erf":
        return jax.scipy.special.erf, lambda h: 2.0 / jnp.sqrt(jnp.pi) * jnp.exp(-(h**2))
    return (lambda h: h), jnp.ones_like


def _key(seed):
    if isinstance(seed, int | np.integer):
        return jax.random.key(int(seed))
    return seed


# -- gradient flow with weight decay --------------------------------------------------------


@functools.partial(jax.jit, static_argnames=("nonlinearity",))
def _wd_chunk(W, a, X, y, gamma, lam, dt, D, nonlinearity):
    phi, dphi = _act(nonlinearity)
    N = W.shape[0]
    sD = jnp.sqrt(D)

    def step(_, s):
        W, a = s
        H = X @ W.T / sD
        f = phi(H) @ a / (gamma * N)
        d = y - f
        gW = gamma * ((d[:, None] * dphi(H)) * a).T @ X / sD
        ga = gamma * phi(H).T @ d
        return W + dt * (gW - lam * W), a + dt * (ga - lam * a)

    W, a = jax.lax.fori_loop(0, CHUNK, step, (W, a))
    H = X @ W.T / sD
    F, Gd = phi(H), dphi(H) * a
    f = F @ a / (gamma * N)
    K = (F @ F.T + (Gd @ Gd.T) * (X @ X.T / D)) / N
    return W, a, f, K


def init_two_layer(seed, width: int, D: int):
    """Initial weights of the two-layer network, every entry N(0, 1).

    Parameters
    ----------
    seed : int or JAX key
    width : int
        N.
    D : int
        Input dimension.

    Returns
    -------
    tuple of numpy.ndarray
        ``W`` of shape (N, D) and ``a`` of shape (N,).
    """
    kW, ka = jax.random.split(_key(seed))
    with jax.enable_x64(True):
        W = np.asarray(jax.random.normal(kW, (width, D), dtype=jnp.float64))
        a = np.asarray(jax.random.normal(ka, (width,), dtype=jnp.float64))
    return W, a


def train_weight_decay(
    X,
    y,
    gamma: float,
    lam: float,
    *,
    width: int,
    seed,
    X_test=None,
    nonlinearity: str = "relu",
    dt_max: float = 0.1,
    lam_t_min: float = 40.0,
    lam_t_max: float = 400.0,
    tol: float = 3e-4,
):
    """Train a width-N two-layer network by gradient flow with weight decay to its fixed point.

    Explicit Euler in chunks of 100 steps; before each chunk the step is set to
    ``dt = min(dt_max, 1 / (lambda_max(K_train) + lam))`` (half the stability
    limit ``2 / lambda_max``, K the current empirical NTK, which grows during
    training), and a chunk whose outputs blow up is redone with half the step
    (up to 8 times).  When D > P the first layer is trained in the span of the
    training inputs (``W Q``, ``Q`` an orthonormal basis, the same law); the
    orthogonal part only decays, by ``prod(1 - lam dt)``, and is added back for
    the test points and the returned weights.  Stops when ``lam t >= lam_t_min``
    and the relative change of the training outputs per unit time over a chunk
    is below ``tol``, or at
    ``lam t = lam_t_max``.  (Near-marginal neurons decay slowly, so the
    approach to the fixed point is slower than exp(-lam t).)

    Parameters
    ----------
    X : array_like, shape (P, D)
    y : array_like, shape (P,)
    gamma, lam : float
        Richness (> 0) and weight decay (> 0).
    width : int
    seed : int or JAX key
        Initial weights (:func:`init_two_layer`).
    X_test : array_like, shape (Pt, D), optional
    nonlinearity : {"relu", "erf", "linear"}
    dt_max, lam_t_min, lam_t_max, tol : float

    Returns
    -------
    dict
        ``f_train`` (P,), ``f_test`` (Pt,), ``Phi_all``, ``G_all``, ``C_all`` of shape
        (P+Pt, P+Pt) (empirical feature kernel ``phi phi^T / N``, gradient kernel
        ``a^2 phi' phi'^T / N`` and input Gram), ``W`` (N, D), ``a`` (N,), ``steps``,
        ``t``, ``residual`` (last relative change per unit time), ``dts`` (steps used).

    Raises
    ------
    DivergenceError
        With the step, when the outputs become non-finite or exceed 1e6 even
        after halving the step 8 times.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    X_test = np.zeros((0, X.shape[1])) if X_test is None else np.asarray(X_test, np.float64)
    D = X.shape[1]
    W0, a = init_two_layer(seed, width, D)
    if D > X.shape[0]:  # train in the span of the training inputs (exact, see below)
        Q = np.linalg.qr(X.T)[0]
    else:
        Q = np.eye(D)
    Xr, W = X @ Q, W0 @ Q
    chunk = x64(_wd_chunk)
    phi, dphi = _act(nonlinearity)
    with jax.enable_x64(True):
        H = np.asarray(Xr @ W.T / np.sqrt(D))
        F, Gd = np.asarray(phi(H)), np.asarray(dphi(H)) * a
    K = (F @ F.T + (Gd @ Gd.T) * (X @ X.T / D)) / width
    f = F @ a / (gamma * width)
    t, steps, res, dts, decay = 0.0, 0, np.inf, [], 1.0
    while lam * t < lam_t_max:
        dt = min(dt_max, 1.0 / (float(np.linalg.eigvalsh(K)[-1]) + lam))
        for _ in range(8):  # K may grow fast inside a chunk: retry it with half the step
            out = chunk(W, a, Xr, y, gamma, lam, dt, float(D), nonlinearity=nonlinearity)
            if np.all(np.isfinite(out[2])) and np.abs(out[2]).max() < 1e6:
                break
            dt *= 0.5
        else:
            raise DivergenceError(
                f"gradient flow with weight decay (dt={dt:.3g}, gamma={gamma}, lam={lam})",
                steps + CHUNK,
            )
        W, a, f_new, K = out
        steps += CHUNK
        t += CHUNK * dt
        decay *= (1.0 - lam * dt) ** CHUNK
        dts.append(dt)
        res = np.linalg.norm(f_new - f) / max(np.linalg.norm(f_new), 1e-300) / (CHUNK * dt)
        f = f_new
        if lam * t >= lam_t_min and res < tol:
            break
    # W(t) = W_r(t) Q^T + prod(1 - lam dt) W0 (I - Q Q^T): the part orthogonal to the
    # training inputs only decays, so test preactivations get it back exactly
    Xt_par = X_test @ Q
    H_test = (Xt_par @ W.T + decay * (X_test - Xt_par @ Q.T) @ W0.T) / np.sqrt(D)
    H = np.vstack([Xr @ W.T / np.sqrt(D), H_test])
    X_all = np.vstack([X, X_test])
    W = W @ Q.T + decay * (W0 - W0 @ Q @ Q.T)
    with jax.enable_x64(True):
        F, Gd = np.asarray(phi(H)), np.asarray(dphi(H)) * a
    P = X.shape[0]
    return dict(
        f_train=f,
        f_test=F[P:] @ a / (gamma * width),
        Phi_all=F @ F.T / width,
        G_all=Gd @ Gd.T / width,
        C_all=X_all @ X_all.T / X.shape[1],
        W=W,
        a=a,
        steps=steps,
        t=t,
        residual=float(res),
        dts=np.asarray(dts),
    )


# -- Langevin posterior sampling ------------------------------------------------------------


def _langevin(U, kernel_stats, params, key, eta, steps, burn, thin):
    """Unadjusted Langevin on U; averages kernel_stats(params) every `thin` steps after `burn`."""
    grad = jax.grad(U)
    n_out = steps // thin

    def inner(_, s):
        params, key = s
        key, sub = jax.random.split(key)
        leaves, tree = jax.tree.flatten(params)
        noise = jax.random.normal(sub, (sum(x.size for x in leaves),), dtype=leaves[0].dtype)
        g = jax.tree.leaves(grad(params))
        out, i = [], 0
        for x, gx in zip(leaves, g, strict=True):
            n = x.size
            out.append(x - eta * gx + jnp.sqrt(2.0 * eta) * noise[i : i + n].reshape(x.shape))
            i += n
        return jax.tree.unflatten(tree, out), key

    def outer(carry, k):
        params, key, acc, count, _ = carry
        params, key = jax.lax.fori_loop(0, thin, inner, (params, key))
        keep = ((k + 1) * thin > burn).astype(eta.dtype)
        stats = kernel_stats(params)
        acc = jax.tree.map(lambda A, s: A + keep * s, acc, stats)
        return (params, key, acc, count + keep, U(params)), U(params)

    zero = jax.tree.map(jnp.zeros_like, kernel_stats(params))
    init = (params, key, zero, jnp.zeros((), eta.dtype), jnp.zeros((), eta.dtype))
    (params, _, acc, count, _), trace = jax.lax.scan(outer, init, jnp.arange(n_out))
    return jax.tree.map(lambda A: A / count, acc), trace


@functools.partial(jax.jit, static_argnames=("width", "steps", "burn", "thin", "nonlinearity"))
def _langevin2(key, X, y, X_test, gamma, beta, eta, width, steps, burn, thin, nonlinearity):
    phi, _ = _act(nonlinearity)
    D = X.shape[1]
    kW, ka, key = jax.random.split(key, 3)
    params = (
        jax.random.normal(kW, (width, D), dtype=X.dtype),
        jax.random.normal(ka, (width,), dtype=X.dtype),
    )

    def U(p):
        W, a = p
        f = phi(X @ W.T / jnp.sqrt(D * 1.0)) @ a / (gamma * width)
        fit = 0.5 * beta * width * gamma**2 * jnp.sum((f - y) ** 2)
        return fit + 0.5 * (jnp.sum(W**2) + jnp.sum(a**2))

    def stats(p):
        W, a = p
        F = phi(X @ W.T / jnp.sqrt(D * 1.0))
        Ft = phi(X_test @ W.T / jnp.sqrt(D * 1.0))
        return dict(Phi=F @ F.T / width, f_test=Ft @ a / (gamma * width))

    return _langevin(U, stats, params, key, eta, steps, burn, thin)


def langevin_two_layer(
    X,
    y,
    gamma: float,
    beta: float,
    *,
    width: int,
    keys,
    X_test=None,
    eta: float = 1e-3,
    steps: int = 20000,
    burn: int = 5000,
    thin: int = 20,
    nonlinearity: str = "relu",
):
    """Posterior samples of the two-layer Bayesian network: averaged kernel and predictor.

    Parameters
    ----------
    X : array_like, shape (P, D)
    y : array_like, shape (P,)
    gamma, beta : float
        Richness and inverse temperature.
    width : int
    keys : sequence of JAX keys
        One chain per key (vmapped), initial weights and noise from it.
    X_test : array_like, shape (Pt, D), optional
    eta : float
        Langevin step (keep ``eta beta lambda_max(Phi)`` small).
    steps, burn, thin : int
        Chain length, discarded burn-in, thinning.
    nonlinearity : {"relu", "erf", "linear"}

    Returns
    -------
    dict
        ``Phi`` of shape (n_keys, P, P), ``f_test`` (n_keys, Pt): posterior averages;
        ``energy`` (n_keys, steps // thin): the potential every ``thin`` steps.

    Raises
    ------
    DivergenceError
        When a chain's energy becomes non-finite (with the step).
    """
    X = np.asarray(X, dtype=np.float64)
    X_test = np.zeros((1, X.shape[1])) if X_test is None else np.asarray(X_test, np.float64)
    part = functools.partial(
        _langevin2, width=width, steps=steps, burn=burn, thin=thin, nonlinearity=nonlinearity
    )
    run = x64(jax.vmap(part, in_axes=(0, None, None, None, None, None, None)))
    stats, trace = run(
        jnp.stack(list(keys)),
        X,
        np.asarray(y, np.float64),
        X_test,
        float(gamma),
        float(beta),
        float(eta),
    )
    _finite(trace, thin, "Langevin two-layer network")
    return dict(Phi=stats["Phi"], f_test=stats["f_test"], energy=trace)


def _finite(trace, thin, what):
    bad = ~np.isfinite(trace)
    if bad.any():
        raise DivergenceError(what, int(np.argmax(bad.any(axis=0))) * thin)


@functools.partial(jax.jit, static_argnames=("width", "L", "steps", "burn", "thin"))
def _langevin_deep(key, X, y, gamma, beta, eta, width, L, steps, burn, thin):
    D = X.shape[1]
    keys = jax.random.split(key, L + 2)
    params = [jax.random.normal(keys[0], (width, D), dtype=X.dtype)]
    params += [jax.random.normal(keys[i], (width, width), dtype=X.dtype) for i in range(1, L)]
    params.append(jax.random.normal(keys[L], (width,), dtype=X.dtype))

    def hidden(p):
        hs = [X @ p[0].T / jnp.sqrt(D * 1.0)]
        for Wl in p[1:L]:
            hs.append(hs[-1] @ Wl.T / jnp.sqrt(width * 1.0))
        return hs

    def U(p):
        f = hidden(p)[-1] @ p[L] / (gamma * width)
        fit = 0.5 * beta * width * gamma**2 * jnp.sum((f - y) ** 2)
        return fit + 0.5 * sum(jnp.sum(w**2) for w in p)

    def stats(p):
        return jnp.stack([jnp.sum((y @ h) ** 2) / width for h in hidden(p)])

    return _langevin(U, stats, params, keys[L + 1], eta, steps, burn, thin)


def langevin_deep_linear(
    X,
    y,
    gamma: float,
    beta: float,
    *,
    width: int,
    L: int,
    keys,
    eta: float = 2e-3,
    steps: int = 6000,
    burn: int = 2000,
    thin: int = 10,
):
    """Posterior samples of a deep linear Bayesian network: per-layer ``y^T H_l y``.

    Parameters
    ----------
    X : array_like, shape (P, D)
    y : array_like, shape (P,)
    gamma, beta : float
    width : int
    L : int
        Hidden layers.
    keys : sequence of JAX keys
        One chain per key.
    eta : float
    steps, burn, thin : int

    Returns
    -------
    dict
        ``c`` of shape (n_keys, L): posterior mean of ``y^T H_l y`` with
        ``H_l = h^l h^l^T / N``; ``energy`` (n_keys, steps // thin).

    Raises
    ------
    DivergenceError
        When a chain diverges (with the step).
    """
    part = functools.partial(_langevin_deep, width=width, L=L, steps=steps, burn=burn, thin=thin)
    run = x64(jax.vmap(part, in_axes=(0, None, None, None, None, None)))
    c, trace = run(
        jnp.stack(list(keys)),
        np.asarray(X, np.float64),
        np.asarray(y, np.float64),
        float(gamma),
        float(beta),
        float(eta),
    )
    _finite(trace, thin, "Langevin deep linear network")
    return dict(c=c, energy=trace)


# -- Monte Carlo lazy kernels ---------------------------------------------------------------


def monte_carlo_lazy(X, nonlinearity: str, samples: int, rng, chunk: int = 50_000):
    """Monte Carlo lazy kernels from ``samples`` random neurons ``h = w . x / sqrt(D)``.

    Parameters
    ----------
    X : array_like, shape (n, D)
    nonlinearity : {"relu", "step", "erf", "linear"}
    samples : int
    rng : numpy.random.Generator
    chunk : int
        Neurons per block (memory).

    Returns
    -------
    tuple of numpy.ndarray
        ``(Phi, G)`` of shape (n, n): the averages of ``phi phi^T`` and ``phi' phi'^T``.
    """
    from .theory import activation

    phi, dphi = activation(nonlinearity)
    X = np.asarray(X, dtype=np.float64)
    n, D = X.shape
    Phi, G, done = np.zeros((n, n)), np.zeros((n, n)), 0
    while done < samples:
        m = min(chunk, samples - done)
        H = X @ rng.standard_normal((D, m)) / np.sqrt(D)
        F, Fd = phi(H), dphi(H)
        Phi += F @ F.T
        G += Fd @ Fd.T
        done += m
    return Phi / samples, G / samples
