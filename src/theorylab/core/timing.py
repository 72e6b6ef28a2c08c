"""Wall-clock timing for the benchmarks (``benchmarks/``)."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """Best (minimum) wall-clock time of ``repeat`` calls of ``fn``.

    Parameters
    ----------
    fn : callable
        Called with no arguments; its result is discarded.
    repeat : int, default 3
        Number of calls, >= 1.

    Returns
    -------
    float
        The smallest of the measured times, in seconds.
    """
    if repeat < 1:
        raise ValueError(f"repeat = {repeat}: must be >= 1")
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best
