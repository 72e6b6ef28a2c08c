"""Experiment ``oscillator`` (V6): learning a damped oscillation from W0 = 0.

Target f*(tau) = e^{-c* tau} cos(omega* tau).  One full network per initial
scale in ``a0s`` = (large, small): against the reduction (A5) with the same
RK4 step (exact to rounding), the large one converging to the conjugate pair
1 - c* +- i omega*, the small one through a plateau at the best single real
exponential (docs/rnn_integration.md, section "Damped oscillator").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from theorylab.core.checks import Claim
from theorylab.core.config import param
from theorylab.core.errors import ConfigError
from theorylab.core.experiment import Experiment, Seed, frame
from theorylab.core.plotting import caption, figure, finish, sim_points, theory_line

from .. import simulate as sim
from .. import theory as th
from ..common import WHY_C, Shared, grid, max_gap, mean_curve, require_multiple, subspace, train

# the reduction is exact step by step: agreement to rounding (measured 2e-12)
EXACT_TOL = 1e-8
# distance of the final pair to the target (5e-8 measured at T = 40)
PAIR_TOL = 1e-3
# the plateau loss vs the saddle value, relative (2e-4 measured)
SADDLE_TOL = 0.02
_PAIR = ("eig_real", "eig_imag", "eig2_real", "eig2_imag")


@dataclass(frozen=True)
class Params(Shared):
    c_star: float = param(
        0.2, "target decay c*: f*(tau) = exp(-c* tau) cos(omega* tau)", gt=0.0, le=10.0
    )
    omega_star: float = param(1.0, "target frequency omega*", gt=0.0, le=100.0)
    N: int = param(8, "neurons (W0 = 0)", ge=2, le=4096)
    a0s: tuple[float, ...] = param(
        (1.0, 0.05),
        "(large, small) initial scales a0 (<= 2: larger a0 makes the initial transient too "
        "stiff to integrate quickly)",
        gt=0.0,
        le=2.0,
        min_len=2,
    )
    Ts: tuple[float, ...] = param(
        (40.0, 90.0), "training times for the two a0", gt=0.0, min_len=2, le=1e5
    )
    plateau_t: float = param(30.0, "a time inside the small-a0 plateau", gt=0.0, le=1e5)
    dt: float = param(0.05, "RK4 step of the full-network gradient flow", gt=0.0, le=1.0)
    record_dt: float = param(0.1, "time between recorded snapshots", gt=0.0, le=1e3)

    WHY: ClassVar[dict[str, str]] = {"c_star": WHY_C}

    def check(self) -> None:
        if len(self.a0s) != 2 or len(self.Ts) != 2:
            raise ConfigError("a0s", self.a0s, "needs exactly (large, small) with two Ts")
        if not self.a0s[1] < self.a0s[0]:
            raise ConfigError("a0s", self.a0s, "must be (large, small) with small < large")
        if not self.plateau_t < self.Ts[1]:
            raise ConfigError(
                "plateau_t", self.plateau_t, f"must be < the small-a0 time of Ts={self.Ts}"
            )
        require_multiple("record_dt", self.record_dt, self.dt, "dt")
        require_multiple("Ts", self.Ts, self.record_dt, "record_dt")


def theory(p: Params) -> pd.DataFrame:
    frames = []
    for a0, T in zip(p.a0s, p.Ts, strict=True):
        t = grid(T, p.record_dt)
        acc = th.reduced_dynamics(p.c_star, p.eta, a0, t, omega_star=p.omega_star)
        same = th.reduced_dynamics(p.c_star, p.eta, a0, t, omega_star=p.omega_star, dt=p.dt)
        same = same.rename(columns={q: f"{q}_rk4" for q in ("loss", *_PAIR)})
        cols = ["t", "loss", *_PAIR]
        d = acc[cols].join(same[[f"{q}_rk4" for q in ("loss", *_PAIR)]])
        frames.append(d.assign(part="curve", a0=a0))
    sad = th.oscillator_saddle(p.c_star, p.omega_star)
    frames.append(frame(part="saddle", loss=sad["loss"], eigenvalue=sad["eigenvalue"]))
    return pd.concat(frames, ignore_index=True)


def simulate(p: Params, seed: Seed) -> pd.DataFrame:
    frames = []
    for a0, T in zip(p.a0s, p.Ts, strict=True):
        W0, u0, v0 = sim.init_network(seed.key("net", a0), p.N, 0.0, a0)
        run = train(W0, u0, v0, p.c_star, p.eta, p.dt, T, p.record_dt, omega_star=p.omega_star)
        lead, other, res = subspace(u0, v0, run)
        pair = dict(zip(_PAIR, (lead.real, lead.imag, other.real, other.imag), strict=True))
        frames.append(frame(a0=a0, t=run["t"], loss=run["loss"], **pair, residual=res))
    return pd.concat(frames, ignore_index=True)


def _curve(df: pd.DataFrame, a0: float) -> pd.DataFrame:
    if "part" in df:
        df = df[df.part == "curve"]
    return df[df.a0 == a0]


def _saddle(theory: pd.DataFrame) -> pd.Series:
    return theory[theory.part == "saddle"].iloc[0]


def _reduction(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
    worst = max(
        max_gap(_curve(sims, a0), _curve(theory, a0), q, q + "_rk4")
        for a0 in p.a0s
        for q in ("loss", "eig_real", "eig_imag")
    )
    res = float(sims.residual.max())
    return max(worst, res), (
        f"c*={p.c_star:g}, omega*={p.omega_star:g}, N={p.N}, a0 in {list(p.a0s)}: max |d loss|, "
        f"|d eigenvalue| {worst:.1e}, weights outside span(u0, v0) {res:.1e}"
    )


def _pair(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
    o = _curve(sims, p.a0s[0])
    fin = o[np.isclose(o.t, o.t.max())]
    target = th.target_eigenvalues(p.c_star, p.omega_star)[0]
    dist = float(np.max(np.abs(fin.eig_real + 1j * fin.eig_imag - target)))
    return dist, f"a0={p.a0s[0]:g}: max over seeds |lambda(T={o.t.max():g}) - (1 - c* + i omega*)|"


def _plateau(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
    o = _curve(sims, p.a0s[1])
    ts = o.t.unique()
    tq = ts[np.argmin(np.abs(ts - p.plateau_t))]
    at = o[np.isclose(o.t, tq)]
    imag = float(np.abs(at[["eig_imag", "eig2_imag"]].to_numpy()).max())
    sad = _saddle(theory)
    val = float(np.max(np.abs(at.loss / sad.loss - 1))) if imag < 1e-6 else float("nan")
    fin = o[np.isclose(o.t, o.t.max())].eig_imag.abs().min()
    if not fin > 0.5 * p.omega_star:
        val = float("nan")
    return val, (
        f"a0={p.a0s[1]:g}: at t={tq:g} both outliers are real (max |Im| {imag:.1e}; second at "
        f"{at.eig2_real.mean():.3f}, saddle theory {sad.eigenvalue:.3f}) and the loss is the "
        f"best single-exponential fit {sad.loss:.4f} (relative error shown); then a complex pair "
        f"(|Im| {fin:.3f} at the end)"
    )


def figures(p: Params, theory: pd.DataFrame, sims: pd.DataFrame) -> dict:
    fig, axes = figure(ncols=2, width=3.8, height=3.0)
    first = sims[sims.seed == sims.seed.min()]
    for col, a0 in zip(("C0", "C3"), p.a0s, strict=True):
        tc, sc = _curve(theory, a0), _curve(first, a0).sort_values("t")
        for q1, q2 in (("eig_real", "eig_imag"), ("eig2_real", "eig2_imag")):
            label = f"a0={a0:g}" if q1 == "eig_real" else None
            theory_line(axes[0], tc[q1], tc[q2], color=col, label=label)
            sim_points(axes[0], sc[q1].to_numpy()[::10], sc[q2].to_numpy()[::10], color=col)
        theory_line(axes[1], tc.t, tc.loss, color=col, label=f"a0={a0:g}")
        tt, y, se = mean_curve(_curve(sims, a0), "loss")
        sim_points(axes[1], tt[::20], y[::20], se[::20], color=col)
    tgt = th.target_eigenvalues(p.c_star, p.omega_star)
    axes[0].plot(tgt.real, tgt.imag, "x", color="k", ms=8, label="1 - c* +- i omega*")
    axes[1].axhline(_saddle(theory).loss, color="0.5", ls=":", label="single-mode saddle")
    finish(axes[0], xlabel="Re lambda", ylabel="Im lambda", title="outlier pair (lines: (A5))")
    title = f"oscillator, omega*={p.omega_star:g}"
    finish(axes[1], xlabel="training time t", ylabel="loss", logy=True, title=title)
    return {
        "oscillator": caption(
            fig,
            "Damped-oscillator target: the outlier eigenvalue pair moving to 1 - c*"
            " +- i omega* (left) and the loss against training time (right), from "
            "the reduced dynamics (lines) and the full network (markers).",
        )
    }


EXPERIMENT = Experiment(
    name="oscillator",
    doc="V6: damped-oscillator target from W0 = 0: exact reduction, conjugate outlier pair, "
    "two-stage plateau",
    params=Params,
    theory=theory,
    simulate=simulate,
    checks=(
        Claim(
            "V6_oscillator_reduction",
            _reduction,
            "<=",
            EXACT_TOL,
            detail="full network vs (A5) with the same RK4 step (max over seeds and times)",
            kind="agreement",
        ),
        Claim(
            "oscillator_converges_to_pair",
            _pair,
            "<=",
            PAIR_TOL,
            detail="full network: the final outliers are the conjugate pair 1 - c* +- i omega*",
        ),
        Claim("oscillator_two_stage_plateau", _plateau, "<=", SADDLE_TOL),
    ),
    figures=figures,
)
