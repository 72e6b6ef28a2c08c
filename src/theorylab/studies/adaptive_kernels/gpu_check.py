"""The prepared GPU check of ``adaptive_kernels`` (docs/adaptive_kernels.md, "GPU check").

At the paper's scale on one GPU (< 10 minutes):

``dmft``
    Fashion-MNIST pullover vs coat (offline; D = 784), P = 1000, Ptest = 1000:
    the weight-decay DMFT in weight space with population S = 20000 for
    gamma in {0.25, 0.5, 1, 2} and lam in {1, 0.1}; test MSE of the
    aNTK predictor vs the lazy K0 predictor; at gamma = 1, lam = 0.1 a second
    population (another seed) as the width-20000 GD network, and the
    NN-vs-DMFT prediction error.
``bayes``
    The two-layer Bayesian saddle with S = 1e6 importance samples at
    P = 200 digits 4 vs 9, gamma = 0.3, beta = 10 (ESS and method reported).

Results are written to ``OUT/adaptive_kernels_gpu.json`` after every
configuration, so a run stopped by its budget keeps what it finished.  Pass
criteria (reported; the script exits 0 when it finishes): aNTK MSE < K0 MSE
at every gamma >= 0.5; NN-vs-DMFT relative error < 0.02.

Needs a JAX build for the GPU (``pip install "jax[cuda12]"``); ``--tiny`` is a
CPU smoke test.

Usage::

    python -m theorylab.studies.adaptive_kernels.gpu_check --out DIR [--budget 540] [--tiny]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from theorylab.core.experiment import Seed

from . import theory as th
from .common import STUDY_ID, real_split


def _dmft_rows(tiny, out, t0, budget, write):
    P = 40 if tiny else 1000
    S = 200 if tiny else 20_000
    X, y, Xt, yt = real_split("gpu_check", "fashion", P, P)
    lk = th.lazy_kernels(np.vstack([X, Xt]))
    K0 = lk["K0"]
    seed = Seed(STUDY_ID, "gpu_check", 0)
    for lam in (1.0, 0.1):  # cheapest first: the flow needs lam t >= 10
        f0 = th.kernel_predictor(K0[:P, :P], K0[P:, :P], y, 2 * lam)
        for g in (0.25, 0.5, 1.0, 2.0):
            if time.time() - t0 > budget:
                return
            t = time.time()
            r = th.dmft_weight_decay(
                X, y, Xt, g, lam, width=S, seed=seed.key("pop", g, lam), lam_t_min=10.0, tol=1e-3
            )
            row = dict(
                part="dmft",
                gamma=g,
                lam=lam,
                P=P,
                S=S,
                mse_antk=float(np.mean((r["f_ntk"] - yt) ** 2)),
                mse_K0=float(np.mean((f0 - yt) ** 2)),
                identity_phi=r["identity_phi"],
                seconds=time.time() - t,
            )
            if g == 1.0 and lam == 0.1:
                r2 = th.dmft_weight_decay(
                    X, y, Xt, g, lam, width=S, seed=seed.key("net"), lam_t_min=10.0, tol=1e-3
                )
                row["nn_vs_dmft"] = float(
                    np.linalg.norm(r2["f_test"] - r["f_test"]) / np.linalg.norm(r["f_test"])
                )
            out.append(row)
            write()


def main(argv=None) -> int:
    """Run the GPU check; returns the exit code."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--budget", type=float, default=540.0)
    ap.add_argument("--tiny", action="store_true")
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    t0 = time.time()

    def write():
        (a.out / "adaptive_kernels_gpu.json").write_text(json.dumps(rows, indent=1))

    _dmft_rows(a.tiny, rows, t0, a.budget, write)
    if time.time() - t0 < a.budget:
        P, S = (20, 5000) if a.tiny else (200, 1_000_000)
        X, y, Xt, yt = real_split("gpu_check", "digits", P, 100)
        t = time.time()
        r = th.bayes_saddle(
            X, y, 0.3, 10.0, samples=S, X_test=Xt, seed=Seed(STUDY_ID, "gpu_check", 0).rng("bank")
        )
        rows.append(
            dict(
                part="bayes",
                P=P,
                S=S,
                gamma=0.3,
                ess=r.ess,
                method=r.method,
                mse=float(np.mean((r.f_test - yt) ** 2)),
                seconds=time.time() - t,
            )
        )
        write()
    print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
