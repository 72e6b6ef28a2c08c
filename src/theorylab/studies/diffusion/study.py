"""Study ``diffusion``: configuration, tables, checks, figures and STUDY.

Experiments (docs/diffusion.md, "Checks"): B1 skip connection, B2 learning ODE, B3 exact
reduction of generation, B4 end to end (ODE then reduced flow), B5 sample-size
dependence, B6 architectural bias (mode collapse), B7 retraining loop (model
collapse), and the paper's Figure 1 (projections on the centroid plane over
training time).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

from theorylab.core.config import StudyConfig, param
from theorylab.core.errors import ConfigError
from theorylab.core.plotting import colors, figure, finish, sim_points, theory_line
from theorylab.core.results import Check
from theorylab.core.study import Paper, Study

from . import simulate as sim
from . import theory as th


@dataclass(frozen=True)
class Config(StudyConfig):
    """Configuration of the diffusion study (eta, lam, tau = eta n / d as in docs/diffusion.md)."""

    t_train: float = param(0.7, "noise level of the single denoiser", gt=0.0, lt=1.0)
    eta: float = param(0.2, "learning rate (1/2-loss convention; the authors' lr is eta/2)", gt=0.0)
    lam: float = param(0.05, "weight decay (the authors' weight decay is 2 lam / d)", ge=0.0)
    gen_steps: int = param(100, "Euler steps T of generation (last step from t = 1 - 2/T)", ge=3)
    # B1-B4 and Figure 1: three-cluster target mu = 3 e1, -3 e2, -3 e1 with r = 2
    d: int = param(1000, "input dimension of the main simulation", ge=20)
    tau_max: float = param(4.0, "training time of the main simulation (n = tau d / eta)", gt=0.0)
    fig_taus: tuple[float, ...] = param(
        (0.0, 0.3, 0.8, 2.8), "training times of the Figure-1 panels", ge=0.0, min_len=1
    )
    n_gen: int = param(2000, "generated samples per flow (B3, B4, Figure 1)", ge=100)
    # ODE numerics
    dtau: float = param(0.01, "Euler step of the learning ODE", gt=0.0)
    mc_samples: int = param(
        4096, "quasi-Monte Carlo (scrambled Sobol) samples per ODE step", ge=1000
    )
    reduced_samples: int = param(40000, "samples of the reduced flow", ge=1000)
    # B5 sample size
    b5_d: int = param(500, "B5: input dimension", ge=20)
    b5_taus: tuple[float, ...] = param((1.0, 2.0, 3.0, 4.0), "B5: checkpoints tau", gt=0.0)
    b5_n_gen: int = param(1000, "B5: generated samples per checkpoint", ge=100)
    # B6 imbalanced two clusters
    b6_weight: float = param(0.8, "B6: weight of the cluster at +3 e1", gt=0.5, lt=1.0)
    b6_d: int = param(500, "B6: input dimension", ge=20)
    # B7 collapse loop: two clusters +-3 e1, r = 1
    b7_d: int = param(300, "B7: input dimension", ge=20)
    b7_tau: float = param(3.0, "B7: training time per generation", gt=0.0)
    b7_generations: int = param(3, "B7: generations", ge=2)
    b7_gen_steps: int = param(50, "B7: Euler steps of each generation's flow", ge=3)
    b7_theory_seeds: int = param(
        3, "B7: theory repetitions at finite d (their spread enters the tolerance)", ge=2
    )
    # tolerances (spec 6.2)
    b1_tol: float = param(0.02, "B1: |b_sim - b(tau)|", gt=0.0)
    ode_rel: float = param(0.05, "B2: relative tolerance", ge=0.0)
    ode_abs: float = param(
        1.5, "B2: absolute tolerance x sqrt(d) (finite-d fluctuations are O(1/sqrt(d)))", ge=0.0
    )
    var_rel: float = param(0.07, "B3/B4: relative tolerance on projected variances", ge=0.0)
    ks_max: float = param(
        0.06, "B3/B4: largest 1-D KS distance between full-flow and theory projections", gt=0.0
    )
    bulk_rel: float = param(0.03, "B3: relative tolerance on the bulk variance", ge=0.0)
    b5_rel: float = param(0.10, "B5: relative tolerance", ge=0.0)
    b6_mass_tol: float = param(
        0.05,
        "B6: |mode mass ratio - 1| allowed beyond n_se binomial standard errors",
        gt=0.0,
    )
    b7_b_tol: float = param(0.03, "B7: |b_sim - b_theory| per generation", gt=0.0)
    b7_stat_rel: float = param(0.05, "B7: relative tolerance on Omega, Q", gt=0.0)
    b7_var_rel: float = param(0.10, "B7: relative tolerance on Var(e1 x)", gt=0.0)
    b7_bulk_rel: float = param(0.25, "B7: relative tolerance on the bulk variance", gt=0.0)
    n_se: float = param(4.0, "seed standard errors allowed (generated means, B7)", gt=0.0)

    def check(self) -> None:
        """Cross-field rules (each raises :class:`ConfigError` naming the field).

        * ``tau_max`` and every ``fig_taus`` entry are multiples of ``REC_TAU`` =
          0.1: the main simulation records every 0.1 in tau and is trained in
          whole records between these checkpoints (B1, B2, B3, B4, Figure 1);
        * ``fig_taus`` lie in [0, tau_max] (the main run stops at tau_max);
        * ``b5_taus`` are strictly increasing;
        * every time the theory is read at (tau_max, fig_taus, b5_taus,
          b7_tau) is a multiple of ``dtau``, so the learning ODE is evaluated
          there and not at a neighbouring step.  The ODE is integrated to
          max(tau_max, b5_taus), so B5 checkpoints may exceed tau_max.
        """
        for name, values in (("tau_max", (self.tau_max,)), ("fig_taus", self.fig_taus)):
            if not all(_on_grid(v, REC_TAU) for v in values):
                raise ConfigError(
                    name,
                    values if name == "fig_taus" else self.tau_max,
                    f"must be multiples of {REC_TAU:g} (the main simulation's recording "
                    "interval in tau; it is trained in whole records between checkpoints)",
                )
        bad = [v for v in self.fig_taus if not 0.0 <= v <= self.tau_max + 1e-9]
        if bad:
            raise ConfigError(
                "fig_taus", self.fig_taus, f"every entry must be in [0, tau_max={self.tau_max:g}]"
            )
        if any(b <= a for a, b in zip(self.b5_taus, self.b5_taus[1:], strict=False)):
            raise ConfigError("b5_taus", self.b5_taus, "must be strictly increasing")
        for name, values in (
            ("tau_max", (self.tau_max,)),
            ("fig_taus", self.fig_taus),
            ("b5_taus", self.b5_taus),
            ("b7_tau", (self.b7_tau,)),
        ):
            if not all(_on_grid(v, self.dtau) for v in values):
                raise ConfigError(
                    "dtau",
                    self.dtau,
                    f"{name}={values if len(values) > 1 else values[0]} must be multiples of "
                    "dtau (the learning ODE is read at those times)",
                )


#: recording interval (in tau) of the main simulation; checkpoints lie on this grid
REC_TAU = 0.1


def _on_grid(value: float, step: float) -> bool:
    q = value / step
    return abs(q - round(q)) <= 1e-6 * max(1.0, abs(q))


THREE = np.array([[3.0, 0.0], [0.0, -3.0], [-3.0, 0.0]])  # mu_1 = 3 e1, mu_2 = -3 e2, mu_3 = -3 e1
TWO = np.array([[3.0], [-3.0]])


def _row(experiment, quantity, value, tau=np.nan, generation=-1, **extra):
    return {
        "experiment": experiment,
        "quantity": quantity,
        "tau": tau,
        "generation": generation,
        "value": float(value),
        **extra,
    }


def _checkpoints(cfg: Config) -> list[float]:
    return sorted({0.0, *cfg.fig_taus, cfg.tau_max})


def _ode_end(cfg: Config) -> float:
    """The learning ODE of the three-cluster target covers the main run and B5."""
    return max(cfg.tau_max, *cfg.b5_taus)


@lru_cache(maxsize=8)
def _ode_three(t, eta, lam, tau_end, dtau, mc, seed=0):
    """Learning ODE of the three-cluster target (r = 2), one row per Euler step."""
    return th.learning_ode(
        th.gmm_target(THREE), t, eta, lam, tau_end, dtau, mc, seed, r=2, record_every=1
    )


def _ode_main(cfg: Config):
    return _ode_three(cfg.t_train, cfg.eta, cfg.lam, _ode_end(cfg), cfg.dtau, cfg.mc_samples)


def _b1_times(cfg: Config) -> list[float]:
    """B1 check times: the spec's tau in {1, 2, 3, 4} up to tau_max, and tau_max."""
    return sorted({*(tau for tau in (1.0, 2.0, 3.0, 4.0) if tau <= cfg.tau_max), cfg.tau_max})


