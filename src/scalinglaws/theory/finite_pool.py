r"""Held-out loss of ridge regression on P samples of a finite pool, from the pool alone.

The measurement on real data (``bridges.realdata``) trains on P rows drawn without replacement
from a pool of n rows and tests on held-out rows. If the pool is an i.i.d. sample of a
population, so is any subset of it, and the held-out rows come from the same population: the
measurement estimates the *population* risk :math:`R_P(\gamma)` of ridge regression on P i.i.d.
samples. The population's second moments are unknown; the pool gives only their sample
version. This module expresses :math:`R_P` through the pool's spectrum, for any P ≤ n, using the
deterministic equivalent twice — once at sample size n (the pool) and once at P (the training
set) — instead of taking the pool for the population (which is right only for P ≪ n).

=========  ======================  ==========================================================
symbol     name                    meaning
=========  ======================  ==========================================================
n          ``n_pool``              rows of the pool the spectrum was measured on
ŝ_i        ``eigenvalues``         eigenvalues of the pool's second moment Ŝ = FᵀF/n
p̂_i        ``explained``           target power along the i-th eigenvector (t_i²/s_i)
r̂          ``residual_var``        target power outside the features' span on the pool
P          ``n_samples``           training rows (P ≤ n)
γ          ``ridge``               ridge on the sum of squared errors
κ̂, κ       ``kappa``               pool-side and population-side renormalized ridges
=========  ======================  ==========================================================

**Derivation.** Write S for the population second moment of the features and
:math:`\mathrm{df}_k^S(\kappa) = \mathrm{tr}\,S^k(S+\kappa)^{-k}`. The deterministic equivalent at
sample size m (Gaussian equivalence on the data side) says that ridge on m samples with
covariance-unit ridge z behaves like the population ridge at κ with
:math:`z = \kappa(1 - \mathrm{df}_1^S(\kappa)/m)`, that its risk is
:math:`R_m = R_\infty(\kappa)/(1 - \mathrm{df}_2^S(\kappa)/m)` with
:math:`R_\infty(\kappa) = E(y - \varphi^\top\theta_\kappa)^2` the risk of the population ridge,
and that its training error is :math:`(z/\kappa)^2 R_m`. Applied to the pool (m = n) at a
pool-side ridge κ̂, with :math:`\widehat{\mathrm{df}}_1 = \sum_i \hat s_i/(\hat s_i+\hat\kappa)`,
:math:`\hat D = \sum_i \hat s_i/(\hat s_i+\hat\kappa)^2` and
:math:`a = 1 - \widehat{\mathrm{df}}_1/n`:

.. math::
    \kappa = \hat\kappa/a, \qquad \mathrm{df}_1^S(\kappa) = \widehat{\mathrm{df}}_1(\hat\kappa),
    \qquad \mathrm{df}_2^S(\kappa) = \widehat{\mathrm{df}}_1
        - \frac{\hat\kappa \hat D\, a}{a - \hat\kappa\hat D/n},

(the first from :math:`\hat\kappa(\hat S+\hat\kappa)^{-1} \asymp \kappa(S+\kappa)^{-1}`, the
second by differentiating it, :math:`\mathrm{df}_2 = \mathrm{df}_1 + \kappa\,
\mathrm{d}\,\mathrm{df}_1/\mathrm{d}\kappa`), and with the pool ridge's training error
:math:`\hat T(\hat\kappa) = \sum_i \hat p_i \hat\kappa^2/(\hat s_i+\hat\kappa)^2 + \hat r`,

.. math:: R_\infty(\kappa) = \big(1 - \mathrm{df}_2^S(\kappa)/n\big)\,R_n, \qquad
          R_n \approx \hat T(\hat\kappa)/a^2 ,

where :math:`R_n` is the held-out risk of the pool's own ridge at κ̂ and :math:`\hat T/a^2` its
deterministic-equivalent value (generalized cross-validation). On real data the bridge measures
:math:`R_n` instead by leave-one-out on the pool (``pool_risk``): ridge gives each row's
leave-one-out residual in closed form, and the estimate needs no Gaussian assumption, which
removes much of the data side's non-Gaussianity from the prediction.

The training set of P rows then has the population-side ridge κ that solves
:math:`\kappa(1 - \mathrm{df}_1^S(\kappa)/P) = \gamma/P`, i.e. in κ̂

.. math:: \frac{\hat\kappa\,(1 - \widehat{\mathrm{df}}_1/P)}{1 - \widehat{\mathrm{df}}_1/n}
          = \frac{\gamma}{P}, \qquad
          R_P = \frac{1 - \mathrm{df}_2^S/n}{1 - \mathrm{df}_2^S/P}\, R_n .

The left side increases with κ̂ for P ≤ n, so the root is unique (found by bisection in log κ̂).
Checks: n → ∞ gives the one-level loss of the pool's spectrum taken as the population
(:func:`~scalinglaws.theory.nonlinear.one_level_loss`); P = n gives generalized
cross-validation on the whole pool, :math:`\hat T/a^2`; on Gaussian data it recovers the loss of
the true population spectrum to the deterministic equivalent's accuracy (the tests).
Ridgeless (γ = 0): κ̂ solves :math:`\widehat{\mathrm{df}}_1 = P` when P is below the rank,
κ̂ = 0 above it, and P equal to the rank is the interpolation pole (``inf`` with a
:class:`~scalinglaws.NumericalWarning`).

The approximation is the data-side Gaussian equivalence (each use of the deterministic
equivalent); what it neglects on real data is discussed in ``docs/nonlinear.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._validation import InputError, warn_numerical
from .nonlinear import KernelSpectrum

__all__ = ["HeldOutResult", "held_out_loss"]

#: Bisection steps in log κ̂ over a bracket of at most ~200 e-folds: 2⁻⁶⁰·200 ≈ 2e-16.
_BISECTIONS = 60


@dataclass(frozen=True)
class HeldOutResult:
    """:func:`held_out_loss` at broadcast (P, γ); every array has the broadcast shape."""

    n_samples: np.ndarray
    ridge: np.ndarray
    kappa: np.ndarray
    df1: np.ndarray
    df2: np.ndarray
    test_mse: np.ndarray


def _parts(s: np.ndarray, kh: np.ndarray):
    """df̂₁, D̂ and the squared shrinkage factors at pool-side ridges ``kh`` (last axis: nodes)."""
    denom = s + kh[..., None]
    ratio = s / denom
    return ratio.sum(axis=-1), (ratio / denom).sum(axis=-1), (kh[..., None] / denom) ** 2


def held_out_loss(
    spectrum: KernelSpectrum,
    n_pool: int,
    n_samples: object,
    ridge: object = 0.0,
    *,
    pool_risk: Callable[[np.ndarray], np.ndarray] | None = None,
) -> HeldOutResult:
    r"""Population (held-out) risk of ridge on P rows of an n-row pool, from the pool's spectrum.

    Parameters
    ----------
    spectrum : KernelSpectrum
        The pool's second-moment spectrum: eigenvalues ŝ_i of :math:`\hat S = F^\top F/n`
        (shape (rank,)) and the targets' power along them, labels included (the target's noise
        is part of ``explained`` and ``residual_var``).
    n_pool : int
        n, the pool's rows.
    n_samples, ridge : array_like
        P (1 ≤ P ≤ n) and γ ≥ 0 (on the sum of squared errors); they broadcast.

    Returns
    -------
    HeldOutResult
        ``test_mse`` :math:`R_P`, the population-side ``kappa`` κ, ``df1`` and ``df2`` of the
        population at κ, each of the broadcast shape. Formulas: the module docstring.

    ``pool_risk(kappa_hat)`` (optional) returns the held-out risk :math:`R_n` of the pool's own
    ridge at pool-side ridges κ̂ (a 1-D array, in the spectrum's units), measured on the pool's
    rows — e.g. by leave-one-out, which needs no Gaussian assumption — in place of the
    deterministic equivalent's :math:`\hat T/a^2` (generalized cross-validation). The loss is
    then :math:`R_P = R_n (1 - \mathrm{df}_2^S/n)/(1 - \mathrm{df}_2^S/P)`.

    Examples
    --------
    >>> import numpy as np
    >>> from scalinglaws.theory.nonlinear import KernelSpectrum
    >>> ks = KernelSpectrum(np.array([1.0, 0.5]), np.array([0.5, 0.1]), 1.0, 2)
    >>> big = held_out_loss(ks, 10**12, 40, 1e-2).test_mse   # n → ∞: the pool is the population
    >>> small = held_out_loss(ks, 50, 40, 1e-2).test_mse     # the pool is itself a sample
    >>> bool(small > big)
    True
    """
    n_pool = int(n_pool)
    p, g = np.broadcast_arrays(
        np.asarray(n_samples, dtype=np.float64), np.asarray(ridge, dtype=np.float64)
    )
    if np.any(~np.isfinite(p)) or np.any(p < 1) or np.any(p > n_pool):
        raise InputError(
            f"'n_samples' must be between 1 and the pool size {n_pool}. "
            f"Got {np.unique(p[(p < 1) | (p > n_pool) | ~np.isfinite(p)])[:3].tolist()} instead."
        )
    if np.any(~np.isfinite(g)) or np.any(g < 0):
        bad = g[(g < 0) | ~np.isfinite(g)][0]
        raise InputError(f"'ridge' must be finite and >= 0. Got {bad} instead.")
    top = float(spectrum.eigenvalues[0])
    s = np.asarray(spectrum.eigenvalues, dtype=np.float64) / top  # scaled units: ŝ₁ = 1
    pw = np.asarray(spectrum.explained, dtype=np.float64)
    resid = spectrum.residual_var
    rank = s.size
    gs = g / top  # γ in units of ŝ₁
    flat_p, flat_g = p.ravel(), gs.ravel()
    ridgeless = flat_g == 0
    below = ridgeless & (flat_p >= rank)  # κ̂ = 0: more rows than directions
    pole = ridgeless & (flat_p == rank)
    # Bracket in log κ̂: below ŝ_min·1e-30 every ratio is 1 to round-off; above, γ/P bounds κ̂.
    lo = np.full(flat_p.shape, np.log(s[-1]) - 70.0)
    hi = np.log(np.maximum(flat_g / flat_p, 1.0)) + np.log(2.0 * rank + 2.0)
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        kh = np.exp(mid)
        df1, _, _ = _parts(s, kh)
        value = kh * (1.0 - df1 / flat_p) / (1.0 - df1 / n_pool) - flat_g / flat_p
        up = value > 0
        hi = np.where(up, mid, hi)
        lo = np.where(up, lo, mid)
    kh = np.where(below, 0.0, np.exp(0.5 * (lo + hi)))
    df1, dsum, shrink = _parts(s, kh)
    a = 1.0 - df1 / n_pool
    with np.errstate(divide="ignore", invalid="ignore"):
        df2 = df1 - kh * dsum * a / (a - kh * dsum / n_pool)
        if pool_risk is None:
            risk_n = (shrink @ pw + resid) / a**2
        else:
            risk_n = np.asarray(pool_risk(kh * top), dtype=np.float64)
        test = risk_n * (1.0 - df2 / n_pool) / (1.0 - df2 / flat_p)
    broken = ~pole & ~(np.isfinite(test) & (test >= 0))
    if np.any(broken):  # e.g. a leave-one-out risk with a row of leverage 1
        warn_numerical(
            f"The held-out loss is not a finite non-negative number at {int(broken.sum())} "
            "point(s) off the interpolation pole (the pool's own risk there is "
            f"{np.unique(risk_n[broken])[:3].tolist()}): returned as inf; a ridge > 0 avoids it."
        )
        test = np.where(broken, np.inf, test)
    test = np.where(pole, np.inf, test)
    if np.any(pole):
        warn_numerical(
            f"Ridgeless regression with P equal to the features' rank on the pool ({rank}) is "
            "the interpolation pole: test_mse is inf there; use a ridge > 0 or another P."
        )
    shape = p.shape
    return HeldOutResult(
        n_samples=p,
        ridge=g,
        kappa=(kh / a * top).reshape(shape),
        df1=df1.reshape(shape),
        df2=df2.reshape(shape),
        test_mse=test.reshape(shape),
    )
