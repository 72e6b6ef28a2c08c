"""Shared pieces of simulations: PRNG keys, float64 arrays, divergence guards."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .errors import DivergenceError


def key_for(seed: int, *path: int):
    """Deterministic PRNG key for ``seed`` and a path of sub-experiment indices.

    ``key_for(seed, 2, K)`` folds 2 and then K into ``jax.random.key(seed)``, so
    every sub-experiment gets its own stream and the same seed always gives the
    same numbers, whatever else runs.
    """
    key = jax.random.key(seed)
    for p in path:
        key = jax.random.fold_in(key, p)
    return key


def f64(x):
    """``x`` as a float64 JAX array (call inside ``jax.enable_x64(True)``)."""
    return jnp.asarray(x, dtype=jnp.float64)


def check_finite(curves, what: str) -> np.ndarray:
    """Raise :class:`DivergenceError` at the first step where any run is not finite.

    Parameters
    ----------
    curves : array_like, shape (..., steps)
        Losses with time on the last axis.
    what : str
        What diverged, for the message.

    Returns
    -------
    numpy.ndarray
        ``curves`` unchanged.
    """
    curves = np.asarray(curves)
    bad = ~np.isfinite(curves)
    if bad.any():
        step = int(np.argmax(bad.reshape(-1, curves.shape[-1]).any(axis=0)))
        raise DivergenceError(what, step)
    return curves
