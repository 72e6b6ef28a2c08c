"""Theory of hidden progress after the accuracy plateau (float64 NumPy/SciPy).

Kumar, Bordelon, Pehlevan, Murthy, Gershman, *Do Mice Grok? Glimpses of
Hidden Progress During Overtraining in Sensory Cortex* (arXiv 2411.03541).
The paper's claim is that late-time learning is approximate margin
maximization; the background theory is the implicit bias of gradient descent
on separable data (Soudry et al. 2018, JMLR 19:70) and the kernel view of
overtraining reversal (docs/overtraining.md, sections "Theory" and
"Overtraining reversal").

Public functions:

* :func:`max_margin`, :func:`max_margin_with_intercept`: hard-margin SVMs,
  solved exactly as the minimum-norm point of a convex hull (non-negative
  least squares);
* :func:`linear_gd`: gradient descent on a linear model (logistic, hinge or
  squared loss) with per-checkpoint normalized margin, norm and direction;
* :func:`soudry_asymptote`: the implicit-bias prediction
  w(t) = w_hat ln t + w_tilde for |w(t)| and gamma(t), from the SVM dual;
* the representation metrics of the docs page (section "Metrics"):
  :func:`network_margin`, :func:`hidden_svm_margin`,
  :func:`target_nontarget_similarity`, :func:`fisher_discriminant`,
  :func:`kernel_alignment`, :func:`transitions`;
* :func:`readout_residual`: the spectral solution of readout-only squared-loss
  GD on frozen features (reversal).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

from theorylab.core.errors import ConfigError, SolverError

LOSSES = ("logistic", "hinge", "squared")

__all__ = [
    "LOSSES",
    "fisher_discriminant",
    "hidden_svm_margin",
    "kernel_alignment",
    "linear_gd",
    "max_margin",
    "max_margin_with_intercept",
    "network_margin",
    "readout_residual",
    "soudry_asymptote",
    "target_nontarget_similarity",
    "transitions",
]


# -- input checks (once, at the public edge) --------------------------------------------------


def _points(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ConfigError("X", f"array of shape {X.shape}", "must be a 2-D array (N, d)")
    if y.shape != (X.shape[0],):
        raise ConfigError("y", f"array of shape {y.shape}", f"must have shape ({X.shape[0]},)")
    if not np.all(np.isfinite(X)):
        raise ConfigError("X", "array with non-finite entries", "must be finite")
    if not np.all(np.isin(y, (-1.0, 1.0))):
        raise ConfigError("y", "array", "labels must be +1 or -1")
    return X, y


def _min_norm_point(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-norm point u of conv{rows of Z} and its convex weights lam.

    Exact reformulation as non-negative least squares: with A = [Z^T; 1^T] and
    b = (0, ..., 0, 1), beta = argmin_{beta >= 0} |A beta - b|^2 has
    beta / sum(beta) = argmin_{lam in simplex} |Z^T lam| (for fixed sum s the
    objective is s^2 |Z^T lam|^2 + (1 - s)^2).
    """
    A = np.vstack([Z.T, np.ones(Z.shape[0])])
    b = np.zeros(A.shape[0])
    b[-1] = 1.0
    beta, _ = nnls(A, b, maxiter=50 * A.shape[1])
    total = beta.sum()
    if not total > 0:
        raise SolverError("minimum-norm point of the convex hull (NNLS)", float("nan"))
    lam = beta / total
    return Z.T @ lam, lam


def _certify(Z: np.ndarray, u: np.ndarray, what: str, name: str) -> tuple[np.ndarray, float]:
    """Unit direction and margin of the min-norm point, or raise if not separable."""
    scale = float(np.max(np.linalg.norm(Z, axis=1)))
    g = float(np.linalg.norm(u))
    if not g > 1e-10 * max(scale, 1e-300):
        raise ConfigError(name, f"{Z.shape[0]} points", f"must be linearly separable {what}")
    w = u / g
    gamma = float(np.min(Z @ w))
    if gamma <= 0 or g - gamma > 1e-7 * g:  # optimality: min_i z_i.u = |u|^2
        raise SolverError(f"hard-margin SVM {what}", g - gamma)
    return w, gamma


