"""Fitting the precision-aware scaling laws to runs (docs/precision_scaling.md, "Fitters").

Three stages, each usable on its own:

* :func:`fit_scaling_law` -- Chinchilla constants (A, alpha, B, beta, E) of
  high-precision runs: Huber loss on log-loss residuals, log L = logsumexp(
  a - alpha log N, b - beta log D, e), multi-start L-BFGS-B from a
  grid of starting points, alpha = beta optional (tied by default, as the
  paper does).
* :func:`fit_precision` -- the sensitivities gamma_w, gamma_a, gamma_kv of
  quantized training (N_eff, Eq. 4) with the baseline frozen (or refitted
  jointly), same objective, gamma = exp(theta).
* :func:`fit_ptq` -- the post-train quantization law (Eq. 2) two ways:
  (a) weighted least squares on log delta over the points where delta is
  above ``n_se`` standard errors, (b) nonlinear least squares on delta itself
  (soft-L1 loss), which can use tiny and negative deltas.

Every fit returns a :class:`FitResult` with the parameters, R^2 (in loss or
delta space and in log space), the RMSE and bootstrap percentile confidence
intervals over points resampled with replacement (explicit ``seed``: an integer or a
NumPy generator).
:func:`paper_grid` generates noisy synthetic runs of the paper's shape for
tests and for the study's recovery checks.

The fits are thousands of tiny L-BFGS-B problems (a few parameters, tens of
points); each public fitter runs with the BLAS thread pools limited to one
thread (:func:`single_threaded_blas`), since a multithreaded BLAS only
oversubscribes the cores on problems that small (with OpenBLAS's default
threads the quick preset took 84-508 s on 2 shared cores instead of ~35 s).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize
from threadpoolctl import threadpool_limits

from theorylab.core.compare import r_squared
from theorylab.core.errors import ConfigError, SolverError, check_array

from . import theory as th

__all__ = [
    "FitResult",
    "fit_precision",
    "fit_ptq",
    "fit_scaling_law",
    "fit_size_law",
    "paper_grid",
    "single_threaded_blas",
]


def single_threaded_blas(fn):
    """Run ``fn`` with the BLAS/OpenMP thread pools limited to one thread.

    Nested calls keep the limit; the previous limits are restored on return.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1):
            return fn(*args, **kwargs)

    return wrapper


@dataclass(frozen=True)
class FitResult:
    """A fitted law.

    Attributes
    ----------
    params : dict of str to float
        Fitted constants (names as in :class:`theory.LawParams`).
    ci : dict of str to (float, float)
        Bootstrap percentile interval (``level``, default 95 %) per constant.
    r2 : float
        R^2 of the prediction in the fitted quantity's own space (loss, or
        delta for the PTQ law).
    r2_log : float
        R^2 in log space.
    rmse : float
        Root-mean-square residual in the fitted quantity's space.
    n : int
        Points used.
    method : str
        What was fitted and how.
    law : theory.LawParams
        The fitted constants merged into a parameter set usable with the
        calculator (the constants a stage does not fit come from its ``base``).
    boot : numpy.ndarray, shape (n_boot, k)
        Bootstrap replicates of the constants, in ``params`` order.
    """

    params: dict
    ci: dict
    r2: float
    r2_log: float
    rmse: float
    n: int
    method: str
    law: th.LawParams
    boot: np.ndarray = field(repr=False)

    def __getitem__(self, name: str) -> float:
        return self.params[name]


def _log(x: float) -> float:
    """log that maps 0 to a very negative number (a term that is absent)."""
    return float(np.log(max(float(x), 1e-300)))


def _huber(r: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    a = np.abs(r)
    val = np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))
    return val, np.clip(r, -delta, delta)


def _check_boot(n_boot, level) -> None:
    if not (isinstance(n_boot, int | np.integer) and n_boot >= 0):
        raise ConfigError("n_boot", n_boot, "an integer >= 0 (0: no intervals)")
    if not (isinstance(level, float | int | np.floating) and 0.0 < float(level) < 1.0):
        raise ConfigError("level", level, "a coverage strictly between 0 and 1 (e.g. 0.95)")


