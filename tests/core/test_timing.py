import time

import pytest

from theorylab.core.timing import best_of


def test_best_of_calls_repeat_times_and_returns_the_minimum():
    delays = iter([0.03, 0.0, 0.02])
    calls = []

    def fn():
        calls.append(1)
        time.sleep(next(delays))

    t = best_of(fn, repeat=3)
    assert len(calls) == 3
    assert 0.0 <= t < 0.015


def test_best_of_rejects_zero_repeats():
    with pytest.raises(ValueError, match="repeat = 0"):
        best_of(lambda: None, repeat=0)
