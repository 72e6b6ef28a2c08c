"""The Transformer runs as the checks, figures and fits read them.

The ``runs`` experiment's simulation table has one row per (seed, run,
evaluation), the grid in column ``grid`` (``ptq`` or ``qat``).  This module
gives its seed means per cell (:func:`cell_means`), paired per-seed
differences (:func:`paired_z`) and the laws fitted to the seed means
(:func:`fits`, cached per table; :func:`fit_table`, the ``fits.parquet``
table).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from theorylab.core.compare import mean_se
from theorylab.core.errors import ConfigError, SolverError

from . import fit as ft
from .common import HP, N_SE, analysis_rng

_CELL = ["d_model", "N", "steps", "D", "P_w", "P_a", "P_kv", "method", "P_post"]


def per_seed(sims: pd.DataFrame, grid: str) -> pd.DataFrame:
    """The rows of one grid, integer sizes, ``P_post`` 0 for unquantized evaluations."""
    r = sims[sims.grid == grid].copy()
    for c in ("d_model", "steps", "N"):
        r[c] = r[c].astype(int)
    r["P_post"] = r["P_post"].fillna(0.0)
    return r


def cell_means(sims: pd.DataFrame, grid: str, value: str) -> pd.DataFrame:
    """Mean and SE over seeds of ``value`` per run cell (and P_post, method)."""
    return mean_se(per_seed(sims, grid), _CELL, value)


def paired_z(a: pd.DataFrame, b: pd.DataFrame, on: list[str], q: str = "delta") -> pd.DataFrame:
    """(b - a) of ``q`` per seed and key, with the eval SEs combined as independent."""
    j = a.merge(b, on=["seed", *on], suffixes=("_a", "_b"))
    j["diff"] = j[f"{q}_b"] - j[f"{q}_a"]
    se_col = f"{q}_se" if q == "delta" else "loss_se"
    j["se"] = np.sqrt(j[f"{se_col}_a"] ** 2 + j[f"{se_col}_b"] ** 2)
    j["z"] = j["diff"] / j["se"]
    return j


def law_inputs(df: pd.DataFrame):
    """(P_w, P_a, P_kv) of a table for the calculator: >= 16 bits -> inf."""
    inf = lambda s: np.where(np.asarray(s) >= HP, np.inf, np.asarray(s, dtype=float))  # noqa: E731
    return inf(df.P_w), inf(df.P_a), inf(df.P_kv)


def _hash(df: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(df, index=False).values.tobytes()).hexdigest()


_FIT_CACHE: dict[tuple, dict] = {}

_LOSS_LAWS = ("base", "base_floor", "size", "neff")  # in fits.parquet order, then the PTQ laws


def _boot(law: str):
    """The bootstrap stream of one fitted law (a fixed named stream of ``runs``)."""
    return analysis_rng("runs", "bootstrap", law)


def _loss_fits(p, sims: pd.DataFrame, attempt) -> dict:
    """Chinchilla (E free and at the floor), the size law and N_eff of the seed-mean losses."""
    hp = cell_means(sims, "ptq", "loss")
    hp = hp[hp.method == "none"]
    nb = p.fit_boot
    fitted = {
        "base": attempt(
            "base",
            lambda: ft.fit_scaling_law(hp.N, hp.D, hp["mean"], n_boot=nb, seed=_boot("base")),
        )
    }
    floor = float(sims["floor"].iloc[0])
    if np.isfinite(floor):
        fitted["base_floor"] = attempt(
            "base_floor",
            lambda: ft.fit_scaling_law(
                hp.N, hp.D, hp["mean"], E=floor, n_boot=nb, seed=_boot("base_floor")
            ),
        )
    # N_eff: the size law at the qat budget, then the gammas with it frozen
    sl = hp[hp.steps == p.qat_steps]
    q = cell_means(sims, "qat", "loss")
    q = q[q.method == "none"]
    single = q[(q[["P_w", "P_a", "P_kv"]] < HP).sum(axis=1) == 1]
    if len(single) >= 2:
        size = attempt(
            "size", lambda: ft.fit_size_law(sl.N, sl["mean"], n_boot=nb, seed=_boot("size"))
        )
        fitted["size"] = size
        if size is not None:
            Pw, Pa, Pkv = law_inputs(single)
            fitted["neff"] = attempt(
                "neff",
                lambda: ft.fit_precision(
                    single.N,
                    single.D,
                    Pw,
                    Pa,
                    Pkv,
                    single["mean"],
                    size.law,
                    n_boot=nb,
                    seed=_boot("neff"),
                ),
            )
    return {k: v for k, v in fitted.items() if v is not None}


def _ptq_fits(p, sims: pd.DataFrame, attempt) -> tuple[dict, dict]:
    """The PTQ law per quantizer, by NLS and by log-OLS above N_SE standard errors."""
    d = cell_means(sims, "ptq", "delta")
    dse = cell_means(sims, "ptq", "delta_se")
    nls, ols = {}, {}
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
        for method, store in (("nls", nls), ("ols", ols)):
            name = f"ptq_{method}_{m}"
            r = attempt(
                name,
                lambda method=method, name=name, args=args: ft.fit_ptq(
                    *args, method=method, n_se=N_SE, n_boot=p.fit_boot, seed=_boot(name)
                ),
            )
            if r is not None:
                store[m] = r
    return nls, ols


def fits(p, sims: pd.DataFrame) -> dict:
    """The laws fitted to the Transformer runs (seed means), cached per table.

    Parameters
    ----------
    p : Params of the ``runs`` experiment
        Uses ``fit_boot`` and ``qat_steps``.
    sims : pandas.DataFrame
        The ``runs`` experiment's simulation table (every seed).

    Returns
    -------
    dict
        ``base`` (Chinchilla on the high-precision ptq runs, alpha = beta),
        ``base_floor`` (same with E fixed at the exact entropy floor), ``size``
        (L = A N^-alpha + C over the sizes at the qat budget), ``neff``
        (gammas on the single-family qat arms with ``size`` frozen), ``ptq``
        (dict method -> NLS fit of delta_PTQ over sizes x budgets x P_post),
        ``ptq_ols`` (same, log-OLS above N_SE SE), ``errors`` (law -> why a
        fit is missing).
    """
    key = (_hash(sims), p.fit_boot, p.qat_steps)
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

    out.update(_loss_fits(p, sims, attempt))
    out["ptq"], out["ptq_ols"] = _ptq_fits(p, sims, attempt)
    _FIT_CACHE.clear()
    _FIT_CACHE[key] = out
    return out


_FIT_COLUMNS = ["quantity", "setting", "value", "ci_low", "ci_high", "r2", "r2_log", "n", "method"]


def fit_table(p, sims: pd.DataFrame) -> pd.DataFrame:
    """The laws of :func:`fits` as tidy rows, one per constant (``fits.parquet``).

    Parameters
    ----------
    p : Params of the ``runs`` experiment
    sims : pandas.DataFrame
        The ``runs`` experiment's simulation table (every seed).

    Returns
    -------
    pandas.DataFrame, shape (n_constants, 9)
        Columns ``quantity`` (constant: A, alpha, ..., gamma_w, C_T, ...),
        ``setting`` (the law: base, base_floor, size, neff, ptq_nls_<method>,
        ptq_ols_<method>), ``value`` (the estimate), ``ci_low``, ``ci_high``
        (bootstrap percentile interval, NaN without bootstrap), ``r2``,
        ``r2_log`` (R^2 of the fit in its own and in log space), ``n``
        (points fitted), ``method``.  Empty when the table has no runs.
    """
    if sims.empty or not (sims.grid == "ptq").any():
        return pd.DataFrame(columns=_FIT_COLUMNS)
    F = fits(p, sims)
    laws = [(k, F[k]) for k in _LOSS_LAWS if k in F]
    for store, label in (("ptq", "nls"), ("ptq_ols", "ols")):
        laws += [(f"ptq_{label}_{m}", r) for m, r in sorted(F[store].items())]
    rows = [
        (q, name, float(v), *r.ci.get(q, (np.nan, np.nan)), r.r2, r.r2_log, float(r.n), r.method)
        for name, r in laws
        for q, v in r.params.items()
    ]
    return pd.DataFrame(rows, columns=_FIT_COLUMNS)