def _per_run(name: str, x, n: int, **kw) -> np.ndarray:
    """``x`` as float64 of shape (n,): one value per run, or a scalar broadcast to all."""
    arr = check_array(name, x, **kw)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.size not in (1, n)):
        raise ConfigError(
            name, f"array of shape {arr.shape}", f"need one value per run ({n}) or a scalar"
        )
    return np.broadcast_to(arr.reshape(-1) if arr.ndim else arr, (n,)).astype(float)


def _ci(boot: np.ndarray, names, level: float) -> dict:
    lo, hi = np.nanpercentile(boot, [50 * (1 - level), 50 * (1 + level)], axis=0)
    return {n: (float(a), float(b)) for n, a, b in zip(names, lo, hi, strict=True)}


def _minimize(fun, starts, bounds=None, jac=True, polish: int = 3):
    """Best L-BFGS-B minimum over ``starts``.

    Every start runs with SciPy's default tolerances; the ``polish`` best are
    then run again to tight tolerances (the Huber objective's gradients are
    O(huber_delta), far below the default gradient tolerance).
    """

    def run(x0, tight):
        opts = {"gtol": 1e-12, "ftol": 1e-15, "maxiter": 5000} if tight else {}
        try:
            return optimize.minimize(
                fun, np.asarray(x0, float), jac=jac, method="L-BFGS-B", bounds=bounds, options=opts
            )
        except (FloatingPointError, ValueError):  # pragma: no cover - defensive
            return None

    first = [r for r in (run(x, len(starts) == 1) for x in starts) if r is not None]
    first = [r for r in first if np.isfinite(r.fun)]
    if not first:
        raise SolverError("L-BFGS-B found no finite fit from any start", float("nan"))
    if len(starts) == 1:
        return first[0]
    first.sort(key=lambda r: r.fun)
    best = None
    for r0 in first[:polish]:
        r = run(r0.x, True)
        if r is not None and np.isfinite(r.fun) and (best is None or r.fun < best.fun):
            best = r
    return best if best is not None else first[0]


def _bootstrap(n: int, n_boot: int, seed, refit) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_boot):
        idx = rng.integers(0, n, size=n)
        try:
            out.append(refit(idx))
        except SolverError:
            continue
    return np.array(out) if out else np.empty((0, 0))


# ----------------------------------------------------------------------------
# stage 1: Chinchilla baseline


def _chinchilla_terms(theta, lnN, lnD, tied: bool, e_fixed):
    if tied:
        a, alpha, b = theta[:3]
        beta = alpha
        rest = theta[3:]
    else:
        a, alpha, b, beta = theta[:4]
        rest = theta[4:]
    e = e_fixed if e_fixed is not None else rest[0]
    t = np.stack([a - alpha * lnN, b - beta * lnD, np.full_like(lnN, e)])
    return t


def _loss_fit(params, names, boot, level, L, pred, method, law) -> FitResult:
    """FitResult of a fit to losses ``L`` (n,) with predictions ``pred`` (n,)."""
    return FitResult(
        params=params,
        ci=_ci(boot, names, level) if boot.size else {},
        r2=r_squared(L, pred),
        r2_log=r_squared(np.log(L), np.log(pred)),
        rmse=float(np.sqrt(np.mean((L - pred) ** 2))),
        n=int(L.size),
        method=method,
        law=law,
        boot=boot,
    )


