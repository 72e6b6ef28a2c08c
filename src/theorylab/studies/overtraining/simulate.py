"""The models of ``overtraining``, trained for real (JAX, float64).

* **Linear model** on teacher-separable Gaussian data, full-batch GD on the
  logistic, hinge or squared loss (:func:`teacher_data`, :func:`linear_gd_run`),
  vmapped over seeds.
* **Odor task** (:func:`odor_task`): a target odor T (n-hot over k odorants)
  against nontarget mixtures sharing m of T's odorants, m uniform in
  {0, ..., n-1}; held-out probes per overlap m.  Without input noise the M_t
  identical target copies are one row of weight M_t / (M_t + M_nt) (the loss
  and its gradient are unchanged, the cost halves).
* **Centred two-layer network** (Kumar et al. 2024): f(x) = alpha [g(x; W, a)
  - g(x; W0, a0)] with g = (1/sqrt(H)) sum_j a_j ReLU(w_j . x), W0 ~ N(0, 1/n),
  a0 ~ N(0, 1), full-batch GD with step eta / alpha^2 on the cross-entropy
  (logistic) or hinge loss (:func:`train_gd`), any number of networks at
  once (vmapped; each its own loss, step count and stopping rule).
* **Readout-only reversal** (:func:`readout_reversal`): logistic regression by
  fixed-step GD on frozen hidden features, from a zero readout.

Data are drawn with NumPy generators from :class:`~theorylab.core.experiment.Seed`
(``seed.rng("task")``; a jitted generator cost 3 s of compile time) and passed
to the jitted training loops as arguments, never closed over (constant
folding made every compile seconds slower).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from theorylab.core.errors import ConfigError
from theorylab.core.train import x64

__all__ = [
    "forward",
    "init_network",
    "linear_gd_run",
    "nontargets",
    "odor_task",
    "readout_reversal",
    "teacher_data",
    "train_gd",
]

LOSS_ID = {"logistic": 0, "hinge": 1, "squared": 2}


# -- linear model -----------------------------------------------------------------------------


def teacher_data(
    rng: np.random.Generator, N: int, d: int, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Teacher-separable Gaussian data: x ~ N(0, I_d) kept when |w*.x| > threshold.

    Parameters
    ----------
    rng : numpy.random.Generator
        From ``seed.rng("data")``.
    N : int
        Points kept.
    d : int
        Dimension.
    threshold : float
        Minimum teacher margin |w*.x| (w* a uniform unit vector), >= 0.

    Returns
    -------
    X : numpy.ndarray, shape (N, d)
    y : numpy.ndarray, shape (N,)
        sign(w*.x) in {-1, +1}.
    """
    w = rng.standard_normal(d)
    w /= np.linalg.norm(w)
    X = rng.standard_normal((8 * N, d))
    z = X @ w
    keep = np.flatnonzero(np.abs(z) > threshold)[:N]
    if keep.size < N:
        raise ConfigError("threshold", threshold, f"too large: fewer than {N} of {8 * N} kept")
    return X[keep], np.sign(z[keep])


def _linear_advance(w, Z, lr, n, *, loss: int):
    N = Z.shape[0]

    def step(_, w):
        u = Z @ w
        if loss == 0:
            dl = -0.5 * (1.0 - jnp.tanh(0.5 * u))
        elif loss == 1:
            dl = -(u < 1.0).astype(w.dtype)
        else:
            dl = -(1.0 - u)
        return w - lr * (Z.T @ dl) / N

    return jax.lax.fori_loop(0, n, step, w)


_linear_batch = {
    i: jax.jit(jax.vmap(partial(_linear_advance, loss=i), in_axes=(0, 0, 0, None)))
    for i in LOSS_ID.values()
}


