"""Offline data sets and where to find them.

Nothing here downloads at run time.  Loaders look in the places a fresh
machine can fill without a network at run time (packages installed from PyPI
or Debian, ``$THEORYLAB_DATA``, ``~/.cache/theorylab``) and raise
:class:`DataError` saying how to get what is missing.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import DataError


def data_dirs() -> list[Path]:
    """Folders searched for data files, in order."""
    dirs = []
    if os.environ.get("THEORYLAB_DATA"):
        dirs.append(Path(os.environ["THEORYLAB_DATA"]))
    dirs.append(Path.home() / ".cache" / "theorylab")
    return dirs


def load_digits_binary(standardize: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 digits, binarised: digits 0-4 -> -1, 5-9 -> +1.

    Parameters
    ----------
    standardize : bool
        Standardise every pixel to zero mean and unit variance over all 1797
        images (constant pixels are left at zero).  Otherwise pixels are
        scaled to [0, 1] (raw values / 16), which keeps every image's norm
        within a factor ~1.3 of the mean (standardising rare pixels creates
        images with 38x the mean squared norm).

    Returns
    -------
    X : numpy.ndarray, shape (1797, 64), float64
    y : numpy.ndarray, shape (1797,), float64 in {-1, +1}

    Raises
    ------
    DataError
        If scikit-learn (which ships the file) is not installed.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:  # pragma: no cover - sklearn is a dependency
        raise DataError(
            "the digits data set ships with scikit-learn: pip install scikit-learn"
        ) from exc
    data = load_digits()
    X = np.asarray(data.data, dtype=np.float64)
    y = np.where(np.asarray(data.target) >= 5, 1.0, -1.0)
    if standardize:
        mu = X.mean(axis=0)
        sd = X.std(axis=0)
        X = np.where(sd > 0, (X - mu) / np.where(sd > 0, sd, 1.0), 0.0)
    else:
        X = X / 16.0
    return X, y


@lru_cache(maxsize=2)
def digits_relu_gram(standardize: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Binarised digits and their ReLU (arc-cosine) kernel Gram matrix, cached.

    The kernel is that of ReLU features with He-scaled weights,
    k(x, x') = E_f[relu(f.x) relu(f.x')], f ~ N(0, (2/d) I).

    Returns
    -------
    X : numpy.ndarray, shape (1797, 64)
    y : numpy.ndarray, shape (1797,)
    K : numpy.ndarray, shape (1797, 1797)
    """
    from .kernels import relu_kernel

    X, y = load_digits_binary(standardize)
    return X, y, relu_kernel(X, weight_var=2.0 / X.shape[1])
