import numpy as np
import pytest

from theorylab.core.errors import DivergenceError
from theorylab.core.train import check_finite, key_for


def test_key_for_is_deterministic_and_path_dependent():
    import jax

    a = jax.random.normal(key_for(3, 1, 2), (4,))
    b = jax.random.normal(key_for(3, 1, 2), (4,))
    c = jax.random.normal(key_for(3, 2, 1), (4,))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_check_finite_reports_the_first_bad_step():
    curves = np.ones((3, 10))
    curves[1, 6] = np.inf
    curves[2, 8] = np.nan
    with pytest.raises(DivergenceError) as info:
        check_finite(curves, "toy SGD")
    assert info.value.step == 6 and "toy SGD: diverged at step 6" in str(info.value)
    assert check_finite(np.ones(5), "ok").shape == (5,)
