"""Experiments, the unit of a study, and the seeds they are given.

An :class:`Experiment` is one named sub-experiment of a paper: its own frozen
parameter dataclass, a theory function, an optional simulation, its declared
checks (:mod:`theorylab.core.checks`) and its figures::

    @dataclass(frozen=True)
    class Params(Shared):                      # Shared: the study-level fields
        Ms: tuple[int, ...] = param((32, 64), "budgets M", ge=1)

    def theory(p: Params) -> pd.DataFrame: ...
    def simulate(p: Params, seed: Seed) -> pd.DataFrame: ...
    def figures(p: Params, theory, sims) -> dict[str, Figure]: ...

    EXPERIMENT = Experiment(
        name="scaling",
        doc="tuned error vs parameter budget M",
        params=Params,
        theory=theory,
        simulate=simulate,
        checks=(Agreement("V5_error", "error", on=("M",), rel=0.05),),
        figures=figures,
    )

An experiment's parameter class may derive from the study's shared parameter
class; the shared values are then injected into it, so ``p.alpha`` reads the
study-level field.  Shared fields are addressed without a prefix
(``--set alpha=1.2``), the experiment's own fields as ``EXPERIMENT.FIELD``
(``--set scaling.Ms=32,64``).

Randomness reaches an experiment only through :class:`Seed`, whose keys and
generators are derived from the study id, the experiment name, the seed and
a path of *names* (``seed.key("data")``, ``seed.rng("train", K)``), never
from integer arithmetic on seeds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .config import StudyConfig

_U32 = 2**32


@dataclass(frozen=True)
class NoParams(StudyConfig):
    """Parameters of a study or experiment that has none of its own."""


def _hash32(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def _word(part: Any) -> int:
    """A 32-bit word for one element of a key path (names hashed, small integers kept)."""
    if isinstance(part, bool | np.bool_):
        raise TypeError("a key path element may not be a bool")
    if isinstance(part, int | np.integer):
        v = int(part)
        return v if 0 <= v < _U32 else _hash32(f"int:{v}")
    if isinstance(part, float | np.floating):
        return _hash32(f"float:{float(part)!r}")
    if isinstance(part, str):
        return _hash32(f"str:{part}")
    raise TypeError(f"a key path element must be a str, int or float, not {type(part).__name__}")


@dataclass(frozen=True)
class Seed:
    """The randomness of one (study, experiment, seed).

    Every stream is a pure function of ``(study, experiment, seed, *path)``:
    the same seed gives the same numbers whatever else runs, and two
    experiments never share a stream.  Path elements are names (strings) or
    the values of the quantity a stream belongs to (``seed.key("proj", K)``).

    Attributes
    ----------
    study : str
    experiment : str
    seed : int
        The user-facing seed (0, 1, ...), recorded in the ``seed`` column.
    """

    study: str
    experiment: str
    seed: int

    def words(self, *path: Any) -> list[int]:
        """32-bit words identifying the stream at ``path``."""
        root = _hash32(f"{self.study}/{self.experiment}")
        return [root, _word(self.seed), *(_word(p) for p in path)]

    def key(self, *path: Any):
        """A JAX PRNG key (``jax.random.key``) for the stream at ``path``."""
        import jax

        w = self.words(*path)
        key = jax.random.key(w[0])
        for x in w[1:]:
            key = jax.random.fold_in(key, x)
        return key

    def rng(self, *path: Any) -> np.random.Generator:
        """A NumPy generator for the stream at ``path``."""
        return np.random.default_rng(np.random.SeedSequence(self.words(*path)))

    def integer(self, *path: Any) -> int:
        """A 63-bit integer seed (for libraries that take an int, e.g. PyTorch)."""
        lo, hi = np.random.SeedSequence(self.words(*path)).generate_state(2, np.uint32)
        return (int(hi) << 31) ^ int(lo)


@dataclass(frozen=True)
class Experiment:
    """One named experiment of a study.

    Attributes
    ----------
    name : str
        Identifier (``EXPERIMENT`` in ``--set EXPERIMENT.FIELD=value`` and
        ``--only EXPERIMENT``), also the value of the tables' ``experiment``
        column.
    doc : str
        One line: what the experiment measures (``theorylab show``).
    params : type
        Frozen :class:`StudyConfig` subclass of the experiment's parameters,
        each declared with :func:`~theorylab.core.config.param`.  It may
        derive from the study's shared parameter class.
    theory : callable, optional
        ``theory(p) -> DataFrame``: the theory's numbers (tidy, one row per point).
    simulate : callable, optional
        ``simulate(p, seed) -> DataFrame`` for one :class:`Seed`; with
        ``batched=True`` it is ``simulate(p, seeds) -> DataFrame`` for the list
        of all seeds, and the table must carry a ``seed`` column.
    checks : tuple
        Declared checks (:class:`~theorylab.core.checks.Agreement`,
        :class:`~theorylab.core.checks.Paired`,
        :class:`~theorylab.core.checks.Claim`).  Their names are fixed: they
        never depend on the parameters.
    figures : callable, optional
        ``figures(p, theory, sims) -> dict[str, Figure]``.
    derived : callable, optional
        ``derived(p, theory, sims) -> dict[str, DataFrame]``: tables computed
        from both (written as ``<name>.parquet``).
    batched : bool
        ``simulate`` takes every seed at once (so it can ``vmap`` over them).
    """

    name: str
    doc: str
    params: type[StudyConfig] = NoParams
    theory: Callable[[Any], pd.DataFrame] | None = None
    simulate: Callable[..., pd.DataFrame] | None = None
    checks: tuple = ()
    figures: Callable[[Any, pd.DataFrame, pd.DataFrame], dict[str, Any]] | None = None
    derived: Callable[[Any, pd.DataFrame, pd.DataFrame], dict[str, pd.DataFrame]] | None = None
    batched: bool = False

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise TypeError(f"experiment name {self.name!r} must be an identifier")
        if not (isinstance(self.params, type) and issubclass(self.params, StudyConfig)):
            raise TypeError(f"experiment {self.name!r}: params must be a StudyConfig subclass")
        names = [c.name for c in self.checks]
        if len(set(names)) != len(names):
            raise TypeError(f"experiment {self.name!r} declares a check name twice: {names}")
        if self.batched and self.simulate is None:
            raise TypeError(f"experiment {self.name!r} is batched but has no simulate")

    @property
    def check_names(self) -> list[str]:
        """Names of the declared checks, in order."""
        return [c.name for c in self.checks]

    def run_theory(self, p: StudyConfig) -> pd.DataFrame:
        """The theory table (empty when the experiment has no theory)."""
        if self.theory is None:
            return pd.DataFrame()
        return _frame(self.theory(p), self.name, "theory")

    def run_simulation(self, p: StudyConfig, seeds: Sequence[Seed]) -> pd.DataFrame:
        """The simulation table of ``seeds`` with its ``seed`` column.

        A non-batched experiment is called once per seed.
        """
        if self.simulate is None:
            return pd.DataFrame()
        if self.batched:
            df = _frame(self.simulate(p, list(seeds)), self.name, "simulate")
            if "seed" not in df:
                raise TypeError(f"batched experiment {self.name!r}: table has no 'seed' column")
            return df
        frames = []
        for s in seeds:
            df = _frame(self.simulate(p, s), self.name, "simulate").copy()
            if "seed" in df:
                raise TypeError(f"experiment {self.name!r}: simulate must not add 'seed' itself")
            df.insert(0, "seed", s.seed)
            frames.append(df)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _frame(df: Any, name: str, what: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"experiment {name!r}: {what} returned {type(df).__name__}, not a DataFrame"
        )
    if "experiment" in df:
        raise TypeError(f"experiment {name!r}: {what} must not add the 'experiment' column")
    return df


def frame(**columns: Any) -> pd.DataFrame:
    """A tidy table from columns (scalars are broadcast), the usual row builder.

    ``frame(K=4, ridge=ridges, error=err)`` gives one row per ridge with K = 4.
    """
    if all(np.ndim(v) == 0 for v in columns.values()):
        return pd.DataFrame(columns, index=[0])
    return pd.DataFrame(columns)
