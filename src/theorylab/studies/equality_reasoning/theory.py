"""Theory of equality reasoning in MLPs: rich-regime accuracy, lazy NTK flow, Bayes observers.

Paper: W. L. Tong and C. Pehlevan, "Learning richness modulates equality
reasoning in neural networks", arXiv 2503.09781 (CCN 2025).  The sections
cited below are those of docs/equality_reasoning.md, which states what each
formula is, where it comes from (the paper's figures and the authors' public
code, or our derivation) and how far it has been checked.

All functions are float64 NumPy/SciPy.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import integrate, special, stats

from theorylab.core.errors import ConfigError, check_scalar

__all__ = [
    "ObserverAccuracy",
    "bayes_observers",
    "contrastive_moment",
    "generalising_accuracy",
    "kappa",
    "lazy_accuracy",
    "lazy_symbols_needed",
    "ntk_kernel",
    "rich_accuracy",
]


def _integer(name: str, value, lo: int, hi: int | None = None) -> int:
    """An integer in [lo, hi]; integral floats (3.0) are rejected (core's check_int takes them)."""
    what = f"must be an integer >= {lo}" + (f" and <= {hi}" if hi is not None else "")
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConfigError(name, value, what)
    if value < lo or (hi is not None and value > hi):
        raise ConfigError(name, value, what)
    return int(value)


def _number(name: str, value, *, lo: float, strict: bool = False) -> float:
    """A finite real argument > lo (``strict``) or >= lo (core's :func:`check_scalar`)."""
    allowed = f"must be a finite number {'>' if strict else '>='} {lo}"
    return check_scalar(name, value, allowed, (lambda v: v > lo) if strict else (lambda v: v >= lo))


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(_integer("seed", seed, 0))


# -- rich regime ------------------------------------------------------------------------------


def kappa(a=1.5):
    """Signal-to-noise constant of the rich-regime accuracy, docs section "Rich regime".

    kappa(a) = 2 (a - 1)^2 / ((1 + a^2)(pi - 2)); kappa(3/2) = 2 / (13 (pi - 2)).

    Parameters
    ----------
    a : float or array_like, shape (n,)
        Readout ratio |mean negative readout| / mean positive readout (> 0).

    Returns
    -------
    float or numpy.ndarray, shape (n,)
    """
    a = np.asarray(a, dtype=float)
    return 2.0 * (a - 1.0) ** 2 / ((1.0 + a**2) * (np.pi - 2.0))


def rich_accuracy(L, a=1.5, *, authors_l2=False):
    """Unseen-symbol accuracy of a rich network trained on L symbols.

    Docs section "Rich regime" (the theory curve of the paper's accuracy-vs-L
    figure): same pairs are always right, different pairs are right with
    probability Phi(z),

        acc(L) = 1/2 [1 + Phi(z)],   z = sign(a - 1) sqrt(kappa(a) L (L - 1)),

    which is 1/2 [1 + Phi(sqrt(kappa L (L - 1)))] for a >= 1 (a < 1 would put
    more readout mass on the parallel units, and different pairs would be
    called "same" more often than not).

    Parameters
    ----------
    L : int or array_like of int, shape (n,)
        Training symbols (>= 2).
    a : float
        Readout ratio (> 0); the paper's curve uses 3/2.
    authors_l2 : bool
        Return 0.75 at L = 2, the value the authors' plotting code overrides
        there (the formula gives 0.849 at a = 3/2); off by default.

    Returns
    -------
    float or numpy.ndarray, shape (n,)
    """
    La = np.asarray(L)
    if La.dtype.kind not in "iu" or np.any(La < 2):
        raise ConfigError("L", L, "must be an integer (or integers) >= 2")
    a = _number("a", a, lo=0.0, strict=True)
    Lf = La.astype(float)
    z = np.sign(a - 1.0) * np.sqrt(kappa(a) * Lf * (Lf - 1.0))
    acc = 0.5 * (1.0 + special.ndtr(z))
    if authors_l2:
        acc = np.where(La == 2, 0.75, acc)
    return float(acc) if acc.ndim == 0 else acc


def contrastive_moment(d: int):
    """The task's contrastive second moment M = E[x x^T | same] - E[x x^T | different].

    Docs section "Parallel and antiparallel features": M = (1/d) [[0, I], [I, 0]].

    Parameters
    ----------
    d : int
        Symbol dimension (>= 1).

    Returns
    -------
    numpy.ndarray, shape (2 d, 2 d)
    """
    d = _integer("d", d, 1)
    eye = np.eye(d) / d
    zero = np.zeros((d, d))
    return np.block([[zero, eye], [eye, zero]])


# -- lazy regime --------------------------------------------------------------------------------


def ntk_kernel(X, Y):
    """Neural tangent kernel of the one-hidden-layer ReLU network, docs section "Lazy regime".

    K(x, x') = |x||x'| / (2 pi) (sin t + (pi - t) cos t) + (x . x') (pi - t) / (2 pi),
    cos t = x . x' / (|x||x'|), for w ~ N(0, I), a ~ N(0, 1) and the 1/N readout.

    Parameters
    ----------
    X : array_like, shape (n, D)
    Y : array_like, shape (m, D)

    Returns
    -------
    numpy.ndarray, shape (n, m)
    """
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float)
    nx = np.linalg.norm(X, axis=1)[:, None]
    ny = np.linalg.norm(Y, axis=1)[None, :]
    norm = np.maximum(nx * ny, 1e-300)
    # x . x' = |x||x'| cos t, so K = |x||x'| / (2 pi) (sin t + 2 (pi - t) cos t); in place
    c = X @ Y.T
    c /= norm
    np.clip(c, -1.0, 1.0, out=c)
    t = np.arccos(c)
    np.subtract(np.pi, t, out=t)
    t *= c
    t *= 2.0
    np.multiply(c, c, out=c)
    np.subtract(1.0, c, out=c)
    np.sqrt(c, out=c)
    c += t
    c *= norm
    c *= 1.0 / (2 * np.pi)
    return c


