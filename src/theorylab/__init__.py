"""theorylab: theories of how neural networks learn, as fast solvers checked against simulation.

Public API::

    import theorylab
    theorylab.list_studies()                     # registered study ids
    study = theorylab.get_study("rf_ensembles")  # the Study object
    result = theorylab.run("rf_ensembles", preset="quick", out="runs")
    result.passed, result.summary["checks"]
"""

from importlib import metadata as _metadata

from .core.errors import ConfigError, DataError, DivergenceError, SolverError, TheorylabError
from .core.registry import get_study, list_studies
from .core.results import Check
from .core.runner import RunResult
from .core.runner import run_study as run
from .core.study import Paper, Study

try:
    __version__ = _metadata.version("theorylab")
except _metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "Check",
    "ConfigError",
    "DataError",
    "DivergenceError",
    "Paper",
    "RunResult",
    "SolverError",
    "Study",
    "TheorylabError",
    "get_study",
    "list_studies",
    "run",
]
