"""Pieces shared by the experiments of ``rnn_integration``.

The study-level parameters (:class:`Shared`: the learning rate), the range
explanations every experiment appends to its errors, the time grids and
config rules of the full-network runs, the spectral summaries of trained
networks, and two check and figure helpers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from theorylab.core.checks import Agreement, Claim, NotEvaluable
from theorylab.core.compare import mean_se
from theorylab.core.config import StudyConfig, param
from theorylab.core.errors import ConfigError

from . import simulate as sim
from . import theory as th

# why a field has its range (appended to the one-line error)
WHY_C = "the stationary loss 1/2 int (f - f*)^2 of a target exp(-c* t) diverges for c* <= 0"
WHY_SIGMA = (
    "W0 = sigma J has its bulk in |z| <= sigma, and W0 - I is Hurwitz (finite loss) only for "
    "sigma < 1"
)


@dataclass(frozen=True)
class Shared(StudyConfig):
    """Study-level parameters (``--set eta=...``), read by every experiment.

    Time is gradient-flow time t (the learning rate is in the flow
    d theta/dt = -eta grad L); filter time tau is in units of the leak (1).
    Subclasses list in ``WHY`` the reason for a field's range, appended to
    its range error.
    """

    eta: float = param(
        1.0, "learning rate of the gradient flow (same for W, u, v)", gt=0.0, le=100.0
    )

    WHY: ClassVar[dict[str, str]] = {}

    def validate(self) -> Shared:
        try:
            return super().validate()
        except ConfigError as exc:
            why = self.WHY.get(exc.field)
            if why and "out of range" in exc.allowed:
                raise ConfigError(exc.field, exc.value, f"{exc.allowed}; {why}") from None
            raise


# ----------------------------------------------------------------------------
# config rules and grids


MAX_STEPS = 10**7  # integration steps of one run: ~minutes per network on a CPU core


def require_multiple(field: str, value, step: float, step_name: str) -> None:
    """Raise unless ``value`` (or every entry of a tuple) is a positive multiple of ``step``."""
    for x in value if isinstance(value, tuple) else (value,):
        r = x / step
        if not math.isfinite(r) or r > MAX_STEPS:
            raise ConfigError(
                field, value, f"must be at most {MAX_STEPS:.0e} steps of {step_name}={step:g}"
            )
        if abs(r - round(r)) > 1e-9 or round(r) < 1:
            raise ConfigError(field, value, f"must be a positive multiple of {step_name}={step:g}")


def require_plateau(a0: float) -> None:
    """The escape from W0 = 0 needs a small initial gain A0 = a0^2/2 < 1."""
    if a0 * a0 / 2 >= 1:
        raise ConfigError("a0", a0, "must be < sqrt(2) (a plateau needs A0 = a0^2/2 < 1)")


def grid(T: float, step: float) -> np.ndarray:
    """Recorded times 0, step, ..., T (the same numbers in theory and simulation tables)."""
    return step * np.arange(round(T / step) + 1)


def train(W0, u0, v0, c_star, eta, dt, T, record_dt, omega_star=0.0) -> dict:
    """Full-network gradient flow to time T with snapshots every ``record_dt``.

    Returns the run of :func:`simulate.gradient_flow` with ``t`` on
    :func:`grid` and ``t_esc``, the escape time of the per-step loss.
    """
    every = round(record_dt / dt)
    run = sim.gradient_flow(
        W0, u0, v0, c_star, eta, dt, round(T / dt), every, omega_star=omega_star
    )
    run["t"] = grid(T, record_dt)
    run["t_esc"] = th.plateau_end(dt * np.arange(run["loss"].size), run["loss"])
    run["loss"] = run["loss"][::every]
    return run


# ----------------------------------------------------------------------------
# spectra of trained networks


def outlier(W: np.ndarray):
    """(top real eigenvalue, max |other eigenvalues|) of each snapshot, shapes (S,), (S,)."""
    ev = sim.eigenvalues(W)
    i = np.argmax(ev.real, axis=1)
    top = ev[np.arange(len(ev)), i].real
    mod = np.abs(ev)
    mod[np.arange(len(ev)), i] = -np.inf
    return top, mod.max(axis=1)


def subspace(u0, v0, run: dict):
    """Eigenvalues of W restricted to span(u0, v0) and the weights outside it (W0 = 0).

    Returns (leading, other) eigenvalues of each snapshot, complex (S,), and
    the largest entry of W, u, v outside the span per snapshot, (S,).
    """
    E = np.linalg.qr(np.stack([u0, v0], axis=1))[0]
    M = np.einsum("ia,sij,jb->sab", E, run["W"], E)
    Pr = E @ E.T
    res = np.max(np.abs(run["W"] - Pr @ run["W"] @ Pr), axis=(1, 2))
    res = np.maximum(res, np.max(np.abs(run["u"] - run["u"] @ Pr), axis=1))
    res = np.maximum(res, np.max(np.abs(run["v"] - run["v"] @ Pr), axis=1))
    pairs = [th._leading_pair(m) for m in M]
    return np.array([a for a, _ in pairs]), np.array([b for _, b in pairs]), res


# ----------------------------------------------------------------------------
# checks and figures


def max_gap(sims: pd.DataFrame, theory: pd.DataFrame, column: str, theory_column: str) -> float:
    """max over seeds and times of |sims[column] - theory[theory_column]|, matched on ``t``."""
    m = sims[["t", column]].merge(theory[["t", theory_column]], on="t")
    if len(m) != len(sims) or m.empty:
        raise NotEvaluable(f"the simulated {column} and the theory's times do not match")
    return float(np.max(np.abs(m[column] - m[theory_column])))


def noted(check: Agreement, note: Callable[..., str]) -> Claim:
    """``check`` with ``note(p, theory, sims)`` appended to its detail (same value and rule)."""

    def fn(p, theory, sims):
        c = check.evaluate(p, theory, sims)
        return c.value, f"{c.detail}; {note(p, theory, sims)}"

    return Claim(check.name, fn, "<=", 1.0, kind="agreement")


def mean_curve(df: pd.DataFrame, column: str, by: str = "t"):
    """(x, mean, SE) of ``column`` over seeds, sorted by ``by`` (a table without seeds: SE None)."""
    if "seed" not in df:
        d = df.sort_values(by)
        return d[by].to_numpy(), d[column].to_numpy(), None
    m = mean_se(df, [by], column)
    return m[by].to_numpy(), m["mean"].to_numpy(), m["se"].to_numpy()