def _b2_times(cfg: Config) -> list[float]:
    """B2 check times: 5 equally spaced times up to tau_max, on the recording grid."""
    grid = np.round(np.linspace(cfg.tau_max / 5, cfg.tau_max, 5) / REC_TAU) * REC_TAU
    return sorted({round(float(v), 9) for v in grid if v > 0})


def _samples(experiment: str, tau: float, P: np.ndarray) -> pd.DataFrame:
    """Rows ``x, y`` holding 2-D projected samples P (n, 2)."""
    return pd.DataFrame(
        {
            "experiment": experiment,
            "quantity": "sample",
            "tau": tau,
            "generation": -1,
            "value": np.nan,
            "x": P[:, 0],
            "y": P[:, 1],
        }
    )


def _projection_stats(P: np.ndarray) -> dict:
    return {
        "mean_e1": P[:, 0].mean(),
        "mean_e2": P[:, 1].mean() if P.shape[1] > 1 else np.nan,
        "var_e1": P[:, 0].var(),
        "var_e2": P[:, 1].var() if P.shape[1] > 1 else np.nan,
    }


# ----------------------------------------------------------------------------
# theory table


def theory_table(cfg: Config) -> pd.DataFrame:
    rows = []
    taus = np.array(
        sorted({*np.arange(0.0, cfg.tau_max + 1e-9, 0.5), *cfg.b5_taus, *_b1_times(cfg)})
    )
    for tau, b in zip(taus, th.skip_connection(taus, cfg.t_train), strict=True):
        rows.append(_row("B1", "b", b, tau))
    ode = _ode_main(cfg)
    for _, rec in ode.iterrows():
        O, Q, b = th.state_at(ode, rec.tau, 2, 2)
        for g in range(2):
            for j in range(2):
                rows.append(_row("B2", f"Omega_{g}{j}", O[g, j], rec.tau))
            for h in range(g, 2):
                rows.append(_row("B2", f"Q_{g}{h}", Q[g, h], rec.tau))
        rows.append(_row("B2", "b", b, rec.tau))
    # B4 / B5 / Figure 1: ODE then reduced flow
    fig_samples = []
    for tau in sorted({*cfg.b5_taus, *cfg.fig_taus, cfg.tau_max}):
        O, Q, b = th.state_at(ode, tau, 2, 2)
        P = th.generated_projection(
            O, Q, b, cfg.t_train, np.eye(2), cfg.reduced_samples, cfg.gen_steps, seed=7
        )
        _, cT = th.reduced_flow(Q, b, np.zeros((1, 2)), cfg.gen_steps)
        for q, v in _projection_stats(P).items():
            rows.append(_row("generated", q, v, tau))
        rows.append(_row("generated", "bulk_var", cT**2, tau))
        rows.append(_row("generated", "mass_pos_e1", np.mean(P[:, 0] > 0), tau))
        for exp, keep in (("fig1", tau in cfg.fig_taus), ("B4", tau == cfg.tau_max)):
            if keep:  # Figure-1 panels; B4 KS distance against the full flow
                fig_samples.append(_samples(exp, tau, P[:20000]))
    # B6 imbalanced two clusters, r = 1
    w = np.array([cfg.b6_weight, 1 - cfg.b6_weight])
    tgt = th.gmm_target(TWO, w)
    ode6 = th.learning_ode(
        tgt, cfg.t_train, cfg.eta, cfg.lam, cfg.tau_max, cfg.dtau, cfg.mc_samples, seed=1, r=1
    )
    O, Q, b = th.state_at(ode6, cfg.tau_max, 1, 1)
    P = th.generated_projection(
        O, Q, b, cfg.t_train, np.eye(1), cfg.reduced_samples, cfg.gen_steps, seed=8
    )
    rows.append(_row("B6", "mean_e1", P[:, 0].mean(), cfg.tau_max))
    rows.append(_row("B6", "mass_pos_e1", np.mean(P[:, 0] > 0), cfg.tau_max))
    rows.append(_row("B6", "target_mean_e1", float(w @ TWO[:, 0]), cfg.tau_max))
    # B7 collapse loop by the theory, at the simulation's finite d and at d = infinity
    # (the finite-d loop repeated over sampler seeds: once the structure has
    # collapsed, Omega is O(1/sqrt(d)) and the theory's own sampling spread of
    # the generated law matters; its standard error enters the B7 tolerance)
    quantities = ("b", "Omega_orig", "Q_00", "bulk_var", "var_e1")
    for name, dd, reps in (("B7", cfg.b7_d, cfg.b7_theory_seeds), ("B7_infinite_d", None, 1)):
        loops = [
            th.collapse_loop(
                th.gmm_target(TWO),
                cfg.b7_generations,
                cfg.b7_tau,
                cfg.eta,
                cfg.lam,
                cfg.t_train,
                r=1,
                dtau=cfg.dtau,
                mc_samples=cfg.mc_samples,
                steps=cfg.b7_gen_steps,
                d=dd,
                seed=1000 * rep,
            )
            for rep in range(reps)
        ]
        vals = np.stack([lp[list(quantities)].to_numpy() for lp in loops])  # (reps, G, 5)
        mean = vals.mean(0)
        se = vals.std(0, ddof=1) / np.sqrt(reps) if reps > 1 else np.zeros_like(mean)
        for g in range(mean.shape[0]):
            for j, q in enumerate(quantities):
                rows.append(_row(name, q, mean[g, j], cfg.b7_tau, g))
                if reps > 1:
                    rows.append(_row(name, f"{q}_se", se[g, j], cfg.b7_tau, g))
    return pd.concat([pd.DataFrame(rows), *fig_samples], ignore_index=True)


