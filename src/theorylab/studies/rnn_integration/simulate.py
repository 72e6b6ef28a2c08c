"""Linear RNNs trained for real (JAX, float64).

* :func:`lyapunov_gramians` -- the controllability and observability Gramians
  of the error system by the squared Smith (doubling) iteration after a Cayley
  transform: only matrix products, so it runs anywhere JAX does (CPU or GPU)
  and is exact to rounding (independent of the Bartels-Stewart solver the
  theory uses).
* :func:`gradient_flow` -- full-network gradient flow of (W, u, v) on the exact
  stationary loss (A1)-(A2), RK4 or Heun in ``lax.scan``, snapshots of
  (W, u, v) and the loss at recorded times.
* :func:`init_network` -- W0 = sigma J, u0 and v0 of norm a0.
* :func:`readout_lazy_loss` -- readout-only ("lazy") training of v with W = W0
  and u frozen: the exact gradient-flow solution in the eigenbasis of the
  network Gramian.
* :func:`bulk_correlation` -- p^T e^{(sigma J - I) tau} e^{(sigma J - I)^T tau'} p
  averaged over random unit vectors (the quantity of the Bessel law (A7)).
* :func:`bptt_sgd` -- the RNN itself driven by white noise (Euler-Maruyama),
  trained by back-propagation through time with SGD (optax): the stochastic
  model the stationary loss describes in expectation; :func:`bptt_gradient`
  one minibatch gradient.
* :func:`normals` -- Gaussian draws from explicit keys in fixed-size chunks
  (one compiled sampler for every network size).

Equation labels (A1)-(A9) are those of ``docs/rnn_integration.md``.  Every
jitted call runs through :func:`theorylab.core.train.x64` (float64 inputs,
NumPy outputs, and a divergence check where training can blow up).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax

from theorylab.core.errors import ConfigError, check_array, check_scalar
from theorylab.core.train import key_for as key_for  # re-exported for the tests and benchmark
from theorylab.core.train import x64

from . import theory as th

__all__ = [
    "bptt_gradient",
    "bptt_sgd",
    "bulk_correlation",
    "conservation_drift",
    "eigenvalues",
    "exact_losses",
    "gradient_flow",
    "h2_grads",
    "init_network",
    "lyapunov_gramians",
    "normals",
    "readout_lazy_loss",
]

_MAX_DOUBLINGS = 40


# ----------------------------------------------------------------------------
# Lyapunov equations by Cayley transform + squared Smith


def _smith(A, B, C, tol):
    """Gramians P (A P + P A^T + B B^T = 0) and Q (A^T Q + Q A + C^T C = 0).

    Cayley transform with shift 1: Ad = (I - A)^-1 (I + A), so that
    P = sum_k Ad^k Bd Bd^T Ad^kT with Bd = sqrt(2) (I - A)^-1 B (and Ad^T, Cd
    for Q); the doubling X <- X + Aj X Aj^T, Aj <- Aj^2 sums 2^j terms after j
    steps.  For the network block the spectral radius of Ad is
    max |lam / (2 - lam)| over eigenvalues lam of W, < 1 iff W - I is Hurwitz.
    Returns (P, Q, iterations, |A_j| at exit).
    """
    n = A.shape[0]
    eye = jnp.eye(n, dtype=A.dtype)
    lu = jax.scipy.linalg.lu_factor(eye - A)
    Ad = jax.scipy.linalg.lu_solve(lu, eye + A)
    Bd = jnp.sqrt(2.0) * jax.scipy.linalg.lu_solve(lu, B)
    Cd = jnp.sqrt(2.0) * jax.scipy.linalg.lu_solve(lu, C, trans=1)
    X0 = jnp.outer(Bd, Bd)
    Y0 = jnp.outer(Cd, Cd)

    def cond(state):
        j, Aj, _, _ = state
        return (j < _MAX_DOUBLINGS) & (jnp.max(jnp.abs(Aj)) > tol)

    def body(state):
        j, Aj, X, Y = state
        X = X + Aj @ X @ Aj.T
        Y = Y + Aj.T @ Y @ Aj
        return j + 1, Aj @ Aj, X, Y

    j, Aj, P, Q = jax.lax.while_loop(cond, body, (0, Ad, X0, Y0))
    return 0.5 * (P + P.T), 0.5 * (Q + Q.T), j, jnp.max(jnp.abs(Aj))


def _error_system(W, u, v, tA, tB, tC):
    N = W.shape[0]
    m = tA.shape[0]
    A = jnp.zeros((N + m, N + m), dtype=W.dtype)
    A = A.at[:N, :N].set(W - jnp.eye(N, dtype=W.dtype)).at[N:, N:].set(tA)
    return A, jnp.concatenate([u, tB]), jnp.concatenate([v, -tC])


def _h2_grads(W, u, v, tA, tB, tC, tol=1e-10):
    """Loss and gradients (A2) of one network; NaN loss if the doubling did not converge."""
    N = W.shape[0]
    A, B, C = _error_system(W, u, v, tA, tB, tC)
    P, Q, _, res = _smith(A, B, C, tol)
    loss = 0.5 * C @ P @ C
    loss = jnp.where(res <= tol, loss, jnp.nan)
    dW = (Q @ P)[:N, :N]
    du = (Q @ B)[:N]
    dv = (P @ C)[:N]
    return loss, dW, du, dv


def _floats(*arrays):
    """The arguments as float64 NumPy arrays (lists and integer arrays included)."""
    return tuple(np.asarray(a, dtype=np.float64) for a in arrays)


_smith64 = x64(jax.jit(_smith))
_h2_grads64 = x64(jax.jit(_h2_grads))


def lyapunov_gramians(A, B, C, tol: float = 1e-10):
    """Controllability and observability Gramians by Cayley + squared Smith (float64).

    Parameters
    ----------
    A : array_like, shape (n, n)
        Hurwitz matrix.
    B, C : array_like, shape (n,)
    tol : float
        The doubling stops when max |A_j| <= tol (the neglected tail).

    Returns
    -------
    P, Q : numpy.ndarray, shape (n, n)
    iterations : int
        Doublings used (the sum has 2^iterations terms).

    Raises
    ------
    ConfigError
        If A is not Hurwitz (the iteration does not converge).
    """
    P, Q, j, res = _smith64(*_floats(A, B, C), tol)
    if not float(res) <= tol:
        raise ConfigError("A", "matrix", "must be Hurwitz (the Gramians do not exist)")
    return P, Q, int(j)


def h2_grads(W, u, v, c_star: float, omega_star: float = 0.0):
    """JAX twin of :func:`theory.h2_loss_and_grads` (for tests): (loss, dW, du, dv).

    Parameters
    ----------
    W : array_like, shape (N, N)
    u, v : array_like, shape (N,)
    c_star, omega_star : float
        Target decay (> 0) and frequency (>= 0).

    Returns
    -------
    loss : numpy.ndarray, shape ()
        NaN if W - I is not Hurwitz.
    dW : numpy.ndarray, shape (N, N)
    du, dv : numpy.ndarray, shape (N,)
    """
    return tuple(_h2_grads64(*_floats(W, u, v), *th.target_system(c_star, omega_star)))


# ----------------------------------------------------------------------------
# initialisation


_CHUNK = 1 << 15


@x64
@jax.jit
def _normal_chunk(key, i):
    return jax.random.normal(jax.random.fold_in(key, i), (_CHUNK,), dtype=jnp.float64)


def normals(key, shape) -> np.ndarray:
    """Standard normal float64 array of any shape from ``key``.

    Drawn in fixed-size chunks (key folded with the chunk index), so one
    compiled sampler serves every shape: a new network size costs no
    compilation.

    Parameters
    ----------
    key : PRNG key
    shape : tuple of int

    Returns
    -------
    numpy.ndarray, shape ``shape``
    """
    n = int(np.prod(shape))
    parts = [_normal_chunk(key, i) for i in range(-(-n // _CHUNK))]
    return np.concatenate(parts)[:n].reshape(shape)


def init_network(key, N: int, sigma: float, a0: float, orthogonal: bool = True):
    """W0 = sigma J (J_ij ~ N(0, 1/N)), u0 and v0 of norm a0.

    Parameters
    ----------
    key : PRNG key
    N : int
    sigma, a0 : float
    orthogonal : bool
        True: u0, v0 are exactly orthogonal with |u0| = |v0| = a0 (Gram-Schmidt
        on Gaussian vectors), the large-N typical configuration, so that the
        W0 = 0 reduction (A5) with theta = pi/2 applies to every draw.
        False: iid N(0, a0^2/N) entries.

    Returns
    -------
    W0 : numpy.ndarray, shape (N, N)
    u0, v0 : numpy.ndarray, shape (N,)
    """
    kJ, ku = jax.random.split(key)
    J = normals(kJ, (N, N)) / np.sqrt(N)
    g = normals(ku, (2, N))
    if orthogonal:
        e1 = g[0] / np.linalg.norm(g[0])
        w = g[1] - (g[1] @ e1) * e1
        e2 = w / np.linalg.norm(w)
        u0, v0 = a0 * e1, a0 * e2
    else:
        u0, v0 = a0 * g[0] / np.sqrt(N), a0 * g[1] / np.sqrt(N)
    return sigma * J, u0, v0


# ----------------------------------------------------------------------------
# full-network gradient flow


_TABLEAU = {
    "rk4": ((0.0, 0.5, 0.5, 1.0), (1 / 6, 1 / 3, 1 / 3, 1 / 6)),
    "heun": ((0.0, 1.0), (0.5, 0.5)),
}


def _rk_step(state, tA, tB, tC, eta, dt, method):
    """One explicit Runge-Kutta step (RK4 or Heun; stage i evaluates at y + a_i dt k_{i-1}).

    The stages run in a ``lax.scan`` so that the gradient (and its doubling
    loop) is compiled once, not once per stage.
    """
    a, b = (jnp.asarray(x, dtype=state[0].dtype) for x in _TABLEAU[method])

    def stage(carry, ab):
        acc, k_prev = carry
        ai, bi = ab
        st = tuple(s + ai * dt * k for s, k in zip(state, k_prev, strict=True))
        loss, dW, du, dv = _h2_grads(*st, tA, tB, tC)
        k = (-eta * dW, -eta * du, -eta * dv)
        acc = tuple(x + bi * dt * kk for x, kk in zip(acc, k, strict=True))
        return (acc, k), loss

    zeros = tuple(jnp.zeros_like(s) for s in state)
    (new, _), losses = jax.lax.scan(stage, (state, zeros), (a, b))
    return new, losses[0]


@partial(jax.jit, static_argnames=("method", "every"))
def _advance(state, tA, tB, tC, eta, dt, *, method, every):
    """``every`` integrator steps; returns the new state and the loss at each step's start."""

    def step(st, _):
        return _rk_step(st, tA, tB, tC, eta, dt, method)

    return jax.lax.scan(step, state, None, length=every)


