"""Helpers shared by the experiments of ``overtraining``.

The study-level parameters (the odor task and the centred network every
network experiment trains), the batch of networks of a list of seeds
(task and initialization per seed, one network per (seed, loss)), the
plateau epoch t_p and the per-checkpoint measurements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from theorylab.core.config import StudyConfig, param
from theorylab.core.errors import ConfigError
from theorylab.core.experiment import Seed

from . import simulate as sim
from . import theory as th

STUDY_ID = "overtraining"


@dataclass(frozen=True)
class Shared(StudyConfig):
    """The odor task and the centred two-layer network (docs/overtraining.md, section Model).

    The reconstruction of the paper's synthetic model: the step is
    eta / alpha^2, so the early dynamics do not depend on alpha.
    """

    k: int = param(100, "odorants (input dimension)", ge=2, le=10_000)
    n: int = param(10, "odorants per mixture (n-hot inputs); n < k", ge=1, le=1000)
    H: int = param(100, "hidden units", ge=1, le=16_384)
    alpha: float = param(10.0, "output scale alpha of the centred network (laziness)", gt=0, le=1e4)
    eta: float = param(2.0, "learning rate; the GD step is eta / alpha^2", gt=0, le=100.0)
    m_target: int = param(100, "target copies in the training set", ge=1, le=100_000)
    m_non: int = param(100, "nontarget mixtures in the training set", ge=1, le=100_000)
    sigma_in: float = param(0.0, "input noise x <- x + sigma_in xi", ge=0.0, le=10.0)
    hinge_eta: float = param(
        0.5, "learning rate of the hinge-loss networks (step hinge_eta / alpha^2)", gt=0, le=100.0
    )
    dtype: str = param(
        "float32", "arithmetic of the network training loops", choices=("float32", "float64")
    )
    max_epochs: int = param(
        20_000, "cap on the epochs searched for the plateau t_p", ge=1, le=10_000_000
    )

    def check(self) -> None:
        if self.n >= self.k:
            raise ConfigError("n", self.n, f"must be < k={self.k}")


def check_multiple(p, field: str, value: float) -> None:
    """Raise :class:`ConfigError` on ``field`` unless ``value`` is one of its entries."""
    if not any(abs(v - value) < 1e-12 for v in getattr(p, field)):
        raise ConfigError(field, getattr(p, field), f"must contain {value:g} (the checks use it)")


@dataclass
class Batch:
    """Networks of several (seed, loss) pairs, stacked on axis 0.

    Attributes
    ----------
    seed : numpy.ndarray, shape (B,)
    loss : numpy.ndarray of str, shape (B,)
    hinge : numpy.ndarray of bool, shape (B,)
    X, y, w : numpy.ndarray, shapes (B, N, k), (B, N), (B, N)
        Training inputs, labels (+1 target), example weights.
    P, p_overlap : numpy.ndarray, shapes (B, E, k), (B, E)
        Held-out probes (all nontargets, label -1) and their overlaps.
    W0, a0 : numpy.ndarray, shapes (B, H, k), (B, H)
        Initial weights.
    g0, g0_probe : numpy.ndarray, shapes (B, N), (B, E)
        The centring terms g(x; W0, a0).
    lr : numpy.ndarray, shape (B,)
        GD step eta / alpha^2 (hinge_eta / alpha^2 for hinge networks).
    T, support : numpy.ndarray, shapes (B, k), (B, n)
        The target odor and its odorants.
    """

    seed: np.ndarray
    loss: np.ndarray
    hinge: np.ndarray
    X: np.ndarray
    y: np.ndarray
    w: np.ndarray
    P: np.ndarray
    p_overlap: np.ndarray
    W0: np.ndarray
    a0: np.ndarray
    g0: np.ndarray
    g0_probe: np.ndarray
    lr: np.ndarray
    T: np.ndarray
    support: np.ndarray


def make_batch(p, seeds: Sequence[Seed], losses=("logistic",), probes: int = 1) -> Batch:
    """One task and one initialization per seed, one network per (seed, loss).

    The networks of one seed share task and initialization (``seed.rng("task")``,
    ``seed.rng("init")``), so the losses are compared on the same realisation.
    """
    parts = []
    for s in seeds:
        task = sim.odor_task(
            s.rng("task"),
            k=p.k,
            n=p.n,
            m_target=p.m_target,
            m_non=p.m_non,
            probes=probes,
            sigma_in=p.sigma_in,
        )
        W0, a0 = sim.init_network(s.rng("init"), p.H, p.k, p.n)
        for loss in losses:
            parts.append((s.seed, loss, task, W0, a0))
    stack = lambda key: np.stack([t[key] for _, _, t, _, _ in parts])  # noqa: E731
    W0 = np.stack([x[3] for x in parts])
    a0 = np.stack([x[4] for x in parts])
    X, P = stack("X"), stack("P")
    _, g0 = sim.forward(W0, a0, X)
    _, g0p = sim.forward(W0, a0, P)
    loss = np.array([x[1] for x in parts])
    return Batch(
        seed=np.array([x[0] for x in parts]),
        loss=loss,
        hinge=loss == "hinge",
        X=X,
        y=stack("y"),
        w=stack("w"),
        P=P,
        p_overlap=stack("p_overlap"),
        W0=W0,
        a0=a0,
        g0=g0,
        g0_probe=g0p,
        lr=np.where(loss == "hinge", p.hinge_eta, p.eta) / p.alpha**2,
        T=stack("T"),
        support=stack("support"),
    )


def train(p, b: Batch, W, a, n_steps, *, y=None, g0=None, stop: bool = False):
    """GD of every network of ``b`` from (W, a) for ``n_steps`` (B,) steps (see sim.train_gd)."""
    return sim.train_gd(
        W,
        a,
        b.X,
        b.y if y is None else y,
        b.w,
        b.g0 if g0 is None else g0,
        alpha=p.alpha,
        lr=b.lr,
        hinge=b.hinge,
        n_steps=np.broadcast_to(np.asarray(n_steps, dtype=np.int64), b.seed.shape),
        stop=stop,
        dtype=p.dtype,
    )


def plateau(p, b: Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The plateau epoch t_p of every network (first epoch with 100 % training accuracy).

    Returns
    -------
    t_p : numpy.ndarray of int, shape (B,)
    W, a : numpy.ndarray, shapes (B, H, k), (B, H)
        The weights at t_p.

    Raises
    ------
    ConfigError
        Naming ``max_epochs`` when a network does not fit its training set in time.
    """
    W, a, tp = train(p, b, b.W0, b.a0, p.max_epochs, stop=True)
    if np.any(tp >= p.max_epochs):
        bad = sorted({int(s) for s in b.seed[tp >= p.max_epochs]})
        raise ConfigError(
            "max_epochs", p.max_epochs, f"too small: no 100 % training accuracy for seeds {bad}"
        )
    return tp.astype(int), W, a


