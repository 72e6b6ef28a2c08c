"""The small-scale reproduction: quantized training and post-train quantization of
a tiny Transformer++ on data that needs no download (spec 6.3).

A *run* trains one model (shape, token budget, precision arm, seed) with a
complete cosine schedule, evaluates it on a fixed held-out set and then
post-train quantizes its weights (RTN and/or GPTQ) at each P_post, evaluating
again on the same sequences.  Everything is paired:

* arms that share a seed share the initialisation and the data order (the
  token stream is generated in blocks keyed by (seed, block), so a shorter
  budget sees a prefix of a longer one's data);
* every evaluation uses the same held-out sequences, so a degradation
  delta = L_after - L_before is a per-sequence paired difference whose
  standard error (over held-out sequences) is far below the loss's own.

Losses are nats per token; standard errors are over held-out *sequences*
(token losses inside a sequence are correlated).

:func:`run_grid` trains the two grids of the study's ``train`` preset:

``ptq``
    high-precision runs on sizes x budgets, each post-train quantized at
    every P_post with every method (delta_PTQ law, critical data, baseline law);
``qat``
    quantized training at one (size, budget): each family alone at each P and
    all three together (N_eff law), the weight arms also post-train quantized
    (unified law: does lower training precision degrade less?).

:func:`level_rows` and :func:`rerun_rows` are the cheap live parts of the quick
preset (quantizer levels inside a trained model; one committed cell
retrained).
"""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from theorylab.core.errors import ConfigError, DataError
from theorylab.core.train import key_for

from . import quant
from .data import MarkovLanguage, load_shakespeare, sample_windows, unigram_entropy
from .model import LINEARS, TAP_OF, ModelShape, param_counts, quantized_weights
from .train import TrainSpec, eval_losses, hessians, train_arms, unstack

#: the committed run table (written by ``python -m theorylab.studies.precision_scaling.make_runs``)
RUNS_CSV = Path(__file__).with_name("runs.csv")

HP = 16.0  # "high precision" in bits

# ----------------------------------------------------------------------------
# data


@lru_cache(maxsize=4)
def language(vocab: int, order: int, k: int, zipf: float, seed: int) -> MarkovLanguage:
    """The (cached) sparse Markov language."""
    return MarkovLanguage(vocab=vocab, order=order, k=k, zipf=zipf, seed=seed)


