"""Experiment ``gradients`` (V1): the exact loss and gradients (A2) of random networks.

Per seed one random network (W = sigma J, iid u, v), for the integrator and
the damped-oscillator target: the gradients (A2) against central finite
differences of the loss, and the Lyapunov loss against Simpson quadrature of
the simulated impulse response (docs/rnn_integration.md, section "(A2) Exact
loss and gradients").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy import linalg as sla
from scipy.integrate import simpson

from theorylab.core.checks import Claim
from theorylab.core.config import param
from theorylab.core.experiment import Experiment, Seed, frame

from .. import simulate as sim
from .. import theory as th
from ..common import WHY_C, Shared

# V1 tolerance: relative error of double-precision central differences
# (eps = 1e-6) and of Simpson quadrature at dtau = 0.01, both ~1e-9 measured
TOL = 1e-6


@dataclass(frozen=True)
class Params(Shared):
    c_star: float = param(0.2, "target decay rate: f*(tau) = exp(-c* tau)", gt=0.0, le=10.0)
    omega_star: float = param(
        1.0, "frequency of the damped-oscillator target also checked", gt=0.0, le=100.0
    )
    N: int = param(6, "neurons of the random network", ge=1, le=4096)
    sigma: float = param(0.3, "scale of the random W", ge=0.0, lt=1.0)

    WHY: ClassVar[dict[str, str]] = {
        "c_star": WHY_C,
        "sigma": "W0 - I is Hurwitz only for sigma < 1",
    }


def _fd_error(W, u, v, c: float, w: float) -> float:
    """max |central difference - (A2)| / max |(A2)| over every weight."""
    N = W.shape[0]
    _, dW, du, dv = th.h2_loss_and_grads(W, u, v, c, w)
    exact = np.concatenate([dW.ravel(), du, dv])
    theta = np.concatenate([W.ravel(), u, v])

    def L(x):
        return th.h2_loss_and_grads(x[: N * N].reshape(N, N), x[N * N : -N], x[-N:], c, w)[0]

    eps = 1e-6
    fd = np.array(
        [(L(theta + eps * e) - L(theta - eps * e)) / (2 * eps) for e in np.eye(theta.size)]
    )
    return float(np.max(np.abs(fd - exact)) / np.max(np.abs(exact)))


def _quadrature_error(W, u, v, c: float, w: float) -> float:
    """|Lyapunov loss - 1/2 int (f - f*)^2| / loss, f the simulated impulse response."""
    N = W.shape[0]
    loss = th.h2_loss_and_grads(W, u, v, c, w)[0]
    # x(tau + d) = e^{(W - I) d} x(tau), Simpson quadrature
    d, T = 0.01, 40.0 / c
    n = round(T / d)
    E = sla.expm((W - np.eye(N)) * d)
    x = np.empty((n + 1, N))
    x[0] = u
    for k in range(n):
        x[k + 1] = E @ x[k]
    tau = d * np.arange(n + 1)
    fstar = np.exp(-c * tau) * np.cos(w * tau)
    return abs(0.5 * simpson((x @ v - fstar) ** 2, x=tau) - loss) / loss


def simulate(p: Params, seed: Seed) -> pd.DataFrame:
    W, u, v = sim.init_network(seed.key("net"), p.N, p.sigma, 1.0, orthogonal=False)
    targets = {"integrator": 0.0, "oscillator": p.omega_star}
    return frame(
        target=list(targets),
        fd_rel_err=[_fd_error(W, u, v, p.c_star, w) for w in targets.values()],
        quad_rel_err=[_quadrature_error(W, u, v, p.c_star, w) for w in targets.values()],
    )


def _worst(column: str):
    def fn(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
        return float(sims[column].max()), f"{sims.seed.nunique()} seeds"

    return fn


EXPERIMENT = Experiment(
    name="gradients",
    doc="V1: exact loss and gradients (A2) of random networks vs finite differences "
    "and the simulated impulse response",
    params=Params,
    simulate=simulate,
    checks=(
        Claim(
            "V1_exact_gradients",
            _worst("fd_rel_err"),
            "<=",
            TOL,
            detail="(A2) gradients of random networks (integrator and oscillator targets): "
            "max relative error vs central finite differences of the loss",
            kind="agreement",
        ),
        Claim(
            "V1_loss_vs_impulse_response",
            _worst("quad_rel_err"),
            "<=",
            TOL,
            detail="Lyapunov loss 1/2 C P C^T vs Simpson quadrature of 1/2 int (f - f*)^2 over "
            "the simulated impulse response: max relative difference",
            kind="agreement",
        ),
    ),
)
