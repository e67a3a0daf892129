r"""Ridge solutions computed from Φ itself, for the systems its Gram cannot resolve.

The fallbacks of :mod:`scalinglaws.sampling.ridge` (which owns them: callers use
:func:`~scalinglaws.sampling.ridge.solve_ridge` or, in the engine, :func:`stable_readouts`):

- γ = 0 — the minimum-norm interpolator :math:`\Phi^+ Y`: LU of a square full-rank Φ (checked by
  its condition estimate), else a complete orthogonal factorization (LAPACK ``gelsy``);
- beyond the Gram's resolution, when its Cholesky factor R exists — the corrected semi-normal
  equations (:func:`refined_ridge`): the Gram solution refined with residuals formed from Φ,
  O(n²) per step instead of O(n³);
- γ > 0 where that does not converge — least squares on the augmented matrix
  :math:`[\Phi; \sqrt\gamma I]` by Householder QR, whose condition is the square root of the
  Gram's;
- :func:`svd_ridge`, the slow reference route used in tests.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.linalg as sla

__all__ = ["stable_readouts", "refined_ridge", "augmented_ridge", "min_norm_solve", "svd_ridge"]

#: Refinement steps :func:`refined_ridge` tries before giving up.
REFINE_STEPS = 6
#: Largest contraction of successive corrections accepted as convergence (then the error left is
#: below ρ/(1-ρ) times the last correction).
REFINE_CONTRACTION = 0.05
#: Largest last correction, relative to the solution, accepted as convergence.
REFINE_RTOL = 1e-10


def stable_readouts(
    features: np.ndarray,
    targets: np.ndarray,
    ridges: np.ndarray,
    factors: Sequence[np.ndarray | None] | None = None,
    *,
    dual: bool = False,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Readouts from Φ itself, for ridges the Gram route could not trust.

    Where the Gram's Cholesky factor is given, :func:`refined_ridge` first; then minimum norm
    (:func:`min_norm_solve`) for γ = 0 and for γ > 0 the least-squares problem
    :func:`augmented_ridge`, backward stable in Φ (its condition is √cond(G + γI)).

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
    targets : ndarray of shape (n_samples, n_targets)
    ridges : ndarray of shape (n_ridges,)
    factors : sequence of ndarray or None, optional
        Per ridge, the upper Cholesky factor of the Gram plus γI (or None).
    dual : bool
        Whether the factors are of ΦΦᵀ + γI (else ΦᵀΦ + γI).

    Returns
    -------
    readouts : ndarray of shape (n_features, n_targets, n_ridges)
    routes : tuple of str, one per ridge
    """
    y = np.asarray(targets, dtype=np.float64).reshape(features.shape[0], -1)
    out = np.empty((features.shape[1], y.shape[1], ridges.size))
    routes = [""] * ridges.size
    todo = np.ones(ridges.size, dtype=bool)
    for i, factor in enumerate(factors or ()):
        if factor is not None:
            theta = refined_ridge(features, y, float(ridges[i]), factor, dual=dual)
            if theta is not None:
                out[:, :, i], routes[i], todo[i] = theta, "cholesky-refined", False
    zero = todo & (ridges == 0)
    if zero.any():
        theta, route = _min_norm(features, y)
        out[:, :, zero] = theta[:, :, None]
        for i in np.flatnonzero(zero):
            routes[i] = route
    for i in np.flatnonzero(todo & (ridges != 0)):
        out[:, :, i] = augmented_ridge(features, y, float(ridges[i]))
        routes[i] = "qr-augmented"
    return out, tuple(routes)


