"""Random-feature ridge ensembles (Ruben, Tong, Chaudhry, Pehlevan; arXiv 2412.05418)."""

from .study import STUDY

__all__ = ["STUDY"]
