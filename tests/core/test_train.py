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


def test_x64_wrapper_casts_floats_returns_numpy_and_guards_divergence():
    import jax
    import jax.numpy as jnp

    from theorylab.core.train import x64

    @x64(check="toy flow")
    @jax.jit
    def f(key, a, b):
        return jnp.stack([a * b, a / b]), jax.random.normal(key, (2,)).dtype == jnp.float64

    out, is64 = f(jax.random.key(0), 1.0, np.array([2.0, 0.5], dtype=np.float32))
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    assert bool(is64)  # x64 was on inside the call
    np.testing.assert_allclose(out, [[2.0, 0.5], [0.5, 2.0]])
    with pytest.raises(DivergenceError, match="toy flow: diverged at step 1"):
        f(jax.random.key(0), 1.0, np.array([1.0, 0.0]))
    plain = x64(jax.jit(lambda n, a: a * n))
    assert plain(3, 2.0) == 6.0
