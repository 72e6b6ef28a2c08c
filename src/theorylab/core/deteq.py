"""Deterministic equivalents of sample-covariance resolvents (shared by studies).

For a sample covariance Sigma_hat of n Gaussian samples with population
covariance Sigma = diag(eigs), the one-point deterministic equivalent is

    lambda (Sigma_hat + lambda)^-1  ~  kappa (Sigma + kappa)^-1,
    kappa (1 - df1(kappa)/n) = lambda,        df1(kappa) = sum_k l_k/(l_k + kappa),

and for a product of two independent factors (random features: N features,
P samples) the S-transforms multiply:
kappa (1 - df1/P)(1 - df1/N) = lambda.  This module solves these equations for
real ridges (``renormalized_ridge``), along complex paths by continuation
(``kappa_on_path``, for contour integrals and generating functions), and gives
the upper edge of the deterministic-equivalent spectrum (``support_edge``).

Spectral sums (``spectral_sums``) accept complex kappa and are fused: one
pass forms 1/(l + kappa) for a cache-sized block of kappas (in real arithmetic
for complex kappa) and all requested sums of the block are one matrix product
with the stacked weights; repeated kappas are evaluated once.  The real root
solves iterate on the unconverged points only (``find_root(indexed=True)``);
``kappa_and_sums_on_path`` returns the path's kappas with the sums at them
from the solver's last evaluation (docs/rf_ensembles.md, section Speed, and
docs/sgd_linear.md, section Speed).
"""

from __future__ import annotations

import itertools

import numpy as np

from .errors import ConfigError, SolverError, check_array
from .solvers import find_root

CHUNK_ELEMENTS = 131_072  # 1 MiB float64 temporaries stay in cache


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


_FIRST = {  # weights w_k of the sums  sum_k w_k / (l_k + kappa)
    "R": lambda lam, p: np.ones_like(lam),
    "1": lambda lam, p: lam,
    "T": lambda lam, p: p,
}
_SECOND = {  # weights w_k of the sums  sum_k w_k / (l_k + kappa)^2
    "d": lambda lam, p: -lam,
    "2": lambda lam, p: lam * lam,
    "S": lambda lam, p: p,
}


