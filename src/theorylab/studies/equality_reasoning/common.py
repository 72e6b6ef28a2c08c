"""Helpers shared by the experiments of ``equality_reasoning``.

The study-level parameters (the MLP, its training and the padded shapes of
the one compiled training function every symbolic experiment shares) and the
training of a list of configurations for a list of seeds as one table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.config import StudyConfig, param
from theorylab.core.errors import ConfigError
from theorylab.core.experiment import Seed

from . import simulate as sim

STUDY_ID = "equality_reasoning"
REGIMES = ("rich", "lazy")


@dataclass(frozen=True)
class Shared(StudyConfig):
    """The MLP and its SGD (docs/equality_reasoning.md, section Model).

    ``d_max`` and ``L_max`` fix the padded shapes of the compiled symbolic
    training function: every noise-free symbolic configuration of every
    experiment runs through one compile when they are the same.
    """

    N: int = param(128, "hidden units", ge=1, le=8192)
    steps: int = param(1500, "SGD steps", ge=1, le=1_000_000)
    batch: int = param(128, "SGD batch size", ge=1, le=4096)
    eta0: float = param(
        0.1, "base learning rate (lr_eff = eta0 gamma^2 N, mean-field)", gt=0, le=10
    )
    n_test: int = param(4096, "test pairs per accuracy", ge=2, le=1 << 20)
    rich_gamma0: float = param(
        1.0, "richness of the rich networks (gamma from gamma0 by scaling)", gt=0, le=1e3
    )
    lazy_gamma0: float = param(
        1e-4, "richness of the lazy networks (gamma from gamma0 by scaling)", gt=0, le=1e-2
    )
    scaling: str = param(
        "mean_field",
        "richness convention: mean_field gamma0 sqrt(d), ntk gamma0 sqrt(N), plain gamma0",
        choices=("mean_field", "ntk", "plain"),
    )
    d_max: int = param(64, "symbol dimension the compiled function is padded to", ge=1, le=4096)
    L_max: int = param(32, "symbol count the compiled function is padded to", ge=2, le=4096)

    def check(self) -> None:
        if self.lazy_gamma0 >= self.rich_gamma0:
            raise ConfigError(
                "lazy_gamma0", self.lazy_gamma0, f"must be < rich_gamma0={self.rich_gamma0}"
            )


def shared_geometry(p) -> sim.Geometry:
    """The symbolic geometry every symbolic experiment shares (one compile per process).

    Padded to ``(d_max, L_max)`` and noise-capable: noisy configurations take
    the dense branch, clean ones the symbol tables.
    """
    return sim.symbolic_geometry(p.d_max, p.L_max, noisy=True, batch=p.batch)


def gamma0_of(p, regime: str) -> float:
    """The richness gamma0 of a regime name ("rich" or "lazy")."""
    return p.rich_gamma0 if regime == "rich" else p.lazy_gamma0


def check_within(p, field: str, ds: Sequence[int] = (), Ls: Sequence[int] = ()) -> None:
    """Raise :class:`ConfigError` on ``field`` when a d or L exceeds the padded shapes."""
    if ds and max(ds) > p.d_max:
        raise ConfigError(field, tuple(ds), f"every d must be <= d_max={p.d_max}")
    if Ls and max(Ls) > p.L_max:
        raise ConfigError(field, tuple(Ls), f"every L must be <= L_max={p.L_max}")


def train(
    p,
    seeds: Sequence[Seed],
    configs: Sequence[dict],
    *,
    geo: sim.Geometry | None = None,
    path: str = "mlp",
    units: bool = False,
    eta0: float | None = None,
):
    """Train every configuration for every seed; one row per (configuration, seed).

    Parameters
    ----------
    p : Shared
        The study-level parameters (width, steps, batch, eta0, n_test, scaling).
    seeds : sequence of Seed
        One network per seed and configuration; a seed's symbols and initial
        weights are shared by all configurations (paired comparisons).
    configs : sequence of dict
        Keys ``d``, ``L``, ``gamma0`` and optionally ``sigma2``, ``n_slots``,
        ``kind``, ``regime`` and any label columns (copied to the rows).
    geo : simulate.Geometry, optional
        Default: :func:`shared_geometry`.
    path : str
        Name of the key stream (``seed.key(path)``).
    units : bool
        Also return the hidden units of every network.
    eta0 : float, optional
        Base learning rate (default ``p.eta0``).

    Returns
    -------
    pandas.DataFrame
        The configuration's keys plus :func:`simulate.per_seed_table`'s columns.
    pandas.DataFrame
        With ``units``: one row per (configuration, seed, unit): readout ``a``
        and ``cos`` = cos(v_i^1, v_i^2).
    """
    if geo is None:
        geo = shared_geometry(p)
    runs = []
    for c in configs:
        gamma, rate = sim.richness(c["gamma0"], c["d"], p.N, p.scaling)
        runs.append(
            sim.Run(
                d=int(c["d"]),
                L=int(c["L"]),
                gamma=gamma,
                lr=(p.eta0 if eta0 is None else eta0) * rate,
                sigma2=float(c.get("sigma2", 0.0)),
                n_slots=int(c.get("n_slots", 2)),
                kind=int(c.get("kind", sim.GAUSSIAN)),
            )
        )
    outs = sim.run_mlp(
        runs, seeds, geo=geo, N=p.N, batch=p.batch, steps=p.steps, n_test=p.n_test, path=path
    )
    frames, unit_frames = [], []
    labels = lambda c: {k: v for k, v in c.items() if k not in ("kind", "n_slots")}  # noqa: E731
    for c, out in zip(configs, outs, strict=True):
        frames.append(sim.per_seed_table(out, seeds).assign(**labels(c)))
        if units:
            n_seeds, n_units = out["a"].shape
            unit_frames.append(
                pd.DataFrame(
                    dict(
                        seed=np.repeat([s.seed for s in seeds], n_units),
                        unit=np.tile(np.arange(n_units), n_seeds),
                        a=out["a"].reshape(-1),
                        cos=out["cos"].reshape(-1),
                    )
                ).assign(**labels(c))
            )
    table = pd.concat(frames, ignore_index=True)
    return (table, pd.concat(unit_frames, ignore_index=True)) if units else table


def regime_configs(p, regimes: Sequence[str], **grid) -> list[dict]:
    """Configurations over ``regimes`` x the product of ``grid``'s value lists."""
    keys = list(grid)
    combos = np.array(np.meshgrid(*[np.asarray(grid[k]) for k in keys], indexing="ij"))
    combos = combos.reshape(len(keys), -1).T if keys else np.zeros((1, 0))
    out = []
    for r in regimes:
        for row in combos:
            c = {
                k: (int(v) if k in ("d", "L") else float(v)) for k, v in zip(keys, row, strict=True)
            }
            out.append(dict(regime=r, gamma0=gamma0_of(p, r), **c))
    return out
