"""Adaptive kernel predictors from feature-learning infinite limits of neural networks.

Lauditi, Bordelon, Pehlevan, arXiv 2502.07998 (ICML 2025).
"""

from .study import STUDY

__all__ = ["STUDY"]