def _training_orbits(S):
    """Unordered symbol pairs {l <= m}: both orders of a different pair share alpha.

    Returns the representatives (n, 2d), the swapped representatives, the labels
    and the weight of ONE ordered pair of each orbit (1/(2L) same, 1/(2L(L-1)) different).
    """
    L = S.shape[0]
    li, mi = np.triu_indices(L)
    X = np.concatenate([S[li], S[mi]], axis=1)
    Xs = np.concatenate([S[mi], S[li]], axis=1)
    same = li == mi
    w = np.where(same, 1.0 / (2 * L), 1.0 / (2 * L * (L - 1)))
    return X, Xs, same.astype(float), w, same


def _orbit_kernel(Z, X, Xs, same):
    """Sum of K(z, x') over each orbit's members: (n_z, n_orbits)."""
    return ntk_kernel(Z, X) + np.where(same[None, :], 0.0, ntk_kernel(Z, Xs))


def _test_pairs(rng, d: int, n: int):
    """n fresh-symbol pairs, half same: inputs (n, 2d), labels (n,)."""
    z1 = rng.standard_normal((n, d)) / np.sqrt(d)
    z2 = rng.standard_normal((n, d)) / np.sqrt(d)
    y = np.arange(n) % 2 == 0
    z2[y] = z1[y]
    return np.concatenate([z1, z2], axis=1), y


def _flow(K, w, y, eta0: float, steps: int, method: str):
    """alpha after ``steps`` of function-space GD (``gd``) or its gradient flow (``flow``)."""
    rate = eta0 * w
    if method == "gd":
        alpha = np.zeros_like(y)
        for _ in range(steps):
            alpha -= rate * (special.expit(K @ alpha) - y)
        return alpha
    sol = integrate.solve_ivp(
        lambda t, a: -rate * (special.expit(K @ a) - y),
        (0.0, float(steps)),
        np.zeros_like(y),
        method="RK45",
        rtol=1e-6,
        atol=1e-9,
    )
    return sol.y[:, -1]


