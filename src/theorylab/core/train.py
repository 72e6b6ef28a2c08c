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
    if curves.ndim == 0:
        curves = curves.reshape(1, 1)
    bad = ~np.isfinite(curves)
    if bad.any():
        step = int(np.argmax(bad.reshape(-1, curves.shape[-1]).any(axis=0)))
        raise DivergenceError(what, step)
    return curves


def _cast(a):
    """float64 for floating inputs (Python floats, float arrays); everything else unchanged."""
    if isinstance(a, float):
        return f64(a)
    dtype = getattr(a, "dtype", None)
    if dtype is not None and jnp.issubdtype(dtype, jnp.floating):
        return f64(a)
    return a


def x64(fn=None, *, check: str | None = None):
    """Run a (jitted) JAX function in float64 and return NumPy arrays.

    The repeated wrapper of every simulation: enable x64, cast the floating
    positional arguments to float64 (keys, integers and keyword arguments,
    e.g. static sizes, pass through), call, convert the outputs to NumPy and,
    with ``check``, raise :class:`DivergenceError` if any floating output is
    not finite (time on the last axis, as :func:`check_finite`).

    Use as ``@x64(check="autoencoder SGD")`` on top of ``@jax.jit`` (or
    ``x64(jitted)(...)``).
    """

    def wrap(f):
        import functools

        @functools.wraps(f)
        def call(*args, **kwargs):
            with jax.enable_x64(True):
                out = f(*(_cast(a) for a in args), **kwargs)
                out = jax.tree.map(np.asarray, out)
            if check is not None:
                for leaf in jax.tree.leaves(out):
                    if np.issubdtype(leaf.dtype, np.floating):
                        check_finite(leaf.reshape(1, -1) if leaf.ndim == 0 else leaf, check)
            return out

        return call

    return wrap if fn is None else wrap(fn)
