"""A decoder-only Transformer++ with integer fake quantization, in JAX.

As in docs/precision_scaling.md, "Model".

Pre-RMSNorm blocks, rotary attention (RoPE on queries and keys), SwiGLU MLP
(hidden width 8/3 d_model rounded up to a multiple of 16), no biases, untied
input embedding and LM head.

Quantization (docs/precision_scaling.md, "Quantization"), all symmetric absmax
integer fake quantization with the straight-through estimator (:func:`quant.fake_quant`):

* **weights** (P_w) of every linear map inside the blocks (q, k, v, o, gate,
  up, down): one scale per output channel (``w_gran="channel"``) or per tensor;
* **activations** (P_a): the input of every such linear map, one scale per
  token (``a_gran="token"``, default) or per sequence (``"sequence"``);
* **KV cache** (P_kv): keys (after RoPE) and values, one scale per token (all
  heads) or per sequence.

The embedding, the norms and the LM head stay in high precision (float32),
as do the attention scores and softmax; ``bits >= 16`` switches a family off.
The precisions are *traced* arguments (an array ``[P_w, P_a, P_kv]``), so one
compiled training step serves every precision arm.

N (the paper's "non-embedding parameters") counts the block weights and norm
gains; :func:`param_counts` also reports the embedding and head.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from theorylab.core.errors import ConfigError

from .quant import fake_quant_act, fake_quant_weight

#: the block linear maps, with the activation that feeds each of them
LINEARS = ("wq", "wk", "wv", "wo", "wg", "wu", "wd")
TAP_OF = {"wq": "attn_in", "wk": "attn_in", "wv": "attn_in", "wo": "attn_out"}
TAP_OF.update({"wg": "mlp_in", "wu": "mlp_in", "wd": "mlp_mid"})


@dataclass(frozen=True)
class ModelShape:
    """Shape of the Transformer.

    Attributes
    ----------
    vocab : int
        Vocabulary size V.
    d_model : int
        Residual width d.
    n_layers : int
        Blocks L.
    n_heads : int
        Attention heads (d must be divisible by it).
    seq_len : int
        Context length T (tokens per training sequence).
    """

    vocab: int
    d_model: int
    n_layers: int
    n_heads: int
    seq_len: int

    def __post_init__(self) -> None:
        if self.d_model % self.n_heads:
            raise ConfigError("n_heads", self.n_heads, f"must divide d_model={self.d_model}")
        if (self.d_model // self.n_heads) % 2:
            raise ConfigError("n_heads", self.n_heads, "head dimension must be even (RoPE)")

    @property
    def hidden(self) -> int:
        """SwiGLU hidden width: 8/3 d rounded up to a multiple of 16."""
        return int(16 * np.ceil(8 * self.d_model / 3 / 16))

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads


def param_counts(shape: ModelShape) -> dict[str, int]:
    """Parameter counts: ``non_embedding`` (the paper's N), ``embedding``, ``total``.

    Non-embedding: per block 4 d^2 + 3 d h (linear maps) + 2 d (norm gains),
    plus the final norm's d.  Embedding: the input embedding and the LM head,
    2 V d.
    """
    d, h, L, V = shape.d_model, shape.hidden, shape.n_layers, shape.vocab
    non_emb = L * (4 * d * d + 3 * d * h + 2 * d) + d
    emb = 2 * V * d
    return {"non_embedding": non_emb, "embedding": emb, "total": non_emb + emb}


def init_params(key, shape: ModelShape) -> dict:
    """Random initial parameters (float32).

    Linear maps ~ N(0, 1/fan_in), output projections (o, down) further scaled
    by 1/sqrt(2L); embedding ~ N(0, 1); head ~ N(0, 1/d); norm gains 1.
    """
    d, h, L, V = shape.d_model, shape.hidden, shape.n_layers, shape.vocab
    ks = jax.random.split(key, 9)
    res = 1.0 / np.sqrt(2 * L)

    def normal(k, shp, std):
        return (std * jax.random.normal(k, shp)).astype(jnp.float32)

    return {
        "embed": normal(ks[0], (V, d), 1.0),
        "layers": {
            "norm1": jnp.ones((L, d), jnp.float32),
            "wq": normal(ks[1], (L, d, d), d**-0.5),
            "wk": normal(ks[2], (L, d, d), d**-0.5),
            "wv": normal(ks[3], (L, d, d), d**-0.5),
            "wo": normal(ks[4], (L, d, d), d**-0.5 * res),
            "norm2": jnp.ones((L, d), jnp.float32),
            "wg": normal(ks[5], (L, d, h), d**-0.5),
            "wu": normal(ks[6], (L, d, h), d**-0.5),
            "wd": normal(ks[7], (L, h, d), h**-0.5 * res),
        },
        "norm_f": jnp.ones((d,), jnp.float32),
        "head": normal(ks[8], (d, V), d**-0.5),
    }


def _rmsnorm(x, g, eps=1e-6):
    return x * jax.lax.rsqrt(jnp.mean(x * x, axis=-1, keepdims=True) + eps) * g


def _rope(x):
    """Rotary embedding of x (T, H, dh), base 10000, rotate-half convention."""
    T, _, dh = x.shape
    half = dh // 2
    inv = 1.0 / (10000.0 ** (jnp.arange(half, dtype=jnp.float32) / half))
    ang = jnp.arange(T, dtype=jnp.float32)[:, None] * inv[None, :]
    cos, sin = jnp.cos(ang)[:, None, :], jnp.sin(ang)[:, None, :]
    x1, x2 = x[..., :half], x[..., half:]
    return jnp.concatenate([x1 * cos - x2 * sin, x1 * sin + x2 * cos], axis=-1)


def quantized_weights(params: dict, p_w, w_gran: str = "channel") -> dict:
    """The block weights as the forward pass sees them at P_w bits."""
    layers = dict(params["layers"])
    for name in LINEARS:
        # one scale per output channel of each layer's matrix: reduce over "in" (axis 1)
        w = layers[name]
        layers[name] = jax.vmap(lambda m: fake_quant_weight(m, p_w, w_gran))(w)
    return {**params, "layers": layers}


def _sequence_forward(params, tokens, p_a, p_kv, shape: ModelShape, a_gran, kv_gran, taps):
    """Logits (T, V) of one sequence; the block weights are already quantized."""
    H, dh, T = shape.n_heads, shape.head_dim, tokens.shape[0]
    lay = params["layers"]
    x = params["embed"][tokens]
    mask = jnp.tril(jnp.ones((T, T), bool))
    collected = {}
    for i in range(shape.n_layers):
        h = fake_quant_act(_rmsnorm(x, lay["norm1"][i]), p_a, a_gran)
        q = (h @ lay["wq"][i]).reshape(T, H, dh)
        k = (h @ lay["wk"][i]).reshape(T, H, dh)
        v = (h @ lay["wv"][i]).reshape(T, H, dh)
        q, k = _rope(q), _rope(k)
        k = fake_quant_act(k, p_kv, kv_gran, feature_dims=2)
        v = fake_quant_act(v, p_kv, kv_gran, feature_dims=2)
        s = jnp.einsum("thd,shd->hts", q, k) / np.sqrt(dh)
        s = jnp.where(mask[None], s, -1e30)
        att = jnp.einsum("hts,shd->thd", jax.nn.softmax(s, axis=-1), v).reshape(T, -1)
        att = fake_quant_act(att, p_a, a_gran)
        x = x + att @ lay["wo"][i]
        h2 = fake_quant_act(_rmsnorm(x, lay["norm2"][i]), p_a, a_gran)
        mid = fake_quant_act(jax.nn.silu(h2 @ lay["wg"][i]) * (h2 @ lay["wu"][i]), p_a, a_gran)
        x = x + mid @ lay["wd"][i]
        if taps:
            collected.update(
                {
                    f"{i}.attn_in": h,
                    f"{i}.attn_out": att,
                    f"{i}.mlp_in": h2,
                    f"{i}.mlp_mid": mid,
                    f"{i}.k": k,
                    f"{i}.v": v,
                }
            )
    logits = _rmsnorm(x, params["norm_f"]) @ params["head"]
    return (logits, collected) if taps else logits


def forward(
    params,
    tokens,
    bits,
    shape: ModelShape,
    *,
    w_gran: str = "channel",
    a_gran: str = "token",
    kv_gran: str = "token",
    taps: bool = False,
):
    """Logits of a batch of sequences.

    Parameters
    ----------
    params : dict
        From :func:`init_params`.
    tokens : jax.Array, shape (B, T) int
    bits : jax.Array, shape (3,)
        [P_w, P_a, P_kv]; entries >= 16 are not quantized.
    shape : ModelShape
    w_gran, a_gran, kv_gran : str
        Scale groups (see module docstring).
    taps : bool
        Also return the inputs of every block linear map (for GPTQ) and the
        keys and values, as a dict of arrays (B, T, ...).

    Returns
    -------
    logits : jax.Array, shape (B, T, V)
    taps : dict, only if ``taps``
    """
    bits = jnp.asarray(bits, jnp.float32)
    qp = quantized_weights(params, bits[0], w_gran)
    fn = lambda t: _sequence_forward(qp, t, bits[1], bits[2], shape, a_gran, kv_gran, taps)  # noqa: E731
    return jax.vmap(fn)(tokens)


def token_losses(params, tokens, bits, shape: ModelShape, **gran):
    """Per-token next-token cross-entropy (nats), shape (B, T-1) for tokens (B, T)."""
    logits = forward(params, tokens[:, :-1], bits, shape, **gran)
    logp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.take_along_axis(logp, tokens[:, 1:, None], axis=-1)[..., 0]