def lazy_accuracy(
    d: int,
    L: int,
    eta0: float = 0.1,
    steps: int = 3000,
    seed=0,
    *,
    n_test: int = 4000,
    n_draws: int = 1,
    symbols=None,
    method: str = "flow",
    seen: bool = False,
):
    """Unseen-symbol accuracy of the lazy (NTK) network, docs section "Lazy regime".

    At gamma -> 0 the centred network is its linearisation and SGD with
    lr_eff = eta0 gamma^2 N moves the function as
    df(x)/dt = -eta0 E_{x'}[K(x, x') (sigmoid(f(x')) - y(x'))] over the
    training distribution: L^2 distinct inputs, same pairs with weight 1/(2L),
    ordered different pairs with weight 1/(2L(L-1)).  With f = K alpha this is
    integrated for ``steps`` units of time (``flow``, adaptive Runge-Kutta:
    the GD step eta0 * lambda_max(K W) is ~0.1, so GD and flow agree to well
    under the test-set noise) or iterated exactly (``gd``).  Both orders of a
    different pair share alpha, which halves the system.

    Parameters
    ----------
    d : int
        Symbol dimension (>= 1).
    L : int
        Training symbols (>= 2).
    eta0 : float
        Base learning rate (> 0).
    steps : int
        SGD steps (time of the flow, >= 0).
    seed : int or numpy.random.Generator
        Draws the symbols (unless given) and the test pairs.
    n_test : int
        Fresh-symbol test pairs per draw (half same).
    n_draws : int
        Independent symbol draws averaged over.
    symbols : array_like, shape (L, d), optional
        Use these training symbols (one draw).
    method : {"flow", "gd"}
    seen : bool
        Also return the accuracy on the training distribution.

    Returns
    -------
    float or (float, float)
        Unseen accuracy (mean over draws), and with ``seen`` the weighted
        accuracy on the training inputs.
    """
    d = _integer("d", d, 1)
    L = _integer("L", L, 2)
    eta0 = _number("eta0", eta0, lo=0.0, strict=True)
    steps = _integer("steps", steps, 0)
    n_test = _integer("n_test", n_test, 2)
    n_draws = _integer("n_draws", n_draws, 1)
    if method not in ("flow", "gd"):
        raise ConfigError("method", method, "must be 'flow' or 'gd'")
    rng = _rng(seed)
    if symbols is not None:
        symbols = np.asarray(symbols, dtype=float)
        if symbols.shape != (L, d):
            raise ConfigError("symbols", symbols.shape, f"must have shape (L, d) = ({L}, {d})")
        n_draws = 1
    unseen, train = [], []
    for _ in range(n_draws):
        S = symbols if symbols is not None else rng.standard_normal((L, d)) / np.sqrt(d)
        X, Xs, y, w, same = _training_orbits(S)
        K = _orbit_kernel(X, X, Xs, same)
        alpha = _flow(K, w, y, eta0, steps, method)
        Z, yt = _test_pairs(rng, d, n_test)
        f = _orbit_kernel(Z, X, Xs, same) @ alpha
        unseen.append(np.mean((f > 0) == yt))
        mult = np.where(same, 1.0, 2.0)  # ordered pairs per orbit
        train.append(np.sum(w * mult * ((K @ alpha > 0) == (y > 0))))
    acc = float(np.mean(unseen))
    return (acc, float(np.mean(train))) if seen else acc