@single_threaded_blas
def fit_scaling_law(
    N,
    D,
    loss,
    tie_exponents: bool = True,
    *,
    E=None,
    huber_delta: float = 1e-3,
    n_boot: int = 200,
    seed: int | np.random.Generator = 0,
    level: float = 0.95,
) -> FitResult:
    """Fit L = A N^-alpha + B D^-beta + E to high-precision runs (stage 1; Eq. 1).

    Minimises sum_i Huber_delta(log L_hat_i - log L_i) with log L_hat =
    logsumexp(a - alpha log N, b - beta log D, e) over (a, alpha, b, beta, e)
    by L-BFGS-B from every point of a start grid (alpha, beta in
    {0.2, 0.35, 0.5, 0.65}; a, b in {0, 5, 10, 15}; e in {-1, 0.5, 1}),
    keeping the best.

    Parameters
    ----------
    N, D, loss : array_like, shape (n,)
        Non-embedding parameters, tokens and final losses (all > 0).
    tie_exponents : bool
        Fit one exponent alpha = beta (the paper's choice; default).
    E : float, optional
        Hold the irreducible loss fixed at this value (> 0) instead of fitting
        it (e.g. a known entropy floor).
    huber_delta : float
        Huber threshold on log residuals (default 1e-3).
    n_boot : int
        Bootstrap replicates (0: no intervals).
    seed : int or numpy.random.Generator
        Seed (or generator) of the bootstrap's resampling.
    level : float
        Coverage of the intervals.

    Returns
    -------
    FitResult
        ``params``: A, alpha, B, beta, E.
    """
    N = check_array("N", N, positive=True, ndim=1)
    D = check_array("D", D, positive=True, ndim=1)
    L = check_array("loss", loss, positive=True, ndim=1)
    for name, arr in (("D", D), ("loss", L)):
        if arr.size != N.size:
            raise ConfigError(name, f"{arr.size} values", f"need one per run (N has {N.size})")
    _check_boot(n_boot, level)
    if E is not None and not E > 0:
        raise ConfigError("E", E, "must be > 0")
    e_fixed = None if E is None else float(np.log(E))
    tied = bool(tie_exponents)
    k_free = (3 if tied else 4) + (0 if e_fixed is not None else 1)
    if N.size < k_free + 1:
        raise ConfigError("loss", f"{N.size} runs", f"need at least {k_free + 1} to fit {k_free}")
    lnN, lnD, lnL = np.log(N), np.log(D), np.log(L)

    def objective(theta, idx):
        t = _chinchilla_terms(theta, lnN[idx], lnD[idx], tied, e_fixed)
        m = t.max(axis=0)
        w = np.exp(t - m)
        s = w.sum(axis=0)
        lse = m + np.log(s)
        w = w / s
        val, dh = _huber(lse - lnL[idx], huber_delta)
        g1, g2, g3 = (dh * w[0]), (dh * w[1]), (dh * w[2])
        ga, galpha = g1.sum(), -(g1 * lnN[idx]).sum()
        gb, gbeta = g2.sum(), -(g2 * lnD[idx]).sum()
        grad = [ga, galpha + gbeta, gb] if tied else [ga, galpha, gb, gbeta]
        if e_fixed is None:
            grad.append(g3.sum())
        return float(val.sum()), np.array(grad)

    exps = (0.2, 0.35, 0.5, 0.65)
    ab = (0.0, 5.0, 10.0, 15.0)
    es = (-1.0, 0.5, 1.0) if e_fixed is None else (None,)
    starts = []
    for a, b, e in itertools.product(ab, ab, es):
        for al, be in itertools.product(exps, repeat=2):
            if tied and al != be:
                continue
            x = [a, al, b] if tied else [a, al, b, be]
            starts.append(x + ([] if e is None else [e]))
    bounds = [(None, None), (1e-3, 5.0), (None, None)]
    bounds += [] if tied else [(1e-3, 5.0)]
    bounds += [] if e_fixed is not None else [(None, None)]
    every = np.arange(N.size)
    best = _minimize(lambda x: objective(x, every), starts, bounds)

    def unpack(theta):
        a, alpha, b = theta[:3]
        beta = alpha if tied else theta[3]
        e = e_fixed if e_fixed is not None else theta[-1]
        return np.array([np.exp(a), alpha, np.exp(b), beta, np.exp(e)])

    names = ["A", "alpha", "B", "beta", "E"]
    vals = unpack(best.x)

    def refit(idx):
        r = _minimize(lambda x: objective(x, idx), [best.x], bounds)
        return unpack(r.x)

    boot = _bootstrap(N.size, n_boot, seed, refit) if n_boot else np.empty((0, 5))
    params = dict(zip(names, map(float, vals), strict=True))
    law = th.LawParams(**params, source="fit_scaling_law")
    pred = th.loss(N, D, params=law)
    method = "Huber(log L), multi-start L-BFGS-B" + (", alpha=beta" if tied else "")
    return _loss_fit(params, names, boot, level, L, pred, method, law)