# ----------------------------------------------------------------------------
# simulation table (one seed)


def _bulk_variance(X: np.ndarray, W: np.ndarray, k: int) -> float:
    """Mean per-coordinate variance of generated samples outside span(W, U)."""
    d = X.shape[1]
    Pm = np.linalg.qr(np.hstack([W.T, np.eye(d)[:, :k]]))[0]
    resid = X - (X @ Pm) @ Pm.T
    return float((resid**2).sum(1).mean() / (d - Pm.shape[1]))


def simulate_table(cfg: Config, seed: int) -> pd.DataFrame:
    rows, figs = [], []
    kw = dict(t=cfg.t_train, eta=cfg.eta, lam=cfg.lam)
    # main run: three clusters, r = 2, trained in segments to keep W at the checkpoints
    start, prev = None, 0.0
    for i, tau in enumerate(_checkpoints(cfg)):
        if tau > prev:
            W, b, tab = sim.train_gmm(
                sim.key_for(seed, 1, i),
                THREE,
                np.ones(3) / 3,
                1.0,
                d=cfg.d,
                r=2,
                tau=tau - prev,
                record_every_tau=0.1,
                start=start,
                **kw,
            )
            start = (W, b)
            for j, tt in enumerate(tab["tau"][1:], start=1):
                for g in range(2):
                    for jj in range(2):
                        rows.append(_row("B2", f"Omega_{g}{jj}", tab["Omega"][j][g, jj], prev + tt))
                    for h in range(g, 2):
                        rows.append(_row("B2", f"Q_{g}{h}", tab["Q"][j][g, h], prev + tt))
                rows.append(_row("B2", "b", tab["b"][j], prev + tt))
        else:
            W, b = sim.init_weights(THREE, 2, cfg.d), 0.0
        prev = tau
        if tau in cfg.fig_taus or tau == cfg.tau_max:
            X = sim.full_flow(sim.key_for(seed, 2, i), W, b, cfg.n_gen, cfg.gen_steps)
            for q, v in _projection_stats(X[:, :2]).items():
                rows.append(_row("generated", q, v, tau))
            rows.append(_row("generated", "bulk_var", _bulk_variance(X, W, 2), tau))
            if tau in cfg.fig_taus:
                figs.append(_samples("fig1", tau, X[:1000, :2]))
            if tau == cfg.tau_max:  # B3: the reduced flow given this network's (W, b)
                d = cfg.d
                Q = W @ W.T / d
                P = th.generated_projection(
                    W[:, :2] / np.sqrt(d),
                    Q,
                    b,
                    cfg.t_train,
                    np.eye(2),
                    cfg.reduced_samples,
                    cfg.gen_steps,
                    seed=seed,
                )
                _, cT = th.reduced_flow(Q, b, np.zeros((1, 2)), cfg.gen_steps)
                for q, v in _projection_stats(P).items():
                    rows.append(_row("B3_reduced", q, v, tau))
                rows.append(_row("B3_reduced", "bulk_var", cT**2, tau))
                rows.append(_row("B3_reduced", "c_T", cT, tau))
                rows.append(_row("B3_sim", "mean_e1_se", X[:, 0].std() / np.sqrt(len(X)), tau))
                rows.append(_row("B3_sim", "mean_e2_se", X[:, 1].std() / np.sqrt(len(X)), tau))
                for a in range(2):  # 1-D KS distance, full flow vs reduced flow
                    ks = ks_2samp(X[:, a], P[:, a]).statistic
                    rows.append(_row("B3_reduced", f"ks_e{a + 1}", ks, tau))
                figs.append(_samples("B4", tau, X[:, :2]))  # for the B4 KS distance
    # B5: sample-size dependence at d = b5_d
    start, prev = None, 0.0
    for i, tau in enumerate(cfg.b5_taus):
        W, b, _ = sim.train_gmm(
            sim.key_for(seed, 5, i),
            THREE,
            np.ones(3) / 3,
            1.0,
            d=cfg.b5_d,
            r=2,
            tau=tau - prev,
            record_every_tau=tau - prev,
            start=start,
            **kw,
        )
        start, prev = (W, b), tau
        X = sim.full_flow(sim.key_for(seed, 6, i), W, b, cfg.b5_n_gen, cfg.gen_steps)
        rows.append(_row("B5", "var_e1", X[:, 0].var(), tau))
        rows.append(_row("B5", "bulk_var", _bulk_variance(X, W, 2), tau))
        rows.append(_row("B5", "b", b, tau))
        rows.append(_row("B5", "mass_pos_e1", np.mean(X[:, 0] > 0), tau))
    # B6: imbalanced two clusters
    w = np.array([cfg.b6_weight, 1 - cfg.b6_weight])
    W, b, _ = sim.train_gmm(
        sim.key_for(seed, 8),
        TWO,
        w,
        1.0,
        d=cfg.b6_d,
        r=1,
        tau=cfg.tau_max,
        record_every_tau=cfg.tau_max,
        **kw,
    )
    X = sim.full_flow(sim.key_for(seed, 9), W, b, cfg.n_gen, cfg.gen_steps)
    rows.append(_row("B6", "mean_e1", X[:, 0].mean(), cfg.tau_max))
    rows.append(_row("B6", "mean_e1_se", X[:, 0].std() / np.sqrt(len(X)), cfg.tau_max))
    rows.append(_row("B6", "mass_pos_e1", np.mean(X[:, 0] > 0), cfg.tau_max))
    # B7: the retraining loop in d dimensions
    d7, n7 = cfg.b7_d, round(cfg.b7_tau * cfg.b7_d / cfg.eta)
    W, b, _ = sim.train_gmm(
        sim.key_for(seed, 10),
        TWO,
        np.array([0.5, 0.5]),
        1.0,
        d=d7,
        r=1,
        tau=cfg.b7_tau,
        record_every_tau=cfg.b7_tau,
        **kw,
    )
    for g in range(cfg.b7_generations):
        X = sim.full_flow(sim.key_for(seed, 11, g), W, b, n7, cfg.b7_gen_steps)
        rows.append(_row("B7", "b", b, cfg.b7_tau, g))
        rows.append(_row("B7", "Omega_orig", W[0, 0] / np.sqrt(d7), cfg.b7_tau, g))
        rows.append(_row("B7", "Q_00", W[0] @ W[0] / d7, cfg.b7_tau, g))
        rows.append(_row("B7", "var_e1", X[:, 0].var(), cfg.b7_tau, g))
        rows.append(_row("B7", "bulk_var", _bulk_variance(X, W, 1), cfg.b7_tau, g))
        if g + 1 < cfg.b7_generations:
            W, b = sim.train_on_samples(
                sim.key_for(seed, 12, g), X, sim.init_weights(TWO, 1, d7), 0.0, **kw
            )
    return pd.concat([pd.DataFrame(rows), *figs], ignore_index=True)


