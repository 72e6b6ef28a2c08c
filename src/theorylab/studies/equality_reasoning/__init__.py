"""Equality reasoning in rich and lazy MLPs.

Tong, Pehlevan, arXiv 2503.09781 (CCN 2025).
"""

from .study import STUDY

__all__ = ["STUDY"]