@single_threaded_blas
def fit_size_law(
    N,
    loss,
    *,
    huber_delta: float = 1e-3,
    n_boot: int = 200,
    seed: int | np.random.Generator = 0,
    level: float = 0.95,
) -> FitResult:
    """Fit L = A N^-alpha + C to high-precision runs that share one token budget.

    At fixed D the Chinchilla law's data term and E are one constant C =
    B D^-beta + E; this is the baseline the N_eff law needs at that D (the
    quantized runs of the study all share one budget).  Same objective as
    :func:`fit_scaling_law` (Huber on log residuals, multi-start L-BFGS-B).

    Parameters
    ----------
    N, loss : array_like, shape (n,)
        > 0, n >= 4.
    huber_delta, n_boot, seed, level
        As in :func:`fit_scaling_law`.

    Returns
    -------
    FitResult
        ``params``: A, alpha, E (= C).  ``law`` has B = 0, so that
        ``theory.loss`` returns A N_eff^-alpha + C at any D.
    """
    N = check_array("N", N, positive=True, ndim=1)
    L = check_array("loss", loss, positive=True, ndim=1)
    if N.size != L.size:
        raise ConfigError("loss", f"{L.size} values", f"need one per run ({N.size})")
    _check_boot(n_boot, level)
    if N.size < 4:
        raise ConfigError("loss", f"{N.size} runs", "need at least 4 to fit A, alpha, C")
    lnN, lnL = np.log(N), np.log(L)

    def objective(theta, idx):
        a, alpha, c = theta
        t = np.stack([a - alpha * lnN[idx], np.full(idx.size, c)])
        m = t.max(axis=0)
        w = np.exp(t - m)
        s = w.sum(axis=0)
        w = w / s
        val, dh = _huber(m + np.log(s) - lnL[idx], huber_delta)
        g1 = dh * w[0]
        return float(val.sum()), np.array([g1.sum(), -(g1 * lnN[idx]).sum(), (dh * w[1]).sum()])

    starts = [
        [a, al, c]
        for a in (0.0, 5.0, 10.0, 15.0)
        for al in (0.2, 0.35, 0.5, 0.65, 1.0, 1.5)
        for c in (-1.0, 0.0, 0.5, 1.0)
    ]
    bounds = [(None, None), (1e-3, 5.0), (None, None)]
    every = np.arange(N.size)
    best = _minimize(lambda x: objective(x, every), starts, bounds)

    def unpack(theta):
        return np.array([np.exp(theta[0]), theta[1], np.exp(theta[2])])

    def refit(idx):
        return unpack(_minimize(lambda x: objective(x, idx), [best.x], bounds).x)

    names = ["A", "alpha", "E"]
    boot = _bootstrap(N.size, n_boot, seed, refit) if n_boot else np.empty((0, 3))
    params = dict(zip(names, map(float, unpack(best.x)), strict=True))
    law = th.LawParams(
        A=params["A"],
        alpha=params["alpha"],
        B=0.0,
        beta=1.0,
        E=params["E"],
        source="fit_size_law (one token budget)",
    )
    pred = th.loss(N, 1.0, params=law)
    method = "Huber(log L) of A N^-alpha + C, multi-start L-BFGS-B"
    return _loss_fit(params, names, boot, level, L, pred, method, law)


# ----------------------------------------------------------------------------
# stage 2: precision sensitivities


def _bits_array(name: str, P, n: int) -> np.ndarray:
    if P is None:
        return np.full(n, np.inf)
    arr = _per_run(name, P, n, finite=False)  # NaN raises: inf or None is high precision
    if np.any(arr < 1):
        raise ConfigError(name, P, "precision must be >= 1 bit (inf: high precision)")
    return arr


def _as_law(base) -> th.LawParams:
    if isinstance(base, FitResult):
        return base.law
    if isinstance(base, th.LawParams):
        return base
    if isinstance(base, dict):
        missing = [k for k in ("A", "alpha", "B", "beta", "E") if k not in base]
        if missing:
            raise ConfigError("base", sorted(base), f"the dict lacks {', '.join(missing)}")
        return th.LawParams(**{k: base[k] for k in ("A", "alpha", "B", "beta", "E")})
    raise ConfigError("base", type(base).__name__, "a FitResult, LawParams or dict of A..E")


