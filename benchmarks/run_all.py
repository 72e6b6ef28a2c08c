"""Run every benchmark in this folder and write benchmarks/results.md.

Each ``bench_*.py`` prints its own table (theory time, simulation time and their ratio,
measured in one run); this collects their outputs under one heading per benchmark,
with the machine they ran on (core count, platform, load average at the start).

Usage: python benchmarks/run_all.py [--only core,sweep] [--out benchmarks/results.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="comma-separated names (bench_<name>.py)")
    ap.add_argument("--out", default=str(HERE / "results.md"))
    args = ap.parse_args()
    names = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    if args.only:
        wanted = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            sys.exit(f"error: --only={args.only!r}: unknown benchmark(s) {unknown}; known: {names}")
        names = [n for n in names if n in wanted]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        "# Benchmark results",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} "
        f"cores ({platform.processor() or platform.machine()}, {platform.system()}), "
        f"Python {platform.python_version()}; 1-minute load average at the start {load:.1f}.",
        "Every ratio in a table was measured within one run of its benchmark.",
        "",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    for name in names:
        print(f"running bench_{name}.py ...", flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, str(HERE / f"bench_{name}.py")],
            capture_output=True,
            text=True,
            env=env,
        )
        took = time.perf_counter() - t0
        lines += [f"## {name}", "", f"`python benchmarks/bench_{name}.py` ({took:.0f} s)", ""]
        lines += ["```", proc.stdout.rstrip(), "```", ""]
        if proc.returncode:
            lines += [f"**failed (exit {proc.returncode})**:", "", "```"]
            lines += [proc.stderr.strip()[-2000:], "```", ""]
    Path(args.out).write_text("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