def margins(p, b: Batch, W, a, y=None, g0=None) -> np.ndarray:
    """Training margins y_i f(x_i), shape (B, N)."""
    _, g = sim.forward(W, a, b.X)
    return (b.y if y is None else y) * p.alpha * (g - (b.g0 if g0 is None else g0))


def distance(b: Batch, W, a) -> np.ndarray:
    """|theta - theta_0| per network, shape (B,)."""
    return np.sqrt(np.sum((W - b.W0) ** 2, axis=(1, 2)) + np.sum((a - b.a0) ** 2, axis=1))


def init_norm(b: Batch) -> np.ndarray:
    """|theta_0| per network, shape (B,)."""
    return np.sqrt(np.sum(b.W0**2, axis=(1, 2)) + np.sum(b.a0**2, axis=1))


def train_metrics(p, b: Batch, W, a) -> list[dict[str, float]]:
    """Representation metrics of every network on its training set (docs, section Metrics).

    The normalized margin divides by |theta - theta_0| (L = 1): the centred
    network starts lazy, where f is linear in the displacement from init (with
    L = 2 it peaks a few t_p after the plateau and then falls).
    """
    h, g = sim.forward(W, a, b.X)
    u = b.y * p.alpha * (g - b.g0)
    dist, norm0 = distance(b, W, a), init_norm(b)
    out = []
    for i in range(len(b.seed)):
        loss = np.maximum(0, 1 - u[i]) if b.hinge[i] else np.logaddexp(0, -u[i])
        out.append(
            {
                "train_acc": float(b.w[i] @ (u[i] > 0)),
                "train_loss": float(b.w[i] @ loss),
                "min_margin": float(u[i].min()),
                "norm_margin": th.network_margin(u[i], dist[i], L=1.0) if dist[i] > 0 else 0.0,
                "hidden_margin": th.hidden_svm_margin(h[i], b.y[i]),
                "stn": th.target_nontarget_similarity(h[i], b.y[i], cosine=True),
                "alignment": th.kernel_alignment(h[i], b.y[i], weights=b.w[i]),
                "rel_change": float(dist[i] / norm0[i]),
            }
        )
    return out


def log_grid(lo: float, hi: float, per_decade: int, *, include=()) -> np.ndarray:
    """Log-spaced multipliers from ``lo`` to ``hi`` (``per_decade`` per decade) plus ``include``."""
    n = max(int(np.ceil(np.log10(hi / lo) * per_decade)) + 1, 2)
    grid = np.r_[np.logspace(np.log10(lo), np.log10(hi), n), list(include)]
    return np.unique(np.round(grid, 12))


def median_by_seed(values: dict[int, float]) -> float:
    """Median of per-seed values."""
    return float(np.median(list(values.values())))
