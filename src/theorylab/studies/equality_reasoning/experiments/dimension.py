"""Experiment ``dimension``: conceptual (rich) vs perceptual (lazy) dependence on d.

At a fixed number of training symbols L, rich and lazy networks are trained
at every symbol dimension d in ``ds``.  Rich networks generalise equally well
at every d; lazy networks lose unseen accuracy as d grows, as the NTK flow
predicts, and the symbols the NTK flow needs for 90 % accuracy grow with d.
The hidden units' readout a_i vs cos(v_i^1, v_i^2) shows the parallel /
antiparallel structure of rich networks (docs/equality_reasoning.md,
sections "Conceptual vs perceptual" and "Parallel and antiparallel features").
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.checks import Claim, NotEvaluable
from theorylab.core.config import param
from theorylab.core.errors import ConfigError
from theorylab.core.experiment import Experiment, Seed
from theorylab.core.plotting import caption, figure, finish

from .. import theory as th
from ..common import REGIMES, STUDY_ID, Shared, check_within, regime_configs, train

NAME = "dimension"


@dataclass(frozen=True)
class Params(Shared):
    """Parameters of ``dimension``."""

    L: int = param(16, "training symbols", ge=2, le=4096)
    ds: tuple[int, ...] = param(
        (16, 64), "symbol dimensions (at least two, increasing)", ge=1, le=4096
    )
    theory_ds: tuple[int, ...] = param(
        (4, 8, 16),
        "dimensions at which the NTK flow's L for 90 % accuracy is located",
        ge=1,
        le=4096,
    )
    theory_Ls: tuple[int, ...] = param(
        (4, 8, 12, 16, 24, 32, 48, 64), "candidate L of that search (increasing)", ge=2, le=512
    )
    theory_draws: int = param(2, "symbol draws averaged by the NTK flow", ge=1, le=1000)

    def check(self) -> None:
        super().check()
        check_within(self, "ds", ds=self.ds)
        check_within(self, "L", Ls=(self.L,))
        for field in ("ds", "theory_ds", "theory_Ls"):
            v = getattr(self, field)
            if len(v) < 2 or any(b <= a for a, b in itertools.pairwise(v)):
                raise ConfigError(field, v, "must hold >= 2 increasing values")


def theory(p: Params) -> pd.DataFrame:
    """Rich formula and NTK flow at every d (L fixed); the NTK flow's L* per d."""
    rng = Seed(STUDY_ID, NAME, 0).rng("ntk_flow")
    rows = [dict(part="accuracy", regime="rich", d=d, unseen=th.rich_accuracy(p.L)) for d in p.ds]
    rows += [
        dict(
            part="accuracy",
            regime="lazy",
            d=d,
            unseen=th.lazy_accuracy(d, p.L, p.eta0, p.steps, rng, n_draws=p.theory_draws),
        )
        for d in p.ds
    ]
    for d in p.theory_ds:
        L_star, _ = th.lazy_symbols_needed(
            d, p.theory_Ls, 0.9, eta0=p.eta0, steps=p.steps, seed=rng, n_draws=p.theory_draws
        )
        rows.append(dict(part="L_star", regime="lazy", d=d, L_star=L_star))
    return pd.DataFrame(rows)


def simulate(p: Params, seeds: list[Seed]) -> pd.DataFrame:
    """Rich and lazy networks at every d; one row per (regime, d, seed), plus unit rows."""
    configs = regime_configs(p, REGIMES, d=list(p.ds), L=[p.L])
    table, units = train(p, seeds, configs, units=True)
    return pd.concat([table.assign(part="mlp"), units.assign(part="unit")], ignore_index=True)


# -- checks ------------------------------------------------------------------------------------


def _means(sims, regime):
    d = sims[(sims.part == "mlp") & (sims.regime == regime)]
    if d.empty:
        raise NotEvaluable(f"no {regime} networks")
    return d.groupby("d").unseen.mean()


def _conceptual(p, theory, sims):
    """Smallest rich accuracy, with the spread over d; fails when the spread exceeds 0.03."""
    m = _means(sims, "rich")
    spread = float(m.max() - m.min())
    value = float(m.min()) if spread <= 0.03 else 0.0
    return value, "rich unseen accuracy " + ", ".join(
        f"d={d}: {v:.3f}" for d, v in m.items()
    ) + f"; spread {spread:.3f} (<= 0.03 required)"


def _perceptual(p, theory, sims):
    m = _means(sims, "lazy")
    drop = float(m.iloc[0] - m.iloc[-1])
    return drop, "lazy unseen accuracy " + ", ".join(f"d={d}: {v:.3f}" for d, v in m.items())


def _lazy_large_d(p, theory, sims):
    m = _means(sims, "lazy")
    return float(m.iloc[-1]), f"lazy unseen accuracy at d={m.index[-1]}, L={p.L}"


def _rich_large_d(p, theory, sims):
    m = _means(sims, "rich")
    return float(m.iloc[-1]), f"rich unseen accuracy at d={m.index[-1]}, L={p.L}"


def _l_star(p, theory, sims):
    t = theory[theory.part == "L_star"].sort_values("d")
    L = t.L_star.to_numpy()
    ok = bool(np.all(np.isfinite(L)) and np.all(np.diff(L) > 0))
    return float(ok), "NTK flow L for 90 %: " + ", ".join(
        f"d={d}: {v:.1f}" for d, v in zip(t.d, L, strict=True)
    )


