"""The registry of studies: one line per study, ``id: module``.

Studies outside the package register through the environment:
``THEORYLAB_STUDIES="my_study=mypkg.my_study,other=pkg.other"`` adds those
``id=module`` entries (each module exports ``STUDY``), for the command line and
the Python API alike.

Adding a study means adding its folder under ``theorylab/studies/`` (with
``theory.py``, ``simulate.py``, ``study.py`` and an ``__init__.py`` exporting
``STUDY``) and one line here.  Modules are imported lazily, so a study with
optional dependencies (PyTorch) does not slow down or break the others.
"""

REGISTRY: dict[str, str] = {
    "rf_ensembles": "theorylab.studies.rf_ensembles",
    "rnn_integration": "theorylab.studies.rnn_integration",
    "sgd_linear": "theorylab.studies.sgd_linear",
    "deep_linear": "theorylab.studies.deep_linear",
    "diffusion": "theorylab.studies.diffusion",
    "precision_scaling": "theorylab.studies.precision_scaling",
    "overtraining": "theorylab.studies.overtraining",
    "equality_reasoning": "theorylab.studies.equality_reasoning",
}


def _from_environment() -> None:
    import os

    for item in os.environ.get("THEORYLAB_STUDIES", "").split(","):
        sid, sep, module = item.strip().partition("=")
        if sep and sid.strip() and module.strip():
            REGISTRY.setdefault(sid.strip(), module.strip())


_from_environment()
