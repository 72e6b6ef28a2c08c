"""Study ``precision_scaling``: configuration, tables, checks, figures and STUDY.

Experiments (``experiment`` column of the tables):

theory table
    ``vectors``   the calculator on the spec's test vectors (section 4.4);
    ``critical``  D_crit / N vs N (published constants);
    ``compute_optimal``  P* vs compute, joint and at fixed N, with and without
    offsets;
    ``stationary``  d/dD [B D^-beta + delta_PTQ] at D_crit (numerical);
fits table (``fits.parquet``, the study's ``derived`` table)
    ``fit``  the laws fitted to the Transformer runs (:func:`fit_table`:
    ``setting`` = the law, ``quantity`` = the constant, ``value`` = the
    estimate, ``ci_low``/``ci_high`` = its bootstrap interval, ``r2`` and
    ``r2_log`` = the fit's R^2, ``n`` = points).
simulation table (one seed)
    ``synthetic``  fitter recovery on noisy synthetic runs of the paper's grid
    (noise drawn from the seed);
    ``ptq``  high-precision Transformer runs on sizes x budgets, post-train
    quantized (RTN, GPTQ) at every P_post;
    ``qat``  quantized training (weights, activations, KV alone and all three)
    at one size and budget, the weight arms also post-train quantized;
    ``levels``  (live) distinct values per scale group inside a trained
    quantized model;
    ``rerun``  (live, quick preset) the smallest committed cell retrained.
"""

from __future__ import annotations

import hashlib
import itertools

import numpy as np
import pandas as pd

from theorylab.core.compare import mean_se, r_squared, se_multiplier
from theorylab.core.errors import ConfigError, DataError, SolverError
from theorylab.core.plotting import colors, figure, finish, sim_points, theory_line
from theorylab.core.results import Check
from theorylab.core.study import Paper, Study

from . import fit as ft
from . import simulate as sim
from . import theory as th
from .config import FULL, QUICK, TRAIN, Config

__all__ = ["FULL", "QUICK", "STUDY", "TRAIN", "Config"]

HP = sim.HP

# ----------------------------------------------------------------------------
# the spec's test vectors (section 4.4): name -> (value, quoted reference)

P0 = th.PAPER_PARAMS


def _spec_vectors() -> list[tuple[str, float, str]]:
    out = []
    quoted = {
        "w": ("0.6743", "0.7759", "0.9498", "0.9975"),
        "a": ("0.7427", "0.8363", "0.9732", "0.9993"),
        "kv": ("0.9564", "0.9846", "0.9998", "1.0000"),
    }
    for fam, refs in quoted.items():
        for P, ref in zip((3, 4, 8, 16), refs, strict=True):
            kw = {f"P_{fam}": P}
            out.append((f"neff_factor_{fam}_P{P}", float(th.n_eff(1.0, **kw)), ref))
    N, D = 1e8, 1e10
    out.append(("loss_16bit", float(th.loss(N, D)), "3.41909"))
    out.append(("loss_w4", float(th.loss(N, D, 4)), "3.48065"))
    out.append(("loss_w4a4kv4", float(th.loss(N, D, 4, 4, 4)), "3.53331"))
    out.append(("loss_all8", float(th.loss(N, D, 8, 8, 8)), "3.43741"))
    for P, ref in ((4, "0.014211"), (3, "0.077240"), (8, "1.63e-5")):
        out.append((f"delta_ptq_P{P}", float(th.delta_ptq(N, D, P)), ref))
    out.append(("D_crit_P4", float(th.critical_data(N, 4)), "1.338e11"))
    out.append(("D_crit_P3", float(th.critical_data(N, 3)), "2.476e10"))
    table = {
        30e6: ("546", "2952", "15956", "86242"),
        220e6: ("147", "797", "4307", "23282"),
        1.7e9: ("38", "208", "1124", "6073"),
    }
    for n, refs in table.items():
        for P, ref in zip((3, 4, 5, 6), refs, strict=True):
            out.append((f"D_crit_over_N_{n:.3g}_P{P}", float(th.critical_data(n, P) / n), ref))
    out.append(("chinchilla_D_over_N_16bit", float(th.chinchilla_ratio()), "18.0"))
    for P, fref, rref in ((8, "0.924", "16.6"), (6, "0.833", "15.0"), (4, "0.639", "11.5")):
        f = float(th.n_eff(1.0, P, P, P))
        out.append((f"f_all_P{P}", f, fref))
        out.append((f"chinchilla_D_over_N_P{P}", float(th.chinchilla_ratio(P)), rref))
    u = float(th.p_star_closed_form(1.0, 3))
    out.append(("u_star_k3", u, "1.9038"))
    out.append(("P_star_gamma_w_cubed", float(th.p_star_closed_form(P0.gamma_w, 3)), "5.09"))
    out.append(("P_star_three_gammas", float(th.compute_optimal(1e21).P), "3.47"))
    return out


def _last_digit_unit(ref: str) -> float:
    """One unit in the last quoted digit of a decimal string ("0.6743" -> 1e-4)."""
    mant, _, exp = ref.lower().partition("e")
    dec = len(mant.split(".")[1]) if "." in mant else 0
    return 10.0 ** (-dec) * 10.0 ** (int(exp) if exp else 0)


# ----------------------------------------------------------------------------
# theory table


def _rows(experiment: str, quantity: str, setting: str, x, value, **extra) -> pd.DataFrame:
    x = np.atleast_1d(np.asarray(x, dtype=float))
    value = np.broadcast_to(np.asarray(value, dtype=float), x.shape)
    d = {"experiment": experiment, "quantity": quantity, "setting": setting, "x": x, "value": value}
    d.update(extra)
    return pd.DataFrame(d)


def theory_table(cfg: Config) -> pd.DataFrame:
    """The calculator: test vectors, D_crit, compute-optimal precision, stationarity."""
    frames = []
    vec = _spec_vectors()
    frames.append(
        pd.DataFrame(
            {
                "experiment": "vectors",
                "quantity": [v[0] for v in vec],
                "setting": "PAPER_PARAMS",
                "x": np.nan,
                "value": [v[1] for v in vec],
                "reference": [float(v[2]) for v in vec],
                "unit": [_last_digit_unit(v[2]) for v in vec],
            }
        )
    )
    Ns = np.logspace(7, 10, 31)
    for P in (3, 4, 5, 6):
        frames.append(
            _rows("critical", "D_crit_over_N", f"P_post={P}", Ns, th.critical_data(Ns, P) / Ns)
        )
    Cs = np.logspace(18, 26, 17)
    frames.append(_rows("compute_optimal", "P_star", "joint", Cs, th.compute_optimal(Cs).P))
    shifted = P0.replace(n_w=2.5, n_a=2.5, n_kv=2.5)
    frames.append(
        _rows(
            "compute_optimal",
            "P_star",
            "joint, offsets n=2.5",
            Cs,
            th.compute_optimal(Cs, shifted).P,
        )
    )
    for N in (1e8, 1e9):
        co = th.compute_optimal(Cs, fixed_N=N)
        frames.append(_rows("compute_optimal", "P_star", f"fixed N={N:.0e}", Cs, co.P))
    # stationarity of B D^-beta + delta_PTQ at D_crit (relative derivative in ln D)
    for N in (3e7, 1e8, 1.7e9):
        for P in (3, 4, 5):
            Dc = float(th.critical_data(N, P))
            h = 1e-4

            def g(lnD, N=N, P=P):
                D = np.exp(lnD)
                return P0.B * D ** (-P0.beta) + th.delta_ptq(N, D, P)

            deriv = (g(np.log(Dc) + h) - g(np.log(Dc) - h)) / (2 * h)
            curv = (g(np.log(Dc) + h) - 2 * g(np.log(Dc)) + g(np.log(Dc) - h)) / h**2
            scale = P0.B * Dc ** (-P0.beta) * P0.beta
            frames.append(
                _rows(
                    "stationary",
                    "rel_derivative",
                    f"N={N:.2g},P_post={P}",
                    Dc,
                    float(deriv) / scale,
                    curvature=float(curv),
                )
            )
    return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------------------
