"""The registry of studies: one line per study, ``id: module``.

Adding a study means adding its folder under ``theorylab/studies/`` (with
``theory.py``, ``simulate.py``, ``study.py`` and an ``__init__.py`` exporting
``STUDY``) and one line here.  Modules are imported lazily, so a study with
optional dependencies (PyTorch) does not slow down or break the others.
"""

REGISTRY: dict[str, str] = {
    "rf_ensembles": "theorylab.studies.rf_ensembles",
    "sgd_linear": "theorylab.studies.sgd_linear",
    "precision_scaling": "theorylab.studies.precision_scaling",
}
