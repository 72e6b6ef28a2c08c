"""Integer quantization: the fake quantizer of training and post-train RTN / GPTQ.

Spec sections 3.1-3.3 and 6.3.  Every quantizer here is *symmetric absmax*
integer quantization at ``bits`` bits (P): for a group of values sharing one
scale (one output channel of a weight, one token of an activation, one
sequence of a tensor),

    q_max = 2^(P-1) - 1,   s = max|x| / q_max,   Q(x) = s * clip(round(x / s), -q_max, q_max),

so a group takes at most 2 q_max + 1 = 2^P - 1 distinct values (<= 2^P).
``bits >= 16`` means "not quantized" (the paper's BF16 baseline; we train in
float32).

* :func:`fake_quant` -- JAX, differentiable with the straight-through
  estimator (the gradient passes through unchanged), ``bits`` may be a traced
  array so one compiled training step serves every precision.
* :func:`rtn` -- round-to-nearest post-train quantization of a weight matrix
  (NumPy, per output channel).
* :func:`gptq` -- GPTQ (Frantar et al. 2022): columns quantized one at a time,
  each column's error spread over the remaining ones with the inverse-Hessian
  Cholesky factor, in blocks (docs/precision_scaling.md, "Quantization").
* :func:`count_levels` -- distinct values per scale group (the study's
  "at most 2^P levels" check).

Weights are stored ``(in, out)`` (``y = x @ W``); "per output channel" means one
scale per column.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from theorylab.core.errors import ConfigError

#: bit widths at or above this are not quantized
HIGH_PRECISION_BITS = 16.0
_EPS = 1e-12

GRANULARITIES = ("channel", "token", "sequence", "tensor")


def q_max(bits):
    """Largest integer level 2^(P-1) - 1 of symmetric P-bit quantization."""
    return 2.0 ** (np.asarray(bits, dtype=float) - 1.0) - 1.0


def _check_bits(name: str, bits) -> None:
    b = np.asarray(bits, dtype=float)
    if np.any(~np.isfinite(b)) or np.any(b < 2):
        raise ConfigError(name, bits, "integer quantization needs bits >= 2 (q_max >= 1)")


def fake_quant(x, bits, axis=None):
    """Symmetric absmax fake quantization with a straight-through gradient.

    Parameters
    ----------
    x : jax.Array
        Values to quantize.
    bits : float or jax.Array (scalar)
        Precision P in bits (may be traced); ``bits >= 16`` returns ``x``
        unchanged.  Must be >= 2.
    axis : int, tuple of int or None
        Axes reduced to compute one scale: the scale group is everything
        along ``axis`` (``None``: the whole array shares one scale).

    Returns
    -------
    jax.Array
        Same shape and dtype as ``x``.  Forward: Q(x).  Backward:
        identity (straight-through estimator; with absmax nothing is clipped).
    """
    bits = jnp.asarray(bits, dtype=x.dtype)
    qm = 2.0 ** (bits - 1.0) - 1.0
    amax = jnp.max(jnp.abs(x), axis=axis, keepdims=True)
    s = jax.lax.stop_gradient(jnp.maximum(amax, _EPS) / qm)
    q = jnp.clip(jnp.round(x / s), -qm, qm) * s
    out = x + jax.lax.stop_gradient(q - x)
    return jnp.where(bits >= HIGH_PRECISION_BITS, x, out)


def fake_quant_act(x, bits, granularity: str, feature_dims: int = 1):
    """Fake-quantize an activation of one sequence, shape (T, *features).

    ``feature_dims`` trailing axes form the features of a token (1 for (T, d),
    2 for keys/values of shape (T, H, dh)).
    """
    if granularity == "token":
        axis = tuple(range(x.ndim - feature_dims, x.ndim))
    elif granularity in ("sequence", "tensor"):
        axis = None
    else:
        raise ConfigError("granularity", granularity, "one of token, sequence, tensor")
    return fake_quant(x, bits, axis=axis)


def fake_quant_weight(w, bits, granularity: str = "channel"):
    """Fake-quantize a weight (in, out): per output channel (default) or per tensor."""
    if granularity == "channel":
        return fake_quant(w, bits, axis=0)
    if granularity == "tensor":
        return fake_quant(w, bits, axis=None)
    raise ConfigError("granularity", granularity, "one of channel, tensor")


# ----------------------------------------------------------------------------
# post-train quantization (NumPy, float64)


def channel_scales(w: np.ndarray, bits: float) -> np.ndarray:
    """Per-output-channel absmax scales of ``w`` (in, out): shape (out,)."""
    return np.maximum(np.abs(w).max(axis=0), _EPS) / q_max(bits)


def _round_to_grid(w: np.ndarray, scale: np.ndarray, bits: float) -> np.ndarray:
    qm = q_max(bits)
    return np.clip(np.rint(w / scale), -qm, qm) * scale


def rtn(w, bits: float) -> np.ndarray:
    """Round-to-nearest weight quantization, one absmax scale per output channel.

    Parameters
    ----------
    w : array_like, shape (in, out)
    bits : float
        P_post >= 2.

    Returns
    -------
    numpy.ndarray, shape (in, out), float64
    """
    _check_bits("bits", bits)
    w = np.asarray(w, dtype=np.float64)
    return _round_to_grid(w, channel_scales(w, bits), bits)


def gptq(w, H, bits: float, *, damp: float = 0.01, block: int = 128) -> np.ndarray:
    """GPTQ weight quantization against the layer's input Hessian.

    Minimises tr((W - Q)^T H (W - Q)) greedily: input rows of ``w`` (the
    columns of the usual (out, in) layout) are quantized in order; the error of
    each is spread over the rows not yet quantized with the upper Cholesky
    factor U of H^-1 (H^-1 = U^T U), in blocks of ``block`` rows (lazy batch
    updates).  Scales are per output channel and fixed before the sweep.

    Parameters
    ----------
    w : array_like, shape (in, out)
        Weight, ``y = x @ w``.
    H : array_like, shape (in, in)
        2 X^T X over calibration inputs X (rows = tokens), symmetric PSD.
    bits : float
        P_post >= 2.
    damp : float
        Damping added to the diagonal, as a fraction of its mean.
    block : int
        Rows per lazy-update block.

    Returns
    -------
    numpy.ndarray, shape (in, out), float64
        Quantized weight, on the same per-channel grid as :func:`rtn`.
    """
    _check_bits("bits", bits)
    W = np.array(w, dtype=np.float64).T.copy()  # (out, in): GPTQ's layout
    H = np.array(H, dtype=np.float64)
    n_in = W.shape[1]
    if H.shape != (n_in, n_in):
        raise ConfigError("H", f"shape {H.shape}", f"must be ({n_in}, {n_in})")
    dead = np.diag(H) == 0
    H[dead, dead] = 1.0
    W[:, dead] = 0.0
    H = H + damp * np.mean(np.diag(H)) * np.eye(n_in)
    scale = channel_scales(W.T, bits)[:, None]  # (out, 1)
    qm = q_max(bits)
    Hinv = np.linalg.inv(H)
    U = np.linalg.cholesky(Hinv).T  # upper triangular, Hinv = U^T U
    Q = np.zeros_like(W)
    for i1 in range(0, n_in, block):
        i2 = min(i1 + block, n_in)
        W1 = W[:, i1:i2].copy()
        Err1 = np.zeros_like(W1)
        U1 = U[i1:i2, i1:i2]
        for i in range(i2 - i1):
            col = W1[:, i]
            q = np.clip(np.rint(col / scale[:, 0]), -qm, qm) * scale[:, 0]
            Q[:, i1 + i] = q
            err = (col - q) / U1[i, i]
            W1[:, i:] -= np.outer(err, U1[i, i:])
            Err1[:, i] = err
        W[:, i2:] -= Err1 @ U[i1:i2, i2:]
    return Q.T


def layer_objective(w, q, H) -> float:
    """GPTQ's layer objective tr((W - Q)^T H (W - Q)) for weights (in, out)."""
    d = np.asarray(w, dtype=np.float64) - np.asarray(q, dtype=np.float64)
    return float(np.einsum("io,ij,jo->", d, np.asarray(H, dtype=np.float64), d))


def count_levels(x, axis=None) -> int:
    """Largest number of distinct values in any scale group of ``x``.

    Parameters
    ----------
    x : array_like
    axis : int, tuple of int or None
        The axes of one group (as in :func:`fake_quant`); ``None``: one group.

    Returns
    -------
    int
    """
    x = np.asarray(x)
    if axis is None:
        return int(np.unique(x).size)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    axes = tuple(a % x.ndim for a in axes)
    keep = [a for a in range(x.ndim) if a not in axes]
    g = np.transpose(x, keep + list(axes)).reshape(int(np.prod([x.shape[a] for a in keep])), -1)
    return int(max(np.unique(row).size for row in g)) if g.size else 0
