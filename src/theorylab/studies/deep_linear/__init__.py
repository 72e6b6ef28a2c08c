"""DMFT of deep linear networks (Bordelon, Pehlevan; arXiv 2502.02531)."""

from .study import STUDY

__all__ = ["STUDY"]
