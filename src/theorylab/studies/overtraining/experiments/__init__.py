"""The experiments of ``overtraining``, one module each (see ``study.py`` for their order)."""
