r"""Gaussian expectations by a polar Gauss quadrature, for activations without a closed form.

Quadrature
----------
With :math:`h_1 = \sqrt{c_{11}}\, r\cos\varphi` and
:math:`h_2 = \sqrt{c_{22}}\, r\cos(\varphi-\theta)` (polar coordinates of the whitened pair),

.. math::

    E[f(h_1)\,g(h_2)] = \frac{1}{2\pi}\int_0^{2\pi}\! d\varphi \int_0^\infty\! r e^{-r^2/2}\,
    f(\sqrt{c_{11}}\, r\cos\varphi)\, g(\sqrt{c_{22}}\, r\cos(\varphi-\theta))\, dr .

The angles where either argument changes sign, :math:`\varphi \in \{\pi/2, \pi/2+\theta, 3\pi/2,
3\pi/2+\theta\}`, split the circle into four sectors; inside each, both arguments keep their sign,
so functions that are smooth except at 0 (relu, abs, sign) give a smooth integrand. Each sector
uses Gauss–Legendre in φ and a Gauss rule for the weight :math:`r e^{-r^2/2}` on
:math:`[0, \infty)` in r. The rule is exact for relu, abs, sign and quadratic, spectrally accurate
for smooth σ, and handles ρ = ±1 without a special case (two sectors then have zero width).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from numpy.polynomial.legendre import leggauss

from .._validation import check_positive_int, warn_numerical

__all__ = [
    "gauss_hermite",
    "gaussian_expectation",
    "quadrature_kernel",
    "radial_gauss_rule",
    "root_product",
    "correlation",
]


#: Memory budget (bytes) for the temporary node arrays of one quadrature chunk.
_CHUNK_BYTES = 100_000_000
#: Node ladder used by the automatic node count (nodes per sector in φ and in r).
_NODE_LADDER = (12, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 128, 160, 192)


def gauss_hermite(n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes z and weights w with Σ w f(z) ≈ E[f(Z)], Z ~ N(0, 1) (probabilists' Hermite)."""
    nodes, weights = hermegauss(n_nodes)
    return nodes, weights / np.sqrt(2.0 * np.pi)


