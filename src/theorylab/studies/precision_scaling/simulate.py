"""The small-scale reproduction: quantized training and post-train quantization of
a tiny Transformer++ on data that needs no download (docs/precision_scaling.md,
"Small-scale reproduction").

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

The random streams of the runs are those the committed run table was trained
with (:mod:`.streams`), from the run's integer seed.

Losses are nats per token; standard errors are over held-out *sequences*
(token losses inside a sequence are correlated).

:func:`run_grid` trains the two grids of the ``runs`` experiment:

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
from theorylab.core.experiment import Seed

from . import quant, streams
from .data import MarkovLanguage, load_shakespeare, sample_windows, unigram_entropy
from .model import LINEARS, TAP_OF, ModelShape, param_counts, quantized_weights
from .train import TrainSpec, activation_taps, eval_losses, hessians, train_arms, unstack

#: the committed run table (written by ``python -m theorylab.studies.precision_scaling.make_runs``)
RUNS_CSV = Path(__file__).with_name("runs.csv")

HP = 16.0  # "high precision" in bits

# ----------------------------------------------------------------------------
# data


@lru_cache(maxsize=4)
def language(vocab: int, order: int, k: int, zipf: float, seed: int) -> MarkovLanguage:
    """The (cached) sparse Markov language.

    Parameters
    ----------
    vocab, order, k : int
        Vocabulary size V, context length and successors per context.
    zipf : float
        Zipf exponent of the successor probabilities.
    seed : int
        Seed of the transition table (the config's ``language_seed``).

    Returns
    -------
    MarkovLanguage
        With ``succ`` of shape (V^order, k).
    """
    return MarkovLanguage(vocab=vocab, order=order, k=k, zipf=zipf, seed=seed)


class Source:
    """Token batches for training, evaluation and GPTQ calibration of one config.

    Parameters
    ----------
    cfg : Shared
        The study-level fields (data, vocabulary, ``seq_len``, ``batch``,
        ``eval_seqs``, ``calib_seqs``, ``language_seed``) of any experiment's
        parameters.

    Attributes
    ----------
    T : int
        Tokens per drawn sequence, ``seq_len + 1`` (inputs and targets).
    vocab : int
    skip : int
        Leading predictions of a sequence without a full context (not scored).
    floor : float
        Exact entropy floor of the Markov language (NaN for Shakespeare).
    """

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

    def batches(self, rng: np.random.Generator, steps: int) -> np.ndarray:
        """``steps`` training batches drawn from ``rng``.

        Parameters
        ----------
        rng : numpy.random.Generator
        steps : int

        Returns
        -------
        numpy.ndarray, shape (steps, batch, T) int32
        """
        x = self._draw(rng, steps * self.cfg.batch, getattr(self, "train_corpus", None))
        return x.reshape(steps, self.cfg.batch, self.T)

    def train(self, seed: int, steps: int, chunk: int) -> np.ndarray:
        """The training tokens of run seed ``seed``, in blocks of ``chunk`` steps.

        Block b depends only on (seed, b) (:func:`.streams.token_rng`), so a
        shorter budget sees a prefix of a longer one's data.

        Parameters
        ----------
        seed : int
            The run's seed (the committed table's ``seed``).
        steps, chunk : int

        Returns
        -------
        numpy.ndarray, shape (steps, batch, T) int32
        """
        blocks = [
            self.batches(streams.token_rng(self.cfg.language_seed, seed, b), chunk)
            for b in range(-(-steps // chunk))
        ]
        return np.concatenate(blocks)[:steps]

    @property
    def eval_set(self) -> np.ndarray:
        """The held-out sequences, shape (eval_seqs, T), the same for every run."""
        rng = streams.eval_rng(self.cfg.language_seed)
        return self._draw(rng, self.cfg.eval_seqs, getattr(self, "held", None))

    @property
    def calib_set(self) -> np.ndarray:
        """The GPTQ calibration sequences, shape (calib_seqs, T), the same for every run."""
        rng = streams.calib_rng(self.cfg.language_seed)
        return self._draw(rng, self.cfg.calib_seqs, getattr(self, "train_corpus", None))


def model_shape(cfg, d_model: int, vocab: int) -> ModelShape:
    """The Transformer of width ``d_model`` under ``cfg``.

    Parameters
    ----------
    cfg : Shared
        Uses ``n_layers``, ``head_dim`` and ``seq_len``.
    d_model : int
        Residual width (a multiple of ``head_dim``).
    vocab : int

    Returns
    -------
    ModelShape
        With ``d_model // head_dim`` heads.
    """
    return ModelShape(vocab, d_model, cfg.n_layers, max(1, d_model // cfg.head_dim), cfg.seq_len)


def train_spec(cfg) -> TrainSpec:
    """The optimisation hyper-parameters of ``cfg``.

    Parameters
    ----------
    cfg : Shared
        Uses ``lr``, ``warmup_frac``, ``weight_decay``, ``batch``, ``chunk``.

    Returns
    -------
    TrainSpec
        Cosine decay to 10 % of the peak.
    """
    return TrainSpec(
        lr=cfg.lr,
        warmup_frac=cfg.warmup_frac,
        final_frac=0.1,
        weight_decay=cfg.weight_decay,
        batch=cfg.batch,
        chunk=cfg.chunk,
    )


def granularity(cfg) -> tuple[str, str, str]:
    """The scale groups of ``cfg``.

    Parameters
    ----------
    cfg : Shared

    Returns
    -------
    tuple of str
        ``(w_gran, a_gran, kv_gran)``.
    """
    return (cfg.w_gran, cfg.a_gran, cfg.kv_gran)


# ----------------------------------------------------------------------------
# one run


def ptq_weights(params: dict, bits_train, P_post: float, method: str, H: dict | None, w_gran):
    """Deployed weights (quantized at the training P_w) post-train quantized to P_post.

    Parameters
    ----------
    params : dict
        One model's parameters (not stacked); block matrices of shape
        (n_layers, in, out).
    bits_train : array_like, shape (3,)
        The training precisions [P_w, P_a, P_kv].
    P_post : float
        Post-training precision in bits (>= 2).
    method : {"rtn", "gptq"}
    H : dict or None
        GPTQ Hessians ``"{layer}.{tap}" -> (in, in)`` (:func:`.train.hessians`);
        needed for ``gptq`` only.
    w_gran : str
        Weight scale groups of the training quantizer.

    Returns
    -------
    dict
        A parameter dict whose block weights are the PTQ'd float32 values;
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

    Parameters
    ----------
    cfg : Params of the ``runs`` (or ``rerun``) experiment
        The study-level fields (shape, optimisation, granularity, data).
    src : Source
    seed : int
        The run seed: initialisation :func:`.streams.init_key` ``(seed, d_model)``,
        data :meth:`Source.train` ``(seed, ...)``.
    experiment : str
        The grid the rows belong to (``"ptq"`` or ``"qat"``; the run table's
        ``experiment`` column).
    d_model, steps : int
        Width and token budget in steps (a multiple of ``cfg.chunk``).
    arms : array_like, shape (A, 3)
        [P_w, P_a, P_kv] per arm (>= 16: high precision).
    ptqs : list of A lists of (method, P_post)
        The post-train quantizations of each arm.

    Returns
    -------
    list of dict
        One row per evaluation (the run table's columns): for each arm, the
        unquantized evaluation (``method="none"``) and one per (method,
        P_post), with loss, delta and their SEs over held-out sequences.
    """
    t0 = time.perf_counter()
    shape = model_shape(cfg, d_model, src.vocab)
    spec = train_spec(cfg)
    gran = granularity(cfg)
    bits_all = np.asarray(arms, dtype=float).reshape(-1, 3)
    data = src.train(seed, steps, spec.chunk)
    key = streams.init_key(seed, d_model)
    stacked, tl_all = train_arms(key, shape, bits_all, data, spec, gran)
    t_train = (time.perf_counter() - t0) / len(bits_all)
    counts = param_counts(shape)
    rows = []
    for i, (bits, ptq) in enumerate(zip(bits_all, ptqs, strict=True)):
        t1 = time.perf_counter()
        tl = tl_all[i]
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
            "train_loss": float(np.mean(tl[-min(10, tl.size) :])),
            "floor": src.floor,
        }
        arm_rows = _evaluate(src, unstack(stacked, i), bits, ptq, shape, gran)
        dt = t_train + time.perf_counter() - t1
        rows += [{**common, **r, "time_s": dt} for r in arm_rows]
    return rows


def _evaluate(src: Source, params, bits, ptq, shape, gran) -> list[dict]:
    """Held-out loss of one trained model, then after each (method, P_post) of ``ptq``."""
    ev = src.eval_set
    n_seq = ev.shape[0]
    base = _seq_means(eval_losses(params, ev, bits, shape, gran, skip=src.skip), n_seq)
    m, s = _mean_se(base)
    rows = [
        {
            "n_eval_seqs": n_seq,
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
        rows.append(
            {
                "n_eval_seqs": n_seq,
                "method": meth,
                "P_post": float(P_post),
                "loss": m2,
                "loss_se": s2,
                "delta": dm,
                "delta_se": ds,
            }
        )
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
    """Train one arm, evaluate it, post-train quantize it; one row per evaluation.

    Parameters
    ----------
    cfg, src, seed, experiment, d_model, steps
        As for :func:`run_arms`.
    bits : array_like, shape (3,)
        [P_w, P_a, P_kv].
    ptq : list of (method, P_post)

    Returns
    -------
    list of dict
        As :func:`run_arms`, for the one arm.
    """
    return run_arms(cfg, src, seed, experiment, d_model, steps, [bits], [ptq])


def qat_arms(cfg) -> list[tuple[float, float, float]]:
    """Training precision arms of the ``qat`` grid: baseline, each family alone, all three.

    Parameters
    ----------
    cfg : Params of the ``runs`` experiment
        Uses ``qat_families``, ``qat_bits``, ``qat_all_bits``.

    Returns
    -------
    list of (P_w, P_a, P_kv)
        Distinct arms, the 16-bit baseline first.
    """
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
    """Train the ``ptq`` and ``qat`` grids of ``cfg`` for one seed (tidy table).

    Parameters
    ----------
    cfg : Params of the ``runs`` experiment
        The grids (``d_models``, ``ptq_*``, ``qat_*``, ``unified_post_bits``,
        ``arms_per_call``) and the study-level fields.
    seed : int
        The run seed (:mod:`.streams`; the committed table's ``seed``).
    progress : callable, optional
        Called as ``progress(done, total)`` after each group of training runs.

    Returns
    -------
    pandas.DataFrame
        One row per evaluation (the columns of :func:`run_arms` and
        ``unigram``, the unigram entropy of the held-out set); the
        ``experiment`` column names the grid (``ptq`` or ``qat``).
    """
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


def level_rows(cfg, seed: Seed) -> pd.DataFrame:
    """Train a tiny quantized model briefly and count levels per scale group.

    Weights (per output channel), every linear input (per token or sequence)
    and the keys and values of 8 calibration sequences, and the RTN / GPTQ
    weights at ``post_bits``; each count must be <= 2^P.

    Parameters
    ----------
    cfg : Params of the ``levels`` experiment
        ``d_model``, ``steps``, ``bits`` ([P_w, P_a, P_kv]), ``post_bits`` and
        the study-level fields.
    seed : Seed
        Initialisation ``seed.key("init")``, training tokens
        ``seed.rng("tokens")``.

    Returns
    -------
    pandas.DataFrame, shape (5, 5)
        Columns ``quantity`` (weights, activations, kv, rtn_weights,
        gptq_weights), ``granularity``, ``bits``, ``value`` (the largest number
        of distinct values in one scale group) and ``limit`` (2^bits).
    """
    src = Source(cfg)
    shape = model_shape(cfg, cfg.d_model, src.vocab)
    spec = train_spec(cfg)
    gran = granularity(cfg)
    bits = np.asarray(cfg.bits, dtype=float)
    data = src.batches(seed.rng("tokens"), cfg.steps)
    params, _ = train_arms(seed.key("init"), shape, bits[None], data, spec, gran)
    params = unstack(params, 0)
    rows = []
    qw = quantized_weights(params, bits[0], gran[0])["layers"]
    w_axis = 1 if gran[0] == "channel" else (1, 2)  # (L, in, out): reduce "in"
    nw = max(quant.count_levels(np.asarray(qw[n]), axis=w_axis) for n in LINEARS)
    rows.append(("weights", gran[0], bits[0], nw))
    # computed on the first calibration batch of hessians() below (64 sequences of
    # T + 1 tokens: the same input shape, so one compiled forward serves both) and
    # counted on the first 8 sequences (whole scale groups, per token or sequence)
    taps = activation_taps(params, src.calib_set[:64], bits, shape, gran)
    taps = {k: v[:8] for k, v in taps.items()}
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
        pq = ptq_weights(params, bits, cfg.post_bits, meth, H, gran[0])["layers"]
        n = max(quant.count_levels(np.asarray(pq[k]), axis=1) for k in LINEARS)
        rows.append((f"{meth}_weights", "channel", cfg.post_bits, n))
    return pd.DataFrame(
        {
            "quantity": [r[0] for r in rows],
            "granularity": [r[1] for r in rows],
            "bits": [float(r[2]) for r in rows],
            "value": [float(r[3]) for r in rows],
            "limit": [float(2 ** r[2]) for r in rows],
        }
    )


def rerun_cell(committed: pd.DataFrame) -> tuple[int, int, str, float]:
    """The smallest, shortest ``ptq`` cell of a committed table and its first PTQ.

    Parameters
    ----------
    committed : pandas.DataFrame
        Committed runs (the run table's columns).

    Returns
    -------
    (d_model, steps, method, P_post)
        The smallest width, then its shortest budget; RTN if the table has it
        (else the first method by name) at its lowest P_post.

    Raises
    ------
    DataError
        If the table has no post-train quantized ``ptq`` run.
    """
    c = committed[(committed.experiment == "ptq") & (committed.method != "none")]
    if c.empty:
        raise DataError("the committed table has no post-train quantized ptq run")
    d = int(c.d_model.min())
    S = int(c[c.d_model == d].steps.min())
    c = c[(c.d_model == d) & (c.steps == S)]
    meth = "rtn" if (c.method == "rtn").any() else sorted(c.method)[0]
    return d, S, meth, float(c[c.method == meth].P_post.min())


def rerun_rows(cfg, seed: int, committed: pd.DataFrame) -> pd.DataFrame:
    """Retrain the smallest, shortest committed ``ptq`` cell live and compare.

    Parameters
    ----------
    cfg : Params of the ``rerun`` experiment
        The study-level fields the table was trained with.
    seed : int
        The run seed (the committed table's ``seed``; :mod:`.streams`).
    committed : pandas.DataFrame
        The committed runs of that seed.

    Returns
    -------
    pandas.DataFrame, shape (2, 8)
        Rows ``quantity`` = loss and delta (at the cell's first PTQ,
        :func:`rerun_cell`), with the live ``value``, the ``committed`` value,
        the live eval ``se``, and ``d_model``, ``steps``, ``method``,
        ``P_post``.
    """
    d, S, meth, P = rerun_cell(committed)
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
        out.append(
            {
                "quantity": q,
                "value": float(lv[q]),
                "committed": float(cm.iloc[0][q]),
                "se": float(lv[f"{q}_se"]),
                "d_model": d,
                "steps": S,
                "method": meth,
                "P_post": P,
            }
        )
    return pd.DataFrame(out)


def load_committed(path: str | Path | None = None) -> pd.DataFrame:
    """The committed run table (all seeds).

    Parameters
    ----------
    path : path, optional
        A run table written by :mod:`.make_runs`; default the packaged
        ``runs.csv``.

    Returns
    -------
    pandas.DataFrame
        One row per (seed, run, evaluation): the columns of :func:`run_grid`
        and ``seed``.

    Raises
    ------
    DataError
        If there is no such file.
    """
    p = Path(path) if path else RUNS_CSV
    if not p.is_file():
        raise DataError(
            f"no committed run table at {p}; regenerate it with "
            "'python -m theorylab.studies.precision_scaling.make_runs' or use --preset train"
        )
    return pd.read_csv(p)