def _structure(p, theory, sims):
    """corr(a_i, cos_i): smallest rich mean minus 0.8 and largest |lazy mean| below 0.1."""
    d = sims[sims.part == "mlp"].groupby(["regime", "d"]).corr_a_cos.mean()
    if "rich" not in d or "lazy" not in d:
        raise NotEvaluable("needs rich and lazy networks")
    rich, lazy = d["rich"], d["lazy"].abs()
    margin = min(float(rich.min()) - 0.8, 0.1 - float(lazy.max()))
    return margin, (
        "mean corr(a_i, cos(v1_i, v2_i)): rich "
        + ", ".join(f"d={k}: {v:.2f}" for k, v in rich.items())
        + "; lazy "
        + ", ".join(f"d={k}: {v:+.2f}" for k, v in d["lazy"].items())
        + " (rich >= 0.8 and |lazy| <= 0.1 required)"
    )


CHECKS = (
    Claim(
        "conceptual_insensitive_to_d",
        _conceptual,
        ">=",
        0.97,
        "rich unseen accuracy >= 0.97 at every d and spread over d <= 0.03 (value 0 if not)",
    ),
    Claim(
        "rich_large_d",
        _rich_large_d,
        ">=",
        0.99,
        "rich unseen accuracy at the largest d (the issue's acceptance: >= 0.99 at d = 64)",
    ),
    Claim(
        "perceptual_drop_with_d",
        _perceptual,
        ">=",
        0.1,
        "lazy unseen accuracy falls by >= 0.1 from the smallest to the largest d",
    ),
    # the acceptance; dropping the sqrt(d) from gamma (scaling="plain") makes the
    # rich d = 64 network lazier: 0.79 (docs/equality_reasoning.md, "Departures"), and
    # rich_large_d fails (tests)
    Claim(
        "lazy_large_d",
        _lazy_large_d,
        "<=",
        0.60,
        "lazy unseen accuracy at the largest d stays near chance (the issue's acceptance)",
    ),
    Claim(
        "lazy_symbols_needed_grow",
        _l_star,
        ">=",
        1.0,
        "the NTK flow's L for 90 % unseen accuracy increases with d (1 if monotone, else 0)",
    ),
    Claim(
        "parallel_antiparallel",
        _structure,
        ">=",
        0.0,
        "rich units align v1 = +-v2 with the sign of a_i; lazy units stay random",
    ),
)


def figures(p: Params, theory: pd.DataFrame, sims: pd.DataFrame) -> dict:
    """Heat strip of unseen accuracy over d (rich, lazy, NTK flow); a_i vs cos scatter."""
    mlp = sims[sims.part == "mlp"]
    m = mlp.groupby(["regime", "d"]).unseen.mean()
    t = theory[(theory.part == "accuracy") & (theory.regime == "lazy")].set_index("d").unseen
    rows = [("rich MLP", m["rich"]), ("lazy MLP", m["lazy"]), ("NTK flow", t)]
    fig, ax = figure(width=1.2 * len(p.ds) + 2.2, height=2.2)
    grid = np.array([[r.get(d, np.nan) for d in p.ds] for _, r in rows])
    im = ax.imshow(grid, vmin=0.5, vmax=1.0, cmap="viridis", aspect="auto")
    for (i, j), v in np.ndenumerate(grid):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", color="w" if v < 0.8 else "k")
    ax.set_xticks(range(len(p.ds)), [str(d) for d in p.ds])
    ax.set_yticks(range(len(rows)), [r for r, _ in rows])
    ax.grid(False)
    fig.colorbar(im, ax=ax, label="unseen accuracy")
    finish(ax, xlabel="symbol dimension d", title=f"L = {p.L} training symbols", legend=False)

    units = sims[sims.part == "unit"]
    fig2, ax2 = figure(ncols=2, width=3.4)
    d_show = max(p.ds)
    for k, regime in enumerate(("rich", "lazy")):
        u = units[(units.regime == regime) & (units.d == d_show)]
        u = u[u.seed == u.seed.min()]
        ax2[k].scatter(u.a, u.cos, s=6, alpha=0.6, color="C0" if regime == "rich" else "C3")
        finish(
            ax2[k],
            xlabel=r"readout $a_i$",
            ylabel=r"$\cos(v_i^1, v_i^2)$" if k == 0 else "",
            title=f"{regime}, d = {d_show}",
        )
        ax2[k].set_ylim(-1.05, 1.05)
    return {
        "dimension_heat_strip": caption(
            fig,
            "Unseen-symbol accuracy against the symbol dimension d for rich and "
            "lazy networks at a fixed number of training symbols.",
        ),
        "dimension_weight_structure": caption(
            fig2,
            "Hidden-unit weight structure: the cosine between the two input halves'"
            " weights against the readout weight, parallel or antiparallel in the "
            "rich regime.",
        ),
    }


EXPERIMENT = Experiment(
    name=NAME,
    doc="rich accuracy independent of d, lazy accuracy falling with d; weight structure",
    params=Params,
    theory=theory,
    simulate=simulate,
    checks=CHECKS,
    figures=figures,
    batched=True,
)
