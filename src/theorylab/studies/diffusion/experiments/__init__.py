"""The experiments of the diffusion study: ``learning`` (B1-B4, Figure 1),
``generated_law`` (B5, B6) and ``collapse_loop`` (B7)."""