def lazy_symbols_needed(d: int, Ls, target: float = 0.9, **kw):
    """Fewest training symbols for lazy unseen accuracy >= target, docs section "Lazy regime".

    Scans ``Ls`` in increasing order with :func:`lazy_accuracy`, and
    interpolates linearly in log L between the last L below and the first
    above the target.

    Parameters
    ----------
    d : int
        Symbol dimension.
    Ls : sequence of int, shape (n,)
        Increasing candidate symbol counts.
    target : float
        Accuracy to reach (0.5 < target < 1).
    **kw
        Passed to :func:`lazy_accuracy` (``eta0``, ``steps``, ``seed``, ``n_test``, ``n_draws``).

    Returns
    -------
    (float, numpy.ndarray)
        L* (inf when no L reaches the target) and the accuracies, shape (n,)
        (nan after the first L that reaches the target).
    """
    Ls = [int(x) for x in Ls]
    if not Ls or any(b <= a for a, b in itertools.pairwise(Ls)):
        raise ConfigError("Ls", Ls, "must be increasing integers")
    if not 0.5 < target < 1.0:
        raise ConfigError("target", target, "must be in (0.5, 1)")
    accs = np.full(len(Ls), np.nan)
    for i, L in enumerate(Ls):
        accs[i] = lazy_accuracy(d, L, **kw)
        if accs[i] >= target:
            if i == 0:
                return float(L), accs
            lo, hi = np.log(Ls[i - 1]), np.log(L)
            frac = (target - accs[i - 1]) / (accs[i] - accs[i - 1])
            return float(np.exp(lo + frac * (hi - lo))), accs
    return float("inf"), accs


# -- noisy task: Bayes-optimal observers --------------------------------------------------------


@dataclass(frozen=True)
class ObserverAccuracy:
    """Accuracies of the two reference observers on fresh-symbol noisy pairs.

    Attributes
    ----------
    generalising : float
        Knows that symbols are fresh draws from N(0, I/d).
    memorising : float
        Believes the symbols are the L training symbols.
    """

    generalising: float
    memorising: float


def _observer_inputs(d, L, sigma2, n_pairs, rng):
    S = rng.standard_normal((L, d)) / np.sqrt(d)
    s1 = rng.standard_normal((n_pairs, d)) / np.sqrt(d)
    s2 = rng.standard_normal((n_pairs, d)) / np.sqrt(d)
    y = np.arange(n_pairs) % 2 == 0
    s2[y] = s1[y]
    noise = np.sqrt(sigma2 / d)
    z1 = s1 + noise * rng.standard_normal((n_pairs, d))
    z2 = s2 + noise * rng.standard_normal((n_pairs, d))
    return S, z1, z2, y


def _log_excluding(e):
    """log sum_{m != l} exp(e_m) for every l, without cancellation: shape like e (n, L)."""
    n = e.shape[0]
    pre = np.logaddexp.accumulate(e, axis=1)
    suf = np.logaddexp.accumulate(e[:, ::-1], axis=1)[:, ::-1]
    neg = np.full((n, 1), -np.inf)
    left = np.concatenate([neg, pre[:, :-1]], axis=1)
    right = np.concatenate([suf[:, 1:], neg], axis=1)
    return np.logaddexp(left, right)


def _memorising_same(S, z1, z2, s2):
    """Decide 'same' with the memorising observer; s2 = per-coordinate noise variance."""
    sq = np.sum(S**2, axis=1)[None, :]
    e1 = -(np.sum(z1**2, axis=1)[:, None] - 2 * z1 @ S.T + sq) / (2 * s2)
    e2 = -(np.sum(z2**2, axis=1)[:, None] - 2 * z2 @ S.T + sq) / (2 * s2)
    L = S.shape[0]
    log_same = special.logsumexp(e1 + e2, axis=1) - np.log(L)
    log_diff = special.logsumexp(e1 + _log_excluding(e2), axis=1) - np.log(L * (L - 1))
    return log_same > log_diff


def _generalising_llr(z1, z2, d: int, sigma2: float):
    """log p(z1, z2 | same) - log p(z1, z2 | different), in u = z1 + z2, v = z1 - z2."""
    u2 = np.sum((z1 + z2) ** 2, axis=1)
    v2 = np.sum((z1 - z2) ** 2, axis=1)
    su, sv, sd = (4 + 2 * sigma2) / d, 2 * sigma2 / d, 2 * (1 + sigma2) / d
    const = -0.5 * d * (np.log(su) + np.log(sv) - 2 * np.log(sd))
    return const - 0.5 * u2 * (1 / su - 1 / sd) - 0.5 * v2 * (1 / sv - 1 / sd)