@single_threaded_blas
def fit_precision(
    N,
    D,
    P_w,
    P_a,
    P_kv,
    loss,
    base,
    *,
    joint: bool = False,
    huber_delta: float = 1e-3,
    n_boot: int = 200,
    seed: int | np.random.Generator = 0,
    level: float = 0.95,
) -> FitResult:
    """Fit gamma_w, gamma_a, gamma_kv of N_eff (stage 2; Eq. 4).

    log L_hat = logsumexp(log A - alpha log(N f_w f_a f_kv), log B - beta log D,
    log E) with f_x = 1 - exp(-P_x / gamma_x), gamma_x = exp(theta_x); Huber on
    log residuals, multi-start L-BFGS-B (gamma in {0.5, 1, 2, 4} per family).
    Only the families with a finite precision somewhere are fitted.

    Parameters
    ----------
    N : array_like, shape (n,)
        > 0.
    D : array_like, shape (n,) or scalar
        > 0.
    P_w, P_a, P_kv : array_like, shape (n,), or None
        Training precisions in bits (>= 1), one per run or a scalar; ``inf``
        (or ``None`` for the whole family): high precision.  NaN is rejected
        (:class:`~theorylab.core.errors.ConfigError`), as everywhere in
        :mod:`theory`.
    loss : array_like, shape (n,)
        Final losses (> 0).  High-precision runs may be included.
    base : FitResult, LawParams or dict
        The Chinchilla constants (A, alpha, B, beta, E), frozen unless ``joint``.
    joint : bool
        Refit the Chinchilla constants together with the gammas (alpha = beta
        tied if they are equal in ``base``).
    huber_delta, n_boot, seed, level
        As in :func:`fit_scaling_law`.

    Returns
    -------
    FitResult
        ``params``: gamma_<family> for each fitted family (and A, alpha, B,
        beta, E when ``joint``).
    """
    N = check_array("N", N, positive=True, ndim=1)
    n = N.size
    D = _per_run("D", D, n, positive=True)
    L = check_array("loss", loss, positive=True, ndim=1)
    if L.size != n:
        raise ConfigError("loss", f"{L.size} values", f"need one per run ({n})")
    _check_boot(n_boot, level)
    P = np.stack(
        [_bits_array(f"P_{f}", x, n) for f, x in zip(th.FAMILIES, (P_w, P_a, P_kv), strict=True)]
    )
    if not np.isfinite(P).any():
        raise ConfigError("P_w", None, "no run has a finite training precision")
    return _fit_precision(N, D, P, L, _as_law(base), joint, huber_delta, n_boot, seed, level)


def _precision_objective(P, fams, lnN, lnD, lnL, b: th.LawParams, joint, tied, huber_delta):
    """``unpack(theta)`` and the Huber objective ``objective(theta, idx)`` of fit_precision."""
    k = len(fams)

    def unpack(theta):
        g = np.exp(theta[:k])
        if joint:
            a, alpha, lb = theta[k : k + 3]
            beta = alpha if tied else theta[k + 3]
            le = theta[-1]
        else:
            a, alpha, lb, beta, le = _log(b.A), b.alpha, _log(b.B), b.beta, _log(b.E)
        return g, a, alpha, lb, beta, le

    def objective(theta, idx):
        g, a, alpha, lb, beta, le = unpack(theta)
        Pi = P[:, idx]
        lnf = np.zeros(idx.size)
        dlnf = []
        for j, fi in enumerate(fams):
            x = Pi[fi] / g[j]
            fin = np.isfinite(x)
            x = np.where(fin, x, 50.0)
            ex = np.exp(-x)
            f = -np.expm1(-x)
            lnf = lnf + np.log(f)
            # d ln f / d theta_j = -(x e^-x) / (1 - e^-x)
            dlnf.append(np.where(fin, -x * ex / f, 0.0))
        t = np.stack([a - alpha * (lnN[idx] + lnf), lb - beta * lnD[idx], np.full(idx.size, le)])
        m = t.max(axis=0)
        w = np.exp(t - m)
        s = w.sum(axis=0)
        w = w / s
        val, dh = _huber(m + np.log(s) - lnL[idx], huber_delta)
        g1, g2, g3 = dh * w[0], dh * w[1], dh * w[2]
        grad = [(-alpha * g1 * d).sum() for d in dlnf]
        if joint:
            ga, galpha = g1.sum(), -(g1 * (lnN[idx] + lnf)).sum()
            gb, gbeta = g2.sum(), -(g2 * lnD[idx]).sum()
            grad += [ga, galpha + gbeta, gb] if tied else [ga, galpha, gb, gbeta]
            grad.append(g3.sum())
        return float(val.sum()), np.array(grad)

    return unpack, objective


