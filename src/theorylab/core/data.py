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


FASHION_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
#: where Debian's ``dataset-fashion-mnist`` package puts the four IDX files
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def _read_idx(path: Path) -> np.ndarray:
    """One gzip-compressed IDX file (the MNIST format) as a uint8 array."""
    import gzip

    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path} is not an unsigned-byte IDX file (magic {raw[:4]!r})")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise DataError(f"{path} is truncated: {data.size} bytes for shape {tuple(dims)}")
    return data.reshape(dims)


def fashion_mnist_dir() -> Path:
    """The folder holding the Fashion-MNIST IDX files, or a DataError saying how to get them.

    Searched in order: ``$THEORYLAB_DATA/fashion-mnist``, ``~/.cache/theorylab/fashion-mnist``,
    and Debian's ``/usr/share/datasets/fashion-mnist``.
    """
    candidates = [d / "fashion-mnist" for d in data_dirs()] + [DEBIAN_FASHION_MNIST]
    need = [f for pair in FASHION_MNIST_FILES.values() for f in pair]
    for folder in candidates:
        if all((folder / f).is_file() for f in need):
            return folder
    raise DataError(
        "Fashion-MNIST not found (looked in "
        + ", ".join(str(c) for c in candidates)
        + "): install Debian's package with `sudo apt-get install dataset-fashion-mnist`, "
        "or put the four files " + ", ".join(need) + " in $THEORYLAB_DATA/fashion-mnist"
    )


@lru_cache(maxsize=4)
def _fashion_mnist_cached(split: str) -> tuple[np.ndarray, np.ndarray]:
    folder = fashion_mnist_dir()
    img_name, lab_name = FASHION_MNIST_FILES[split]
    images = _read_idx(folder / img_name)
    labels = _read_idx(folder / lab_name)
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise DataError(
            f"Fashion-MNIST {split} files disagree: images {images.shape}, labels {labels.shape}"
        )
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def load_fashion_mnist(
    split: str = "train", n: int | None = None, classes: tuple[int, ...] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST (Xiao, Rasul, Vollgraf 2017) from local files, never the network.

    Parameters
    ----------
    split : {"train", "test"}
        The 60 000-image training set or the 10 000-image test set.
    n : int, optional
        Keep the first ``n`` images (after the class filter); all when None.
    classes : tuple of int, optional
        Keep only these labels (0-9, see ``FASHION_MNIST_CLASSES``); labels are not renumbered.

    Returns
    -------
    images : numpy.ndarray, shape (m, 28, 28), float64 in [0, 1]
    labels : numpy.ndarray, shape (m,), int64

    Raises
    ------
    ValueError
        On an unknown split, a negative ``n`` or a label outside 0-9.
    DataError
        If the files are missing (the message says how to install them) or malformed.
    """
    if split not in FASHION_MNIST_FILES:
        raise ValueError(f"split={split!r} is invalid: expected 'train' or 'test'")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0):
        raise ValueError(f"n={n!r} is invalid: expected a non-negative integer or None")
    images, labels = _fashion_mnist_cached(split)
    if classes is not None:
        bad = [c for c in classes if not 0 <= int(c) <= 9]
        if bad:
            raise ValueError(f"classes={classes!r} is invalid: labels are 0-9")
        keep = np.isin(labels, np.asarray(classes, dtype=np.int64))
        images, labels = images[keep], labels[keep]
    if n is not None:
        images, labels = images[:n], labels[:n]
    return images.astype(np.float64) / 255.0, labels.astype(np.int64)