# ----------------------------------------------------------------------------
# checks


def _mean(sims, experiment, quantity, **sel):
    s = sims[(sims.experiment == experiment) & (sims.quantity == quantity)]
    for k, v in sel.items():
        s = s[np.isclose(s[k], v)]
    return float(s.value.mean())


def _se(sims, experiment, quantity, **sel):
    s = sims[(sims.experiment == experiment) & (sims.quantity == quantity)]
    for k, v in sel.items():
        s = s[np.isclose(s[k], v)]
    n = len(s)
    return float(s.value.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0


def _th(theory, experiment, quantity, **sel):
    s = theory[(theory.experiment == experiment) & (theory.quantity == quantity)]
    for k, v in sel.items():
        s = s[np.isclose(s[k], v)]
    return float(s.value.iloc[0])


def _ks_allowed(cfg: Config, m: int) -> float:
    """Allowed two-sample KS distance: ``ks_max`` (spec: 0.06 for 2000 full-flow samples),
    or the 0.1 % critical value 1.95 sqrt(1/n + 1/m) when fewer samples make
    ``ks_max`` unreachable by sampling noise alone (n = n_gen full-flow samples
    per seed, m theory samples)."""
    return max(cfg.ks_max, 1.95 * np.sqrt(1.0 / cfg.n_gen + 1.0 / m))


def checks(cfg: Config, theory: pd.DataFrame, sims: pd.DataFrame) -> list[Check]:
    out: list[Check] = []
    # B1
    t1 = _b1_times(cfg)
    devs = [
        abs(_mean(sims, "B2", "b", tau=tau) - float(th.skip_connection(tau, cfg.t_train)))
        for tau in t1
    ]
    out.append(
        Check.evaluate(
            "B1_skip_connection",
            "agreement",
            max(devs),
            cfg.b1_tol,
            "<=",
            f"max |b_sim - b(tau)| at tau in {[float(v) for v in t1]} (closed form, "
            f"t = {cfg.t_train:g}, d = {cfg.d})",
        )
    )
    # B2
    abs_tol = cfg.ode_abs / np.sqrt(cfg.d)
    tv = theory[theory.experiment == "B2"]
    sv = sims[sims.experiment == "B2"].groupby(["quantity", "tau"])["value"].mean().reset_index()
    ratios, worst = [], ""
    t2 = _b2_times(cfg)
    for tau in t2:
        for q in tv.quantity.unique():
            if q == "b":
                continue
            a = tv[(tv.quantity == q) & np.isclose(tv.tau, tau)].value
            s = sv[(sv.quantity == q) & np.isclose(sv.tau, tau)].value
            if len(a) and len(s):
                r = abs(s.iloc[0] - a.iloc[0]) / (cfg.ode_rel * abs(a.iloc[0]) + abs_tol)
                if not ratios or r > max(ratios):
                    worst = f"{q} at tau={tau:g}: sim {s.iloc[0]:.4g} vs ODE {a.iloc[0]:.4g}"
                ratios.append(r)
    out.append(
        Check.evaluate(
            "B2_learning_ode",
            "agreement",
            max(ratios),
            1.0,
            "<=",
            f"max over {len(ratios)} entries of Omega and Q at tau = {t2} of "
            f"|sim - ODE| / ({cfg.ode_rel:.0%} |ODE| + {abs_tol:.3g} = {cfg.ode_abs:g}/sqrt(d)); "
            f"worst {worst}",
        )
    )
    # B3: exact reduction given (W, b)
    T = cfg.tau_max
    r_var = max(
        abs(_mean(sims, "generated", q, tau=T) / _mean(sims, "B3_reduced", q, tau=T) - 1)
        for q in ("var_e1", "var_e2")
    )
    z_mean = max(
        abs(
            _mean(sims, "generated", f"mean_{a}", tau=T)
            - _mean(sims, "B3_reduced", f"mean_{a}", tau=T)
        )
        / _mean(sims, "B3_sim", f"mean_{a}_se", tau=T)
        for a in ("e1", "e2")
    )
    bulk = _mean(sims, "generated", "bulk_var", tau=T)
    c2 = _mean(sims, "B3_reduced", "bulk_var", tau=T)
    cT = _mean(sims, "B3_reduced", "c_T", tau=T)
    ks3 = max(
        float(sims[(sims.experiment == "B3_reduced") & (sims.quantity == q)].value.max())
        for q in ("ks_e1", "ks_e2")
    )
    ks3_allowed = _ks_allowed(cfg, cfg.reduced_samples)
    value = max(
        r_var / cfg.var_rel,
        z_mean / cfg.n_se,
        abs(bulk / c2 - 1) / cfg.bulk_rel,
        ks3 / ks3_allowed,
    )
    out.append(
        Check.evaluate(
            "B3_exact_reduction",
            "agreement",
            value,
            1.0,
            "<=",
            f"full flow vs reduced flow of the same (W, b): variances within "
            f"{cfg.var_rel:.0%} (worst {r_var:.1%}), means within {cfg.n_se:g} SE "
            f"(worst {z_mean:.2f}), 1-D KS distance of e1.x, e2.x < {ks3_allowed:.3g} "
            f"(worst seed {ks3:.3f}), bulk variance {bulk:.4g} vs c_T^2 = "
            f"{c2:.4g} within {cfg.bulk_rel:.0%}",
        )
    )
    out.append(
        Check.evaluate(
            "B3_bulk_is_c_T_squared",
            "claim",
            abs(bulk - c2) / abs(bulk - cT),
            0.2,
            "<",
            f"|bulk - c_T^2| / |bulk - c_T| with bulk {bulk:.4g}, c_T^2 {c2:.4g}, "
            f"c_T {cT:.4g} (the authors' notebook uses c_T)",
        )
    )
    # B4: end to end
    r4 = max(
        abs(_mean(sims, "generated", q, tau=T) / _th(theory, "generated", q, tau=T) - 1)
        for q in ("var_e1", "var_e2", "bulk_var")
    )
    n_seeds = sims.seed.nunique()
    th4 = theory[(theory.experiment == "B4") & (theory.quantity == "sample")]
    z4 = max(
        abs(
            _mean(sims, "generated", f"mean_{a}", tau=T)
            - _th(theory, "generated", f"mean_{a}", tau=T)
        )
        / np.hypot(
            _mean(sims, "B3_sim", f"mean_{a}_se", tau=T) / np.sqrt(n_seeds),
            th4[col].std() / np.sqrt(len(th4)),
        )
        for a, col in (("e1", "x"), ("e2", "y"))
    )
    s4 = sims[(sims.experiment == "B4") & (sims.quantity == "sample")]
    ks4 = max(
        ks_2samp(grp[col].to_numpy(), th4[col].to_numpy()).statistic
        for _, grp in s4.groupby("seed")
        for col in ("x", "y")
    )
    ks4_allowed = _ks_allowed(cfg, len(th4))
    out.append(
        Check.evaluate(
            "B4_ode_then_reduced_flow",
            "agreement",
            max(r4 / cfg.var_rel, z4 / cfg.n_se, ks4 / ks4_allowed),
            1.0,
            "<=",
            f"simulation vs ODE + reduced flow at tau = {T:g}: Var(e1 x), Var(e2 x), "
            f"bulk variance within {cfg.var_rel:.0%} (worst {r4:.1%}), means within "
            f"{cfg.n_se:g} SE (worst {z4:.2f}), 1-D KS distance < {ks4_allowed:.3g} "
            f"(worst seed {ks4:.3f})",
        )
    )
    # B5
    r5 = []
    for tau in cfg.b5_taus:
        for q in ("var_e1", "bulk_var"):
            r5.append(abs(_mean(sims, "B5", q, tau=tau) / _th(theory, "generated", q, tau=tau) - 1))
    out.append(
        Check.evaluate(
            "B5_sample_size_dependence",
            "agreement",
            max(r5),
            cfg.b5_rel,
            "<=",
            f"max relative gap of Var(e1 x) and the bulk variance at tau = "
            f"{list(cfg.b5_taus)} (n/d = tau/eta), d = {cfg.b5_d}",
        )
    )
    a, bt = th.schedule(cfg.t_train)
    kap = a**2 + bt**2
    bstar = bt / kap
    tau_cross = float(np.log(bstar / (bstar - 1.0)) / kap) if bstar > 1 else np.inf
    below = [tau for tau in cfg.b5_taus if tau < tau_cross]
    above = [tau for tau in cfg.b5_taus if tau > tau_cross]
    ok = all(_mean(sims, "B5", "bulk_var", tau=t) < 1 for t in below[-1:]) and all(
        _mean(sims, "B5", "bulk_var", tau=t) > 1 for t in above[:1]
    )
    out.append(
        Check.evaluate(
            "B5_bulk_shrinks_then_inflates",
            "claim",
            float(ok),
            1.0,
            ">=",
            f"simulated bulk variance < 1 at tau={below[-1:]} and > 1 at "
            f"tau={above[:1]}: b(tau) crosses 1 at tau = {tau_cross:.3f} "
            f"(closed form), n = {tau_cross / cfg.eta:.2f} d",
        )
    )
    # B6 central symmetry
    m6, se6 = _mean(sims, "B6", "mean_e1"), _mean(sims, "B6", "mean_e1_se")
    n_seeds = sims[sims.experiment == "B6"].seed.nunique()
    z6 = abs(m6) / (se6 / np.sqrt(n_seeds))
    mass = _mean(sims, "B6", "mass_pos_e1")
    ratio = mass / (1 - mass)
    # the spec's tolerance on the mass ratio plus n_se binomial standard errors:
    # the mass of N samples has SE sqrt(p (1 - p) / N), and d[p/(1-p)]/dp = 1/(1-p)^2
    n_mass = cfg.n_gen * n_seeds
    se_ratio = np.sqrt(mass * (1 - mass) / n_mass) / (1 - mass) ** 2
    mass_allowed = cfg.b6_mass_tol + cfg.n_se * se_ratio
    z3 = abs(_mean(sims, "generated", "mean_e2", tau=T)) / (
        _mean(sims, "B3_sim", "mean_e2_se", tau=T) / np.sqrt(n_seeds)
    )
    val6 = max(z6 / cfg.n_se, abs(ratio - 1) / mass_allowed, z3 / cfg.n_se)
    out.append(
        Check.evaluate(
            "B6_mode_collapse_symmetry",
            "claim",
            val6,
            1.0,
            "<=",
            f"generated law symmetric under x -> -x: imbalanced target "
            f"(mean {_th(theory, 'B6', 'target_mean_e1'):.2g}) generates mean "
            f"{m6:.3f} ({z6:.1f} SE, allowed {cfg.n_se:g}), mode mass ratio {ratio:.3f} "
            f"(|ratio - 1| allowed {cfg.b6_mass_tol:g} + {cfg.n_se:g} x binomial SE "
            f"{se_ratio:.3f} of {n_mass} samples = {mass_allowed:.3f}); three clusters "
            f"(target mean along e2 = -1) generate {z3:.1f} SE",
        )
    )
    # B7 collapse loop
    worst7 = []
    for g in range(cfg.b7_generations):
        sel = dict(generation=g)
        worst7.append(
            abs(_mean(sims, "B7", "b", **sel) - _th(theory, "B7", "b", **sel)) / cfg.b7_b_tol
        )
        for q, tol in (
            ("Omega_orig", cfg.b7_stat_rel),
            ("Q_00", cfg.b7_stat_rel),
            ("var_e1", cfg.b7_var_rel),
            ("bulk_var", cfg.b7_bulk_rel),
        ):
            # relative tolerance plus n_se standard errors of the difference
            # (simulation seeds and theory sampler seeds): once Omega has
            # collapsed to O(1/sqrt(d)) the spread dominates
            t7 = _th(theory, "B7", q, **sel)
            se = np.hypot(_se(sims, "B7", q, **sel), _th(theory, "B7", f"{q}_se", **sel))
            allowed = tol * abs(t7) + cfg.n_se * se
            worst7.append(abs(_mean(sims, "B7", q, **sel) - t7) / allowed)
    out.append(
        Check.evaluate(
            "B7_collapse_loop",
            "agreement",
            max(worst7),
            1.0,
            "<=",
            f"retraining loop, d={cfg.b7_d}, tau={cfg.b7_tau:g}, "
            f"{cfg.b7_generations} generations: b within {cfg.b7_b_tol:g}, "
            f"Omega and Q within {cfg.b7_stat_rel:.0%}, Var(e1 x) within "
            f"{cfg.b7_var_rel:.0%}, bulk within {cfg.b7_bulk_rel:.0%} "
            f"(each plus {cfg.n_se:g} SE of simulation seeds and "
            f"{cfg.b7_theory_seeds} theory sampler seeds)",
        )
    )
    first = _th(theory, "B7", "bulk_var", generation=0)
    last = _th(theory, "B7", "bulk_var", generation=cfg.b7_generations - 1)
    s_first = _mean(sims, "B7", "bulk_var", generation=0)
    s_last = _mean(sims, "B7", "bulk_var", generation=cfg.b7_generations - 1)
    drift_th, drift_sim = np.log(last / first), np.log(s_last / s_first)
    out.append(
        Check.evaluate(
            "B7_model_collapse",
            "claim",
            float(np.sign(drift_th) == np.sign(drift_sim)) * abs(drift_sim),
            0.1,
            ">",
            f"retraining moves the bulk variance away from the target's "
            f"generation after generation (log change {drift_sim:+.3f} in "
            f"simulation, {drift_th:+.3f} predicted; 0 if the signs differ); "
            f"structured variance {_mean(sims, 'B7', 'var_e1', generation=0):.3g}"
            f" -> {_mean(sims, 'B7', 'var_e1', generation=cfg.b7_generations - 1):.3g}",
        )
    )
    return out


# ----------------------------------------------------------------------------
# figures


def _smooth(H: np.ndarray) -> np.ndarray:
    """A 3 x 3 binomial blur of a 2-D histogram (for readable contours)."""
    k = np.array([1.0, 2.0, 1.0]) / 4.0
    P = np.pad(H, 1, mode="edge")
    P = k[0] * P[:-2] + k[1] * P[1:-1] + k[2] * P[2:]
    return k[0] * P[:, :-2] + k[1] * P[:, 1:-1] + k[2] * P[:, 2:]


def figures(cfg: Config, theory: pd.DataFrame, sims: pd.DataFrame) -> dict:
    figs = {}
    taus = list(cfg.fig_taus)
    fig, axes = figure(ncols=len(taus), width=2.8, height=2.8)
    axes = np.atleast_1d(axes)
    ft = theory[theory.experiment == "fig1"]
    fs = sims[(sims.experiment == "fig1") & (sims.seed == sims.seed.min())]
    lim = 9.0
    grid = np.linspace(-lim, lim, 90)
    Xg, Yg = np.meshgrid(grid, grid)
    target = sum(np.exp(-((Xg - m[0]) ** 2 + (Yg - m[1]) ** 2) / 2) for m in THREE)
    for ax, tau in zip(axes, taus, strict=True):
        s = fs[np.isclose(fs.tau, tau)]
        ax.scatter(s.x, s.y, s=2, color="C1", alpha=0.35, label="simulation", rasterized=True)
        t = ft[np.isclose(ft.tau, tau)]
        H, xe, ye = np.histogram2d(
            t.x, t.y, bins=36, range=[[-lim, lim], [-lim, lim]], density=True
        )
        H = _smooth(H)
        xc, yc = 0.5 * (xe[1:] + xe[:-1]), 0.5 * (ye[1:] + ye[:-1])
        ax.contour(xc, yc, H.T, levels=4, colors="C0", linewidths=0.9)
        ax.contour(Xg, Yg, target, levels=3, colors="0.5", linewidths=0.6, linestyles="dotted")
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        finish(ax, xlabel="e1 . x", ylabel="e2 . x", title=f"tau = {tau:g}", legend=False)
    axes[0].legend(loc="lower left", fontsize=6)
    figs["fig1_generated_projections"] = fig

    fig, axes = figure(ncols=2, width=3.8, height=3.0)
    tv = theory[theory.experiment == "B2"]
    sv = sims[sims.experiment == "B2"].groupby(["quantity", "tau"])["value"].agg(["mean", "std"])
    sv = sv.reset_index()
    for ax, names in zip(
        axes,
        (["Omega_00", "Omega_01", "Omega_10", "Omega_11"], ["Q_00", "Q_01", "Q_11", "b"]),
        strict=True,
    ):
        for c, q in zip(colors(len(names)), names, strict=True):
            t = tv[tv.quantity == q].sort_values("tau")
            theory_line(ax, t.tau, t.value, color=c, label=q)
            s = sv[sv.quantity == q].sort_values("tau").iloc[::3]
            sim_points(ax, s.tau, s["mean"], None, color=c)
        finish(
            ax,
            xlabel="training time tau = eta n / d",
            ylabel="summary statistic",
            title="learning ODE (lines) vs SGD (markers)",
        )
    figs["summary_statistics"] = fig

    fig, axes = figure(ncols=2, width=3.8, height=3.0)
    g = theory[(theory.experiment == "generated")]
    bulk = g[g.quantity == "bulk_var"].sort_values("tau")
    theory_line(
        axes[0],
        bulk.tau / cfg.eta,
        bulk.value,
        color="C0",
        label="bulk variance c_T^2",
        marker="o",
        markersize=3,
    )
    s5 = sims[sims.experiment == "B5"]
    for q, c in (("bulk_var", "C0"),):
        st = s5[s5.quantity == q].groupby("tau").value.agg(["mean", "std", "count"]).reset_index()
        sim_points(axes[0], st.tau / cfg.eta, st["mean"], st["std"] / np.sqrt(st["count"]), color=c)
    axes[0].axhline(1.0, color="0.5", lw=0.8, ls="--", label="target (s^2 = 1)")
    finish(axes[0], xlabel="samples n / d", ylabel="bulk variance", title="scale vs n/d")
    ve = g[g.quantity == "var_e1"].sort_values("tau")
    theory_line(
        axes[1],
        ve.tau / cfg.eta,
        ve.value,
        color="C3",
        label="Var(e1 . x)",
        marker="o",
        markersize=3,
    )
    st = s5[s5.quantity == "var_e1"].groupby("tau").value.agg(["mean", "std", "count"])
    st = st.reset_index()
    sim_points(axes[1], st.tau / cfg.eta, st["mean"], st["std"] / np.sqrt(st["count"]), color="C3")
    # three-cluster target: mass on e1.x > 0 is 1/3 (mu = 3 e1) + 1/6 (mu = -3 e2) = 1/2
    mp = g[g.quantity == "mass_pos_e1"].sort_values("tau")
    ax2 = axes[1].twinx()
    ax2.plot(mp.tau / cfg.eta, mp.value, ":", color="C2", label="mass on e1 > 0")
    sm = s5[s5.quantity == "mass_pos_e1"].groupby("tau").value.agg(["mean", "count"])
    sm = sm.reset_index()
    n_mass = cfg.b5_n_gen * sm["count"]  # binomial SE of the pooled mass
    sim_points(
        ax2,
        sm.tau / cfg.eta,
        sm["mean"],
        np.sqrt(sm["mean"] * (1 - sm["mean"]) / n_mass),
        color="C2",
        marker="s",
    )
    ax2.set_ylim(0, 1)
    ax2.set_ylabel("mass on e1 . x > 0 (green; target 1/2)")
    finish(axes[1], xlabel="samples n / d", ylabel="Var(e1 . x)", title="modes vs n/d")
    figs["sample_size"] = fig

    fig, axes = figure(ncols=3, width=3.0, height=2.8)
    t7 = theory[theory.experiment == "B7"]
    s7 = sims[sims.experiment == "B7"]
    for ax, q in zip(axes, ("b", "var_e1", "bulk_var"), strict=True):
        t = t7[t7.quantity == q].sort_values("generation")
        theory_line(ax, t.generation, t.value, color="C0", label="theory", marker="o", markersize=3)
        st = s7[s7.quantity == q].groupby("generation").value.agg(["mean", "std", "count"])
        st = st.reset_index()
        sim_points(
            ax,
            st.generation,
            st["mean"],
            st["std"] / np.sqrt(st["count"]),
            color="C3",
            label="simulation",
        )
        finish(ax, xlabel="generation", ylabel=q, title=f"retraining loop: {q}")
    figs["collapse_loop"] = fig
    return figs


QUICK = Config()

FULL = Config(
    d=2000,
    n_gen=4000,
    b5_d=1000,
    b5_n_gen=2000,
    b6_d=1000,
    b7_d=500,
    b7_tau=4.0,
    b7_generations=5,
    b7_gen_steps=100,
    mc_samples=16384,
)

STUDY = Study(
    id="diffusion",
    title="A solvable flow/diffusion model: learning ODEs of a two-layer autoencoder, "
    "generated densities, mode and model collapse",
    paper=Paper(
        title="A solvable model of learning generative diffusion: theory and insights",
        arxiv="2501.03937",
        authors="H. Cui, C. Pehlevan, Y. M. Lu",
        venue="NeurIPS 2025",
    ),
    config=Config,
    presets={"quick": QUICK, "full": FULL},
    theory=theory_table,
    simulate=simulate_table,
    checks=checks,
    figures=figures,
    seeds={"quick": 2, "full": 4},
)
