"""Study ``deep_linear``: configuration, tables, checks, figures and STUDY.

Experiments (spec 4.2 and 5.2):

``V2`` plain MLP (L = 1), ``V3`` depth and narrow width (L = 2, nu = 0.5),
``V4`` online SGD, ``V5`` residual network: DMFT vs finite-width simulation.
``widths``: test loss vs t across widths in muP and NTK (theory and simulation).
``lr_sweep``: final loss vs learning rate across widths (DMFT; hyperparameter transfer).
``alpha_sweep``: the overfitting peak near alpha ~ 1 with label noise (DMFT).
``depth``: residual nets across depth with beta0/sqrt(L), and constant branch scale.
``power_law``: rich (gamma0 = 1) vs lazy learning of a power-law task by a wide
network under the population gradient (simulation), fitted exponents vs
2 beta/(1 + beta) and beta.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.compare import agreement_ratio, fit_loglog_slope, mean_se
from theorylab.core.config import StudyConfig, param
from theorylab.core.errors import ConfigError, DivergenceError
from theorylab.core.plotting import colors, figure, finish, sim_points, theory_line
from theorylab.core.results import Check
from theorylab.core.study import Paper, Study

from . import simulate as sim
from . import theory as th


@dataclass(frozen=True)
class Config(StudyConfig):
    """Configuration of the deep_linear study (isotropic Gaussian data unless stated).

    Learning rates are eta0 (raw step eta0 gamma0^2 N); alpha is P/D (or B/D online).
    """

    # V2: plain MLP
    v2_D: int = param(300, "V2: input dimension of the simulation", ge=10)
    v2_depth: int = param(1, "V2: hidden layers", ge=1)
    v2_nu: float = param(1.0, "V2: width ratio N/D", gt=0.0)
    v2_alpha: float = param(2.0, "V2: data ratio P/D", gt=0.0)
    v2_eta0: float = param(0.2, "V2: learning rate", gt=0.0)
    v2_steps: int = param(40, "V2: GD steps", ge=2)
    # V3: depth, narrow width
    v3_D: int = param(400, "V3: input dimension", ge=10)
    v3_nu: float = param(0.5, "V3: width ratio", gt=0.0)
    v3_alpha: float = param(4.0, "V3: data ratio", gt=0.0)
    v3_eta0: float = param(0.1, "V3: learning rate", gt=0.0)
    v3_steps: int = param(25, "V3: GD steps", ge=2)
    # V4: online SGD
    v4_D: int = param(300, "V4: input dimension", ge=10)
    v4_alpha: float = param(0.5, "V4: batch ratio B/D", gt=0.0)
    v4_noise: float = param(0.04, "V4: label-noise variance", ge=0.0)
    v4_eta0: float = param(0.1, "V4: learning rate", gt=0.0)
    v4_steps: int = param(30, "V4: SGD steps", ge=2)
    # V5: residual
    v5_D: int = param(300, "V5: input dimension", ge=10)
    v5_depth: int = param(2, "V5: residual blocks", ge=1)
    v5_beta0: float = param(
        1.0, "V5: branch multiplier beta0 (branches scale beta0/sqrt(L))", ge=0.0
    )
    v5_eta0: float = param(0.05, "V5: learning rate", gt=0.0)
    v5_steps: int = param(12, "V5: GD steps", ge=2)
    # widths (R1): muP vs NTK
    width_D: int = param(200, "widths: input dimension of the simulation", ge=10)
    widths: tuple[float, ...] = param((0.5, 1.0, 2.0, 4.0), "widths nu (theory)", gt=0.0)
    width_sim_min_nu: float = param(
        1.0, "widths: simulate only nu >= this (N = nu D < 200 is dominated by finite size)", gt=0.0
    )
    width_depth: int = param(2, "widths: hidden layers", ge=1)
    width_alpha: float = param(2.0, "widths: data ratio", gt=0.0)
    width_eta0: float = param(0.1, "widths: learning rate", gt=0.0)
    width_steps: int = param(30, "widths: GD steps", ge=2)
    # learning-rate sweep (R2), DMFT only
    lr_grid: tuple[float, ...] = param(
        (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8), "learning rates of the sweep", gt=0.0, min_len=2
    )
    lr_alpha: float = param(2.0, "sweep: online batch ratio", gt=0.0)
    lr_steps: int = param(20, "sweep: SGD steps", ge=2)
    # overfitting peak (R3), DMFT only
    alpha_grid: tuple[float, ...] = param(
        (0.5, 0.8, 1.0, 1.25, 2.0, 4.0), "data ratios of the overfitting sweep", gt=0.0, min_len=3
    )
    of_noise: float = param(0.25, "overfitting: label-noise variance", ge=0.0)
    of_eta0: float = param(0.2, "overfitting: learning rate", gt=0.0)
    of_steps: int = param(81, "overfitting: GD steps", ge=2)
    of_peak_factor: float = param(
        1.6,
        "overfitting: the late-time test-error peak must lie at an alpha within this factor "
        "of alpha = 1 (i.e. |log alpha_peak| < log of it)",
        gt=1.0,
    )
    # residual depth (R4)
    depths: tuple[int, ...] = param((1, 2, 4, 8), "residual depths", ge=1, min_len=2)
    depth_check_t: int = param(10, "time at which depth stability is checked", ge=1)
    # power-law acceleration
    pl_D: int = param(500, "power law: modes", ge=10)
    pl_nu: float = param(4.0, "power law: width ratio", gt=0.0)
    pl_a: float = param(1.5, "power law: spectral decay lambda_k ~ k^-a", gt=1.0)
    pl_betas: tuple[float, ...] = param((0.5, 1.5), "power law: task exponents beta", gt=0.0)
    pl_lazy_gamma0: float = param(0.05, "power law: gamma0 of the lazy network", gt=0.0)
    pl_eta0: float = param(0.3, "power law: learning rate", gt=0.0)
    pl_window: tuple[int, ...] = param((10, 100), "power law: fit window (t_min, t_max)", ge=1)
    # tolerances
    n_se: float = param(
        3.0, "coverage of agreement checks in normal sigmas (Student-t over seeds)", gt=0.0
    )
    rel_tol: float = param(0.03, "relative slack of theory vs simulation (finite D)", ge=0.0)
    train_rel_tol: float = param(0.15, "relative slack on the V2 train loss", ge=0.0)
    exact_tol: float = param(1e-6, "V1: tolerance of the exact special cases", gt=0.0)
    depth_tol: float = param(0.05, "relative spread allowed across residual depths", gt=0.0)
    exponent_tol: float = param(0.06, "|fitted - predicted| exponent", gt=0.0)

    def check(self) -> None:
        if len(self.pl_window) != 2 or self.pl_window[0] >= self.pl_window[1]:
            raise ConfigError(
                "pl_window", self.pl_window, "needs (t_min, t_max) with t_min < t_max"
            )
        if len(self.widths) < 2:
            raise ConfigError("widths", self.widths, "needs at least two widths")
        if self.width_sim_min_nu > max(self.widths):
            raise ConfigError(
                "width_sim_min_nu",
                self.width_sim_min_nu,
                f"must be <= the largest width {max(self.widths):g} (nothing would be simulated)",
            )
        if self.depth_check_t >= self.v5_steps:
            raise ConfigError(
                "depth_check_t", self.depth_check_t, f"must be < v5_steps={self.v5_steps}"
            )


# ----------------------------------------------------------------------------
# helpers


def _curve(experiment: str, setting: str, t, test, train=None) -> pd.DataFrame:
    df = pd.DataFrame({"experiment": experiment, "setting": setting, "t": np.asarray(t)})
    df["test_excess"] = np.asarray(test, dtype=float)
    df["train_mse"] = np.nan if train is None else np.asarray(train, dtype=float)
    return df


def _experiments(cfg: Config, simulated: bool = False) -> list[dict]:
    """Every theory-vs-simulation configuration (V2-V5 and the width panel).

    With ``simulated`` the narrow widths of the width panel (below
    ``width_sim_min_nu``) are left out.
    """
    exps = [
        dict(
            name="V2",
            setting=f"L={cfg.v2_depth}",
            D=cfg.v2_D,
            depth=cfg.v2_depth,
            nu=cfg.v2_nu,
            alpha=cfg.v2_alpha,
            gamma0=1.0,
            eta0=cfg.v2_eta0,
            steps=cfg.v2_steps,
        ),
        dict(
            name="V3",
            setting="L=2",
            D=cfg.v3_D,
            depth=2,
            nu=cfg.v3_nu,
            alpha=cfg.v3_alpha,
            gamma0=1.0,
            eta0=cfg.v3_eta0,
            steps=cfg.v3_steps,
        ),
        dict(
            name="V4",
            setting="online",
            D=cfg.v4_D,
            depth=2,
            nu=1.0,
            alpha=cfg.v4_alpha,
            gamma0=1.0,
            eta0=cfg.v4_eta0,
            steps=cfg.v4_steps,
            noise=cfg.v4_noise,
            online=True,
        ),
        dict(
            name="V5",
            setting=f"residual L={cfg.v5_depth}",
            D=cfg.v5_D,
            depth=cfg.v5_depth,
            nu=1.0,
            alpha=2.0,
            gamma0=1.0,
            eta0=cfg.v5_eta0,
            steps=cfg.v5_steps,
            residual=True,
            beta0=cfg.v5_beta0,
        ),
    ]
    for par in ("muP", "NTK"):
        for nu in cfg.widths:
            if simulated and nu < cfg.width_sim_min_nu:
                continue
            g0 = 1.0 if par == "muP" else float(th.ntk_gamma0(nu))
            exps.append(
                dict(
                    name="widths",
                    setting=f"{par} nu={nu:g}",
                    D=cfg.width_D,
                    depth=cfg.width_depth,
                    nu=nu,
                    alpha=cfg.width_alpha,
                    gamma0=g0,
                    eta0=cfg.width_eta0,
                    steps=cfg.width_steps,
                )
            )
    return exps


def _dmft_args(e: dict) -> dict:
    keys = (
        "depth",
        "nu",
        "alpha",
        "gamma0",
        "eta0",
        "steps",
        "noise",
        "online",
        "residual",
        "beta0",
    )
    return {k: e[k] for k in keys if k in e}


def _final_or_inf(**kw) -> float:
    try:
        return float(th.dmft(**kw).test_excess.iloc[-1])
    except DivergenceError:
        return float("inf")


def power_law_task(D: int, a: float, beta: float):
    """Eigenvalues lambda_k = k^-a and target powers lambda_k b_k^2 ~ k^(-a beta - 1).

    Normalised so that the initial error sum(lambda b^2)/D is 1 (spec 3.4, eq. (20)).
    """
    k = np.arange(1, D + 1, dtype=float)
    lam = k**-a
    power = k ** (-a * beta - 1.0)
    power *= D / power.sum()
    return lam, power


# ----------------------------------------------------------------------------
# theory table


def theory_table(cfg: Config) -> pd.DataFrame:
    frames = []
    for e in _experiments(cfg):
        df = th.dmft(**_dmft_args(e))
        frames.append(_curve(e["name"], e["setting"], df.t, df.test_excess, df.train_mse))
    # learning-rate sweep (online, L = 2) across widths, both parameterisations
    rows = []
    for par in ("muP", "NTK"):
        for nu in cfg.widths:
            g0 = 1.0 if par == "muP" else float(th.ntk_gamma0(nu))
            for eta in cfg.lr_grid:
                final = _final_or_inf(
                    depth=2,
                    nu=nu,
                    alpha=cfg.lr_alpha,
                    gamma0=g0,
                    eta0=eta,
                    steps=cfg.lr_steps,
                    online=True,
                )
                rows.append((par, nu, eta, final))
    par_, nu_, eta_, fin_ = zip(*rows, strict=True)
    frames.append(
        pd.DataFrame(
            {
                "experiment": "lr_sweep",
                "setting": par_,
                "nu": nu_,
                "eta0": eta_,
                "test_excess": fin_,
            }
        )
    )
    # overfitting peak (L = 1, nu = 1, full batch, label noise)
    for a in cfg.alpha_grid:
        df = th.dmft(1, 1.0, a, 1.0, cfg.of_eta0, cfg.of_steps, noise=cfg.of_noise)
        frames.append(
            _curve("alpha_sweep", f"alpha={a:g}", df.t, df.test_excess, df.train_mse).assign(
                alpha=a
            )
        )
    # residual depth with beta0/sqrt(L) and with constant branch scale
    for L in cfg.depths:
        df = th.dmft(L, 1.0, 2.0, 1.0, cfg.v5_eta0, cfg.v5_steps, residual=True, beta0=cfg.v5_beta0)
        frames.append(_curve("depth", f"L={L}", df.t, df.test_excess).assign(depth=L))
        try:
            df = th.dmft(
                L,
                1.0,
                2.0,
                1.0,
                cfg.v5_eta0,
                cfg.v5_steps,
                residual=True,
                branch_scale=cfg.v5_beta0,
            )
            frames.append(_curve("depth_const", f"L={L}", df.t, df.test_excess).assign(depth=L))
        except DivergenceError as exc:
            frames.append(
                pd.DataFrame(
                    {
                        "experiment": "depth_const",
                        "setting": f"L={L}",
                        "t": [exc.step],
                        "test_excess": [np.inf],
                        "depth": [L],
                    }
                )
            )
    # V1: exact special cases
    frames.append(_exact_cases(cfg))
    # lazy closed form for the power-law panel: e_k(t) = (1 - (L+1) eta0 lambda_k)^t e_k(0)
    t = np.arange(cfg.pl_window[1] + 1)
    for beta in cfg.pl_betas:
        lam, power = power_law_task(cfg.pl_D, cfg.pl_a, beta)
        lazy = np.array([np.sum(power * (1 - 2 * cfg.pl_eta0 * lam) ** (2 * s)) for s in t])
        lazy /= cfg.pl_D
        frames.append(_curve("power_law", f"beta={beta:g} lazy_theory", t, lazy).assign(beta=beta))
    return pd.concat(frames, ignore_index=True)


def _exact_cases(cfg: Config) -> pd.DataFrame:
    """V1: the DMFT against its exact special cases (absolute deviations)."""
    rows = []
    for g0, nu in ((1.0, 1.0), (0.5, 2.0)):
        e = th.dmft(2, nu, 2.0, g0, 0.1, 2).test_excess.iloc[0]
        rows.append(("C_e(0,0) plain = 1 + 1/(gamma0^2 nu)", abs(e - (1 + 1 / (g0**2 * nu)))))
        e = th.dmft(3, nu, 2.0, g0, 0.1, 2, residual=True, beta0=1.0).test_excess.iloc[0]
        rows.append(
            (
                "C_e(0,0) residual = 1 + (1+beta0^2/L)^L/(gamma0^2 nu)",
                abs(e - (1 + (1 + 1 / 3) ** 3 / (g0**2 * nu))),
            )
        )
    a = th.dmft(2, 1.0, 2.0, 1.0, 0.2, 15, residual=True, beta0=1e-9).test_excess.to_numpy()
    b = th.dmft(1, 1.0, 2.0, 1.0, 0.2, 15).test_excess.to_numpy()
    rows.append(("residual with beta0 -> 0 = plain L = 1", float(np.max(np.abs(a - b)))))
    lam = np.ones(40)
    a = th.dmft(2, 1.0, 2.0, 1.0, 0.2, 15, spectrum=(lam, lam)).test_excess.to_numpy()
    b = th.dmft(2, 1.0, 2.0, 1.0, 0.2, 15).test_excess.to_numpy()
    rows.append(("structured with lambda = 1 = isotropic", float(np.max(np.abs(a - b)))))
    _, st = th.dmft(2, 1.0, 1e7, 1.0, 0.2, 15, return_state=True)
    rows.append(
        (
            "alpha -> inf: C_r = C_e and R_delta = I (x 1e-1)",
            0.1
            * max(
                float(np.max(np.abs(st.C_r - st.C_e))),
                float(np.max(np.abs(st.R_delta - np.eye(15)))),
            ),
        )
    )
    names, devs = zip(*rows, strict=True)
    return pd.DataFrame({"experiment": "exact", "setting": names, "deviation": devs})


# ----------------------------------------------------------------------------
# simulation table (one seed)


def simulate_table(cfg: Config, seed: int) -> pd.DataFrame:
    frames = []
    for e in _experiments(cfg, simulated=True):
        kw = {k: e[k] for k in ("D", "nu", "alpha", "depth", "gamma0", "eta0", "steps") if k in e}
        for k in ("noise", "online", "residual", "beta0"):
            if k in e:
                kw[k] = e[k]
        stream = zlib.crc32(f"{e['name']} {e['setting']}".encode())  # stable per experiment
        test, train = sim.train_curves([seed], stream=stream, **kw)
        frames.append(_curve(e["name"], e["setting"], np.arange(e["steps"]), test[0], train[0]))
    # power law: population gradient on a wide centred network, rich vs lazy
    steps = cfg.pl_window[1] + 1
    for j, beta in enumerate(cfg.pl_betas):
        lam, power = power_law_task(cfg.pl_D, cfg.pl_a, beta)
        for regime, g0 in (("rich", 1.0), ("lazy", cfg.pl_lazy_gamma0)):
            test = sim.population_gd(
                sim.key_for(seed, 7, j),
                lam,
                power,
                nu=cfg.pl_nu,
                gamma0=g0,
                eta0=cfg.pl_eta0,
                steps=steps,
            )
            frames.append(
                _curve("power_law", f"beta={beta:g} {regime}", np.arange(steps), test).assign(
                    beta=beta
                )
            )
    return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------------------
# checks


def _pair(theory: pd.DataFrame, sims: pd.DataFrame, experiment: str, column: str) -> pd.DataFrame:
    s = sims[sims.experiment == experiment]
    st = mean_se(s, ["setting", "t"], column)
    tv = theory[theory.experiment == experiment][["setting", "t", column]]
    return st.merge(tv.rename(columns={column: "theory"}), on=["setting", "t"])


def _agreement(name, m, cfg, rel, what, times=None) -> Check:
    if times is not None:
        m = m[m.t.isin(times)]
    if m.empty:
        return Check.evaluate(
            name, "agreement", float("nan"), 1.0, "<=", f"{what}: no simulated points to compare"
        )
    ratio = agreement_ratio(m.theory, m["mean"], m.se, cfg.n_se, rel, n=m["n"])
    i = int(np.argmax(ratio))
    w = m.iloc[i]
    return Check.evaluate(
        name,
        "agreement",
        float(ratio.max()),
        1.0,
        "<=",
        f"{what}: max over {len(m)} points of |sim - DMFT| / (t-quantile of {cfg.n_se:g} sigma "
        f"x SE + {rel:.0%}); worst {w.setting} t={int(w.t)}: sim {w['mean']:.4g} +- {w.se:.2g} "
        f"vs DMFT {w.theory:.4g}",
    )


def _times(steps: int) -> list[int]:
    return sorted({max(1, steps // 8), steps // 4, steps // 2, steps - 1})


def checks(cfg: Config, theory: pd.DataFrame, sims: pd.DataFrame) -> list[Check]:
    out: list[Check] = []
    out.append(
        _agreement(
            "V2_plain_mlp_test",
            _pair(theory, sims, "V2", "test_excess"),
            cfg,
            cfg.rel_tol,
            f"plain MLP L={cfg.v2_depth}, D={cfg.v2_D}, test excess",
            _times(cfg.v2_steps),
        )
    )
    out.append(
        _agreement(
            "V2_plain_mlp_train",
            _pair(theory, sims, "V2", "train_mse"),
            cfg,
            cfg.train_rel_tol,
            "plain MLP, train MSE",
            _times(cfg.v2_steps),
        )
    )
    out.append(
        _agreement(
            "V3_depth_narrow_width",
            _pair(theory, sims, "V3", "test_excess"),
            cfg,
            cfg.rel_tol,
            f"L=2, nu={cfg.v3_nu:g}, D={cfg.v3_D}",
            _times(cfg.v3_steps),
        )
    )
    out.append(
        _agreement(
            "V4_online_sgd",
            _pair(theory, sims, "V4", "test_excess"),
            cfg,
            cfg.rel_tol,
            f"online SGD, alpha_B={cfg.v4_alpha:g}",
            _times(cfg.v4_steps),
        )
    )
    out.append(
        _agreement(
            "V5_residual",
            _pair(theory, sims, "V5", "test_excess"),
            cfg,
            cfg.rel_tol,
            f"residual, L={cfg.v5_depth}",
            _times(cfg.v5_steps),
        )
    )
    out.append(
        _agreement(
            "widths_muP_and_NTK",
            _pair(theory, sims, "widths", "test_excess"),
            cfg,
            cfg.rel_tol,
            f"muP and NTK at nu={list(cfg.widths)}",
            _times(cfg.width_steps),
        )
    )
    # V1 exact special cases
    ex = theory[theory.experiment == "exact"]
    worst = ex.loc[ex.deviation.idxmax()]
    out.append(
        Check.evaluate(
            "V1_exact_special_cases",
            "claim",
            float(ex.deviation.max()),
            cfg.exact_tol,
            "<",
            f"max deviation of the DMFT from {len(ex)} exact special cases "
            f"(worst: {worst.setting})",
        )
    )
    # V6 claims
    out += _lr_checks(cfg, theory[theory.experiment == "lr_sweep"])
    al = theory[theory.experiment == "alpha_sweep"]
    late = al[al.t == al.t.max()].set_index("alpha")["test_excess"]
    peak_alpha = float(late.idxmax())
    a_one = float(late.index[np.argmin(np.abs(np.log(late.index.to_numpy(dtype=float))))])
    one = al[al.alpha == a_one]
    argmin = int(one.loc[one.test_excess.idxmin(), "t"])
    last = cfg.of_steps - 1
    # both conditions, each normalised so that it holds iff its margin is < 1
    peak_margin = abs(np.log(peak_alpha)) / np.log(cfg.of_peak_factor)
    stop_margin = argmin / last
    out.append(
        Check.evaluate(
            "V6_overfitting_peak_near_alpha_1",
            "claim",
            max(peak_margin, stop_margin),
            1.0,
            "<",
            f"max of |log alpha_peak| / log({cfg.of_peak_factor:g}) = {peak_margin:.3f} "
            f"(late-time test error over alpha={list(cfg.alpha_grid)} peaks at "
            f"alpha={peak_alpha:g}) and argmin_t E(t) / (T-1) = {argmin}/{last} = "
            f"{stop_margin:.3f} at alpha={a_one:g} (< 1: early stopping helps)",
        )
    )
    dp = theory[(theory.experiment == "depth") & (theory.t == cfg.depth_check_t)]
    spread = float((dp.test_excess.max() - dp.test_excess.min()) / dp.test_excess.min())
    out.append(
        Check.evaluate(
            "V6_residual_depth_stable",
            "claim",
            spread,
            cfg.depth_tol,
            "<",
            f"relative spread of E(t={cfg.depth_check_t}) over residual depths "
            f"L={list(cfg.depths)} with branches beta0/sqrt(L)",
        )
    )
    dc = theory[theory.experiment == "depth_const"]
    diverged = sorted(int(d) for d in dc[~np.isfinite(dc.test_excess)].depth.unique())
    stable_const = sorted(int(d) for d in dc[np.isfinite(dc.test_excess)].depth.unique())
    out.append(
        Check.evaluate(
            "V6_constant_branch_scale_unstable",
            "claim",
            float(len(diverged)),
            0.0,
            ">",
            f"depths at which constant branch scale beta={cfg.v5_beta0:g} "
            f"diverges at eta0={cfg.v5_eta0:g}: {diverged} "
            f"(stable: {stable_const}), while beta0/sqrt(L) is stable at all",
        )
    )
    out += _exponent_checks(cfg, sims)
    return out


def _lr_checks(cfg: Config, lr: pd.DataFrame) -> list[Check]:
    """V6 hyperparameter-transfer claims from the learning-rate sweep.

    ``lr`` has columns ``setting`` (muP / NTK), ``nu``, ``eta0`` and ``test_excess``
    (inf where the DMFT diverged).  A grid in which nothing can be compared (every
    learning rate diverges) gives failed checks that say so, not an exception.
    """
    out: list[Check] = []
    mup = lr[lr.setting == "muP"].pivot(index="eta0", columns="nu", values="test_excess")
    finite = mup.replace(np.inf, np.nan)
    viol, compared = 0, 0
    for _, row in finite.iterrows():
        vals = row.dropna().to_numpy()
        if vals.size >= 2:
            compared += 1
            viol += int(np.any(np.diff(vals) >= 0))
    detail = (
        f"learning rates (of {len(finite)}) at which the muP DMFT loss "
        f"after {cfg.lr_steps} steps fails to fall with width nu={list(cfg.widths)}"
    )
    if compared == 0:  # every learning rate diverges at all but (at most) one width
        viol = float("nan")
        detail += f"; no learning rate of lr_grid={list(cfg.lr_grid)} is stable at two widths"
    out.append(Check.evaluate("V6_muP_wider_is_better", "claim", viol, 0, "<=", detail))
    ntk = lr[lr.setting == "NTK"]
    stable = ntk[np.isfinite(ntk.test_excess)].groupby("nu")["eta0"].max()
    unstable = sorted(set(cfg.widths) - set(stable.index))
    if unstable:  # some width has no stable learning rate in the grid: nothing to compare
        grows = 0.0
        by_nu = f"no stable eta0 in lr_grid={list(cfg.lr_grid)} at nu={unstable}"
    else:
        grows = (
            float(stable.iloc[-1] / stable.iloc[0])
            if np.all(np.diff(stable.to_numpy()) >= 0)
            else 0.0
        )
        by_nu = f"stable eta0 by nu: {dict(zip(stable.index, stable.round(3), strict=True))}"
    out.append(
        Check.evaluate(
            "V6_NTK_stable_lr_grows_with_width",
            "claim",
            grows,
            1.0,
            ">",
            f"largest stable eta0 at the widest over the narrowest net (NTK), "
            f"0 if not monotone or not stable at every width; {by_nu}",
        )
    )
    return out


def _exponent_checks(cfg: Config, sims: pd.DataFrame) -> list[Check]:
    lo, hi = cfg.pl_window
    pl = sims[(sims.experiment == "power_law") & (sims.t >= lo) & (sims.t <= hi)]
    slopes = {}
    for setting, g in pl.groupby("setting"):
        per_seed = [-fit_loglog_slope(s.t, s.test_excess).slope for _, s in g.groupby("seed")]
        slopes[setting] = float(np.mean(per_seed))
    out = []
    for beta in cfg.pl_betas:
        rich, lazy = slopes[f"beta={beta:g} rich"], slopes[f"beta={beta:g} lazy"]
        if beta < 1:
            pred = 2 * beta / (1 + beta)
            value = max(abs(rich - pred), abs(lazy - beta))
            detail = (
                f"hard task beta={beta:g}: rich exponent {rich:.3f} vs 2b/(1+b)={pred:.3f}, "
                f"lazy {lazy:.3f} vs b={beta:g}; fitted on t in [{lo}, {hi}]"
            )
            name = "V6_rich_acceleration_hard_task"
        else:
            value = abs(rich - lazy) / lazy
            detail = (
                f"easy task beta={beta:g}: rich exponent {rich:.3f} vs lazy {lazy:.3f} "
                f"(no acceleration: relative difference); t in [{lo}, {hi}]"
            )
            name = "V6_no_acceleration_easy_task"
        thr = cfg.exponent_tol if beta < 1 else 2 * cfg.exponent_tol
        out.append(Check.evaluate(name, "claim", value, thr, "<", detail))
    return out


# ----------------------------------------------------------------------------
# figures


def figures(cfg: Config, theory: pd.DataFrame, sims: pd.DataFrame) -> dict:
    figs = {}
    fig, axes = figure(ncols=2, width=3.7, height=3.0)
    m = _pair(theory, sims, "widths", "test_excess")
    for ax, par in zip(axes, ("muP", "NTK"), strict=True):
        for c, nu in zip(colors(len(cfg.widths)), cfg.widths, strict=True):
            g = m[m.setting == f"{par} nu={nu:g}"].sort_values("t")
            tv = theory[(theory.experiment == "widths") & (theory.setting == f"{par} nu={nu:g}")]
            theory_line(ax, tv.t, tv.test_excess, color=c, label=f"nu={nu:g}")
            if len(g):
                sim_points(ax, g.t, g["mean"], g.se, color=c)
        finish(
            ax,
            xlabel="step t",
            ylabel="test excess error",
            logy=True,
            title=f"{par}, L={cfg.width_depth}, alpha={cfg.width_alpha:g}",
        )
    figs["widths"] = fig

    fig, axes = figure(ncols=2, width=3.7, height=3.0)
    lr = theory[theory.experiment == "lr_sweep"]
    for ax, par in zip(axes, ("muP", "NTK"), strict=True):
        for c, nu in zip(colors(len(cfg.widths)), cfg.widths, strict=True):
            g = lr[(lr.setting == par) & (lr.nu == nu)].sort_values("eta0")
            ok = np.isfinite(g.test_excess)
            theory_line(
                ax,
                g.eta0[ok],
                g.test_excess[ok],
                color=c,
                label=f"nu={nu:g}",
                marker="o",
                markersize=3,
            )
            if (~ok).any():
                ax.plot(g.eta0[~ok].iloc[:1], [g.test_excess[ok].max() * 3], "x", color=c)
        finish(
            ax,
            xlabel="learning rate eta0",
            ylabel=f"loss after {cfg.lr_steps} steps",
            title=f"{par} (x: diverges)",
            logx=True,
            logy=True,
        )
    figs["lr_transfer"] = fig

    fig, ax = figure(width=4.0, height=3.1)
    al = theory[theory.experiment == "alpha_sweep"]
    last = al[al.t == al.t.max()].sort_values("alpha")
    best = al.groupby("alpha")["test_excess"].min().sort_index()
    theory_line(
        ax,
        last.alpha,
        last.test_excess,
        color="C3",
        label=f"t = {cfg.of_steps - 1}",
        marker="o",
        markersize=3,
    )
    theory_line(ax, best.index, best.values, color="C0", style="--", label="early stopping")
    finish(
        ax,
        xlabel="alpha = P/D",
        ylabel="test excess error",
        logx=True,
        title=f"overfitting peak, sigma^2={cfg.of_noise:g}",
    )
    figs["alpha_peak"] = fig

    fig, ax = figure(width=4.0, height=3.1)
    dp = theory[theory.experiment == "depth"]
    for c, L in zip(colors(len(cfg.depths)), cfg.depths, strict=True):
        g = dp[dp.depth == L].sort_values("t")
        theory_line(ax, g.t, g.test_excess, color=c, label=f"L={L} (beta0/sqrt L)")
    m = _pair(theory, sims, "V5", "test_excess").sort_values("t")
    sim_points(ax, m.t, m["mean"], m.se, color="k", label=f"simulation L={cfg.v5_depth}")
    finish(
        ax,
        xlabel="step t",
        ylabel="test excess error",
        logy=True,
        title="residual networks across depth",
    )
    figs["residual_depth"] = fig

    fig, axes = figure(ncols=len(cfg.pl_betas), width=3.6, height=3.0)
    axes = np.atleast_1d(axes)
    pl = sims[sims.experiment == "power_law"]
    st = mean_se(pl, ["setting", "t"], "test_excess")
    lt = theory[theory.experiment == "power_law"]
    lo, hi = cfg.pl_window
    for ax, beta in zip(axes, cfg.pl_betas, strict=True):
        for regime, c in (("rich", "C3"), ("lazy", "C0")):
            g = st[(st.setting == f"beta={beta:g} {regime}") & (st.t >= 1)]
            ax.plot(g.t, g["mean"], "-", color=c, label=f"{regime} (simulation)")
        g = lt[(lt.setting == f"beta={beta:g} lazy_theory") & (lt.t >= 1)]
        ax.plot(g.t, g.test_excess, ":", color="k", label="lazy kernel (closed form)")
        t = np.array([lo, hi], dtype=float)
        ref = st[(st.setting == f"beta={beta:g} rich") & (st.t == lo)]["mean"].iloc[0]
        rich_pred = 2 * beta / (1 + beta) if beta < 1 else beta
        ax.plot(
            t, ref * (t / lo) ** -rich_pred, "--", color="C3", lw=0.8, label=f"t^-{rich_pred:.2g}"
        )
        finish(
            ax,
            xlabel="step t",
            ylabel="test excess error",
            logx=True,
            logy=True,
            title=f"power-law task, beta={beta:g}",
        )
    figs["power_law"] = fig

    fig, axes = figure(ncols=4, width=3.0, height=2.7)
    for ax, (exp, title) in zip(
        axes,
        (
            ("V2", "V2 plain MLP"),
            ("V3", "V3 L=2, nu=0.5"),
            ("V4", "V4 online SGD"),
            ("V5", "V5 residual"),
        ),
        strict=True,
    ):
        m = _pair(theory, sims, exp, "test_excess").sort_values("t")
        theory_line(ax, m.t, m.theory, color="C0", label="DMFT")
        sim_points(ax, m.t, m["mean"], m.se, color="C0", label="simulation")
        finish(ax, xlabel="step t", ylabel="test excess error", logy=True, title=title)
    figs["agreement"] = fig
    return figs


QUICK = Config()

FULL = Config(
    v2_D=800,
    v3_D=800,
    v4_D=800,
    v5_D=800,
    width_D=400,
    width_steps=60,
    lr_grid=(0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.8),
    lr_steps=40,
    alpha_grid=(0.3, 0.5, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 4.0),
    depths=(1, 2, 4, 8, 16),
    pl_D=1000,
    pl_window=(10, 300),
)

STUDY = Study(
    id="deep_linear",
    title="DMFT of deep linear networks: width, depth, data reuse, muP vs NTK, residual scaling",
    paper=Paper(
        title="Deep Linear Network Training Dynamics from Random Initialization: Data, Width, "
        "Depth, and Hyperparameter Transfer",
        arxiv="2502.02531",
        authors="B. Bordelon, C. Pehlevan",
        venue="ICML 2025",
    ),
    config=Config,
    presets={"quick": QUICK, "full": FULL},
    theory=theory_table,
    simulate=simulate_table,
    checks=checks,
    figures=figures,
    seeds={"quick": 12, "full": 16},
)
