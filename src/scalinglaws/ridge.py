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
    "solve_prefixes",
    "min_norm_solve",
    "svd_ridge",
]

#: Positive ridges from which one ``eigh`` beats one Cholesky per ridge.
EIGH_MIN_RIDGES = 8
#: Largest bound (tr G + γ)/γ on cond(G + γI) for the mixed-precision path (float32 Cholesky with
#: float64 refinement contracts the error by about cond·n·eps32 per step).
MIXED_PRECISION_COND_MAX = 1e6
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


def solve_gram(gram: np.ndarray, rhs: np.ndarray, ridges: np.ndarray, *, square: bool = False):
    r"""Solve :math:`(G + \gamma I) z = r` for each γ (one system); see :func:`solve_prefixes`.

    Returns ``(solutions of shape (n, n_ridges), ok of shape (n_ridges,))``.
    """
    n = gram.shape[0]
    return solve_prefixes(gram, rhs, ridges, [n], square_size=n if square else None)[0]


def solve_prefixes(
    gram: np.ndarray,
    rhs: np.ndarray,
    ridges: np.ndarray,
    sizes: Sequence[int],
    *,
    square_size: int | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    r"""Solve the leading-block systems :math:`(G_{:n,:n} + \gamma I) z = r_{:n}` for every n, γ.

    A Cholesky factor of :math:`G + \gamma I` contains the factors of all its leading blocks, so
    each ridge is factorized **once**, at the largest size, for all ``sizes`` (the nested cells of
    a grid). With :data:`EIGH_MIN_RIDGES` or more positive ridges, each size is diagonalized once
    for all ridges instead. Well-conditioned systems (:math:`(\mathrm{tr}\,G+\gamma)/\gamma \le`
    :data:`MIXED_PRECISION_COND_MAX`) use a float32 factor refined to float64 accuracy.

    Parameters
    ----------
    gram : ndarray of shape (m, m)
        Symmetric positive semi-definite G; only the upper triangle is read.
    rhs : ndarray of shape (m,)
    ridges : ndarray of shape (n_ridges,)
    sizes : sequence of int
        Leading-block sizes n ≤ m, increasing.
    square_size : int, optional
        The size n whose system comes from a square Φ (N = P): γ = 0 is not attempted there (such
        a Gram is numerically singular: its condition is the square of cond(Φ)).

    Returns
    -------
    list of (solutions, ok), one per size
        ``solutions`` of shape (n, n_ridges); ``ok`` of shape (n_ridges,) is False where the Gram
        route cannot be trusted (:math:`\mathrm{rcond} \le` :data:`GRAM_RCOND_MIN`, a failed
        factorization, or γ = 0 at ``square_size``); those columns are NaN, for the caller to
        recompute from Φ.
    """
    sizes = list(sizes)
    out = [(np.full((n, ridges.size), np.nan), np.zeros(ridges.size, dtype=bool)) for n in sizes]
    positive = np.flatnonzero(ridges > 0)
    todo = list(range(ridges.size))
    if positive.size >= EIGH_MIN_RIDGES:
        for k, n in enumerate(sizes):
            _eigh_solve(gram[:n, :n], rhs[:n], ridges, positive, *out[k])
        todo = [i for i in todo if ridges[i] == 0]
    blocks = [np.asfortranarray(gram[:n, :n]) for n in sizes]  # contiguous, reused per ridge
    for i in todo:
        gamma = ridges[i]
        usable = [k for k, n in enumerate(sizes) if gamma > 0 or n != square_size]
        if not usable:
            continue
        top = blocks[usable[-1]]
        trace = float(np.sum(np.diag(top)))
        if gamma > 0 and (trace + gamma) / gamma <= MIXED_PRECISION_COND_MAX:
            factor32 = _factor(top, gamma, np.float32)
            for k in list(usable):
                z = _refine(blocks[k], rhs[: sizes[k]], gamma, factor32)
                if z is not None:
                    out[k][0][:, i], out[k][1][i] = z, True
                    usable.remove(k)
            del factor32
            if not usable:
                continue
            top = blocks[usable[-1]]
        factor = _factor(top, gamma, np.float64)
        for k in usable:
            n = sizes[k]
            if factor is None or factor.shape[0] < n:
                continue  # the factorization broke down before this leading block
            head = np.asfortranarray(factor[:n, :n])
            if gamma < 10 * GRAM_RCOND_MIN * (float(np.sum(np.diag(blocks[k]))) + gamma):
                rcond, _ = sla.lapack.dpocon(head, _upper_norm1(blocks[k]) + gamma, uplo="U")
                if rcond <= GRAM_RCOND_MIN:
                    continue
            out[k][0][:, i] = sla.lapack.dpotrs(head, rhs[:n], lower=0)[0]
            out[k][1][i] = True
    return out


def _eigh_solve(gram, rhs, ridges, positive, out, ok) -> None:
    """All positive ridges of one system from one ``eigh`` (fills ``out`` and ``ok``)."""
    evals, evecs = sla.eigh(gram, lower=False, check_finite=False, driver="evd")
    proj = evecs.T @ rhs
    top = max(evals[-1], 0.0)
    for i in positive:
        shifted = evals + ridges[i]
        if shifted[0] > GRAM_RCOND_MIN * (top + ridges[i]):
            out[:, i] = evecs @ (proj / shifted)
            ok[i] = True


def _factor(gram: np.ndarray, gamma: float, dtype) -> np.ndarray | None:
    """Upper Cholesky factor of G + γI in ``dtype``, cut to the leading block that succeeded."""
    shifted = np.array(gram, dtype=dtype, order="F")
    shifted[np.diag_indices(gram.shape[0])] += dtype(gamma)
    potrf = sla.lapack.spotrf if dtype == np.float32 else sla.lapack.dpotrf
    factor, info = potrf(shifted, lower=0, clean=0, overwrite_a=1)
    if info > 0:  # leading (info - 1) block is factored; the rest is not positive definite
        return factor[: info - 1, : info - 1] if info > 1 else None
    return factor


def _refine(gram: np.ndarray, rhs: np.ndarray, gamma: float, factor32) -> np.ndarray | None:
    r"""Float64 iterative refinement on a float32 Cholesky factor (LAPACK ``dsposv``'s method).

    Repeats :math:`z \leftarrow z + (R^\top R)^{-1}(r - (G+\gamma I)z)`, residuals in float64,
    until :math:`\|r - (G+\gamma I)z\|_\infty \le \sqrt{n}\,\epsilon\,(\mathrm{tr}\,G+\gamma)
    \,\|z\|_\infty`; returns None after 30 steps without convergence. ``gram`` must be the
    contiguous (n, n) block; the factor's leading block is used.
    """
    n = gram.shape[0]
    if factor32 is None or factor32.shape[0] < n:
        return None
    head = np.asfortranarray(factor32[:n, :n])  # one contiguous copy, not one per step
    tol = np.sqrt(n) * np.finfo(np.float64).eps * (float(np.sum(np.diag(gram))) + gamma)
    z = np.zeros(n)
    for _ in range(30):
        resid = rhs - sla.blas.dsymv(1.0, gram, z, lower=0) - gamma * z
        if np.max(np.abs(resid)) <= tol * max(np.max(np.abs(z)), 1e-300):
            return z
        step, _ = sla.lapack.spotrs(head, resid.astype(np.float32), lower=0)
        z = z + step
    return None


def _mixed_precision_solve(gram: np.ndarray, rhs: np.ndarray, gamma: float):
    """One system by float32 Cholesky + float64 refinement (None if that does not converge)."""
    block = np.asfortranarray(gram)
    return _refine(block, rhs, gamma, _factor(block, gamma, np.float32))


def _upper_norm1(gram: np.ndarray) -> float:
    """An upper bound of ‖G‖₁ for the symmetric G whose upper triangle is stored in ``gram``.

    Exact when the stored lower triangle is zero (the running Grams of the engine); at most twice
    ‖G‖₁ when both triangles are stored — a conservative bound for the condition estimate.
    """
    absolute = np.abs(gram)
    return float(np.max(absolute.sum(axis=0) + absolute.sum(axis=1) - np.diag(absolute)))


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
        # Factor Φᵀ (a Fortran-ordered view of C-ordered Φ: no transposing copy), solve Φθ = y.
        transposed = features.T
        lu, piv, info = sla.lapack.dgetrf(transposed)
        if info == 0:
            # ‖Φᵀ‖₁ ≤ √n ‖Φ‖_F: an upper bound makes the estimate conservative, without a temporary.
            norm1 = np.sqrt(n_samples * np.einsum("ij,ij->", features, features))
            rcond, _ = sla.lapack.dgecon(lu, norm1, norm="1")
            if rcond > cutoff:
                return sla.lapack.dgetrs(lu, piv, targets, trans=1)[0]
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
