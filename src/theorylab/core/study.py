"""The study contract: :class:`Study` and :class:`Paper`.

A study is a paper plus a tuple of experiments plus presets::

    STUDY = Study(
        id="rf_ensembles",
        title="...",
        paper=Paper(title="...", arxiv="2412.05418"),
        shared=Shared,                             # study-level fields (may be NoParams)
        experiments=(ridge_curve.EXPERIMENT, scaling.EXPERIMENT, ...),
        presets={"quick": {}, "full": {"scaling.Ms": (64, 128, 256, 512)}},
        seeds={"quick": 8, "full": 10},
    )

Each experiment (:class:`~theorylab.core.experiment.Experiment`) lives in its
own module and declares its parameters, theory, simulation, checks and figures.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from .config import ComposedConfig, StudyConfig
from .errors import ConfigError
from .experiment import Experiment, NoParams


@dataclass(frozen=True)
class Paper:
    """Bibliographic record of the paper a study implements."""

    title: str
    arxiv: str
    authors: str = ""
    venue: str = ""

    @property
    def url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv}"

    def to_dict(self) -> dict[str, str]:
        return {
            "title": self.title,
            "arxiv": self.arxiv,
            "authors": self.authors,
            "venue": self.venue,
            "url": self.url,
        }


@dataclass(frozen=True)
class Study:
    """One study: a paper plus a tuple of experiments plus presets.

    Attributes
    ----------
    id : str
        Registry key (the folder name under ``theorylab/studies``).
    title : str
        One-line description.
    paper : Paper
    experiments : tuple of Experiment
        The study's experiments, each in its own module (see
        :mod:`theorylab.core.experiment`); names are unique.
    shared : type[StudyConfig]
        The study-level parameters (e.g. the spectrum), addressed without a
        prefix; experiments whose parameter class derives from it read them.
    presets : mapping of str to mapping
        ``{"quick": {...}, "full": {...}}``: overrides of the defaults, with
        flat field names (``"scaling.Ms": (64, 128)``, ``"alpha": 1.2``).
        ``quick`` runs in <= 30 s on 2 CPU cores.
    seeds : mapping of str to int
        Default number of seeds per preset (seeds are 0, 1, ..., n-1).
    """

    id: str
    title: str
    paper: Paper
    experiments: tuple[Experiment, ...]
    shared: type[StudyConfig] = NoParams
    presets: Mapping[str, Mapping[str, Any]] = field(
        default_factory=lambda: {"quick": {}, "full": {}}
    )
    seeds: Mapping[str, int] = field(default_factory=lambda: {"quick": 4, "full": 10})

    def __post_init__(self) -> None:
        for name in ("quick", "full"):
            if name not in self.presets:
                raise TypeError(f"study {self.id!r} lacks the {name!r} preset")
        names = [e.name for e in self.experiments]
        if not names or len(set(names)) != len(names):
            raise TypeError(f"study {self.id!r}: experiment names must be unique: {names}")
        checks = [c for e in self.experiments for c in e.check_names]
        if len(set(checks)) != len(checks):
            dup = sorted({c for c in checks if checks.count(c) > 1})
            raise TypeError(f"study {self.id!r}: check names declared twice: {dup}")

    def __reduce__(self):
        # Travel to worker processes by reference to the module that defines it (checks
        # may hold lambdas, which do not pickle); a Study built at run time (e.g. with
        # dataclasses.replace) travels by value.
        for name, module in list(sys.modules.items()):
            if getattr(module, "STUDY", None) is self:
                return (_study_of_module, (name,))
        return (type(self), tuple(getattr(self, f.name) for f in fields(self)))

    # -- structure -----------------------------------------------------
    def experiment(self, name: str) -> Experiment:
        """The named experiment.

        Raises
        ------
        ConfigError
            If there is no such experiment.
        """
        for e in self.experiments:
            if e.name == name:
                return e
        raise ConfigError(
            "only", name, "unknown experiment; experiments: " + ", ".join(self.experiment_names)
        )

    @property
    def experiment_names(self) -> list[str]:
        return [e.name for e in self.experiments]

    def select(self, only: Sequence[str] | str | None = None) -> list[Experiment]:
        """The experiments named by ``only`` (all when None), in study order."""
        if only is None:
            return list(self.experiments)
        if isinstance(only, str):
            only = [s.strip() for s in only.split(",") if s.strip()]
        if not only:
            raise ConfigError("only", "", "needs at least one experiment name")
        wanted = {self.experiment(n).name for n in only}
        return [e for e in self.experiments if e.name in wanted]

    def check_names(self, only: Sequence[str] | str | None = None) -> list[str]:
        """The declared check names (of the experiments in ``only``), in order."""
        return [c for e in self.select(only) for c in e.check_names]

    # -- configuration -------------------------------------------------
    def default_config(self) -> ComposedConfig:
        """Every field at its declared default (not validated)."""
        shared = self.shared()
        return ComposedConfig(
            shared, tuple((e.name, e.params()) for e in self.experiments)
        )._inject()

    def preset(self, name: str) -> ComposedConfig:
        """The named preset, validated.

        Raises
        ------
        ConfigError
            If there is no such preset, or the preset breaks a rule.
        """
        if name not in self.presets:
            raise ConfigError("preset", name, "must be one of " + ", ".join(self.presets))
        return self.default_config().with_overrides(self.presets[name])

    def default_seeds(self, preset: str) -> int:
        """Default seed count for a preset."""
        return int(self.seeds.get(preset, self.seeds.get("quick", 1)))


def _study_of_module(module: str) -> Study:
    """The ``STUDY`` of an importable module (how a Study is unpickled in a worker)."""
    return importlib.import_module(module).STUDY