# simulation table (one seed)


def _sub_seed(seed: int, k: int) -> int:
    return int(seed) * 1000 + k


def synthetic_rows(cfg: Config, seed: int) -> pd.DataFrame:
    """Fitter recovery on noisy synthetic runs of the paper's grid (spec 6.2 tests).

    * stage 1 alone on N x D (20 high-precision runs);
    * the paper's pooled fit: stage 1 on the high-precision runs of the
      precision grid, then stage 2 jointly with every quantized run (500 runs);
    * the PTQ law by log-OLS above 3 SE and by NLS.
    """
    rows = []

    def add(stage, fitted: ft.FitResult, planted: th.LawParams):
        for k, v in fitted.params.items():
            rows.append(
                {
                    "experiment": "synthetic",
                    "setting": stage,
                    "quantity": k,
                    "value": v,
                    "reference": float(getattr(planted, k)),
                    "r2": fitted.r2,
                }
            )

    g = ft.paper_grid("baseline", P0, cfg.synth_noise, _sub_seed(seed, 1))
    add("stage1_alone", ft.fit_scaling_law(g["N"], g["D"], g["loss"], n_boot=0), P0)
    gp = ft.paper_grid("precision", P0, cfg.synth_noise, _sub_seed(seed, 2))
    hp = np.isinf(gp["P_w"]) & np.isinf(gp["P_a"]) & np.isinf(gp["P_kv"])
    base = ft.fit_scaling_law(gp["N"][hp], gp["D"][hp], gp["loss"][hp], n_boot=0)
    joint = ft.fit_precision(
        gp["N"], gp["D"], gp["P_w"], gp["P_a"], gp["P_kv"], gp["loss"], base, joint=True, n_boot=0
    )
    add("pooled_joint", joint, P0)
    gq = ft.paper_grid("ptq", P0, cfg.synth_ptq_noise, _sub_seed(seed, 3))
    for m in ("ols", "nls"):
        r = ft.fit_ptq(gq["N"], gq["D"], gq["P_post"], gq["delta"], gq["se"], method=m, n_boot=0)
        add(f"ptq_{m}", r, P0)
    return pd.DataFrame(rows)


def _expected_cells(cfg: Config) -> set[tuple]:
    cells = set()
    for d in cfg.d_models:
        for S in cfg.ptq_steps:
            cells.add(("ptq", d, S, HP, HP, HP, "none", _NO_POST))
            for m in cfg.ptq_methods:
                for P in cfg.ptq_bits:
                    cells.add(("ptq", d, S, HP, HP, HP, m, float(P)))
    for arm in sim.qat_arms(cfg):
        cells.add(("qat", cfg.qat_d_model, cfg.qat_steps, *arm, "none", _NO_POST))
        if arm[1] == HP and arm[2] == HP:
            for P in cfg.unified_post_bits:
                cells.add(("qat", cfg.qat_d_model, cfg.qat_steps, *arm, "rtn", float(P)))
    return cells


_NO_POST = "nan"  # P_post of a run without post-train quantization (NaN in the table)


def _key(r) -> tuple:
    p = float(r.P_post)
    return (
        r.experiment,
        int(r.d_model),
        int(r.steps),
        float(r.P_w),
        float(r.P_a),
        float(r.P_kv),
        r.method,
        _NO_POST if np.isnan(p) else p,
    )


def committed_rows(cfg: Config, seed: int) -> pd.DataFrame:
    """The committed runs of one seed, restricted to (and complete for) the config's grid."""
    df = sim.load_committed(cfg.runs_path or None)
    seeds = sorted(set(df["seed"]))
    if seed not in seeds:
        raise DataError(
            f"the committed run table has seeds {seeds}, not {seed}: run with --seeds "
            f"{len(seeds)} or train with --preset train"
        )
    df = df[df["seed"] == seed].drop(columns="seed")
    want = _expected_cells(cfg)
    keys = [_key(r) for r in df.itertuples()]
    missing = want - set(keys)
    if missing:
        raise DataError(
            f"the committed run table lacks {len(missing)} run(s) of this config's grid "
            f"(e.g. {sorted(map(str, missing))[0]}); use --preset train to train them"
        )
    df = df[np.array([k in want for k in keys], dtype=bool)]
    bad = df[
        (df.D != df.steps * cfg.batch * cfg.seq_len)
        | (df.n_layers != cfg.n_layers)
        | (df.w_gran != cfg.w_gran)
        | (df.a_gran != cfg.a_gran)
        | (df.kv_gran != cfg.kv_gran)
    ]
    if len(bad):
        raise DataError(
            "the committed run table was trained with another batch, seq_len, n_layers or "
            "granularity than this config; use --preset train"
        )
    return df.reset_index(drop=True)


def simulate_table(cfg: Config, seed: int) -> pd.DataFrame:
    """One seed: synthetic fitter recovery, the Transformer runs, the live checks."""
    frames = [synthetic_rows(cfg, seed)]
    if cfg.runs_source == "train":
        runs = sim.run_grid(cfg, seed)
    else:
        runs = committed_rows(cfg, seed)
        if cfg.rerun:
            frames.append(sim.rerun_rows(cfg, seed, runs))
    frames.append(runs)
    frames.append(sim.level_rows(cfg, seed))
    return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------------------
# fits of the laws to the Transformer runs (cached per table)


def _runs(sims: pd.DataFrame, experiment: str) -> pd.DataFrame:
    r = sims[sims.experiment == experiment].copy()
    for c in ("d_model", "steps", "N"):
        r[c] = r[c].astype(int)
    return r


def cell_means(sims: pd.DataFrame, experiment: str, value: str) -> pd.DataFrame:
    """Mean and SE over seeds of ``value`` per run cell (and P_post, method)."""
    r = _runs(sims, experiment)
    r["P_post"] = r["P_post"].fillna(0.0)
    by = ["d_model", "N", "steps", "D", "P_w", "P_a", "P_kv", "method", "P_post"]
    return mean_se(r, by, value)


