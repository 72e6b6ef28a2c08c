"""Test-only reference: the theory solvers as they were before issue 13 (verbatim).

The pre-optimisation ``core.solvers.find_root`` (full-batch iteration),
``core.deteq`` (unfused spectral sums, root solves and path continuation),
``rf_ensembles.theory.ensemble_terms`` / ``ensemble_error`` and
``sgd_linear.theory.online_rf_curve`` are copied unchanged (only their imports
point here), so that tests and benchmarks compare the optimised code with the
old one live, at random points.  Do not optimise this module.
"""

# ruff: noqa

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from theorylab.core.errors import ConfigError, SolverError, check_array, check_int, check_scalar
from theorylab.core.solvers import RootResult
from theorylab.studies.rf_ensembles.theory import EnsembleTerms

CHUNK_ELEMENTS = 131_072  # 1 MiB float64 temporaries stay in cache
_COUNT_NAMES = {"n1": "P", "n2": "N"}  # core's names for the two counts


def find_root(
    fun: Callable[[np.ndarray], np.ndarray],
    lo,
    hi,
    *,
    fprime: Callable[[np.ndarray], np.ndarray] | bool | None = None,
    x0=None,
    log: bool = False,
    xtol: float = 1e-13,
    maxiter: int = 200,
    what: str = "root",
    raise_on_failure: bool = True,
) -> RootResult:
    """Solve f(x) = 0 for a batch of bracketed scalar equations.

    Each element i is solved on its own bracket [lo_i, hi_i] where f changes
    sign.  A Newton step (if ``fprime`` is given) is taken whenever it stays
    strictly inside the current bracket; otherwise the bracket is bisected
    (geometrically when ``log=True``).  The bracket always shrinks, so the
    method cannot diverge; with a derivative it converges quadratically.

    Parameters
    ----------
    fun : callable
        ``fun(x)`` with x of shape (B,) returns f of shape (B,).
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

    Returns
    -------
    RootResult
    """
    lo = np.array(lo, dtype=np.float64, ndmin=1)
    hi = np.array(hi, dtype=np.float64, ndmin=1)
    lo, hi = np.broadcast_arrays(lo, hi)
    lo, hi = lo.copy(), hi.copy()
    if log and (np.any(lo <= 0) or np.any(hi <= 0)):
        raise ValueError("log=True needs a positive bracket")
    joint = fprime is True

    def value(x):
        return fun(x)[0] if joint else fun(x)

    def value_and_slope(x):
        if joint:
            return fun(x)
        return fun(x), (fprime(x) if fprime is not None else None)

    f_lo = value(lo)
    f_hi = value(hi)
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
        x0 = np.broadcast_to(np.asarray(x0, dtype=np.float64), lo.shape)
        start = np.where(np.isfinite(x0) & (x0 > lo) & (x0 < hi), x0, start)
    x = np.where(f_lo == 0, lo, np.where(f_hi == 0, hi, start))
    fx, dx = value_and_slope(x)
    prev_step = np.full(x.shape, np.inf)  # last step in the working variable (log x if log)
    tiny_x = np.finfo(float).tiny
    it = 0
    while it < maxiter:
        active = ~done
        if not active.any():
            break
        it += 1
        pos = s * fx > 0
        hi = np.where(active & pos, x, hi)
        lo = np.where(active & ~pos, x, lo)
        cand = _mid(lo, hi, log)
        if dx is not None:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                if log:
                    newton = x * np.exp(np.clip(-fx / (x * dx), -50.0, 50.0))
                else:
                    newton = x - fx / dx
                nstep = np.abs(np.log(newton / x)) if log else np.abs(newton - x)
            # Newton is taken inside the (closed) bracket when it at least halves the
            # previous step (the rtsafe safeguard); a negligible step means convergence
            tiny = np.abs(newton - x) <= xtol * np.maximum(np.abs(x), tiny_x)
            ok = np.isfinite(newton) & (newton >= lo) & (newton <= hi)
            ok &= (nstep <= 0.5 * prev_step) | tiny
            cand = np.where(ok, newton, cand)
        with np.errstate(divide="ignore", invalid="ignore"):
            wstep = np.abs(np.log(cand / x)) if log else np.abs(cand - x)
        prev_step = np.where(active, wstep, prev_step)
        step = np.abs(cand - x)
        width = hi - lo
        scale = np.maximum(np.abs(x), tiny_x)
        x_new = np.where(active, cand, x)
        f_new, d_new = value_and_slope(x_new)
        fx = np.where(active, f_new, fx)
        if dx is not None:
            dx = np.where(active, d_new, dx)
        converged = (step <= xtol * scale) | (width <= xtol * scale) | (fx == 0)
        done = done | (active & converged)
        x = x_new
    residual = np.abs(fx)
    if raise_on_failure and not done.all():
        raise SolverError(what, residual=float(np.max(residual[~done])), iterations=it)
    return RootResult(x=x, residual=residual, iterations=it, converged=done)


