"""The prepared GPU check of ``overtraining`` (docs/overtraining.md, section "GPU check").

A batched sweep at the reconstruction's GPU scale (k = 200, n = 20, H = 1024,
400 examples per class): loss in {CE, hinge} x alpha in {1, 3, 10, 30} x
input noise in {0, 0.1} x 16 seeds, each network measured at log-spaced
multiples of its plateau t_p up to 30 t_p; then the overtraining-reversal
curve (CE, alpha = 10, L in {0, 1, 3, 10, 30} t_p, the three protocols).
Results are written to ``OUT/overtraining_gpu.json`` after every cell, so a
run stopped by its budget keeps what it finished.

Pass criteria (reported, the script always exits 0 when it finishes):

(i)   CE: normalized margin increasing after the plateau in >= 95 % of runs;
(ii)  hinge: weights frozen over the last 500 epochs in >= 95 % of runs;
(iii) the (alpha, sigma_in) cells where the median probe gain at m = n - 1
      from t_p to 10 t_p is >= 0.05;
(iv)  readout-only and reset-readout reversal steps fall with L (Spearman < 0).

Only the cheap metrics are computed here (the hidden-layer SVM margin and the
Fisher discriminant are host-side solves that would dominate at H = 1024).
Needs a JAX build for the GPU (``pip install "jax[cuda12]"``); it also runs,
slowly, on a CPU (``--tiny`` for a smoke test).

Usage: ``python -m theorylab.studies.overtraining.gpu_check --out DIR [--budget 540] [--tiny]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from theorylab.core.experiment import Seed

from . import simulate as sim
from .common import STUDY_ID, distance, log_grid, make_batch, plateau, train
from .experiments import odor, reversal

GPU = {"k": 200, "n": 20, "H": 1024, "m_target": 400, "m_non": 400, "max_epochs": 30_000}
TINY = {"k": 40, "n": 5, "H": 32, "m_target": 30, "m_non": 30, "max_epochs": 20_000}


def cell(size: dict, loss: str, alpha: float, sigma: float, seeds: int, span: float) -> dict:
    """One (loss, alpha, sigma_in) cell: per-seed t_p, margin monotonicity, freezing, probe gain."""
    p = odor.Params().with_overrides(
        {**size, "alpha": alpha, "sigma_in": sigma, "span": span, "probes": 100, "dtype": "float32"}
    )
    streams = [Seed(STUDY_ID, "gpu_sweep", s) for s in range(seeds)]
    b = make_batch(p, streams, (loss,), probes=p.probes)
    tp, _, _ = plateau(p, b)
    mults = log_grid(1.0, span, 4, include=(10.0,))
    W, a, done = b.W0, b.a0, np.zeros_like(tp)
    margin, probe = [], []
    for c in mults:
        target = np.round(c * tp).astype(int)
        W, a, _ = train(p, b, W, a, target - done)
        done = target
        _, g = sim.forward(W, a, b.X)
        u = b.y * p.alpha * (g - b.g0)
        margin.append(u.min(axis=1) / np.maximum(distance(b, W, a), 1e-300))  # L = 1 (lazy)
        _, gp = sim.forward(W, a, b.P)
        hard = b.p_overlap == p.n - 1
        probe.append([np.mean(gp[i][hard[i]] - b.g0_probe[i][hard[i]] < 0) for i in range(seeds)])
    W1, a1 = W, a
    W2, a2, _ = train(p, b, W1, a1, 500)
    change = np.sqrt(np.sum((W2 - W1) ** 2, axis=(1, 2)) + np.sum((a2 - a1) ** 2, axis=1))
    margin, probe = np.array(margin), np.array(probe)
    i10 = int(np.argmin(np.abs(mults - 10.0)))
    return {
        "loss": loss,
        "alpha": alpha,
        "sigma_in": sigma,
        "t_p": tp.tolist(),
        "margin_increasing": np.all(np.diff(margin[1:], axis=0) > 0, axis=0).tolist(),
        "frozen": (change < 1e-9).tolist(),
        "probe_gain": (probe[i10] - probe[0]).tolist(),
    }


def ore_curve(size: dict, seeds: int, lengths) -> dict:
    """The overtraining-reversal curve: median steps per (protocol, L) and Spearman rho."""
    p = reversal.Params().with_overrides(
        {**size, "lengths": lengths, "net_lengths": lengths, "net_cap": 20_000, "dtype": "float32"}
    )
    df = reversal.simulate(p, [Seed(STUDY_ID, "gpu_ore", s) for s in range(seeds)])
    out = {}
    for protocol, d in df.groupby("protocol"):
        med = d[d.length >= 0].groupby("length").steps.median()
        out[protocol] = {
            "median_steps": {f"{k:g}": float(v) for k, v in med.items()},
            "censored": int(d.censored.sum()),
            "spearman": float(spearmanr(med.index, med.values).statistic),
        }
    return out


def verdict(cells: list[dict], ore: dict | None) -> dict:
    """The four pass criteria of the module docstring."""
    ce = [x for c in cells if c["loss"] == "logistic" for x in c["margin_increasing"]]
    hinge = [x for c in cells if c["loss"] == "hinge" for x in c["frozen"]]
    region = [
        [c["alpha"], c["sigma_in"]]
        for c in cells
        if c["loss"] == "logistic" and np.median(c["probe_gain"]) >= 0.05
    ]
    out = {
        "i_ce_margin_increasing": float(np.mean(ce)) if ce else None,
        "ii_hinge_frozen": float(np.mean(hinge)) if hinge else None,
        "iii_gain_region": region,
    }
    if ore:
        out["iv_spearman"] = {k: ore[k]["spearman"] for k in ("readout_only", "reset_readout")}
    out["passed"] = bool(
        ce
        and hinge
        and out["i_ce_margin_increasing"] >= 0.95
        and out["ii_hinge_frozen"] >= 0.95
        and ore
        and all(v < 0 for v in out["iv_spearman"].values())
    )
    return out


def main(argv=None) -> None:
    """Run the sweep within ``--budget`` seconds, writing the JSON after every cell."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=".")
    ap.add_argument("--budget", type=float, default=540.0)
    ap.add_argument("--seeds", type=int, default=16)
    ap.add_argument("--tiny", action="store_true", help="small sizes (a CPU smoke test)")
    args = ap.parse_args(argv)
    size, seeds = (TINY, 2) if args.tiny else (GPU, args.seeds)
    alphas = (3.0, 10.0) if args.tiny else (1.0, 3.0, 10.0, 30.0)
    path = Path(args.out) / "overtraining_gpu.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    t0, cells, ore = time.perf_counter(), [], None
    result = {"size": size, "seeds": seeds, "cells": cells}

    def save():
        result.update(ore=ore, verdict=verdict(cells, ore), seconds=time.perf_counter() - t0)
        path.write_text(json.dumps(result, indent=1))

    ore = ore_curve(size, seeds, (0.0, 1.0, 10.0) if args.tiny else (0.0, 1.0, 3.0, 10.0, 30.0))
    save()
    for loss in ("logistic", "hinge"):
        for alpha in alphas:
            for sigma in (0.0, 0.1):
                if time.perf_counter() - t0 > args.budget:
                    result["stopped"] = "budget"
                    save()
                    return
                cells.append(cell(size, loss, alpha, sigma, seeds, 30.0))
                save()
    print(json.dumps(result["verdict"], indent=1))


if __name__ == "__main__":
    main()
