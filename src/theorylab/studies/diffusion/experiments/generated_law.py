"""Experiment ``generated_law``: what the trained model generates (B5, B6).

B5: the three-cluster model (r = 2) at d = ``generated_law.d``, trained in
segments to the checkpoints ``taus``: the generated density depends on the
number of samples only through n / d = tau / eta, and the bulk variance
c_T^2 shrinks below the target's before b(tau) crosses 1 and inflates after.
B6: the flow map is odd, so the generated law is symmetric under x -> -x
whatever the target: an imbalanced two-cluster target (r = 1) and the
three-cluster target (mean -1 along e2; its network of the last B5
checkpoint) both generate symmetric laws (mode collapse).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.checks import Claim
from theorylab.core.config import param
from theorylab.core.errors import ConfigError
from theorylab.core.experiment import Experiment, Seed
from theorylab.core.plotting import caption

from .. import figures as figs
from .. import simulate as sim
from .. import theory as th
from ..common import (
    N_SE,
    THREE,
    TWO,
    Shared,
    bulk_variance,
    first,
    generated_three,
    mean,
    require_on_dtau,
    row,
)

# Tolerances: the study's acceptance criteria (docs/diffusion.md, "Checks")
B5_REL = 0.10  # relative gap of Var(e1 x) and the bulk variance
MASS_TOL = 0.05  # B6: |mode mass ratio - 1|, allowed beyond N_SE binomial standard errors


@dataclass(frozen=True)
class Params(Shared):
    """The three-cluster model over n / d (B5) and an imbalanced two-cluster target (B6)."""

    d: int = param(500, "input dimension of both networks", ge=20, le=20_000)
    taus: tuple[float, ...] = param(
        (1.0, 2.0, 3.0, 4.0), "B5: checkpoints tau (n / d = tau / eta)", gt=0.0, le=100.0
    )
    n_gen: int = param(1000, "B5: generated samples per checkpoint", ge=100, le=10**6)
    weight: float = param(0.8, "B6: weight of the cluster at +3 e1", gt=0.5, lt=1.0)
    tau_imbalanced: float = param(
        4.0, "B6: training time of the imbalanced network", gt=0.0, le=100.0
    )
    n_gen_imbalanced: int = param(
        2000, "B6: generated samples of the imbalanced network", ge=100, le=10**6
    )

    def check(self) -> None:
        """Cross-field rules: ``taus`` strictly increasing; ``taus`` and
        ``tau_imbalanced`` multiples of ``dtau`` (the learning ODE is read there)."""
        if any(b <= a for a, b in zip(self.taus, self.taus[1:], strict=False)):
            raise ConfigError("taus", self.taus, "must be strictly increasing")
        require_on_dtau(self, "taus", self.taus)
        require_on_dtau(self, "tau_imbalanced", (self.tau_imbalanced,))


def _ode_end(p: Params) -> float:
    """The three-cluster learning ODE is integrated to the last checkpoint."""
    return max(p.taus)


def theory(p: Params) -> pd.DataFrame:
    """ODE then reduced flow at the checkpoints (and tau = 0); the imbalanced target (B6)."""
    rows = []
    for tau in sorted({0.0, *p.taus}):
        P, cT, b = generated_three(p, _ode_end(p), tau)
        for q, v in (
            ("var_e1", P[:, 0].var()),
            ("bulk_var", cT**2),
            ("mass_pos_e1", np.mean(P[:, 0] > 0)),
            ("b", b),
        ):
            rows.append(row("generated", q, v, tau=tau))
    w = np.array([p.weight, 1 - p.weight])
    T6 = p.tau_imbalanced
    ode6 = th.learning_ode(
        th.gmm_target(TWO, w), p.t_train, p.eta, p.lam, T6, p.dtau, p.mc_samples, seed=1, r=1
    )
    O, Q, b = th.state_at(ode6, T6, 1, 1)
    P = th.generated_projection(
        O, Q, b, p.t_train, np.eye(1), p.reduced_samples, p.gen_steps, seed=8
    )
    rows.append(row("B6", "mean_e1", P[:, 0].mean(), tau=T6))
    rows.append(row("B6", "mass_pos_e1", np.mean(P[:, 0] > 0), tau=T6))
    rows.append(row("B6", "target_mean_e1", float(w @ TWO[:, 0]), tau=T6))
    return pd.DataFrame(rows)


def simulate(p: Params, seed: Seed) -> pd.DataFrame:
    """B5: three clusters trained through the checkpoints; B6: the imbalanced target."""
    rows = []
    kw = dict(d=p.d, t=p.t_train, eta=p.eta, lam=p.lam)
    start, prev = None, 0.0
    for tau in p.taus:
        W, b, _ = sim.train_gmm(
            seed.key("train", tau),
            THREE,
            np.ones(3) / 3,
            1.0,
            r=2,
            tau=tau - prev,
            record_every_tau=tau - prev,
            start=start,
            **kw,
        )
        start, prev = (W, b), tau
        X = sim.full_flow(seed.key("flow", tau), W, b, p.n_gen, p.gen_steps)
        for q, v in (
            ("var_e1", X[:, 0].var()),
            ("bulk_var", bulk_variance(X, W, 2)),
            ("b", b),
            ("mass_pos_e1", np.mean(X[:, 0] > 0)),
            ("mean_e2", X[:, 1].mean()),  # B6: the three-cluster law is symmetric too
            ("mean_e2_se", X[:, 1].std() / np.sqrt(len(X))),
        ):
            rows.append(row("B5", q, v, tau=tau))
    T6 = p.tau_imbalanced
    w = np.array([p.weight, 1 - p.weight])
    W, b, _ = sim.train_gmm(
        seed.key("imbalanced", "train"), TWO, w, 1.0, r=1, tau=T6, record_every_tau=T6, **kw
    )
    X = sim.full_flow(seed.key("imbalanced", "flow"), W, b, p.n_gen_imbalanced, p.gen_steps)
    rows.append(row("B6", "mean_e1", X[:, 0].mean(), tau=T6))
    rows.append(row("B6", "mean_e1_se", X[:, 0].std() / np.sqrt(len(X)), tau=T6))
    rows.append(row("B6", "mass_pos_e1", np.mean(X[:, 0] > 0), tau=T6))
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------
# checks


def _b5(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
    gaps = [
        abs(mean(sims, "B5", q, tau=tau) / first(theory, "generated", q, tau=tau) - 1)
        for tau in p.taus
        for q in ("var_e1", "bulk_var")
    ]
    return max(gaps), (
        f"max relative gap of Var(e1 x) and the bulk variance at tau = "
        f"{list(p.taus)} (n/d = tau/eta), d = {p.d}"
    )


def _b5_crossing(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
    a, bt = th.schedule(p.t_train)
    kap = a**2 + bt**2
    bstar = bt / kap
    tau_cross = float(np.log(bstar / (bstar - 1.0)) / kap) if bstar > 1 else np.inf
    below = [tau for tau in p.taus if tau < tau_cross]
    above = [tau for tau in p.taus if tau > tau_cross]
    ok = all(mean(sims, "B5", "bulk_var", tau=t) < 1 for t in below[-1:]) and all(
        mean(sims, "B5", "bulk_var", tau=t) > 1 for t in above[:1]
    )
    return float(ok), (
        f"simulated bulk variance < 1 at tau={below[-1:]} and > 1 at "
        f"tau={above[:1]}: b(tau) crosses 1 at tau = {tau_cross:.3f} "
        f"(closed form), n = {tau_cross / p.eta:.2f} d"
    )


def _b6(p: Params, theory: pd.DataFrame, sims: pd.DataFrame):
    n_seeds = sims.seed.nunique()
    m6, se6 = mean(sims, "B6", "mean_e1"), mean(sims, "B6", "mean_e1_se")
    z6 = abs(m6) / (se6 / np.sqrt(n_seeds))
    mass = mean(sims, "B6", "mass_pos_e1")
    ratio = mass / (1 - mass)
    # MASS_TOL on the mass ratio plus N_SE binomial standard errors: the mass of N
    # samples has SE sqrt(p (1 - p) / N), and d[p/(1-p)]/dp = 1/(1-p)^2
    n_mass = p.n_gen_imbalanced * n_seeds
    se_ratio = np.sqrt(mass * (1 - mass) / n_mass) / (1 - mass) ** 2
    mass_allowed = MASS_TOL + N_SE * se_ratio
    T5 = max(p.taus)
    z3 = abs(mean(sims, "B5", "mean_e2", tau=T5)) / (
        mean(sims, "B5", "mean_e2_se", tau=T5) / np.sqrt(n_seeds)
    )
    value = max(z6 / N_SE, abs(ratio - 1) / mass_allowed, z3 / N_SE)
    return value, (
        f"generated law symmetric under x -> -x: imbalanced target "
        f"(mean {first(theory, 'B6', 'target_mean_e1'):.2g}) generates mean "
        f"{m6:.3f} ({z6:.1f} SE, allowed {N_SE:g}), mode mass ratio {ratio:.3f} "
        f"(|ratio - 1| allowed {MASS_TOL:g} + {N_SE:g} x binomial SE "
        f"{se_ratio:.3f} of {n_mass} samples = {mass_allowed:.3f}); three clusters "
        f"(target mean along e2 = -1, tau = {T5:g}) generate {z3:.1f} SE"
    )


def figures(p: Params, theory: pd.DataFrame, sims: pd.DataFrame) -> dict:
    """Bulk variance, Var(e1 . x) and mode mass against n / d."""
    return {
        "sample_size": caption(
            figs.sample_size(p.eta, p.n_gen, theory, sims),
            "Generated law against the number of training samples n / d: bulk "
            "variance (left) and the modes' variance and mass (right), theory "
            "against simulation.",
        )
    }


EXPERIMENT = Experiment(
    name="generated_law",
    doc="the generated law vs n / d (three clusters) and its central symmetry (mode collapse)",
    params=Params,
    theory=theory,
    simulate=simulate,
    checks=(
        Claim("B5_sample_size_dependence", _b5, "<=", B5_REL, kind="agreement"),
        Claim("B5_bulk_shrinks_then_inflates", _b5_crossing, ">=", 1.0),
        Claim("B6_mode_collapse_symmetry", _b6, "<=", 1.0),
    ),
    figures=figures,
)
