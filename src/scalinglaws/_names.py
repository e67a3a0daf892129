"""The fixed vocabularies of the package (choices of options), importable without numpy.

The modules that implement each choice import their tuple from here, so that the command line can
offer the choices without loading the numerics.
"""

from __future__ import annotations

__all__ = [
    "ACTIVATION_NAMES",
    "LOSS_METHODS",
    "DATASET_NAMES",
    "TARGETS",
    "LEVELS",
    "EXECUTORS",
    "FORMATS",
]

#: Activations with a closed-form Gaussian kernel, then those computed by quadrature.
ACTIVATION_NAMES = ("linear", "relu", "erf", "sign", "abs", "quadratic", "tanh", "gelu")
#: How the simulation measures the test loss.
LOSS_METHODS = ("exact", "monte_carlo")
#: Real datasets that ship inside installable packages.
DATASET_NAMES = ("digits", "fashion-mnist", "lfw", "image-patches", "minilm-tokens")
#: Regression targets built from a real dataset.
TARGETS = ("onehot", "center")
#: What the real-data theory takes the training pool for: a sample of the population, or it.
POOL_MODELS = ("sample", "population")
#: Levels of the theory for any activation and teacher.
LEVELS = ("auto", "exact", "one", "two")
#: Where study units run.
EXECUTORS = ("serial", "processes", "dask")
#: Formats of a study export.
FORMATS = ("csv", "parquet", "netcdf")
