"""Costs of deep_linear: the DMFT against the simulation it replaces, measured in one run.

* Theory vs simulation at the study's own sizes (the quick preset's V2-V5 and
  one width of the widths panel, 12 seeds each, the quick preset's seed count)
  and for V2 at growing D: for each size the DMFT time, the simulation time
  and their ratio.  The DMFT's cost does not depend on D (it describes
  D -> infinity, without seed noise); the simulation's grows like D^2 per step
  and seed (N = nu D hidden units, P = alpha D samples).
* DMFT cost against the number of steps T (L = 4, the configuration of
  issue 13) at T = 50, 100, 200, 400, with the exponent of a log-log fit.
* The structured DMFT with every mode against log-spaced eigenvalue groups.

Every time is steady state: each timed call is first run once with exactly
the timed shapes (so JAX's compilation for that shape is not timed), then the
best of ``REPEAT`` calls is reported (one call for the slowest sizes).

Usage: python benchmarks/bench_deep_linear.py
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from theorylab.core.timing import best_of
from theorylab.studies.deep_linear import simulate as sim
from theorylab.studies.deep_linear import theory as th

SEEDS = range(12)
REPEAT = 3

# (name, D, model): the quick preset's V2-V5 and the widths panel's muP nu = 2 curve
SIZES = (
    ("plain_mlp (V2)", 300, dict(depth=1, nu=1.0, alpha=2.0, gamma0=1.0, eta0=0.2, steps=40)),
    ("deep_narrow (V3)", 400, dict(depth=2, nu=0.5, alpha=4.0, gamma0=1.0, eta0=0.1, steps=25)),
    (
        "online_sgd (V4)",
        300,
        dict(depth=2, nu=1.0, alpha=0.5, gamma0=1.0, eta0=0.1, steps=30, noise=0.04, online=True),
    ),
    (
        "residual (V5)",
        300,
        dict(depth=2, nu=1.0, alpha=2.0, gamma0=1.0, eta0=0.05, steps=12, residual=True),
    ),
    ("widths, muP nu = 2", 200, dict(depth=2, nu=2.0, alpha=2.0, gamma0=1.0, eta0=0.1, steps=30)),
)
V2 = SIZES[0][2]


def steady(fn, repeat: int = REPEAT) -> float:
    """Best-of time of ``fn`` after one untimed warm-up call with the same shapes."""
    fn()
    return best_of(fn, repeat=repeat)


def theory_vs_simulation() -> None:
    print(f"{'size':28s} {'D':>5s} {'DMFT':>10s} {'simulation (12 seeds)':>22s} {'ratio':>8s}")
    rows = [(name, D, model) for name, D, model in SIZES]
    rows += [(f"plain_mlp (V2) at D = {D}", D, V2) for D in (800, 1600)]
    for name, D, model in rows:
        t_th = steady(lambda m=model: th.dmft(**m))
        t_sim = steady(
            lambda m=model, D=D: sim.train_curves(SEEDS, D=D, **m), repeat=1 if D >= 800 else REPEAT
        )
        print(
            f"{name:28s} {D:>5d} {t_th * 1e3:>8.1f} ms {t_sim:>20.3f} s {t_sim / t_th:>7.1f}x",
            flush=True,
        )


def dmft_cost_vs_T() -> None:
    print("\nDMFT cost vs T: dmft(4, 1.0, 2.0, 1.0, 0.1, T)")
    Ts, times = (50, 100, 200, 400), []
    for T in Ts:
        t = steady(lambda T=T: th.dmft(4, 1.0, 2.0, 1.0, 0.1, T), repeat=1 if T >= 200 else REPEAT)
        times.append(t)
        print(f"  T = {T:>4d}: {t:8.3f} s", flush=True)
    slope = np.polyfit(np.log(Ts), np.log(times), 1)[0]
    late = np.log(times[-1] / times[-2]) / np.log(Ts[-1] / Ts[-2])
    print(f"  fitted cost ~ T^{slope:.2f} over T = 50..400 (T^{late:.2f} from 200 to 400)")


def structured() -> None:
    x = np.arange(800) / 800
    lam = ((x + 0.02) / 0.02) ** -0.6
    spec = (lam, lam * ((x + 0.02) / 0.02) ** -0.2)
    print("\nstructured DMFT, 800 modes, L=2, eta0=0.3, T=25")
    for bins in (None, 48):
        t = steady(
            lambda bins=bins: th.dmft(2, 1.0, 2.0, 1.0, 0.3, 25, spectrum=spec, bins=bins),
            repeat=1,
        )
        print(f"  bins={bins}: {t:.3f} s", flush=True)


def main() -> None:
    print(f"cores: {os.cpu_count()}")
    theory_vs_simulation()
    dmft_cost_vs_T()
    structured()


if __name__ == "__main__":
    main()
