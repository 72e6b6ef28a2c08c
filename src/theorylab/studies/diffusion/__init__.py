"""A solvable model of learning generative diffusion (Cui, Pehlevan, Lu; arXiv 2501.03937)."""

from .study import STUDY

__all__ = ["STUDY"]
