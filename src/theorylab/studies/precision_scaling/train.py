"""Training and evaluation of the quantized Transformer (docs/precision_scaling.md, "Protocol").

One run = one (model shape, token budget, precision arm, seed), trained with a
*complete* cosine schedule of its own (linear warm-up, cosine decay to 10 % of
the peak learning rate), AdamW with decoupled weight decay on the matrices,
gradient clipping at norm 1.  Arms that share a seed share the initial
parameters and the data order, so comparisons across precisions are paired.

Several arms are trained in lockstep with ``jax.vmap`` over their parameters
and their precisions ``[P_w, P_a, P_kv]`` (the data batch is shared), and the
steps run in compiled chunks (``lax.scan``) whose schedule position is a traced
argument: one compilation per model shape serves every precision and budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax

from theorylab.core.train import check_finite

from .model import ModelShape, forward, init_params, token_losses


@dataclass(frozen=True)
class TrainSpec:
    """Optimisation hyper-parameters.

    Attributes
    ----------
    lr : float
        Peak learning rate.
    warmup_frac : float
        Fraction of the steps spent in linear warm-up.
    final_frac : float
        Learning rate at the end, as a fraction of the peak (0.1: "to 10 %").
    weight_decay : float
        Decoupled weight decay of the matrices (not of norms or embeddings).
    batch : int
        Sequences per step.
    chunk : int
        Steps per compiled chunk.
    """

    lr: float = 3e-3
    warmup_frac: float = 0.05
    final_frac: float = 0.1
    weight_decay: float = 0.1
    batch: int = 16
    chunk: int = 25


def lr_at(step, total, spec: TrainSpec):
    """Learning rate at ``step`` (0-based) of a ``total``-step schedule."""
    step = jnp.asarray(step, jnp.float32)
    total = jnp.asarray(total, jnp.float32)
    warm = jnp.maximum(jnp.round(spec.warmup_frac * total), 1.0)
    up = (step + 1.0) / warm
    prog = jnp.clip((step - warm) / jnp.maximum(total - warm, 1.0), 0.0, 1.0)
    down = spec.final_frac + (1 - spec.final_frac) * 0.5 * (1 + jnp.cos(jnp.pi * prog))
    return spec.lr * jnp.where(step < warm, up, down)


def _decay_mask(params):
    def is_matrix(path, x):
        name = str(path[-1].key) if hasattr(path[-1], "key") else ""
        return x.ndim >= 2 and name not in ("embed",)

    return jax.tree_util.tree_map_with_path(is_matrix, params)


def _optimizer(spec: TrainSpec):
    return optax.chain(
        optax.clip_by_global_norm(1.0),
        optax.scale_by_adam(b1=0.9, b2=0.95, eps=1e-8),
        optax.add_decayed_weights(spec.weight_decay, _decay_mask),
    )


@partial(jax.jit, static_argnames=("shape", "spec", "gran"))
def _train_chunk(params, opt_state, data, start, total, bits, shape, spec, gran):
    """``data.shape[0]`` steps for a batch of arms (vmapped over params, bits)."""
    opt = _optimizer(spec)
    kw = dict(zip(("w_gran", "a_gran", "kv_gran"), gran, strict=True))

    def arm_step(p, s, x, b, lr):
        def loss_fn(p):
            return jnp.mean(token_losses(p, x, b, shape, **kw))

        loss, g = jax.value_and_grad(loss_fn)(p)
        u, s = opt.update(g, s, p)
        p = jax.tree_util.tree_map(lambda a, du: a - lr * du, p, u)
        return p, s, loss

    def step(carry, inp):
        p, s = carry
        x, i = inp
        lr = lr_at(start + i, total, spec)
        p, s, loss = jax.vmap(arm_step, in_axes=(0, 0, None, 0, None))(p, s, x, bits, lr)
        return (p, s), loss

    n = data.shape[0]
    (params, opt_state), losses = jax.lax.scan(
        step, (params, opt_state), (data, jnp.arange(n, dtype=jnp.float32))
    )
    return params, opt_state, losses


def train_arms(
    key,
    shape: ModelShape,
    bits: np.ndarray,
    data: np.ndarray,
    spec: TrainSpec,
    gran: tuple[str, str, str] = ("channel", "token", "token"),
) -> tuple[dict, np.ndarray]:
    """Train ``len(bits)`` precision arms from the same initialisation on the same data.

    Parameters
    ----------
    key : jax PRNG key
        Initialisation key (shared by the arms).
    shape : ModelShape
    bits : array_like, shape (A, 3)
        [P_w, P_a, P_kv] per arm (>= 16: high precision).
    data : numpy.ndarray, shape (S, batch, T + 1) int32
        The token batches of the S steps (S is the schedule length).
    spec : TrainSpec
    gran : (w_gran, a_gran, kv_gran)

    Returns
    -------
    params : dict
        Stacked parameters, leading axis A.
    losses : numpy.ndarray, shape (A, S)
        Training loss per step.

    Raises
    ------
    DivergenceError
        If a training loss becomes non-finite.
    """
    bits = jnp.asarray(np.atleast_2d(bits), jnp.float32)
    n_arms = bits.shape[0]
    p0 = init_params(key, shape)
    params = jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x, (n_arms, *x.shape)), p0)
    opt_state = jax.vmap(_optimizer(spec).init)(params)
    S = data.shape[0]
    losses = []
    for start in range(0, S, spec.chunk):
        chunk = jnp.asarray(data[start : start + spec.chunk])
        params, opt_state, l_c = _train_chunk(
            params, opt_state, chunk, float(start), float(S), bits, shape, spec, tuple(gran)
        )
        losses.append(np.asarray(l_c).T)
    losses = np.concatenate(losses, axis=1)
    check_finite(losses, f"training of {shape}")
    return params, losses


@partial(jax.jit, static_argnames=("shape", "gran"))
def _eval_batch(params, tokens, bits, shape, gran):
    kw = dict(zip(("w_gran", "a_gran", "kv_gran"), gran, strict=True))
    return token_losses(params, tokens, bits, shape, **kw)


def eval_losses(
    params: dict,
    tokens: np.ndarray,
    bits,
    shape: ModelShape,
    gran: tuple[str, str, str] = ("channel", "token", "token"),
    batch: int = 64,
    skip: int = 0,
) -> np.ndarray:
    """Per-token held-out losses of one model (not stacked), flattened.

    ``skip`` drops the first predictions of every sequence (targets whose
    context is incomplete).
    """
    out = []
    b = jnp.asarray(bits, jnp.float32)
    for i in range(0, tokens.shape[0], batch):
        out.append(
            np.asarray(_eval_batch(params, jnp.asarray(tokens[i : i + batch]), b, shape, gran))
        )
    return np.concatenate(out, axis=0)[:, skip:].ravel()


@partial(jax.jit, static_argnames=("shape", "gran"))
def _taps_batch(params, tokens, bits, shape, gran):
    kw = dict(zip(("w_gran", "a_gran", "kv_gran"), gran, strict=True))
    _, taps = forward(params, tokens, bits, shape, taps=True, **kw)
    return taps


def activation_taps(params, tokens, bits, shape, gran=("channel", "token", "token")) -> dict:
    """The inputs of every block linear map, and the keys and values, of one batch.

    Parameters
    ----------
    params : dict
        One model (not stacked).
    tokens : array_like, shape (B, T) int
    bits : array_like, shape (3,)
        [P_w, P_a, P_kv].
    shape : ModelShape
    gran : (w_gran, a_gran, kv_gran)

    Returns
    -------
    dict of str to jax.Array
        ``"{layer}.{attn_in|attn_out|mlp_in|mlp_mid}"`` of shape (B, T, in) and
        ``"{layer}.{k|v}"`` of shape (B, T, heads, head_dim), as quantized in
        the forward pass.
    """
    return _taps_batch(params, jnp.asarray(tokens), jnp.asarray(bits, jnp.float32), shape, gran)


def hessians(params, tokens, bits, shape, gran=("channel", "token", "token"), batch=64):
    """GPTQ Hessians H = 2 X^T X of every block linear input, float64.

    Returns a dict ``"{layer}.{tap}" -> (in, in)`` over all calibration tokens
    (the inputs as the deployed model sees them: activations quantized at
    P_a when the model was trained so).
    """
    H: dict[str, np.ndarray] = {}
    b = jnp.asarray(bits, jnp.float32)
    for i in range(0, tokens.shape[0], batch):
        taps = _taps_batch(params, jnp.asarray(tokens[i : i + batch]), b, shape, gran)
        for name, x in taps.items():
            if name.endswith((".k", ".v")):
                continue
            X = np.asarray(x, dtype=np.float64).reshape(-1, x.shape[-1])
            H[name] = H.get(name, 0.0) + 2.0 * X.T @ X
    return H


def unstack(params: dict, i: int) -> dict:
    """Arm ``i`` of stacked parameters."""
    return jax.tree_util.tree_map(lambda x: x[i], params)
