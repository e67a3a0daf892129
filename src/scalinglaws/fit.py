r"""Fit measured scaling laws: ``from scalinglaws import fit``.

The public face of :mod:`scalinglaws.analysis.fits` (the numerics live there; see
``docs/fitting.md``):

=====================  ==========================================================================
name                   what it fits
=====================  ==========================================================================
``fit.power_law``      :math:`L(x) = E + A x^{-a}` (E may be fixed, e.g. ``fixed={"E": 0}``)
``fit.chinchilla``     :math:`L(N, D) = E + A N^{-\alpha} + B D^{-\beta}` (Hoffmann et al. 2022)
``fit.model``          the solvable model's α, σ_w²λ₊, M and σ_ε² (``docs/model.md`` §5)
``fit.fit``            any of them by name: ``fit.fit(data, form="chinchilla", ...)``
=====================  ==========================================================================

Each minimizes :math:`\sum_i H_\delta(\log\hat L_i - \log L_i)` (Huber, δ = 1e-3) by L-BFGS-B
from a grid of starts, and bootstraps the points for standard errors, 95 % intervals and bands;
the results are :class:`ScalingLawFit` and :class:`ModelFit`, with the compute-optimal
:class:`Allocation` and, when asked, the :class:`Heldout` extrapolation.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from scalinglaws import fit
>>> n = np.geomspace(1e6, 1e9, 12)
>>> law = fit.power_law(pd.DataFrame({"N": n, "loss": 2.0 + 300.0 * n**-0.3}), x="N", y="loss",
...                     n_bootstrap=0)
>>> round(law.params["a"], 4)
0.3
"""

from __future__ import annotations

from .analysis.allocation import Allocation
from .analysis.fits import FORM_NAMES, ScalingLawFit, fit, fit_chinchilla, fit_power_law_curve
from .analysis.heldout import Heldout
from .analysis.model_fit import ModelFit, fit_model

__all__ = [
    "FORM_NAMES",
    "Allocation",
    "Heldout",
    "ModelFit",
    "ScalingLawFit",
    "chinchilla",
    "fit",
    "model",
    "power_law",
]

#: :func:`scalinglaws.analysis.fits.fit_power_law_curve`.
power_law = fit_power_law_curve
#: :func:`scalinglaws.analysis.fits.fit_chinchilla`.
chinchilla = fit_chinchilla
#: :func:`scalinglaws.analysis.model_fit.fit_model`.
model = fit_model
