"""The experiments of ``rf_ensembles``, one module each (see ``study.py`` for their order)."""