def _hash(df: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(df, index=False).values.tobytes()).hexdigest()


_FIT_CACHE: dict[tuple, dict] = {}


def fits(cfg: Config, sims: pd.DataFrame) -> dict:
    """The laws fitted to the Transformer runs (seed means), cached per table.

    Returns a dict with ``base`` (Chinchilla on the high-precision ptq runs,
    alpha = beta), ``base_floor`` (same with E fixed at the exact entropy
    floor), ``size`` (L = A N^-alpha + C over the sizes at the qat budget),
    ``neff`` (gammas on the single-family qat arms with ``size`` frozen),
    ``ptq`` (dict method -> NLS fit of delta_PTQ over sizes x budgets x
    P_post), ``ptq_ols`` (same, log-OLS above n_se SE).
    """
    runs = sims[sims.experiment.isin(["ptq", "qat"])]
    key = (_hash(runs), cfg.fit_boot, cfg.n_se)
    if key in _FIT_CACHE:
        return _FIT_CACHE[key]
    out: dict = {"errors": {}}

    def attempt(name, fn):
        # a grid too small (or too degenerate) for a fit omits that fit, with the reason
        try:
            return fn()
        except (ConfigError, SolverError) as exc:
            out["errors"][name] = str(exc)
            return None

    hp = cell_means(sims, "ptq", "loss")
    hp = hp[hp.method == "none"]
    fitted = {
        "base": attempt(
            "base", lambda: ft.fit_scaling_law(hp.N, hp.D, hp["mean"], n_boot=cfg.fit_boot, seed=1)
        )
    }
    floor = float(runs["floor"].iloc[0])
    if np.isfinite(floor):
        fitted["base_floor"] = attempt(
            "base_floor",
            lambda: ft.fit_scaling_law(
                hp.N, hp.D, hp["mean"], E=floor, n_boot=cfg.fit_boot, seed=2
            ),
        )
    # N_eff: the size law at the qat budget, then the gammas with it frozen
    sl = hp[hp.steps == cfg.qat_steps]
    q = cell_means(sims, "qat", "loss")
    q = q[q.method == "none"]
    single = q[(q[["P_w", "P_a", "P_kv"]] < HP).sum(axis=1) == 1]
    if len(single) >= 2:
        size = attempt(
            "size", lambda: ft.fit_size_law(sl.N, sl["mean"], n_boot=cfg.fit_boot, seed=3)
        )
        fitted["size"] = size
        if size is not None:
            inf = lambda s: np.where(s >= HP, np.inf, s)  # noqa: E731
            fitted["neff"] = attempt(
                "neff",
                lambda: ft.fit_precision(
                    single.N,
                    single.D,
                    inf(single.P_w),
                    inf(single.P_a),
                    inf(single.P_kv),
                    single["mean"],
                    size.law,
                    n_boot=cfg.fit_boot,
                    seed=4,
                ),
            )
    out.update({k: v for k, v in fitted.items() if v is not None})
    d = cell_means(sims, "ptq", "delta")
    dse = cell_means(sims, "ptq", "delta_se")
    out["ptq"], out["ptq_ols"] = {}, {}
    for m in sorted(set(d.method) - {"none"}):
        dm = d[d.method == m].merge(
            dse[dse.method == m][["d_model", "steps", "P_post", "mean"]].rename(
                columns={"mean": "eval_se"}
            ),
            on=["d_model", "steps", "P_post"],
        )
        # SE of a seed-mean delta: spread over seeds, never below the eval noise
        se = np.maximum(dm["se"].to_numpy(), dm["eval_se"].to_numpy() / np.sqrt(dm["n"]))
        se = np.maximum(se, 1e-6)
        args = (dm.N, dm.D, dm.P_post, dm["mean"], se)
        for method, store, sd in (("nls", out["ptq"], 4), ("ols", out["ptq_ols"], 5)):
            r = attempt(
                f"ptq_{method}_{m}",
                lambda method=method, sd=sd, args=args: ft.fit_ptq(
                    *args, method=method, n_se=cfg.n_se, n_boot=cfg.fit_boot, seed=sd
                ),
            )
            if r is not None:
                store[m] = r
    _FIT_CACHE.clear()
    _FIT_CACHE[key] = out
    return out


# ----------------------------------------------------------------------------
# checks


_FIT_LAWS = {
    "base": "Eq. 1 on the high-precision ptq runs (alpha = beta)",
    "base_floor": "Eq. 1 with E fixed at the exact entropy floor",
    "size": "A N^-alpha + C over the sizes at the qat budget",
    "neff": "Eq. 4 gammas on the single-family qat arms (size law frozen)",
}


