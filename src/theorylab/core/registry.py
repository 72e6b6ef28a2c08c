"""Look-up of registered studies (the list itself is ``theorylab.studies.REGISTRY``)."""

from __future__ import annotations

import importlib

from .errors import ConfigError
from .study import Study


def list_studies() -> list[str]:
    """Ids of every registered study, in registry order."""
    from theorylab.studies import REGISTRY

    return list(REGISTRY)


def get_study(study: str | Study) -> Study:
    """Return the :class:`Study` registered under ``study`` (or ``study`` itself).

    Raises
    ------
    ConfigError
        If no study has that id.
    """
    if isinstance(study, Study):
        return study
    from theorylab.studies import REGISTRY

    if study not in REGISTRY:
        raise ConfigError("study", study, "unknown study; known: " + ", ".join(REGISTRY))
    module = importlib.import_module(REGISTRY[study])
    obj = getattr(module, "STUDY", None)
    if not isinstance(obj, Study):
        raise TypeError(f"{REGISTRY[study]} does not export a Study named STUDY")
    return obj