def _fit_precision(N, D, P, L, b: th.LawParams, joint, huber_delta, n_boot, seed, level):
    """:func:`fit_precision` on validated arrays (P: shape (3, n), inf = high precision)."""
    n = N.size
    fams = [i for i in range(3) if np.isfinite(P[i]).any()]
    tied = bool(np.isclose(b.alpha, b.beta))
    k = len(fams)
    unpack, objective = _precision_objective(
        P, fams, np.log(N), np.log(D), np.log(L), b, joint, tied, huber_delta
    )
    extra = []
    bounds = [(-5.0, 5.0)] * k
    if joint:
        extra = [_log(b.A), b.alpha, _log(b.B)] + ([] if tied else [b.beta]) + [_log(b.E)]
        bounds += [(None, None), (1e-3, 5.0), (None, None)]
        bounds += [] if tied else [(1e-3, 5.0)]
        bounds += [(None, None)]
    grid = np.log([0.5, 1.0, 2.0, 4.0])
    every = np.arange(n)
    if joint:
        # gammas first (baseline frozen, multi-start), then everything from there
        frozen = _fit_precision(N, D, P, L, b, False, huber_delta, 0, seed, level)
        g0 = [np.log(frozen.params[f"gamma_{th.FAMILIES[i]}"]) for i in fams]
        starts = [g0 + extra]
    else:
        starts = [list(s) for s in itertools.product(grid, repeat=k)]
    best = _minimize(lambda x: objective(x, every), starts, bounds)
    names = [f"gamma_{th.FAMILIES[i]}" for i in fams]
    if joint:
        names += ["A", "alpha", "B", "beta", "E"]

    def values(theta):
        g, a, alpha, lb, beta, le = unpack(theta)
        v = list(g)
        if joint:
            v += [np.exp(a), alpha, np.exp(lb), beta, np.exp(le)]
        return np.array(v, dtype=float)

    def refit(idx):
        return values(_minimize(lambda x: objective(x, idx), [best.x], bounds).x)

    boot = _bootstrap(n, n_boot, seed, refit) if n_boot else np.empty((0, len(names)))
    params = dict(zip(names, map(float, values(best.x)), strict=True))
    law = b.replace(**params, source="fit_precision")
    Pw, Pa, Pkv = (P[i] if i in fams else None for i in range(3))
    pred = th.loss(N, D, Pw, Pa, Pkv, params=law)
    method = "Huber(log L), multi-start L-BFGS-B, " + ("joint" if joint else "baseline frozen")
    return _loss_fit(params, names, boot, level, L, pred, method, law)


# ----------------------------------------------------------------------------
# stage 3: post-train quantization


