"""The study contract: :class:`Study` and :class:`Paper`.

A study is one paper's theory paired with the simulation it predicts::

    STUDY = Study(
        id="rf_ensembles",
        title="...",
        paper=Paper(title="...", arxiv="2412.05418"),
        config=Config,                 # frozen StudyConfig subclass
        presets={"quick": Config(...), "full": Config(...)},
        theory=theory_table,           # (cfg) -> pd.DataFrame
        simulate=simulate_table,       # (cfg, seed) -> pd.DataFrame, one seed
        checks=checks,                 # (cfg, theory_df, sims_df) -> list[Check]
        figures=figures,               # (cfg, theory_df, sims_df) -> dict[str, Figure]
        seeds={"quick": 8, "full": 20},
    )
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .config import StudyConfig
from .errors import ConfigError
from .results import Check


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
    """One study: a paper's theory, its simulation, checks and figures.

    Attributes
    ----------
    id : str
        Registry key (the folder name under ``theorylab/studies``).
    title : str
        One-line description.
    paper : Paper
    config : type[StudyConfig]
        The frozen config dataclass.
    presets : mapping of str to StudyConfig
        Must contain ``"quick"`` (< 60 s on 2 CPU cores) and ``"full"``.
    theory : callable
        ``theory(cfg) -> DataFrame``, the tidy theory table.
    simulate : callable
        ``simulate(cfg, seed) -> DataFrame`` for one seed; the runner fans
        seeds out and adds a ``seed`` column.
    checks : callable
        ``checks(cfg, theory_df, sims_df) -> list[Check]``.
    figures : callable
        ``figures(cfg, theory_df, sims_df) -> dict[str, Figure]``.
    seeds : mapping of str to int
        Default number of seeds per preset (seeds are 0, 1, ..., n-1).
    derived : callable, optional
        ``derived(cfg, theory_df, sims_df) -> dict[str, DataFrame]``: tables
        computed from both (e.g. laws fitted to the simulations).  The runner
        writes each as ``<name>.parquet`` next to the theory and simulation
        tables and lists it under ``tables`` in ``summary.json``.
    """

    id: str
    title: str
    paper: Paper
    config: type[StudyConfig]
    presets: Mapping[str, StudyConfig]
    theory: Callable[[Any], pd.DataFrame]
    simulate: Callable[[Any, int], pd.DataFrame]
    checks: Callable[[Any, pd.DataFrame, pd.DataFrame], list[Check]]
    figures: Callable[[Any, pd.DataFrame, pd.DataFrame], dict[str, Any]]
    seeds: Mapping[str, int] = field(default_factory=lambda: {"quick": 4, "full": 10})
    derived: Callable[[Any, pd.DataFrame, pd.DataFrame], Mapping[str, pd.DataFrame]] | None = None

    def __post_init__(self) -> None:
        for name in ("quick", "full"):
            if name not in self.presets:
                raise TypeError(f"study {self.id!r} lacks the {name!r} preset")
        for name, cfg in self.presets.items():
            if not isinstance(cfg, self.config):
                raise TypeError(f"preset {name!r} of {self.id!r} is not a {self.config.__name__}")

    def preset(self, name: str) -> StudyConfig:
        """The named preset (validated).

        Raises
        ------
        ConfigError
            If there is no such preset.
        """
        if name not in self.presets:
            raise ConfigError("preset", name, "must be one of " + ", ".join(self.presets))
        return self.presets[name].validate()

    def default_seeds(self, preset: str) -> int:
        """Default seed count for a preset."""
        return int(self.seeds.get(preset, self.seeds.get("quick", 1)))