def _mid(lo: np.ndarray, hi: np.ndarray, log: bool) -> np.ndarray:
    return np.sqrt(lo * hi) if log else 0.5 * (lo + hi)


def check_spectrum(eigs, target_power=None):
    """Validate eigenvalues (positive, finite, 1-D) and optional target powers."""
    eigs = check_array("eigs", eigs, positive=True, ndim=1)
    if eigs.size == 0:
        raise ConfigError("eigs", eigs, "needs at least one eigenvalue")
    if target_power is None:
        return eigs, None
    power = check_array("target_power", target_power, nonnegative=True, ndim=1)
    if power.shape != eigs.shape:
        raise ConfigError("target_power", power.shape, f"must have the shape of eigs {eigs.shape}")
    return eigs, power


def check_count(name: str, value) -> np.ndarray:
    """Validate a positive count (samples, features); ``np.inf`` allowed."""
    arr = check_array(name, value, finite=False)
    if np.any(arr <= 0):
        raise ConfigError(name, value, "must be > 0 (np.inf allowed)")
    return arr


def inv(x: np.ndarray) -> np.ndarray:
    """1/x with 1/inf = 0."""
    with np.errstate(divide="ignore"):
        return np.where(np.isinf(x), 0.0, 1.0 / x)


def spectral_sums(eigs: np.ndarray, power: np.ndarray | None, kappa, which: str) -> dict:
    """Spectral sums at each kappa, chunked over kappa to bound memory.

    Parameters
    ----------
    eigs : numpy.ndarray, shape (D,)
    power : numpy.ndarray, shape (D,), or None
        Target powers p_k (needed for ``T`` and ``S``).
    kappa : array_like, shape (B,)
        Real or complex renormalised ridges.
    which : str
        Letters among ``"1"``: df1 = sum l/(l+k); ``"d"``: d df1/dk =
        -sum l/(l+k)^2; ``"2"``: df2 = sum l^2/(l+k)^2; ``"T"``: T1 = sum p/(l+k);
        ``"S"``: T2 = sum p/(l+k)^2; ``"R"``: tr R = sum 1/(l+k).

    Returns
    -------
    dict of str to numpy.ndarray, shape (B,)
    """
    kappa = np.asarray(kappa).ravel()
    dtype = np.complex128 if np.iscomplexobj(kappa) else np.float64
    kappa = kappa.astype(dtype)
    out = {w: np.empty(kappa.size, dtype=dtype) for w in which}
    step = max(1, CHUNK_ELEMENTS // eigs.size)
    lam = eigs[None, :]
    for start in range(0, kappa.size, step):
        k = kappa[start : start + step, None]
        r = 1.0 / (lam + k)
        sl = slice(start, start + step)
        if "R" in which:
            out["R"][sl] = r.sum(axis=1)
        if "1" in which or "d" in which or "2" in which:
            q = lam * r
            if "1" in which:
                out["1"][sl] = q.sum(axis=1)
            if "d" in which:
                out["d"][sl] = -(q * r).sum(axis=1)
            if "2" in which:
                out["2"][sl] = (q * q).sum(axis=1)
        if "T" in which or "S" in which:
            pr = power[None, :] * r
            if "T" in which:
                out["T"][sl] = pr.sum(axis=1)
            if "S" in which:
                out["S"][sl] = (pr * r).sum(axis=1)
    return out


def ridgeless_kappa(eigs, n) -> np.ndarray:
    """kappa_0 solving df1(kappa_0) = n, or 0 when n >= D.

    The renormalised ridge of ridgeless regression with n = min(N, P)
    (the interpolation constraint; docs/rf_ensembles.md and docs/sgd_linear.md).

    Parameters
    ----------
    eigs : array_like, shape (D,)
    n : array_like, any shape
        Positive counts (np.inf allowed).

    Returns
    -------
    numpy.ndarray, shape of ``n``
    """
    eigs, _ = check_spectrum(eigs)
    n = check_count("n", n)
    shape = n.shape
    n = n.ravel()
    D = eigs.size
    kappa0 = np.zeros_like(n)
    need = n < D
    if need.any():
        # one solve per distinct count (sweeps over ridge share min(N, P))
        m, inverse = np.unique(n[need], return_inverse=True)
        lo = eigs.min() * (D - m) / (2.0 * D)  # df1(lo) > m (docs/rf_ensembles.md)
        hi = eigs.sum() / m  # df1(hi) <= sum(eigs)/hi = m

        def f(k):
            out = spectral_sums(eigs, None, k, "1d")
            return out["1"] - m, out["d"]

        roots = find_root(f, lo, hi, fprime=True, log=True, what="ridgeless kappa").x
        kappa0[need] = roots[inverse.ravel()]
    return kappa0.reshape(shape)


def renormalized_ridge(eigs, ridge, n1, n2=np.inf) -> np.ndarray:
    """Real renormalised ridge: kappa (1 - df1/n1)(1 - df1/n2) = ridge, kappa >= kappa_0.

    ``n2 = inf`` gives the one-point equivalent of a sample covariance of n1
    samples; two finite counts give random features (N features, P samples).

    Parameters
    ----------
    eigs : array_like, shape (D,)
    ridge : array_like
        Per-sample ridge >= 0.
    n1, n2 : array_like
        Counts (> 0, np.inf allowed); broadcast with ``ridge``.

    Returns
    -------
    numpy.ndarray
        kappa with the broadcast shape.

    Raises
    ------
    SolverError
        If the root finder does not converge.
    """
    eigs, _ = check_spectrum(eigs)
    n1 = check_count("n1", n1)
    n2 = check_count("n2", n2)
    ridge = check_array("ridge", ridge, nonnegative=True)
    n1, n2, ridge = np.broadcast_arrays(n1, n2, ridge)
    shape = n1.shape
    n1, n2, ridge = n1.ravel(), n2.ravel(), ridge.ravel()
    kappa0 = ridgeless_kappa(eigs, np.minimum(n1, n2))
    kappa = kappa0.copy()
    i1, i2 = inv(n1), inv(n2)
    free = (i1 == 0) & (i2 == 0)  # both infinite: no renormalisation
    kappa[free] = ridge[free]
    need = (ridge > 0) & ~free
    if need.any():
        kappa[need] = _solve_kappa(eigs, ridge[need], i1[need], i2[need], kappa0[need])
    return kappa.reshape(shape)


def _solve_kappa(eigs, ridge, iP, iN, kappa0):
    """Root of g(k) = k (1 - df1/P)(1 - df1/N) - ridge on [max(kappa0, ridge), hi] (flat arrays)."""

    def g(k, sub=slice(None), slope=False):
        f = spectral_sums(eigs, None, k, "1d" if slope else "1")
        a, ip, in_ = f["1"], iP[sub], iN[sub]
        val = k * (1 - a * ip) * (1 - a * in_) - ridge[sub]
        if not slope:
            return val
        da = f["d"]
        return val, (1 - a * ip) * (1 - a * in_) - k * da * (
            ip * (1 - a * in_) + in_ * (1 - a * ip)
        )

    # g increases on [kappa0, inf); g(max(kappa0, ridge)) <= 0 because both factors
    # lie in [0, 1] there, and g(hi) >= 0 because df1(k) <= sum(eigs)/k (see docs).
    lo = np.maximum(kappa0, ridge)
    hi = ridge + eigs.sum() * (iP + iN) + kappa0
    sol = lo.copy()
    # rounding can make g(lo) >= 0 for a tiny ridge: the root is then lo itself
    sub = g(lo) < 0
    if sub.any():
        # linearised guess kappa_0 + ridge / g'(kappa_0) starts Newton next to the root
        with np.errstate(divide="ignore"):
            guess = kappa0[sub] + ridge[sub] / g(kappa0[sub], sub, slope=True)[1]
        sol[sub] = find_root(
            lambda k: g(k, sub, slope=True),
            lo[sub],
            hi[sub],
            fprime=True,
            x0=guess,
            log=True,
            what="renormalised ridge kappa",
        ).x
    return sol


def support_edge(eigs, n: float) -> float:
    """Upper edge of the deterministic-equivalent spectrum of a sample covariance.

    On the real axis beyond the spectrum, lambda(kappa) = kappa (1 - df1(kappa)/n)
    is monotone for kappa < kappa*, where kappa* < -max(eigs) solves
    df2(kappa*) = n (d lambda / d kappa = 1 - df2/n vanishes there); the edge is
    x+ = -lambda(kappa*).  It lies below the Gordon bound
    (sqrt(max(eigs)) + sqrt(sum(eigs)/n))^2.

    Parameters
    ----------
    eigs : array_like, shape (D,)
    n : float
        Number of samples (> 0; inf gives max(eigs)).

    Returns
    -------
    float
    """
    eigs, _ = check_spectrum(eigs)
    if not n > 0:
        raise ConfigError("n", n, "must be > 0")
    top = float(eigs.max())
    if np.isinf(n):
        return top

    def f(s):  # s = -kappa - top > 0; df2 decreases in s
        k = -top - s
        return spectral_sums(eigs, None, k, "2")["2"] - n

    hi = np.sqrt(np.sum(eigs**2) / n) * 10 + top
    s = find_root(f, np.array([1e-300 + top * 1e-14]), np.array([hi]), log=True, what="edge").x[0]
    k = -top - s
    d1 = spectral_sums(eigs, None, np.array([k]), "1")["1"][0]
    return float(-(k * (1 - d1 / n)))


def kappa_on_path(
    eigs, lam, n: float, *, tol: float = 1e-12, max_halvings: int = 30, stride: int = 8
) -> np.ndarray:
    """Complex renormalised ridge kappa(lambda) along an ordered path of lambdas.

    Solves kappa (1 - df1(kappa)/n) = lambda by Newton's method
    (g'(kappa) = 1 - df2(kappa)/n).  Every ``stride``-th point is reached by
    continuation from the previous one (halving the step where Newton does not
    converge); the points in between are then solved together, vectorised,
    from the interpolated continuation values, and any that fail are
    continued individually.  The path must start at a real lambda > 0 (where
    the physical root is the real one above kappa_0) or at a real lambda left
    of the spectrum, and stay off the spectrum's support (lambda not in
    [-edge, 0]).

    Parameters
    ----------
    eigs : array_like, shape (D,)
    lam : array_like of complex, shape (m,)
        The path.
    n : float
        Samples of the sample covariance.
    tol : float
        Relative residual required at every point.
    stride : int
        Spacing of the points solved by sequential continuation.

    Returns
    -------
    numpy.ndarray of complex, shape (m,)

    Raises
    ------
    SolverError
        If a point cannot be reached, or the result leaves the physical
        branch (Im kappa must have the sign of Im lambda).
    """
    eigs, _ = check_spectrum(eigs)
    lam = np.asarray(lam, dtype=np.complex128).ravel()
    out = np.empty_like(lam)

    def newton(target: complex, guess: complex) -> tuple[complex, bool]:
        k = guess
        scale = max(abs(target), 1e-300)
        for _ in range(40):
            r = 1.0 / (eigs + k)
            q = eigs * r
            g = k * (1.0 - q.sum() / n) - target
            if abs(g) <= tol * scale:
                return k, True
            dg = 1.0 - (q * q).sum() / n
            if dg == 0:
                return k, False
            k = k - g / dg
            if not np.isfinite(k):
                return k, False
        return k, False

    def walk(prev_lam: complex, k: complex, target: complex) -> complex:
        k_new, ok = newton(target, k)
        if ok:
            return k_new
        steps = 2
        while steps <= 2**max_halvings:
            cur_k, ok = k, True
            for j in range(1, steps + 1):
                cur_k, ok = newton(prev_lam + (target - prev_lam) * j / steps, cur_k)
                if not ok:
                    break
            if ok:
                return cur_k
            steps *= 2
        raise SolverError(f"kappa along the path at lambda={target:.4g}", residual=np.inf)

    start = lam[0]
    if abs(start.imag) > 0:
        raise ConfigError("lam", start, "the path must start on the real axis")
    if start.real > 0:
        k = complex(renormalized_ridge(eigs, start.real, n)[()])
    else:
        k, ok = newton(start, start.real + eigs.sum() / n)  # far field: kappa ~ lambda + tr/n
        if not ok:
            raise SolverError("kappa at the start of the path", residual=np.inf)
    # sequential continuation through every stride-th point (and the last)
    coarse = np.unique(np.concatenate([np.arange(0, lam.size, max(1, stride)), [lam.size - 1]]))
    out[0] = k
    for a, b in itertools.pairwise(coarse):
        out[b] = walk(lam[a], out[a], lam[b])
    # the points in between: vectorised Newton from interpolated guesses
    fine = np.setdiff1d(np.arange(lam.size), coarse)
    if fine.size:
        pos = np.searchsorted(coarse, fine)
        left, right = coarse[pos - 1], coarse[pos]
        w = (fine - left) / (right - left)
        k = (1 - w) * out[left] + w * out[right]
        target = lam[fine]
        done = np.zeros(fine.size, dtype=bool)
        for _ in range(12):
            act = np.flatnonzero(~done)
            if act.size == 0:
                break
            f = spectral_sums(eigs, None, k[act], "12")
            g = k[act] * (1.0 - f["1"] / n) - target[act]
            ok = np.abs(g) <= tol * np.maximum(np.abs(target[act]), 1e-300)
            done[act[ok]] = True
            step = g / (1.0 - f["2"] / n)
            k[act[~ok]] -= step[~ok]
            k[~np.isfinite(k)] = 0.0
        out[fine] = k
        for i in fine[~done]:  # rare: continue from the previous point
            out[i] = walk(lam[i - 1], out[i - 1], lam[i])
    bad = (np.abs(lam.imag) > 1e-9 * np.abs(lam)) & (np.sign(out.imag) != np.sign(lam.imag))
    if bad.any():
        i = int(np.argmax(bad))
        raise SolverError(
            f"kappa left the physical branch at lambda={lam[i]:.4g} (kappa={out[i]:.4g})",
            residual=float(abs(out[i].imag)),
        )
    return out


def rf_errors_at_kappa(eigs, power, kappa, P, N, K, noise):
    """Test errors of random-feature ridge ensembles at a given renormalised ridge.

    The deterministic equivalents of Ruben, Tong, Chaudhry and Pehlevan
    (arXiv 2412.05418, the ensemble error of their Section 3; derivation in
    ``docs/rf_ensembles.md``)::

        E_inf = (kappa^2 T2 + noise) / (1 - df2/P)
        rho   = (N - df1)/(N - df2),  gamma1 = (df1 - rho (df1 - df2))/P
        E_1   = (rho kappa^2 T2 + (1 - rho) kappa T1 + noise) / (1 - gamma1)
        E_K   = E_inf + (E_1 - E_inf)/K

    Parameters
    ----------
    eigs, power : numpy.ndarray, shape (D,)
        Kernel eigenvalues and the target's power per mode (validated by the caller).
    kappa, P, N, K, noise : numpy.ndarray, shape (n,)
        Flat arrays of equal length; P and N may be inf.

    Returns
    -------
    (E_K, E_inf, E_1 - E_inf) : tuple of numpy.ndarray, shape (n,)
        ``inf`` where the theory diverges.
    """
    f = spectral_sums(eigs, power, kappa, "12TS")
    df1, df2, T1, T2 = f["1"], f["2"], f["T"], f["S"]
    iP, iN = inv(P), inv(N)
    with np.errstate(divide="ignore", invalid="ignore"):
        e_inf = (kappa**2 * T2 + noise) / (1.0 - df2 * iP)
        rho = (1.0 - df1 * iN) / (1.0 - df2 * iN)  # (N - df1)/(N - df2)
        rho = np.where(iN == 0, 1.0, rho)
        gamma1 = (df1 - rho * (df1 - df2)) * iP
        e1 = (rho * kappa**2 * T2 + (1.0 - rho) * kappa * T1 + noise) / (1.0 - gamma1)
    e1 = np.where(np.isfinite(e1) & (e1 >= 0), e1, np.inf)
    e_inf = np.where(np.isfinite(e_inf) & (e_inf >= 0), e_inf, np.inf)
    with np.errstate(invalid="ignore"):
        var = e1 - e_inf
        err = e_inf + var / K
    var = np.where(np.isinf(e1), np.inf, var)
    err = np.where(np.isinf(e1) | np.isinf(e_inf), np.inf, err)
    return err, e_inf, var


def rf_error(eigs, target_power, P, N, ridge, noise=0.0) -> np.ndarray:
    """Expected test MSE of one random-feature ridge model (deterministic equivalent).

    E_1 of :func:`rf_errors_at_kappa` at the kappa of
    kappa (1 - df1/P)(1 - df1/N) = ridge (Ruben et al., arXiv 2412.05418);
    ``P = inf, ridge = 0`` is the random-feature approximation floor.

    Parameters
    ----------
    eigs, target_power : array_like, shape (D,)
    P, N, ridge, noise : array_like
        Broadcast together; P, N > 0 (inf allowed), per-sample ridge >= 0,
        label-noise variance >= 0.

    Returns
    -------
    numpy.ndarray
        E_1 with the broadcast shape.
    """
    eigs, power = check_spectrum(eigs, target_power)
    noise = check_array("noise", noise, nonnegative=True)
    P, N, ridge, noise = np.broadcast_arrays(
        check_count("P", P),
        check_count("N", N),
        check_array("ridge", ridge, nonnegative=True),
        noise,
    )
    kappa = renormalized_ridge(eigs, ridge, P, N).ravel()
    _, e_inf, var = rf_errors_at_kappa(
        eigs, power, kappa, P.ravel(), N.ravel(), np.ones(kappa.size), noise.ravel()
    )
    return (e_inf + var).reshape(P.shape)


def effective_ridge(eigs, P, N, ridge) -> np.ndarray:
    """Renormalised ridge kappa of a random-feature ridge model.

    Solves kappa (1 - df1(kappa)/P)(1 - df1(kappa)/N) = ridge for the root with
    kappa >= kappa_0, where df1(kappa_0) = min(N, P) (kappa_0 = 0 when
    min(N, P) >= D) (docs/rf_ensembles.md, section Theory, "Renormalised
    ridge").  With N = inf this is kernel ridge regression's
    kappa (1 - df1/P) = ridge; with P = inf, the infinite-data limit.  The
    arguments are validated once, by :func:`theorylab.core.deteq.renormalized_ridge`.

    Parameters
    ----------
    eigs : array_like, shape (D,)
        Kernel eigenvalues, > 0.
    P, N : array_like, any shape
        Samples and features per member (> 0, np.inf allowed); broadcast
        against each other and ``ridge``.
    ridge : array_like, any shape
        Per-sample ridge lambda-tilde >= 0.

    Returns
    -------
    numpy.ndarray, shape broadcast(P, N, ridge)
        kappa.

    Raises
    ------
    ConfigError
        Naming the bad argument (``eigs``, ``P``, ``N`` or ``ridge``).
    SolverError
        If the root finder does not converge (it reports the residual).
    """
    try:
        return renormalized_ridge(eigs, ridge, P, N)
    except ConfigError as exc:
        if exc.field not in _COUNT_NAMES:
            raise
        raise ConfigError(_COUNT_NAMES[exc.field], exc.value, exc.allowed) from None


def _check_power(target_power, eigs: np.ndarray) -> np.ndarray:
    """Validated target powers (>= 0, the shape of the already-validated ``eigs``)."""
    power = check_array("target_power", target_power, nonnegative=True, ndim=1)
    if power.shape != eigs.shape:
        raise ConfigError("target_power", power.shape, f"must have the shape of eigs {eigs.shape}")
    return power


def _check_size(K) -> np.ndarray:
    """Validated ensemble sizes K >= 1 (fractional allowed)."""
    K = check_array("K", K)
    if np.any(K < 1):
        raise ConfigError("K", K, "must be >= 1")
    return K


def ensemble_terms(eigs, target_power, P, N, K, ridge, noise=0.0) -> EnsembleTerms:
    """Test error of a random-feature ridge ensemble with its bias/variance split.

    Implements the errors of docs/rf_ensembles.md, section Theory, "Errors"
    (the paper's deterministic equivalents, computed by
    :func:`theorylab.core.deteq.rf_errors_at_kappa` at the kappa of
    :func:`effective_ridge`)::

        E_inf = (kappa^2 T2 + noise) / (1 - df2/P)
        rho   = (N - df1)/(N - df2),  gamma1 = (df1 - rho (df1 - df2))/P
        E_1   = (rho kappa^2 T2 + (1 - rho) kappa T1 + noise) / (1 - gamma1)
        E_K   = E_inf + (E_1 - E_inf)/K

    Parameters
    ----------
    eigs : array_like, shape (D,)
        Kernel eigenvalues, > 0.
    target_power : array_like, shape (D,)
        wbar_k^2 lambda_k, >= 0.
    P, N, K, ridge : array_like, any shape
        Broadcast together; P, N > 0 and may be np.inf; K >= 1 (may be
        fractional); per-sample ridge >= 0.
    noise : array_like, any shape
        Variance of the label noise on test labels (sigma_eps^2 >= 0).

    Returns
    -------
    EnsembleTerms
        Arrays of shape broadcast(P, N, K, ridge, noise).  Points where the
        theory diverges (N = P, ridgeless) give ``inf``.

    Raises
    ------
    ConfigError
        Naming the bad argument.
    """
    kappa = effective_ridge(eigs, P, N, ridge)  # validates eigs, P, N and ridge
    eigs = np.asarray(eigs, dtype=float)
    power = _check_power(target_power, eigs)
    K = _check_size(K)
    noise = check_array("noise", noise, nonnegative=True)
    kappa, P, N, K, noise = np.broadcast_arrays(
        kappa, np.asarray(P, float), np.asarray(N, float), K, noise
    )
    shape = kappa.shape
    err, bias, var = rf_errors_at_kappa(
        eigs, power, kappa.ravel(), P.ravel(), N.ravel(), K.ravel(), noise.ravel()
    )
    return EnsembleTerms(
        error=err.reshape(shape),
        bias=bias.reshape(shape),
        variance=var.reshape(shape),
        kappa=np.array(kappa),
    )


def ensemble_error(eigs, target_power, P, N, K, ridge, noise=0.0) -> np.ndarray:
    """Expected test MSE E_K of a K-member random-feature ridge ensemble.

    E_K of docs/rf_ensembles.md, section Theory, "Errors"; see
    :func:`ensemble_terms` for the formulas.

    Parameters
    ----------
    eigs, target_power : array_like, shape (D,)
        Kernel eigenvalues (> 0) and the target's power per mode (>= 0).
    P, N, K, ridge : array_like, any shape
        Broadcast together; P, N > 0 (np.inf allowed), K >= 1, per-sample
        ridge lambda-tilde >= 0.
    noise : array_like, any shape
        Test-label noise variance, included in the error.

    Returns
    -------
    numpy.ndarray, shape broadcast(P, N, K, ridge, noise)
        E_K (``inf`` where the theory diverges).
    """
    return ensemble_terms(eigs, target_power, P, N, K, ridge, noise).error


def _check_steps(lr, steps) -> None:
    check_scalar("lr", lr, "must be a finite number > 0", lambda x: x > 0)
    check_int("steps", steps, 0)


def _check_noise(noise) -> None:
    check_scalar("noise", noise, "must be a finite number >= 0", lambda x: x >= 0)


def _quadratic_roots(u, lr, c2):
    """Roots x+- of u a(x) = 1 with a(x) = 1 - 2 lr x + c2 x^2 (docs section (B))."""
    disc = np.sqrt(lr**2 * u**2 - u * c2 * (u - 1.0) + 0j)
    return (lr * u + disc) / (u * c2), (lr * u - disc) / (u * c2)


def _continuous_pair(xp, xm):
    """Relabel root pairs so each branch moves continuously along the path."""
    xp, xm = xp.copy(), xm.copy()
    for j in range(1, xp.size):
        if abs(xp[j] - xp[j - 1]) + abs(xm[j] - xm[j - 1]) > abs(xp[j] - xm[j - 1]) + abs(
            xm[j] - xp[j - 1]
        ):
            xp[j], xm[j] = xm[j], xp[j]
    return xp, xm


def online_rf_curve(
    eigs,
    target_power,
    N,
    lr,
    batch,
    steps,
    noise=0.0,
    *,
    oversample: int = 4,
    decay: float = 18.0,
) -> np.ndarray:
    """Expected test loss of online SGD on N linear random features.

    docs/sgd_linear.md, section "(B) Online random features: generating
    function".  Model: features phi(x) = F x / sqrt(N), F with i.i.d. N(0, 1)
    entries, readout a trained by online SGD from a = 0; the loss is
    (beta - w*)^T Sigma (beta - w*) + sigma^2 with beta = F^T a / sqrt(N),
    averaged over F by the one-point deterministic equivalent of
    H = Sigma^(1/2) F^T F Sigma^(1/2) / N (a sample covariance of N "samples").

    Generating function L(u) = sum_t L_t u^t::

        L(u) = [F(u) + sigma^2/(1-u)] / [1 - (lr^2/B) u K(u)],
        F(u) = e0^T (1 - u a(H))^-1 e0,  K(u) = tr[H^2 (1 - u a(H))^-1],
        a(x) = 1 - 2 lr x + lr^2 (1 + 1/B) x^2,

    with (1 - u a(H))^-1 split into resolvents at the roots x+- of u a(x) = 1,
    e0^T (z - H)^-1 e0 ~ (kappa/z) sum_k p_k/(l_k + kappa),
    tr[H^2 (z - H)^-1] ~ -z df1(kappa) - tr Sigma, kappa (1 - df1(kappa)/N) = -z.
    L_t is recovered by an FFT of L on |u| = exp(-decay / (oversample T)).

    Parameters
    ----------
    eigs, target_power : array_like, shape (D,)
        Covariance eigenvalues and the target's power per mode.
    N : int
        Features.
    lr : float
        Learning rate; a(h) < 1 on the feature spectrum is required.
    batch : int
        Batch size B >= 1.
    steps : int
        Number of SGD steps T.
    noise : float
        Label-noise variance.
    oversample : int
        FFT length / steps.
    decay : float
        Radius exponent; aliasing is suppressed by exp(-decay).

    Returns
    -------
    numpy.ndarray, shape (steps + 1,)
        L_t for t = 0, ..., T.

    Raises
    ------
    ConfigError
        For bad arguments, or a learning rate beyond the stability edge.
    """
    eigs, power = check_spectrum(eigs, target_power)
    _check_steps(lr, steps)
    batch = check_int("batch", batch, 1)
    _check_noise(noise)
    N = check_int("N", N, 1)
    c2 = lr**2 * (1.0 + 1.0 / batch)
    # stability: a(h) < 1 on the support of H, i.e. its edge below 2 lr / c2
    edge = support_edge(eigs, float(N))
    if edge >= 2.0 * lr / c2:
        raise ConfigError(
            "lr",
            lr,
            f"beyond the stability edge: must be < {2.0 / (edge * (1 + 1 / batch)):.6g} "
            f"(edge of the feature spectrum {edge:.4g}, B={batch})",
        )
    T = int(steps) + 1
    n_u = int(oversample) * max(T, 16)
    rho = np.exp(-decay / n_u)
    # half circle u = rho e^{i phi}, phi in [0, pi]; the rest by conjugation
    half = n_u // 2
    phi = 2.0 * np.pi * np.arange(half + 1) / n_u
    u = rho * np.exp(1j * phi)
    xp, xm = _continuous_pair(*_quadratic_roots(u, lr, c2))

    def resolvents(x):
        # x: path of spectral points; lambda = -x starts real (x<0 small or x>edge)
        kap = kappa_on_path(eigs, -x, float(N))
        f = spectral_sums(eigs, power, kap, "1T")
        e = (kap / x) * f["T"]
        k = -x * f["1"] - eigs.sum()
        return e, k

    ep, kp = resolvents(xp)
    em, km = resolvents(xm)
    denom = u * c2 * (xp - xm)
    Fu = (ep - em) / denom
    Ku = (kp - km) / denom
    Lu = (Fu + noise / (1.0 - u)) / (1.0 - lr**2 / batch * u * Ku)
    full = np.concatenate([Lu, np.conj(Lu[1 : n_u - half][::-1])])
    coeffs = np.fft.fft(full).real / n_u  # sum_j L(u_j) e^{-2 pi i j t / n}
    return coeffs[:T] / rho ** np.arange(T)
