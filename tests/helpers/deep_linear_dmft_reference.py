"""Test-only reference: the deep_linear DMFT solver as it was before issue 13, verbatim.

This is ``theorylab.studies.deep_linear.theory`` as it stood before the
performance rewrite (the chunked fixed point that re-solves the whole T x T
window at every sweep and inverts causal systems with ``np.linalg.inv``),
kept unchanged below this docstring so that ``tests/studies/test_deep_linear.py``
compares the new solver with it live, at random points, rather than against
hard-coded numbers.  It is not part of the library; do not import it from
``src/``.  The equations are those of docs/deep_linear.md, (B1)-(B5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.errors import (
    ConfigError,
    DivergenceError,
    SolverError,
    check_array,
    check_int,
    check_scalar,
)

__all__ = ["DMFTResult", "dmft", "mup_gamma0", "ntk_gamma0", "power_law_task"]

_BLOWUP = 1e8  # test error this many times its initial value counts as divergence


def ntk_gamma0(nu, gamma_bar: float = 1.0):
    """NTK parameterization, gamma0 = gamma_bar / sqrt(nu) (docs/deep_linear.md, eq. (P1)).

    The initial output variance 1/(gamma0^2 nu) = 1/gamma_bar^2 is then the same
    at every width, and features freeze as the width grows.

    Parameters
    ----------
    nu : float or array_like, shape (n,)
        Width ratios N / D, each > 0.
    gamma_bar : float, default 1.0
        Width-independent richness, > 0.

    Returns
    -------
    numpy.ndarray, shape of ``nu``
        gamma0 for each width.

    Raises
    ------
    ConfigError
        If a width or ``gamma_bar`` is not a finite number > 0.
    """
    nu = check_array("nu", nu, positive=True)
    gamma_bar = check_scalar("gamma_bar", gamma_bar, "must be a finite number > 0", _positive)
    return gamma_bar / np.sqrt(nu)


def mup_gamma0(nu, gamma0: float = 1.0):
    """muP / mean-field parameterization: gamma0 fixed at every width.

    docs/deep_linear.md, eq. (P2).

    Parameters
    ----------
    nu : float or array_like, shape (n,)
        Width ratios N / D, each > 0.
    gamma0 : float, default 1.0
        The richness used at every width, > 0.

    Returns
    -------
    numpy.ndarray, shape of ``nu``
        ``gamma0`` repeated for each width.

    Raises
    ------
    ConfigError
        If a width or ``gamma0`` is not a finite number > 0.
    """
    nu = check_array("nu", nu, positive=True)
    gamma0 = check_scalar("gamma0", gamma0, "must be a finite number > 0", _positive)
    return np.full_like(nu, gamma0)


def power_law_task(D: int, a: float, beta: float):
    """Power-law spectrum and task: lambda_k = k^-a, target power lambda_k b_k^2 ~ k^(-a beta - 1).

    The source/capacity setting of docs/deep_linear.md, section "The power-law
    acceleration": a task of difficulty ``beta`` (hard for beta < 1), with the
    target powers normalised so that the initial error sum_k lambda_k b_k^2 / D
    is 1.

    Parameters
    ----------
    D : int
        Number of modes, >= 1.
    a : float
        Spectral decay exponent, > 0.
    beta : float
        Task exponent, > 0.

    Returns
    -------
    lam : numpy.ndarray, shape (D,)
        Eigenvalues lambda_k = k^-a, k = 1..D.
    power : numpy.ndarray, shape (D,)
        Target power per mode, summing to D.

    Raises
    ------
    ConfigError
        If an argument is out of range (named in the error).
    """
    D = check_int("D", D, 1)
    a = check_scalar("a", a, "must be a finite number > 0", _positive)
    beta = check_scalar("beta", beta, "must be a finite number > 0", _positive)
    k = np.arange(1, D + 1, dtype=float)
    lam = k**-a
    power = k ** (-a * beta - 1.0)
    power *= D / power.sum()
    return lam, power


@dataclass
class DMFTResult:
    """Converged order parameters of :func:`dmft` (all (T, T) arrays).

    ``C_e`` is the (Sigma-weighted) error correlation, ``C_delta`` the
    training-residual correlation, ``C_h``/``C_g`` lists of per-layer feature and
    gradient correlations, ``R_h``/``R_g`` their responses, ``sweeps`` the
    fixed-point sweeps used in total and ``residual`` the final change.
    """

    C_e: np.ndarray
    C_delta: np.ndarray
    C_r: np.ndarray
    C_h: list
    C_g: list
    R_h: list
    R_g: list
    R_delta: np.ndarray
    sweeps: int
    residual: float


# ----------------------------------------------------------------------------
# building blocks


def _inv(M: np.ndarray) -> np.ndarray:
    return np.linalg.inv(M)


class _Modes:
    """Per-mode data of docs/deep_linear.md, eq. (B4).

    Eigenvalues ``lam``, target powers ``b2`` = E beta*^2 and weights ``w`` (1/D per
    mode, or a group's mass), all of shape (n_modes,).
    """

    def __init__(self, eigs, power, weights):
        self.lam = eigs
        self.b2 = power
        self.w = weights  # <X> = sum_k w_k X_k

    @classmethod
    def isotropic(cls):
        return cls(np.array([1.0]), np.array([1.0]), np.array([1.0]))

    @classmethod
    def from_spectrum(cls, eigs, target_power, bins: int | None):
        """Modes of a spectrum, optionally grouped into log-spaced eigenvalue bins (eq. (B5)).

        Parameters
        ----------
        eigs : array_like, shape (D,)
            Input covariance eigenvalues lambda_k > 0.
        target_power : array_like, shape (D,)
            Per-mode target power lambda_k E beta*_k^2 >= 0.
        bins : int or None
            None: every mode separately.  Otherwise the modes equal to the largest
            eigenvalue form their own group (so the stability edge set by lambda_max
            is exact) and the others are grouped by ``bins`` equal-width intervals
            of log lambda between the smallest eigenvalue and lambda_max; empty
            intervals are dropped.  Each group keeps its mass (count / D), its mean
            eigenvalue and the lambda-weighted mean of b^2, so that <lambda> and
            <lambda b^2> (the initial error) are exact.
        """
        eigs = check_array("spectrum eigs", eigs, positive=True, ndim=1)
        power = check_array("spectrum target_power", target_power, nonnegative=True, ndim=1)
        if power.shape != eigs.shape:
            raise ConfigError(
                "spectrum",
                f"eigs {eigs.shape}, target_power {power.shape}",
                "eigs and target_power must be 1-d arrays of the same length",
            )
        if eigs.size == 0:
            raise ConfigError("spectrum", "empty arrays", "needs at least one mode")
        D = eigs.size
        b2 = power / eigs  # E beta*_k^2
        if bins is None or D <= bins:
            return cls(eigs, b2, np.full(D, 1.0 / D))
        lam_max = eigs.max()
        top = eigs == lam_max
        lam, bb, ww = [lam_max], [float(np.mean(b2[top]))], [top.sum() / D]
        rest = ~top
        if rest.any():
            log_lam = np.log(eigs[rest])
            lo, hi = log_lam.min(), np.log(lam_max)
            edges = np.linspace(lo, hi, bins + 1)
            idx = np.clip(np.searchsorted(edges, log_lam, side="right") - 1, 0, bins - 1)
            e_rest, b_rest = eigs[rest], b2[rest]
            for j in range(bins):
                m = idx == j
                if not m.any():
                    continue
                lam.append(e_rest[m].mean())
                bb.append(np.sum(e_rest[m] * b_rest[m]) / np.sum(e_rest[m]))
                ww.append(m.sum() / D)
        return cls(np.array(lam), np.array(bb), np.array(ww))


def _hidden_plain(state, C_r, R_r, p):
    """Hidden layers, docs/deep_linear.md eq. (B1).

    Updates the (T, T) C_h, C_g, R_h, R_g layer by layer; returns (C_g^1, R_g^1).
    """
    L, T = p["L"], C_r.shape[0]
    S = np.tril(np.ones((T, T)), -1)
    I = np.eye(T)
    ones = np.ones((T, T))
    eg = p["eta0"] * p["gamma0"]
    for layer in range(L):  # layer index 0..L-1 stands for l = 1..L
        if layer == 0:
            A = R_r / np.sqrt(p["nu"]) + eg * S * C_r
            Cchi = C_r
        else:
            A = state["R_h"][layer - 1] + eg * S * state["C_h"][layer - 1]
            Cchi = state["C_h"][layer - 1]
        if layer == L - 1:
            B = eg * S
            Cphi = ones
        else:
            B = state["R_g"][layer + 1] + eg * S * state["C_g"][layer + 1]
            Cphi = state["C_g"][layer + 1]
        Mh = _inv(I - A @ B)
        Mg = _inv(I - B @ A)
        state["C_h"][layer] = Mh @ (Cchi + A @ Cphi @ A.T) @ Mh.T
        state["C_g"][layer] = Mg @ (Cphi + B @ Cchi @ B.T) @ Mg.T
        state["R_h"][layer] = Mh @ A
        state["R_g"][layer] = Mg @ B
    return state["C_g"][0], state["R_g"][0]


def _hidden_residual(state, C_r, R_r, p):
    """Residual hidden layers, docs/deep_linear.md eq. (B3).

    One joint linear system of 2(L+1) T-vectors; returns (C_g^1, R_g^1), (T, T).
    """
    L, T = p["L"], C_r.shape[0]
    S = np.tril(np.ones((T, T)), -1)
    eg = p["eta0"] * p["gamma0"]
    br = p["beta_r"]
    n = 2 * (L + 1)

    def hi(l):  # h^l, l = 1..L+1
        return slice((l - 1) * T, l * T)

    def gi(l):  # g^l
        return slice((L + 1 + l - 1) * T, (L + 1 + l) * T)

    Sys = np.zeros((n * T, n * T))
    I = np.eye(T)
    Sys[hi(1), gi(1)] = R_r / np.sqrt(p["nu"]) + eg * S * C_r
    for l in range(1, L + 1):
        Sys[hi(l + 1), hi(l)] = I
        Sys[hi(l + 1), gi(l + 1)] = br * (state["R_h"][l - 1] + eg * br * S * state["C_h"][l - 1])
        Sys[gi(l), gi(l + 1)] = I
        Sys[gi(l), hi(l)] = br * (state["R_g"][l - 1] + eg * br * S * state["C_g"][l])
    Sys[gi(L + 1), hi(L + 1)] = eg * S
    Mm = _inv(np.eye(n * T) - Sys)
    # sources: chi^0 -> h^1 (cov C_r), chi^l -> h^{l+1} (beta_r, cov C_h^l),
    # phi^l -> g^l (beta_r, cov C_g^{l+1}), w(0) -> g^{L+1} (cov ones)
    cov = np.zeros((n * T, n * T))
    blocks = [(Mm[:, hi(1)], C_r)]
    for l in range(1, L + 1):
        blocks.append((br * Mm[:, hi(l + 1)], state["C_h"][l - 1]))
        blocks.append((br * Mm[:, gi(l)], state["C_g"][l]))
    blocks.append((Mm[:, gi(L + 1)], np.ones((T, T))))
    for Mcol, Csrc in blocks:
        cov += Mcol @ Csrc @ Mcol.T
    C_h = [cov[hi(l), hi(l)] for l in range(1, L + 2)]
    C_g = [cov[gi(l), gi(l)] for l in range(1, L + 2)]
    R_h = [br * Mm[hi(l), gi(l)] for l in range(1, L + 1)]
    R_g = [br * Mm[gi(l + 1), hi(l + 1)] for l in range(1, L + 1)]
    state["C_h"], state["C_g"], state["R_h"], state["R_g"] = C_h, C_g, R_h, R_g
    return C_g[0], Mm[gi(1), hi(1)]


def _data_space(state, C_g1, R_g1, modes: _Modes, p):
    """Input- and data-space equations, docs/deep_linear.md eqs. (B2) and (B4).

    Updates the (T, T) C_e, C_delta, C_r, R_r and R_delta in ``state``.
    """
    T = C_g1.shape[0]
    S = np.tril(np.ones((T, T)), -1)
    I = np.eye(T)
    ones = np.ones((T, T))
    g0, nu, alpha, s2 = p["gamma0"], p["nu"], p["alpha"], p["noise"]
    K = R_g1 / g0 + p["eta0"] * S * C_g1
    init = C_g1 / (g0**2 * nu)
    R_delta = state["R_delta"]
    if p["online"]:
        R_delta = I
    # coupled G and R_delta (full batch): a few inner passes
    for _ in range(1 if p["online"] else 4):
        Gs = [_inv(I + lam * K @ R_delta) for lam in modes.lam]
        lamG = sum(w * lam * G for w, lam, G in zip(modes.w, modes.lam, Gs, strict=True))
        if p["online"]:
            break
        R_delta = _inv(I + lamG @ K / alpha)
    C_delta = state["C_delta"]
    # per-mode errors
    E_modes = [
        G @ (b2 * ones + init + lam * K @ C_delta @ K.T / alpha) @ G.T
        for lam, b2, G in zip(modes.lam, modes.b2, Gs, strict=True)
    ]
    C_e = sum(w * lam * E for w, lam, E in zip(modes.w, modes.lam, E_modes, strict=True))
    if p["online"]:
        C_delta = np.diag(np.diag(C_e) + s2)
    else:
        C_delta = R_delta @ (C_e + s2 * ones) @ R_delta.T
    C_r = np.zeros((T, T))
    for w, lam, b2, G in zip(modes.w, modes.lam, modes.b2, Gs, strict=True):
        Mk = _inv(I + lam * R_delta @ K)
        C_r += w * lam * Mk @ C_delta @ Mk.T / alpha
        C_r += w * lam**2 * R_delta @ G @ (b2 * ones + init) @ G.T @ R_delta.T
    R_r = -R_delta @ lamG / (g0 * np.sqrt(nu))
    state.update(C_e=C_e, C_delta=C_delta, C_r=C_r, R_r=R_r, R_delta=R_delta)
    return state


def _pad(M: np.ndarray, T: int, kind: str) -> np.ndarray:
    """Extend a T0 x T0 matrix to T x T: correlations repeat their last row/column,
    responses get zeros (with unit diagonal for 'unit')."""
    T0 = M.shape[0]
    out = np.zeros((T, T))
    out[:T0, :T0] = M
    if kind == "corr":
        out[T0:, :T0] = M[-1:, :]
        out[:T0, T0:] = M[:, -1:]
        out[T0:, T0:] = M[-1, -1]
    elif kind == "unit":
        out[np.arange(T0, T), np.arange(T0, T)] = 1.0
    return out


def _initial_state(p, T: int) -> dict:
    L = p["L"]
    n_layers = L + 1 if p["residual"] else L
    n_resp = L
    ones = np.ones((T, T))
    return {
        "C_h": [ones.copy() for _ in range(n_layers)],
        "C_g": [ones.copy() for _ in range(n_layers)],
        "R_h": [np.zeros((T, T)) for _ in range(n_resp)],
        "R_g": [np.zeros((T, T)) for _ in range(n_resp)],
        "C_r": ones.copy(),
        "R_r": np.zeros((T, T)),
        "C_e": ones.copy(),
        "C_delta": ones.copy(),
        "R_delta": np.eye(T),
    }


def _grow(state: dict, T: int) -> dict:
    new = {}
    for key in ("C_h", "C_g"):
        new[key] = [_pad(M, T, "corr") for M in state[key]]
    for key in ("R_h", "R_g"):
        new[key] = [_pad(M, T, "resp") for M in state[key]]
    for key in ("C_r", "C_e", "C_delta"):
        new[key] = _pad(state[key], T, "corr")
    new["R_r"] = _pad(state["R_r"], T, "resp")
    new["R_delta"] = _pad(state["R_delta"], T, "unit")
    return new


def _sweep(state: dict, modes: _Modes, p: dict) -> dict:
    hidden = _hidden_residual if p["residual"] else _hidden_plain
    C_g1, R_g1 = hidden(state, state["C_r"], state["R_r"], p)
    return _data_space(state, C_g1, R_g1, modes, p)


def _change(a: dict, b: dict) -> float:
    diff = 0.0
    for key in ("C_e", "C_r", "C_delta", "R_r", "R_delta"):
        diff = max(diff, float(np.max(np.abs(a[key] - b[key]))))
    for key in ("C_h", "C_g", "R_h", "R_g"):
        for x, y in zip(a[key], b[key], strict=True):
            diff = max(diff, float(np.max(np.abs(x - y))))
    return diff


def _copy(state: dict) -> dict:
    return {
        k: ([m.copy() for m in v] if isinstance(v, list) else v.copy()) for k, v in state.items()
    }


def _solve_chunk(state: dict, modes: _Modes, p: dict, e0, tol: float, max_sweeps: int):
    """Fixed-point sweeps on the current time window until the change is below ``tol``.

    Returns (state, e0, sweeps, residual); ``e0`` is the initial test error (the
    divergence reference), set on the first sweep.
    """
    eta0, T = p["eta0"], state["C_e"].shape[0]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        sweep, res = 0, 0.0
        while sweep < max_sweeps:
            sweep += 1
            old = _copy(state)
            try:
                state = _sweep(state, modes, p)
            except np.linalg.LinAlgError as exc:
                raise DivergenceError(
                    f"DMFT at eta0={eta0:g} (singular response operator: {exc})",
                    _first_bad(old, e0),
                ) from exc
            diag = np.diag(state["C_e"])
            e0 = diag[0] if e0 is None else e0
            if not np.all(np.isfinite(diag)) or np.any(np.abs(diag) > _BLOWUP * abs(e0)):
                raise DivergenceError(
                    f"DMFT at eta0={eta0:g}: the test error grows without bound",
                    _first_bad(state, e0),
                )
            res = _change(state, old)
            if res <= tol * max(1.0, float(np.max(np.abs(state["C_e"])))):
                return state, e0, sweep, res
    raise SolverError(
        f"DMFT fixed point on [0, {T}) at eta0={eta0:g}", residual=res, iterations=sweep
    )


# ----------------------------------------------------------------------------
# public solver


def dmft(
    depth: int,
    nu: float,
    alpha: float,
    gamma0: float,
    eta0: float,
    steps: int,
    noise: float = 0.0,
    online: bool = False,
    residual: bool = False,
    beta0: float = 1.0,
    spectrum=None,
    *,
    branch_scale: float | None = None,
    chunk: int = 6,
    tol: float = 1e-10,
    max_sweeps: int = 400,
    bins: int | None = 48,
    return_state: bool = False,
):
    """Test and train loss of a deep linear network from its DMFT (docs/deep_linear.md, (B1)-(B5)).

    Solves the single-site equations by fixed-point iteration on T x T
    correlation and response matrices, grown in time chunks of ``chunk`` steps
    from the converged shorter solution (causality makes the iteration
    converge within a chunk).

    Parameters
    ----------
    depth : int
        L, the number of hidden layers (residual: residual blocks).
    nu : float
        Width ratio N / D.
    alpha : float
        Data ratio P / D (full batch) or batch ratio B / D (``online=True``).
    gamma0 : float
        Richness (output multiplier); see :func:`ntk_gamma0` and :func:`mup_gamma0`.
    eta0 : float
        Learning rate; the raw step on the weights is eta0 gamma0^2 N.
    steps : int
        T; losses at t = 0..T-1.
    noise : float
        Label-noise variance sigma^2.
    online : bool
        Online SGD with fresh batches (alpha = B / D).
    residual : bool
        Residual network with branch scale beta0 / sqrt(L) (eq. (B3)).
    beta0 : float
        Residual branch multiplier.
    spectrum : tuple (eigs, target_power), optional
        Structured data (eq. (B4)): input covariance eigenvalues, shape (D,), and
        per-mode target powers lambda_k E beta*_k^2, shape (D,).
    branch_scale : float, optional
        Override beta_r (e.g. a depth-independent 1.0).
    chunk, tol, max_sweeps
        Time-chunk length (>= 1), convergence tolerance on the largest change
        (relative to max(1, |C|)), and sweep cap per chunk (>= 1).
    bins : int or None, default 48
        With ``spectrum``: group the modes other than the top eigenvalue into
        ``bins`` equal-width intervals of log lambda (eq. (B5)); None solves every
        mode separately (cost ~ D).  The top eigenvalue is always its own group.
    return_state : bool
        Also return the :class:`DMFTResult`.

    Returns
    -------
    pandas.DataFrame
        Columns ``t, test_excess, train_mse`` for t = 0..steps-1
        (``train_mse`` equals test MSE in expectation for online SGD).

    Raises
    ------
    DivergenceError
        When the learning rate is unstable (the error grows by 1e8 or stops
        being finite), with the first step at which it did.
    SolverError
        When a chunk's fixed point does not converge (with the residual).
    ConfigError
        For invalid arguments.
    """
    p = _params(depth, nu, alpha, gamma0, eta0, steps, noise, online, residual, beta0, branch_scale)
    chunk = check_int("chunk", chunk, 1)
    max_sweeps = check_int("max_sweeps", max_sweeps, 1)
    tol = check_scalar("tol", tol, "must be a finite number > 0", _positive)
    if bins is not None:
        bins = check_int("bins", bins, 1)
    if spectrum is None:
        modes = _Modes.isotropic()
    else:
        modes = _Modes.from_spectrum(*_spectrum_pair(spectrum), bins=bins)
    T_final = p["T"]
    T = min(chunk, T_final)
    state = _initial_state(p, T)
    total_sweeps, e0 = 0, None
    while True:
        state, e0, sweep, res = _solve_chunk(state, modes, p, e0, tol, max_sweeps)
        total_sweeps += sweep
        if T == T_final:
            break
        T = min(T + chunk, T_final)
        state = _grow(state, T)
    df = pd.DataFrame(
        {
            "t": np.arange(T_final),
            "test_excess": np.diag(state["C_e"]).copy(),
            "train_mse": np.diag(state["C_delta"]).copy(),
        }
    )
    if return_state:
        keys = ("C_e", "C_delta", "C_r", "C_h", "C_g", "R_h", "R_g", "R_delta")
        return df, DMFTResult(**{k: state[k] for k in keys}, sweeps=total_sweeps, residual=res)
    return df


def _spectrum_pair(spectrum) -> tuple:
    """Check that ``spectrum`` is a pair (eigs, target_power)."""
    if not (isinstance(spectrum, (tuple, list)) and len(spectrum) == 2):
        shown = f"array of shape {np.shape(spectrum)}" if hasattr(spectrum, "shape") else spectrum
        raise ConfigError(
            "spectrum",
            shown,
            "must be a pair (eigs, target_power) of 1-d arrays of the same length",
        )
    return spectrum[0], spectrum[1]


def _first_bad(state: dict, e0) -> int:
    d = np.diag(state["C_e"])
    ref = abs(e0) if e0 else 1.0
    bad = ~np.isfinite(d) | (np.abs(d) > _BLOWUP * ref)
    return int(np.argmax(bad)) if bad.any() else d.size - 1


def _positive(x: float) -> bool:
    return x > 0


def _params(depth, nu, alpha, gamma0, eta0, steps, noise, online, residual, beta0, branch_scale):
    """Validate the model arguments shared by :func:`dmft` and the simulation."""
    L = check_int("depth", depth, 1)
    pos = "must be a finite number > 0"
    nonneg = "must be a finite number >= 0"
    out = {"L": L}
    for name, v in (("nu", nu), ("alpha", alpha), ("gamma0", gamma0), ("eta0", eta0)):
        out[name] = check_scalar(name, v, pos, _positive)
    T = check_int("steps", steps, 1)
    noise = check_scalar("noise", noise, nonneg, lambda x: x >= 0)
    beta0 = check_scalar("beta0", beta0, nonneg, lambda x: x >= 0)
    if branch_scale is None:
        beta_r = beta0 / np.sqrt(L)
    else:
        beta_r = check_scalar(
            "branch_scale", branch_scale, "must be None or a finite number >= 0", lambda x: x >= 0
        )
    return {
        **out,
        "T": T,
        "noise": noise,
        "online": bool(online),
        "residual": bool(residual),
        "beta_r": float(beta_r),
    }
