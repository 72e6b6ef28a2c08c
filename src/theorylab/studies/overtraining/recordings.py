"""Population recordings: the data format, a loader, and the paper's analyses.

The paper reanalyses posterior piriform recordings of 4 mice over ~26 days
(Berners-Lee, Shtrahman, Grimaud & Murthy 2023, PLOS Biology,
doi:10.1371/journal.pbio.3002086).  Those data are not bundled and cannot be
fetched offline; this module defines the format the analyses read
(mouse -> day -> trials x neurons), a loader for it (:func:`load_recordings`),
and the analyses of Section 2 of the paper as described by its reviews
(docs/overtraining.md, section "Neural analyses"): per day, cross-validated
decoding accuracy, linear-SVM margin, target-nontarget similarity S_TN and
behavioural accuracy; across overtraining days, per-mouse slopes with a
permutation test and a pooled (Fisher-combined) p-value.

The synthetic stand-in with known ground truth (and its null) is built by
the ``neural`` experiment from the odor networks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import stats

from theorylab.core.errors import ConfigError, DataError

from . import theory as th

__all__ = [
    "Day",
    "Recordings",
    "analyze_day",
    "decoding_accuracy",
    "fisher_combine",
    "load_recordings",
    "permutation_slope",
    "svm_margin",
    "zscore",
]

SOURCE = (
    "Berners-Lee et al. 2023, PLOS Biology, doi:10.1371/journal.pbio.3002086 (see their Data "
    "Availability statement)"
)
REQUIRED = ("responses", "labels")


@dataclass(frozen=True)
class Day:
    """One recording session.

    Attributes
    ----------
    responses : numpy.ndarray, shape (trials, neurons)
        Firing rates (or any response), one row per trial.
    labels : numpy.ndarray, shape (trials,)
        1 for target trials, 0 for nontarget trials.
    choices : numpy.ndarray, shape (trials,)
        The animal's report (1 target, 0 nontarget); NaN where unknown.
    odors : numpy.ndarray, shape (trials,)
        Odor identity per trial (-1 where unknown).
    """

    responses: np.ndarray
    labels: np.ndarray
    choices: np.ndarray
    odors: np.ndarray


@dataclass(frozen=True)
class Recordings:
    """Recordings of several mice: mouse -> list of days, with the first overtraining day.

    Attributes
    ----------
    mice : dict of str to list of Day
    overtraining_start : dict of str to int
        Index (0-based) of each mouse's first overtraining day.
    """

    mice: dict[str, list[Day]]
    overtraining_start: dict[str, int] = field(default_factory=dict)


def load_recordings(path, overtraining_start: int | None = None) -> Recordings:
    """Read recordings stored as ``PATH/<mouse>/<day>.npz`` (days sorted by file name).

    Each ``.npz`` holds ``responses`` (trials, neurons) and ``labels``
    (trials,) with 1 = target, 0 = nontarget, and optionally ``choices``
    (trials,) and ``odors`` (trials,).  An optional ``PATH/<mouse>/start.txt``
    holds the index of the first overtraining day (docs/overtraining.md,
    section "Neural analyses").

    Parameters
    ----------
    path : str or pathlib.Path
        The folder of mice.
    overtraining_start : int, optional
        First overtraining day for mice without ``start.txt`` (default: day 0).

    Returns
    -------
    Recordings

    Raises
    ------
    DataError
        If the folder, a mouse's days or a required array is missing, naming
        what is missing and where the data come from.
    """
    root = Path(path)
    if not root.is_dir():
        raise DataError(
            f"no recordings at {root}: the piriform data of {SOURCE} are not bundled; download "
            f"them and convert each session to {root}/<mouse>/<day>.npz with arrays "
            f"{', '.join(REQUIRED)} (and optionally choices, odors)"
        )
    mice, start = {}, {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        files = sorted(folder.glob("*.npz"))
        if not files:
            raise DataError(f"{folder}: no <day>.npz files")
        days = []
        for f in files:
            with np.load(f, allow_pickle=False) as z:
                missing = [k for k in REQUIRED if k not in z.files]
                if missing:
                    raise DataError(f"{f}: missing array(s) {missing} (has {sorted(z.files)})")
                R, y = np.asarray(z["responses"], float), np.asarray(z["labels"], float)
                if R.ndim != 2 or y.shape != (R.shape[0],):
                    raise DataError(f"{f}: responses must be (trials, neurons), labels (trials,)")
                ch = (
                    np.asarray(z["choices"], float)
                    if "choices" in z.files
                    else np.full(len(y), np.nan)
                )
                od = np.asarray(z["odors"]) if "odors" in z.files else np.full(len(y), -1)
            days.append(Day(R, y, ch, od))
        mice[folder.name] = days
        s = folder / "start.txt"
        start[folder.name] = (
            int(s.read_text().strip()) if s.is_file() else int(overtraining_start or 0)
        )
    if not mice:
        raise DataError(f"{root}: no mouse folders (expected {root}/<mouse>/<day>.npz)")
    return Recordings(mice, start)


def zscore(R) -> np.ndarray:
    """Z-score every neuron (column) within one day (constant neurons become 0).

    Parameters
    ----------
    R : array_like, shape (trials, neurons)

    Returns
    -------
    numpy.ndarray, shape (trials, neurons)
    """
    R = np.asarray(R, dtype=float)
    sd = R.std(axis=0)
    return (R - R.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def decoding_accuracy(R, labels, folds: int = 5, shrinkage="ledoit-wolf") -> float:
    """Cross-validated accuracy of a shrinkage linear discriminant (target vs nontarget).

    Folds are stratified and deterministic (the i-th trial of each class goes
    to fold i mod ``folds``); the decoder is w = S_W^-1 (mu_1 - mu_0) with a
    Ledoit-Wolf-shrunk pooled covariance, threshold at the midpoint of the
    projected class means.

    Parameters
    ----------
    R : array_like, shape (trials, neurons)
    labels : array_like, shape (trials,)
        1 target, 0 nontarget.
    folds : int
        Number of folds (>= 2, at most the smaller class size).
    shrinkage : "ledoit-wolf" or float

    Returns
    -------
    float
        Fraction of held-out trials classified correctly.
    """
    R = np.asarray(R, dtype=float)
    y = np.asarray(labels) > 0
    n_min = min(y.sum(), (~y).sum())
    if not 2 <= folds <= n_min:
        raise ConfigError("folds", folds, f"must be in [2, {n_min}] (the smaller class size)")
    fold = np.empty(len(y), dtype=int)
    for cls in (True, False):
        idx = np.flatnonzero(y == cls)
        fold[idx] = np.arange(idx.size) % folds
    correct = 0
    for f in range(folds):
        tr, te = fold != f, fold == f
        A, B = R[tr & y], R[tr & ~y]
        Xc = np.vstack([A - A.mean(0), B - B.mean(0)])
        S = th._ledoit_wolf(Xc) if shrinkage == "ledoit-wolf" else _shrunk(Xc, shrinkage)
        w = np.linalg.solve(S + 1e-12 * np.eye(S.shape[0]), A.mean(0) - B.mean(0))
        c = 0.5 * (A.mean(0) + B.mean(0)) @ w
        correct += np.sum((R[te] @ w > c) == y[te])
    return float(correct / len(y))


def _shrunk(Xc: np.ndarray, s: float) -> np.ndarray:
    S = Xc.T @ Xc / len(Xc)
    return s * np.trace(S) / S.shape[0] * np.eye(S.shape[0]) + (1 - s) * S


def svm_margin(R, labels, C: float = 1.0) -> tuple[float, float]:
    """Margins of a soft-margin linear SVM with intercept (scikit-learn ``SVC``).

    Returns the geometric margin 1 / |w| (the hard margin on separable days
    with large C) and the mean signed distance of the trials to the
    hyperplane, mean_i y_i (w.x_i + b) / |w|.  Noisy recordings are rarely
    separable; there 1 / |w| depends on C and need not grow with the
    separation of the classes, while the mean signed distance does
    (docs/overtraining.md, section "Neural analyses").

    Parameters
    ----------
    R : array_like, shape (trials, neurons)
    labels : array_like, shape (trials,)
        1 target, 0 nontarget.
    C : float
        Soft-margin penalty (> 0).

    Returns
    -------
    width : float
        1 / |w|.
    mean_distance : float
        mean_i y_i (w.x_i + b) / |w| with y in {-1, +1}.
    """
    from sklearn.svm import SVC

    R = np.asarray(R, float)
    y = np.where(np.asarray(labels) > 0, 1.0, -1.0)
    svc = SVC(kernel="linear", C=C).fit(R, y)
    norm = float(np.linalg.norm(svc.coef_))
    return 1.0 / norm, float(np.mean(y * svc.decision_function(R)) / norm)


def analyze_day(day: Day, folds: int = 5, C: float = 1.0) -> dict[str, float]:
    """Decoding accuracy, SVM margin, S_TN and behavioural accuracy of one day (z-scored).

    Parameters
    ----------
    day : Day
    folds : int
        Cross-validation folds of the decoder.
    C : float
        SVM penalty.

    Returns
    -------
    dict
        ``decoding``, ``margin`` (mean signed distance to the SVM hyperplane),
        ``svm_width`` (1 / |w|), ``stn`` (mean z-scored dot product / D),
        ``behavior`` (fraction of choices equal to the label; NaN if unknown).
    """
    Z = zscore(day.responses)
    known = np.isfinite(day.choices)
    width, distance = svm_margin(Z, day.labels, C)
    return {
        "decoding": decoding_accuracy(Z, day.labels, folds),
        "margin": distance,
        "svm_width": width,
        "stn": th.target_nontarget_similarity(Z, day.labels),
        "behavior": float(np.mean(day.choices[known] == day.labels[known]))
        if known.any()
        else np.nan,
    }


def permutation_slope(x, v, rng: np.random.Generator, n_perm: int = 2000, sign: int = 1):
    """OLS slope of v on x and its one-sided permutation p-value.

    p = (1 + #{permutations with sign * slope >= sign * observed}) / (1 + n_perm),
    permuting the order of the days.

    Parameters
    ----------
    x : array_like, shape (days,)
    v : array_like, shape (days,)
    rng : numpy.random.Generator
    n_perm : int
    sign : {1, -1}
        The direction tested (1: increasing).

    Returns
    -------
    slope : float
    p : float
    """
    x = np.asarray(x, float) - np.mean(x)
    v = np.asarray(v, float)
    slope = float(x @ v / (x @ x))
    perms = np.argsort(rng.random((n_perm, x.size)), axis=1)
    null = (v[perms] @ x) / (x @ x)
    return slope, float((1 + np.sum(sign * null >= sign * slope)) / (1 + n_perm))


def fisher_combine(p) -> float:
    """Fisher's pooled p-value of independent tests: chi2 = -2 sum ln p with 2K d.o.f.

    Parameters
    ----------
    p : array_like, shape (K,)

    Returns
    -------
    float
    """
    p = np.asarray(p, float)
    return float(stats.chi2.sf(-2 * np.sum(np.log(p)), 2 * p.size))
