"""The random streams of the Transformer runs: the committed run table's derivation.

``runs.csv`` (3 seeds x 31 training runs, written by :mod:`.make_runs` in about
19 minutes on 2 CPU cores) was trained with the derivations below, from the
integer seed of a run (the table's ``seed`` column) and the config's
``language_seed``:

========================  ===============================================
stream                    derivation
========================  ===============================================
Markov transition table   ``MarkovLanguage(seed=language_seed)`` (data.py)
held-out set              ``default_rng([language_seed, 1])``
GPTQ calibration set      ``default_rng([language_seed, 2])``
training tokens, block b  ``default_rng([language_seed, 3, seed, b])``
initialisation, width d   7, then d, folded into ``jax.random.key(seed)``
                          (what core's integer-path helper did)
========================  ===============================================

They predate :class:`theorylab.core.experiment.Seed` and are the study's one
exception to the rule that randomness comes from ``Seed`` paths: the
``runs`` experiment (``runs_source=train``) and the ``rerun`` experiment must
draw exactly these numbers, or the live retraining would no longer reproduce
the committed table (``rerun_matches_committed_table``) and ``--preset train``
would no longer train the grid the table holds.  Every other stream of the
study (the synthetic fitter runs, the levels model, the bootstrap of the fits)
is a ``Seed`` stream.  The derivations are spelled out here (not through core
helpers) so that this module is the only place that knows them.  Changing a
line here invalidates ``runs.csv``: retrain it with ``make_runs``
(docs/precision_scaling.md, "The committed table") and update the numbers the
docs quote from it.
"""

from __future__ import annotations

import jax
import numpy as np

_EVAL, _CALIB, _TOKENS, _INIT = 1, 2, 3, 7  # the committed table's stream labels


def eval_rng(language_seed: int) -> np.random.Generator:
    """Generator of the held-out sequences (the same for every run of a language)."""
    return np.random.default_rng([language_seed, _EVAL])


def calib_rng(language_seed: int) -> np.random.Generator:
    """Generator of the GPTQ calibration sequences (the same for every run of a language)."""
    return np.random.default_rng([language_seed, _CALIB])


def token_rng(language_seed: int, seed: int, block: int) -> np.random.Generator:
    """Generator of training-token block ``block`` of run seed ``seed``."""
    return np.random.default_rng([language_seed, _TOKENS, seed, block])


def init_key(seed: int, d_model: int):
    """JAX key of the initialisation of a width-``d_model`` model of run seed ``seed``."""
    return jax.random.fold_in(jax.random.fold_in(jax.random.key(seed), _INIT), d_model)