def max_margin(X, y) -> tuple[np.ndarray, float]:
    """Hard-margin SVM direction without intercept and its margin.

    w_hat = argmax_{|w| = 1} min_i y_i w.x_i, the limit direction of gradient
    descent on separable data (Section 3.1 of docs/overtraining.md; Soudry et
    al. 2018, Theorem 3).  Solved exactly as the minimum-norm point of the
    convex hull of the signed points z_i = y_i x_i (gamma* is its norm) by
    non-negative least squares; the unnormalized SVM solution of
    min |w|^2 s.t. y_i w.x_i >= 1 is w_hat / gamma*.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Inputs.
    y : array_like, shape (N,)
        Labels in {-1, +1}.

    Returns
    -------
    w_hat : numpy.ndarray, shape (d,)
        Unit-norm max-margin direction.
    gamma_star : float
        The margin min_i y_i w_hat.x_i = 1 / |w_svm|.

    Raises
    ------
    ConfigError
        If the data are not linearly separable through the origin (naming ``y``).
    """
    X, y = _points(X, y)
    Z = y[:, None] * X
    u, _ = _min_norm_point(Z)
    return _certify(Z, u, "through the origin", "y")


def max_margin_with_intercept(X, y) -> tuple[np.ndarray, float, float]:
    """Hard-margin SVM with an unpenalized intercept.

    max_{|w|=1, b} min_i y_i (w.x_i + b) is half the distance between the two
    classes' convex hulls, i.e. half the norm of the minimum-norm point of the
    hull of all differences x_i - x_j (i positive, j negative); duplicate rows
    are removed first (docs/overtraining.md, section "Metrics").

    Parameters
    ----------
    X : array_like, shape (N, d)
    y : array_like, shape (N,)
        Labels in {-1, +1}; both classes must be present.

    Returns
    -------
    w_hat : numpy.ndarray, shape (d,)
        Unit normal of the separating hyperplane.
    b : float
        Intercept.
    gamma : float
        Geometric margin min_i y_i (w_hat.x_i + b).

    Raises
    ------
    ConfigError
        If a class is missing or the classes are not linearly separable.
    """
    X, y = _points(X, y)
    pos, neg = np.unique(X[y > 0], axis=0), np.unique(X[y < 0], axis=0)
    if not len(pos) or not len(neg):
        raise ConfigError("y", "one class only", "both labels +1 and -1 must occur")
    D = (pos[:, None, :] - neg[None, :, :]).reshape(-1, X.shape[1])
    u, _ = _min_norm_point(D)
    w, g2 = _certify(D, u, "(classes overlap)", "y")
    b = -0.5 * (float(np.max(neg @ w)) + float(np.min(pos @ w)))
    return w, b, 0.5 * g2


