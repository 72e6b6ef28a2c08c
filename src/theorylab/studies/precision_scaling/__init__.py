"""Precision-aware scaling laws (Kumar et al., arXiv 2411.04330): calculator, fitters,
and a small-scale reproduction with quantized training and post-train quantization."""

from .study import STUDY

__all__ = ["STUDY"]