class Source:
    """Token batches for training, evaluation and GPTQ calibration of one config."""

    def __init__(self, cfg) -> None:
        self.cfg = cfg
        self.T = cfg.seq_len + 1
        if cfg.data == "markov":
            self.lang = language(cfg.vocab, cfg.order, cfg.successors, cfg.zipf, cfg.language_seed)
            self.vocab = cfg.vocab
            self.skip = cfg.order - 1
            self.floor = self.lang.entropy_floor
        else:
            self.train_corpus, self.held = load_shakespeare(cfg.data_path or None)
            self.vocab = 256
            self.skip = 0
            self.floor = float("nan")

    def _draw(self, rng, n, corpus=None):
        if self.cfg.data == "markov":
            return self.lang.sample(rng, n, self.T)
        return sample_windows(corpus, rng, n, self.T)

    def train(self, seed: int, steps: int, chunk: int) -> np.ndarray:
        """(steps, batch, T+1) tokens; block b of ``chunk`` steps depends only on (seed, b)."""
        B = self.cfg.batch
        blocks = []
        for b in range(-(-steps // chunk)):
            rng = np.random.default_rng([self.cfg.language_seed, 3, seed, b])
            x = self._draw(rng, chunk * B, getattr(self, "train_corpus", None))
            blocks.append(x.reshape(chunk, B, self.T))
        return np.concatenate(blocks)[:steps]

    @property
    def eval_set(self) -> np.ndarray:
        rng = np.random.default_rng([self.cfg.language_seed, 1])
        return self._draw(rng, self.cfg.eval_seqs, getattr(self, "held", None))

    @property
    def calib_set(self) -> np.ndarray:
        rng = np.random.default_rng([self.cfg.language_seed, 2])
        return self._draw(rng, self.cfg.calib_seqs, getattr(self, "train_corpus", None))


def model_shape(cfg, d_model: int, vocab: int) -> ModelShape:
    return ModelShape(vocab, d_model, cfg.n_layers, max(1, d_model // cfg.head_dim), cfg.seq_len)


def train_spec(cfg) -> TrainSpec:
    return TrainSpec(
        lr=cfg.lr,
        warmup_frac=cfg.warmup_frac,
        final_frac=0.1,
        weight_decay=cfg.weight_decay,
        batch=cfg.batch,
        chunk=cfg.chunk,
    )


def granularity(cfg) -> tuple[str, str, str]:
    return (cfg.w_gran, cfg.a_gran, cfg.kv_gran)


# ----------------------------------------------------------------------------
# one run


def ptq_weights(params: dict, bits_train, P_post: float, method: str, H: dict | None, w_gran):
    """Deployed weights (quantized at the training P_w) post-train quantized to P_post.

    Returns a parameter dict whose block weights are the PTQ'd float32 values;
    evaluate it with P_w = 16 (the weights already are on their grid).
    """
    deployed = quantized_weights(params, float(bits_train[0]), w_gran)
    layers = dict(deployed["layers"])
    for name in LINEARS:
        w = np.asarray(layers[name], dtype=np.float64)
        out = []
        for i in range(w.shape[0]):
            if method == "rtn":
                out.append(quant.rtn(w[i], P_post))
            elif method == "gptq":
                out.append(quant.gptq(w[i], H[f"{i}.{TAP_OF[name]}"], P_post))
            else:
                raise ConfigError("ptq_methods", method, "one of rtn, gptq")
        layers[name] = np.stack(out).astype(np.float32)
    return {**deployed, "layers": layers}


def _seq_means(losses: np.ndarray, n_seq: int) -> np.ndarray:
    return losses.reshape(n_seq, -1).mean(axis=1)


def _mean_se(x: np.ndarray) -> tuple[float, float]:
    return float(x.mean()), float(x.std(ddof=1) / np.sqrt(x.size))


def run_arms(
    cfg,
    src: Source,
    seed: int,
    experiment: str,
    d_model: int,
    steps: int,
    arms,
    ptqs: list[list[tuple[str, float]]],
) -> list[dict]:
    """Train arms of one (size, budget, seed) in lockstep, evaluate and post-train quantize each.

    The arms share the initialisation and the data (paired); with one arm this
    is :func:`run_one`.  Training several at once (``jax.vmap``) keeps an
    accelerator busy; the float results then differ from one-at-a-time
    training in the last bits (a different reduction order).
    """
    t0 = time.perf_counter()
    shape = model_shape(cfg, d_model, src.vocab)
    spec = train_spec(cfg)
    gran = granularity(cfg)
    bits_all = np.asarray(arms, dtype=float).reshape(-1, 3)
    data = src.train(seed, steps, spec.chunk)
    stacked, tl_all = train_arms(key_for(seed, 7, d_model), shape, bits_all, data, spec, gran)
    t_train = (time.perf_counter() - t0) / len(bits_all)
    rows = []
    for i, (bits, ptq) in enumerate(zip(bits_all, ptqs, strict=True)):
        t1 = time.perf_counter()
        params = unstack(stacked, i)
        tl = tl_all[i : i + 1]
        ev = src.eval_set
        n_seq = ev.shape[0]
        base = _seq_means(eval_losses(params, ev, bits, shape, gran, skip=src.skip), n_seq)
        counts = param_counts(shape)
        common = {
            "experiment": experiment,
            "data": cfg.data,
            "d_model": d_model,
            "n_layers": cfg.n_layers,
            "N": counts["non_embedding"],
            "N_total": counts["total"],
            "steps": steps,
            "D": steps * cfg.batch * cfg.seq_len,
            "P_w": bits[0],
            "P_a": bits[1],
            "P_kv": bits[2],
            "w_gran": gran[0],
            "a_gran": gran[1],
            "kv_gran": gran[2],
            "quantizer": "int",
            "train_loss": float(np.mean(tl[0, -min(10, tl.shape[1]) :])),
            "floor": src.floor,
            "n_eval_seqs": n_seq,
        }
        m, s = _mean_se(base)
        arm_rows = [
            {
                **common,
                "method": "none",
                "P_post": np.nan,
                "loss": m,
                "loss_se": s,
                "delta": 0.0,
                "delta_se": 0.0,
            }
        ]
        H = None
        if any(meth == "gptq" for meth, _ in ptq):
            H = hessians(params, src.calib_set, bits, shape, gran)
        eval_bits = np.array([HP, bits[1], bits[2]])
        for meth, P_post in ptq:
            pq = ptq_weights(params, bits, P_post, meth, H, gran[0])
            after = _seq_means(eval_losses(pq, ev, eval_bits, shape, gran, skip=src.skip), n_seq)
            m2, s2 = _mean_se(after)
            dm, ds = _mean_se(after - base)
            arm_rows.append(
                {
                    **common,
                    "method": meth,
                    "P_post": float(P_post),
                    "loss": m2,
                    "loss_se": s2,
                    "delta": dm,
                    "delta_se": ds,
                }
            )
        dt = t_train + time.perf_counter() - t1
        for r in arm_rows:
            r["time_s"] = dt
        rows += arm_rows
    return rows


def run_one(
    cfg,
    src: Source,
    seed: int,
    experiment: str,
    d_model: int,
    steps: int,
    bits,
    ptq: list[tuple[str, float]],
) -> list[dict]:
    """Train one arm, evaluate it, post-train quantize it; one row per evaluation."""
    return run_arms(cfg, src, seed, experiment, d_model, steps, [bits], [ptq])


def qat_arms(cfg) -> list[tuple[float, float, float]]:
    """Training precision arms of the ``qat`` grid: baseline, each family alone, all three."""
    arms = [(HP, HP, HP)]
    fam_index = {"w": 0, "a": 1, "kv": 2}
    for fam in cfg.qat_families:
        for P in cfg.qat_bits:
            b = [HP, HP, HP]
            b[fam_index[fam]] = float(P)
            arms.append(tuple(b))
    for P in cfg.qat_all_bits:
        arms.append((float(P),) * 3)
    return list(dict.fromkeys(arms))


def run_grid(cfg, seed: int, progress=None) -> pd.DataFrame:
    """Train the ``ptq`` and ``qat`` grids of ``cfg`` for one seed (tidy table)."""
    src = Source(cfg)
    rows: list[dict] = []
    ptq = [(m, float(P)) for m in cfg.ptq_methods for P in cfg.ptq_bits]
    jobs = [("ptq", d, S, (HP, HP, HP), ptq) for d in cfg.d_models for S in cfg.ptq_steps]
    uni = [("rtn", float(P)) for P in cfg.unified_post_bits]
    for arm in qat_arms(cfg):
        post = uni if (arm[1] == HP and arm[2] == HP) else []
        jobs.append(("qat", cfg.qat_d_model, cfg.qat_steps, arm, post))
    # one training run per (size, budget, arm); a job that repeats one (the qat
    # baseline is a ptq cell: same init, data and schedule) reuses its rows
    todo: dict[tuple, list] = {}
    for exp, d, S, arm, post in jobs:
        key = (d, S, arm)
        if key in todo:
            todo[key][5] = todo[key][5] + [p for p in post if p not in todo[key][5]]
        else:
            todo[key] = [exp, d, S, arm, key, list(post)]
    done: dict[tuple, list[dict]] = {}
    # group arms of the same (experiment, size, budget): arms_per_call at a time
    groups: list[list] = []
    for job in todo.values():
        g = groups[-1] if groups else None
        if g and len(g) < cfg.arms_per_call and g[0][:3] == job[:3]:
            g.append(job)
        else:
            groups.append([job])
    n_done = 0
    for g in groups:
        exp, d, S = g[0][:3]
        new = run_arms(cfg, src, seed, exp, d, S, [j[3] for j in g], [j[5] for j in g])
        for j in g:
            done[j[4]] = [r for r in new if (r["P_w"], r["P_a"], r["P_kv"]) == j[3]]
        n_done += len(g)
        if progress:
            progress(n_done, len(todo))
    for exp, d, S, arm, post in jobs:
        # a job whose training run already exists (same init, data, schedule) reuses it
        keep = [
            r
            for r in done[(d, S, arm)]
            if r["method"] == "none" or (r["method"], r["P_post"]) in post
        ]
        rows += [{**r, "experiment": exp} for r in keep]
    df = pd.DataFrame(rows)
    df["unigram"] = unigram_entropy(src.eval_set[:, 1:], src.vocab)
    return df


# ----------------------------------------------------------------------------
# live parts of the quick preset


def level_rows(cfg, seed: int) -> pd.DataFrame:
    """Train a tiny quantized model briefly and count levels per scale group.

    Weights (per output channel), every linear input (per token or sequence),
    keys and values, and the RTN / GPTQ weights at ``levels_post_bits``; each
    count must be <= 2^P.
    """
    src = Source(cfg)
    shape = model_shape(cfg, cfg.levels_d_model, src.vocab)
    spec = train_spec(cfg)
    gran = granularity(cfg)
    bits = np.asarray(cfg.levels_bits, dtype=float)
    data = src.train(seed, cfg.levels_steps, spec.chunk)
    params, _ = train_arms(key_for(seed, 8), shape, bits[None], data, spec, gran)
    params = unstack(params, 0)
    rows = []
    qw = quantized_weights(params, bits[0], gran[0])["layers"]
    w_axis = 1 if gran[0] == "channel" else (1, 2)  # (L, in, out): reduce "in"
    nw = max(quant.count_levels(np.asarray(qw[n]), axis=w_axis) for n in LINEARS)
    rows.append(("weights", gran[0], bits[0], nw))
    from .train import _taps_batch

    taps = _taps_batch(params, src.calib_set[:8, :-1], bits, shape, gran)
    act_axis = -1 if gran[1] == "token" else (1, 2)
    na = max(
        quant.count_levels(np.asarray(v), axis=act_axis)
        for k, v in taps.items()
        if not k.endswith((".k", ".v"))
    )
    rows.append(("activations", gran[1], bits[1], na))
    kv_axis = (2, 3) if gran[2] == "token" else (1, 2, 3)
    nk = max(
        quant.count_levels(np.asarray(taps[f"{i}.{x}"]), axis=kv_axis)
        for i in range(shape.n_layers)
        for x in ("k", "v")
    )
    rows.append(("kv", gran[2], bits[2], nk))
    H = hessians(params, src.calib_set, bits, shape, gran)
    for meth in ("rtn", "gptq"):
        pq = ptq_weights(params, bits, cfg.levels_post_bits, meth, H, gran[0])["layers"]
        n = max(quant.count_levels(np.asarray(pq[k]), axis=1) for k in LINEARS)
        rows.append((f"{meth}_weights", "channel", cfg.levels_post_bits, n))
    return pd.DataFrame(
        {
            "experiment": "levels",
            "quantity": [r[0] for r in rows],
            "granularity": [r[1] for r in rows],
            "bits": [float(r[2]) for r in rows],
            "value": [float(r[3]) for r in rows],
            "limit": [float(2 ** r[2]) for r in rows],
        }
    )


def rerun_rows(cfg, seed: int, committed: pd.DataFrame) -> pd.DataFrame:
    """Retrain the smallest, shortest committed ``ptq`` cell live and compare.

    Returns rows (experiment ``rerun``) with the live and committed loss and
    the delta at the first (method, P_post) of the grid.
    """
    d, S = min(cfg.d_models), min(cfg.ptq_steps)
    meth, P = cfg.ptq_methods[0], float(cfg.ptq_bits[0])
    live = pd.DataFrame(run_one(cfg, Source(cfg), seed, "ptq", d, S, (HP, HP, HP), [(meth, P)]))
    c = committed[
        (committed.experiment == "ptq") & (committed.d_model == d) & (committed.steps == S)
    ]
    out = []
    for q, sel in (("loss", live.method == "none"), ("delta", live.method == meth)):
        lv = live[sel].iloc[0]
        cm = c[
            (c.method == lv.method)
            & ((c.P_post == lv.P_post) | (c.P_post.isna() & np.isnan(lv.P_post)))
        ]
        if cm.empty:
            raise DataError(f"committed table lacks the ptq cell d_model={d}, steps={S}")
        out.append(
            {
                "experiment": "rerun",
                "quantity": q,
                "value": float(lv[q]),
                "committed": float(cm.iloc[0][q]),
                "se": float(lv[f"{q}_se"]),
                "d_model": d,
                "steps": S,
            }
        )
    return pd.DataFrame(out)


def load_committed(path: str | Path | None = None) -> pd.DataFrame:
    """The committed run table (all seeds)."""
    p = Path(path) if path else RUNS_CSV
    if not p.is_file():
        raise DataError(
            f"no committed run table at {p}; regenerate it with "
            "'python -m theorylab.studies.precision_scaling.make_runs' or use --preset train"
        )
    return pd.read_csv(p)
