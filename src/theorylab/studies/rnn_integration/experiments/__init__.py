"""The experiments of ``rnn_integration``, one module each.

``gradients`` (V1), ``rich`` (V2, V3, escape-time law), ``bulk`` (W0 = sigma J:
outlier, plateau vs sigma), ``bessel`` (V4), ``lazy`` (V5, threshold),
``oscillator`` (V6), ``bptt`` (SGD through time vs gradient flow).
"""