def fit_table(cfg: Config, sims: pd.DataFrame) -> pd.DataFrame:
    """The laws of :func:`fits` as tidy rows (``experiment="fit"``), one per constant.

    Parameters
    ----------
    cfg : Config
    sims : pandas.DataFrame
        The simulation table (every seed).

    Returns
    -------
    pandas.DataFrame, shape (n_constants, 11)
        Columns ``experiment`` ("fit"), ``quantity`` (constant: A, alpha, ...,
        gamma_w, C_T, ...), ``setting`` (the law: base, base_floor, size,
        neff, ptq_nls_<method>, ptq_ols_<method>), ``x`` (NaN), ``value`` (the
        estimate), ``ci_low``, ``ci_high`` (bootstrap percentile interval,
        NaN without bootstrap), ``r2``, ``r2_log`` (R^2 of the fit in its own
        and in log space), ``n`` (points fitted), ``method``.  Empty when the
        table has no Transformer runs.
    """
    cols = [
        "experiment",
        "quantity",
        "setting",
        "x",
        "value",
        "ci_low",
        "ci_high",
        "r2",
        "r2_log",
        "n",
        "method",
    ]
    if not sims.experiment.isin(["ptq"]).any():
        return pd.DataFrame(columns=cols)
    F = fits(cfg, sims)
    laws = [(k, F[k]) for k in _FIT_LAWS if k in F]
    for store, label in (("ptq", "nls"), ("ptq_ols", "ols")):
        laws += [(f"ptq_{label}_{m}", r) for m, r in sorted(F[store].items())]
    rows = [
        ("fit", q, name, np.nan, float(v), *r.ci.get(q, (np.nan, np.nan)),
         r.r2, r.r2_log, float(r.n), r.method)
        for name, r in laws
        for q, v in r.params.items()
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def _vector_check(theory: pd.DataFrame) -> Check:
    v = theory[theory.experiment == "vectors"]
    ratio = (v["value"] - v["reference"]).abs() / v["unit"]
    rel = ((v["value"] - v["reference"]).abs() / v["reference"].abs()).max()
    i = int(np.argmax(ratio.to_numpy()))
    w = v.iloc[i]
    return Check.evaluate(
        "calculator_test_vectors",
        "agreement",
        float(ratio.max()),
        1.0,
        "<=",
        f"{len(v)} spec 4.4 vectors (N_eff factors, losses, delta_PTQ, D_crit, D*/N*, P*): max "
        f"|calc - quoted| in units of the quoted last digit (largest relative error "
        f"{rel:.1e}); worst {w.quantity}: {w['value']:.6g} vs {w['reference']:.6g}",
    )


def _synthetic_checks(cfg: Config, sims: pd.DataFrame) -> list[Check]:
    s = sims[sims.experiment == "synthetic"].copy()
    s["rel"] = (s["value"] / s["reference"] - 1).abs()
    s["abs"] = (s["value"] - s["reference"]).abs()
    seeds = s["seed"].nunique()
    out = []
    j = s[s.setting == "pooled_joint"]
    alone = s[(s.setting == "stage1_alone") & (s.quantity == "alpha")]
    ex = j[j.quantity.isin(["alpha", "beta"])]
    E = j[j.quantity == "E"]
    val = max(ex["rel"].max() / cfg.exponent_tol, E["abs"].max() / cfg.E_tol)
    out.append(
        Check.evaluate(
            "fit_recovers_exponents_and_E",
            "agreement",
            val,
            1.0,
            "<=",
            f"pooled fit (stage 1 + joint stage 2, 500 synthetic runs of the paper's grid, noise "
            f"{cfg.synth_noise:g}, {seeds} seeds): max |alpha/alpha0 - 1| = {ex['rel'].max():.2%} "
            f"(tol {cfg.exponent_tol:.0%}), max |E - E0| = {E['abs'].max():.4f} "
            f"(tol {cfg.E_tol:g}); value = the larger, in units of its tolerance.  "
            f"Stage 1 alone on the 20 high-precision "
            f"runs: max |alpha/alpha0 - 1| = {alone['rel'].max():.2%}",
        )
    )
    g = j[j.quantity.str.startswith("gamma_")]
    worst = g.loc[g["rel"].idxmax()]
    out.append(
        Check.evaluate(
            "fit_recovers_gammas",
            "agreement",
            float(g["rel"].max()),
            cfg.gamma_tol,
            "<=",
            f"max |gamma/gamma0 - 1| over gamma_w, gamma_a, gamma_kv and {seeds} seeds "
            f"(pooled fit); "
            f"worst {worst.quantity} = {worst['value']:.4f} vs {worst.reference:.4f}",
        )
    )
    res = {}
    for m in ("nls", "ols"):
        p = s[s.setting == f"ptq_{m}"]
        res[m] = (
            p[p.quantity.isin(["gamma_D", "gamma_N"])]["abs"].max(),
            p[p.quantity == "gamma_post"]["rel"].max(),
        )
    dn, gp = res["nls"]
    out.append(
        Check.evaluate(
            "fit_recovers_ptq_law",
            "agreement",
            max(dn / cfg.ptq_exp_tol, gp / cfg.gamma_post_tol),
            1.0,
            "<=",
            f"NLS (soft-L1 on delta) on 100 synthetic delta_PTQ points of the paper's grid (noise "
            f"{cfg.synth_ptq_noise:g}, {seeds} seeds): max |gamma_D, gamma_N error| = {dn:.4f} "
            f"(tol {cfg.ptq_exp_tol:g}), max |gamma_post/gamma_post0 - 1| = {gp:.2%} (tol "
            f"{cfg.gamma_post_tol:.0%}); value = the larger, in units of its tolerance.  Log-OLS "
            f"above 3 SE: {res['ols'][0]:.4f}, {res['ols'][1]:.2%} (biased up by the truncation "
            f"at the noise threshold)",
        )
    )
    return out


def checks(cfg: Config, theory: pd.DataFrame, sims: pd.DataFrame) -> list[Check]:
    """Calculator vs spec vectors, fitter recovery, the runs against the laws, claims."""
    out = [_vector_check(theory)]
    st = theory[theory.experiment == "stationary"]
    out.append(
        Check.evaluate(
            "critical_data_is_stationary",
            "agreement",
            float(st["value"].abs().max()),
            1e-6,
            "<=",
            f"max over {len(st)} (N, P_post) of |d/dlnD (B D^-beta + delta_PTQ)| at D_crit "
            f"(central difference), relative to beta B D^-beta; curvature there > 0: "
            f"{bool((st['curvature'] > 0).all())}",
        )
    )
    out += _synthetic_checks(cfg, sims)
    out += _run_checks(cfg, sims)
    out += _theory_claims(theory)
    return out


def _theory_claims(theory: pd.DataFrame) -> list[Check]:
    co = theory[(theory.experiment == "compute_optimal")]
    j = co[co.setting == "joint"]["value"]
    fN = co[co.setting == "fixed N=1e+08"].sort_values("x")
    slope = np.polyfit(np.log(fN.x), fN["value"], 1)[0]
    return [
        Check.evaluate(
            "optimal_precision_independent_of_compute",
            "claim",
            float(j.max() - j.min()),
            1e-3,
            "<=",
            f"spread (bits) of the joint compute-optimal P* over C = 1e18..1e26 "
            f"(published constants, "
            f"no offsets): P* = {j.mean():.4f} bits; with offsets n = 2.5 bits: "
            f"{co[co.setting.str.contains('offsets')]['value'].mean():.2f} bits (paper: 7-8)",
        ),
        Check.evaluate(
            "optimal_precision_grows_with_log_compute_at_fixed_N",
            "claim",
            float(slope),
            0.0,
            ">",
            f"dP*/d ln C at N = 1e8 fixed over C = 1e18..1e26 (bits per e-fold); the first-order "
            f"estimate gamma beta = {P0.gamma_w * P0.beta:.2f} for the largest gamma",
        ),
    ]


def _per_seed(sims: pd.DataFrame, experiment: str) -> pd.DataFrame:
    r = _runs(sims, experiment)
    r["P_post"] = r["P_post"].fillna(0.0)
    return r


def _rerun_check(cfg: Config, sims: pd.DataFrame) -> list[Check]:
    r = sims[sims.experiment == "rerun"]
    if r.empty:
        return []
    ratio = (r["value"] - r["committed"]).abs() / (cfg.n_se * r["se"])
    w = r.loc[ratio.idxmax()]
    return [
        Check.evaluate(
            "rerun_matches_committed_table",
            "agreement",
            float(ratio.max()),
            1.0,
            "<=",
            f"the smallest committed cell (d_model={int(w.d_model)}, {int(w.steps)} steps, "
            f"{r.seed.nunique()} seeds) retrained now: max |live - committed| of the loss and of "
            f"delta_PTQ in units of {cfg.n_se:g} eval SE; largest difference "
            f"{(r['value'] - r['committed']).abs().max():.2g} nats",
        )
    ]


def _second_order_check(cfg: Config, sims: pd.DataFrame) -> list[Check]:
    """delta(P)/delta(P+1) of RTN vs the second-order prediction (q_max(P+1)/q_max(P))^2."""
    r = _per_seed(sims, "ptq")
    r = r[r.method == "rtn"]
    bits = sorted(b for b in cfg.ptq_bits if b >= 4)
    vals, detail = [], []
    for P1, P2 in itertools.pairwise(bits):
        key = ["seed", "d_model", "steps"]
        cols = [*key, "delta", "delta_se"]
        j = r[r.P_post == P1][cols].merge(r[r.P_post == P2][cols], on=key, suffixes=("", "2"))
        # perturbative (delta(P1) < 0.1 nat) and well above the eval noise
        j = j[(j.delta < 0.1) & (j.delta2 > 5 * j.delta_se2) & (j.delta > 5 * j.delta_se)]
        if len(j) < 3:
            continue
        lr = np.log(j.delta / j.delta2)
        pred = float(np.log(th.ptq_second_order_ratio(P1, P2)))
        n = len(lr)
        se = float(lr.std(ddof=1) / np.sqrt(n))
        ratio = abs(lr.mean() - pred) / (float(se_multiplier(n, cfg.n_se)) * se + 0.1)
        vals.append(ratio)
        detail.append(
            f"{P1:g}->{P2:g} bits: measured ratio {np.exp(lr.mean()):.2f} "
            f"(n={n} cells x seeds) vs {np.exp(pred):.2f}"
        )
    if not vals:
        return []
    return [
        Check.evaluate(
            "ptq_second_order_bit_ratio",
            "agreement",
            float(max(vals)),
            1.0,
            "<=",
            "RTN degradation ratio delta(P)/delta(P+1) in the perturbative regime vs the "
            "second-order prediction (q_max(P+1)/q_max(P))^2 (theory.ptq_second_order_ratio): "
            "|mean log ratio - prediction| / (t-quantile x SE + 0.1); " + "; ".join(detail),
        )
    ]


def _paired_z(a: pd.DataFrame, b: pd.DataFrame, on: list[str], q: str = "delta") -> pd.DataFrame:
    """(b - a) of ``q`` per seed and key, with the eval SEs combined as independent."""
    j = a.merge(b, on=["seed", *on], suffixes=("_a", "_b"))
    j["diff"] = j[f"{q}_b"] - j[f"{q}_a"]
    se_col = f"{q}_se" if q == "delta" else "loss_se"
    j["se"] = np.sqrt(j[f"{se_col}_a"] ** 2 + j[f"{se_col}_b"] ** 2)
    j["z"] = j["diff"] / j["se"]
    return j


def _run_checks(cfg: Config, sims: pd.DataFrame) -> list[Check]:
    """Checks on the Transformer runs (committed or trained now)."""
    if not sims.experiment.isin(["ptq"]).any():
        return []
    out = _rerun_check(cfg, sims) + _second_order_check(cfg, sims)
    r = _per_seed(sims, "ptq")
    low = [b for b in cfg.ptq_bits if b <= 3]
    # 1. PTQ at 2-3 bits costs loss (paired interval above 0)
    if low:
        x = r[r.P_post.isin(low) & (r.method != "none")]
        z = x.delta / x.delta_se
        w = x.loc[z.idxmin()]
        out.append(
            Check.evaluate(
                "ptq_at_2_3_bits_costs_loss",
                "claim",
                float(z.min()),
                cfg.n_se,
                ">=",
                f"min over {len(x)} runs (sizes x budgets x seeds x methods, P_post in "
                f"{[float(b) for b in low]}) of delta_PTQ / its paired SE over held-out sequences; "
                f"smallest: d_model={int(w.d_model)}, {int(w.steps)} steps, {w.method} "
                f"{w.P_post:g} bits: delta = {w.delta:.4f} +- {w.delta_se:.4f}",
            )
        )
        # 2. degradation larger after more tokens (shortest vs longest budget)
        s_min, s_max = min(cfg.ptq_steps), max(cfg.ptq_steps)
        a = x[x.steps == s_min].drop(columns="steps")
        b = x[x.steps == s_max].drop(columns="steps")
        j = _paired_z(a, b, ["d_model", "method", "P_post"])
        m = cell_means(sims, "ptq", "delta")
        m = m[m.P_post.isin(low) & (m.method != "none")].sort_values("steps")
        ups = [
            np.sign(np.diff(g["mean"].to_numpy()))
            for _, g in m.groupby(["d_model", "method", "P_post"])
        ]
        frac = float(np.mean(np.concatenate(ups) > 0))
        out.append(
            Check.evaluate(
                "ptq_degradation_grows_with_tokens",
                "claim",
                float(j.z.min()),
                cfg.n_se,
                ">=",
                f"min over sizes x methods x P_post in {[float(b) for b in low]} x seeds of "
                f"[delta({s_max} steps) - delta({s_min} steps)] / SE (smallest difference "
                f"{j['diff'].min():.4f} nats).  Between consecutive budgets delta rose in "
                f"{frac:.0%} of the seed-mean steps (it peaks before the longest budget for the "
                f"larger models: see docs)",
            )
        )
    # 3. more data can hurt after PTQ (critical data) at the lowest P_post
    pl = min(cfg.ptq_bits)
    meth = cfg.ptq_methods[0]
    x = r[(r.P_post == pl) & (r.method == meth)].sort_values("steps")
    worst = np.inf
    for (_, _), g in x.groupby(["seed", "d_model"]):
        post = (g.loss).to_numpy()  # loss after PTQ
        se = np.sqrt(g.loss_se.to_numpy()[1:] ** 2 + g.loss_se.to_numpy()[:-1] ** 2)
        worst = min(worst, float(np.max(np.diff(post) / se)))
    out.append(
        Check.evaluate(
            "more_tokens_can_hurt_after_ptq",
            "claim",
            worst,
            cfg.n_se,
            ">=",
            f"for every size and seed, the largest rise of the post-PTQ loss ({meth}, {pl:g} bits) "
            f"between consecutive budgets, in SE; min over sizes and seeds (> 0: past a critical "
            f"data size more pre-training raises the quantized model's loss)",
        )
    )
    # 4. larger models degrade less (at the longest budget)
    s_max = max(cfg.ptq_steps)
    d0, d1 = min(cfg.d_models), max(cfg.d_models)
    mid = [b for b in cfg.ptq_bits if 3 <= b <= 4]
    if mid and d0 != d1:
        x = r[(r.steps == s_max) & r.P_post.isin(mid) & (r.method != "none")]
        j = _paired_z(
            x[x.d_model == d1].drop(columns="d_model"),
            x[x.d_model == d0].drop(columns="d_model"),
            ["method", "P_post"],
        )
        out.append(
            Check.evaluate(
                "larger_models_degrade_less",
                "claim",
                float(j.z.min()),
                cfg.n_se,
                ">=",
                f"at {s_max} steps: [delta(d_model={d0}) - delta(d_model={d1})] / SE, min over "
                f"methods x P_post in {[float(b) for b in mid]} x seeds (at the shortest budgets "
                f"the order is reversed: the larger models have learned more to lose)",
            )
        )
    if {"rtn", "gptq"} <= set(cfg.ptq_methods):
        d = cell_means(sims, "ptq", "delta")
        d = d[d.P_post.between(1, 4)]
        a = d[d.method == "rtn"].set_index(["d_model", "steps", "P_post"])["mean"]
        b = d[d.method == "gptq"].set_index(["d_model", "steps", "P_post"])["mean"]
        frac = float(((b - a) < 0).mean()) if len(a) else float("nan")
        out.append(
            Check.evaluate(
                "gptq_degrades_less_than_rtn",
                "claim",
                frac,
                0.9,
                ">=",
                f"fraction of the {len(a)} (size, budget, P_post <= 4) cells where the seed-mean "
                f"delta of GPTQ is below RTN's (App. F); median ratio GPTQ/RTN "
                f"{float((b / a).median()):.2f}",
            )
        )
    out += _qat_checks(cfg, sims)
    # learned something: below the unigram entropy, above the exact floor
    t = r[r.method == "none"]
    gap = (t.loss + cfg.n_se * t.loss_se - t.unigram).max()
    out.append(
        Check.evaluate(
            "runs_below_unigram_entropy",
            "claim",
            float(gap),
            0.0,
            "<",
            f"max over {len(t)} high-precision runs of loss + {cfg.n_se:g} SE - unigram entropy "
            f"({t.unigram.iloc[0]:.4f} nats); every loss is above the exact entropy floor "
            f"{t.floor.iloc[0]:.4f}: {bool((t.loss > t.floor).all())}",
        )
    )
    lv = sims[sims.experiment == "levels"]
    if len(lv):
        ratio = lv["value"] / lv["limit"]
        parts = ", ".join(
            f"{q}: {int(v)}/{int(lim)}"
            for q, v, lim in lv.groupby("quantity")[["value", "limit"]].max().itertuples()
        )
        out.append(
            Check.evaluate(
                "quantizer_levels_at_most_2_pow_P",
                "claim",
                float(ratio.max()),
                1.0,
                "<=",
                f"max over scale groups of distinct values / 2^P in a model trained "
                f"{cfg.levels_steps} steps at [P_w, P_a, P_kv] = {list(cfg.levels_bits)} "
                f"(weights per {cfg.w_gran}, activations and KV per "
                f"{cfg.a_gran}/{cfg.kv_gran}) and "
                f"its RTN/GPTQ weights at {cfg.levels_post_bits:g} bits: {parts}",
            )
        )
    return out


def _qat_checks(cfg: Config, sims: pd.DataFrame) -> list[Check]:
    q = _per_seed(sims, "qat")
    if q.empty:
        return []
    out = []
    t = q[q.method == "none"]
    fam_col = {"w": "P_w", "a": "P_a", "kv": "P_kv"}
    # lower training precision costs loss: paired (same init and data) differences
    inversions, lowest = [], []
    for fam in cfg.qat_families:
        col = fam_col[fam]
        others = [c for c in fam_col.values() if c != col]
        arm = t[(t[others] == HP).all(axis=1)].sort_values(col)
        bits = sorted(arm[col].unique())
        for P1, P2 in itertools.pairwise(bits):
            j = _paired_z(arm[arm[col] == P2], arm[arm[col] == P1], [], q="loss")
            mean, sd, n = float(j["diff"].mean()), float(j["diff"].std(ddof=1)), len(j)
            se = sd / np.sqrt(n) if n > 1 else float(j.se.mean())
            # an inversion: the lower precision is *better* beyond the noise
            inversions.append(
                (-mean / (float(se_multiplier(n, cfg.n_se)) * se + 1e-12), fam, P1, P2)
            )
        j = _paired_z(arm[arm[col] == HP], arm[arm[col] == bits[0]], [], q="loss")
        lowest.append((float(j.z.min()), fam, bits[0], float(j["diff"].mean())))
    worst = max(inversions)
    low = min(lowest)
    out.append(
        Check.evaluate(
            "lower_training_precision_costs_loss",
            "claim",
            low[0],
            cfg.n_se,
            ">=",
            f"quantized training at {cfg.qat_d_model} width, {cfg.qat_steps} steps: min over "
            f"families and seeds of [L(lowest P) - L(16 bit)] / SE (paired: same init and data); "
            "rises: "
            + ", ".join(f"{f} {p:g} bits +{d:.3f}" for _, f, p, d in lowest)
            + f"; no significant inversion between consecutive precisions (largest inversion "
            f"{max(worst[0], 0):.2f} of its t-interval, {worst[1]} {worst[2]:g} vs "
            f"{worst[3]:g} bits)",
        )
    )
    # all three together cost more than any one alone
    allb = [b for b in cfg.qat_all_bits if b in set(cfg.qat_bits)]
    zs = []
    for P in allb:
        a3 = t[(t.P_w == P) & (t.P_a == P) & (t.P_kv == P)]
        for fam in cfg.qat_families:
            col = fam_col[fam]
            others = [c for c in fam_col.values() if c != col]
            one = t[(t[col] == P) & (t[others] == HP).all(axis=1)]
            j = _paired_z(one, a3, [], q="loss")
            zs.append((float(j.z.min()), P, fam))
    if zs:
        p_low = min(allb)
        w = min(z for z in zs if z[1] == p_low)
        other = ", ".join(f"{f} at {p:g} bits: {z:.1f}" for z, p, f in sorted(zs) if p != p_low)
        pred = ""
        F = fits(cfg, sims)
        if "neff" in F:
            qm = cell_means(sims, "qat", "loss")
            qm = qm[(qm.method == "none") & (qm.P_w == qm.P_a) & (qm.P_a == qm.P_kv)]
            qm = qm[qm.P_w < HP].sort_values("P_w")
            pl = th.loss(qm.N, qm.D, *_law_inputs(qm), params=F["neff"].law)
            pred = "; Eq. 4 with the single-family gammas predicts " + ", ".join(
                f"{p:g} bits: {a:.3f} (measured {b:.3f})"
                for p, a, b in zip(qm.P_w, pl, qm["mean"], strict=True)
            )
        out.append(
            Check.evaluate(
                "combined_quantization_costs_more",
                "claim",
                w[0],
                cfg.n_se,
                ">=",
                f"min over families and seeds of [L(all three at {p_low:g} bits) - L(one family "
                f"at {p_low:g} bits)] / SE (Eq. 4: the effects compound); weakest: {w[2]}.  At "
                f"higher precision (min z over seeds): {other}" + pred,
            )
        )
    # unified law: lower training precision degrades less under PTQ
    pq = q[(q.method != "none") & (q.P_a == HP) & (q.P_kv == HP)]
    if len(pq):
        pl = pq.P_post.min()
        hp = pq[(pq.P_w == HP) & (pq.P_post == pl)]
        cand = sorted(b for b in pq.P_w.unique() if pl < b < HP)
        if cand:
            lo = pq[(pq.P_w == cand[0]) & (pq.P_post == pl)]
            j = _paired_z(lo, hp, ["method", "P_post"])
            means = pq[pq.P_post == pl].groupby("P_w").delta.mean()
            out.append(
                Check.evaluate(
                    "low_precision_training_degrades_less",
                    "claim",
                    float(j.z.min()),
                    cfg.n_se,
                    ">=",
                    f"[delta(trained 16 bit) - delta(trained W{cand[0]:g})] / SE under RTN to "
                    f"{pl:g} bits, min over seeds (section 5); seed-mean delta by training P_w: "
                    + ", ".join(f"{k:g}: {v:.3f}" for k, v in means.items()),
                )
            )
    return out


# ----------------------------------------------------------------------------
# figures


def _law_inputs(df: pd.DataFrame):
    inf = lambda s: np.where(np.asarray(s) >= HP, np.inf, np.asarray(s, dtype=float))  # noqa: E731
    return inf(df.P_w), inf(df.P_a), inf(df.P_kv)


def _plain_log_ticks(ax) -> None:
    """No minor tick labels on a log x axis spanning about a decade (they collide)."""
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())


