r"""Ridge readout in the sum-of-squares convention of ``docs/model.md`` §3.

.. math:: \theta^*(\gamma) = \arg\min_\theta \sum_{\mu=1}^{P} \|\theta^\top\phi(x_\mu) - y_\mu\|^2
          + \gamma\|\theta\|^2 = (\Phi^\top\Phi + \gamma I_N)^{-1}\Phi^\top Y
          = \Phi^\top(\Phi\Phi^\top + \gamma I_P)^{-1} Y

=========  ================  ===============================================
symbol     name              meaning
=========  ================  ===============================================
Φ          ``features``      feature matrix, shape (P, N)
Y          ``targets``       labels, shape (P,) or (P, C) for C outputs
γ          ``ridge``         ridge on the sum of squared errors
θ          ``readout``       trained weights, shape (N,) or (N, C)
=========  ================  ===============================================

How it is solved, one system at a time:

* **Primal or dual by shape.** With N ≤ P the N×N Gram ΦᵀΦ is factorized, otherwise the P×P
  Gram ΦΦᵀ, so the cost is O(min(N, P)^3) after the Gram.
* **Many ridges, one factorization.** With :data:`EIGH_MIN_RIDGES` or more positive ridges the
  Gram is diagonalized once (``eigh``) and every ridge is a diagonal rescaling; with fewer, one
  Cholesky per ridge (well-conditioned systems: a float32 factor refined to float64 accuracy).
* **γ = 0 is the minimum-norm interpolator**, never a singular solve. It is taken from the Gram
  only when the Gram's reciprocal condition number is above :data:`GRAM_RCOND_MIN`; otherwise
  (at and near N = P, where squaring Φ would lose the small singular values, and in rank-deficient
  cells) it is computed from Φ itself: LU for square full-rank Φ, else a rank-revealing complete
  orthogonal factorization (LAPACK ``gelsy``), both backward stable. Systems the Gram cannot
  resolve (condition above 1/GRAM_RCOND_MIN) whose Cholesky factor exists are first refined with
  residuals formed from Φ (the corrected semi-normal equations, O(n²) per step); positive ridges
  where that does not converge go through a QR factorization of the augmented matrix
  :math:`[\Phi; \sqrt\gamma I]` (or :math:`[\Phi^\top; \sqrt\gamma I]` in the dual), whose
  condition is the square root of the Gram's.

Every solution records its **route** (:data:`ROUTES`), so a caller can say how a number was
computed. A ridge's solution depends only on the system and on that ridge (and on the route,
which the count of positive ridges chooses), never on the other ridges solved with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

from .._validation import InputError, check_float_list
from ._lapack import potrf
from .stable import augmented_ridge, min_norm_solve, stable_readouts, svd_ridge

__all__ = [
    "EIGH_MIN_RIDGES",
    "GRAM_RCOND_MIN",
    "MIXED_PRECISION_COND_MAX",
    "ROUTES",
    "GramSolution",
    "RidgeFit",
    "fit_ridge",
    "independent_ridges",
    "solve_ridge",
    "solve_gram",
    "stable_readouts",
    "augmented_ridge",
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

#: Names of the routes a solution can take.
ROUTES = (
    "cholesky",  # float64 Cholesky of G + γI
    "cholesky-mixed",  # float32 Cholesky refined to float64 accuracy
    "eigh",  # one eigendecomposition for all positive ridges
    "min-norm-lu",  # γ = 0, square full-rank Φ: LU of Φ
    "min-norm-gelsy",  # γ = 0: complete orthogonal factorization of Φ
    "cholesky-refined",  # beyond the Gram's resolution: its factor, residuals from Φ
    "qr-augmented",  # γ > 0 beyond the Gram's resolution: QR of [Φ; √γ I]
)


@dataclass(frozen=True)
class GramSolution:
    """Solutions of :math:`(G + \\gamma I) Z = R`, one per ridge.

    Attributes
    ----------
    solutions : ndarray of shape (n, n_targets, n_ridges)
        NaN in the columns that are not ``ok``.
    ok : ndarray of shape (n_ridges,)
        False where the Gram route cannot be trusted (the caller recomputes from Φ).
    routes : tuple of str
        Per ridge, the route taken (``""`` where not ok).
    factors : tuple of ndarray or None
        Per ridge that is not ok, the float64 Cholesky factor of G + γI if it exists (for
        :func:`~scalinglaws.sampling.stable.refined_ridge`); None elsewhere.
    """

    solutions: np.ndarray
    ok: np.ndarray
    routes: tuple[str, ...]
    factors: tuple = ()


@dataclass(frozen=True)
class RidgeFit:
    """Ridge readouts and how they were computed.

    Attributes
    ----------
    readouts : ndarray of shape (n_features, n_targets, n_ridges)
        Column ``[:, c, r]`` is θ*(ridges[r]) for target column c.
    routes : tuple of str
        Per ridge, the route of :data:`ROUTES` that gave it.
    """

    readouts: np.ndarray
    routes: tuple[str, ...]

    def to_dataset(self):
        """Readouts with dims (feature, target, ridge) and the route of each ridge."""
        import xarray as xr

        return xr.Dataset(
            {"readouts": (("feature", "target", "ridge"), self.readouts),
             "route": ("ridge", list(self.routes))},  # fmt: skip
            attrs={"source": "ridge regression"},
        )

def _as_problem(features, targets, ridges):
    phi = np.asarray(features, dtype=np.float64)
    y = np.asarray(targets, dtype=np.float64)
    if phi.ndim != 2 or y.ndim not in (1, 2) or y.shape[0] != phi.shape[0]:
        raise InputError(
            "'features' must have shape (n_samples, n_features) and 'targets' shape (n_samples,) "
            f"or (n_samples, n_targets). Got {phi.shape} and {y.shape} instead."
        )
    gammas = np.atleast_1d(np.asarray(ridges, dtype=np.float64)).ravel()
    check_float_list("ridges", gammas.tolist())
    return phi, y.reshape(y.shape[0], -1), gammas


def solve_ridge(features: np.ndarray, targets: np.ndarray, ridges) -> RidgeFit:
    r"""Ridge readouts θ*(γ) for each γ in ``ridges``, with the route each one took.

    .. math:: \theta^*(\gamma) = (\Phi^\top\Phi + \gamma I)^{-1}\Phi^\top Y
              = \Phi^\top(\Phi\Phi^\top + \gamma I)^{-1} Y, \qquad
              \theta^*(0) = \Phi^+ Y

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
    targets : ndarray of shape (n_samples,) or (n_samples, n_targets)
    ridges : float or sequence of float
        γ ≥ 0, in any order; solutions come back in the order given.

    Returns
    -------
    RidgeFit
        ``readouts`` of shape (n_features, n_targets, n_ridges) (n_targets = 1 for 1-D targets).

    Examples
    --------
    >>> phi = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    >>> fit = solve_ridge(phi, np.array([1.0, 2.0, 2.0]), [0.0, 1.0])
    >>> fit.readouts.shape, fit.routes
    ((2, 1, 2), ('cholesky', 'cholesky-mixed'))
    """
    phi, y, gammas = _as_problem(features, targets, ridges)
    n_samples, n_features = phi.shape
    if n_features <= n_samples:
        sol = solve_gram(phi.T @ phi, phi.T @ y, gammas, square=n_features == n_samples)
        theta = sol.solutions
    else:
        sol = solve_gram(phi @ phi.T, y, gammas)
        theta = np.einsum("pn,pcr->ncr", phi, np.nan_to_num(sol.solutions))
    routes = list(sol.routes)
    if not sol.ok.all():
        bad = np.flatnonzero(~sol.ok)
        fixed, fixed_routes = stable_readouts(
            phi, y, gammas[bad], [sol.factors[i] for i in bad], dual=n_features > n_samples
        )
        theta[:, :, bad] = fixed
        for k, r in enumerate(bad):
            routes[r] = fixed_routes[k]
    return RidgeFit(theta, tuple(routes))


def fit_ridge(features: np.ndarray, targets: np.ndarray, ridges) -> np.ndarray:
    r"""Ridge readouts θ*(γ) for each γ in ``ridges`` (sum-of-squares convention).

    .. math:: \theta^*(\gamma) = (\Phi^\top\Phi + \gamma I)^{-1}\Phi^\top y

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
        Φ, rows φ(x_μ).
    targets : ndarray of shape (n_samples,) or (n_samples, n_targets)
        y (or one column per output, e.g. one-hot labels).
    ridges : float or sequence of float
        γ ≥ 0 values; γ = 0 gives the minimum-norm least-squares solution (pseudo-inverse).

    Returns
    -------
    ndarray of shape (n_features, n_ridges), or (n_features, n_targets, n_ridges) for 2-D targets
        Column *r* is θ*(ridges[r]), in the order given. :func:`solve_ridge` also says which
        route each solution took.

    Examples
    --------
    >>> phi = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    >>> y = np.array([1.0, 2.0, 2.0])
    >>> np.round(fit_ridge(phi, y, [0.0])[:, 0], 6)
    array([1., 1.])
    """
    readouts = solve_ridge(features, targets, ridges).readouts
    return readouts[:, 0, :] if np.ndim(targets) == 1 else readouts


def solve_gram(
    gram: np.ndarray, rhs: np.ndarray, ridges: np.ndarray, *, square: bool = False
) -> GramSolution:
    r"""Solve :math:`(G + \gamma I) Z = R` for each γ, on its own (no other system shares work).

    Parameters
    ----------
    gram : ndarray of shape (n, n)
        Symmetric positive semi-definite G; only the upper triangle is read.
    rhs : ndarray of shape (n,) or (n, n_targets)
    ridges : ndarray of shape (n_ridges,)
    square : bool
        Whether G comes from a square Φ (N = P): γ = 0 is then not attempted (such a Gram is
        numerically singular: its condition is the square of cond(Φ)).

    Returns
    -------
    GramSolution
    """
    gram = np.asfortranarray(gram, dtype=np.float64)
    rhs = np.asarray(rhs, dtype=np.float64).reshape(gram.shape[0], -1)
    ridges = np.asarray(ridges, dtype=np.float64)
    n = gram.shape[0]
    out = np.full((n, rhs.shape[1], ridges.size), np.nan)
    ok = np.zeros(ridges.size, dtype=bool)
    routes = [""] * ridges.size
    positive = np.flatnonzero(ridges > 0)
    todo = range(ridges.size)
    if positive.size >= EIGH_MIN_RIDGES:
        _eigh_solve(gram, rhs, ridges, positive, out, ok, routes)
        todo = np.flatnonzero(ridges == 0)
    factors: list = [None] * ridges.size
    trace = float(np.sum(np.diag(gram)))
    for i in todo:
        gamma = float(ridges[i])
        if gamma == 0 and square:
            continue
        if gamma > 0 and (trace + gamma) / gamma <= MIXED_PRECISION_COND_MAX:
            z = _refine(gram, rhs, gamma, _factor(gram, gamma, np.float32))
            if z is not None:
                out[:, :, i], ok[i], routes[i] = z, True, "cholesky-mixed"
                continue
        factor = _factor(gram, gamma, np.float64)
        if factor is None:
            continue
        if gamma < 10 * GRAM_RCOND_MIN * (trace + gamma):
            rcond, _ = sla.lapack.dpocon(factor, _upper_norm1(gram) + gamma, uplo="U")
            if not rcond > GRAM_RCOND_MIN:
                factors[i] = factor
                continue
        out[:, :, i] = sla.lapack.dpotrs(factor, rhs, lower=0)[0]
        ok[i], routes[i] = True, "cholesky"
    return GramSolution(out, ok, tuple(routes), tuple(factors))


def independent_ridges(ridges) -> list[np.ndarray]:
    """Groups of indices into ``ridges`` that :func:`solve_gram` solves without sharing work.

    Below :data:`EIGH_MIN_RIDGES` positive ridges every ridge has its own Cholesky
    factorization, so each is a group; from there on the positive ridges share one ``eigh``
    (one group) and each γ = 0 is a group of its own. Solving each group by its own call gives
    the same numbers as one call with all the ridges, since the route of a ridge depends only on
    this count.

    Parameters
    ----------
    ridges : array_like of shape (n_ridges,)
        γ ≥ 0, as given to :func:`solve_gram`.

    Returns
    -------
    list of ndarray of int
        Disjoint index groups covering ``range(n_ridges)``; the engine solves each (cell, group)
        as its own task.

    Examples
    --------
    >>> [g.tolist() for g in independent_ridges([0.0, 1e-4, 1e-2])]
    [[0], [1], [2]]
    >>> [g.tolist() for g in independent_ridges([0.0, *np.geomspace(1e-4, 1, 8)])]
    [[1, 2, 3, 4, 5, 6, 7, 8], [0]]
    """
    ridges = np.asarray(ridges, dtype=np.float64)
    positive = np.flatnonzero(ridges > 0)
    if positive.size >= EIGH_MIN_RIDGES:
        return [positive, *(np.array([i]) for i in np.flatnonzero(ridges <= 0))]
    return [np.array([i]) for i in range(ridges.size)]


def _eigh_solve(gram, rhs, ridges, positive, out, ok, routes) -> None:
    """All positive ridges of one system from one ``eigh`` (fills ``out``, ``ok``, ``routes``)."""
    evals, evecs = sla.eigh(gram, lower=False, check_finite=False, driver="evd")
    proj = evecs.T @ rhs
    top = max(evals[-1], 0.0)
    for i in positive:
        shifted = evals + ridges[i]
        if shifted[0] > GRAM_RCOND_MIN * (top + ridges[i]):
            out[:, :, i] = evecs @ (proj / shifted[:, None])
            ok[i], routes[i] = True, "eigh"


def _factor(gram: np.ndarray, gamma: float, dtype) -> np.ndarray | None:
    """Upper Cholesky factor of G + γI in ``dtype``, or None if G + γI is not positive definite."""
    shifted = np.array(gram, dtype=dtype, order="F")
    shifted[np.diag_indices(gram.shape[0])] += dtype(gamma)
    return None if potrf(shifted) != 0 else shifted  # releases the GIL (see sampling._lapack)


def _refine(gram: np.ndarray, rhs: np.ndarray, gamma: float, factor32) -> np.ndarray | None:
    r"""Float64 iterative refinement on a float32 Cholesky factor (LAPACK ``dsposv``'s method).

    Repeats :math:`Z \leftarrow Z + (R^\top R)^{-1}(B - (G+\gamma I)Z)`, residuals in float64,
    until every column has :math:`\|b - (G+\gamma I)z\|_\infty \le \sqrt{n}\,\epsilon\,
    (\mathrm{tr}\,G+\gamma)\,\|z\|_\infty`; returns None after 30 steps without convergence.
    ``gram`` is the Fortran-ordered (n, n) system, ``rhs`` of shape (n, n_targets).

    One target column (the usual case) goes through the matrix-vector kernels ``dsymv`` and two
    ``strsv``: OpenBLAS's ``dsymm`` and ``spotrs`` with one column were 6-10 times slower than
    them at n = 2048 (``benchmarks/bench_kernels.py``). The kernel changes the sums' order
    only, so the refined solution meets the same tolerance.
    """
    if factor32 is None:
        return None
    n = gram.shape[0]
    tol = np.sqrt(n) * np.finfo(np.float64).eps * (float(np.sum(np.diag(gram))) + gamma)
    if rhs.shape[1] == 1:
        product, correction = _symv_columns, _trsv_columns
    else:
        product, correction = _symm_columns, _potrs_columns
    z = np.zeros(rhs.shape)
    for _ in range(30):
        resid = rhs - product(gram, z) - gamma * z
        scale = np.maximum(np.max(np.abs(z), axis=0), 1e-300)
        if np.all(np.max(np.abs(resid), axis=0) <= tol * scale):
            return z
        z = z + correction(factor32, resid.astype(np.float32))
    return None


def _symm_columns(gram: np.ndarray, z: np.ndarray) -> np.ndarray:
    """G Z from the upper triangle of ``gram`` (float64, any number of columns)."""
    return sla.blas.dsymm(1.0, gram, z, lower=0)


def _symv_columns(gram: np.ndarray, z: np.ndarray) -> np.ndarray:
    """G z from the upper triangle of ``gram`` for one column z of shape (n, 1)."""
    return sla.blas.dsymv(1.0, gram, z[:, 0], lower=0)[:, None]


def _potrs_columns(factor: np.ndarray, resid: np.ndarray) -> np.ndarray:
    """(RᵀR)⁻¹ B for the upper float32 Cholesky factor R (any number of columns)."""
    return sla.lapack.spotrs(factor, resid, lower=0)[0]


def _trsv_columns(factor: np.ndarray, resid: np.ndarray) -> np.ndarray:
    """(RᵀR)⁻¹ b for the upper float32 Cholesky factor R and one column b of shape (n, 1)."""
    half = sla.blas.strsv(factor, resid[:, 0], trans=1, lower=0)
    return sla.blas.strsv(factor, half, trans=0, lower=0, overwrite_x=1)[:, None]


def _upper_norm1(gram: np.ndarray) -> float:
    """An upper bound of ‖G‖₁ for the symmetric G whose upper triangle is stored in ``gram``.

    Exact when the stored lower triangle is zero; at most twice ‖G‖₁ when both triangles are
    stored — a conservative bound for the condition estimate.
    """
    absolute = np.abs(gram)
    return float(np.max(absolute.sum(axis=0) + absolute.sum(axis=1) - np.diag(absolute)))
