"""The sampling side: draws, features, ridge readouts and the grid engine (no theory here).

=================  ==============================================================
module             what it holds
=================  ==============================================================
``latent``         latent data x ~ N(0, Λ), teachers, labels (nested seeded draws)
``features``       projections U, features σ(Ux), their exact Gaussian moments
``tiles``          fixed-shape tiles: a cell's numbers do not depend on its grid
``ridge``          ridge readouts, several targets at once, with their routes
``stable``         the ridge's fallbacks from Φ itself (min-norm, augmented QR)
``engine``         every (N, P) cell of a grid from running Grams
``losses``         loss evaluators: exact (linear, kernels) and held-out test sets
``simulate``       :func:`simulate`, the front end for the latent model
=================  ==============================================================
"""

from .engine import EngineResult, run_engine
from .features import draw_projection, random_features, random_projection
from .latent import TeacherDraw, sample_labels, sample_latent, sample_teacher, teacher_output
from .ridge import RidgeFit, fit_ridge, solve_ridge
from .simulate import infinite_expectation, simulate, simulation_peak_bytes

__all__ = [
    "EngineResult",
    "RidgeFit",
    "TeacherDraw",
    "draw_projection",
    "fit_ridge",
    "infinite_expectation",
    "random_features",
    "random_projection",
    "run_engine",
    "sample_labels",
    "sample_latent",
    "sample_teacher",
    "simulate",
    "simulation_peak_bytes",
    "solve_ridge",
    "teacher_output",
]
