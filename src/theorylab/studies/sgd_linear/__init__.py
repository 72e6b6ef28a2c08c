"""SGD learning curves from two-point deterministic equivalents (arXiv 2502.05074)."""

from .study import STUDY

__all__ = ["STUDY"]
