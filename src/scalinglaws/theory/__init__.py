r"""Theory of linear random-feature ridge regression: the deterministic equivalent of
``docs/model.md`` §5 and the scaling-law analyses built on it.

This package never imports the sampling side (``data``, ``features``, ``ridge``,
``simulation``), so that theory and simulation are independent and their agreement is a check.

==========  ====================  ==============================================
symbol      name                  meaning
==========  ====================  ==============================================
N           ``n_features``        number of random features
P           ``n_samples``         number of training samples (paper: T)
M           ``latent_dim``        latent dimension
α           ``alpha``             spectral exponent, λ_I ∝ I^-(1+α)
γ           ``ridge``             ridge on the sum of squared errors
γ̃           ``normalized_ridge``  γ M / (σ_u² N P)
κ           ``kappa``             renormalized ridge
C_α         ``prefactor``         power-law prefactor
C           ``budget``            compute budget
==========  ====================  ==============================================

Everything is computed in scaled units (κ/λ₊, the teacher's shares of σ_w², γ̃/λ₊ in log space,
:mod:`._scaled`), so any λ₊, σ_w², σ_u², σ_ε² and γ that float64 holds give the right loss; a
value float64 cannot hold is ``inf`` with a NumericalWarning. Large grids run in chunks with
progress and are refused when their measured time extrapolates past an hour (:mod:`._grid`).

Main entry points: :func:`theory_loss` (broadcast over N, P, γ), :func:`theory_grid` (a Dataset
shaped like ``simulate``'s), :func:`optimal_ridge`, :func:`compute_frontier`,
:func:`local_slopes`, :func:`regime`.
"""

from ._sums import SpectralSums, compressed_sums, exact_sums, spectral_sums
from .asymptotics import (
    REGIMES,
    LocalSlopes,
    asymptotic_excess,
    asymptotic_kappa,
    local_slopes,
    power_law_prefactor,
    regime,
    scaling_exponent,
)
from .loss import METHODS, TheoryResult, ridgeless_kappa, theory_grid, theory_loss
from .optimal import CostModel, Frontier, compute_frontier, optimal_ridge

__all__ = [
    "METHODS",
    "REGIMES",
    "CostModel",
    "Frontier",
    "LocalSlopes",
    "SpectralSums",
    "TheoryResult",
    "asymptotic_excess",
    "asymptotic_kappa",
    "compressed_sums",
    "compute_frontier",
    "exact_sums",
    "local_slopes",
    "optimal_ridge",
    "power_law_prefactor",
    "regime",
    "ridgeless_kappa",
    "scaling_exponent",
    "spectral_sums",
    "theory_grid",
    "theory_loss",
]
