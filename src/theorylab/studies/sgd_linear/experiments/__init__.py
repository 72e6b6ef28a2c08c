"""The experiments of sgd_linear, one module each.

``static`` (A1), ``online`` (A2), ``rf`` (A3), ``gd`` (A4), ``multipass`` (A5),
``digits`` (M4) and ``exponents`` (A6); docs/sgd_linear.md describes them.
"""
