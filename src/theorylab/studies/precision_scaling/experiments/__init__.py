"""The experiments of ``precision_scaling``, in the study's order.

``calculator``
    the laws on the test vectors, D_crit / N, stationarity at D_crit;
``synthetic``
    the fitters on noisy synthetic runs of the paper's grid;
``rerun``
    the smallest committed Transformer cell retrained live;
``runs``
    the Transformer runs (committed or trained now): PTQ and quantized-training
    claims, the laws fitted to them (``fits.parquet``);
``levels``
    distinct values per scale group inside a briefly trained quantized model;
``compute_optimal``
    the compute-optimal precision of the published constants.
"""
