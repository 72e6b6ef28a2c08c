"""Linear RNNs learning to integrate white noise.

Bordelon, Cotler, Pehlevan, Zavatone-Veth (arXiv 2503.18754).
"""

from .study import STUDY

__all__ = ["STUDY"]
