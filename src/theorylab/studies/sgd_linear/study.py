"""Study ``sgd_linear``: configuration, tables, checks, figures and STUDY.

Experiments (spec section 5.3), each theory vs simulation:

``static`` (A1)
    the two-point equivalent of lam1 lam2 w*^T G1 A G2 w* for A = Sigma, I and a
    permuted Sigma' (covariate shift), over sampled data sets.
``online`` (A2)
    online SGD on linear regression; the exact Gaussian recursion, and near the
    stability edge the same recursion without the fourth-moment term.
``rf`` (A3)
    online SGD on N linear random features: deterministic equivalent
    (generating function), the exact recursion given each seed's F, simulation.
``gd`` (A4)
    full-batch GD on P samples: train and test curves, two-point equivalent.
``multipass`` (A5)
    multi-pass SGD: exact recursion given the data, decoupled equivalent.
``kernel`` (M4)
    kernel SGD on scikit-learn's digits with ReLU-kernel eigenfeatures.
``exponents`` (A6)
    t^(-2r) forcing and N^(-alpha min(2r, 1)) random-feature floor.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from theorylab.core.compare import agreement_ratio, fit_loglog_slope, mean_se, se_multiplier
from theorylab.core.config import StudyConfig, param
from theorylab.core.data import digits_relu_gram
from theorylab.core.deteq import rf_error, support_edge
from theorylab.core.errors import ConfigError
from theorylab.core.plotting import colors, figure, finish, sim_points, theory_line
from theorylab.core.results import Check
from theorylab.core.spectra import Spectrum, empirical_spectrum, power_law_spectrum
from theorylab.core.study import Paper, Study

from . import simulate as sim
from . import theory as th


@dataclass(frozen=True)
class Config(StudyConfig):
    """Configuration of the sgd_linear study (synthetic power-law Gaussian data).

    Learning rates are given relative to a stability edge where noted, so that
    a config stays valid when the spectrum changes.
    """

    alpha: float = param(1.5, "capacity exponent: lambda_k ~ k^-alpha", gt=1.0)
    r: float = param(0.8, "source exponent of the target", gt=0.0)
    record_points: int = param(30, "log-spaced times at which curves are compared", ge=4)
    # A1 static two-point
    static_D: int = param(600, "A1: dimensions", ge=2)
    static_n: int = param(300, "A1: samples of the sample covariance", ge=1)
    static_lam1: float = param(1e-3, "A1: first ridge", gt=0.0)
    static_lam2: float = param(3e-2, "A1: second ridge", gt=0.0)
    static_draws: int = param(4, "A1: data sets per seed", ge=1)
    # A2 online SGD
    online_D: int = param(200, "A2: dimensions", ge=1)
    online_noise: float = param(0.05, "A2: label-noise variance", ge=0.0)
    online_steps: int = param(500, "A2: SGD steps", ge=1)
    online_runs: int = param(
        100, "A2: runs per seed (losses are right-skewed: means need ~100s of runs)", ge=2
    )
    edge_runs: int = param(
        400, "A2: runs per seed near the edge (heavy-tailed losses need many runs)", ge=2
    )
    online_batches: tuple[int, ...] = param((1, 8), "A2: batch sizes", ge=1)
    online_lrs: tuple[float, ...] = param((0.5, 2.0), "A2: learning rates (one per batch)", gt=0.0)
    edge_lr_frac: float = param(
        0.7, "A2: near-edge learning rate, fraction of the B=1 stability edge", gt=0.0, lt=1.0
    )
    # A3 online random features
    rf_D: int = param(1000, "A3: dimensions", ge=1)
    rf_Ns: tuple[int, ...] = param((100,), "A3: numbers of random features", ge=1)
    rf_batch: int = param(4, "A3: batch size", ge=1)
    rf_lr: float = param(1.5, "A3: learning rate", gt=0.0)
    rf_steps: int = param(1000, "A3: SGD steps", ge=1)
    rf_runs: int = param(30, "A3: SGD runs per seed (one projection F per seed)", ge=1)
    rf_noise: float = param(0.0, "A3: label-noise variance", ge=0.0)
    # A4 full-batch GD
    gd_D: int = param(200, "A4: dimensions", ge=1)
    gd_Ps: tuple[int, ...] = param((400, 100), "A4: sample sizes", ge=1)
    gd_noise: float = param(0.1, "A4: label-noise variance", ge=0.0)
    gd_lr_frac: float = param(
        0.77, "A4: learning rate times the spectrum edge x+ (stable below 2)", gt=0.0, lt=2.0
    )
    gd_steps: int = param(300, "A4: GD steps", ge=1)
    gd_datasets: int = param(5, "A4: data sets per seed", ge=1)
    # A5 multi-pass SGD
    mp_D: int = param(120, "A5: dimensions", ge=1)
    mp_P: int = param(60, "A5: samples", ge=1)
    mp_noise: float = param(0.1, "A5: label-noise variance", ge=0.0)
    mp_batches: tuple[int, ...] = param((1, 4), "A5: batch sizes", ge=1)
    mp_lr_fracs: tuple[float, ...] = param(
        (0.3, 0.6), "A5: learning rate times x+ (one per batch)", gt=0.0, lt=2.0
    )
    mp_steps: int = param(200, "A5: SGD steps", ge=1)
    mp_chains: int = param(50, "A5: chains per seed (one data set per seed)", ge=1)
    # M4 kernel SGD on digits
    kernel_batch: int = param(4, "M4: batch size", ge=1)
    kernel_lr_frac: float = param(
        0.3, "M4: learning rate, fraction of the Gaussian stability edge", gt=0.0, lt=1.0
    )
    kernel_steps: int = param(2000, "M4: SGD steps", ge=1)
    kernel_runs: int = param(10, "M4: runs per seed", ge=1)
    # A6 exponents
    exp_D: int = param(100_000, "A6: modes", ge=1000)
    exp_pairs: tuple[float, ...] = param(
        (1.5, 0.3, 1.5, 0.8, 2.0, 0.4), "A6: (alpha, r) pairs, flattened", gt=0.0, min_len=2
    )
    # tolerances
    n_se: float = param(
        3.0, "coverage of agreement checks in normal sigmas (Student-t over seeds)", gt=0.0
    )
    exact_rel_tol: float = param(0.01, "relative slack for exact recursions", ge=0.0)
    de_rel_tol: float = param(0.02, "relative slack for deterministic equivalents", ge=0.0)
    static_rel_tol: float = param(0.03, "A1 relative slack (finite-size bias ~2 %)", ge=0.0)
    closure_rel_tol: float = param(
        0.12, "A5 relative slack of the decoupled closure (measured error)", ge=0.0
    )
    kernel_rel_tol: float = param(0.05, "M4 slack: non-Gaussian real features", ge=0.0)
    exponent_tol: float = param(0.05, "A6 |fitted - predicted| exponent", gt=0.0)

    def check(self) -> None:
        if len(self.online_batches) != len(self.online_lrs):
            raise ConfigError(
                "online_lrs", self.online_lrs, f"needs one per batch in {self.online_batches}"
            )
        if len(self.mp_batches) != len(self.mp_lr_fracs):
            raise ConfigError(
                "mp_lr_fracs", self.mp_lr_fracs, f"needs one per batch in {self.mp_batches}"
            )
        if len(self.exp_pairs) % 2:
            raise ConfigError("exp_pairs", self.exp_pairs, "needs (alpha, r) pairs")
        for a in self.exp_pairs[::2]:
            if a <= 1:
                raise ConfigError("exp_pairs", self.exp_pairs, "every alpha must be > 1")
        sp = _power_law(self.online_D, self.alpha, self.r)
        for b, lr in zip(self.online_batches, self.online_lrs, strict=True):
            edge = th.online_stability_edge(sp.eigs, b)
            if lr >= edge:
                raise ConfigError(
                    "online_lrs",
                    self.online_lrs,
                    f"lr {lr:g} at B={b} is beyond the edge {edge:.4g}",
                )


# ----------------------------------------------------------------------------
# helpers


@lru_cache(maxsize=16)
def _power_law(D: int, alpha: float, r: float) -> Spectrum:
    return power_law_spectrum(D, alpha, r)


def record_times(steps: int, points: int) -> np.ndarray:
    """0 and ``points`` log-spaced integer times in [1, steps]."""
    t = np.unique(np.round(np.logspace(0, np.log10(max(steps, 1)), points)).astype(int))
    return np.concatenate([[0], t[t <= steps]])


@lru_cache(maxsize=1)
def digits_kernel():
    """ReLU-kernel eigenfeatures of the digits (pixels in [0, 1]): spectrum, features, targets."""
    _, y, K = digits_relu_gram(False)
    spec, V = empirical_spectrum(K, y, return_vectors=True)
    n = K.shape[0]
    feats = V * np.sqrt(n * spec.eigs)  # sqrt(lambda_k) e_k(x_i)
    wbar = (V.T @ y) / np.sqrt(n * spec.eigs)
    return spec, feats, y, wbar


def _edge_lr(cfg: Config) -> float:
    sp = _power_law(cfg.online_D, cfg.alpha, cfg.r)
    return cfg.edge_lr_frac * th.online_stability_edge(sp.eigs, 1)


def _gd_lr(cfg: Config, P: int) -> float:
    sp = _power_law(cfg.gd_D, cfg.alpha, cfg.r)
    return cfg.gd_lr_frac / support_edge(sp.eigs, P)


def _mp_lr(cfg: Config, frac: float) -> float:
    sp = _power_law(cfg.mp_D, cfg.alpha, cfg.r)
    return frac / support_edge(sp.eigs, cfg.mp_P)


def _kernel_lr(cfg: Config) -> float:
    spec = digits_kernel()[0]
    return cfg.kernel_lr_frac * th.online_stability_edge(spec.eigs, cfg.kernel_batch)


def _rows(experiment: str, setting: str, t, quantity: str, value) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "experiment": experiment,
            "setting": setting,
            "t": np.asarray(t, dtype=int),
            "quantity": quantity,
            "value": np.asarray(value, dtype=float),
        }
    )


# ----------------------------------------------------------------------------
# theory table


def theory_table(cfg: Config) -> pd.DataFrame:
    """Every theory curve and number the checks and figures use."""
    frames = []
    n = cfg.record_points
    # A1 static two-point
    sp = _power_law(cfg.static_D, cfg.alpha, cfg.r)
    for name, A in _static_As(cfg, sp).items():
        v = th.two_point(sp.eigs, cfg.static_n, cfg.static_lam1, cfg.static_lam2, A, sp.weights)
        frames.append(_rows("static", name, [0], "two_point", [float(v)]))
    # A2 online SGD
    sp = _power_law(cfg.online_D, cfg.alpha, cfg.r)
    ts = record_times(cfg.online_steps, n)
    for b, lr in zip(cfg.online_batches, cfg.online_lrs, strict=True):
        L = th.online_sgd_curve(sp.eigs, sp.target_power, lr, b, cfg.online_steps, cfg.online_noise)
        frames.append(_rows("online", f"B={b},lr={lr:g}", ts, "test", L[ts]))
    lr = _edge_lr(cfg)
    L = th.online_sgd_curve(sp.eigs, sp.target_power, lr, 1, cfg.online_steps, cfg.online_noise)
    frames.append(_rows("online", "edge", ts, "test", L[ts]))
    L = th.online_sgd_curve(
        sp.eigs, sp.target_power, lr, 1, cfg.online_steps, cfg.online_noise, fourth_moment=False
    )
    frames.append(_rows("online", "edge", ts, "test_no_fourth_moment", L[ts]))
    floor = th.stationary_loss(sp.eigs, lr, 1, cfg.online_noise)
    frames.append(_rows("online", "edge", [cfg.online_steps], "stationary", [floor]))
    # A3 online random features
    sp = _power_law(cfg.rf_D, cfg.alpha, cfg.r)
    ts = record_times(cfg.rf_steps, n)
    for N in cfg.rf_Ns:
        L = th.online_rf_curve(
            sp.eigs, sp.target_power, N, cfg.rf_lr, cfg.rf_batch, cfg.rf_steps, cfg.rf_noise
        )
        frames.append(_rows("rf", f"N={N}", ts, "test", L[ts]))
        # RF approximation floor (P = inf, ridgeless): the single-member RF error
        floor = rf_error(sp.eigs, sp.target_power, np.inf, N, 0.0, cfg.rf_noise)
        frames.append(_rows("rf", f"N={N}", [cfg.rf_steps], "floor", [float(floor)]))
    # A4 GD
    sp = _power_law(cfg.gd_D, cfg.alpha, cfg.r)
    ts = record_times(cfg.gd_steps, n)
    for P in cfg.gd_Ps:
        tr, te = th.gd_curves(
            sp.eigs, sp.target_power, P, _gd_lr(cfg, P), cfg.gd_steps, cfg.gd_noise
        )
        frames.append(_rows("gd", f"P={P}", ts, "train", tr[ts]))
        frames.append(_rows("gd", f"P={P}", ts, "test", te[ts]))
        frames.append(_rows("gd", f"P={P}", [int(np.argmin(te))], "test_min", [te.min()]))
    # A5 multi-pass
    sp = _power_law(cfg.mp_D, cfg.alpha, cfg.r)
    ts = record_times(cfg.mp_steps, n)
    for b, frac in zip(cfg.mp_batches, cfg.mp_lr_fracs, strict=True):
        tr, te = th.multipass_sgd_curves(
            sp.eigs, sp.target_power, cfg.mp_P, _mp_lr(cfg, frac), b, cfg.mp_steps, cfg.mp_noise
        )
        frames.append(_rows("multipass", f"B={b}", ts, "train", tr[ts]))
        frames.append(_rows("multipass", f"B={b}", ts, "test", te[ts]))
    # M4 kernel SGD on digits
    spec = digits_kernel()[0]
    ts = record_times(cfg.kernel_steps, n)
    L = th.online_sgd_curve(
        spec.eigs,
        spec.target_power,
        _kernel_lr(cfg),
        cfg.kernel_batch,
        cfg.kernel_steps,
        spec.noise,
    )
    frames.append(_rows("kernel", "digits", ts, "test", L[ts]))
    # A6 exponents
    frames.append(_exponents(cfg))
    return pd.concat(frames, ignore_index=True)


def _static_As(cfg: Config, sp: Spectrum) -> dict[str, np.ndarray]:
    perm = np.random.default_rng(0).permutation(sp.eigs.size)
    return {"A=Sigma": sp.eigs, "A=I": np.ones_like(sp.eigs), "A=Sigma'": sp.eigs[perm]}


def _exponents(cfg: Config) -> pd.DataFrame:
    rows = []
    pairs = list(zip(cfg.exp_pairs[::2], cfg.exp_pairs[1::2], strict=True))
    for alpha, r in pairs:
        sp = power_law_spectrum(cfg.exp_D, alpha, r)
        # forcing F_t = sum p_k (1 - lr l_k)^{2t}, lr = 1 (l_k <= 1), t from 1e2 to 1e4
        t = np.array([1e2, 1e4])
        F = np.array([np.sum(sp.target_power * (1 - sp.eigs) ** (2 * tt)) for tt in t])
        s_f = -fit_loglog_slope(t, F).slope
        # RF approximation floor kappa_0 u(kappa_0), N from 1e2 to 1e3
        N = np.array([1e2, 1e3])
        fl = rf_error(sp.eigs, sp.target_power, np.inf, N, 0.0)
        s_n = -fit_loglog_slope(N, fl).slope
        label = f"alpha={alpha:g},r={r:g}"
        rows.append(_rows("exponents", label, [0], "forcing_fit", [s_f]))
        rows.append(_rows("exponents", label, [0], "forcing_pred", [float(th.forcing_exponent(r))]))
        rows.append(_rows("exponents", label, [0], "floor_fit", [s_n]))
        rows.append(
            _rows("exponents", label, [0], "floor_pred", [float(th.rf_floor_exponent(alpha, r))])
        )
    return pd.concat(rows, ignore_index=True)


# ----------------------------------------------------------------------------
# simulation table (one seed)


def simulate_table(cfg: Config, seed: int) -> pd.DataFrame:
    """One seed: a batch of runs of every experiment (means over the seed's runs)."""
    frames = []
    n = cfg.record_points
    # A1
    sp = _power_law(cfg.static_D, cfg.alpha, cfg.r)
    for name, A in _static_As(cfg, sp).items():
        v = sim.static_two_point(
            sim.key_for(seed, 1),
            sp.eigs,
            sp.weights,
            cfg.static_n,
            cfg.static_lam1,
            cfg.static_lam2,
            A,
            cfg.static_draws,
        )
        frames.append(_rows("static", name, [0], "two_point", [v.mean()]))
    # A2
    sp = _power_law(cfg.online_D, cfg.alpha, cfg.r)
    ts = record_times(cfg.online_steps, n)
    settings = [
        (f"B={b},lr={lr:g}", b, lr)
        for b, lr in zip(cfg.online_batches, cfg.online_lrs, strict=True)
    ]
    settings.append(("edge", 1, _edge_lr(cfg)))
    for j, (name, b, lr) in enumerate(settings):
        curves = sim.online_sgd(
            sim.key_for(seed, 2, j),
            sp.eigs,
            sp.weights,
            cfg.online_noise,
            lr,
            b,
            cfg.online_steps,
            cfg.edge_runs if name == "edge" else cfg.online_runs,
        )
        frames.append(_rows("online", name, ts, "test", curves.mean(0)[ts]))
    # A3: one projection per seed
    sp = _power_law(cfg.rf_D, cfg.alpha, cfg.r)
    ts = record_times(cfg.rf_steps, n)
    for N in cfg.rf_Ns:
        proj = sim.rf_projection(sim.key_for(seed, 3, N), sp.eigs, sp.weights, cfg.rf_noise, N)
        curves = sim.online_rf(
            sim.key_for(seed, 3, N, 1), proj, cfg.rf_lr, cfg.rf_batch, cfg.rf_steps, cfg.rf_runs
        )
        exact = sim.online_rf_exact(proj, cfg.rf_lr, cfg.rf_batch, cfg.rf_steps)
        frames.append(_rows("rf", f"N={N}", ts, "test", curves.mean(0)[ts]))
        frames.append(_rows("rf", f"N={N}", ts, "exact_given_F", exact[ts]))
    # A4
    sp = _power_law(cfg.gd_D, cfg.alpha, cfg.r)
    ts = record_times(cfg.gd_steps, n)
    for P in cfg.gd_Ps:
        lr = _gd_lr(cfg, P)
        trs, tes = [], []
        for d in range(cfg.gd_datasets):
            X, y = sim.sample_data(sim.key_for(seed, 4, P, d), sp.eigs, sp.weights, cfg.gd_noise, P)
            tr, te = sim.full_batch_gd(X, y, sp.eigs, sp.weights, cfg.gd_noise, lr, cfg.gd_steps)
            trs.append(tr)
            tes.append(te)
        frames.append(_rows("gd", f"P={P}", ts, "train", np.mean(trs, 0)[ts]))
        frames.append(_rows("gd", f"P={P}", ts, "test", np.mean(tes, 0)[ts]))
    # A5: one data set per seed
    sp = _power_law(cfg.mp_D, cfg.alpha, cfg.r)
    ts = record_times(cfg.mp_steps, n)
    X, y = sim.sample_data(sim.key_for(seed, 5), sp.eigs, sp.weights, cfg.mp_noise, cfg.mp_P)
    for b, frac in zip(cfg.mp_batches, cfg.mp_lr_fracs, strict=True):
        lr = _mp_lr(cfg, frac)
        tr, te = sim.multipass_sgd(
            sim.key_for(seed, 5, b),
            X,
            y,
            sp.eigs,
            sp.weights,
            cfg.mp_noise,
            lr,
            b,
            cfg.mp_steps,
            cfg.mp_chains,
        )
        etr, ete = sim.multipass_exact(X, y, sp.eigs, sp.weights, lr, b, cfg.mp_steps)
        frames.append(_rows("multipass", f"B={b}", ts, "train", tr.mean(0)[ts]))
        frames.append(_rows("multipass", f"B={b}", ts, "test", te.mean(0)[ts]))
        frames.append(_rows("multipass", f"B={b}", ts, "exact_train", etr[ts]))
        frames.append(_rows("multipass", f"B={b}", ts, "exact_test", ete[ts] + cfg.mp_noise))
    # M4
    spec, feats, labels, wbar = digits_kernel()
    ts = record_times(cfg.kernel_steps, n)
    curves = sim.online_sgd_indices(
        sim.key_for(seed, 6),
        feats,
        labels,
        spec.eigs,
        wbar,
        spec.noise,
        _kernel_lr(cfg),
        cfg.kernel_batch,
        cfg.kernel_steps,
        cfg.kernel_runs,
    )
    frames.append(_rows("kernel", "digits", ts, "test", curves.mean(0)[ts]))
    return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------------------
# checks


def _pair(
    theory: pd.DataFrame,
    sims: pd.DataFrame,
    experiment: str,
    quantity: str,
    sim_quantity: str | None = None,
    t_min: int = 0,
) -> pd.DataFrame:
    """Theory value next to the seed mean and SE of a simulated quantity."""
    s = sims[(sims.experiment == experiment) & (sims.quantity == (sim_quantity or quantity))]
    st = mean_se(s, ["setting", "t"], "value")
    tv = theory[(theory.experiment == experiment) & (theory.quantity == quantity)]
    m = st.merge(tv[["setting", "t", "value"]], on=["setting", "t"])
    return m[m.t >= t_min]


def _paired(
    name: str,
    sims: pd.DataFrame,
    experiment: str,
    pairs,
    n_se: float,
    rel: float,
    what: str,
    t_min: int = 1,
) -> Check:
    """Simulation vs an exact recursion computed on the same seed's realisation.

    ``pairs`` lists (simulated quantity, reference quantity); the difference is
    averaged over seeds and compared with n_se of its standard error plus
    ``rel`` of the reference.
    """
    ratios, worst = [], None
    s = sims[(sims.experiment == experiment) & (sims.t >= t_min)]
    for q_sim, q_ref in pairs:
        a = s[s.quantity == q_sim].set_index(["seed", "setting", "t"])["value"]
        b = s[s.quantity == q_ref].set_index(["seed", "setting", "t"])["value"]
        d = (a - b).groupby(level=["setting", "t"])
        ref = b.groupby(level=["setting", "t"]).mean()
        se = d.std(ddof=1) / np.sqrt(d.count())
        r = np.abs(d.mean()) / (se_multiplier(d.count(), n_se) * se + rel * ref)
        ratios.append(r)
        if worst is None or r.max() > worst[0]:
            worst = (float(r.max()), q_sim, r.idxmax())
    allr = pd.concat(ratios)
    return Check.evaluate(
        name,
        "agreement",
        float(allr.max()),
        1.0,
        "<=",
        f"{what}: max over {len(allr)} points of |mean paired difference| / (t-quantile of "
        f"{n_se:g} sigma x SE + {rel:.0%}); worst {worst[1]} at {worst[2]}",
    )


def _agree(name, m: pd.DataFrame, n_se: float, rel: float, what: str) -> Check:
    ratio = agreement_ratio(m["value"], m["mean"], m["se"], n_se, rel, n=m["n"])
    i = int(np.argmax(ratio))
    worst = m.iloc[i]
    return Check.evaluate(
        name,
        "agreement",
        float(ratio.max()),
        1.0,
        "<=",
        f"{what}: max over {len(m)} points of |sim - theory| / (t-quantile of {n_se:g} sigma "
        f"x SE + {rel:.0%}); "
        f"worst {worst.setting} t={int(worst.t)}: sim {worst['mean']:.4g} +- {worst.se:.2g} "
        f"vs {worst['value']:.4g}",
    )


def checks(cfg: Config, theory: pd.DataFrame, sims: pd.DataFrame) -> list[Check]:
    """Agreement of every theory curve with simulation, and the paper's claims."""
    out: list[Check] = []
    out.append(
        _agree(
            "A1_static_two_point",
            _pair(theory, sims, "static", "two_point"),
            cfg.n_se,
            cfg.static_rel_tol,
            "lam1 lam2 w*^T G1 A G2 w* for A = Sigma, I, Sigma' (covariate shift)",
        )
    )
    on = _pair(theory, sims, "online", "test")
    out.append(
        _agree(
            "A2_online_sgd_exact",
            on[on.setting != "edge"],
            cfg.n_se,
            cfg.exact_rel_tol,
            "online SGD, exact Gaussian recursion",
        )
    )
    edge = on[on.setting == "edge"]
    out.append(
        _agree(
            "A2_online_sgd_near_edge",
            edge,
            cfg.n_se,
            cfg.exact_rel_tol,
            f"online SGD at {cfg.edge_lr_frac:g} of the stability edge, exact recursion",
        )
    )
    drop = _pair(theory, sims, "online", "test_no_fourth_moment", "test")
    drop = drop[(drop.setting == "edge") & (drop.t >= cfg.online_steps // 4)]
    z = float(np.median(np.abs(drop["mean"] - drop["value"]) / drop["se"]))
    out.append(
        Check.evaluate(
            "A2_fourth_moment_needed_near_edge",
            "claim",
            z,
            5.0,
            ">",
            "median over t >= T/4 of |sim - recursion without the fourth-moment term| in SE "
            "near the stability edge (the exact recursion passes A2_online_sgd_near_edge)",
        )
    )
    out.append(
        _agree(
            "A3_online_rf_equivalent",
            _pair(theory, sims, "rf", "test", "exact_given_F", t_min=1),
            cfg.n_se,
            cfg.de_rel_tol,
            "online RF: deterministic equivalent vs the exact recursion given F, averaged over F",
        )
    )
    out.append(
        _paired(
            "A3_online_rf_simulation_given_F",
            sims,
            "rf",
            [("test", "exact_given_F")],
            cfg.n_se,
            cfg.exact_rel_tol,
            "online RF SGD vs the exact recursion of the same projection F",
        )
    )
    for q in ("test", "train"):
        out.append(
            _agree(
                f"A4_gd_{q}",
                _pair(theory, sims, "gd", q, t_min=3),
                cfg.n_se,
                cfg.de_rel_tol,
                f"full-batch GD {q} loss, two-point equivalent, t >= 3",
            )
        )
    out.append(
        _paired(
            "A5_multipass_exact_recursion",
            sims,
            "multipass",
            [("test", "exact_test"), ("train", "exact_train")],
            cfg.n_se,
            cfg.exact_rel_tol,
            "multi-pass SGD vs the exact recursion on the same data set",
        )
    )
    mp = pd.concat([_pair(theory, sims, "multipass", q, t_min=1) for q in ("test", "train")])
    gap = float(np.max(np.abs(mp["value"] / mp["mean"] - 1)))
    out.append(
        _agree(
            "A5_multipass_decoupled",
            mp,
            cfg.n_se,
            cfg.closure_rel_tol,
            f"multi-pass SGD vs the decoupled equivalent (closure error, largest relative gap "
            f"{gap:.1%})",
        )
    )
    out.append(
        _agree(
            "M4_kernel_sgd_digits",
            _pair(theory, sims, "kernel", "test", t_min=1),
            cfg.n_se,
            cfg.kernel_rel_tol,
            "kernel SGD on digits eigenfeatures (ReLU kernel) vs the Gaussian-equivalent recursion",
        )
    )
    ex = theory[theory.experiment == "exponents"].pivot_table(
        index="setting", columns="quantity", values="value"
    )
    for kind, label in (("forcing", "t^(-2r) forcing"), ("floor", "N^(-alpha min(2r,1)) floor")):
        dev = (ex[f"{kind}_fit"] - ex[f"{kind}_pred"]).abs()
        out.append(
            Check.evaluate(
                f"A6_{kind}_exponent",
                "claim",
                float(dev.max()),
                cfg.exponent_tol,
                "<",
                f"max |fitted - predicted| {label} exponent over {list(ex.index)} "
                f"(D = {cfg.exp_D})",
            )
        )
    # early stopping: with label noise the GD test loss has an interior minimum (sim)
    gd = _pair(theory, sims, "gd", "test")
    worst = min(
        float((g["mean"].iloc[-1] - g["mean"].min()) / g["mean"].min())
        for _, g in gd.sort_values("t").groupby("setting")
    )
    out.append(
        Check.evaluate(
            "A4_early_stopping_minimum",
            "claim",
            worst,
            0.0,
            ">",
            "smallest relative rise of the simulated GD test loss from its minimum to the "
            "last step (> 0: early stopping beats training to the end, sigma^2 > 0)",
        )
    )
    return out


# ----------------------------------------------------------------------------
# figures


def figures(cfg: Config, theory: pd.DataFrame, sims: pd.DataFrame) -> dict:
    """Learning curves per experiment: theory lines, simulation markers with SE bars."""
    figs = {}

    def curves(
        ax,
        experiment,
        quantity,
        sim_quantity=None,
        settings=None,
        cmap="viridis",
        t_min=1,
        label_fmt="{}",
    ):
        m = _pair(theory, sims, experiment, quantity, sim_quantity, t_min=t_min)
        sets = settings or sorted(m.setting.unique())
        for c, s in zip(colors(len(sets), cmap), sets, strict=True):
            g = m[m.setting == s].sort_values("t")
            theory_line(ax, g.t, g["value"], color=c, label=label_fmt.format(s))
            sim_points(ax, g.t, g["mean"], g.se, color=c)

    fig, ax = figure(width=4.2, height=3.2)
    curves(
        ax,
        "online",
        "test",
        settings=[s for s in theory[theory.experiment == "online"].setting.unique() if s != "edge"],
    )
    finish(
        ax,
        xlabel="step t",
        ylabel="test loss",
        title=f"online SGD, D={cfg.online_D}",
        logx=True,
        logy=True,
    )
    figs["online_sgd"] = fig

    fig, ax = figure(width=4.2, height=3.2)
    m = _pair(theory, sims, "online", "test", t_min=1)
    m = m[m.setting == "edge"].sort_values("t")
    d = _pair(theory, sims, "online", "test_no_fourth_moment", "test", t_min=1)
    d = d[d.setting == "edge"].sort_values("t")
    theory_line(ax, m.t, m["value"], color="C0", label="exact recursion")
    theory_line(ax, d.t, d["value"], color="C3", style="--", label="without 4th moment")
    sim_points(ax, m.t, m["mean"], m.se, color="k", label="simulation")
    finish(
        ax,
        xlabel="step t",
        ylabel="test loss",
        title=f"near the stability edge (B=1, {cfg.edge_lr_frac:g} x edge)",
        logx=True,
        logy=True,
    )
    figs["near_edge"] = fig

    fig, ax = figure(width=4.2, height=3.2)
    m = _pair(theory, sims, "rf", "test", t_min=1)
    e = _pair(theory, sims, "rf", "test", "exact_given_F", t_min=1)
    floors = theory[(theory.experiment == "rf") & (theory.quantity == "floor")]
    for c, N in zip(colors(len(cfg.rf_Ns)), cfg.rf_Ns, strict=True):
        g = m[m.setting == f"N={N}"].sort_values("t")
        h = e[e.setting == f"N={N}"].sort_values("t")
        theory_line(ax, g.t, g["value"], color=c, label=f"N={N}")
        ax.plot(h.t, h["mean"], ":", color=c)
        sim_points(ax, g.t, g["mean"], g.se, color=c)
        fl = floors[floors.setting == f"N={N}"]["value"].iloc[0]
        ax.axhline(fl, color=c, lw=0.8, ls="--")
    finish(
        ax,
        xlabel="step t",
        ylabel="test loss",
        title=f"online random features, D={cfg.rf_D} (dashed: RF floor)",
        logx=True,
        logy=True,
    )
    figs["online_rf"] = fig

    fig, axes = figure(ncols=2, width=3.6, height=3.0)
    for ax, q in zip(axes, ("train", "test"), strict=True):
        curves(ax, "gd", q, cmap="plasma")
        finish(
            ax,
            xlabel="step t",
            ylabel=f"{q} loss",
            title=f"full-batch GD, D={cfg.gd_D}",
            logx=True,
            logy=True,
        )
    figs["gd"] = fig

    fig, axes = figure(ncols=2, width=3.6, height=3.0)
    for ax, q in zip(axes, ("train", "test"), strict=True):
        m = _pair(theory, sims, "multipass", q, t_min=1)
        e = _pair(theory, sims, "multipass", q, f"exact_{q}", t_min=1)
        for c, s in zip(colors(len(cfg.mp_batches)), sorted(m.setting.unique()), strict=True):
            g = m[m.setting == s].sort_values("t")
            h = e[e.setting == s].sort_values("t")
            theory_line(ax, g.t, g["value"], color=c, label=f"{s} decoupled")
            ax.plot(h.t, h["mean"], ":", color=c, label=f"{s} exact given data")
            sim_points(ax, g.t, g["mean"], g.se, color=c)
        finish(
            ax,
            xlabel="step t",
            ylabel=f"{q} loss",
            title=f"multi-pass SGD, D={cfg.mp_D}, P={cfg.mp_P}",
            logx=True,
            logy=True,
        )
    figs["multipass"] = fig

    fig, ax = figure(width=4.2, height=3.2)
    curves(ax, "kernel", "test", label_fmt="digits, ReLU kernel")
    finish(
        ax,
        xlabel="step t",
        ylabel="population loss",
        title=f"kernel SGD on digits (B={cfg.kernel_batch})",
        logx=True,
        logy=True,
    )
    figs["kernel_digits"] = fig

    fig, axes = figure(ncols=2, width=3.6, height=3.0)
    pairs = list(zip(cfg.exp_pairs[::2], cfg.exp_pairs[1::2], strict=True))
    for c, (alpha, r) in zip(colors(len(pairs)), pairs, strict=True):
        sp = power_law_spectrum(min(cfg.exp_D, 20_000), alpha, r)
        t = np.logspace(0, 4, 40)
        F = [np.sum(sp.target_power * (1 - sp.eigs) ** (2 * tt)) for tt in t]
        axes[0].plot(t, F, color=c, label=f"a={alpha:g}, r={r:g}: t^-{2 * r:g}")
        N = np.logspace(1, 3, 12)
        fl = rf_error(sp.eigs, sp.target_power, np.inf, N, 0.0)
        axes[1].plot(
            N,
            fl,
            "o-",
            color=c,
            markersize=3,
            label=f"N^-{float(th.rf_floor_exponent(alpha, r)):.2g}",
        )
    finish(
        axes[0], xlabel="t", ylabel="forcing F_t", title="GD / online forcing", logx=True, logy=True
    )
    finish(
        axes[1],
        xlabel="features N",
        ylabel="RF floor",
        title="random-feature floor",
        logx=True,
        logy=True,
    )
    figs["exponents"] = fig
    return figs


QUICK = Config()

# the spec's figure set (section 4) at a size 2 CPU cores finish in ~12 minutes;
# N = 1024 random features and D = 20000 are the GPU check (docs/sgd_linear.md)
FULL = Config(
    static_D=2000,
    static_n=1000,
    static_draws=4,
    online_D=1000,
    online_steps=3000,
    online_runs=50,
    edge_runs=200,
    online_batches=(1, 4, 16),
    online_lrs=(0.5, 1.5, 3.0),
    rf_D=4000,
    rf_Ns=(64, 256),
    rf_batch=4,
    rf_lr=1.5,
    rf_steps=2000,
    rf_runs=24,
    gd_D=400,
    gd_Ps=(100, 200, 400, 800),
    gd_steps=1000,
    gd_datasets=5,
    mp_D=200,
    mp_P=100,
    mp_steps=300,
    mp_chains=100,
    kernel_steps=5000,
    kernel_runs=20,
)

STUDY = Study(
    id="sgd_linear",
    title="Two-point deterministic equivalents: SGD learning curves of linear, kernel and "
    "random-feature models",
    paper=Paper(
        title="Two-Point Deterministic Equivalence for Stochastic Gradient Dynamics in Linear "
        "Models",
        arxiv="2502.05074",
        authors="A. Atanasov, B. Bordelon, J. A. Zavatone-Veth, C. Paquette, C. Pehlevan",
        venue="Advances in Theoretical and Mathematical Physics (2026)",
    ),
    config=Config,
    presets={"quick": QUICK, "full": FULL},
    theory=theory_table,
    simulate=simulate_table,
    checks=checks,
    figures=figures,
    seeds={"quick": 8, "full": 10},
)
