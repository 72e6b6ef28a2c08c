"""Finite-width deep linear networks trained by GD or online SGD (JAX, vmapped over seeds).

Exactly the model of :mod:`theorylab.studies.deep_linear.theory` (docs/deep_linear.md, eq. (M1)):
readout multiplier kappa = sqrt(D) / (gamma0 N), all weights i.i.d. N(0, 1)
at init, loss (1/2P) sum (y - f)^2, raw step eta0 gamma0^2 N on every weight,
gradients by JAX autodiff.  The network is linear, so f(x) = beta.x / sqrt(D)
and the test excess error (beta* - beta)^T Sigma (beta* - beta) / D is exact.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from theorylab.core.errors import ConfigError, check_array, check_int, check_scalar
from theorylab.core.train import key_for, x64

from .theory import _params, _positive, _spectrum_pair

__all__ = ["population_gd", "train_curves"]


def _split(z, shapes):
    """Consecutive pieces of the flat draw ``z``, reshaped to ``shapes``."""
    out, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        out.append(z[start : start + size].reshape(shape))
        start += size
    return out


def _normals(key, shapes):
    """Independent N(0, 1) arrays of the given shapes from ONE draw of ``key``.

    One ``jax.random.normal`` call per key instead of one per array: each call
    site compiles its own random-bit generator, which dominated the compile time
    (about 1 s per call site, 2x under vmap, on 2 cores).
    """
    total = sum(int(np.prod(shape)) for shape in shapes)
    return _split(jax.random.normal(key, (total,), dtype=jnp.float64), shapes)


def _beta(params, kappa, beta_r, residual: bool):
    """Effective linear predictor beta = kappa W0^T g^1 (docs/deep_linear.md, eq. (M1))."""
    N = params["w"].shape[0]

    def back(g, W):
        if residual:
            return g + beta_r * (W.T @ g) / jnp.sqrt(N), None
        return (W.T @ g) / jnp.sqrt(N), None

    # g^L = w; g^l = W^l^T g^{l+1} / sqrt(N) for l = L-1..1 (or the residual rule)
    g1, _ = jax.lax.scan(back, params["w"], params["Ws"], reverse=True)
    return kappa * params["W0"].T @ g1


def _train(key, lam, b, gamma0, eta0, noise, beta_r, *, D, N, P, depth, steps, online, residual):
    n_hidden = depth if residual else depth - 1
    k_init, k_data = jax.random.split(key)
    # weights, teacher and (full batch) the training set from one draw
    shapes = [(N, D), (n_hidden, N, N), (N,), (D,)] + ([] if online else [(P, D), (P,)])
    z = _normals(k_init, shapes)
    params = {"W0": z[0], "Ws": z[1], "w": z[2]}
    beta_star = b * z[3]
    kappa = jnp.sqrt(D) / (gamma0 * N)
    lr = eta0 * gamma0**2 * N
    sq = jnp.sqrt(lam)

    def data(x, e):
        X = x * sq
        return X, X @ beta_star / jnp.sqrt(D) + jnp.sqrt(noise) * e

    def batch(k):  # a fresh batch (online SGD)
        return data(*_normals(k, [(P, D), (P,)]))

    fixed = None if online else data(z[4], z[5])

    def loss_fn(prm, X, y):
        beta = _beta(prm, kappa, beta_r, residual)
        r = y - X @ beta / jnp.sqrt(D)
        return 0.5 * jnp.mean(r**2), beta

    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

    def step(prm, k):
        X, y = batch(k) if online else fixed
        (loss, beta), g = grad_fn(prm, X, y)
        test = jnp.sum(lam * (beta_star - beta) ** 2) / D
        prm = jax.tree_util.tree_map(lambda a, da: a - lr * da, prm, g)
        return prm, (test, 2.0 * loss)

    _, (test, train) = jax.lax.scan(step, params, jax.random.split(k_data, steps))
    return test, train


@x64(check="deep linear network training")
@partial(jax.jit, static_argnames=("D", "N", "P", "depth", "steps", "online", "residual"))
def _train_batch(keys, lam, b, gamma0, eta0, noise, beta_r, **static):
    """:func:`_train` vmapped over seed keys, compiled once per shape, run in float64."""
    fn = partial(_train, **static)
    return jax.vmap(fn, in_axes=(0, None, None, None, None, None, None))(
        keys, lam, b, gamma0, eta0, noise, beta_r
    )


def train_curves(
    seeds,
    *,
    D: int,
    nu: float,
    alpha: float,
    depth: int,
    gamma0: float,
    eta0: float,
    steps: int,
    noise: float = 0.0,
    online: bool = False,
    residual: bool = False,
    beta0: float = 1.0,
    branch_scale: float | None = None,
    spectrum=None,
    stream: int = 0,
):
    """Test excess error and train MSE of a deep linear network, one row per seed.

    Parameters
    ----------
    seeds : sequence of int, or sequence of JAX PRNG keys, length n
        Each seed draws its own weights, teacher and data (vmapped).  A key
        (``jax.random.key``, e.g. from an experiment's ``Seed.key``) is used
        as it is; an integer s gives the key ``key_for(s, stream)``.
    D : int
        Input dimension; N = round(nu D) hidden units, P = round(alpha D) samples
        (or batch size when ``online``).
    nu, alpha, depth, gamma0, eta0, steps, noise, online, residual, beta0, branch_scale
        As in :func:`theorylab.studies.deep_linear.theory.dmft`.
    spectrum : tuple (eigs, target_power), optional
        Input covariance eigenvalues (length D) and per-mode target powers
        lambda_k b_k^2 (the teacher is beta*_k ~ N(0, b_k^2)).
    stream : int
        With integer seeds: an index >= 0 folded into each seed's key, so that
        different callers can draw independent streams from the same seeds.

    Returns
    -------
    test, train : numpy.ndarray, shape (n, steps)
        Losses before update t = 0..steps-1.

    Raises
    ------
    DivergenceError
        With the first step at which a loss stopped being finite.
    """
    D = check_int("D", D, 1)
    p = _params(depth, nu, alpha, gamma0, eta0, steps, noise, online, residual, beta0, branch_scale)
    keys = _seed_keys(seeds, stream)
    N = max(round(p["nu"] * D), 1)
    P = max(round(p["alpha"] * D), 1)
    if spectrum is None:
        lam, b = np.ones(D), np.ones(D)
    else:
        eigs, target = _spectrum_pair(spectrum)
        lam = check_array("spectrum eigs", eigs, positive=True, ndim=1)
        power = check_array("spectrum target_power", target, nonnegative=True, ndim=1)
        if lam.shape != (D,) or power.shape != (D,):
            raise ConfigError(
                "spectrum",
                f"eigs {lam.shape}, target_power {power.shape}",
                f"needs two 1-d arrays of length D={D}",
            )
        b = np.sqrt(power / lam)
    depth, gamma0, eta0, noise, beta_r = p["L"], p["gamma0"], p["eta0"], p["noise"], p["beta_r"]
    steps, online, residual = p["T"], p["online"], p["residual"]
    return _train_batch(
        keys,
        lam,
        b,
        gamma0,
        eta0,
        noise,
        beta_r,
        D=D,
        N=N,
        P=P,
        depth=int(depth),
        steps=int(steps),
        online=bool(online),
        residual=bool(residual),
    )


def _is_key(x) -> bool:
    return isinstance(x, jax.Array) and jnp.issubdtype(x.dtype, jax.dtypes.prng_key)


def _seed_keys(seeds, stream):
    """Stacked PRNG keys, one per seed: keys pass through, an integer s gives key_for(s, stream)."""
    if _is_key(seeds):
        items = list(seeds.reshape(-1))
    else:
        try:
            items = list(seeds)
        except TypeError:  # a single seed
            items = [seeds]
    if items and all(_is_key(s) and s.ndim == 0 for s in items):
        return jnp.stack(items)
    if not items or not all(isinstance(s, int | np.integer) for s in items):
        raise ConfigError(
            "seeds", seeds, "must be a non-empty sequence of integers or of PRNG keys"
        )
    stream = check_int("stream", stream, 0)
    return jnp.stack([key_for(int(s), stream) for s in items])


@x64(check="population gradient descent")
@partial(jax.jit, static_argnames=("N", "steps"))
def _population_gd(key, lam, power, gamma0s, eta0, *, N, steps):
    """Population GD from one initialisation for every gamma0 in ``gamma0s`` (m,): (m, steps)."""
    D = lam.shape[0]
    W0, w, z = _normals(key, [(N, D), (N,), (D,)])
    signs = jnp.where(z >= 0, 1.0, -1.0)
    beta_star = signs * jnp.sqrt(power / lam)
    q = 1.0 / jnp.sqrt(D)
    # The output depends on W0 only through u = W0^T w, the Gram matrix G = W0^T W0 and
    # s = |w|^2.  The updates W0 += c q w r^T, w += c q W0 r are tracked exactly on
    # them (D^2 per step instead of N D, N = nu D), the same GD in other coordinates.
    start = (W0.T @ W0, W0.T @ w, w @ w)

    def run(gamma0):
        kappa, c = jnp.sqrt(D) / (gamma0 * N), eta0 * gamma0
        beta_init = kappa * start[1]

        def step(carry, _):
            G, u, s = carry
            e = beta_star - (kappa * u - beta_init)
            test = jnp.sum(lam * e**2) / D
            r = lam * e  # population gradient signal
            Gr, ur = G @ r, u @ r
            u_new = u + c * q * (Gr + s * r) + (c * q) ** 2 * ur * r
            s_new = s + 2 * c * q * ur + (c * q) ** 2 * (r @ Gr)
            a = c * q * u + 0.5 * (c * q) ** 2 * s * r
            G = G + jnp.outer(a, r) + jnp.outer(r, a)
            return (G, u_new, s_new), test

        return jax.lax.scan(step, start, None, length=steps)[1]

    return jax.vmap(run)(gamma0s)


def population_gd(key, lam, power, *, nu: float, gamma0, eta0: float, steps: int):
    """Test excess error of a wide two-layer linear network under the population gradient.

    The online-SGD limit of infinite batch (alpha_B -> inf): every step uses the
    exact population gradient, r = Sigma (beta* - beta), so the dynamics are
    deterministic given the initial weights.  The network's initial function is
    subtracted (f -> f - f_0), as in the infinite-width limit where it vanishes;
    this removes the 1/(gamma0^2 nu) initial-function error that otherwise hides
    the task's own power law for small gamma0 (the lazy runs).

    Parameters
    ----------
    key : JAX PRNG key, shape ()
        ``jax.random.key`` of the initial weights and the teacher's signs.
    lam : array_like, shape (D,)
        Input covariance eigenvalues.
    power : array_like, shape (D,)
        Target power lambda_k beta*_k^2 per mode (|beta*_k| = sqrt(power/lam)).
    nu, eta0 : float
        Width ratio and learning rate (raw step eta0 gamma0^2 N).
    gamma0 : float, or array_like of shape (m,)
        Richness; several values train m networks from the same initial
        weights and teacher (one compiled call, one initial Gram matrix).
    steps : int

    Returns
    -------
    numpy.ndarray, shape (steps,), or (m, steps) for an array ``gamma0``
        (beta* - beta)^T Sigma (beta* - beta) / D at t = 0..steps-1.

    Raises
    ------
    ConfigError
        For invalid arguments (named in the error).
    DivergenceError
        With the first step at which the error stopped being finite.
    """
    lam = check_array("lam", lam, positive=True, ndim=1)
    power = check_array("power", power, nonnegative=True, ndim=1)
    if power.shape != lam.shape or lam.size == 0:
        raise ConfigError("power", f"shape {power.shape}", f"must match lam's shape {lam.shape}")
    pos = "must be a finite number > 0"
    nu = check_scalar("nu", nu, pos, _positive)
    scalar = np.ndim(gamma0) == 0
    gammas = check_array("gamma0", np.atleast_1d(gamma0), positive=True, ndim=1)
    eta0 = check_scalar("eta0", eta0, pos, _positive)
    steps = check_int("steps", steps, 1)
    D = len(lam)
    N = max(round(nu * D), 1)
    test = _population_gd(key, lam, power, gammas, eta0, N=N, steps=steps)
    return test[0] if scalar else test
