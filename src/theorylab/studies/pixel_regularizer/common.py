"""Helpers shared by the experiments of ``pixel_regularizer``.

The study-level parameters (the tiny CNN, its SGD and the similarity loss),
the two offline data sets (scikit-learn digits, Fashion-MNIST) and the
training of one condition.  torch is imported only inside functions, so the
study imports (and ``theorylab show`` works) without it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theorylab.core.config import StudyConfig, param
from theorylab.core.errors import ConfigError

STUDY_ID = "pixel_regularizer"


@dataclass(frozen=True)
class Shared(StudyConfig):
    """The CNN, its SGD and the loss (docs/pixel_regularizer.md, sections Model and Training)."""

    c1: int = param(16, "channels of the first conv layer (the second has 2 c1)", ge=1, le=256)
    lr: float = param(0.05, "SGD learning rate", gt=0, le=1.0)
    momentum: float = param(0.9, "SGD momentum", ge=0, lt=1.0)
    batch: int = param(64, "task batch size", ge=1, le=4096)
    k: int = param(16, "pairs per regularization batch (2k extra images per step)", ge=1, le=1024)
    beta: float = param(0.9, "EMA factor of the running channel means", ge=0, lt=1.0)
    form: str = param(
        "code",
        "similarity loss: code (2 atanh via logs), paper (= code / 4) or mse",
        choices=("code", "paper", "mse"),
    )


def need_torch():
    """Import torch or raise a one-line error saying how to install the extra."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ConfigError(
            "study", STUDY_ID, "needs PyTorch: pip install 'theorylab[torch]' (torch==2.13.0)"
        ) from exc
    return torch


def digits(dtype="float64"):
    """scikit-learn's 8x8 digits in [0, 1]: images (1797, 1, 8, 8) and labels (1797,) tensors."""
    from sklearn.datasets import load_digits

    torch = need_torch()
    d = load_digits()
    x = torch.tensor(d.images[:, None] / 16.0, dtype=getattr(torch, dtype))
    return x, torch.tensor(d.target, dtype=torch.int64)


def fmnist(split, n):
    """The first ``n`` Fashion-MNIST images of a split, (n, 1, 28, 28) float32 in [0, 1], labels."""
    from theorylab.core.data import load_fashion_mnist

    torch = need_torch()
    x, y = load_fashion_mnist(split, n)
    return torch.tensor(x[:, None], dtype=torch.float32), torch.tensor(y)


def train_condition(p, seed, x, y, *, side, path, alpha=0.0, reg=None, steps, decay=()):
    """One trained :class:`simulate.TinyCNN` of a condition; (model, taps, log).

    Parameters
    ----------
    p : Shared
    seed : Seed
        Initialisation and batch streams are ``seed.integer(path, "init"/"batches")``.
    x, y : torch.Tensor, shapes (n, 1, side, side) and (n,)
    side : int
    path : str
        Name of the condition's streams (the surrogate has its own).
    alpha : float
    reg : tuple, optional
        (reg_images, targets, sampler) when alpha > 0.
    steps : int
    decay : tuple of float
        Fractions of the steps where the learning rate drops by 0.3.
    """
    torch = need_torch()
    from . import simulate as sim

    with sim.torch_mode():
        gen = torch.Generator().manual_seed(seed.integer(path, "init"))
        model = sim.TinyCNN(side, p.c1, 2 * p.c1, generator=gen).to(x.dtype)
        images, targets, sampler = reg if reg is not None else (None, None, None)
        taps, log = sim.train_regularized(
            model,
            x,
            y,
            reg_images=images,
            targets=targets,
            sampler=sampler,
            alpha=alpha,
            k=p.k,
            steps=steps,
            batch=p.batch,
            lr=p.lr,
            momentum=p.momentum,
            lr_decay=decay,
            form=p.form,
            beta=p.beta,
            seed=seed.integer(path, "batches"),
        )
    return model, taps, log


def seed_mean(sims, col, **where):
    """Mean over seeds of ``col`` on the rows matching ``where`` (NaN when none)."""
    m = np.ones(len(sims), dtype=bool)
    for k, v in where.items():
        m &= (sims[k] == v).to_numpy() if not isinstance(v, float) else np.isclose(sims[k], v)
    d = sims[m]
    return float(d.groupby("seed")[col].mean().mean()) if len(d) else float("nan")