def linear_gd_run(Z, lr, checkpoints, loss: str = "logistic") -> np.ndarray:
    """Weights of full-batch GD on a linear model at each checkpoint, for a batch of datasets.

    GD on (1/N) sum_i l(z_i . w) from w = 0 with z_i = y_i x_i, the same
    iteration as :func:`theorylab.studies.overtraining.theory.linear_gd`,
    vmapped over the datasets.

    Parameters
    ----------
    Z : array_like, shape (S, N, d)
        Signed inputs y_i x_i of S datasets.
    lr : array_like, shape (S,)
        Step size per dataset (> 0).
    checkpoints : array_like of int, shape (T,)
        Increasing steps at which to record.
    loss : {"logistic", "hinge", "squared"}

    Returns
    -------
    numpy.ndarray, shape (S, T, d)
        w at every checkpoint.
    """
    if loss not in LOSS_ID:
        raise ConfigError("loss", loss, "must be one of " + ", ".join(LOSS_ID))
    lr = np.asarray(lr, dtype=float)
    if np.any(~np.isfinite(lr)) or np.any(lr <= 0):
        raise ConfigError("lr", lr.tolist(), "must be finite and > 0")
    run = x64(_linear_batch[LOSS_ID[loss]])
    Z = np.asarray(Z, dtype=float)
    w = np.zeros((Z.shape[0], Z.shape[2]))
    out, t = [], 0
    for c in np.asarray(checkpoints, dtype=int):
        w = run(w, Z, lr, int(c) - t)
        t = int(c)
        out.append(w)
    return np.stack(out, axis=1)


# -- odor task ---------------------------------------------------------------------------------


def _mixtures(rng: np.random.Generator, support, rest, m, n: int, k: int) -> np.ndarray:
    """n-hot rows with m[b] odorants drawn from ``support`` and n - m[b] from ``rest``."""
    B = m.shape[0]
    rank_s = np.argsort(rng.random((B, support.size)), axis=1).argsort(axis=1)
    rank_r = np.argsort(rng.random((B, rest.size)), axis=1).argsort(axis=1)
    x = np.zeros((B, k))
    x[:, support] = rank_s < m[:, None]
    x[:, rest] = rank_r < (n - m)[:, None]
    return x


def nontargets(rng: np.random.Generator, support, k: int, count: int) -> np.ndarray:
    """Fresh nontarget mixtures for a target with odorants ``support``.

    Each shares m ~ uniform {0, ..., n - 1} odorants with the target (n = len(support)).

    Parameters
    ----------
    rng : numpy.random.Generator
    support : array_like of int, shape (n,)
        The target's odorants.
    k : int
        Odorants.
    count : int
        Mixtures to draw.

    Returns
    -------
    numpy.ndarray, shape (count, k)
        n-hot rows.
    """
    support = np.asarray(support)
    n = support.size
    rest = np.setdiff1d(np.arange(k), support)
    return _mixtures(rng, support, rest, rng.integers(0, n, count), n, k)


def odor_task(
    rng: np.random.Generator,
    *,
    k: int,
    n: int,
    m_target: int,
    m_non: int,
    probes: int,
    sigma_in: float = 0.0,
) -> dict[str, np.ndarray]:
    """One odor-discrimination task: training set and held-out probes.

    Parameters
    ----------
    rng : numpy.random.Generator
        From ``seed.rng("task")``.
    k : int
        Odorants.
    n : int
        Odorants per mixture (n-hot), n < k.
    m_target : int
        Copies of the target T in the training set (class +1).
    m_non : int
        Nontarget mixtures (class -1), overlap m ~ uniform {0, ..., n - 1}.
    probes : int
        Held-out nontarget probes per overlap m.
    sigma_in : float
        Input noise x <- x + sigma_in xi (training and probes).

    Returns
    -------
    dict of numpy.ndarray
        Arrays with these shapes: ``X`` (N_train, k), ``y`` (N_train,) in {+1, -1}, ``w`` (N_train,)
        example weights summing to 1 (N_train = 1 + m_non when sigma_in = 0:
        the target is one row of weight m_target / (m_target + m_non)),
        ``T`` (k,), ``P`` (n probes, k), ``p_overlap`` (n probes,),
        ``overlap`` (m_non,) the training nontargets' overlaps, ``support``
        (n,) the target's odorants.
    """
    if not 1 <= n < k:
        raise ConfigError("n", n, f"must be in [1, k={k})")
    perm = rng.permutation(k)
    support, rest = perm[:n], perm[n:]
    T = np.zeros(k)
    T[support] = 1.0
    overlap = rng.integers(0, n, m_non)
    n_t = 1 if sigma_in == 0 else m_target
    X = np.vstack([np.broadcast_to(T, (n_t, k)), _mixtures(rng, support, rest, overlap, n, k)])
    y = np.r_[np.ones(n_t), -np.ones(m_non)]
    w = np.r_[np.full(n_t, m_target / n_t), np.ones(m_non)] / (m_target + m_non)
    p_overlap = np.repeat(np.arange(n), probes)
    P = _mixtures(rng, support, rest, p_overlap, n, k)
    if sigma_in > 0:
        X = X + sigma_in * rng.standard_normal(X.shape)
        P = P + sigma_in * rng.standard_normal(P.shape)
    return {
        "X": X,
        "y": y,
        "w": w,
        "T": T,
        "P": P,
        "p_overlap": p_overlap,
        "overlap": overlap,
        "support": support,
    }


