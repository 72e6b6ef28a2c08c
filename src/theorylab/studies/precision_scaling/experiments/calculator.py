"""Experiment ``calculator``: the laws on their test vectors, critical data, stationarity.

Theory only, with the published constants (``theory.PAPER_PARAMS``):

* ``part="vectors"``: the 43 test vectors (N_eff factors, losses, delta_PTQ,
  D_crit, D*/N*, P*) with the value quoted for each and one unit of its last
  quoted digit (docs/precision_scaling.md, "Test vectors");
* ``part="critical"``: D_crit / N vs N at P_post = 3-6 bits (Eq. 13);
* ``part="stationary"``: d/dlnD [B D^-beta + delta_PTQ] at D_crit, relative to
  beta B D^-beta (central difference), and the curvature there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from theorylab.core.checks import Claim
from theorylab.core.experiment import Experiment

from .. import theory as th

P0 = th.PAPER_PARAMS

# a derivative that vanishes analytically: 1e-6 of the scale leaves ~5 orders of
# magnitude above the central difference's rounding error (~1e-11 measured)
STATIONARY_TOL = 1e-6


def _vectors() -> list[tuple[str, float, str]]:
    """(name, calculator value, quoted value) of every test vector."""
    out = []
    quoted = {
        "w": ("0.6743", "0.7759", "0.9498", "0.9975"),
        "a": ("0.7427", "0.8363", "0.9732", "0.9993"),
        "kv": ("0.9564", "0.9846", "0.9998", "1.0000"),
    }
    for fam, refs in quoted.items():
        for P, ref in zip((3, 4, 8, 16), refs, strict=True):
            out.append((f"neff_factor_{fam}_P{P}", float(th.n_eff(1.0, **{f"P_{fam}": P})), ref))
    N, D = 1e8, 1e10
    out.append(("loss_16bit", float(th.loss(N, D)), "3.41909"))
    out.append(("loss_w4", float(th.loss(N, D, 4)), "3.48065"))
    out.append(("loss_w4a4kv4", float(th.loss(N, D, 4, 4, 4)), "3.53331"))
    out.append(("loss_all8", float(th.loss(N, D, 8, 8, 8)), "3.43741"))
    for P, ref in ((4, "0.014211"), (3, "0.077240"), (8, "1.63e-5")):
        out.append((f"delta_ptq_P{P}", float(th.delta_ptq(N, D, P)), ref))
    out.append(("D_crit_P4", float(th.critical_data(N, 4)), "1.338e11"))
    out.append(("D_crit_P3", float(th.critical_data(N, 3)), "2.476e10"))
    table = {
        30e6: ("546", "2952", "15956", "86242"),
        220e6: ("147", "797", "4307", "23282"),
        1.7e9: ("38", "208", "1124", "6073"),
    }
    for n, refs in table.items():
        for P, ref in zip((3, 4, 5, 6), refs, strict=True):
            out.append((f"D_crit_over_N_{n:.3g}_P{P}", float(th.critical_data(n, P) / n), ref))
    out.append(("chinchilla_D_over_N_16bit", float(th.chinchilla_ratio()), "18.0"))
    for P, fref, rref in ((8, "0.924", "16.6"), (6, "0.833", "15.0"), (4, "0.639", "11.5")):
        out.append((f"f_all_P{P}", float(th.n_eff(1.0, P, P, P)), fref))
        out.append((f"chinchilla_D_over_N_P{P}", float(th.chinchilla_ratio(P)), rref))
    out.append(("u_star_k3", float(th.p_star_closed_form(1.0, 3)), "1.9038"))
    out.append(("P_star_gamma_w_cubed", float(th.p_star_closed_form(P0.gamma_w, 3)), "5.09"))
    out.append(("P_star_three_gammas", float(th.compute_optimal(1e21).P), "3.47"))
    return out


def _last_digit_unit(ref: str) -> float:
    """One unit in the last quoted digit of a decimal string ("0.6743" -> 1e-4)."""
    mant, _, exp = ref.lower().partition("e")
    dec = len(mant.split(".")[1]) if "." in mant else 0
    return 10.0 ** (-dec) * 10.0 ** (int(exp) if exp else 0)


def critical_table() -> pd.DataFrame:
    """D_crit / N over N = 1e7..1e10 at P_post = 3, 4, 5, 6 (``part="critical"``)."""
    Ns = np.logspace(7, 10, 31)
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "part": "critical",
                    "quantity": "D_crit_over_N",
                    "setting": f"P_post={P}",
                    "x": Ns,
                    "value": th.critical_data(Ns, P) / Ns,
                }
            )
            for P in (3, 4, 5, 6)
        ],
        ignore_index=True,
    )


def _stationary_table() -> pd.DataFrame:
    """The relative derivative and curvature of B D^-beta + delta_PTQ in ln D at D_crit."""
    rows = []
    h = 1e-4
    for N in (3e7, 1e8, 1.7e9):
        for P in (3, 4, 5):
            Dc = float(th.critical_data(N, P))

            def g(lnD, N=N, P=P):
                return P0.B * np.exp(lnD) ** (-P0.beta) + th.delta_ptq(N, np.exp(lnD), P)

            x0 = np.log(Dc)
            deriv = (g(x0 + h) - g(x0 - h)) / (2 * h)
            curv = (g(x0 + h) - 2 * g(x0) + g(x0 - h)) / h**2
            scale = P0.B * Dc ** (-P0.beta) * P0.beta
            rows.append((f"N={N:.2g},P_post={P}", Dc, float(deriv) / scale, float(curv)))
    setting, x, value, curv = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "part": "stationary",
            "quantity": "rel_derivative",
            "setting": setting,
            "x": x,
            "value": value,
            "curvature": curv,
        }
    )


def theory(p) -> pd.DataFrame:
    """The test vectors, D_crit / N and the stationarity table."""
    vec = _vectors()
    vectors = pd.DataFrame(
        {
            "part": "vectors",
            "quantity": [v[0] for v in vec],
            "setting": "PAPER_PARAMS",
            "x": np.nan,
            "value": [v[1] for v in vec],
            "reference": [float(v[2]) for v in vec],
            "unit": [_last_digit_unit(v[2]) for v in vec],
        }
    )
    return pd.concat([vectors, critical_table(), _stationary_table()], ignore_index=True)


def _vector_error(p, theory: pd.DataFrame, sims: pd.DataFrame):
    v = theory[theory.part == "vectors"]
    err = (v["value"] - v["reference"]).abs()
    ratio = err / v["unit"]
    w = v.iloc[int(np.argmax(ratio.to_numpy()))]
    return float(ratio.max()), (
        f"{len(v)} vectors: largest relative error {(err / v['reference'].abs()).max():.1e}; "
        f"worst {w.quantity}: {w['value']:.6g} vs {w['reference']:.6g}"
    )


def _stationarity(p, theory: pd.DataFrame, sims: pd.DataFrame):
    st = theory[theory.part == "stationary"]
    return float(st["value"].abs().max()), (
        f"max over {len(st)} (N, P_post); curvature there > 0: {bool((st['curvature'] > 0).all())}"
    )


EXPERIMENT = Experiment(
    name="calculator",
    doc="the laws on the test vectors; D_crit / N; d/dD of the post-PTQ loss at D_crit",
    theory=theory,
    checks=(
        Claim(
            "calculator_test_vectors",
            _vector_error,
            "<=",
            1.0,  # within one unit of the last quoted digit
            detail="N_eff factors, losses, delta_PTQ, D_crit, D*/N*, P*: max |calc - quoted| in "
            "units of the quoted last digit",
            kind="agreement",
        ),
        Claim(
            "critical_data_is_stationary",
            _stationarity,
            "<=",
            STATIONARY_TOL,
            detail="|d/dlnD (B D^-beta + delta_PTQ)| at D_crit (central difference), relative "
            "to beta B D^-beta",
            kind="agreement",
        ),
    ),
)
