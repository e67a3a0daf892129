"""Bridges between the two sides: the theory fed with what the sampling side draws or measures.

=================  ==============================================================
module             what it holds
=================  ==============================================================
``equivalence``    Gaussian equivalence for any activation and teacher: one level
                   (a given draw of the features) and two levels (averaged)
``realdata``       random-feature regression on real datasets (the measurement)
``pool_theory``    its theory from the measured training pool
``tasks``          real regression tasks (inputs, targets) and their per-seed splits
=================  ==============================================================
"""

from .equivalence import one_level_theory, predict_grid, reference_spectrum, two_level_theory
from .realdata import (
    RegressionTask,
    Split,
    linear_theory_spec,
    loss_exponent,
    make_task,
    pool_kernel_spectrum,
    realdata_theory,
    simulate_realdata,
    split_task,
)

__all__ = [
    "RegressionTask",
    "Split",
    "linear_theory_spec",
    "loss_exponent",
    "make_task",
    "one_level_theory",
    "pool_kernel_spectrum",
    "predict_grid",
    "realdata_theory",
    "reference_spectrum",
    "simulate_realdata",
    "split_task",
    "two_level_theory",
]
