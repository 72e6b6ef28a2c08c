"""Helpers shared by the experiments of ``adaptive_kernels``: data sets and table helpers.

Every data set is fixed by the experiment's parameters alone (its draws come
from the name-derived stream ``Seed(study, experiment, 0).rng("task")``), so the
theory and every simulation seed see the same points; the seeds vary only the
networks (docs/adaptive_kernels.md, section "Data").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from theorylab.core.checks import NotEvaluable
from theorylab.core.errors import DataError
from theorylab.core.experiment import Seed

STUDY_ID = "adaptive_kernels"
FASHION_PAIR = (2, 4)  # pullover vs coat: a hard Fashion-MNIST pair


def task_rng(experiment: str, *path) -> np.random.Generator:
    """The data stream of an experiment (seed 0 of its name-derived streams)."""
    return Seed(STUDY_ID, experiment, 0).rng("task", *path)


def theory_seed(experiment: str) -> Seed:
    """The seed of an experiment's theory (a fixed population / sample bank)."""
    return Seed(STUDY_ID, experiment + "_theory", 0)


def teacher_task(experiment: str, D: int, n: int):
    """Synthetic task: x ~ N(0, I_D), y = tanh(w*.x / sqrt(D)) + 0.5 tanh(x_1 x_2).

    Returns
    -------
    X : numpy.ndarray, shape (n, D)
    y : numpy.ndarray, shape (n,)
    """
    rng = task_rng(experiment, "teacher", D, n)
    w = rng.standard_normal(D)
    X = rng.standard_normal((n, D))
    y = np.tanh(X @ w / np.sqrt(D)) + 0.5 * np.tanh(X[:, 0] * X[:, 1])
    return X, y


def _standardise(X):
    mu, sd = X.mean(axis=0), X.std(axis=0)
    return np.where(sd > 0, (X - mu) / np.where(sd > 0, sd, 1.0), 0.0)


def digit_pair(pair=(4, 9)):
    """scikit-learn's 8x8 digits restricted to a pair, labels -1 / +1, pixels standardised.

    Returns
    -------
    X : numpy.ndarray, shape (n, 64)
    y : numpy.ndarray, shape (n,)
        -1 for ``pair[0]``, +1 for ``pair[1]``.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:  # pragma: no cover - sklearn is a dependency
        raise DataError("the digits data set ships with scikit-learn") from exc
    d = load_digits()
    keep = np.isin(d.target, pair)
    X = np.asarray(d.data[keep], dtype=np.float64)
    y = np.where(d.target[keep] == pair[1], 1.0, -1.0)
    return _standardise(X), y


def fashion_pair(n: int, pair=FASHION_PAIR):
    """Fashion-MNIST training images of a class pair, flattened and standardised.

    Returns
    -------
    X : numpy.ndarray, shape (n, 784)
    y : numpy.ndarray, shape (n,)
    """
    from theorylab.core.data import load_fashion_mnist

    images, labels = load_fashion_mnist("train", n, tuple(pair))
    X = images.reshape(len(images), -1)
    return _standardise(X), np.where(labels == pair[1], 1.0, -1.0)


def real_split(experiment: str, dataset: str, P: int, P_test: int):
    """A shuffled train / test split of a real data set (fixed by the names).

    Returns
    -------
    tuple of numpy.ndarray
        ``X (P, D), y (P,), X_test (Pt, D), y_test (Pt,)``.
    """
    if dataset == "digits":
        X, y = digit_pair()
    else:
        X, y = fashion_pair(4 * (P + P_test))
    perm = task_rng(experiment, "split", dataset).permutation(len(y))
    X, y = X[perm], y[perm]
    Pt = min(P_test, len(y) - P)
    return X[:P], y[:P], X[P : P + Pt], y[P : P + Pt]


def need(df: pd.DataFrame, what: str) -> pd.DataFrame:
    """``df``, or NotEvaluable when it is empty."""
    if df is None or df.empty:
        raise NotEvaluable(f"no {what} rows")
    return df


def matrix_rows(M, **labels) -> pd.DataFrame:
    """A (n, m) matrix as tidy rows ``i, j, value`` plus constant label columns."""
    M = np.asarray(M)
    i, j = np.meshgrid(np.arange(M.shape[0]), np.arange(M.shape[1]), indexing="ij")
    return pd.DataFrame(dict(i=i.ravel(), j=j.ravel(), value=M.ravel())).assign(**labels)


def to_matrix(df: pd.DataFrame) -> np.ndarray:
    """Inverse of :func:`matrix_rows` (mean over duplicate (i, j), e.g. seeds)."""
    g = df.groupby(["i", "j"])["value"].mean()
    i = g.index.get_level_values(0).to_numpy().astype(int)
    j = g.index.get_level_values(1).to_numpy().astype(int)
    out = np.full((i.max() + 1, j.max() + 1), np.nan)
    out[i, j] = g.to_numpy()
    return out


def rel_frob(A, B) -> float:
    """|A - B|_F / |B|_F."""
    return float(np.linalg.norm(np.asarray(A) - np.asarray(B)) / np.linalg.norm(B))
