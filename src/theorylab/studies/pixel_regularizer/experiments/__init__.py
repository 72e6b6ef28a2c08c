"""Experiments of pixel_regularizer, one module each."""
