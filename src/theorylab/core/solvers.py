"""Vectorised numerical solvers with convergence diagnostics.

* :func:`find_root` -- bracketed, safeguarded Newton/bisection root finding
  over a whole batch of independent scalar equations at once (optionally in
  log space, for unknowns spanning many decades such as renormalised ridges).
* :func:`minimize_scalar` -- vectorised golden-section minimisation.
* :func:`fixed_point` -- damped / Anderson-accelerated fixed-point iteration.
* :func:`integrate_ode` -- :func:`scipy.integrate.solve_ivp` with errors
  turned into :class:`SolverError`.

Every solver raises :class:`~theorylab.core.errors.SolverError` (with the
residual) instead of returning unconverged numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import SolverError

_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0


@dataclass(frozen=True)
class RootResult:
    """Result of :func:`find_root`.

    Attributes
    ----------
    x : numpy.ndarray, shape (B,)
        The roots.
    residual : numpy.ndarray, shape (B,)
        |f(x)| at the returned roots.
    iterations : int
        Iterations used by the slowest element.
    converged : numpy.ndarray of bool, shape (B,)
    """

    x: np.ndarray
    residual: np.ndarray
    iterations: int
    converged: np.ndarray


def find_root(
    fun: Callable[..., np.ndarray],
    lo,
    hi,
    *,
    fprime: Callable[..., np.ndarray] | bool | None = None,
    x0=None,
    log: bool = False,
    xtol: float = 1e-13,
    maxiter: int = 200,
    what: str = "root",
    raise_on_failure: bool = True,
    indexed: bool = False,
    f_lo=None,
    f_hi=None,
) -> RootResult:
    """Solve f(x) = 0 for a batch of bracketed scalar equations.

    Each element i is solved on its own bracket [lo_i, hi_i] where f changes
    sign.  A Newton step (if ``fprime`` is given) is taken whenever it stays
    strictly inside the current bracket; otherwise the bracket is bisected
    (geometrically when ``log=True``).  The bracket always shrinks, so the
    method cannot diverge; with a derivative it converges quadratically.
    Every iteration works on the elements not yet converged only (the active
    set); with ``indexed=True`` the functions are evaluated there only too.

    Parameters
    ----------
    fun : callable
        ``fun(x)`` with x of shape (B,) returns f of shape (B,).  With
        ``indexed=True`` it is called as ``fun(x, idx)``: x of shape (m,) holds
        the current points of the elements ``idx`` (int array, shape (m,),
        positions in the batch), and it returns f at those elements, shape (m,).
    lo, hi : array_like, shape (B,) or scalar
        Bracket ends; f(lo) and f(hi) must have opposite signs (or be zero).
        With ``log=True`` both must be > 0.
    fprime : callable or True, optional
        Derivative df/dx, same calling convention; ``True`` means ``fun``
        returns ``(f, df/dx)`` together (cheaper when they share work).
    x0 : array_like, optional
        Starting guesses (used where strictly inside the bracket, otherwise the
        bracket's midpoint).  A good guess saves most iterations.
    log : bool
        Work in u = log(x) (for positive unknowns spanning many decades).
    xtol : float
        Relative tolerance on x (bracket width or last step, relative to |x|).
    maxiter : int
        Iteration cap.
    what : str
        Description used in the error message.
    raise_on_failure : bool
        Raise :class:`SolverError` if any element fails to converge.
    indexed : bool
        Call ``fun`` (and ``fprime``) on the active elements only, as
        ``fun(x, idx)``: the cost of an iteration then falls with the number
        of elements still unconverged.
    f_lo, f_hi : array_like, shape (B,), optional
        f(lo), f(hi) when the caller already has them (each saves one
        evaluation of ``fun``; the brackets are still checked with them).

    Returns
    -------
    RootResult

    Raises
    ------
    SolverError
        If a bracket has no sign change (with the smaller |f| at its ends as
        the residual), or, with ``raise_on_failure``, if an element has not
        converged after ``maxiter`` iterations (with the largest residual left).
    """
    lo = np.array(lo, dtype=np.float64, ndmin=1)
    hi = np.array(hi, dtype=np.float64, ndmin=1)
    lo, hi = np.broadcast_arrays(lo, hi)
    lo, hi = lo.copy(), hi.copy()
    if log and (np.any(lo <= 0) or np.any(hi <= 0)):
        raise ValueError("log=True needs a positive bracket")
    joint = fprime is True

    def raw(f, x, idx):
        return f(x, idx) if indexed else f(x.reshape(shape))

    def value_and_slope(x, idx):
        if joint:
            fv, dv = raw(fun, x, idx)
        else:
            fv = raw(fun, x, idx)
            dv = raw(fprime, x, idx) if fprime is not None else None
        fv = np.asarray(fv, dtype=np.float64).ravel()
        return fv, (None if dv is None else np.asarray(dv, dtype=np.float64).ravel())

    def first(x):  # f at a bracket end, in f's own shape
        out = raw(fun, x.ravel(), np.arange(x.size))
        return np.asarray(out[0] if joint else out, dtype=np.float64)

    # the batch's shape: the brackets', or f's for scalar brackets of a batch
    shape = lo.shape
    f_lo = first(lo) if f_lo is None else np.asarray(f_lo, dtype=np.float64)
    f_hi = first(hi) if f_hi is None else np.asarray(f_hi, dtype=np.float64)
    shape = np.broadcast_shapes(lo.shape, f_lo.shape, f_hi.shape)
    if shape != lo.shape and indexed:
        raise ValueError(f"indexed=True needs brackets of the batch's shape, got {lo.shape}")
    lo, hi, f_lo, f_hi = (np.broadcast_to(v, shape).ravel() for v in (lo, hi, f_lo, f_hi))
    lo, hi = lo.copy(), hi.copy()
    full = np.arange(lo.size)
    # orientation: s * f is negative at lo and positive at hi
    s = np.where(f_hi >= f_lo, 1.0, -1.0)
    bad = (s * f_lo > 0) | (s * f_hi < 0) | ~np.isfinite(f_lo) | ~np.isfinite(f_hi)
    if np.any(bad):
        i = int(np.argmax(bad))
        raise SolverError(
            f"{what}: no sign change on bracket [{lo[i]:.3g}, {hi[i]:.3g}] "
            f"(f = {f_lo[i]:.3g}, {f_hi[i]:.3g})",
            residual=float(np.nanmin(np.abs([f_lo[i], f_hi[i]]))),
            iterations=0,
        )
    done = (f_lo == 0) | (f_hi == 0)
    start = _mid(lo, hi, log)
    if x0 is not None:
        x0 = np.broadcast_to(np.asarray(x0, dtype=np.float64), shape).ravel()
        start = np.where(np.isfinite(x0) & (x0 > lo) & (x0 < hi), x0, start)
    x = np.where(f_lo == 0, lo, np.where(f_hi == 0, hi, start))
    fx, dx = value_and_slope(x, full)
    fx = fx.copy()
    dx = None if dx is None else dx.copy()
    prev_step = np.full(x.shape, np.inf)  # last step in the working variable (log x if log)
    tiny_x = np.finfo(float).tiny
    it = 0
    act = np.flatnonzero(~done)
    while it < maxiter and act.size:
        it += 1
        # the active elements' state (copies: the full arrays are written back below)
        xa, fa, la, ha = x[act], fx[act], lo[act], hi[act]
        pos = s[act] * fa > 0
        ha = np.where(pos, xa, ha)
        la = np.where(pos, la, xa)
        lo[act], hi[act] = la, ha
        cand = _mid(la, ha, log)
        if dx is not None:
            da = dx[act]
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                if log:
                    newton = xa * np.exp(np.clip(-fa / (xa * da), -50.0, 50.0))
                else:
                    newton = xa - fa / da
                nstep = np.abs(np.log(newton / xa)) if log else np.abs(newton - xa)
            # Newton is taken inside the (closed) bracket when it at least halves the
            # previous step (the rtsafe safeguard); a negligible step means convergence
            tiny = np.abs(newton - xa) <= xtol * np.maximum(np.abs(xa), tiny_x)
            ok = np.isfinite(newton) & (newton >= la) & (newton <= ha)
            ok &= (nstep <= 0.5 * prev_step[act]) | tiny
            cand = np.where(ok, newton, cand)
        with np.errstate(divide="ignore", invalid="ignore"):
            prev_step[act] = np.abs(np.log(cand / xa)) if log else np.abs(cand - xa)
        step = np.abs(cand - xa)
        width = ha - la
        scale = np.maximum(np.abs(xa), tiny_x)
        if indexed:
            f_new, d_new = value_and_slope(cand, act)
        else:
            x_try = x.copy()
            x_try[act] = cand
            f_new, d_new = value_and_slope(x_try, full)
            f_new = f_new[act]
            d_new = None if d_new is None else d_new[act]
        x[act] = cand
        fx[act] = f_new
        if dx is not None:
            dx[act] = d_new
        converged = (step <= xtol * scale) | (width <= xtol * scale) | (fx[act] == 0)
        done[act[converged]] = True
        act = act[~converged]
    residual = np.abs(fx)
    if raise_on_failure and not done.all():
        raise SolverError(what, residual=float(np.max(residual[~done])), iterations=it)
    return RootResult(
        x=x.reshape(shape),
        residual=residual.reshape(shape),
        iterations=it,
        converged=done.reshape(shape),
    )


def _mid(lo: np.ndarray, hi: np.ndarray, log: bool) -> np.ndarray:
    return np.sqrt(lo * hi) if log else 0.5 * (lo + hi)


def minimize_scalar(
    fun: Callable[[np.ndarray], np.ndarray],
    lo,
    hi,
    *,
    log: bool = False,
    xtol: float = 1e-6,
    maxiter: int = 200,
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised golden-section search for a minimum on [lo, hi].

    Parameters
    ----------
    fun : callable
        ``fun(x)`` with x of shape (B,) returns values of shape (B,).
    lo, hi : array_like, shape (B,) or scalar
        Search intervals (positive when ``log=True``).
    log : bool
        Search in log(x).
    xtol : float
        Stop when the interval (in log(x) if ``log``) is narrower than ``xtol``
        (relative to the interval's scale otherwise).
    maxiter : int

    Returns
    -------
    x, fx : numpy.ndarray, shape (B,)
        The minimiser found and its value.  The function is assumed unimodal
        on the interval; otherwise a local minimum is returned.
    """
    a = np.array(lo, dtype=np.float64, ndmin=1)
    b = np.array(hi, dtype=np.float64, ndmin=1)
    a, b = (v.copy() for v in np.broadcast_arrays(a, b))
    if log:
        a, b = np.log(a), np.log(b)

    def f(u):
        return fun(np.exp(u) if log else u)

    c = b - _GOLDEN * (b - a)
    d = a + _GOLDEN * (b - a)
    fc, fd = f(c), f(d)
    tol = xtol if log else xtol * np.maximum(np.abs(a) + np.abs(b), 1e-300)
    for _ in range(maxiter):
        if np.all(b - a <= tol):
            break
        left = fc < fd  # minimum in [a, d]
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        c_new = np.where(left, b - _GOLDEN * (b - a), d)
        d_new = np.where(left, c, a + _GOLDEN * (b - a))
        probe = np.where(left, c_new, d_new)
        fp = f(probe)
        fc, fd = np.where(left, fp, fd), np.where(left, fc, fp)
        c, d = c_new, d_new
    x = np.where(fc < fd, c, d)
    fx = np.minimum(fc, fd)
    return (np.exp(x) if log else x), fx


@dataclass(frozen=True)
class FixedPointResult:
    """Result of :func:`fixed_point`: solution, residual history and iterations."""

    x: np.ndarray
    residual: float
    iterations: int
    history: np.ndarray


def fixed_point(
    update: Callable[[np.ndarray], np.ndarray],
    x0,
    *,
    damping: float = 0.5,
    anderson: int = 0,
    tol: float = 1e-10,
    maxiter: int = 1000,
    what: str = "fixed point",
) -> FixedPointResult:
    """Solve x = update(x) by damped (optionally Anderson-accelerated) iteration.

    Parameters
    ----------
    update : callable
        Map of arrays of the shape of ``x0`` to the same shape.
    x0 : array_like
        Starting point.
    damping : float in (0, 1]
        x <- (1 - damping) x + damping update(x) for plain iteration.
    anderson : int
        Memory of Anderson mixing (0 disables it).
    tol : float
        Stop when max|update(x) - x| <= tol * max(1, max|x|).
    maxiter : int
    what : str
        Description used in the error message.

    Returns
    -------
    FixedPointResult

    Raises
    ------
    SolverError
        If the residual is still above ``tol`` after ``maxiter`` iterations, or
        becomes non-finite.
    """
    if not 0 < damping <= 1:
        raise ValueError(f"damping must be in (0, 1], got {damping}")
    x = np.array(x0, dtype=np.float64)
    shape = x.shape
    xs: list[np.ndarray] = []
    gs: list[np.ndarray] = []
    hist = []
    res = np.inf
    for it in range(1, maxiter + 1):
        gx = np.asarray(update(x.reshape(shape)), dtype=np.float64).ravel()
        r = gx - x.ravel()
        res = float(np.max(np.abs(r))) if r.size else 0.0
        hist.append(res)
        if not np.isfinite(res):
            raise SolverError(what + " (non-finite iterate)", residual=res, iterations=it)
        if res <= tol * max(1.0, float(np.max(np.abs(x))) if x.size else 1.0):
            return FixedPointResult(gx.reshape(shape), res, it, np.array(hist))
        if anderson > 0:
            xs.append(x.ravel().copy())
            gs.append(gx.copy())
            xs, gs = xs[-(anderson + 1) :], gs[-(anderson + 1) :]
            if len(xs) > 1:
                R = np.stack([g - xx for g, xx in zip(gs, xs, strict=True)], axis=1)
                dR = np.diff(R, axis=1)
                dG = np.diff(np.stack(gs, axis=1), axis=1)
                dX = np.diff(np.stack(xs, axis=1), axis=1)
                gamma, *_ = np.linalg.lstsq(dR, R[:, -1], rcond=None)
                # type-II Anderson mixing with relaxation `damping`
                x_new = (1 - damping) * (xs[-1] - dX @ gamma) + damping * (gs[-1] - dG @ gamma)
            else:
                x_new = (1 - damping) * x.ravel() + damping * gx
        else:
            x_new = (1 - damping) * x.ravel() + damping * gx
        x = x_new.reshape(shape)
    raise SolverError(what, residual=res, iterations=maxiter)


def integrate_ode(
    rhs: Callable[[float, np.ndarray], np.ndarray],
    y0,
    t_eval,
    *,
    method: str = "RK45",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    what: str = "ODE",
) -> np.ndarray:
    """Integrate dy/dt = rhs(t, y) and return y at ``t_eval``.

    Parameters
    ----------
    rhs : callable
        ``rhs(t, y)`` -> dy/dt, y of shape (n,).
    y0 : array_like, shape (n,)
    t_eval : array_like, shape (T,)
        Increasing output times; integration starts at ``t_eval[0]``.
    method, rtol, atol
        Passed to :func:`scipy.integrate.solve_ivp`.

    Returns
    -------
    numpy.ndarray, shape (T, n)

    Raises
    ------
    SolverError
        If the integrator fails or the solution becomes non-finite.
    """
    from scipy.integrate import solve_ivp

    t_eval = np.asarray(t_eval, dtype=np.float64)
    y0 = np.asarray(y0, dtype=np.float64)
    sol = solve_ivp(
        rhs, (t_eval[0], t_eval[-1]), y0, t_eval=t_eval, method=method, rtol=rtol, atol=atol
    )
    if not sol.success or sol.y.shape[1] != t_eval.size or not np.all(np.isfinite(sol.y)):
        last = sol.y[:, -1] if sol.y.size else y0
        raise SolverError(f"{what}: {sol.message}", residual=float(np.max(np.abs(last))))
    return sol.y.T
