"""The experiments of ``equality_reasoning``."""