def _loss_terms(u: np.ndarray, loss: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-example loss l(u) and its derivative dl/du at margins u."""
    if loss == "logistic":
        return np.logaddexp(0.0, -u), -0.5 * (1.0 - np.tanh(0.5 * u))
    if loss == "hinge":
        return np.maximum(0.0, 1.0 - u), -(u < 1.0).astype(float)
    return 0.5 * (1.0 - u) ** 2, -(1.0 - u)


def log_checkpoints(steps: int, per_decade: int = 10) -> np.ndarray:
    """Integer steps 1 .. ``steps``, ``per_decade`` log-spaced per decade (docs/overtraining.md).

    Parameters
    ----------
    steps : int
        Last step (included).
    per_decade : int
        Checkpoints per decade.

    Returns
    -------
    numpy.ndarray, shape (T,)
        Sorted unique integer steps, ending at ``steps``.
    """
    decades = max(np.log10(steps), 1e-12)
    grid = np.logspace(0, decades, int(np.ceil(decades * per_decade)) + 1)
    return np.unique(np.r_[np.round(grid).astype(int), steps])


def linear_gd(
    X,
    y,
    loss: str = "logistic",
    lr: float | None = None,
    steps: int = 100_000,
    record_every: int | None = None,
    w0=None,
) -> dict[str, np.ndarray]:
    """Full-batch gradient descent on a linear model and its margin statistics.

    Minimizes L(w) = (1/N) sum_i l(y_i w.x_i) with l logistic, hinge
    max(0, 1 - u) or squared (1 - u)^2 / 2, from w0 (default 0); this is the
    setting of Section 3.1 of docs/overtraining.md (Soudry et al. 2018): on
    separable data the logistic iterates grow like w_hat ln t and their
    normalized margin creeps up to gamma* as O(1 / ln t), hinge GD stops at
    zero loss, squared loss converges to a finite interpolant/least squares.

    Parameters
    ----------
    X : array_like, shape (N, d)
    y : array_like, shape (N,)
        Labels in {-1, +1}.
    loss : {"logistic", "hinge", "squared"}
    lr : float, optional
        Step size (> 0); default N / lambda_max(X^T X), i.e. 1 / (4 beta) for
        the logistic smoothness beta = lambda_max / (4 N).
    steps : int
        Number of GD steps (>= 1).
    record_every : int, optional
        Record every this many steps; default: 10 log-spaced checkpoints per decade.
    w0 : array_like, shape (d,), optional
        Initial weights.

    Returns
    -------
    dict of numpy.ndarray
        ``step`` (T,), ``gamma`` (T,) normalized margin min_i y_i w.x_i / |w|,
        ``w_norm`` (T,), ``cos`` (T,) cosine with w_hat (NaN when the data are
        not separable), ``loss`` (T,), ``accuracy`` (T,), ``w`` (d,) the final
        weights.

    Raises
    ------
    ConfigError
        For an unknown loss, a non-positive or non-finite ``lr``, ``steps`` < 1
        or a bad ``record_every``.
    """
    X, y = _points(X, y)
    if loss not in LOSSES:
        raise ConfigError("loss", loss, "must be one of " + ", ".join(LOSSES))
    N = X.shape[0]
    if lr is None:
        lr = N / float(np.linalg.eigvalsh(X.T @ X)[-1])
    if not (isinstance(lr, int | float) and np.isfinite(lr) and lr > 0):
        raise ConfigError("lr", lr, "must be a finite number > 0")
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 1:
        raise ConfigError("steps", steps, "must be an integer >= 1")
    if record_every is None:
        record = log_checkpoints(int(steps))
    elif isinstance(record_every, int | np.integer) and 1 <= record_every <= steps:
        record = np.unique(np.r_[np.arange(record_every, steps + 1, record_every), steps])
    else:
        raise ConfigError("record_every", record_every, f"must be an integer in [1, {steps}]")
    Z = y[:, None] * X
    try:
        w_hat, _ = max_margin(X, y)
    except ConfigError:
        w_hat = None
    w = np.zeros(X.shape[1]) if w0 is None else np.array(w0, dtype=float)
    out = {k: [] for k in ("step", "gamma", "w_norm", "cos", "loss", "accuracy")}
    t = 0
    for target in record:
        for _ in range(int(target) - t):
            _, dl = _loss_terms(Z @ w, loss)
            w = w - lr * (Z.T @ dl) / N
        t = int(target)
        u = Z @ w
        nw = float(np.linalg.norm(w))
        out["step"].append(t)
        out["gamma"].append(float(u.min()) / nw if nw > 0 else 0.0)
        out["w_norm"].append(nw)
        out["cos"].append(float(w @ w_hat) / nw if w_hat is not None and nw > 0 else np.nan)
        out["loss"].append(float(np.mean(_loss_terms(u, loss)[0])))
        out["accuracy"].append(float(np.mean(u > 0)))
    res = {k: np.asarray(v) for k, v in out.items()}
    res["w"] = w
    return res


def soudry_asymptote(X, y, lr: float, t) -> dict[str, np.ndarray | float]:
    """The implicit-bias asymptote of logistic GD: |w(t)| and gamma(t) to O(1/ln t).

    GD with step ``lr`` on the mean logistic loss is GD with step eta = lr/N
    on the summed loss, whose iterates obey w(t) = w_svm ln t + w_tilde + o(1)
    with eta exp(-z_n.w_tilde) = alpha_n on the support vectors (alpha the SVM
    dual variables, w_svm = sum_n alpha_n z_n; Soudry et al. 2018, Theorem 3
    and Eq. (20); derivation in docs/overtraining.md, section "Theory").
    Keeping the terms of w_tilde that the dual fixes:

        |w(t)|   = |w_svm| ln t + c / |w_svm|,    c = sum_n alpha_n ln(eta / alpha_n)
        gamma(t) = (ln t + ln(eta / max alpha)) / (|w_svm| ln t + c / |w_svm|)

    so |w| grows by |w_svm| ln 10 = ln 10 / gamma* per decade and
    gamma* - gamma(t) = gamma* E_alpha[ln(alpha_max / alpha_n)] / ln t + O(1/ln^2 t).

    Parameters
    ----------
    X : array_like, shape (N, d)
    y : array_like, shape (N,)
        Separable labels in {-1, +1}.
    lr : float
        Step size of GD on the mean loss (> 0).
    t : array_like, shape (T,)
        Steps (>= 1).

    Returns
    -------
    dict
        ``w_norm`` (T,), ``gamma`` (T,), ``gap`` (T,) = gamma* - gamma(t),
        ``gamma_star`` (float), ``per_decade`` (float) = |w_svm| ln 10,
        ``support`` (int) the number of support vectors.
    """
    X, y = _points(X, y)
    if not (np.isfinite(lr) and lr > 0):
        raise ConfigError("lr", lr, "must be a finite number > 0")
    t = np.asarray(t, dtype=float)
    if np.any(~np.isfinite(t)) or np.any(t < 1):
        raise ConfigError("t", "array", "steps must be finite and >= 1")
    Z = y[:, None] * X
    u, lam = _min_norm_point(Z)
    _, gamma_star = _certify(Z, u, "through the origin", "y")
    alpha = lam / gamma_star**2  # dual variables of min |w|^2 s.t. Zw >= 1
    sv = alpha > 1e-9 * alpha.max()
    a = alpha[sv]
    eta = lr / X.shape[0]
    W = 1.0 / gamma_star
    c = float(np.sum(a * np.log(eta / a)))
    L = np.log(t)
    norm = W * L + c / W
    gamma = (L + np.log(eta / a.max())) / norm
    return {
        "w_norm": norm,
        "gamma": gamma,
        "gap": gamma_star - gamma,
        "gamma_star": gamma_star,
        "per_decade": W * np.log(10.0),
        "support": int(sv.sum()),
    }


# -- representation metrics (docs/overtraining.md, section "Metrics") ------------------------


def network_margin(margins, distance, L: float = 2.0) -> float:
    """Normalized network margin min_i y_i f(x_i) / |theta - theta_0|^L.

    For an L-homogeneous network this is the quantity Lyu & Li (2020) show
    increases under gradient flow once the loss is small (docs/overtraining.md,
    section "Metrics"); for the centred network the distance from
    initialization replaces |theta|.

    Parameters
    ----------
    margins : array_like, shape (N,)
        y_i f(x_i) on the training set.
    distance : float
        |theta - theta_0| (> 0).
    L : float
        Homogeneity degree (2 for a bias-free two-layer ReLU net).

    Returns
    -------
    float
    """
    m = np.asarray(margins, dtype=float)
    if not distance > 0:
        raise ConfigError("distance", distance, "must be > 0")
    return float(m.min()) / float(distance) ** L


def hidden_svm_margin(h, y) -> float:
    """Hard-margin SVM margin of hidden representations after scale normalization.

    h is divided by the root-mean-square norm of its rows first, so a uniform
    growth of the activations does not inflate the margin; then the margin of
    :func:`max_margin_with_intercept` (0 when the classes overlap) is returned
    (docs/overtraining.md, section "Metrics").

    Parameters
    ----------
    h : array_like, shape (N, H)
        Hidden representations of the training set.
    y : array_like, shape (N,)
        Labels in {-1, +1}.

    Returns
    -------
    float
        Margin in units of the RMS representation norm.
    """
    h = np.asarray(h, dtype=float)
    scale = float(np.sqrt(np.mean(np.sum(h**2, axis=1))))
    if not scale > 0:
        return 0.0
    try:
        return max_margin_with_intercept(h / scale, y)[2]
    except ConfigError as exc:
        if exc.field == "y" and "separable" in exc.allowed:
            return 0.0
        raise


def target_nontarget_similarity(R, labels, cosine: bool = False) -> float:
    """S_TN: mean over target/nontarget pairs of r_t . r_u / D (or of their cosine).

    The similarity of Fig. 2 of the paper (dot products of z-scored population
    vectors between target and nontarget trials; docs/overtraining.md, section
    "Metrics").

    Parameters
    ----------
    R : array_like, shape (trials, D)
        Population vectors (z-scored for neural data).
    labels : array_like, shape (trials,)
        1 (or +1) for target trials, 0 or -1 for nontarget trials.
    cosine : bool
        Normalize each vector to unit length (then no 1/D).

    Returns
    -------
    float
    """
    R = np.asarray(R, dtype=float)
    t = np.asarray(labels) > 0
    if not t.any() or t.all():
        raise ConfigError("labels", "one class only", "needs target and nontarget trials")
    if cosine:
        R = R / np.maximum(np.linalg.norm(R, axis=1, keepdims=True), 1e-300)
        return float(R[t].mean(0) @ R[~t].mean(0))
    return float(R[t].mean(0) @ R[~t].mean(0)) / R.shape[1]


def _ledoit_wolf(Xc: np.ndarray) -> np.ndarray:
    """Ledoit-Wolf shrinkage of the covariance of centred rows Xc (n, D), O(n D^2)."""
    n, D = Xc.shape
    S = Xc.T @ Xc / n
    mu = np.trace(S) / D
    d2 = np.sum((S - mu * np.eye(D)) ** 2)
    sq = np.sum(Xc**2, axis=1)
    # sum_n |x_n x_n^T - S|_F^2 = sum_n |x_n|^4 - 2 sum_n x_n^T S x_n + n |S|_F^2
    b2 = (np.sum(sq**2) - 2 * np.sum((Xc @ S) * Xc) + n * np.sum(S**2)) / n**2
    shrink = min(b2, d2) / d2 if d2 > 0 else 1.0
    return shrink * mu * np.eye(D) + (1 - shrink) * S


def fisher_discriminant(A, B, shrinkage: str | float = "ledoit-wolf") -> float:
    """Fisher discriminant J = (mu_A - mu_B)^T S_W^-1 (mu_A - mu_B).

    S_W is the pooled within-class covariance, shrunk towards a multiple of
    the identity (Ledoit-Wolf, or a fixed intensity in [0, 1]) because the
    dimension is comparable to the number of examples (docs/overtraining.md,
    section "Metrics"; Fig. 6 of the paper).

    Parameters
    ----------
    A : array_like, shape (nA, D)
    B : array_like, shape (nB, D)
    shrinkage : "ledoit-wolf" or float
        Shrinkage intensity in [0, 1] (0: plain pooled covariance).

    Returns
    -------
    float
    """
    A = np.asarray(A, dtype=float)
    B = np.asarray(B, dtype=float)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[1] or len(A) + len(B) < 3:
        raise ConfigError("A", f"shapes {A.shape}, {B.shape}", "two (n, D) arrays, n_A + n_B >= 3")
    Xc = np.vstack([A - A.mean(0), B - B.mean(0)])
    if shrinkage == "ledoit-wolf":
        S = _ledoit_wolf(Xc)
    elif isinstance(shrinkage, int | float) and 0 <= shrinkage <= 1:
        S0 = Xc.T @ Xc / len(Xc)
        S = shrinkage * np.trace(S0) / S0.shape[0] * np.eye(S0.shape[0]) + (1 - shrinkage) * S0
    else:
        raise ConfigError("shrinkage", shrinkage, "'ledoit-wolf' or a number in [0, 1]")
    d = A.mean(0) - B.mean(0)
    return float(d @ np.linalg.solve(S, d))


def kernel_alignment(h, y, weights=None, center: bool = True) -> float:
    """Kernel-target alignment A(K, y) = y^T K y / (|K|_F |y|^2) of the feature kernel.

    K_ij = h_i . h_j with features centred (over the weighted examples);
    invariant to y -> -y, which is why features aligned to a task serve its
    reversal (docs/overtraining.md, section "Overtraining reversal").
    ``weights`` counts repeated examples (a weight w_i acts as w_i copies).

    Parameters
    ----------
    h : array_like, shape (N, H)
    y : array_like, shape (N,)
    weights : array_like, shape (N,), optional
        Non-negative example weights (multiplicities).
    center : bool

    Returns
    -------
    float
        In [-1, 1].
    """
    h = np.asarray(h, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    w = w / w.sum()
    if center:
        h = h - w @ h
    s = np.sqrt(w)
    K = (s[:, None] * h) @ (s[:, None] * h).T  # weighted kernel D^1/2 K D^1/2
    ys = s * y
    return float(ys @ K @ ys / (np.linalg.norm(K) * (ys @ ys)))


def transitions(margins, t, t_plateau: float) -> dict[str, np.ndarray]:
    """Late learners and the abruptness of their transition.

    With c_e(t) = 1[m_e(t) > 0] (m = y f, the signed logit), an example is a
    late learner if it is wrong at the plateau and right from some t_e > t_p
    on; abruptness is the fraction of its change m_e(end) - m_e(t_p) that
    happens within one log-decade centred on t_e (docs/overtraining.md,
    section "Metrics").

    Parameters
    ----------
    margins : array_like, shape (E, T)
        Signed logits of E held-out examples at T checkpoints.
    t : array_like, shape (T,)
        Increasing checkpoint times (> 0).
    t_plateau : float
        The plateau time t_p (one of the checkpoints or between two).

    Returns
    -------
    dict of numpy.ndarray
        ``late`` (E,) bool, ``t_e`` (E,) transition times (NaN when not late),
        ``abruptness`` (E,) in [0, 1] (NaN when not late).
    """
    m = np.asarray(margins, dtype=float)
    t = np.asarray(t, dtype=float)
    if m.ndim != 2 or m.shape[1] != t.shape[0] or np.any(np.diff(t) <= 0) or t[0] <= 0:
        raise ConfigError("t", "array", "increasing positive times matching margins (E, T)")
    lt = np.log(t)
    at_p = np.array([np.interp(np.log(t_plateau), lt, row) for row in m])
    after = t > t_plateau
    correct = m > 0
    # the last checkpoint after t_p from which an example stays correct
    tail = np.flip(np.cumprod(np.flip(correct & after[None, :], axis=1), axis=1), axis=1) > 0
    late = (at_p <= 0) & tail[:, -1]
    first = np.where(late, np.argmax(tail, axis=1), 0)
    t_e = np.where(late, t[first], np.nan)
    lo, hi = np.log(t_e) - 0.5 * np.log(10), np.log(t_e) + 0.5 * np.log(10)
    ab = np.full(m.shape[0], np.nan)
    for e in np.flatnonzero(late):
        total = m[e, -1] - at_p[e]
        part = np.interp(min(hi[e], lt[-1]), lt, m[e]) - np.interp(max(lo[e], lt[0]), lt, m[e])
        ab[e] = float(np.clip(part / total, 0.0, 1.0)) if total > 0 else np.nan
    return {"late": late, "t_e": t_e, "abruptness": ab}


def readout_residual(h, y, lr: float, steps, weights=None) -> np.ndarray:
    """Relative residual |r(t)|^2 / |r(0)|^2 of readout-only squared-loss GD on frozen features.

    GD on (1/2) sum_i w_i (v.h_i - y_i)^2 from v = 0 gives r(t) = f(X) - y with
    r(t) = sum_k (1 - lr lambda_k)^t (u_k . r(0)) u_k, where (lambda_k, u_k)
    are the eigenpairs of the weighted kernel D^1/2 H H^T D^1/2 (the discrete
    form of dr/dt = -K r; docs/overtraining.md, section "Overtraining
    reversal"): labels whose energy sits on large-lambda modes (high
    alignment) are fit, or reversed, fast.

    Parameters
    ----------
    h : array_like, shape (N, H)
        Frozen features.
    y : array_like, shape (N,)
        Targets (e.g. the reversed labels -y).
    lr : float
        Step size (> 0).
    steps : array_like of int, shape (T,)
    weights : array_like, shape (N,), optional
        Example weights w_i (default 1 / N).

    Returns
    -------
    numpy.ndarray, shape (T,)
    """
    h = np.asarray(h, dtype=float)
    y = np.asarray(y, dtype=float)
    if not (np.isfinite(lr) and lr > 0):
        raise ConfigError("lr", lr, "must be a finite number > 0")
    w = np.full(len(y), 1.0 / len(y)) if weights is None else np.asarray(weights, dtype=float)
    s = np.sqrt(w)
    lam, U = np.linalg.eigh((s[:, None] * h) @ (s[:, None] * h).T)
    c2 = (U.T @ (s * y)) ** 2
    steps = np.asarray(steps, dtype=float)
    decay = (1.0 - lr * lam)[None, :] ** (2 * steps[:, None])
    return decay @ c2 / c2.sum()