def _ptq_solvers(N, D, P, d, s, n_se):
    """``ols(idx)`` and ``nls(idx, start)`` of :func:`fit_ptq` on validated arrays."""
    n = N.size
    X = np.column_stack([np.ones(n), np.log(D), -np.log(N), -P])

    def ols(idx):
        dd = d[idx]
        keep = dd > (n_se * s[idx] if s is not None else 0.0)
        if keep.sum() < 5:
            raise SolverError("fewer than 5 points above the noise threshold", float(keep.sum()))
        Xi, yi = X[idx][keep], np.log(dd[keep])
        w = np.ones(keep.sum()) if s is None else dd[keep] / s[idx][keep]
        coef, *_ = np.linalg.lstsq(Xi * w[:, None], yi * w, rcond=None)
        if coef[3] <= 0:
            raise SolverError("log-OLS gave a non-positive 1/gamma_post", float(coef[3]))
        return np.array([np.exp(coef[0]), coef[1], coef[2], 1.0 / coef[3]])

    def model(v, idx):
        lc, gD, gN, ig = v
        return np.exp(lc + gD * np.log(D[idx]) - gN * np.log(N[idx]) - P[idx] * ig)

    def nls(idx, start):
        scale = s[idx] if s is not None else np.full(idx.size, max(np.std(d), 1e-12))
        f_scale = 1.0
        x0 = [np.log(start[0]), start[1], start[2], 1.0 / start[3]]
        r = optimize.least_squares(
            lambda v: (model(v, idx) - d[idx]) / scale,
            x0,
            loss="soft_l1",
            f_scale=f_scale,
            bounds=([-np.inf, -5, -5, 1e-3], [np.inf, 5, 5, 1e3]),
        )
        if not r.success:
            raise SolverError("least_squares did not converge", float(np.max(np.abs(r.fun))))
        lc, gD, gN, ig = r.x
        return np.array([np.exp(lc), gD, gN, 1.0 / ig])

    return ols, nls


@single_threaded_blas
def fit_ptq(
    N,
    D,
    P_post,
    delta,
    se=None,
    *,
    method: str = "nls",
    n_se: float = 3.0,
    n_boot: int = 200,
    seed: int | np.random.Generator = 0,
    level: float = 0.95,
) -> FitResult:
    """Fit delta_PTQ = C_T D^gamma_D N^-gamma_N exp(-P_post/gamma_post) (stage 3; Eq. 2).

    * ``method="ols"``: least squares on
      log delta = log C_T + gamma_D log D - gamma_N log N - P_post / gamma_post,
      over the points with delta > ``n_se`` x ``se`` (all positive points if
      ``se`` is not given), weighted by delta^2 / se^2 (the inverse variance of
      log delta) when ``se`` is given.
    * ``method="nls"`` (default): :func:`scipy.optimize.least_squares` with a
      soft-L1 loss on (delta_hat - delta) / se over *all* points (tiny and
      negative deltas included), started from the OLS fit.

    Parameters
    ----------
    N, delta : array_like, shape (n,)
        Sizes and measured degradations.
    D, P_post : array_like, shape (n,) or scalar
        Tokens and post-training bits (>= 1).
    se : array_like, shape (n,) or scalar, optional
        Standard errors of delta (> 0).
    method : {"nls", "ols"}
    n_se : float
        Threshold of the OLS point selection in standard errors.
    n_boot, seed, level
        Bootstrap over points, as in :func:`fit_scaling_law`.

    Returns
    -------
    FitResult
        ``params``: C_T, gamma_D, gamma_N, gamma_post.
    """
    N = check_array("N", N, positive=True, ndim=1)
    n = N.size
    D = _per_run("D", D, n, positive=True)
    P = _per_run("P_post", P_post, n)
    if np.any(P < 1):
        raise ConfigError("P_post", P_post, "precision must be >= 1 bit")
    d = check_array("delta", delta, ndim=1)
    if d.size != n:
        raise ConfigError("delta", f"{d.size} values", f"need one per point ({n})")
    s = None if se is None else _per_run("se", se, n, positive=True)
    if method not in ("nls", "ols"):
        raise ConfigError("method", method, "one of nls, ols")
    if not n_se >= 0:
        raise ConfigError("n_se", n_se, "a threshold >= 0 in standard errors")
    _check_boot(n_boot, level)
    ols, nls = _ptq_solvers(N, D, P, d, s, n_se)
    every = np.arange(n)
    start = ols(every)
    fit = start if method == "ols" else nls(every, start)

    def refit(idx):
        o = ols(idx)
        return o if method == "ols" else nls(idx, fit)

    names = ["C_T", "gamma_D", "gamma_N", "gamma_post"]
    boot = _bootstrap(n, n_boot, seed, refit) if n_boot else np.empty((0, 4))
    params = dict(zip(names, map(float, fit), strict=True))
    law = th.LawParams(
        A=np.nan,
        alpha=np.nan,
        B=np.nan,
        beta=np.nan,
        E=np.nan,
        **params,
        source=f"fit_ptq ({method})",
    )
    pred = th.delta_ptq(N, D, P, params=law)
    pos = d > 0
    return FitResult(
        params=params,
        ci=_ci(boot, names, level) if boot.size else {},
        r2=r_squared(d, pred),
        r2_log=r_squared(np.log(d[pos]), np.log(pred[pos])) if pos.sum() > 1 else float("nan"),
        rmse=float(np.sqrt(np.mean((d - pred) ** 2))),
        n=n,
        method="weighted log-OLS above noise" if method == "ols" else "soft-L1 NLS on delta",
        law=law,
        boot=boot,
    )


