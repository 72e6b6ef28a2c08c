"""Experiments of ``adaptive_kernels``."""
