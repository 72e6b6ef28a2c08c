"""The checks on the Transformer runs (the ``runs`` experiment), as Claim functions.

Each function is ``fn(p, theory, sims) -> (value, detail)`` on the ``runs``
experiment's tables (committed or trained now) and raises
:class:`~theorylab.core.checks.NotEvaluable` when the config's grid cannot
answer it.  "SE" is the paired standard error over held-out sequences of one
seed's runs (the claims take the minimum over seeds) unless a check says
otherwise.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from theorylab.core.checks import NotEvaluable
from theorylab.core.compare import se_multiplier

from . import theory as th
from .analysis import cell_means, fits, law_inputs, paired_z, per_seed
from .common import HP, N_SE

_FAMILY_COLUMN = {"w": "P_w", "a": "P_a", "kv": "P_kv"}


def _ptq(sims: pd.DataFrame) -> pd.DataFrame:
    r = per_seed(sims, "ptq")
    if r.empty:
        raise NotEvaluable("the run table has no ptq runs")
    return r


def _low_bits(p) -> list[float]:
    low = [float(b) for b in p.ptq_bits if b <= 3]
    if not low:
        raise NotEvaluable(f"ptq_bits {list(p.ptq_bits)} has no P_post <= 3 bits")
    return low


def second_order_bit_ratio(p, theory, sims):
    """delta(P)/delta(P+1) of RTN vs the second-order prediction (q_max(P+1)/q_max(P))^2."""
    r = _ptq(sims)
    r = r[r.method == "rtn"]
    bits = sorted(b for b in p.ptq_bits if b >= 4)
    vals, detail = [], []
    for P1, P2 in itertools.pairwise(bits):
        key = ["seed", "d_model", "steps"]
        cols = [*key, "delta", "delta_se"]
        j = r[r.P_post == P1][cols].merge(r[r.P_post == P2][cols], on=key, suffixes=("", "2"))
        # perturbative (delta(P1) < 0.1 nat) and well above the eval noise
        j = j[(j.delta < 0.1) & (j.delta2 > 5 * j.delta_se2) & (j.delta > 5 * j.delta_se)]
        if len(j) < 3:
            continue
        lr = np.log(j.delta / j.delta2)
        pred = float(np.log(th.ptq_second_order_ratio(P1, P2)))
        n = len(lr)
        se = float(lr.std(ddof=1) / np.sqrt(n))
        vals.append(abs(lr.mean() - pred) / (float(se_multiplier(n, N_SE)) * se + 0.1))
        detail.append(
            f"{P1:g}->{P2:g} bits: measured ratio {np.exp(lr.mean()):.2f} "
            f"(n={n} cells x seeds) vs {np.exp(pred):.2f}"
        )
    if not vals:
        raise NotEvaluable(
            "no pair of consecutive RTN precisions >= 4 bits has 3 perturbative cells"
        )
    return float(max(vals)), "; ".join(detail)


def _low_runs(p, sims) -> tuple[list[float], pd.DataFrame]:
    low = _low_bits(p)
    r = _ptq(sims)
    return low, r[r.P_post.isin(low) & (r.method != "none")]


def ptq_at_low_bits_costs_loss(p, theory, sims):
    """min over runs at P_post <= 3 of delta_PTQ / its paired SE."""
    low, x = _low_runs(p, sims)
    z = x.delta / x.delta_se
    w = x.loc[z.idxmin()]
    return float(z.min()), (
        f"min over {len(x)} runs (sizes x budgets x seeds x methods, P_post in {low}) of "
        f"delta_PTQ / its paired SE over held-out sequences; smallest: d_model={int(w.d_model)}, "
        f"{int(w.steps)} steps, {w.method} {w.P_post:g} bits: delta = {w.delta:.4f} +- "
        f"{w.delta_se:.4f}"
    )


def degradation_grows_with_tokens(p, theory, sims):
    """min over sizes, methods, P_post <= 3, seeds of [delta(longest) - delta(shortest)] / SE."""
    low, x = _low_runs(p, sims)
    s_min, s_max = min(p.ptq_steps), max(p.ptq_steps)
    a = x[x.steps == s_min].drop(columns="steps")
    b = x[x.steps == s_max].drop(columns="steps")
    j = paired_z(a, b, ["d_model", "method", "P_post"])
    m = cell_means(sims, "ptq", "delta")
    m = m[m.P_post.isin(low) & (m.method != "none")].sort_values("steps")
    ups = [
        np.sign(np.diff(g["mean"].to_numpy()))
        for _, g in m.groupby(["d_model", "method", "P_post"])
    ]
    frac = float(np.mean(np.concatenate(ups) > 0))
    return float(j.z.min()), (
        f"min over sizes x methods x P_post in {low} x seeds of [delta({s_max} steps) - "
        f"delta({s_min} steps)] / SE (smallest difference {j['diff'].min():.4f} nats).  Between "
        f"consecutive budgets delta rose in {frac:.0%} of the seed-mean steps (it peaks before "
        f"the longest budget for the larger models: see docs)"
    )


def more_tokens_can_hurt(p, theory, sims):
    """min over sizes and seeds of the largest rise of the post-PTQ loss between budgets, in SE."""
    r = _ptq(sims)
    pl, meth = min(p.ptq_bits), p.ptq_methods[0]
    x = r[(r.P_post == pl) & (r.method == meth)].sort_values("steps")
    worst = np.inf
    for _, g in x.groupby(["seed", "d_model"]):
        post = g.loss.to_numpy()  # loss after PTQ
        se = np.sqrt(g.loss_se.to_numpy()[1:] ** 2 + g.loss_se.to_numpy()[:-1] ** 2)
        worst = min(worst, float(np.max(np.diff(post) / se)))
    return worst, (
        f"for every size and seed, the largest rise of the post-PTQ loss ({meth}, {pl:g} bits) "
        f"between consecutive budgets, in SE; min over sizes and seeds (> 0: past a critical "
        f"data size more pre-training raises the quantized model's loss)"
    )


def larger_models_degrade_less(p, theory, sims):
    """[delta(smallest) - delta(largest)] / SE at the longest budget, P_post in [3, 4]."""
    r = _ptq(sims)
    s_max = max(p.ptq_steps)
    d0, d1 = min(p.d_models), max(p.d_models)
    mid = [float(b) for b in p.ptq_bits if 3 <= b <= 4]
    if not mid or d0 == d1:
        raise NotEvaluable("needs two sizes and a P_post in [3, 4] bits")
    x = r[(r.steps == s_max) & r.P_post.isin(mid) & (r.method != "none")]
    j = paired_z(
        x[x.d_model == d1].drop(columns="d_model"),
        x[x.d_model == d0].drop(columns="d_model"),
        ["method", "P_post"],
    )
    return float(j.z.min()), (
        f"at {s_max} steps: [delta(d_model={d0}) - delta(d_model={d1})] / SE, min over methods x "
        f"P_post in {mid} x seeds (at the shortest budgets the order is reversed: the larger "
        f"models have learned more to lose)"
    )


def gptq_degrades_less(p, theory, sims):
    """Fraction of (size, budget, P_post <= 4) cells where GPTQ's seed-mean delta is below RTN's."""
    if not {"rtn", "gptq"} <= set(p.ptq_methods):
        raise NotEvaluable(f"ptq_methods {list(p.ptq_methods)} lacks rtn or gptq")
    d = cell_means(sims, "ptq", "delta")
    d = d[d.P_post.between(1, 4)]
    a = d[d.method == "rtn"].set_index(["d_model", "steps", "P_post"])["mean"]
    b = d[d.method == "gptq"].set_index(["d_model", "steps", "P_post"])["mean"]
    frac = float(((b - a) < 0).mean()) if len(a) else float("nan")
    return frac, (
        f"fraction of the {len(a)} (size, budget, P_post <= 4) cells where the seed-mean delta of "
        f"GPTQ is below RTN's (App. F); median ratio GPTQ/RTN {float((b / a).median()):.2f}"
    )


def below_unigram_entropy(p, theory, sims):
    """max over high-precision runs of loss + N_SE SE - the unigram entropy."""
    t = _ptq(sims)
    t = t[t.method == "none"]
    gap = (t.loss + N_SE * t.loss_se - t.unigram).max()
    return float(gap), (
        f"max over {len(t)} high-precision runs of loss + {N_SE:g} SE - unigram entropy "
        f"({t.unigram.iloc[0]:.4f} nats); every loss is above the exact entropy floor "
        f"{t.floor.iloc[0]:.4f}: {bool((t.loss > t.floor).all())}"
    )


# ----------------------------------------------------------------------------
# quantized training (the qat grid)


def _qat(sims: pd.DataFrame) -> pd.DataFrame:
    q = per_seed(sims, "qat")
    if q.empty:
        raise NotEvaluable("the run table has no qat runs")
    return q


def _family_arm(t: pd.DataFrame, fam: str) -> pd.DataFrame:
    """Rows of the arms quantizing family ``fam`` alone (and the 16-bit baseline)."""
    col = _FAMILY_COLUMN[fam]
    others = [c for c in _FAMILY_COLUMN.values() if c != col]
    return t[(t[others] == HP).all(axis=1)]


def lower_precision_costs_loss(p, theory, sims):
    """min over families and seeds of [L(lowest P) - L(16 bit)] / SE; no significant inversion."""
    q = _qat(sims)
    t = q[q.method == "none"]
    inversions, lowest = [], []
    for fam in p.qat_families:
        col = _FAMILY_COLUMN[fam]
        arm = _family_arm(t, fam).sort_values(col)
        bits = sorted(arm[col].unique())
        for P1, P2 in itertools.pairwise(bits):
            j = paired_z(arm[arm[col] == P2], arm[arm[col] == P1], [], q="loss")
            mean, sd, n = float(j["diff"].mean()), float(j["diff"].std(ddof=1)), len(j)
            se = sd / np.sqrt(n) if n > 1 else float(j.se.mean())
            # an inversion: the lower precision is *better* beyond the noise
            inversions.append((-mean / (float(se_multiplier(n, N_SE)) * se + 1e-12), fam, P1, P2))
        j = paired_z(arm[arm[col] == HP], arm[arm[col] == bits[0]], [], q="loss")
        lowest.append((float(j.z.min()), fam, bits[0], float(j["diff"].mean())))
    worst, low = max(inversions), min(lowest)
    return low[0], (
        f"quantized training at {p.qat_d_model} width, {p.qat_steps} steps: min over families "
        f"and seeds of [L(lowest P) - L(16 bit)] / SE (paired: same init and data); rises: "
        + ", ".join(f"{f} {b:g} bits +{d:.3f}" for _, f, b, d in lowest)
        + f"; no significant inversion between consecutive precisions (largest inversion "
        f"{max(worst[0], 0):.2f} of its t-interval, {worst[1]} {worst[2]:g} vs {worst[3]:g} bits)"
    )


def _neff_prediction(p, sims) -> str:
    """Eq. 4's prediction for the all-three arms from the single-family gammas (detail text)."""
    F = fits(p, sims)
    if "neff" not in F:
        return ""
    qm = cell_means(sims, "qat", "loss")
    qm = qm[(qm.method == "none") & (qm.P_w == qm.P_a) & (qm.P_a == qm.P_kv)]
    qm = qm[qm.P_w < HP].sort_values("P_w")
    pl = th.loss(qm.N, qm.D, *law_inputs(qm), params=F["neff"].law)
    return "; Eq. 4 with the single-family gammas predicts " + ", ".join(
        f"{b:g} bits: {a:.3f} (measured {m:.3f})"
        for b, a, m in zip(qm.P_w, pl, qm["mean"], strict=True)
    )


