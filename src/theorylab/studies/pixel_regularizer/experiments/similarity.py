"""Experiment ``similarity``: the invariants of S^pixel and of the loss's arctanh form.

On the first ``n_images`` scikit-learn digits (and, for the NumPy
reference, on random images): S^pixel is symmetric with unit diagonal, the
centred Gram matrix diag(n) S diag(n) has zero row sums (dataset-mean
centring), and :func:`theory.pixel_similarity` equals an explicit
loop-free-of-shortcuts NumPy reference; the code form A(x) of 2 atanh(x)
deviates from it by its first-order eps term only and is +-12.206 at +-1
(docs/pixel_regularizer.md, sections "Targets" and "Loss").  No torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.checks import Claim, NotEvaluable
from theorylab.core.config import param
from theorylab.core.experiment import Experiment as _Experiment
from theorylab.core.experiment import Seed, frame
from theorylab.core.plotting import figure, finish

from .. import theory as th
from ..common import STUDY_ID, Shared

NAME = "similarity"
INVARIANT_TOL = 1e-10  # float64 round-off on N <= 2000 images of 64-784 pixels is ~1e-14
A_ONE = 12.206  # log((2 + 1e-5) / 1e-5) = 12.2061, the value to its 3 decimals
# A(x) - 2 atanh(x) = -2 eps x / (1 - x^2) + O(eps^2): the check allows 1 % on that term
A_SLACK = 1.01


@dataclass(frozen=True)
class Params(Shared):
    """Parameters of ``similarity``."""

    n_images: int = param(500, "digits in the similarity matrix", ge=3, le=1797)
    th_values: tuple[float, ...] = param(
        (0.2, 0.4, 0.6, 0.8), "thresholds of the pair-count table", ge=0, le=1
    )


def _reference(images: np.ndarray) -> np.ndarray:
    """S^pixel written out plainly: explicit mean image, norms and dot products."""
    flat = images.reshape(images.shape[0], -1)
    mean = flat.sum(axis=0) / flat.shape[0]
    u = [(row - mean) / np.sqrt(np.dot(row - mean, row - mean)) for row in flat]
    return np.array([[float(np.dot(a, b)) for b in u] for a in u])


def theory(p: Params) -> pd.DataFrame:
    """Invariant residuals and pair counts (one row per quantity)."""
    from sklearn.datasets import load_digits

    imgs = load_digits().images[: p.n_images] / 16.0
    S = th.pixel_similarity(imgs)
    flat = imgs.reshape(len(imgs), -1)
    norms = np.linalg.norm(flat - flat.mean(0), axis=1)
    gram = norms[:, None] * S * norms[None, :]
    rnd = Seed(STUDY_ID, NAME, 0).rng("random_images").random((60, 7, 9))
    rows = dict(
        asymmetry=np.abs(S - S.T).max(),
        diagonal=np.abs(np.diag(S) - 1.0).max(),
        row_sums=np.abs(gram.sum(1)).max() / max(1.0, float(np.abs(gram).max())),
        bound=max(0.0, float(np.abs(S).max() - 1.0)),
        reference=np.abs(th.pixel_similarity(rnd) - _reference(rnd)).max(),
    )
    x = np.linspace(-0.99, 0.99, 397)
    dev = np.abs(th.atanh_code(x) - 2 * np.arctanh(x))
    bound = A_SLACK * 2e-5 * np.abs(x) / (1 - x**2) + 1e-12
    rows |= dict(
        atanh_excess=float(np.max(dev / bound)),
        atanh_dev_09=float(dev[np.abs(x) <= 0.9].max()),
        A_plus_one=float(th.atanh_code(1.0)),
        A_minus_one=float(th.atanh_code(-1.0)),
    )
    iu = np.triu_indices(len(S), 1)
    for t in p.th_values:
        rows[f"frac_high_th{t:g}"] = float((np.abs(S[iu]) > t).mean())
    return frame(quantity=list(rows), value=[float(v) for v in rows.values()])


def _value(theory, name):
    if theory.empty or "quantity" not in theory:
        raise NotEvaluable("no theory table")
    v = theory.loc[theory.quantity == name, "value"]
    if v.empty:
        raise NotEvaluable(f"no {name} row")
    return float(v.iloc[0])


def _invariants(p, theory, sims):
    names = ("asymmetry", "diagonal", "row_sums", "bound", "reference")
    vals = {n: _value(theory, n) for n in names}
    return max(vals.values()), ", ".join(f"{n} {v:.2g}" for n, v in vals.items())


def _atanh(p, theory, sims):
    ex = _value(theory, "atanh_excess")
    a1, am1 = _value(theory, "A_plus_one"), _value(theory, "A_minus_one")
    err = max(abs(a1 - A_ONE), abs(am1 + A_ONE)) / 1e-3
    return max(ex, err), (
        f"max |A - 2 atanh| / (1.01 * 2 eps |x| / (1 - x^2)) over |x| <= 0.99 = {ex:.3f}; "
        f"A(1) = {a1:.4f}, A(-1) = {am1:.4f} (|A(+-1)| - 12.206 in units of 1e-3: {err:.2f}); "
        f"max |A - 2 atanh| for |x| <= 0.9: {_value(theory, 'atanh_dev_09'):.2e}"
    )


CHECKS = (
    Claim(
        "pixel_similarity_invariants",
        _invariants,
        "<=",
        INVARIANT_TOL,
        "S^pixel of digits: max of |S - S^T|, |diag - 1|, centred-Gram row sums, |S| - 1, and "
        "the distance to a plain NumPy reference on random images",
        kind="agreement",
    ),
    Claim(
        "atanh_code_form",
        _atanh,
        "<=",
        1.0,
        "A(x) = log(1+x+eps) - log(1-x+eps) vs 2 atanh(x) (eps = 1e-5) and A(+-1) = +-12.206",
        kind="agreement",
    ),
)


def figures(p: Params, theory, sims) -> dict:
    """A(x) against 2 atanh(x)."""
    fig, ax = figure(ncols=2, width=3.2)
    x = np.linspace(-1, 1, 801)
    ax[0].plot(x, th.atanh_code(x), label="A(x), eps = 1e-5")
    xi = x[1:-1]
    ax[0].plot(xi, 2 * np.arctanh(xi), "--", label="2 atanh(x)")
    finish(ax[0], xlabel="similarity x", ylabel="transform")
    ax[0].legend()
    ax[1].semilogy(
        xi, np.abs(th.atanh_code(xi) - 2 * np.arctanh(xi)) + 1e-18, label="|A - 2 atanh|"
    )
    ax[1].semilogy(xi, 2e-5 * np.abs(xi) / (1 - xi**2), ":", label="2 eps |x| / (1 - x^2)")
    finish(ax[1], xlabel="similarity x", ylabel="deviation")
    ax[1].legend()
    return {"similarity_atanh": fig}


EXPERIMENT = _Experiment(
    name=NAME,
    doc="pixel-similarity invariants and the code's arctanh form",
    params=Params,
    theory=theory,
    checks=CHECKS,
    figures=figures,
)
