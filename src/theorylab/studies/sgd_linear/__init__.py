"""SGD learning curves from two-point deterministic equivalents (arXiv 2502.05074)."""

from .study import STUDY, Config

__all__ = ["STUDY", "Config"]