def spectral_sums(eigs: np.ndarray, power: np.ndarray | None, kappa, which: str) -> dict:
    """Spectral sums at each kappa, fused and chunked over kappa to stay in cache.

    Every sum is sum_k w_k r_k or sum_k w_k r_k^2 with r_k = 1/(l_k + kappa):
    one pass forms r for a cache-sized block of kappas, and all the requested
    sums of that block are one matrix product with the stacked weights.
    Complex kappa = a + ib is done in real arithmetic,
    r = u - ib v with v = 1/|l + kappa|^2, u = (l + a) v, and
    r^2 = (u^2 - b^2 v^2) - 2ib uv.  Repeated kappas are evaluated once.

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
    cplx = np.iscomplexobj(kappa)
    dtype = np.complex128 if cplx else np.float64
    kappa = kappa.astype(dtype)
    first = [w for w in _FIRST if w in which]
    second = [w for w in _SECOND if w in which]
    uniq, back = kappa, None
    if kappa.size > 1:
        u, b = np.unique(kappa, return_inverse=True)
        if u.size < 0.9 * kappa.size:  # grid axes that do not change kappa
            uniq, back = u, b.ravel()
    n = uniq.size
    res1 = np.empty((n, len(first)), dtype)
    res2 = np.empty((n, len(second)), dtype)
    if n:
        _fused_sums(eigs, power, uniq, first, second, res1, res2)
    out = {}
    for w in which:
        col = res1[:, first.index(w)] if w in _FIRST else res2[:, second.index(w)]
        out[w] = col[back] if back is not None else col.copy()
    return out


def _fused_sums(eigs, power, kappa, first, second, res1, res2) -> None:
    """Fill res1 (n, len(first)) and res2 (n, len(second)) for kappa (n,), in place."""
    W1 = np.stack([_FIRST[w](eigs, power) for w in first], axis=1) if first else None
    W2 = np.stack([_SECOND[w](eigs, power) for w in second], axis=1) if second else None
    n, D = kappa.size, eigs.size
    cplx = np.iscomplexobj(kappa)
    step = max(1, (CHUNK_ELEMENTS // 2 if cplx else CHUNK_ELEMENTS) // D)
    m0 = min(step, n)
    if not cplx:
        r = np.empty((m0, D))
        for s in range(0, n, step):
            m = min(step, n - s)
            rb = r[:m]
            np.add(eigs, kappa[s : s + m, None], out=rb)
            np.reciprocal(rb, out=rb)
            if first:
                np.matmul(rb, W1, out=res1[s : s + m])
            if second:
                np.multiply(rb, rb, out=rb)
                np.matmul(rb, W2, out=res2[s : s + m])
        return
    # Re kappa >= 0: every l + a > 0, and the sums of w (l + a)^j v^i split into sums
    # of w l^j v^i without cancellation (one pass fewer per power); Re kappa < 0
    # (left of the spectrum) forms Re r = (l + a) v elementwise instead
    pos = np.flatnonzero(kappa.real >= 0)
    neg = np.flatnonzero(kappa.real < 0)
    if pos.size:
        _complex_sums_split(eigs, W1, W2, kappa[pos], step, res1, res2, pos)
    if neg.size:
        _complex_sums_direct(eigs, W1, W2, kappa[neg], step, res1, res2, neg)


def _complex_sums_split(eigs, W1, W2, kappa, step, res1, res2, rows) -> None:
    """Complex sums for Re kappa >= 0: v = 1/|l + kappa|^2, r = (l + a - ib) v."""
    n, D = kappa.size, eigs.size
    V1 = None if W1 is None else np.concatenate([W1 * eigs[:, None], W1], axis=1)
    V2 = None
    if W2 is not None:
        V2 = np.concatenate([W2 * (eigs**2)[:, None], W2 * eigs[:, None], W2], axis=1)
    buf = np.empty((2, min(step, n), D))
    for s in range(0, n, step):
        m = min(step, n - s)
        a, b = kappa.real[s : s + m, None], kappa.imag[s : s + m, None]
        c, v = buf[0, :m], buf[1, :m]
        np.add(eigs, a, out=c)
        np.multiply(c, c, out=v)
        v += b * b
        np.reciprocal(v, out=v)  # v = 1/|l + kappa|^2
        sl = rows[s : s + m]
        if W1 is not None:
            k1 = W1.shape[1]
            o = v @ V1  # sum w l v, sum w v
            res1[sl] = (o[:, :k1] + a * o[:, k1:]) - 1j * (b * o[:, k1:])
        if W2 is not None:
            k2 = W2.shape[1]
            np.multiply(v, v, out=c)  # v^2; r^2 = ((l + a)^2 - b^2 - 2ib (l + a)) v^2
            o = c @ V2  # sum w l^2 v^2, sum w l v^2, sum w v^2
            s2, s1, s0 = o[:, :k2], o[:, k2 : 2 * k2], o[:, 2 * k2 :]
            re = s2 + 2.0 * a * s1 + (a * a - b * b) * s0
            res2[sl] = re - 2j * (b * (s1 + a * s0))


def _complex_sums_direct(eigs, W1, W2, kappa, step, res1, res2, rows) -> None:
    """Complex sums for any kappa: r = u - ib v with u = (l + a) v formed elementwise."""
    n, D = kappa.size, eigs.size
    buf = np.empty((5, min(step, n), D))
    for s in range(0, n, step):
        m = min(step, n - s)
        a, b = kappa.real[s : s + m, None], kappa.imag[s : s + m, None]
        u, v = buf[0, :m], buf[1, :m]
        np.add(eigs, a, out=u)
        np.multiply(u, u, out=v)
        v += b * b
        np.reciprocal(v, out=v)  # v = 1/|l + kappa|^2
        u *= v  # u = (l + a) v = Re r
        sl = rows[s : s + m]
        if W1 is not None:
            res1[sl] = u @ W1 - 1j * (b * (v @ W1))
        if W2 is not None:
            u2, uv, v2 = buf[2, :m], buf[3, :m], buf[4, :m]
            np.multiply(u, u, out=u2)
            np.multiply(u, v, out=uv)
            np.multiply(v, v, out=v2)
            res2[sl] = (u2 @ W2 - (b * b) * (v2 @ W2)) - 2j * (b * (uv @ W2))


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
    if n1.size > 1:  # one solve per distinct (ridge, n1, n2): axes that do not change kappa
        rows, back = np.unique(np.stack([ridge, n1, n2], axis=1), axis=0, return_inverse=True)
        if len(rows) < 0.9 * n1.size:
            return renormalized_ridge(eigs, rows[:, 0], rows[:, 1], rows[:, 2])[
                back.ravel()
            ].reshape(shape)
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
    """Root of g(k) = k (1 - df1/P)(1 - df1/N) - ridge on [max(kappa0, ridge), hi] (flat arrays).

    Each iteration of the root finder evaluates the spectral sums on the
    unconverged points only (``find_root(indexed=True)``); g at the lower
    bracket end and the slope at kappa0 (few distinct values) are reused.
    """

    def g_of(k, a, ip, in_, r):
        return k * (1 - a * ip) * (1 - a * in_) - r

    def slope(k, a, da, ip, in_):
        return (1 - a * ip) * (1 - a * in_) - k * da * (ip * (1 - a * in_) + in_ * (1 - a * ip))

    def g(k, idx):
        f = spectral_sums(eigs, None, k, "1d")
        a, ip, in_ = f["1"], iP[idx], iN[idx]
        return g_of(k, a, ip, in_, ridge[idx]), slope(k, a, f["d"], ip, in_)

    # g increases on [kappa0, inf); g(max(kappa0, ridge)) <= 0 because both factors
    # lie in [0, 1] there, and g(hi) >= 0 because df1(k) <= sum(eigs)/k (see docs).
    lo = np.maximum(kappa0, ridge)
    hi = ridge + eigs.sum() * (iP + iN) + kappa0
    sol = lo.copy()
    # rounding can make g(lo) >= 0 for a tiny ridge: the root is then lo itself
    g_lo = g_of(lo, spectral_sums(eigs, None, lo, "1")["1"], iP, iN, ridge)
    sub = np.flatnonzero(g_lo < 0)
    if sub.size:
        # linearised guess kappa_0 + ridge / g'(kappa_0) starts Newton next to the root
        k0 = kappa0[sub]
        f0 = spectral_sums(eigs, None, k0, "1d")  # few distinct kappa0: evaluated once each
        with np.errstate(divide="ignore"):
            guess = k0 + ridge[sub] / slope(k0, f0["1"], f0["d"], iP[sub], iN[sub])
        g_hi = g_of(
            hi[sub], spectral_sums(eigs, None, hi[sub], "1")["1"], iP[sub], iN[sub], ridge[sub]
        )
        sol[sub] = find_root(
            lambda k, idx: g(k, sub[idx]),
            lo[sub],
            hi[sub],
            fprime=True,
            x0=guess,
            log=True,
            what="renormalised ridge kappa",
            indexed=True,
            f_lo=g_lo[sub],
            f_hi=g_hi,
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
    return _path(eigs, lam, n, tol, max_halvings, stride, None, "")[0]


def kappa_and_sums_on_path(
    eigs,
    power,
    lam,
    n: float,
    which: str,
    *,
    tol: float = 1e-12,
    max_halvings: int = 30,
    stride: int = 8,
) -> tuple[np.ndarray, dict]:
    """:func:`kappa_on_path` and the spectral sums ``which`` at the kappas found.

    The sums come from the solver's own last evaluation at each point (the
    residual check), so they cost almost nothing extra; they equal
    ``spectral_sums(eigs, power, kappa, which)`` (docs/sgd_linear.md, section
    "(B) Online random features: generating function").

    Parameters
    ----------
    eigs, power : array_like, shape (D,)
        Eigenvalues and target powers (``power`` may be None without T, S).
    lam : array_like of complex, shape (m,)
        The path (as for :func:`kappa_on_path`).
    n : float
        Samples of the sample covariance.
    which : str
        Letters of :func:`spectral_sums`.
    tol, max_halvings, stride
        As for :func:`kappa_on_path`.

    Returns
    -------
    kappa : numpy.ndarray of complex, shape (m,)
    sums : dict of str to numpy.ndarray of complex, shape (m,)
    """
    eigs, power = check_spectrum(eigs, power)
    return _path(eigs, lam, n, tol, max_halvings, stride, power, which)


def _path(eigs, lam, n, tol, max_halvings, stride, power, which):
    """kappa_on_path on validated eigs, with the sums ``which`` at the solutions."""
    lam = np.asarray(lam, dtype=np.complex128).ravel()
    out = np.empty_like(lam)

    slope = [None]  # g'(kappa) at the last point Newton converged to (a tangent predictor)

    def newton(target: complex, guess: complex) -> tuple[complex, bool]:
        k = guess
        scale = max(abs(target), 1e-300)
        for _ in range(40):
            r = 1.0 / (eigs + k)
            q = eigs * r
            g = k * (1.0 - q.sum() / n) - target
            if abs(g) <= tol * scale:
                slope[0] = 1.0 - (q * q).sum() / n
                return k, True
            dg = 1.0 - (q * q).sum() / n
            if dg == 0:
                return k, False
            k = k - g / dg
            if not np.isfinite(k):
                return k, False
        return k, False

    def walk(prev_lam: complex, k: complex, target: complex) -> complex:
        dg = slope[0]
        if dg is not None and dg != 0:
            # Euler predictor dkappa = dlambda / g'(kappa), then Newton
            k_new, ok = newton(target, k + (target - prev_lam) / dg)
            if ok and abs(k_new - k) <= 4.0 * abs((target - prev_lam) / dg) + tol * abs(k):
                return k_new
        slope[0] = None
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
    slopes = np.full(coarse.size, np.nan + 0j)  # g'(kappa) at the continuation points
    for j, (a, b) in enumerate(itertools.pairwise(coarse), start=1):
        out[b] = walk(lam[a], out[a], lam[b])
        if slope[0] is not None:
            slopes[j] = slope[0]
    # the points in between: vectorised Newton from interpolated guesses; the sums
    # `which` are kept from each point's last evaluation (its residual check)
    fine = np.setdiff1d(np.arange(lam.size), coarse)
    sums = {w: np.empty(lam.size, dtype=np.complex128) for w in which}
    need = np.ones(lam.size, dtype=bool)  # points whose sums are still to be computed
    first = "".join(w for w in which if w != "1")
    if fine.size:
        miss = ~np.isfinite(slopes) | (slopes == 0)
        if miss.any():
            slopes[miss] = 1.0 - spectral_sums(eigs, None, out[coarse[miss]], "2")["2"] / n
        pos = np.searchsorted(coarse, fine)
        left, right = coarse[pos - 1], coarse[pos]
        # cubic Hermite interpolation in lambda of the analytic kappa(lambda), with
        # dkappa/dlambda = 1/g'(kappa) at the continuation points; its derivative gives
        # the first Newton step's slope (a chord step: no df2 needed there)
        h = lam[right] - lam[left]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (lam[fine] - lam[left]) / h
            ka, kb = out[left], out[right]
            da, db = h / slopes[pos - 1], h / slopes[pos]
            t2, t3 = t * t, t * t * t
            k = (
                (2 * t3 - 3 * t2 + 1) * ka
                + (t3 - 2 * t2 + t) * da
                + (3 * t2 - 2 * t3) * kb
                + (t3 - t2) * db
            )
            dk = (
                (6 * t2 - 6 * t) * (ka - kb) + (3 * t2 - 4 * t + 1) * da + (3 * t2 - 2 * t) * db
            ) / h
            chord = 1.0 / dk
        linear = (1 - t) * ka + t * kb
        bad_guess = ~np.isfinite(k) | ~np.isfinite(chord) | (h == 0)
        k = np.where(bad_guess, linear, k)
        chord = np.where(bad_guess, np.nan, chord)
        target = lam[fine]
        done = np.zeros(fine.size, dtype=bool)
        for it in range(12):
            act = np.flatnonzero(~done)
            if act.size == 0:
                break
            # first pass: every point takes a chord step from its interpolated guess
            # (so that it lands far inside the tolerance, as a Newton step would);
            # later passes mostly confirm convergence (df2 only where another step is
            # needed) and keep the sums `which` of the points they accept
            f = spectral_sums(eigs, power, k[act], "1" if it == 0 else "1" + first)
            g = k[act] * (1.0 - f["1"] / n) - target[act]
            ok = np.abs(g) <= tol * np.maximum(np.abs(target[act]), 1e-300)
            if it == 0:
                ok[:] = False
            done[act[ok]] = True
            if it > 0:
                for key in which:
                    sums[key][fine[act[ok]]] = f[key][ok]
                need[fine[act[ok]]] = False
            bad = ~ok
            if not bad.any():
                continue
            idx = act[bad]
            if it == 0:
                dg = chord[idx]
                exact = ~np.isfinite(dg)
                if exact.any():
                    dg[exact] = 1.0 - spectral_sums(eigs, None, k[idx[exact]], "2")["2"] / n
            else:
                dg = 1.0 - spectral_sums(eigs, None, k[idx], "2")["2"] / n
            k[idx] -= g[bad] / dg
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
    if which and need.any():  # the continuation points (every stride-th) and any walked
        rest = np.flatnonzero(need)
        f = spectral_sums(eigs, power, out[rest], which)
        for key in which:
            sums[key][rest] = f[key]
    return out, sums


_ROUNDING = 1e-13  # relative rounding error of the spectral sums (D up to ~1e6)


def _denominator(den: np.ndarray) -> np.ndarray:
    """A denominator 1 - x, set to 0 (divergence) where it is below the sums' rounding error.

    At the interpolation threshold (ridgeless, N = P) 1 - gamma1 vanishes
    analytically; computed, it is 0 or a few ulps depending on the order of
    summation, and the error must come out ``inf`` either way.
    """
    return np.where(den <= _ROUNDING, 0.0, den)


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
        e_inf = (kappa**2 * T2 + noise) / _denominator(1.0 - df2 * iP)
        rho = (1.0 - df1 * iN) / (1.0 - df2 * iN)  # (N - df1)/(N - df2)
        rho = np.where(iN == 0, 1.0, rho)
        gamma1 = (df1 - rho * (df1 - df2)) * iP
        e1 = (rho * kappa**2 * T2 + (1.0 - rho) * kappa * T1 + noise) / _denominator(1.0 - gamma1)
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