def bayes_observers(d: int, L: int, sigma2: float, n_pairs: int = 2000, seed=0):
    """Monte Carlo accuracies of the generalising and memorising observers, docs section "Noise".

    Test pairs use fresh symbols s ~ N(0, I/d) seen through noise N(0, sigma^2 I/d)
    (independently for the two members of a pair).  The generalising observer
    compares the exact likelihoods of "same" and "different" under fresh
    symbols; the memorising observer believes the symbols are the L training
    symbols, uniformly (mixture likelihoods, evaluated in log space in O(L) per
    pair: the sum over m != l uses prefix and suffix log-sum-exps).  Equal
    priors; sigma^2 = 0 is evaluated at 1e-10.

    Parameters
    ----------
    d : int
        Symbol dimension (>= 1).
    L : int
        Training symbols of the memorising observer (>= 2).
    sigma2 : float
        Noise variance (>= 0).
    n_pairs : int
        Test pairs (half same).
    seed : int or numpy.random.Generator
        Draws the training symbols and the test pairs.

    Returns
    -------
    ObserverAccuracy
    """
    d = _integer("d", d, 1)
    L = _integer("L", L, 2)
    sigma2 = max(_number("sigma2", sigma2, lo=0.0), 1e-10)
    n_pairs = _integer("n_pairs", n_pairs, 2)
    rng = _rng(seed)
    S, z1, z2, y = _observer_inputs(d, L, sigma2, n_pairs, rng)
    gen = _generalising_llr(z1, z2, d, sigma2) > 0
    mem = np.concatenate(
        [
            _memorising_same(S, z1[i : i + 512], z2[i : i + 512], sigma2 / d)
            for i in range(0, n_pairs, 512)
        ]
    )
    return ObserverAccuracy(float(np.mean(gen == y)), float(np.mean(mem == y)))


def generalising_accuracy(d: int, sigma2: float):
    """Exact accuracy of the generalising observer, docs section "Noise".

    With u = z1 + z2 and v = z1 - z2 (independent under both hypotheses), the
    log-likelihood ratio is c + A |u|^2 - B |v|^2 with A, B > 0, and
    |u|^2, |v|^2 are scaled chi-square(d) variables: same pairs have variances
    (4 + 2 sigma^2)/d and 2 sigma^2/d per coordinate, different pairs
    2 (1 + sigma^2)/d for both.  The accuracy
    1/2 P_same(LLR > 0) + 1/2 P_diff(LLR < 0) is one integral over |u|^2.

    Parameters
    ----------
    d : int
        Symbol dimension (>= 1).
    sigma2 : float
        Noise variance (>= 0; 0 gives 1 exactly).

    Returns
    -------
    float
    """
    d = _integer("d", d, 1)
    sigma2 = _number("sigma2", sigma2, lo=0.0)
    if sigma2 == 0.0:
        return 1.0
    su, sv, sd = (4 + 2 * sigma2) / d, 2 * sigma2 / d, 2 * (1 + sigma2) / d
    c = -0.5 * d * (np.log(su) + np.log(sv) - 2 * np.log(sd))
    A, B = 0.5 * (1 / sd - 1 / su), 0.5 * (1 / sv - 1 / sd)
    chi = stats.chi2(d)

    def p_same(x):  # x = |u|^2 / su; correct when B sv Y < c + A su x
        return chi.pdf(x) * chi.cdf(np.maximum(c + A * su * x, 0.0) / (B * sv))

    def p_diff(x):  # x = |u|^2 / sd; correct when B sd Y > c + A sd x
        return chi.pdf(x) * chi.sf(np.maximum(c + A * sd * x, 0.0) / (B * sd))

    hi = chi.ppf(1 - 1e-15)
    ok_same = integrate.quad(p_same, 0.0, hi, limit=200, epsabs=1e-12)[0]
    ok_diff = integrate.quad(p_diff, 0.0, hi, limit=200, epsabs=1e-12)[0]
    return float(0.5 * (ok_same + ok_diff))
