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
    "adaptive_kernels": "theorylab.studies.adaptive_kernels",
}

#: what ``theorylab list`` prints without importing every study (JAX, PyTorch): each
#: built-in study's title and arXiv id, held equal to its STUDY by tests/test_contract.py
CATALOGUE: dict[str, tuple[str, str]] = {
    "rf_ensembles": (
        "Random-feature ridge ensembles: no free lunch at tuned ridge, ensemble scaling laws",
        "2412.05418",
    ),
    "rnn_integration": (
        "Linear RNNs learning to integrate white noise: outlier eigenvalue (rich), "
        "Bessel-kernel threshold (lazy), damped-oscillator pair",
        "2503.18754",
    ),
    "sgd_linear": (
        "Two-point deterministic equivalents: SGD learning curves of linear, kernel and "
        "random-feature models",
        "2502.05074",
    ),
    "deep_linear": (
        "DMFT of deep linear networks: width, depth, data reuse, muP vs NTK, residual scaling",
        "2502.02531",
    ),
    "diffusion": (
        "A solvable flow/diffusion model: learning ODEs of a two-layer autoencoder, generated "
        "densities, mode and model collapse",
        "2501.03937",
    ),
    "precision_scaling": (
        "Precision-aware scaling laws: N_eff of quantized training, post-train quantization "
        "degradation, critical data, compute-optimal precision",
        "2411.04330",
    ),
    "overtraining": (
        "Hidden progress after accuracy plateaus: margin maximization, class separation, "
        "overtraining reversal",
        "2411.03541",
    ),
    "equality_reasoning": (
        "Rich vs lazy MLPs on same-different tasks: conceptual vs perceptual equality reasoning",
        "2503.09781",
    ),
    "adaptive_kernels": (
        "Feature-learning infinite-width networks as data-adaptive kernel machines",
        "2502.07998",
    ),
}


def _from_environment() -> None:
    import os

    for item in os.environ.get("THEORYLAB_STUDIES", "").split(","):
        sid, sep, module = item.strip().partition("=")
        if sep and sid.strip() and module.strip():
            REGISTRY.setdefault(sid.strip(), module.strip())


_from_environment()
