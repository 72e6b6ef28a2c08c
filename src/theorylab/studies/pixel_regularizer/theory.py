"""Similarity maths of the pixel-similarity regularizer: targets, pairs and the loss.

Paper: E. Attias, C. Pehlevan, D. Obeid, "A Brain-Inspired Regularizer for
Adversarial Robustness" / "Pixel-Based Similarities as an Alternative to Neural
Data for Improving Convolutional Neural Network Adversarial Robustness",
arXiv 2410.03952.  The sections cited below are those of
docs/pixel_regularizer.md.

Everything here is NumPy float64 except :func:`sim_loss` and
:func:`atanh_code`, which also accept PyTorch tensors (they are the training
loss); nothing here imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theorylab.core.errors import ConfigError, check_array, check_scalar

__all__ = [
    "LOSS_FORMS",
    "REG_RANGES",
    "TARGET_MODES",
    "PairSampler",
    "atanh_code",
    "pearson",
    "pixel_similarity",
    "select_pairs",
    "sim_loss",
    "threshold_targets",
]

TARGET_MODES = ("threshold", "pixel")
REG_RANGES = ("all", "high", "low", "positive", "negative")
LOSS_FORMS = ("code", "paper", "mse")
_DENSE = 0.02  # pair sets denser than this are rejection-sampled, sparser ones listed


def pixel_similarity(images, to_gray=True, center="dataset"):
    """Pixel similarity matrix S^pixel, docs/pixel_regularizer.md section "Targets" (Eq. 4).

    The images are flattened to vectors p_i, the mean image over the set is
    subtracted (per pixel, not per image), each row is normalised to unit L2
    norm (u_i) and S_ij = u_i . u_j.

    Parameters
    ----------
    images : array_like, shape (N, H, W) or (N, C, H, W)
        N >= 2 images.  With 4 dimensions and ``to_gray`` the channels are
        averaged first (the authors' RGB convention).
    to_gray : bool
        Average the channels of (N, C, H, W) input; otherwise they are flattened too.
    center : {"dataset", "per_image"}
        Subtract the dataset-mean image (the paper) or each image's own mean (ablation).

    Returns
    -------
    numpy.ndarray, shape (N, N)
        Symmetric float64 matrix with unit diagonal and entries in [-1, 1].

    Raises
    ------
    ConfigError
        On fewer than 2 images, a wrong number of dimensions, non-finite
        values, or an image that is constant after centring (zero norm).
    """
    if isinstance(images, list | tuple):
        shapes = {np.shape(im) for im in images}
        if len(shapes) > 1:
            raise ConfigError("images", f"images of shapes {sorted(shapes)}", "one common shape")
    x = check_array("images", images)
    if x.ndim not in (3, 4):
        raise ConfigError(
            "images", f"array of shape {x.shape}", "must be (N, H, W) or (N, C, H, W)"
        )
    if x.shape[0] < 2:
        raise ConfigError("images", f"array of shape {x.shape}", "needs at least 2 images")
    if center not in ("dataset", "per_image"):
        raise ConfigError("center", center, "must be 'dataset' or 'per_image'")
    if x.ndim == 4 and to_gray:
        x = x.mean(axis=1)
    p = x.reshape(x.shape[0], -1)
    u = p - (p.mean(axis=0, keepdims=True) if center == "dataset" else p.mean(1, keepdims=True))
    norms = np.linalg.norm(u, axis=1)
    if np.any(norms <= 1e-12 * max(1.0, float(np.abs(p).max()))):
        bad = int(np.argmin(norms))
        raise ConfigError("images", f"image {bad} with zero norm after centring", "non-constant")
    u = u / norms[:, None]
    S = u @ u.T
    S = 0.5 * (S + S.T)
    np.fill_diagonal(S, 1.0)
    return np.clip(S, -1.0, 1.0)


def _th(th) -> float:
    return check_scalar("th", th, "must be a number in [0, 1]", lambda v: 0.0 <= v <= 1.0)


def threshold_targets(S, th, mode="threshold"):
    """Targets S^Th (Eq. 5) or S^pixel, docs/pixel_regularizer.md section "Targets".

    ``threshold``: +1 where S > th, -1 where S < -th, 0 otherwise (diagonal
    +1); ``pixel``: S itself (the un-thresholded ablation, ``th`` unused but checked).

    Parameters
    ----------
    S : array_like, shape (N, N)
        Pixel similarities.
    th : float
        Threshold in [0, 1].
    mode : {"threshold", "pixel"}

    Returns
    -------
    numpy.ndarray, shape (N, N)
        float64 targets.
    """
    S = check_array("S", S, ndim=2)
    th = _th(th)
    if mode not in TARGET_MODES:
        raise ConfigError("mode", mode, f"must be one of {TARGET_MODES}")
    if mode == "pixel":
        return S.copy()
    T = np.where(S > th, 1.0, np.where(S < -th, -1.0, 0.0))
    np.fill_diagonal(T, 1.0)
    return T


@dataclass(frozen=True)
class PairSampler:
    """Lazy sampler of (i < j) pairs of one pair set (docs section "Pairs").

    Dense sets are rejection-sampled from uniform (i, j); sparse ones keep
    their flat index list.  Drawing uniformly with replacement is the
    statistical equivalent of the authors' shuffled pair list for ``all``.

    Attributes
    ----------
    S : numpy.ndarray, shape (N, N)
    th : float
    reg_range : str
    count : int
        Number of (i < j) pairs in the set.
    listed : numpy.ndarray or None, shape (count,)
        Flat indices i N + j of the pairs when the set is sparse.
    """

    S: np.ndarray
    th: float
    reg_range: str
    count: int
    listed: np.ndarray | None

    def accept(self, i, j):
        """Membership of pairs in the set.

        Parameters
        ----------
        i, j : numpy.ndarray, shape (m,)
            Indices with i < j.

        Returns
        -------
        numpy.ndarray, shape (m,), bool
        """
        return _member(self.S[i, j], self.th, self.reg_range)

    def sample(self, rng, k):
        """Draw ``k`` pairs of the set with replacement.

        Parameters
        ----------
        rng : numpy.random.Generator
        k : int

        Returns
        -------
        i, j : numpy.ndarray, shape (k,), int64, with i < j
        """
        n = self.S.shape[0]
        if self.listed is not None:
            flat = self.listed[rng.integers(0, self.listed.size, size=k)]
            return flat // n, flat % n
        got_i, got_j, have = [], [], 0
        while have < k:
            a = rng.integers(0, n, size=2 * k + 8)
            b = rng.integers(0, n, size=2 * k + 8)
            keep = a != b
            i, j = np.minimum(a, b)[keep], np.maximum(a, b)[keep]
            ok = self.accept(i, j)
            got_i.append(i[ok])
            got_j.append(j[ok])
            have += int(ok.sum())
        return np.concatenate(got_i)[:k].astype(np.int64), np.concatenate(got_j)[:k].astype(
            np.int64
        )


def _member(s, th, reg_range):
    a = np.abs(s)
    if reg_range == "all":
        return np.ones(np.shape(s), dtype=bool)
    if reg_range == "high":
        return a > th
    if reg_range == "low":
        return a < th
    if reg_range == "positive":
        return (s > th) | (a < th)
    return (s < -th) | (a < th)  # negative


def select_pairs(S, th, reg_range="all"):
    """The pair set of a ``reg_range`` variant, sampled lazily (docs section "Pairs").

    ``all``: every i < j; ``high``: |S| > th (targets +-1); ``low``: |S| < th
    (targets 0); ``positive``: S > th or |S| < th; ``negative``: S < -th or
    |S| < th.  No list of all N(N-1)/2 pairs is built: a dense set is
    rejection-sampled, a sparse one (< 2 % of the pairs) keeps its index list.

    Parameters
    ----------
    S : array_like, shape (N, N)
        Pixel similarities.
    th : float
        Threshold in [0, 1].
    reg_range : {"all", "high", "low", "positive", "negative"}

    Returns
    -------
    PairSampler

    Raises
    ------
    ConfigError
        On a bad argument, or an empty pair set.
    """
    S = check_array("S", S, ndim=2)
    th = _th(th)
    if reg_range not in REG_RANGES:
        raise ConfigError("reg_range", reg_range, f"must be one of {REG_RANGES}")
    n = S.shape[0]
    if n < 2 or S.shape[1] != n:
        raise ConfigError("S", f"array of shape {S.shape}", "must be square with N >= 2")
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    mask = upper & _member(S, th, reg_range)
    count = int(mask.sum())
    if count == 0:
        raise ConfigError("th", th, f"leaves no pair in reg_range={reg_range!r}")
    listed = np.flatnonzero(mask) if count < _DENSE * n * (n - 1) / 2 else None
    return PairSampler(S, th, reg_range, count, listed)


def atanh_code(x, eps=1e-5):
    """A(x) = log(1 + x + eps) - log(1 - x + eps) ~ 2 atanh(x), docs section "Loss".

    The authors' code form of the arctanh transform (the paper's Eq. 3 uses
    atanh): finite at x = +-1, A(+-1) = +-log((2 + eps) / eps) = +-12.206 for eps = 1e-5.

    Parameters
    ----------
    x : array_like or torch.Tensor, shape (m,)
    eps : float

    Returns
    -------
    numpy.ndarray or torch.Tensor, shape (m,)
    """
    if hasattr(x, "log1p") and not isinstance(x, np.ndarray):  # a torch tensor
        return (1.0 + x + eps).log() - (1.0 - x + eps).log()
    x = np.asarray(x, dtype=np.float64)
    return np.log(1.0 + x + eps) - np.log(1.0 - x + eps)


def sim_loss(s_cnn, s_tgt, form="code", eps=1e-5, reduce="mean"):
    """The similarity loss L_sim, docs section "Loss" (paper Eq. 3 and the code form).

    ``code``: mean (A(s_cnn) - A(s_tgt))^2 with A = :func:`atanh_code` (~ 2
    atanh, what the authors' numbers used); ``paper``: the same with
    atanh_eps = A / 2, i.e. exactly ``code / 4`` (the paper's alpha is the
    code's alpha times 4); ``mse``: mean (s_cnn - s_tgt)^2.

    Parameters
    ----------
    s_cnn, s_tgt : array_like or torch.Tensor, shape (k,)
        CNN and target similarities of k pairs.
    form : {"code", "paper", "mse"}
    eps : float
        > 0 for ``code`` and ``paper``.
    reduce : {"mean", "sum"}
        Mean over the pairs (the code) or their sum (the paper's Eq. 3).

    Returns
    -------
    float or torch.Tensor (0-d)
    """
    if form not in LOSS_FORMS:
        raise ConfigError("form", form, f"must be one of {LOSS_FORMS}")
    if reduce not in ("mean", "sum"):
        raise ConfigError("reduce", reduce, "must be 'mean' or 'sum'")
    eps = check_scalar("eps", eps, "must be a number > 0", lambda v: v > 0)
    torch_in = hasattr(s_cnn, "log1p") and not isinstance(s_cnn, np.ndarray)
    if not torch_in:
        s_cnn = np.asarray(s_cnn, dtype=np.float64)
        s_tgt = np.asarray(s_tgt, dtype=np.float64)
    if s_cnn.shape != s_tgt.shape:
        raise ConfigError(
            "s_tgt", f"shape {tuple(s_tgt.shape)}", f"must match {tuple(s_cnn.shape)}"
        )
    if form == "mse":
        d2 = (s_cnn - s_tgt) ** 2
    else:
        d2 = (atanh_code(s_cnn, eps) - atanh_code(s_tgt, eps)) ** 2
        if form == "paper":
            d2 = d2 / 4.0
    out = d2.mean() if reduce == "mean" else d2.sum()
    return out if torch_in else float(out)


def pearson(a, b):
    """Pearson correlation of two samples (the fit check, docs section "Checks").

    Parameters
    ----------
    a, b : array_like, shape (m,)

    Returns
    -------
    float
    """
    a = np.asarray(a, dtype=np.float64) - np.mean(a)
    b = np.asarray(b, dtype=np.float64) - np.mean(b)
    den = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / den) if den > 0 else 0.0