# -- the centred two-layer network -------------------------------------------------------------


def init_network(rng: np.random.Generator, H: int, k: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Initial weights: W0 ~ N(0, 1/n) (H, k) and a0 ~ N(0, 1) (H,).

    Parameters
    ----------
    rng : numpy.random.Generator
        From ``seed.rng("init")``.
    H, k, n : int
        Hidden units, odorants, odorants per mixture.

    Returns
    -------
    W0 : numpy.ndarray, shape (H, k)
    a0 : numpy.ndarray, shape (H,)
    """
    return rng.standard_normal((H, k)) / np.sqrt(n), rng.standard_normal(H)


def _g(W, a, X):
    return jax.nn.relu(X @ W.T) @ a / jnp.sqrt(W.shape[0])


def _loss(params, X, y, w, f0, alpha, hinge):
    u = y * alpha * (_g(*params, X) - f0)
    per = jnp.where(hinge, jnp.maximum(0.0, 1.0 - u), jnp.logaddexp(0.0, -u))
    return jnp.sum(w * per), u


def _train_one(W, a, X, y, w, f0, alpha, lr, hinge, n_steps, stop, dtype):
    grad = jax.value_and_grad(_loss, has_aux=True)
    W, a, X, y, w, f0, lr = (jnp.asarray(v, dtype) for v in (W, a, X, y, w, f0, lr))
    alpha = jnp.asarray(alpha, dtype)

    def cond(c):
        return (c[0] < n_steps) & ~c[3]

    def body(c):
        i, W, a, _ = c
        (_, u), (gW, ga) = grad((W, a), X, y, w, f0, alpha, hinge)
        done = stop & jnp.all(u > 0)
        W = jnp.where(done, W, W - lr * gW)
        a = jnp.where(done, a, a - lr * ga)
        return jnp.where(done, i, i + 1), W, a, done

    i, W, a, _ = jax.lax.while_loop(cond, body, (jnp.zeros((), jnp.int64), W, a, False))
    return W, a, i


_train_batch = jax.jit(
    jax.vmap(_train_one, in_axes=(0, 0, 0, 0, 0, 0, None, 0, 0, 0, None, None)),
    static_argnums=(11,),
)


def train_gd(
    W,
    a,
    X,
    y,
    w,
    f0,
    *,
    alpha: float,
    lr,
    hinge,
    n_steps,
    stop: bool = False,
    dtype: str = "float64",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Full-batch GD of a batch of centred two-layer networks.

    Each network b minimizes sum_i w_i l(y_i f_b(x_i)) with
    f_b(x) = alpha [g(x; W_b, a_b) - f0_b(x)], l logistic or hinge, for
    ``n_steps[b]`` steps, or until every training margin is positive with
    ``stop`` (then the returned count is the plateau epoch t_p: the first
    epoch with 100 % training accuracy).

    Parameters
    ----------
    W : array_like, shape (B, H, k)
    a : array_like, shape (B, H)
    X : array_like, shape (B, N, k)
    y : array_like, shape (B, N)
        Labels in {-1, +1} (negate them for a reversal).
    w : array_like, shape (B, N)
        Example weights (summing to 1).
    f0 : array_like, shape (B, N)
        The centring term g(x; W0, a0) (zeros for an uncentred network).
    alpha : float
        Output scale (laziness), > 0.
    lr : array_like, shape (B,)
        Step size (eta / alpha^2 in the paper's parameterization).
    hinge : array_like of bool, shape (B,)
        Hinge loss instead of cross-entropy.
    n_steps : array_like of int, shape (B,)
        Maximum number of steps.
    stop : bool
        Stop each network at its first fully correct epoch.
    dtype : {"float64", "float32"}
        Arithmetic of the training loop (float32 is about twice as fast on a
        CPU; the weights are returned as float64 either way, losslessly).

    Returns
    -------
    W : numpy.ndarray, shape (B, H, k)
    a : numpy.ndarray, shape (B, H)
    steps : numpy.ndarray of int, shape (B,)
        Steps taken.
    """
    if dtype not in ("float64", "float32"):
        raise ConfigError("dtype", dtype, "must be float64 or float32")
    run = x64(_train_batch, check="odor network GD")
    n_steps = np.asarray(n_steps, dtype=np.int64)
    hinge = np.asarray(hinge, dtype=bool)
    W, a, X, y, w, f0, lr = (np.asarray(v, dtype=float) for v in (W, a, X, y, w, f0, lr))
    W, a, i = run(W, a, X, y, w, f0, float(alpha), lr, hinge, n_steps, bool(stop), dtype)
    return W.astype(np.float64), a.astype(np.float64), i


def _forward_one(W, a, X):
    h = jax.nn.relu(X @ W.T)
    return h, h @ a / jnp.sqrt(W.shape[0])


_forward_batch = jax.jit(jax.vmap(_forward_one))


def forward(W, a, X) -> tuple[np.ndarray, np.ndarray]:
    """Hidden layer and uncentred output of a batch of networks.

    Parameters
    ----------
    W : array_like, shape (B, H, k)
    a : array_like, shape (B, H)
    X : array_like, shape (B, N, k)

    Returns
    -------
    h : numpy.ndarray, shape (B, N, H)
        ReLU(W x) (the representation).
    g : numpy.ndarray, shape (B, N)
        g(x; W, a) = h . a / sqrt(H).
    """
    return x64(_forward_batch)(W, a, X)


def _readout_one(h, y, w, lr, cap, dtype):
    h, y, w, lr = (jnp.asarray(v, dtype) for v in (h, y, w, lr))

    def cond(c):
        return (c[0] < cap) & ~c[2]

    def body(c):
        i, v, _ = c
        u = y * (h @ v)
        done = jnp.all(u > 0)
        g = -(h.T @ (w * y * 0.5 * (1.0 - jnp.tanh(0.5 * u))))
        return jnp.where(done, i, i + 1), jnp.where(done, v, v - lr * g), done

    start = (jnp.zeros((), jnp.int64), jnp.zeros(h.shape[1], dtype), False)
    i, _, done = jax.lax.while_loop(cond, body, start)
    return i, done


_readout_batch = jax.jit(
    jax.vmap(_readout_one, in_axes=(0, 0, 0, None, None, None)), static_argnums=(5,)
)


def readout_reversal(
    h, y, w, *, lr: float, cap: int, dtype: str = "float64"
) -> tuple[np.ndarray, np.ndarray]:
    """Steps of readout-only logistic GD on frozen features to fit labels ``y``.

    GD on sum_i w_i log(1 + exp(-y_i v.h_i)) from v = 0 with a fixed step,
    stopped at the first step with every example correct (the reversal
    criterion of docs/overtraining.md, section "Overtraining reversal").

    Parameters
    ----------
    h : array_like, shape (B, N, H)
        Frozen features of B feature sets.
    y : array_like, shape (B, N)
        Target labels (the reversed task: -y).
    w : array_like, shape (B, N)
        Example weights.
    lr : float
        Step (> 0).
    cap : int
        Maximum number of steps (censoring).
    dtype : {"float64", "float32"}
        Arithmetic of the loop.

    Returns
    -------
    steps : numpy.ndarray of int, shape (B,)
    fitted : numpy.ndarray of bool, shape (B,)
        False where the cap was reached (censored).
    """
    if dtype not in ("float64", "float32"):
        raise ConfigError("dtype", dtype, "must be float64 or float32")
    return x64(_readout_batch)(h, y, w, float(lr), np.int64(cap), dtype)