def refined_ridge(
    features: np.ndarray, targets: np.ndarray, ridge: float, factor: np.ndarray, *, dual: bool
) -> np.ndarray | None:
    r"""The ridge readout from the Gram's Cholesky factor, refined with residuals from Φ.

    With A = Φ (primal: unknown θ, right side c = AᵀY) or A = Φᵀ (dual: unknown α, c = Y,
    θ = Φᵀα), the corrected semi-normal equations (Björck) start from the Gram solution
    :math:`z_0 = R^{-1}R^{-	op}c` and repeat

    .. math:: r_k = c - A^	op(A z_k) - \gamma z_k, \qquad z_{k+1} = z_k + R^{-1}R^{-	op} r_k,

    the primal residual formed as :math:`A^	op(Y - A	heta) - \gamma	heta` (the least-squares
    residual Y − Φθ is where the Gram loses accuracy). Since RᵀR is G + γI up to the rounding
    of forming and factoring G, each step contracts the error by about eps·cond(G + γI), so two
    or three steps reach the accuracy of a backward-stable solver where cond(G + γI) ≪ 1/eps,
    at O(n·max(N, P)) per step instead of the O(n²·(N + P)) of a QR factorization.

    Converged when a correction is at most :data:`REFINE_RTOL` of the solution and at most
    :data:`REFINE_CONTRACTION` of the one before (the error left is then below 6 % of the last
    correction); ``None`` after :data:`REFINE_STEPS` steps without that (the caller falls back
    to a factorization of Φ).

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
    targets : ndarray of shape (n_samples, n_targets)
    ridge : float
        γ ≥ 0.
    factor : ndarray of shape (n, n)
        Upper Cholesky factor R of G + γI, G = ΦᵀΦ (n = N) or, if ``dual``, ΦΦᵀ (n = P).
    dual : bool

    Returns
    -------
    ndarray of shape (n_features, n_targets), or None
    """
    phi = np.asarray(features, dtype=np.float64)
    y = np.asarray(targets, dtype=np.float64).reshape(phi.shape[0], -1)

    def solve(rhs):
        return sla.lapack.dpotrs(factor, rhs, lower=0)[0]

    if dual:
        def residual(z):
            return y - phi @ (phi.T @ z) - ridge * z
        z = solve(y)
    else:
        def residual(z):
            return phi.T @ (y - phi @ z) - ridge * z
        z = solve(phi.T @ y)
    previous = np.inf  # no contraction measured yet: the first step is never accepted
    for _ in range(REFINE_STEPS):
        step = solve(residual(z))
        z = z + step
        size = float(np.max(np.abs(step)))
        if not np.isfinite(size):
            return None
        scale = float(np.max(np.abs(z)))
        # two steps at least: the contraction is measured, not assumed
        if size == 0 or (size <= REFINE_RTOL * scale and size <= REFINE_CONTRACTION * previous):
            return phi.T @ z if dual else z
        previous = size
    return None


def augmented_ridge(features: np.ndarray, targets: np.ndarray, ridge: float) -> np.ndarray:
    r"""One ridge from a QR factorization of the augmented matrix, without forming a Gram.

    Primal (N ≤ P): :math:`\theta = \arg\min \|[\Phi; \sqrt\gamma I_N]\theta - [Y; 0]\|`.
    Dual (P < N): :math:`\theta = \Phi^\top\alpha`, :math:`\alpha = \arg\min
    \|[\Phi^\top; \sqrt\gamma I_P]\alpha - [0; Y/\sqrt\gamma]\|`, since the normal equations of
    that problem are :math:`(\Phi\Phi^\top + \gamma I)\alpha = Y`. Cost
    :math:`2\min(N,P)^2 (N+P)`; condition :math:`\sqrt{\mathrm{cond}(G + \gamma I)}`.

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
    targets : ndarray of shape (n_samples, n_targets)
    ridge : float
        γ > 0.

    Returns
    -------
    ndarray of shape (n_features, n_targets)
    """
    phi = np.asarray(features, dtype=np.float64)
    y = np.asarray(targets, dtype=np.float64).reshape(phi.shape[0], -1)
    n_samples, n_features = phi.shape
    root = np.sqrt(ridge)
    if n_features <= n_samples:
        matrix = np.vstack([phi, root * np.eye(n_features)])
        rhs = np.vstack([y, np.zeros((n_features, y.shape[1]))])
        return _qr_solve(matrix, rhs)
    matrix = np.vstack([phi.T, root * np.eye(n_samples)])
    rhs = np.vstack([np.zeros((n_features, y.shape[1])), y / root])
    return phi.T @ _qr_solve(matrix, rhs)


