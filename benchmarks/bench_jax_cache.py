"""What JAX's persistent compilation cache saves on a second `theorylab run`.

Runs `theorylab run STUDY --preset quick --quiet` three times as fresh processes: with the
cache off, then twice with an empty cache folder (the first fills it, the second reads
it), and prints each run's wall time and its simulation time from summary.json.

Usage: python benchmarks/bench_jax_cache.py [--study equality_reasoning]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _run(study: str, out: Path, env: dict[str, str]) -> tuple[float, float]:
    exe = Path(sys.executable).with_name("theorylab")
    t0 = time.perf_counter()
    subprocess.run(
        [str(exe), "run", study, "--quiet", "--out", str(out)],
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - t0
    summary = json.loads((out / study / "summary.json").read_text())
    return wall, float(summary["timings_s"]["simulate"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--study", default="equality_reasoning")
    args = ap.parse_args()
    base = {**os.environ, "OMP_NUM_THREADS": "1"}
    base.pop("JAX_COMPILATION_CACHE_DIR", None)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rows = [("cache off", _run(args.study, tmp / "a", {**base, "THEORYLAB_JAX_CACHE": "off"}))]
        on = {**base, "THEORYLAB_JAX_CACHE": "on", "THEORYLAB_CACHE": str(tmp / "cache")}
        rows.append(("cache on, first run (fills it)", _run(args.study, tmp / "b", on)))
        rows.append(("cache on, second run", _run(args.study, tmp / "c", on)))
    print(f"{args.study} quick preset on {os.cpu_count()} cores")
    print(f"{'run':<32} {'wall (s)':>9} {'simulate (s)':>13}")
    for name, (wall, sim) in rows:
        print(f"{name:<32} {wall:9.1f} {sim:13.1f}")
    print(f"second run / cache off: wall {rows[2][1][0] / rows[0][1][0]:.2f}x")


if __name__ == "__main__":
    main()
