"""The deep_linear experiments, one module each (in the study's order).

``plain_mlp`` (V2), ``deep_narrow`` (V3), ``online_sgd`` (V4), ``residual`` (V5)
and ``widths``: DMFT vs finite-width simulation.  ``exact`` (V1): the DMFT
against its exact special cases.  ``lr_sweep``, ``alpha_sweep``, ``depth``
(DMFT only) and ``power_law`` (simulation): the paper's claims (V6).
"""