def figures(cfg: Config, theory: pd.DataFrame, sims: pd.DataFrame) -> dict:
    """QAT loss vs precision, PTQ degradation vs tokens and bits, critical data,
    compute-optimal precision, parity of the fitted laws."""
    figs = {}
    has_runs = sims.experiment.isin(["ptq"]).any()
    F = fits(cfg, sims) if has_runs else {}
    fam_col = {"w": "P_w", "a": "P_a", "kv": "P_kv"}
    names = {"w": "weights", "a": "activations", "kv": "KV cache"}

    if has_runs and "neff" in F:
        fig, ax = figure(width=4.6, height=3.6, layout="constrained")
        q = cell_means(sims, "qat", "loss")
        q = q[q.method == "none"]
        base = q[(q.P_w == HP) & (q.P_a == HP) & (q.P_kv == HP)]
        law = F["neff"].law
        N0, D0 = float(base.N.iloc[0]), float(base.D.iloc[0])
        Pg = np.linspace(2.8, 16, 200)
        cols = colors(4, "plasma")
        for c, fam in zip(cols, [*cfg.qat_families, "all"], strict=False):
            if fam == "all":
                g = q[(q.P_w == q.P_a) & (q.P_a == q.P_kv) & (q.P_w < HP)]
                x = g.P_w
                kw = {f"P_{f}": Pg for f in cfg.qat_families}
                lab = "all three (Eq. 4 from the fits)"
            else:
                col = fam_col[fam]
                others = [k for k in fam_col.values() if k != col]
                g = q[(q[col] < HP) & (q[others] == HP).all(axis=1)]
                x = g[col]
                kw = {f"P_{fam}": Pg}
                lab = f"{names[fam]} (gamma={F['neff'].params[f'gamma_{fam}']:.2f})"
            theory_line(
                ax,
                Pg,
                th.loss(N0, D0, params=law, **kw),
                color=c,
                label=lab,
                style="--" if fam == "all" else "-",
            )
            sim_points(ax, x, g["mean"], g["se"], color=c)
        ax.axhline(float(base["mean"].iloc[0]), color="0.4", lw=0.8, ls=":", label="16 bit")
        ax.set_ylim(float(base["mean"].iloc[0]) - 0.05, float(q["mean"].max()) + 0.1)
        finish(
            ax,
            xlabel="training precision P (bits)",
            ylabel="held-out loss (nats/token)",
            title=f"quantized training: d={cfg.qat_d_model}, {int(D0):,} tokens\n"
            f"(N_eff fit R^2={F['neff'].r2:.2f} on its {F['neff'].n} single-family cells)",
        )
        ax.legend(fontsize=7, loc="upper right")
        figs["qat_loss_vs_precision"] = fig

    if has_runs:
        d = cell_means(sims, "ptq", "delta")
        meth = cfg.ptq_methods[0]
        shown = [b for b in cfg.ptq_bits if 3 <= b <= 5] or list(cfg.ptq_bits[:3])
        fig, axes = figure(ncols=len(shown), width=3.2, height=3.0)
        axes = np.atleast_1d(axes)
        law = F["ptq"].get(meth)
        cols = colors(len(cfg.d_models))
        for ax, P in zip(axes, shown, strict=True):
            for c, dm in zip(cols, cfg.d_models, strict=True):
                g = d[(d.method == meth) & (d.P_post == P) & (d.d_model == dm)].sort_values("D")
                ok = g["mean"] > 0
                sim_points(
                    ax,
                    g.D[ok],
                    g["mean"][ok],
                    g["se"][ok],
                    color=c,
                    label=f"N={int(g.N.iloc[0]):,}",
                )
                if law is not None:
                    Dg = np.geomspace(g.D.min(), g.D.max(), 50)
                    theory_line(ax, Dg, th.delta_ptq(float(g.N.iloc[0]), Dg, P, law.law), color=c)
            finish(
                ax,
                xlabel="training tokens D",
                ylabel="delta_PTQ (nats)" if P == shown[0] else "",
                title=f"{meth.upper()} to {P:g} bits",
                logx=True,
                logy=True,
                legend=False,
            )
            _plain_log_ticks(ax)
        axes[0].legend(fontsize=7, loc="lower right", title="lines: Eq. 2 fit", title_fontsize=7)
        figs["ptq_delta_vs_tokens"] = fig

        fig, ax = figure(width=4.4, height=3.3)
        s_max = max(cfg.ptq_steps)
        for c, dm in zip(cols, cfg.d_models, strict=True):
            for m, mk in zip(cfg.ptq_methods, ("o", "s"), strict=False):
                g = d[(d.method == m) & (d.d_model == dm) & (d.steps == s_max)]
                g = g.sort_values("P_post")
                ok = g["mean"] > 0
                sim_points(
                    ax,
                    g.P_post[ok],
                    g["mean"][ok],
                    g["se"][ok],
                    color=c,
                    marker=mk,
                    label=f"d={dm}" if m == cfg.ptq_methods[0] else None,
                )
            g = d[(d.method == "rtn") & (d.d_model == dm) & (d.steps == s_max) & (d.P_post == 4)]
            if len(g):
                Pg = np.linspace(3, 8, 30)
                ref = float(g["mean"].iloc[0])
                theory_line(ax, Pg, ref / th.ptq_second_order_ratio(4.0, Pg), color=c, style=":")
        finish(
            ax,
            xlabel="post-training precision P_post (bits)",
            ylabel="delta_PTQ (nats)",
            title=f"PTQ after {s_max} steps: o RTN, s GPTQ",
            logy=True,
            legend=False,
        )
        from matplotlib.lines import Line2D

        h, _ = ax.get_legend_handles_labels()
        h.append(Line2D([], [], color="0.3", ls=":", label="2nd-order theory (RTN)"))
        ax.legend(handles=h, fontsize=7)
        figs["ptq_delta_vs_bits"] = fig

    fig, axes = figure(ncols=3 if has_runs else 1, width=3.6, height=3.3, layout="constrained")
    axes = np.atleast_1d(axes)
    crit = theory[theory.experiment == "critical"]
    for c, (setting, g) in zip(
        colors(4, "magma"), crit.groupby("setting", sort=True), strict=False
    ):
        theory_line(axes[0], g.x, g["value"], color=c, label=setting)
    finish(
        axes[0],
        xlabel="N (parameters)",
        ylabel="D_crit / N (tokens per parameter)",
        title="Eq. 13, published constants",
        logx=True,
        logy=True,
    )
    if has_runs:
        r = cell_means(sims, "ptq", "loss")
        pl = min(cfg.ptq_bits)
        meth = cfg.ptq_methods[0]
        for c, dm in zip(colors(len(cfg.d_models)), cfg.d_models, strict=True):
            g = r[(r.method == meth) & (r.P_post == pl) & (r.d_model == dm)].sort_values("D")
            axes[1].errorbar(
                g.D,
                g["mean"],
                g["se"],
                color=c,
                marker="o",
                ms=4,
                capsize=2,
                mfc="white",
                label=f"N={int(g.N.iloc[0]):,}",
            )
            h = r[(r.method == "none") & (r.d_model == dm)].sort_values("D")
            axes[1].plot(h.D, h["mean"], ":", color=c)
        finish(
            axes[1],
            xlabel="training tokens D",
            ylabel="loss (nats/token)",
            title=f"tiny runs: {meth.upper()} {pl:g} bits\n(dotted: before PTQ)",
            logx=True,
            legend=False,
        )
        axes[1].legend(fontsize=6, loc="best")
        _plain_log_ticks(axes[1])
        # empirical critical budget: the budget with the lowest post-PTQ loss
        # (open triangles: the lowest is the largest budget, so D_crit lies beyond it)
        # (the series coincide where two P_post pick the same budget: each is
        # drawn with its own marker and a small horizontal offset so none hides)
        s_max = max(cfg.ptq_steps)
        low_bits = [b for b in cfg.ptq_bits if b <= 4]
        shifts = np.linspace(-0.1, 0.1, len(low_bits)) if len(low_bits) > 1 else [0.0]
        for c, mk, sh, P in zip(("C3", "C0", "C2"), "osD", shifts, low_bits, strict=False):
            g = r[(r.method == meth) & (r.P_post == P)]
            best = g.loc[g.groupby("d_model")["mean"].idxmin()].sort_values("N")
            inner = (best.steps < s_max).to_numpy()
            x = best.N.to_numpy() * np.exp(sh)
            y = (best.D / best.N).to_numpy()
            axes[2].plot(x, y, "-", color=c, lw=0.8)
            if inner.any():
                axes[2].plot(x[inner], y[inner], mk, color=c, ms=5, label=f"P_post={P:g}")
            if (~inner).any():
                axes[2].plot(
                    x[~inner],
                    y[~inner],
                    mk,
                    color=c,
                    mfc="white",
                    ms=5,
                    label=f"P_post={P:g}, beyond the largest budget",
                )
        finish(
            axes[2],
            xlabel="N (parameters; series offset slightly)",
            ylabel="D_crit / N (tiny runs)",
            title="tiny runs: budget with the\nlowest post-PTQ loss",
            logx=True,
            logy=True,
            legend=False,
        )
        axes[2].margins(y=0.25)
        axes[2].legend(fontsize=6, loc="best", framealpha=0.6)
    figs["critical_data"] = fig

    fig, ax = figure(width=4.4, height=3.3)
    co = theory[theory.experiment == "compute_optimal"]
    for c, (setting, g) in zip(
        colors(4, "cividis"), co.groupby("setting", sort=True), strict=False
    ):
        theory_line(
            ax, g.x, g["value"], color=c, label=setting, style="--" if "offsets" in setting else "-"
        )
    ax.axhspan(7, 8, color="0.85", zorder=0, label="paper: 7-8 bits")
    finish(
        ax,
        xlabel="compute C (FLOPs; C = 6/16 N D P)",
        ylabel="optimal precision P* (bits)",
        title="compute-optimal precision, published constants",
        logx=True,
    )
    ax.legend(fontsize=7)
    figs["compute_optimal_precision"] = fig

    if has_runs:
        fig, axes = figure(ncols=2, width=3.7, height=3.3, layout="constrained")
        hp = cell_means(sims, "ptq", "loss")
        hp = hp[hp.method == "none"]
        b = F.get("base")
        pb = th.loss(hp.N, hp.D, params=b.law) if b else hp["mean"] * np.nan
        lab = (
            f"Eq. 1 on the {b.n} ptq (N, D) cells, R^2={b.r2:.2f}"
            if b
            else "Eq. 1: too few runs to fit"
        )
        axes[0].scatter(hp["mean"], pb, s=14, color="C0", label=lab)
        if "neff" in F:
            q = cell_means(sims, "qat", "loss")
            q = q[q.method == "none"]
            pq = th.loss(q.N, q.D, *_law_inputs(q), params=F["neff"].law)
            axes[0].scatter(
                q["mean"],
                pq,
                s=14,
                color="C3",
                marker="s",
                label=f"Eq. 4 on all {len(q)} qat cells, R^2={r_squared(q['mean'], pq):.2f}",
            )
        lo = min(hp["mean"].min(), 1.3)
        hi = max(hp["mean"].max(), float(q["mean"].max()) if "neff" in F else 0)
        axes[0].plot([lo, hi], [lo, hi], color="0.5", lw=0.8)
        finish(
            axes[0], xlabel="measured loss", ylabel="fitted law", title="loss laws", legend=False
        )
        axes[0].legend(fontsize=6, loc="upper left")
        d = cell_means(sims, "ptq", "delta")
        for c, m in zip(("C0", "C2"), cfg.ptq_methods, strict=False):
            fr = F["ptq"].get(m)
            g = d[(d.method == m) & (d["mean"] > 0)]
            if fr is None or g.empty:
                continue
            pdel = th.delta_ptq(g.N, g.D, g.P_post, fr.law)
            axes[1].scatter(
                g["mean"],
                pdel,
                s=10,
                color=c,
                label=f"{m}: R^2={fr.r2:.2f} on all {fr.n} cells",
            )
        lo = max(float(d["mean"][d["mean"] > 0].min()), 1e-5)
        axes[1].plot([lo, 5], [lo, 5], color="0.5", lw=0.8)
        finish(
            axes[1],
            xlabel="measured delta_PTQ (cells with delta > 0)",
            ylabel="fitted Eq. 2",
            title="PTQ law",
            logx=True,
            logy=True,
            legend=False,
        )
        axes[1].legend(fontsize=6, loc="upper left")
        figs["parity"] = fig
    return figs


STUDY = Study(
    id="precision_scaling",
    title="Precision-aware scaling laws: N_eff of quantized training, post-train quantization "
    "degradation, critical data, compute-optimal precision",
    paper=Paper(
        title="Scaling Laws for Precision",
        arxiv="2411.04330",
        authors="T. Kumar, Z. Ankner, B. F. Spector, B. Bordelon, N. Muennighoff, M. Paul, "
        "C. Pehlevan, C. Ré, A. Raghunathan",
        venue="ICLR 2025",
    ),
    config=Config,
    presets={"quick": QUICK, "train": TRAIN, "full": FULL},
    theory=theory_table,
    simulate=simulate_table,
    checks=checks,
    figures=figures,
    seeds={"quick": 3, "train": 3, "full": 2},
    derived=lambda cfg, theory, sims: {"fits": fit_table(cfg, sims)},
)
