"""Train the study's grid of Transformer runs and write the run table (CSV).

This is how ``runs.csv`` (the committed table the quick preset reads) is
produced::

    python -m theorylab.studies.precision_scaling.make_runs --preset train --seeds 3 \\
        --out src/theorylab/studies/precision_scaling/runs.csv

and how the spec's GPU protocol is meant to run on one accelerator (``jax``
with CUDA installed; see docs/precision_scaling.md)::

    python -m theorylab.studies.precision_scaling.make_runs --preset full --seeds 2 \\
        --out runs_gpu.csv

Seeds are trained one after the other; each finished seed is appended to
``OUT.partial`` so an interrupted run resumes.  ``--set field=value`` overrides
config fields with the names of the theorylab command line (``--set seq_len=32``,
``--set runs.d_models=16,32``); the grid is the ``runs`` experiment's.  The
random streams of every run are those of :mod:`.streams`, from the integer seed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

from theorylab.core.config import parse_assignments
from theorylab.core.errors import TheorylabError


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="train", choices=("train", "full", "quick"))
    ap.add_argument("--seeds", type=int, default=3, help="seeds 0..n-1")
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--out", required=True, help="CSV to write")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    from .simulate import run_grid
    from .study import STUDY

    try:
        overrides = {**parse_assignments(args.set), "runs.runs_source": "train"}
        cfg = STUDY.preset(args.preset).with_overrides(overrides)["runs"]
    except TheorylabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    partial = out.with_suffix(out.suffix + ".partial")
    done = pd.read_csv(partial) if partial.is_file() else pd.DataFrame()
    t_all = time.perf_counter()
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        if not done.empty and seed in set(done["seed"]):
            print(f"seed {seed}: already in {partial}", flush=True)
            continue
        t0 = time.perf_counter()

        def progress(i, n, seed=seed, t0=t0):
            print(f"seed {seed}: run {i}/{n} ({time.perf_counter() - t0:.0f} s)", flush=True)

        df = run_grid(cfg, seed, progress)
        df.insert(0, "seed", seed)
        done = pd.concat([done, df], ignore_index=True)
        done.to_csv(partial, index=False, float_format="%.6g")
        print(f"seed {seed}: {len(df)} rows in {time.perf_counter() - t0:.0f} s", flush=True)
    done.to_csv(out, index=False, float_format="%.6g")
    partial.unlink(missing_ok=True)
    print(f"wrote {out} ({len(done)} rows, {time.perf_counter() - t_all:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