def combined_costs_more(p, theory, sims):
    """min over families and seeds of [L(all three at P) - L(one at P)] / SE, lowest P."""
    q = _qat(sims)
    t = q[q.method == "none"]
    allb = [b for b in p.qat_all_bits if b in set(p.qat_bits)]
    if not allb:
        raise NotEvaluable("no qat_all_bits precision is also in qat_bits")
    zs = []
    for P in allb:
        a3 = t[(t.P_w == P) & (t.P_a == P) & (t.P_kv == P)]
        for fam in p.qat_families:
            one = _family_arm(t, fam)
            one = one[one[_FAMILY_COLUMN[fam]] == P]
            zs.append((float(paired_z(one, a3, [], q="loss").z.min()), P, fam))
    p_low = min(allb)
    w = min(z for z in zs if z[1] == p_low)
    other = ", ".join(f"{f} at {b:g} bits: {z:.1f}" for z, b, f in sorted(zs) if b != p_low)
    return w[0], (
        f"min over families and seeds of [L(all three at {p_low:g} bits) - L(one family at "
        f"{p_low:g} bits)] / SE (Eq. 4: the effects compound); weakest: {w[2]}.  At higher "
        f"precision (min z over seeds): {other}" + _neff_prediction(p, sims)
    )


def low_precision_training_degrades_less(p, theory, sims):
    """[delta(trained 16 bit) - delta(trained at the lowest P_w above P_post)] / SE under RTN."""
    q = _qat(sims)
    pq = q[(q.method != "none") & (q.P_a == HP) & (q.P_kv == HP)]
    if pq.empty:
        raise NotEvaluable("no weight-quantized qat run was post-train quantized")
    pl = pq.P_post.min()
    hp = pq[(pq.P_w == HP) & (pq.P_post == pl)]
    cand = sorted(b for b in pq.P_w.unique() if pl < b < HP)
    if not cand:
        raise NotEvaluable(f"no training precision P_w between P_post={pl:g} and 16 bits")
    lo = pq[(pq.P_w == cand[0]) & (pq.P_post == pl)]
    j = paired_z(lo, hp, ["method", "P_post"])
    means = pq[pq.P_post == pl].groupby("P_w").delta.mean()
    return float(j.z.min()), (
        f"[delta(trained 16 bit) - delta(trained W{cand[0]:g})] / SE under RTN to {pl:g} bits, "
        f"min over seeds (section 5); seed-mean delta by training P_w: "
        + ", ".join(f"{k:g}: {v:.3f}" for k, v in means.items())
    )