def _final_loss(W, u, v, tA, tB, tC) -> float:
    """Loss of the last state (SciPy; NaN if it is not finite, inf if W - I is not Hurwitz)."""
    W, u, v, tA, tB, tC = (np.asarray(x) for x in (W, u, v, tA, tB, tC))
    if not (np.isfinite(W).all() and np.isfinite(u).all() and np.isfinite(v).all()):
        return float("nan")
    if np.max(np.linalg.eigvals(W).real) >= 1:
        return float("inf")
    return float(th._h2(W, u, v, tA, tB, tC)[0])


@x64(check="full-network gradient flow (W - I lost stability)")
def _flow(W0, u0, v0, tA, tB, tC, eta, dt, *, blocks, method, every):
    """``blocks`` x ``every`` steps: (loss at every step and of the last state, snapshots).

    The loss comes first so that the divergence check reports its step.
    """
    state, snaps, losses = (W0, u0, v0), [], []
    for _ in range(blocks):
        state, loss = _advance(state, tA, tB, tC, eta, dt, method=method, every=every)
        snaps.append(state)
        losses.append(loss)
    losses.append([_final_loss(*state, tA, tB, tC)])
    # stacked in NumPy: jnp.stack would compile once per snapshot count
    W, u, v = (np.stack([np.asarray(s[i]) for s in snaps]) for i in range(3))
    return np.concatenate([np.asarray(x) for x in losses]), W, u, v


