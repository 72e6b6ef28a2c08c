"""Hidden progress during overtraining.

Kumar, Bordelon, Pehlevan, Murthy, Gershman, arXiv 2411.03541 (ICLR 2025).
"""

from .study import STUDY

__all__ = ["STUDY"]
