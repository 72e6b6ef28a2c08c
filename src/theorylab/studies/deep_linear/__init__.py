"""DMFT of deep linear networks (Bordelon, Pehlevan; arXiv 2502.02531)."""

from .study import STUDY, Config

__all__ = ["STUDY", "Config"]