def _check_network(W0, u0, v0):
    """Validate (W0, u0, v0): real finite arrays of shapes (N, N), (N,), (N,), W0 - I Hurwitz.

    Returns the three as float64 NumPy arrays; raises :class:`ConfigError`
    naming the offending argument otherwise.
    """
    W, u, v = (
        check_array(name, x, ndim=2 if name == "W0" else 1)
        for name, x in (("W0", W0), ("u0", u0), ("v0", v0))
    )
    N = W.shape[0]
    if W.shape != (N, N) or u.shape != (N,) or v.shape != (N,):
        raise ConfigError(
            "W0, u0, v0", (W.shape, u.shape, v.shape), "need shapes (N, N), (N,), (N,)"
        )
    th._check_hurwitz("W0", W)
    return W, u, v


def _check_positive(**values) -> None:
    for name, x in values.items():
        check_scalar(name, x, "must be finite and > 0", lambda v: v > 0)


def gradient_flow(
    W0,
    u0,
    v0,
    c_star: float,
    eta: float,
    dt: float,
    steps: int,
    every: int = 1,
    omega_star: float = 0.0,
    method: str = "rk4",
) -> dict:
    """Full-network gradient flow d(W, u, v)/dt = -eta grad L on the exact loss (A1)-(A2).

    Each step evaluates the exact gradients (A2) with :func:`lyapunov_gramians`'
    doubling; the state lives on the device and is advanced ``every`` steps
    per jitted call (one compilation per network size, step count and method).

    Parameters
    ----------
    W0 : array_like, shape (N, N)
        Initial recurrent weights (W0 - I Hurwitz).
    u0, v0 : array_like, shape (N,)
    c_star, eta : float
        Target decay and learning rate.
    dt : float
        Integrator step (in units of training time).
    steps : int
        Number of steps (a multiple of ``every``).
    every : int
        Steps between snapshots.
    omega_star : float
        Target frequency (0: integrator).
    method : {"rk4", "heun"}

    Returns
    -------
    dict
        ``t`` (S + 1,) snapshot times (0 first), ``W`` (S + 1, N, N), ``u``,
        ``v`` (S + 1, N), ``loss`` (steps + 1,) the loss at every step.

    Raises
    ------
    ConfigError
        If W0, u0, v0 are not real finite arrays of shapes (N, N), (N,), (N,),
        W0 - I is not Hurwitz, or eta, dt are not > 0.
    DivergenceError
        At the first step where the loss is not finite (W - I lost stability
        during training, e.g. a too large ``dt``).
    """
    if method not in ("rk4", "heun"):
        raise ConfigError("method", method, "must be 'rk4' or 'heun'")
    if steps % every:
        raise ConfigError("steps", steps, f"must be a multiple of every={every}")
    _check_positive(eta=eta, dt=dt)
    W0, u0, v0 = _check_network(W0, u0, v0)
    tA, tB, tC = th.target_system(c_star, omega_star)
    loss, W, u, v = _flow(
        W0, u0, v0, tA, tB, tC, eta, dt, blocks=steps // every, method=method, every=every
    )
    return {
        "t": dt * every * np.arange(steps // every + 1),
        "W": np.concatenate([W0[None], W]),
        "u": np.concatenate([u0[None], u]),
        "v": np.concatenate([v0[None], v]),
        "loss": loss,
    }


def eigenvalues(W) -> np.ndarray:
    """Eigenvalues of a stack of matrices (NumPy).

    Parameters
    ----------
    W : array_like, shape (S, N, N)

    Returns
    -------
    numpy.ndarray of complex, shape (S, N)
    """
    return np.linalg.eigvals(np.asarray(W))


def conservation_drift(W, u, v) -> np.ndarray:
    """max |Q_c(t) - Q_c(0)| of Q_c = u u^T - v v^T + W W^T - W^T W (A4) along snapshots.

    Parameters
    ----------
    W : array_like, shape (S, N, N)
    u, v : array_like, shape (S, N)
        Snapshots, the first one the reference.

    Returns
    -------
    numpy.ndarray, shape (S,)
    """
    W, u, v = (np.asarray(x) for x in (W, u, v))
    Qc = (
        np.einsum("si,sj->sij", u, u)
        - np.einsum("si,sj->sij", v, v)
        + W @ np.swapaxes(W, 1, 2)
        - np.swapaxes(W, 1, 2) @ W
    )
    return np.max(np.abs(Qc - Qc[0]), axis=(1, 2))


def exact_losses(W, u, v, c_star: float, omega_star: float = 0.0) -> np.ndarray:
    """Exact stationary loss (A1) of each snapshot (NumPy/SciPy).

    Parameters
    ----------
    W : array_like, shape (S, N, N)
    u, v : array_like, shape (S, N)
    c_star, omega_star : float
        Target decay (> 0) and frequency (>= 0).

    Returns
    -------
    numpy.ndarray, shape (S,)

    Raises
    ------
    ConfigError
        If the shapes disagree or a snapshot's W - I is not Hurwitz.
    """
    W = check_array("W", W, ndim=3)
    u = check_array("u", u, ndim=2)
    v = check_array("v", v, ndim=2)
    S, N = u.shape
    if W.shape != (S, N, N) or v.shape != (S, N):
        raise ConfigError("W, u, v", (W.shape, u.shape, v.shape), "need (S, N, N), (S, N), (S, N)")
    target = th.target_system(c_star, omega_star)
    out = np.empty(S)
    for i in range(S):
        th._check_hurwitz("W", W[i])
        out[i] = th._h2(W[i], u[i], v[i], *target)[0]
    return out


# ----------------------------------------------------------------------------
# lazy regime: readout-only training


@x64
@jax.jit
def _network_gramian(W, u, tA, tB):
    N = W.shape[0]
    A, B, C = _error_system(W, u, jnp.zeros_like(u), tA, tB, jnp.zeros_like(tB))
    P, _, _, res = _smith(A, B, C, 1e-10)
    return P[:N, :N], P[:N, N:], res


def readout_lazy_loss(W, u, c_star, eta: float, t, omega_star: float = 0.0) -> np.ndarray:
    """Loss of readout-only gradient flow (v from 0; W, u frozen), exact at finite N.

    The model is linear in v: L(v) = 1/2 v^T P v - v^T b + 1/2 |f*|^2 with the
    network Gramian P = int x x^T and b = int x f*, x(tau) = e^{(W - I) tau} u
    (one Lyapunov solve of the network stacked with every target).  From v = 0,
    L(t) = 1/2 |f*|^2 - 1/2 sum_k beta_k^2 (1 - e^{-2 eta p_k t})/p_k in the
    eigenbasis (p_k, beta_k = e_k.b) of P.

    Parameters
    ----------
    W : array_like, shape (N, N)
    u : array_like, shape (N,)
    c_star : float or sequence of float
        Target decay rate(s); all share the one Gramian.
    eta : float
    t : array_like, shape (T,)
    omega_star : float

    Returns
    -------
    numpy.ndarray, shape (T,) or (len(c_star), T)
    """
    cs = np.atleast_1d(np.asarray(c_star, dtype=float))
    systems = [th.target_system(c, omega_star) for c in cs]
    m = systems[0][0].shape[0]
    tA = np.zeros((m * cs.size, m * cs.size))
    for i, (a, _, _) in enumerate(systems):
        tA[i * m : (i + 1) * m, i * m : (i + 1) * m] = a
    tB = np.concatenate([s[1] for s in systems])
    t = np.asarray(t, dtype=np.float64)
    P, cross, res = _network_gramian(*_floats(W, u), tA, tB)
    if not float(res) <= 1e-10:
        raise ConfigError("W", "matrix", "W - I must be Hurwitz (no network Gramian)")
    p, U = np.linalg.eigh(P)
    p = np.clip(p, 0.0, None)
    x = 2 * eta * np.outer(t, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(x > 1e-12, -np.expm1(-x) / np.where(p > 0, p, 1.0), 2 * eta * t[:, None])
    out = []
    for i, (c, (_, _, tC)) in enumerate(zip(cs, systems, strict=True)):
        b = cross[:, i * m : (i + 1) * m] @ tC
        beta2 = (U.T @ b) ** 2
        out.append(np.maximum(0.5 * th._norm2(c, omega_star) - 0.5 * h @ beta2, 0.0))
    out = np.array(out)
    return out[0] if np.ndim(c_star) == 0 else out


# ----------------------------------------------------------------------------
# Bessel law: bulk correlation


@x64
@partial(jax.jit, static_argnames=("terms",))
def _bulk_corr(J, p, sigma, taus, *, terms):
    # x(tau) = e^{(sigma J - I)^T tau} p = e^{-tau} sum_k tau^k (sigma J^T)^k p / k!
    def body(Y, k):
        Y_next = sigma * (J.T @ Y) / (k + 1.0)
        return Y_next, Y

    _, Ys = jax.lax.scan(body, p, jnp.arange(terms, dtype=p.dtype))  # (terms, N, n)
    powers = taus[:, None] ** jnp.arange(terms, dtype=p.dtype)[None, :]  # (T, terms)
    X = jnp.exp(-taus)[:, None, None] * jnp.einsum("tk,kni->tni", powers, Ys)
    return jnp.einsum("ani,bni->abi", X, X)  # (T, T, n)


def bulk_correlation(key, N: int, sigma: float, taus, n_vectors: int) -> np.ndarray:
    """p^T e^{(sigma J - I) tau_a} e^{(sigma J - I)^T tau_b} p for random unit p, one J.

    Parameters
    ----------
    key : PRNG key
    N : int
    sigma : float
    taus : array_like, shape (T,)
    n_vectors : int
        Independent random unit vectors p (columns), sharing J.

    Returns
    -------
    numpy.ndarray, shape (T, T, n_vectors)
    """
    taus = np.asarray(taus, dtype=np.float64)
    # Taylor terms: (2 sigma tau_max)^K / K! below 1e-17 (|J| -> 2)
    z = 2.2 * sigma * float(taus.max())
    terms = int(max(20, np.ceil(np.e * z + 30)))
    kJ, kp = jax.random.split(key)
    J = normals(kJ, (N, N)) / np.sqrt(N)
    p = normals(kp, (N, n_vectors))
    p = p / np.linalg.norm(p, axis=0)
    return _bulk_corr(J, p, float(sigma), taus, terms=terms)


# ----------------------------------------------------------------------------
# stochastic-noise BPTT


def _trial_loss(params, xi, tA, tB, tC, dtn, burn):
    """1/2 mean over trials and the window k >= burn of (v.h_k - y*_k)^2 (Euler-Maruyama)."""
    W, u, v = params
    N = W.shape[0]
    m = tA.shape[0]
    batch = xi.shape[1]
    eyeN = jnp.eye(N, dtype=W.dtype)
    M = eyeN + dtn * (W - eyeN)
    Mt = jnp.eye(m, dtype=W.dtype) + dtn * tA
    sq = jnp.sqrt(dtn)

    def step(carry, x):
        h, s = carry
        err = h @ v - s @ tC
        h = h @ M.T + sq * x[:, None] * u[None, :]
        s = s @ Mt.T + sq * x[:, None] * tB[None, :]
        return (h, s), err

    init = (jnp.zeros((batch, N), W.dtype), jnp.zeros((batch, m), W.dtype))
    _, errs = jax.lax.scan(step, init, xi)
    return 0.5 * jnp.mean(errs[burn:] ** 2)


@x64(check="BPTT SGD on the noise-driven RNN")
@partial(jax.jit, static_argnames=("n_steps", "burn", "batch", "updates", "every"))
def _bptt(key, W, u, v, tA, tB, tC, lr, dtn, *, n_steps, burn, batch, updates, every):
    """(minibatch losses, snapshots); the losses come first for the divergence check."""
    opt = optax.sgd(lr)
    grad = jax.value_and_grad(_trial_loss)

    def update(carry, k):
        params, state = carry
        xi = jax.random.normal(k, (n_steps, batch), dtype=W.dtype)
        loss, g = grad(params, xi, tA, tB, tC, dtn, burn)
        upd, state = opt.update(g, state, params)
        return (optax.apply_updates(params, upd), state), loss

    def block(carry, keys):
        carry, losses = jax.lax.scan(update, carry, keys)
        return carry, (carry[0], losses)

    params = (W, u, v)
    keys = jax.random.split(key, updates).reshape(updates // every, every)
    _, (snaps, losses) = jax.lax.scan(block, (params, opt.init(params)), keys)
    return losses.reshape(-1), snaps


@x64
@partial(jax.jit, static_argnames=("n_steps", "burn", "batch"))
def _bptt_grad(key, W, u, v, tA, tB, tC, dtn, *, n_steps, burn, batch):
    xi = jax.random.normal(key, (n_steps, batch), dtype=W.dtype)
    return jax.value_and_grad(_trial_loss)((W, u, v), xi, tA, tB, tC, dtn, burn)


def bptt_gradient(
    key,
    W,
    u,
    v,
    c_star: float,
    *,
    dt_noise: float = 0.05,
    burn_in: float = 6.0,
    window: float = 6.0,
    batch: int = 32,
    omega_star: float = 0.0,
):
    """One minibatch BPTT loss and gradient of the noise-driven RNN (see :func:`bptt_sgd`).

    Parameters
    ----------
    key : PRNG key
    W : array_like, shape (N, N)
    u, v : array_like, shape (N,)
    c_star : float
    dt_noise, burn_in, window : float
        Euler-Maruyama step, discarded transient and averaging window.
    batch : int
        Trials.
    omega_star : float

    Returns
    -------
    loss : float
    dW, du, dv : numpy.ndarray
        Shapes (N, N), (N,), (N,).
    """
    _check_positive(dt_noise=dt_noise, window=window)
    W, u, v = _check_network(W, u, v)
    tA, tB, tC = th.target_system(c_star, omega_star)
    burn = round(burn_in / dt_noise)
    n_steps = burn + round(window / dt_noise)
    loss, (dW, du, dv) = _bptt_grad(
        key, W, u, v, tA, tB, tC, dt_noise, n_steps=n_steps, burn=burn, batch=batch
    )
    return float(loss), dW, du, dv


def bptt_sgd(
    key,
    W0,
    u0,
    v0,
    c_star: float,
    eta: float,
    lr_time: float,
    updates: int,
    *,
    dt_noise: float = 0.05,
    burn_in: float = 6.0,
    window: float = 6.0,
    batch: int = 32,
    every: int = 10,
    omega_star: float = 0.0,
) -> dict:
    """SGD with back-propagation through time on the RNN driven by white noise.

    Each update draws ``batch`` trials of unit-intensity white noise x on
    [0, burn_in + window] (Euler-Maruyama with step ``dt_noise``), runs the
    network h_{k+1} = h_k + dt (W - I) h_k + sqrt(dt) u xi_k and the target
    filter (same scheme) from rest, and takes an SGD step (optax) on
    1/2 mean over the window of (v.h - y*)^2.  Its expectation is
    1/2 int_0^T w(tau) (f - f*)^2 dtau with w = 1 up to ``burn_in`` (the
    stationary loss (A1) up to O(dt) and e^{-2 c* burn_in}), so SGD with
    learning rate ``eta * lr_time`` follows gradient flow in time
    t = lr_time * update.

    Parameters
    ----------
    key : PRNG key
    W0, u0, v0 : array_like
        Initial weights, shapes (N, N), (N,), (N,).
    c_star, eta : float
    lr_time : float
        Gradient-flow time per update.
    updates : int
        SGD updates (a multiple of ``every``).
    dt_noise, burn_in, window : float
        Euler-Maruyama step, discarded transient and averaging window.
    batch : int
        Trials per update.
    every : int
        Updates between snapshots.
    omega_star : float

    Returns
    -------
    dict
        ``t`` (S + 1,), ``W`` (S + 1, N, N), ``u``, ``v`` (S + 1, N) snapshots,
        ``trial_loss`` (updates,) the minibatch losses.

    Raises
    ------
    ConfigError
        If W0, u0, v0 are not real finite arrays of shapes (N, N), (N,), (N,),
        W0 - I is not Hurwitz, or a step, rate or window is not > 0.
    DivergenceError
        At the first update whose minibatch loss is not finite.
    """
    if updates % every:
        raise ConfigError("updates", updates, f"must be a multiple of every={every}")
    _check_positive(eta=eta, lr_time=lr_time, dt_noise=dt_noise, window=window)
    W0, u0, v0 = _check_network(W0, u0, v0)
    tA, tB, tC = th.target_system(c_star, omega_star)
    burn = round(burn_in / dt_noise)
    n_steps = burn + round(window / dt_noise)
    losses, (W, u, v) = _bptt(
        key,
        W0,
        u0,
        v0,
        tA,
        tB,
        tC,
        eta * lr_time,
        dt_noise,
        n_steps=n_steps,
        burn=burn,
        batch=batch,
        updates=updates,
        every=every,
    )
    return {
        "t": lr_time * every * np.arange(updates // every + 1),
        "W": np.concatenate([W0[None], W]),
        "u": np.concatenate([u0[None], u]),
        "v": np.concatenate([v0[None], v]),
        "trial_loss": losses,
    }
