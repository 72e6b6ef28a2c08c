"""The prepared GPU check of ``equality_reasoning`` (docs/equality_reasoning.md, "GPU check").

Two slices of the paper's sweeps at its own scale:

``data_div``
    d = 256, N = 1024, L in 2^{1..8}, gamma0 in {1e-5, 0.1, 1} (mean-field,
    gamma = gamma0 sqrt(d)), eta0 = 0.1, batch 128, 25 000 SGD steps, 2 seeds.
``lazy_corner``
    The lazy heatmap's corner: d in {128, 256}, L in {128, 512}, gamma0 = 1e-5,
    N = 4096, 50 000 steps, 2 seeds: the lazy accuracies that bracket L*(d)
    there (L* ~ 2d would put d = 128 above 0.9 at L = 512 and d = 256 below;
    L* ~ d^2 / 128 would put both below 0.9 at L = 128).

Pass criteria (reported; the script exits 0 when it finishes): the rich
(gamma0 = 1) curve within 0.03 of the rich formula for L >= 4; lazy
accuracy < 0.7 for L <= 64.  Results are written to
``OUT/equality_reasoning_gpu.json`` after every configuration, so a run
stopped by its budget keeps what it finished.

Needs a JAX build for the GPU (``pip install "jax[cuda12]"``); ``--tiny``
is a CPU smoke test.

Usage::

    python -m theorylab.studies.equality_reasoning.gpu_check --out DIR [--budget 540] [--tiny]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from theorylab.core.experiment import Seed

from . import simulate as sim
from . import theory as th
from .common import STUDY_ID


def _slices(tiny: bool) -> list[dict]:
    if tiny:
        return [
            dict(slice="data_div", d=16, N=32, steps=50, Ls=(2, 4), gamma0s=(1e-5, 1.0)),
            dict(slice="lazy_corner", d=16, N=32, steps=50, Ls=(8,), gamma0s=(1e-5,)),
        ]
    out = [
        dict(
            slice="data_div",
            d=256,
            N=1024,
            steps=25_000,
            Ls=tuple(2**k for k in range(1, 9)),
            gamma0s=(1e-5, 0.1, 1.0),
        )
    ]
    out += [
        dict(slice="lazy_corner", d=d, N=4096, steps=50_000, Ls=(128, 512), gamma0s=(1e-5,))
        for d in (128, 256)
    ]
    return out


def main(argv=None) -> int:
    """Run the slices and write ``equality_reasoning_gpu.json`` under ``--out``.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (``--out``, ``--budget`` seconds, ``--tiny``).

    Returns
    -------
    int
        0 when the script finished (the pass criteria are reported, not enforced).
    """
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--budget", type=float, default=540.0, help="seconds before stopping")
    ap.add_argument("--tiny", action="store_true", help="CPU smoke test")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "equality_reasoning_gpu.json"
    seeds = [Seed(STUDY_ID, "gpu_check", s) for s in range(2)]
    t0, rows = time.perf_counter(), []
    for sl in _slices(args.tiny):
        geo = sim.symbolic_geometry(sl["d"], max(sl["Ls"]))
        for g0 in sl["gamma0s"]:
            for L in sl["Ls"]:
                if time.perf_counter() - t0 > args.budget:
                    break
                gamma, rate = sim.richness(g0, sl["d"], sl["N"])
                run = sim.Run(d=sl["d"], L=L, gamma=gamma, lr=0.1 * rate)
                t1 = time.perf_counter()
                out = sim.run_mlp(
                    [run], seeds, geo=geo, N=sl["N"], batch=128, steps=sl["steps"], workers=1
                )[0]
                table = sim.per_seed_table(out, seeds)
                rows.append(
                    dict(slice=sl["slice"], d=sl["d"], N=sl["N"], steps=sl["steps"], L=L)
                    | dict(gamma0=g0, unseen=table.unseen.tolist(), seen=table.seen.tolist())
                    | dict(rich_formula=th.rich_accuracy(L), seconds=time.perf_counter() - t1)
                )
                path.write_text(json.dumps(dict(rows=rows, summary=None), indent=1))
    rich = [r for r in rows if r["slice"] == "data_div" and r["gamma0"] == 1.0 and r["L"] >= 4]
    lazy = [r for r in rows if r["slice"] == "data_div" and r["gamma0"] == 1e-5 and r["L"] <= 64]
    mean = lambda r: sum(r["unseen"]) / len(r["unseen"])  # noqa: E731
    corner = [r for r in rows if r["slice"] == "lazy_corner"]
    summary = dict(
        rich_within_0_03=all(abs(mean(r) - r["rich_formula"]) <= 0.03 for r in rich),
        lazy_below_0_7=all(mean(r) < 0.7 for r in lazy),
        lazy_corner={f"d={r['d']},L={r['L']}": mean(r) for r in corner},
        configurations=len(rows),
        seconds=time.perf_counter() - t0,
    )
    path.write_text(json.dumps(dict(rows=rows, summary=summary), indent=1))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
