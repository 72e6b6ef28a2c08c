"""Experiment ``attacks``: the attack plumbing on digits (docs/pixel_regularizer.md, "Attacks").

With eps = 0 the Gaussian, uniform, salt-and-pepper and transferred-FGSM
attacks return their input exactly; at every eps of the grid their outputs
stay inside each image's own [min, max] (the batch's for FGSM); the
salt-and-pepper attack hits a fraction eps of the pixels (its changed
fraction is eps times the probability that a hit moves the pixel, computed
from the images, within 4 binomial SE).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.checks import Claim, NotEvaluable
from theorylab.core.config import param
from theorylab.core.experiment import Experiment, Seed

from ..common import Shared, digits, need_torch

NAME = "attacks"
ATTACKS = ("gaussian", "uniform", "salt_pepper", "fgsm")
SP_SE = 4.0  # binomial standard errors allowed on the salt-and-pepper changed fraction


@dataclass(frozen=True)
class Params(Shared):
    """Parameters of ``attacks``."""

    n_images: int = param(200, "digits attacked", ge=1, le=1797)
    eps_grid: tuple[float, ...] = param(
        (0.1, 0.3, 0.5), "attack strengths checked for the range (pixel units)", gt=0, le=1
    )


def simulate(p: Params, seed: Seed) -> pd.DataFrame:
    """Identity error at eps = 0, range violation and S&P changed fraction per (attack, eps)."""
    torch = need_torch()
    from .. import simulate as sim

    x, y = digits("float64")
    x, y = x[: p.n_images], y[: p.n_images]
    rows = []
    with sim.torch_mode():
        surrogate = sim.TinyCNN(
            8, p.c1, 2 * p.c1, generator=torch.Generator().manual_seed(seed.integer("surrogate"))
        ).double()
        lo = x.amin(dim=(1, 2, 3), keepdim=True)
        hi = x.amax(dim=(1, 2, 3), keepdim=True)
        for attack in ATTACKS:
            for eps in (0.0, *p.eps_grid):
                gen = torch.Generator().manual_seed(seed.integer("noise", attack, eps))
                if attack == "fgsm":
                    xa = sim.fgsm_transfer(surrogate, x, y, eps)
                    lo_, hi_ = x.min(), x.max()
                else:
                    fn = dict(gaussian=sim.gaussian_noise, uniform=sim.uniform_noise)
                    xa = fn.get(attack, sim.salt_pepper)(x, eps, gen)
                    lo_, hi_ = lo, hi
                viol = float(
                    torch.clamp(lo_ - xa, min=0).max() + torch.clamp(xa - hi_, min=0).max()
                )
                changed = float((xa != x).double().mean())
                # a S&P hit moves a pixel unless it is already at the bound its sign points to
                move = float(0.5 * ((x > lo).double().mean() + (x < hi).double().mean()))
                rows.append(
                    dict(
                        attack=attack,
                        eps=eps,
                        max_change=float((xa - x).abs().max()),
                        range_violation=viol,
                        changed=changed,
                        expected_changed=eps * move if attack == "salt_pepper" else np.nan,
                        n_pixels=int(x.numel()),
                    )
                )
    return pd.DataFrame(rows)


def _rows(sims):
    if sims.empty or "attack" not in sims:
        raise NotEvaluable("no simulation rows")
    return sims


def _identity(p, theory, sims):
    d = _rows(sims)
    z = d[d.eps == 0]
    if set(z.attack) != set(ATTACKS):
        raise NotEvaluable("not every attack ran at eps = 0")
    v = float(z.max_change.max() + d.range_violation.max())
    return v, (
        f"max |x' - x| at eps = 0: {z.max_change.max():.3g}; max range violation over "
        f"eps in {sorted(set(d.eps))}: {d.range_violation.max():.3g} ({len(d)} rows)"
    )


def _sp(p, theory, sims):
    d = _rows(sims)
    d = d[(d.attack == "salt_pepper") & (d.eps > 0)]
    if d.empty:
        raise NotEvaluable("no salt-and-pepper rows with eps > 0")
    q = d.expected_changed.to_numpy()
    se = np.sqrt(q * (1 - q) / d.n_pixels.to_numpy())
    z = np.abs(d.changed.to_numpy() - q) / se
    i = int(np.argmax(z))
    return float(z[i] / SP_SE), (
        f"worst eps = {d.eps.iloc[i]:g}: changed {d.changed.iloc[i]:.4f} vs expected "
        f"{q[i]:.4f} ({z[i]:.2f} binomial SE; allowed {SP_SE:g})"
    )


CHECKS = (
    Claim(
        "attacks_identity_and_range",
        _identity,
        "<=",
        0.0,
        "eps = 0 is the identity and outputs stay in each image's range (exactly)",
        kind="agreement",
    ),
    Claim(
        "salt_pepper_fraction",
        _sp,
        "<=",
        1.0,
        "salt-and-pepper changed-pixel fraction vs eps x P(hit moves the pixel)",
        kind="agreement",
    ),
)


EXPERIMENT = Experiment(
    name=NAME,
    doc="attack plumbing: identity at eps = 0, range, salt-and-pepper rate",
    params=Params,
    simulate=simulate,
    checks=CHECKS,
)