def _qr_solve(matrix: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Least squares with a full-column-rank tall matrix: blocked Householder QR (LAPACK
    ``geqrf``/``ormqr`` with their optimal workspaces), then a triangular solve."""
    m, k = matrix.shape
    lapack = sla.lapack
    work, info = lapack.dgeqrf_lwork(m, k)
    qr, tau, _, info = lapack.dgeqrf(np.asfortranarray(matrix), lwork=int(work), overwrite_a=1)
    if info != 0:  # pragma: no cover - only for invalid arguments
        raise RuntimeError(f"dgeqrf failed with info={info}")
    c = np.asfortranarray(rhs)
    query = lapack.dormqr("L", "T", qr, tau, c, -1)[1]
    qtb, _, info = lapack.dormqr("L", "T", qr, tau, c, int(query[0]), overwrite_c=1)
    if info != 0:  # pragma: no cover
        raise RuntimeError(f"dormqr failed with info={info}")
    solution, _ = lapack.dtrtrs(qr[:k, :k], qtb[:k], lower=0)
    return solution


def _min_norm(features: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, str]:
    n_samples, n_features = features.shape
    cutoff = max(n_samples, n_features) * np.finfo(np.float64).eps
    if n_samples == n_features:
        # Factor Φᵀ (a Fortran-ordered view of C-ordered Φ: no transposing copy), solve Φθ = y.
        transposed = np.asarray(features).T
        lu, piv, info = sla.lapack.dgetrf(transposed)
        if info == 0:
            # ‖Φᵀ‖₁ ≤ √n ‖Φ‖_F: an upper bound makes the estimate conservative, without a temporary.
            norm1 = np.sqrt(n_samples * np.einsum("ij,ij->", features, features))
            rcond, _ = sla.lapack.dgecon(lu, norm1, norm="1")
            if rcond > cutoff:
                return sla.lapack.dgetrs(lu, piv, targets, trans=1)[0], "min-norm-lu"
    solution, *_ = sla.lstsq(features, targets, cond=cutoff, lapack_driver="gelsy")
    return solution.reshape(n_features, -1), "min-norm-gelsy"


def min_norm_solve(features: np.ndarray, targets: np.ndarray) -> np.ndarray:
    r"""Minimum-norm least-squares solution :math:`\Phi^+ y`, stable at and near N = P.

    Square full-rank Φ: LU with partial pivoting (checked by its condition estimate); otherwise
    LAPACK ``gelsy`` with rank cutoff ``max(P, N) * eps`` relative to the largest singular value.

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
    targets : ndarray of shape (n_samples,) or (n_samples, n_targets)

    Returns
    -------
    ndarray of shape (n_features,) or (n_features, n_targets)
    """
    y = np.asarray(targets, dtype=np.float64)
    theta, _ = _min_norm(np.asarray(features, dtype=np.float64), y.reshape(y.shape[0], -1))
    return theta[:, 0] if y.ndim == 1 else theta


def svd_ridge(features: np.ndarray, targets: np.ndarray, ridges: Sequence[float]) -> np.ndarray:
    r"""Reference ridge path from the SVD :math:`\Phi = A S B^\top` (slow, most accurate).

    .. math:: \theta(\gamma) = B\,\mathrm{diag}\!\left(\frac{s}{s^2+\gamma}\right) A^\top y,
              \quad s/(s^2+0) := 1/s \text{ for } s > \max(P,N)\,\epsilon\, s_1 \text{ else } 0

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
    targets : ndarray of shape (n_samples,) or (n_samples, n_targets)
    ridges : sequence of float

    Returns
    -------
    ndarray of shape (n_features, n_ridges), or (n_features, n_targets, n_ridges) for 2-D targets
    """
    y = np.asarray(targets, dtype=np.float64)
    a, s, bt = sla.svd(features, full_matrices=False, check_finite=False)
    proj = a.T @ y.reshape(y.shape[0], -1)  # (k, C)
    gammas = np.atleast_1d(np.asarray(ridges, dtype=np.float64))
    cutoff = max(features.shape) * np.finfo(np.float64).eps * (s[0] if s.size else 0.0)
    keep = s > cutoff
    filt = np.zeros((s.size, gammas.size))
    filt[keep] = s[keep, None] / (s[keep, None] ** 2 + gammas[None, :])
    out = np.einsum("kn,kc,kr->ncr", bt, proj, filt)
    return out[:, 0, :] if y.ndim == 1 else out
