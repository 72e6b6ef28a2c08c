"""Frozen-dataclass configurations with documented, validated fields.

A study's ``Config`` subclasses :class:`StudyConfig` and declares each field
with :func:`param`, which records its meaning, unit and allowed range::

    @dataclass(frozen=True)
    class Config(StudyConfig):
        P: int = param(200, "training samples", ge=1)
        ridges: tuple[float, ...] = param((1e-3, 1e-1), "per-sample ridge", gt=0)

``validate()`` checks every field's type and range (and a study's cross-field
rules in ``check()``) and raises :class:`ConfigError` naming the field, the
value and what is allowed.  ``with_overrides({"P": "500"})`` coerces strings
(as given on the command line with ``--set P=500``) to each field's type.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from .errors import ConfigError

MAX_INT = 2**53  # integers beyond this are not exact as floats: no size needs them
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def param(
    default: Any,
    doc: str,
    *,
    unit: str = "",
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    choices: Iterable[Any] | None = None,
    allow_inf: bool = False,
    min_len: int = 1,
) -> Any:
    """Declare a config field with its documentation and allowed range.

    Parameters
    ----------
    default : object
        Default value (use tuples, never lists, for sequences).
    doc : str
        One-line meaning of the field, shown by ``theorylab show``.
    unit : str, optional
        Unit or convention (e.g. ``"per-sample"``), shown with the doc.
    ge, gt, le, lt : float, optional
        Inclusive / exclusive bounds, applied to every entry of a tuple field.
    choices : iterable, optional
        The allowed values (for string fields).
    allow_inf : bool
        Whether ``inf`` is an allowed float value.
    min_len : int
        Minimum length of a tuple field.

    Returns
    -------
    dataclasses.Field
    """
    meta = dict(
        doc=doc,
        unit=unit,
        ge=ge,
        gt=gt,
        le=le,
        lt=lt,
        choices=tuple(choices) if choices is not None else None,
        allow_inf=allow_inf,
        min_len=min_len,
    )
    return dataclasses.field(default=default, metadata=meta)


@dataclass(frozen=True)
class FieldInfo:
    """Description of one config field (what ``theorylab show`` prints)."""

    name: str
    type: str
    default: Any
    doc: str
    unit: str
    allowed: str


def _fmt(v: float) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _allowed(meta: Mapping[str, Any]) -> str:
    parts = []
    if meta.get("choices"):
        parts.append("one of " + ", ".join(map(str, meta["choices"])))
    for key, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
        if meta.get(key) is not None:
            parts.append(f"{sym} {_fmt(meta[key])}")
    return " and ".join(parts) if parts else "any"


def _base_type(tp: Any) -> tuple[type, bool]:
    """Return (element type, is_tuple) for a supported annotation."""
    origin = typing.get_origin(tp)
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return args[0], True
        raise TypeError(f"unsupported tuple annotation {tp!r}; use tuple[T, ...]")
    if origin in (typing.Union, types.UnionType):
        raise TypeError(f"unsupported annotation {tp!r}; config fields may not be optional")
    if tp in (int, float, bool, str):
        return tp, False
    raise TypeError(f"unsupported config annotation {tp!r}")


def _type_name(tp: Any) -> str:
    elem, is_tuple = _base_type(tp)
    return f"tuple[{elem.__name__}, ...]" if is_tuple else elem.__name__


def _coerce_scalar(name: str, elem: type, value: Any, meta: Mapping[str, Any]) -> Any:
    """Coerce one scalar (string from the CLI or Python value) to ``elem``."""
    if isinstance(value, str):
        text = value.strip()
        if elem is str:
            return text
        if elem is bool:
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
            raise ConfigError(name, value, "expected a boolean (true/false)")
        if elem is int:
            try:
                v = int(text)
            except ValueError:
                try:
                    f = float(text)
                except ValueError:
                    raise ConfigError(name, value, "expected an integer") from None
                if not f.is_integer():
                    raise ConfigError(name, value, "expected an integer") from None
                v = int(f)
            if not -MAX_INT <= v <= MAX_INT:
                raise ConfigError(name, value, "expected an integer of magnitude <= 2^53")
            return v
        try:
            return float(text)
        except ValueError:
            raise ConfigError(name, value, "expected a number") from None
    return _check_type(name, elem, value)


def _check_type(name: str, elem: type, value: Any) -> Any:
    if elem is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(name, value, "expected a boolean")
    if elem is int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(name, value, "expected an integer")
        if isinstance(value, float) and not value.is_integer():
            raise ConfigError(name, value, "expected an integer")
        if not -MAX_INT <= value <= MAX_INT:
            raise ConfigError(name, value, "expected an integer of magnitude <= 2^53")
        return int(value)
    if elem is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(name, value, "expected a number")
        return float(value)
    if not isinstance(value, str):
        raise ConfigError(name, value, "expected a string")
    return value


def _check_range(name: str, value: Any, meta: Mapping[str, Any], shown: Any) -> None:
    allowed = _allowed(meta)
    if meta.get("choices") is not None and value not in meta["choices"]:
        raise ConfigError(name, shown, f"allowed: {allowed}")
    if isinstance(value, bool) or isinstance(value, str):
        return
    if isinstance(value, float):
        if math.isnan(value):
            raise ConfigError(name, shown, f"must be a number (allowed: {allowed})")
        if math.isinf(value) and not meta.get("allow_inf"):
            raise ConfigError(name, shown, f"must be finite (allowed: {allowed})")
    bad = (
        (meta.get("ge") is not None and not value >= meta["ge"])
        or (meta.get("gt") is not None and not value > meta["gt"])
        or (meta.get("le") is not None and not value <= meta["le"])
        or (meta.get("lt") is not None and not value < meta["lt"])
    )
    if bad:
        raise ConfigError(name, shown, f"out of range (allowed: {allowed})")


@dataclass(frozen=True)
class StudyConfig:
    """Base class of every study's frozen configuration dataclass."""

    _hints_cache: ClassVar[dict[type, dict[str, Any]]] = {}

    # -- introspection -------------------------------------------------
    @classmethod
    def _hints(cls) -> dict[str, Any]:
        if cls not in StudyConfig._hints_cache:
            StudyConfig._hints_cache[cls] = typing.get_type_hints(cls)
        return StudyConfig._hints_cache[cls]

    @classmethod
    def field_names(cls) -> list[str]:
        """Names of the config fields, in declaration order."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def fields_info(cls) -> list[FieldInfo]:
        """One :class:`FieldInfo` per field (name, type, default, doc, allowed range)."""
        hints = cls._hints()
        out = []
        for f in dataclasses.fields(cls):
            out.append(
                FieldInfo(
                    name=f.name,
                    type=_type_name(hints[f.name]),
                    default=f.default,
                    doc=f.metadata.get("doc", ""),
                    unit=f.metadata.get("unit", ""),
                    allowed=_allowed(f.metadata),
                )
            )
        return out

    # -- validation ----------------------------------------------------
    def validate(self) -> StudyConfig:
        """Check every field's type and range, then the study's cross-field rules.

        Returns
        -------
        StudyConfig
            ``self``, for chaining.

        Raises
        ------
        ConfigError
            Naming the first bad field, its value and the allowed range.
        """
        hints = self._hints()
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            elem, is_tuple = _base_type(hints[f.name])
            if is_tuple:
                if not isinstance(value, tuple):
                    raise ConfigError(f.name, value, f"expected a tuple of {elem.__name__}")
                if len(value) < f.metadata.get("min_len", 1):
                    raise ConfigError(
                        f.name, value, f"needs at least {f.metadata.get('min_len', 1)} value(s)"
                    )
                for v in value:
                    _check_type(f.name, elem, v)
                    _check_range(f.name, v, f.metadata, value)
            else:
                _check_type(f.name, elem, value)
                if elem is int and isinstance(value, float):
                    raise ConfigError(f.name, value, "expected an integer")
                _check_range(f.name, value, f.metadata, value)
        self.check()
        return self

    def check(self) -> None:
        """Cross-field rules; studies override this and raise :class:`ConfigError`."""

    # -- construction --------------------------------------------------
    def with_overrides(self, overrides: Mapping[str, Any]) -> StudyConfig:
        """Return a copy with fields replaced, coercing strings to each field's type.

        Parameters
        ----------
        overrides : mapping of str to object
            Field name to new value.  Strings are parsed (``"1,4,16"`` for a
            tuple field, ``"true"`` for a bool); other values are type-checked.

        Returns
        -------
        StudyConfig
            A new, *validated* config.

        Raises
        ------
        ConfigError
            For an unknown field, a value of the wrong type or out of range.
        """
        hints = self._hints()
        known = self.field_names()
        changes: dict[str, Any] = {}
        for name, raw in overrides.items():
            if name not in known:
                raise ConfigError(name, raw, "unknown field; known fields: " + ", ".join(known))
            changes[name] = coerce_field(name, hints[name], raw)
        new = dataclasses.replace(self, **changes)
        new.validate()
        return new

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON dictionary of the fields (tuples become lists)."""
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StudyConfig:
        """Inverse of :meth:`to_dict` (validates)."""
        defaults = cls()
        return defaults.with_overrides(
            {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        )

    def fingerprint(self, seeds: Iterable[int] = ()) -> str:
        """Stable short hash of the resolved config and seed list."""
        payload = {"class": type(self).__qualname__, "config": self.to_dict(), "seeds": list(seeds)}
        blob = json.dumps(payload, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def coerce_field(name: str, annotation: Any, raw: Any) -> Any:
    """Coerce ``raw`` (a CLI string or Python value) to the field's annotated type."""
    elem, is_tuple = _base_type(annotation)
    if is_tuple:
        if isinstance(raw, str):
            items = [s for s in raw.replace(";", ",").split(",") if s.strip()]
            if not items:
                raise ConfigError(name, raw, f"expected a comma-separated list of {elem.__name__}")
        elif isinstance(raw, list | tuple):
            items = list(raw)
        else:
            items = [raw]
        return tuple(_coerce_scalar(name, elem, v, {}) for v in items)
    if isinstance(raw, list | tuple):
        raise ConfigError(name, raw, f"expected a single {elem.__name__}")
    return _coerce_scalar(name, elem, raw, {})


def parse_assignments(items: Iterable[str], option: str = "--set") -> dict[str, str]:
    """Parse ``["field=value", ...]`` into a dict; raise :class:`ConfigError` on bad syntax."""
    out: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(option, item, "expected field=value")
        key, value = item.split("=", 1)
        key = key.strip()
        if not key:
            raise ConfigError(option, item, "expected field=value")
        out[key] = value
    return out


def _prefixed(exc: ConfigError, prefix: str, own: set[str]) -> ConfigError:
    """``exc`` naming ``prefix.FIELD`` when it names one of the experiment's own fields."""
    if exc.field in own:
        return ConfigError(f"{prefix}.{exc.field}", exc.value, exc.allowed)
    return exc


@dataclass(frozen=True)
class ComposedConfig:
    """A study's configuration: the shared fields plus every experiment's parameters.

    Field names are flat: shared fields by their name (``alpha``), an
    experiment's own fields as ``EXPERIMENT.FIELD`` (``scaling.Ms``).  It
    offers the same interface as :class:`StudyConfig` (``validate``,
    ``with_overrides``, ``to_dict``, ``fingerprint``, ``fields_info``), so
    runs, sweeps and the command line treat it like one config.

    Attributes
    ----------
    shared : StudyConfig
        The study-level fields.
    experiments : tuple of (str, StudyConfig)
        Each experiment's parameters, in the study's order, with the shared
        values injected into the fields they inherit.
    """

    shared: StudyConfig
    experiments: tuple[tuple[str, StudyConfig], ...]

    # -- access --------------------------------------------------------
    def __getitem__(self, experiment: str) -> StudyConfig:
        for name, p in self.experiments:
            if name == experiment:
                return p
        raise KeyError(experiment)

    @property
    def names(self) -> list[str]:
        """Experiment names, in order."""
        return [n for n, _ in self.experiments]

    def _shared_names(self) -> set[str]:
        return set(self.shared.field_names())

    def _own(self, p: StudyConfig) -> list[str]:
        shared = self._shared_names()
        return [
            f for f in p.field_names() if f not in shared or not isinstance(p, type(self.shared))
        ]

    def field_names(self) -> list[str]:
        """Every field: shared ones bare, experiment ones as ``EXPERIMENT.FIELD``."""
        out = list(self.shared.field_names())
        for name, p in self.experiments:
            out += [f"{name}.{f}" for f in self._own(p)]
        return out

    def _locate(self, key: str) -> tuple[StudyConfig, str, str | None]:
        """(config object, field, experiment or None) for a flat field name."""
        if "." in key:
            exp, _, fld = key.partition(".")
            if exp not in self.names:
                raise ConfigError(
                    key, "", "unknown experiment; experiments: " + ", ".join(self.names)
                )
            p = self[exp]
            own = self._own(p)
            if fld not in own:
                if fld in self._shared_names():
                    raise ConfigError(key, "", f"{fld} is a study-level field: set it as {fld}=...")
                raise ConfigError(
                    key, "", f"unknown field; fields of {exp}: " + (", ".join(own) or "none")
                )
            return p, fld, exp
        if key in self._shared_names():
            return self.shared, key, None
        hits = [f"{n}.{key}" for n, p in self.experiments if key in self._own(p)]
        hint = f" (did you mean {' or '.join(hits)}?)" if hits else ""
        raise ConfigError(key, "", "unknown field" + hint + "; see `theorylab show STUDY`")

    def get(self, key: str) -> Any:
        """The value of a flat field name."""
        obj, fld, _ = self._locate(key)
        return getattr(obj, fld)

    def field_meta(self, key: str) -> Mapping[str, Any]:
        """The declaration of a flat field: doc, unit, bounds, choices (as given to ``param``)."""
        obj, fld, _ = self._locate(key)
        return next(f.metadata for f in dataclasses.fields(obj) if f.name == fld)

    def annotation(self, key: str) -> Any:
        """The type annotation of a flat field name (for coercion)."""
        obj, fld, _ = self._locate(key)
        return obj._hints()[fld]

    def fields_info(self) -> list[FieldInfo]:
        """One :class:`FieldInfo` per flat field."""
        out = list(self.shared.fields_info())
        for name, p in self.experiments:
            own = set(self._own(p))
            out += [
                dataclasses.replace(f, name=f"{name}.{f.name}")
                for f in p.fields_info()
                if f.name in own
            ]
        return out

    # -- validation ----------------------------------------------------
    def _inject(self) -> ComposedConfig:
        """Copy the shared values into every experiment that inherits them."""
        vals = {f: getattr(self.shared, f) for f in self.shared.field_names()}
        exps = []
        for name, p in self.experiments:
            if isinstance(p, type(self.shared)) and vals:
                p = dataclasses.replace(p, **vals)
            exps.append((name, p))
        return ComposedConfig(self.shared, tuple(exps))

    def validate(self) -> ComposedConfig:
        """Validate the shared fields, then every experiment (errors name ``EXPERIMENT.FIELD``)."""
        self.shared.validate()
        for name, p in self.experiments:
            try:
                p.validate()
            except ConfigError as exc:
                raise _prefixed(exc, name, set(self._own(p))) from None
        return self

    def with_overrides(self, overrides: Mapping[str, Any]) -> ComposedConfig:
        """A validated copy with flat fields replaced (strings coerced as for ``--set``)."""
        shared: dict[str, Any] = {}
        per: dict[str, dict[str, Any]] = {}
        for key, raw in overrides.items():
            try:
                obj, fld, exp = self._locate(key)
            except ConfigError as exc:
                raise ConfigError(exc.field, raw, exc.allowed) from None
            try:
                value = coerce_field(fld, obj._hints()[fld], raw)
            except ConfigError as exc:
                raise ConfigError(key, exc.value, exc.allowed) from None
            (shared if exp is None else per.setdefault(exp, {}))[fld] = value
        new = ComposedConfig(
            dataclasses.replace(self.shared, **shared),
            tuple((n, dataclasses.replace(p, **per.get(n, {}))) for n, p in self.experiments),
        )._inject()
        return new.validate()

    # -- serialisation -------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Flat plain-JSON dictionary (tuples become lists)."""
        out = self.shared.to_dict()
        for name, p in self.experiments:
            d = p.to_dict()
            out.update({f"{name}.{f}": d[f] for f in self._own(p)})
        return out

    def fingerprint(self, seeds: Iterable[int] = (), experiment: str | None = None) -> str:
        """Stable short hash of the resolved config (or one experiment's part) and seeds."""
        if experiment is None:
            cfg = self.to_dict()
        else:
            p = self[experiment]
            cfg = {"shared": self.shared.to_dict(), experiment: p.to_dict()}
        payload = {"config": cfg, "seeds": list(seeds), "experiment": experiment}
        blob = json.dumps(payload, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]