# ----------------------------------------------------------------------------
# synthetic runs of the paper's shape


PAPER_N = (30e6, 60e6, 110e6, 220e6)
PAPER_D = (1.5e9, 3e9, 6e9, 13e9, 26e9)
PAPER_P = (3, 4, 5, 6, 8, 10, 12, 16)
PAPER_P_POST = (3, 4, 5, 6, 8)


def paper_grid(
    kind: str,
    params: th.LawParams = th.PAPER_PARAMS,
    noise: float = 0.005,
    seed: int | np.random.Generator = 0,
    *,
    Ns=PAPER_N,
    Ds=PAPER_D,
    Ps=PAPER_P,
    P_posts=PAPER_P_POST,
) -> dict:
    """Noisy synthetic runs from the laws on the paper's grid.

    As in docs/precision_scaling.md, "Recovery".

    Parameters
    ----------
    kind : {"baseline", "precision", "ptq"}
        ``baseline``: high-precision losses on N x D.  ``precision``: for
        every (N, D) each family alone at every P in ``Ps`` (16 means high
        precision), plus the baseline.  ``ptq``: delta_PTQ on N x D x P_post.
    params : theory.LawParams
        The planted constants.
    noise : float
        Gaussian noise standard deviation: on the loss (baseline, precision)
        or on delta (ptq), which is also returned as ``se``.
    seed : int or numpy.random.Generator
        Seed (or generator) of the noise.

    Returns
    -------
    dict of numpy.ndarray
        ``N, D`` and, by kind, ``loss, P_w, P_a, P_kv`` or ``P_post, delta, se``.
    """
    rng = np.random.default_rng(seed)
    NN, DD = (x.ravel() for x in np.meshgrid(np.asarray(Ns, float), np.asarray(Ds, float)))
    if kind == "baseline":
        L = th.loss(NN, DD, params=params)
        return {"N": NN, "D": DD, "loss": L + noise * rng.standard_normal(L.shape)}
    if kind == "precision":
        rows = [
            (NN, DD, np.full(NN.size, np.inf), np.full(NN.size, np.inf), np.full(NN.size, np.inf))
        ]
        for fam in range(3):
            for P in Ps:
                if P >= 16:
                    continue
                bits = [np.full(NN.size, np.inf) for _ in range(3)]
                bits[fam] = np.full(NN.size, float(P))
                rows.append((NN, DD, *bits))
        N, D, Pw, Pa, Pkv = (np.concatenate(c) for c in zip(*rows, strict=True))
        L = th.loss(N, D, Pw, Pa, Pkv, params=params)
        return {
            "N": N,
            "D": D,
            "P_w": Pw,
            "P_a": Pa,
            "P_kv": Pkv,
            "loss": L + noise * rng.standard_normal(L.shape),
        }
    if kind == "ptq":
        N, D, P = (
            x.ravel()
            for x in np.meshgrid(
                np.asarray(Ns, float), np.asarray(Ds, float), np.asarray(P_posts, float)
            )
        )
        delta = th.delta_ptq(N, D, P, params=params)
        return {
            "N": N,
            "D": D,
            "P_post": P,
            "se": np.full(N.size, noise),
            "delta": delta + noise * rng.standard_normal(delta.shape),
        }
    raise ConfigError("kind", kind, "one of baseline, precision, ptq")