@lru_cache(maxsize=32)
def radial_gauss_rule(n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Gauss rule for the weight :math:`r e^{-r^2/2}` on :math:`[0, \infty)` (total mass 1).

    .. math:: \int_0^\infty r e^{-r^2/2} f(r)\, dr \approx \sum_k w_k f(r_k),

    exact for polynomials of degree < ``2 * n_nodes``. Built by Lanczos (with reorthogonalization)
    on a fine composite Gauss–Legendre discretization of the weight, then Golub–Welsch; the weights
    come from the Christoffel function, so tiny tail weights keep their relative accuracy.

    Returns
    -------
    nodes, weights : ndarray of shape (n_nodes,)
    """
    n = check_positive_int("n_nodes", n_nodes)
    top = max(16.0, 2.0 * np.sqrt(4.0 * n + 10.0))  # well past the largest node
    edges = np.linspace(0.0, top, int(2 * top) + 1)
    x, w = leggauss(max(40, n + 20))
    half = np.diff(edges)[:, None] / 2.0
    r = (half * x + (edges[:-1, None] + half)).ravel()
    mass = (half * w).ravel() * r * np.exp(-0.5 * r**2)
    q = np.sqrt(mass)
    basis = np.zeros((r.size, n))
    alpha, beta = np.zeros(n), np.zeros(n)
    q_prev, b_prev = np.zeros_like(q), 0.0
    for k in range(n):
        basis[:, k] = q
        v = r * q
        alpha[k] = q @ v
        v -= alpha[k] * q + b_prev * q_prev
        for _ in range(2):  # full reorthogonalization, twice is enough
            v -= basis[:, : k + 1] @ (basis[:, : k + 1].T @ v)
        beta[k] = np.linalg.norm(v)
        q_prev, q, b_prev = q, v / beta[k], beta[k]
    jacobi = np.diag(alpha) + np.diag(beta[:-1], 1) + np.diag(beta[:-1], -1)
    nodes = np.linalg.eigvalsh(jacobi)
    # Christoffel weights 1 / Σ_k p_k(x)^2 with orthonormal p_k from the recurrence.
    p_prev, p = np.zeros_like(nodes), np.ones_like(nodes)
    total = p**2
    for k in range(n - 1):
        p_prev, p = p, ((nodes - alpha[k]) * p - (beta[k - 1] if k else 0.0) * p_prev) / beta[k]
        total += p**2
    weights = 1.0 / total
    return nodes, weights


def _automatic_nodes(variance: np.ndarray) -> np.ndarray:
    """Nodes per sector for a pair whose larger variance is ``variance`` (σ varying on scale 1).

    Calibrated on tanh, erf, gelu and sin against 160-node results: 12 + 10√c nodes, rounded up
    the ladder, keep the absolute error below 1e-12 for c up to 100 (the count grows like √c
    because σ(√c r cos φ) sharpens near r = 0). Beyond the ladder a warning is issued.
    """
    want = 12.0 + 10.0 * np.sqrt(np.maximum(variance, 0.0))
    ladder = np.asarray(_NODE_LADDER)
    if np.any(want > ladder[-1]):
        warn_numerical(
            f"Pre-activation variances up to {float(np.max(variance)):.3g} need more than "
            f"{ladder[-1]} quadrature nodes for 1e-12 accuracy; the kernel may be inaccurate. "
            "Pass 'quadrature_nodes' explicitly or rescale the features.",
            stacklevel=5,
        )
    return ladder[np.minimum(np.searchsorted(ladder, want), ladder.size - 1)]


def _polar_chunk(f, g, s1, s2, theta, n_nodes: int) -> np.ndarray:
    """The polar rule for one chunk of pairs; ``s1``, ``s2``, ``theta`` of shape (k,) → (k,)."""
    x, w = leggauss(n_nodes)
    r, wr = radial_gauss_rule(n_nodes)
    zero = np.zeros_like(theta)
    # Sectors [π/2, π/2+θ], [π/2+θ, 3π/2], [3π/2, 3π/2+θ], [3π/2+θ, 5π/2]: no sign change inside.
    lo = np.stack([zero, theta, zero + np.pi, theta + np.pi], axis=1) + np.pi / 2  # (k, 4)
    width = np.stack([theta, np.pi - theta, theta, np.pi - theta], axis=1)
    phi = lo[..., None] + 0.5 * width[..., None] * (x + 1.0)  # (k, 4, n)
    w_phi = 0.5 * width[..., None] * w / (2.0 * np.pi)
    a = (s1[:, None, None] * np.cos(phi))[..., None] * r  # (k, 4, n, n)
    b = (s2[:, None, None] * np.cos(phi - theta[:, None, None]))[..., None] * r
    values = np.asarray(f(a), dtype=np.float64) * np.asarray(g(b), dtype=np.float64)
    # Contract with elementwise products and contiguous reductions, not BLAS, so that each pair's
    # value does not depend on which other pairs share its chunk (no shape-dependent kernels).
    radial = np.sum(values * wr, axis=-1)
    return np.sum(radial * w_phi, axis=(1, 2))


def gaussian_expectation(
    f: Callable[[np.ndarray], np.ndarray],
    g: Callable[[np.ndarray], np.ndarray],
    c11: np.ndarray,
    c22: np.ndarray,
    c12: np.ndarray,
    *,
    n_nodes: int | None = None,
) -> np.ndarray:
    r"""E[f(h_1) g(h_2)] for zero-mean Gaussian (h_1, h_2) by the polar rule of this module.

    .. math::

        E[f(h_1)g(h_2)] = \frac{1}{2\pi}\int_0^{2\pi}\!d\varphi\int_0^\infty\! r e^{-r^2/2}
        f(\sqrt{c_{11}}\,r\cos\varphi)\,g(\sqrt{c_{22}}\,r\cos(\varphi-\theta))\,dr,
        \qquad \theta = \arccos\frac{c_{12}}{\sqrt{c_{11}c_{22}}}

    split at the four angles where an argument changes sign (``docs/model.md`` §4, §6).

    Parameters
    ----------
    f, g : callable
        Vectorized functions, smooth except possibly at 0.
    c11, c22, c12 : array_like
        Variances (≥ 0) and covariance of (h_1, h_2), broadcast together; ρ is clipped to [-1, 1].
    n_nodes : int, optional
        Nodes per sector in φ and in r (``4 * n_nodes**2`` evaluations of f and of g per pair).
        Default: chosen per pair from c = max(c11, c22) (12 + 10√c nodes, rounded up to at most
        192), which gives 1e-12 absolute accuracy or better for σ that vary on a unit scale
        (tanh, erf, gelu, sin) up to c ≈ 100, and warns for larger c.

    Returns
    -------
    ndarray
        The expectations, of the broadcast shape of the inputs.
    """
    c11, c22, c12 = np.broadcast_arrays(*(np.asarray(c, dtype=np.float64) for c in (c11, c22, c12)))
    shape = c11.shape
    v1, v2, cov = c11.ravel(), c22.ravel(), c12.ravel()
    s1, s2 = np.sqrt(v1), np.sqrt(v2)
    # θ = arccos ρ from the 2×2 determinant: exactly 0 (π) when c12 = ±√(c11 c22) in floating point.
    with np.errstate(over="ignore", invalid="ignore"):
        det = np.maximum(v1 * v2 - cov * cov, 0.0)
        theta = np.arctan2(np.sqrt(det), cov)
    wide = ~np.isfinite(det)  # variances beyond ~1e154: the same angle from ρ, scale-free
    if np.any(wide):
        rho = correlation(v1[wide], v2[wide], cov[wide])
        theta[wide] = np.arctan2(np.sqrt(np.maximum(1.0 - rho * rho, 0.0)), rho)
    theta = np.where((v1 > 0) & (v2 > 0), theta, np.pi / 2)  # a zero variance: θ is arbitrary
    if n_nodes is None:
        counts = _automatic_nodes(np.maximum(v1, v2))
    else:
        counts = np.full(v1.size, check_positive_int("n_nodes", n_nodes))
    out = np.empty(v1.size)
    for n in np.unique(counts):
        idx = np.flatnonzero(counts == n)
        step = max(1, _CHUNK_BYTES // (48 * 4 * int(n) ** 2))
        for start in range(0, idx.size, step):
            sel = idx[start : start + step]
            out[sel] = _polar_chunk(f, g, s1[sel], s2[sel], theta[sel], int(n))
    return out.reshape(shape)


def quadrature_kernel(
    function: Callable[[np.ndarray], np.ndarray],
    c11: np.ndarray,
    c22: np.ndarray,
    c12: np.ndarray,
    *,
    n_nodes: int | None = None,
) -> np.ndarray:
    r"""K = E[σ(h_1)σ(h_2)] by quadrature, whatever σ is (the route used without a closed form).

    .. math:: K(c_{11}, c_{22}, c_{12}) = E[\sigma(h_1)\sigma(h_2)], \quad
        (h_1, h_2) \sim N\left(0, \begin{pmatrix} c_{11} & c_{12} \\ c_{12} & c_{22}
        \end{pmatrix}\right)

    See :func:`gaussian_expectation` for the rule and ``n_nodes``; inputs broadcast together.

    Examples
    --------
    >>> relu = lambda h: np.maximum(h, 0.0)
    >>> round(float(quadrature_kernel(relu, 1.0, 1.0, 0.0)), 12)  # E[relu(h)]^2 = 1/(2π)
    0.159154943092
    """
    return gaussian_expectation(function, function, c11, c22, c12, n_nodes=n_nodes)


def root_product(a, b):
    """√(a·b), formed as √a·√b where the product would overflow or underflow.

    Where a·b is a normal float the plain form is kept: it is exact when c12² = c11·c22, so that
    ρ = 1 comes out as exactly 1 (arcsin and arccos amplify an ulp below 1 into ~1e-8).
    """
    with np.errstate(over="ignore", under="ignore"):
        prod = a * b
    normal = np.isfinite(prod) & (prod > np.finfo(np.float64).tiny)
    with np.errstate(invalid="ignore"):
        return np.where(normal, np.sqrt(np.where(normal, prod, 1.0)), np.sqrt(a) * np.sqrt(b))


def correlation(c11, c22, c12):
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = c12 / root_product(c11, c22)
    return np.clip(np.nan_to_num(rho, nan=0.0), -1.0, 1.0)
