from dataclasses import dataclass

import pytest

from theorylab.core.config import StudyConfig, param, parse_assignments
from theorylab.core.errors import ConfigError


@dataclass(frozen=True)
class Cfg(StudyConfig):
    n: int = param(10, "count", ge=1, le=100)
    x: float = param(0.5, "fraction", gt=0.0, lt=1.0)
    xs: tuple[float, ...] = param((1.0, 2.0), "values", gt=0.0)
    ks: tuple[int, ...] = param((1, 2), "sizes", ge=1)
    mode: str = param("a", "mode", choices=("a", "b"))
    flag: bool = param(False, "switch")
    big: float = param(1.0, "may be infinite", gt=0.0, allow_inf=True)

    def check(self):
        if self.n < len(self.ks):
            raise ConfigError("n", self.n, "must be >= len(ks)")


def test_defaults_validate():
    assert Cfg().validate() == Cfg()


def test_overrides_coerce_strings_to_field_types():
    c = Cfg().with_overrides(
        {"n": "42", "x": "0.25", "xs": "3,4.5", "ks": "1,2,8", "mode": "b", "flag": "true"}
    )
    assert (c.n, c.x, c.xs, c.ks, c.mode, c.flag) == (42, 0.25, (3.0, 4.5), (1, 2, 8), "b", True)
    assert isinstance(c.xs[0], float) and isinstance(c.ks[0], int)
    assert Cfg().with_overrides({"n": "1e1"}).n == 10
    assert Cfg().with_overrides({"big": "inf"}).big == float("inf")


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("nope", "1", "unknown field"),
        ("n", "abc", "expected an integer"),
        ("n", "2.5", "expected an integer"),
        ("n", "0", "out of range (allowed: >= 1 and <= 100)"),
        ("x", "1.0", "out of range"),
        ("x", "nan", "must be a number"),
        ("x", "inf", "must be finite"),
        ("xs", "1,-2", "out of range (allowed: > 0)"),
        ("ks", "1,x", "expected an integer"),
        ("mode", "c", "one of a, b"),
        ("flag", "maybe", "expected a boolean"),
    ],
)
def test_bad_values_name_the_field(field, value, fragment):
    with pytest.raises(ConfigError) as info:
        Cfg().with_overrides({field: value})
    msg = str(info.value)
    assert msg.startswith(f"{field}=")
    assert fragment in msg
    assert "\n" not in msg
    assert info.value.field == field


def test_cross_field_rule():
    with pytest.raises(ConfigError, match="must be >= len"):
        Cfg().with_overrides({"n": "1", "ks": "1,2,3"})


def test_validate_catches_wrong_python_types():
    with pytest.raises(ConfigError, match="expected an integer"):
        Cfg(n=2.5).validate()
    with pytest.raises(ConfigError, match="expected a tuple"):
        Cfg(xs=[1.0]).validate()
    with pytest.raises(ConfigError, match="expected a boolean"):
        Cfg(flag=1).validate()


def test_fields_info_documents_every_field():
    info = {f.name: f for f in Cfg.fields_info()}
    assert set(info) == set(Cfg.field_names())
    assert info["n"].allowed == ">= 1 and <= 100"
    assert info["xs"].type == "tuple[float, ...]"
    assert info["mode"].allowed == "one of a, b"


def test_round_trip_and_fingerprint():
    c = Cfg().with_overrides({"ks": "1,4"})
    assert Cfg.from_dict(c.to_dict()) == c
    assert c.fingerprint([0, 1]) == Cfg.from_dict(c.to_dict()).fingerprint([0, 1])
    assert c.fingerprint([0, 1]) != c.fingerprint([0, 2])
    assert c.fingerprint() != Cfg().fingerprint()


def test_parse_assignments():
    assert parse_assignments(["a=1", "b=x=y"]) == {"a": "1", "b": "x=y"}
    with pytest.raises(ConfigError, match="field=value"):
        parse_assignments(["novalue"])
