r"""Ridge readout in the sum-of-squares convention of ``MODEL.md`` §3.

.. math:: \theta^*(\gamma) = \arg\min_\theta \sum_{\mu=1}^{P} (\theta\cdot\phi(x_\mu) - y_\mu)^2
          + \gamma\|\theta\|^2 = (\Phi^\top\Phi + \gamma I_N)^{-1}\Phi^\top y
          = \Phi^\top(\Phi\Phi^\top + \gamma I_P)^{-1} y

=========  ================  =======================================
symbol     name              meaning
=========  ================  =======================================
Φ          ``features``      feature matrix, shape (P, N)
y          ``targets``       labels, shape (P,)
γ          ``ridge``         ridge on the sum of squared errors
θ          ``readout``       trained weights, shape (N,)
=========  ================  =======================================

How it is solved (DESIGN.md practice 10):

* **Primal or dual by shape.** With N ≤ P the N×N Gram ΦᵀΦ is factorized, otherwise the P×P
  Gram ΦΦᵀ, so the cost is O(min(N, P)^3) after the Gram.
* **Many ridges, one factorization.** With :data:`EIGH_MIN_RIDGES` or more positive ridges the
  Gram is diagonalized once (``eigh``) and every ridge is a diagonal rescaling; with fewer, one
  Cholesky per ridge is cheaper (an ``eigh`` costs about 17 Choleskys at n = 4096).
* **γ = 0 is the minimum-norm interpolator**, never a singular solve. It is taken from the Gram
  only when the Gram's reciprocal condition number is above :data:`GRAM_RCOND_MIN`; otherwise
  (at and near N = P, where squaring Φ would lose the small singular values, and in rank-deficient
  cells) it is computed from Φ itself: LU for square full-rank Φ, else a rank-revealing complete
  orthogonal factorization (LAPACK ``gelsy``), both backward stable.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.linalg as sla

from ._validation import InputError, check_float_list

__all__ = [
    "EIGH_MIN_RIDGES",
    "GRAM_RCOND_MIN",
    "fit_ridge",
    "solve_gram",
    "min_norm_solve",
    "svd_ridge",
]

#: Positive ridges from which one ``eigh`` beats one Cholesky per ridge.
EIGH_MIN_RIDGES = 8
#: Smallest reciprocal condition number of (Gram + γI) trusted by the Gram route; below it the
#: solution is recomputed from Φ. Forward error of the Gram route is about eps / rcond ≲ 2e-6.
GRAM_RCOND_MIN = 1e-10


def fit_ridge(features: np.ndarray, targets: np.ndarray, ridges: Sequence[float] | float):
    r"""Ridge readouts θ*(γ) for each γ in ``ridges`` (sum-of-squares convention).

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
        Φ, rows φ(x_μ).
    targets : ndarray of shape (n_samples,)
        y.
    ridges : float or sequence of float
        γ ≥ 0 values; γ = 0 gives the minimum-norm least-squares solution (pseudo-inverse).

    Returns
    -------
    ndarray of shape (n_features, n_ridges)
        Column *r* is θ*(ridges[r]), in the order given.

    Examples
    --------
    >>> phi = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    >>> y = np.array([1.0, 2.0, 2.0])
    >>> np.round(fit_ridge(phi, y, [0.0])[:, 0], 6)
    array([1., 1.])
    """
    phi = np.asarray(features, dtype=np.float64)
    y = np.asarray(targets, dtype=np.float64)
    if phi.ndim != 2 or y.shape != (phi.shape[0],):
        raise InputError(
            "'features' must have shape (n_samples, n_features) and 'targets' shape (n_samples,). "
            f"Got {phi.shape} and {y.shape} instead."
        )
    gammas = np.atleast_1d(np.asarray(ridges, dtype=np.float64))
    check_float_list("ridges", gammas.tolist())
    n_samples, n_features = phi.shape
    if n_features <= n_samples:
        theta, ok = solve_gram(phi.T @ phi, phi.T @ y, gammas)
    else:
        alpha, ok = solve_gram(phi @ phi.T, y, gammas)
        theta = phi.T @ alpha
    if not ok.all():
        theta[:, ~ok] = _stable_solutions(phi, y, gammas[~ok])
    return theta


def solve_gram(gram: np.ndarray, rhs: np.ndarray, ridges: np.ndarray):
    r"""Solve :math:`(G + \gamma I) z = r` for each γ, from the upper triangle of ``gram``.

    Parameters
    ----------
    gram : ndarray of shape (n, n)
        Symmetric positive semi-definite G (only the upper triangle is read).
    rhs : ndarray of shape (n,)
    ridges : ndarray of shape (n_ridges,)

    Returns
    -------
    solutions : ndarray of shape (n, n_ridges)
    ok : ndarray of bool, shape (n_ridges,)
        False where :math:`\mathrm{rcond}(G + \gamma I) <` :data:`GRAM_RCOND_MIN`; those columns
        are left as NaN for the caller to recompute from Φ.
    """
    n = gram.shape[0]
    out = np.full((n, ridges.size), np.nan)
    ok = np.zeros(ridges.size, dtype=bool)
    positive = np.flatnonzero(ridges > 0)
    if positive.size >= EIGH_MIN_RIDGES:
        evals, evecs = sla.eigh(gram, lower=False, check_finite=False, driver="evd")
        proj = evecs.T @ rhs
        top = max(evals[-1], 0.0)
        for i in positive:
            shifted = evals + ridges[i]
            if shifted[0] > GRAM_RCOND_MIN * (top + ridges[i]):
                out[:, i] = evecs @ (proj / shifted)
                ok[i] = True
        todo = np.flatnonzero(ridges == 0)
    else:
        todo = np.arange(ridges.size)
    norm1 = np.max(np.sum(np.abs(np.triu(gram) + np.triu(gram, 1).T), axis=0)) if todo.size else 0
    for i in todo:
        shifted = gram + ridges[i] * np.eye(n)
        factor, info = sla.lapack.dpotrf(shifted, lower=0, clean=0, overwrite_a=1)
        if info != 0:
            continue
        rcond, _ = sla.lapack.dpocon(factor, norm1 + ridges[i], uplo="U")
        if rcond > GRAM_RCOND_MIN:
            out[:, i] = sla.cho_solve((factor, False), rhs, check_finite=False)
            ok[i] = True
    return out, ok


def _stable_solutions(phi: np.ndarray, y: np.ndarray, ridges: np.ndarray) -> np.ndarray:
    """Columns for ridges the Gram route could not trust: min-norm for 0, SVD for tiny γ > 0."""
    out = np.empty((phi.shape[1], ridges.size))
    zero = ridges == 0
    if zero.any():
        out[:, zero] = min_norm_solve(phi, y)[:, None]
    if (~zero).any():
        out[:, ~zero] = svd_ridge(phi, y, ridges[~zero])
    return out


def min_norm_solve(features: np.ndarray, targets: np.ndarray) -> np.ndarray:
    r"""Minimum-norm least-squares solution :math:`\Phi^+ y`, stable at and near N = P.

    Square full-rank Φ: LU with partial pivoting (checked by its condition estimate); otherwise
    LAPACK ``gelsy`` with rank cutoff ``max(P, N) * eps`` relative to the largest singular value.

    Returns ndarray of shape (n_features,).
    """
    n_samples, n_features = features.shape
    cutoff = max(n_samples, n_features) * np.finfo(np.float64).eps
    if n_samples == n_features:
        lu, piv, info = sla.lapack.dgetrf(features)
        if info == 0:
            norm1 = np.max(np.sum(np.abs(features), axis=0))
            rcond, _ = sla.lapack.dgecon(lu, norm1, norm="1")
            if rcond > cutoff:
                return sla.lu_solve((lu, piv), targets, check_finite=False)
    solution, *_ = sla.lstsq(features, targets, cond=cutoff, lapack_driver="gelsy")
    return solution


def svd_ridge(features: np.ndarray, targets: np.ndarray, ridges: Sequence[float]) -> np.ndarray:
    r"""Reference ridge path from the SVD :math:`\Phi = A S B^\top` (slow, most accurate).

    .. math:: \theta(\gamma) = B\,\mathrm{diag}\!\left(\frac{s}{s^2+\gamma}\right) A^\top y,
              \quad s/(s^2+0) := 1/s \text{ for } s > \max(P,N)\,\epsilon\, s_1 \text{ else } 0

    Returns ndarray of shape (n_features, n_ridges).
    """
    a, s, bt = sla.svd(features, full_matrices=False, check_finite=False)
    proj = a.T @ targets
    gammas = np.atleast_1d(np.asarray(ridges, dtype=np.float64))
    cutoff = max(features.shape) * np.finfo(np.float64).eps * (s[0] if s.size else 0.0)
    keep = s > cutoff
    filt = np.zeros((s.size, gammas.size))
    filt[keep] = s[keep, None] / (s[keep, None] ** 2 + gammas[None, :])
    return bt.T @ (filt * proj[:, None])
