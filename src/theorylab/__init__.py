"""theorylab: theories of how neural networks learn, as fast solvers checked against simulation.

Public API::

    import theorylab
    theorylab.list_studies()                     # registered study ids
    study = theorylab.get_study("rf_ensembles")  # the Study object
    result = theorylab.run("rf_ensembles", preset="quick", out="runs")
    result.passed, result.summary["checks"]
    sweep = theorylab.sweep("rf_ensembles", {"P": [100, 200]}, out="sweep", executor="dask")
    sweep.table                                  # results.parquet: one row per grid point
"""

from importlib import metadata as _metadata

from .core.errors import ConfigError, DataError, DivergenceError, SolverError, TheorylabError
from .core.registry import get_study, list_studies
from .core.results import Check
from .core.runner import RunResult
from .core.runner import run_study as run
from .core.study import Paper, Study
from .core.sweep import SweepResult, plot_sweep
from .core.sweep import run_sweep as sweep

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
    "SweepResult",
    "TheorylabError",
    "get_study",
    "list_studies",
    "plot_sweep",
    "run",
    "sweep",
]
