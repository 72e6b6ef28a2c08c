import numpy as np
import pytest

from theorylab.core.errors import ConfigError, check_array, check_int, check_scalar


@pytest.mark.parametrize("bad", [np.nan, np.inf, "1.0", True, 1 + 2j, [1.0], None])
def test_check_scalar_rejects_non_real_scalars(bad):
    with pytest.raises(ConfigError) as info:
        check_scalar("x", bad)
    assert info.value.field == "x"


def test_check_scalar_condition_and_message():
    assert check_scalar("x", np.float32(2.5)) == 2.5
    with pytest.raises(ConfigError, match="must be > 0") as info:
        check_scalar("eta", -1.0, "must be > 0", lambda v: v > 0)
    assert info.value.field == "eta"


@pytest.mark.parametrize(("value", "ok"), [(3, True), (3.0, True), (2, False), (3.5, False)])
def test_check_int(value, ok):
    if ok:
        assert check_int("n", value, 3) == 3
    else:
        with pytest.raises(ConfigError, match="integer >= 3"):
            check_int("n", value, 3)


def test_check_array_rejects_complex():
    with pytest.raises(ConfigError, match="real"):
        check_array("W", np.eye(2) + 1j)
