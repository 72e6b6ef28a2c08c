"""Dynamical mean-field theory of deep linear networks trained from random init.

Bordelon, Pehlevan, "Deep Linear Network Training Dynamics from Random
Initialization: Data, Width, Depth, and Hyperparameter Transfer" (ICML 2025,
arXiv 2502.02531).  Equation labels (M1), (P1)-(P2), (B1)-(B5) refer to
the equations written out in ``docs/deep_linear.md`` (section "The DMFT").

Model (docs/deep_linear.md, eq. (M1))
-------------------------------------
x ~ N(0, I_D) (or diag(eigs)), teacher beta* with E beta*_k^2 = b_k^2, labels
y = beta*.x/sqrt(D) + eps.  L hidden layers of width N = nu D::

    h^1 = W^0 x / sqrt(D),  h^{l+1} = W^l h^l / sqrt(N),  f = kappa w.h^L,
    kappa = sqrt(D) / (gamma0 N),

all weights i.i.d. N(0, 1) at t = 0; GD on (1/2P) sum (y - f)^2 with raw step
eta0 gamma0^2 N (full batch on P = alpha D samples, or online with fresh
batches of B = alpha D).  The residual variant replaces the hidden layers by
h^{l+1} = h^l + (beta_r / sqrt(N)) W^l h^l, l = 1..L, with beta_r = beta0 / sqrt(L).

Observables: test excess error E(t) = (beta* - beta)^T Sigma (beta* - beta) / D
(test MSE = E + sigma^2) and the train MSE.  NTK parameterization:
gamma0 = gamma_bar / sqrt(nu); muP: gamma0 fixed.

Every two-time object is a T x T matrix; responses are lower triangular and
S is the strictly causal mask (s < t).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.linalg.lapack import dtrtrs

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


def _inverse_rows(Y: np.ndarray, M: np.ndarray, a: int, b: int) -> None:
    """Rows [a, b) of M = (I + Y)^-1 for a strictly lower-triangular (causal) Y.

    ``Y`` holds the rows [a, b) of Y, shape (b - a, b); the rows [0, a) of ``M``
    (shape (T, T), T >= b) are final and its rows [a, b) are written (columns
    [0, b)).  From (I + Y) M = I: (I + Y_cc) M_c = E_c - Y_{c,<a} M_{<a}, a
    unit lower-triangular solve of size b - a (LAPACK ``trtrs``, as
    ``scipy.linalg.solve_triangular`` without its wrapper's overhead).
    """
    rhs = -(Y[:, :a] @ M[:a, :b])
    rhs[np.arange(b - a), np.arange(a, b)] += 1.0
    if b - a == 1:  # one row: the unit diagonal is the whole solve
        M[a, :b] = rhs[0]
        return
    x, info = dtrtrs(Y[:, a:b], rhs, lower=1, unitdiag=1)
    if info != 0:  # pragma: no cover - a unit diagonal is never singular
        raise np.linalg.LinAlgError(f"triangular solve failed (info={info})")
    M[a:b, :b] = x


def _set_rows(C: np.ndarray, X: np.ndarray, a: int, b: int) -> None:
    """Write the rows [a, b) (shape (b - a, b)) of a symmetric correlation and their transpose."""
    blk = X[:, a:b]
    X[:, a:b] = 0.5 * (blk + blk.T)
    C[a:b, :b] = X
    C[:b, a:b] = X.T


def _pair(Z: np.ndarray, G: np.ndarray) -> np.ndarray:
    """sum_k Z_k G_k^T for stacks Z (n, c, b) and G (n, s, b): shape (c, s)."""
    if Z.shape[0] == 1:
        return Z[0] @ G[0].T
    return np.tensordot(Z, G, axes=([0, 2], [0, 2]))


class _Window:
    """Order parameters on [0, T) solved causally, ``chunk`` rows at a time.

    Every two-time object is stored as a (T, T) array (correlations symmetric,
    responses lower triangular).  Causality (docs/deep_linear.md, "Solver")
    makes the rows [0, a) of every object final once the window [0, a) has
    converged, so a sweep over the chunk [a, b) updates only the rows [a, b):
    each product costs (b - a) b^2 and each causal inverse is a triangular
    solve of size b - a.  A sweep visits the backward fields g^L..g^1 (B1),
    then the D/P-space equations (B2)/(B4), then the forward fields h^1..h^L;
    within a row that order is causal, so a sweep over one row [t, t + 1) is
    exact given the earlier rows (the residual network's joint system (B3) is
    the exception: it is re-solved on the whole window and needs a few sweeps).
    """

    def __init__(self, p: dict, modes: _Modes, T: int):
        self.p, self.modes, self.T = p, modes, T
        L, n = p["L"], modes.lam.size
        n_layers = L + 1 if p["residual"] else L
        ones, zeros = (lambda: np.ones((T, T))), (lambda: np.zeros((T, T)))
        self.ones = np.ones((T, T))
        self.S = np.tril(np.ones((T, T)), -1)
        self.C_h = [ones() for _ in range(n_layers)]
        self.C_g = [ones() for _ in range(n_layers)]
        self.R_h = [zeros() for _ in range(L)]
        self.R_g = [zeros() for _ in range(L)]
        self.C_r, self.C_e, self.C_delta = ones(), ones(), ones()
        self.R_r, self.R_delta, self.Rg1, self.K = zeros(), np.eye(T), zeros(), zeros()
        self.lamG, self.Q0 = zeros(), zeros()
        self.G, self.Mk, self.H = (np.zeros((n, T, T)) for _ in range(3))
        if not p["residual"]:  # per-layer coefficients A, B, inverses M_h, M_g, sources Q
            self.A, self.B, self.Mh, self.Mg, self.Qh, self.Qg = (
                [zeros() for _ in range(L)] for _ in range(6)
            )

    # -- bookkeeping ------------------------------------------------------------

    def _corr(self) -> list:
        return [self.C_r, self.C_e, self.C_delta, *self.C_h, *self.C_g]

    def _tracked(self) -> list:
        return [*self._corr(), self.R_r, self.R_delta, *self.R_h, *self.R_g]

    def start(self, a: int, b: int) -> None:
        """Initial guess on the rows [a, b): correlations repeat their row a - 1."""
        if a > 0:
            for C in self._corr():
                C[a:b, :a] = C[a - 1, :a]
                C[:a, a:b] = C[:a, a - 1 : a]
                C[a:b, a:b] = C[a - 1, a - 1]
        if not self.p["residual"]:
            for layer in range(self.p["L"]):
                self._coefficient_A(layer, a, b)

    def rows(self, a: int, b: int) -> list:
        return [M[a:b, :b].copy() for M in self._tracked()]

    def change(self, old: list, a: int, b: int) -> float:
        return max(
            float(np.max(np.abs(M[a:b, :b] - o))) for M, o in zip(self._tracked(), old, strict=True)
        )

    def sweep(self, a: int, b: int) -> None:
        if self.p["residual"]:
            self._hidden_residual(b)
            self._data_space(a, b)
        else:
            for layer in reversed(range(self.p["L"])):
                self._backward(layer, a, b)
            self.Rg1[a:b, :b] = self.R_g[0][a:b, :b]
            self._data_space(a, b)
            for layer in range(self.p["L"]):
                self._forward(layer, a, b)

    # -- hidden layers, docs/deep_linear.md eq. (B1) -------------------------------

    def _coefficient_A(self, layer: int, a: int, b: int) -> None:
        eg, S = self.p["eta0"] * self.p["gamma0"], self.S[a:b, :b]
        if layer == 0:
            R, C = self.R_r[a:b, :b] / np.sqrt(self.p["nu"]), self.C_r[a:b, :b]
        else:
            R, C = self.R_h[layer - 1][a:b, :b], self.C_h[layer - 1][a:b, :b]
        self.A[layer][a:b, :b] = R + eg * S * C

    def _chi_phi(self, layer: int) -> tuple:
        """Source covariances (Cov chi^l, Cov phi^l) of layer l (B1)."""
        Cchi = self.C_r if layer == 0 else self.C_h[layer - 1]
        Cphi = self.ones if layer == self.p["L"] - 1 else self.C_g[layer + 1]
        return Cchi, Cphi

    def _backward(self, layer: int, a: int, b: int) -> None:
        """Rows [a, b) of B^l, M_g = (I - B A)^-1, R_g^l = M_g B and C_g^l."""
        eg, c, w = self.p["eta0"] * self.p["gamma0"], slice(a, b), slice(0, b)
        B, A, Mg = self.B[layer], self.A[layer], self.Mg[layer]
        if layer == self.p["L"] - 1:
            B[c, w] = eg * self.S[c, w]
        else:
            B[c, w] = self.R_g[layer + 1][c, w] + eg * self.S[c, w] * self.C_g[layer + 1][c, w]
        Cchi, Cphi = self._chi_phi(layer)
        _inverse_rows(-(B[c, w] @ A[w, w]), Mg, a, b)
        self.R_g[layer][c, w] = Mg[c, w] @ B[w, w]
        _set_rows(self.Qg[layer], Cphi[c, w] + (B[c, w] @ Cchi[w, w]) @ B[w, w].T, a, b)
        _set_rows(self.C_g[layer], (Mg[c, w] @ self.Qg[layer][w, w]) @ Mg[w, w].T, a, b)

    def _forward(self, layer: int, a: int, b: int) -> None:
        """Rows [a, b) of A^l, M_h = (I - A B)^-1, R_h^l = M_h A and C_h^l."""
        c, w = slice(a, b), slice(0, b)
        self._coefficient_A(layer, a, b)
        B, A, Mh = self.B[layer], self.A[layer], self.Mh[layer]
        Cchi, Cphi = self._chi_phi(layer)
        _inverse_rows(-(A[c, w] @ B[w, w]), Mh, a, b)
        self.R_h[layer][c, w] = Mh[c, w] @ A[w, w]
        _set_rows(self.Qh[layer], Cchi[c, w] + (A[c, w] @ Cphi[w, w]) @ A[w, w].T, a, b)
        _set_rows(self.C_h[layer], (Mh[c, w] @ self.Qh[layer][w, w]) @ Mh[w, w].T, a, b)

    def _hidden_residual(self, b: int) -> None:
        """Residual hidden layers (B3) on the window [0, b): one joint linear system."""
        w = slice(0, b)
        state = {key: [M[w, w] for M in getattr(self, key)] for key in ("C_h", "C_g", "R_h", "R_g")}
        _, R_g1 = _hidden_residual(state, self.C_r[w, w], self.R_r[w, w], self.p)
        for key in ("C_h", "C_g", "R_h", "R_g"):
            for M, new in zip(getattr(self, key), state[key], strict=True):
                M[w, w] = new
        self.Rg1[w, w] = R_g1

    # -- input and data space, docs/deep_linear.md eqs. (B2) and (B4) --------------

    def _data_space(self, a: int, b: int) -> None:
        p, m, c, w = self.p, self.modes, slice(a, b), slice(0, b)
        g0, nu, alpha = p["gamma0"], p["nu"], p["alpha"]
        ci = 1.0 / (g0**2 * nu)  # init = C_g^1 / (gamma0^2 nu)
        Rd, K, G, Mk, H = self.R_delta, self.K, self.G, self.Mk, self.H
        K[c, w] = self.Rg1[c, w] / g0 + p["eta0"] * self.S[c, w] * self.C_g[0][c, w]
        KR = K[c, w] @ Rd[w, w]
        for k, lam in enumerate(m.lam):  # G_k = (I + lambda_k K R_Delta)^-1
            _inverse_rows(lam * KR, G[k], a, b)
        wl = m.w * m.lam
        self.lamG[c, w] = (
            wl[0] * G[0, c, w] if m.lam.size == 1 else np.tensordot(wl, G[:, c, w], axes=1)
        )
        if not p["online"]:  # R_Delta = (I + <lambda G> K / alpha)^-1
            _inverse_rows(self.lamG[c, w] @ K[w, w] / alpha, Rd, a, b)
        _set_rows(self.Q0, (K[c, w] @ self.C_delta[w, w]) @ K[w, w].T / alpha, a, b)
        Cg1 = self.C_g[0][w, w]
        Gc = G[:, c, w]
        Z = Gc @ (ci * Cg1) + m.lam[:, None, None] * (Gc @ self.Q0[w, w])
        Z += m.b2[:, None, None] * Gc.sum(-1, keepdims=True)
        _set_rows(self.C_e, _pair(wl[:, None, None] * Z, G[:, w, w]), a, b)
        if p["online"]:
            self.C_delta[c, w] = 0.0
            self.C_delta[w, c] = 0.0
            idx = np.arange(a, b)
            self.C_delta[idx, idx] = self.C_e[idx, idx] + p["noise"]
        else:
            X = (Rd[c, w] @ (self.C_e[w, w] + p["noise"])) @ Rd[w, w].T
            _set_rows(self.C_delta, X, a, b)
        RK = Rd[c, w] @ K[w, w]
        for k, lam in enumerate(m.lam):  # M_k = (I + lambda_k R_Delta K)^-1
            _inverse_rows(lam * RK, Mk[k], a, b)
        H[:, c, w] = Rd[c, w] @ G[:, w, w]  # R_Delta G_k
        X = _pair((wl / alpha)[:, None, None] * (Mk[:, c, w] @ self.C_delta[w, w]), Mk[:, w, w])
        Hc = H[:, c, w]
        Z = ci * (Hc @ Cg1) + m.b2[:, None, None] * Hc.sum(-1, keepdims=True)
        X += _pair((wl * m.lam)[:, None, None] * Z, H[:, w, w])
        _set_rows(self.C_r, X, a, b)
        self.R_r[c, w] = -(Rd[c, w] @ self.lamG[w, w]) / (g0 * np.sqrt(nu))


def _hidden_residual(state, C_r, R_r, p):
    """Residual hidden layers, docs/deep_linear.md eq. (B3).

    One joint linear system of 2(L+1) T-vectors; updates the (T, T) C_h, C_g,
    R_h, R_g in ``state`` and returns (C_g^1, R_g^1), (T, T).
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
    Mm = np.linalg.inv(np.eye(n * T) - Sys)
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
    state["C_h"] = [cov[hi(l), hi(l)] for l in range(1, L + 2)]
    state["C_g"] = [cov[gi(l), gi(l)] for l in range(1, L + 2)]
    state["R_h"] = [br * Mm[hi(l), gi(l)] for l in range(1, L + 1)]
    state["R_g"] = [br * Mm[gi(l + 1), hi(l + 1)] for l in range(1, L + 1)]
    return state["C_g"][0], Mm[gi(1), hi(1)]


def _solve_chunk(win: _Window, a: int, b: int, e0, tol: float, max_sweeps: int):
    """Solve the rows [a, b): one causal pass, then fixed-point sweeps until the change is < tol.

    The first sweep visits the rows one at a time (each row is then exact given
    the earlier ones, and the divergence check sees true values only); every
    further sweep updates the whole chunk at once and measures the change, the
    residual of the fixed-point equations.  Returns (e0, sweeps, residual);
    ``e0`` is the initial test error (the divergence reference).
    """
    eta0 = win.p["eta0"]
    win.start(a, b)

    def sweep_and_check(lo: int, hi: int, e0):
        try:
            win.sweep(lo, hi)
        except np.linalg.LinAlgError as exc:
            raise DivergenceError(
                f"DMFT at eta0={eta0:g} (singular response operator: {exc})",
                _first_bad(win.C_e[:hi, :hi], e0),
            ) from exc
        diag = np.diag(win.C_e)[:hi]
        e0 = diag[0] if e0 is None else e0
        if not np.all(np.isfinite(diag)) or np.any(np.abs(diag) > _BLOWUP * abs(e0)):
            raise DivergenceError(
                f"DMFT at eta0={eta0:g}: the test error grows without bound",
                _first_bad(win.C_e[:hi, :hi], e0),
            )
        return e0

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        old = win.rows(a, b)
        for t in range(a, b):
            e0 = sweep_and_check(t, t + 1, e0)
        sweep, res = 1, win.change(old, a, b)
        while sweep < max_sweeps:
            sweep += 1
            old = win.rows(a, b)
            e0 = sweep_and_check(a, b, e0)
            res = win.change(old, a, b)
            if res <= tol * max(1.0, float(np.max(np.abs(win.C_e[:b, :b])))):
                return e0, sweep, res
    raise SolverError(
        f"DMFT fixed point on [0, {b}) at eta0={eta0:g}", residual=res, iterations=sweep
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

    Solves the single-site equations on T x T correlation and response
    matrices causally, ``chunk`` rows at a time (docs/deep_linear.md,
    "Solver"): the rows of earlier times are final, a first pass computes the
    chunk's rows one time step at a time (exact given the earlier rows), and
    fixed-point sweeps over the chunk's rows (triangular solves for the causal
    inverses) confirm it to ``tol``.  Cost O(L T^3) flops (O(L T^2) per step).

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
        of a chunk's rows in a sweep (relative to max(1, |C|)), and sweep cap
        per chunk (>= 1; the first sweep is the causal pass, so >= 2 are
        needed to confirm convergence).
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
    win = _Window(p, modes, T_final)
    total_sweeps, e0 = 0, None
    for a in range(0, T_final, chunk):
        e0, sweep, res = _solve_chunk(win, a, min(a + chunk, T_final), e0, tol, max_sweeps)
        total_sweeps += sweep
    df = pd.DataFrame(
        {
            "t": np.arange(T_final),
            "test_excess": np.diag(win.C_e).copy(),
            "train_mse": np.diag(win.C_delta).copy(),
        }
    )
    if return_state:
        keys = ("C_e", "C_delta", "C_r", "C_h", "C_g", "R_h", "R_g", "R_delta")
        return df, DMFTResult(
            **{k: getattr(win, k) for k in keys}, sweeps=total_sweeps, residual=res
        )
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


def _first_bad(C_e: np.ndarray, e0) -> int:
    d = np.diag(C_e)
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
