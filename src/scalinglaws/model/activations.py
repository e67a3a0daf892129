r"""Activations σ and their Gaussian expectations (``MODEL.md`` §3–4, §6).

For pre-activations :math:`(h_1, h_2)` jointly Gaussian with zero mean, variances
:math:`c_{11}, c_{22}` and covariance :math:`c_{12}`, with :math:`\rho = c_{12}/\sqrt{c_{11}c_{22}}`
and :math:`\theta = \arccos\rho`:

========== ==================================================================================
name       kernel :math:`K = E[\sigma(h_1)\sigma(h_2)]`
========== ==================================================================================
linear     :math:`c_{12}`
relu       :math:`\frac{\sqrt{c_{11}c_{22}}}{2\pi}(\sin\theta + (\pi-\theta)\cos\theta)`
           (arc-cosine kernel of order 1)
erf        :math:`\frac{2}{\pi}\arcsin\frac{2c_{12}}{\sqrt{(1+2c_{11})(1+2c_{22})}}`
           (arcsine kernel)
sign       :math:`\frac{2}{\pi}\arcsin\rho`
abs        :math:`\frac{2}{\pi}\sqrt{c_{11}c_{22}}\,(\sqrt{1-\rho^2} + \rho\arcsin\rho)`
quadratic  :math:`c_{11}c_{22} + 2c_{12}^2` (σ(h) = h²)
tanh, gelu polar Gauss quadrature (also any user callable), see :func:`gaussian_expectation`
========== ==================================================================================

and, for Stein's lemma :math:`E[\sigma(h)\,t] = E[\sigma'(h)]\,\mathrm{Cov}(h, t)`, the mean slope
:math:`E[\sigma'(h)]`, :math:`h \sim N(0, c)`, computed as :math:`E[h\sigma(h)]/c` so that no
derivative of a user callable is needed.

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
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from numpy.polynomial.legendre import leggauss

from .._names import ACTIVATION_NAMES as _NAMES
from .._validation import check_choice, check_positive_int, warn_numerical

__all__ = [
    "Activation",
    "get_activation",
    "ACTIVATION_NAMES",
    "gauss_hermite",
    "gaussian_expectation",
    "quadrature_kernel",
    "radial_gauss_rule",
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

    split at the four angles where an argument changes sign (``MODEL.md`` §4, §6).

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
        rho = _rho(v1[wide], v2[wide], cov[wide])
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


def _ones(h: np.ndarray) -> np.ndarray:
    return np.ones_like(h)


def _identity(h: np.ndarray) -> np.ndarray:
    return h


def _erf(h: np.ndarray) -> np.ndarray:
    """erf, elementwise (scipy.special is imported on first use: it costs 0.15 s at start-up)."""
    from scipy.special import erf

    return erf(h)


def _gelu(h: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr

    return h * ndtr(h)


def _fast_tanh(h: np.ndarray) -> np.ndarray:
    """tanh to within 4e-16 absolute, four times faster than ``np.tanh`` (quadrature only)."""
    with np.errstate(over="ignore"):
        return 1.0 - 2.0 / (np.exp(2.0 * h) + 1.0)


def _root_product(a, b):
    """√(a·b), formed as √a·√b where the product would overflow or underflow.

    Where a·b is a normal float the plain form is kept: it is exact when c12² = c11·c22, so that
    ρ = 1 comes out as exactly 1 (arcsin and arccos amplify an ulp below 1 into ~1e-8).
    """
    with np.errstate(over="ignore", under="ignore"):
        prod = a * b
    normal = np.isfinite(prod) & (prod > np.finfo(np.float64).tiny)
    with np.errstate(invalid="ignore"):
        return np.where(normal, np.sqrt(np.where(normal, prod, 1.0)), np.sqrt(a) * np.sqrt(b))


def _rho(c11, c22, c12):
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = c12 / _root_product(c11, c22)
    return np.clip(np.nan_to_num(rho, nan=0.0), -1.0, 1.0)


def _relu_kernel(c11, c22, c12):
    rho = _rho(c11, c22, c12)
    theta = np.arccos(rho)
    return _root_product(c11, c22) / (2 * np.pi) * (np.sqrt(1.0 - rho**2) + (np.pi - theta) * rho)


def _erf_kernel(c11, c22, c12):
    arg = 2.0 * c12 / _root_product(1.0 + 2.0 * c11, 1.0 + 2.0 * c22)
    return (2.0 / np.pi) * np.arcsin(np.clip(arg, -1.0, 1.0))


def _sign_kernel(c11, c22, c12):
    return (2.0 / np.pi) * np.arcsin(_rho(c11, c22, c12))


def _abs_kernel(c11, c22, c12):
    rho = _rho(c11, c22, c12)
    scale = (2.0 / np.pi) * _root_product(c11, c22)
    return scale * (np.sqrt(1.0 - rho**2) + rho * np.arcsin(rho))


def _quadratic_kernel(c11, c22, c12):
    with np.errstate(over="ignore"):  # beyond ~1e154 per variance the kernel is not a float
        return c11 * c22 + 2.0 * c12**2


def _linear(h):
    return h


def _linear_kernel(c11, c22, c12):
    return c12 + 0.0 * (c11 + c22)


def _relu(h):
    return np.maximum(h, 0.0)


# name: (σ, kernel, mean slope E[σ'(h)], mean E[σ(h)]), each a closed form in the variance c.
_CLOSED_FORMS = {
    "linear": (_linear, _linear_kernel, lambda c: np.ones_like(c), lambda c: np.zeros_like(c)),
    "relu": (
        _relu,
        _relu_kernel,
        lambda c: np.full_like(c, 0.5),
        lambda c: np.sqrt(c / (2.0 * np.pi)),
    ),
    "erf": (
        _erf,
        _erf_kernel,
        lambda c: 2.0 / np.sqrt(np.pi * (1.0 + 2.0 * c)),
        lambda c: np.zeros_like(c),
    ),
    "sign": (
        np.sign,
        _sign_kernel,
        lambda c: np.sqrt(2.0 / (np.pi * c)),
        lambda c: np.zeros_like(c),
    ),
    "abs": (
        np.abs,
        _abs_kernel,
        lambda c: np.zeros_like(c),
        lambda c: np.sqrt(2.0 * c / np.pi),
    ),
    "quadratic": (
        np.square,
        _quadratic_kernel,
        lambda c: np.zeros_like(c),
        lambda c: np.asarray(c, dtype=np.float64) * 1.0,
    ),
}
# name: (σ, faster equivalent used inside quadrature or None)
_QUADRATURE_ONLY = {"tanh": (np.tanh, _fast_tanh), "gelu": (_gelu, None)}

#: Names accepted by :func:`get_activation` (closed forms first, then quadrature).
ACTIVATION_NAMES = _NAMES
if ACTIVATION_NAMES != tuple(_CLOSED_FORMS) + tuple(_QUADRATURE_ONLY):  # pragma: no cover
    raise ImportError("scalinglaws._names.ACTIVATION_NAMES is out of step with activations.py")


@dataclass(frozen=True)
class Activation:
    """A feature nonlinearity σ with its Gaussian expectations (``MODEL.md`` §3–4).

    Use :func:`get_activation` to build one from a name or a callable. Two activations are equal
    when they have the same name, function object, route and node count.

    Attributes
    ----------
    name : str
        Registered name, or the callable's ``__name__`` for user functions.
    function : callable
        Vectorized σ, applied elementwise.
    has_closed_form : bool
        Whether :meth:`kernel`, :meth:`mean` and :meth:`mean_slope` are closed forms (else the
        polar quadrature of :func:`gaussian_expectation`).
    quadrature_nodes : int or None
        Nodes per sector for the quadrature (None: automatic, see :func:`gaussian_expectation`).
    """

    name: str
    function: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    has_closed_form: bool = False
    quadrature_nodes: int | None = None
    _kernel: Callable | None = field(default=None, repr=False)
    _slope: Callable | None = field(default=None, repr=False)
    _mean: Callable | None = field(default=None, repr=False)
    _integrand: Callable | None = field(default=None, repr=False, compare=False)

    def __call__(self, h: np.ndarray) -> np.ndarray:
        """σ(h), elementwise."""
        return self.function(h)

    def kernel(self, c11: np.ndarray, c22: np.ndarray, c12: np.ndarray) -> np.ndarray:
        r"""K = E[σ(h_1)σ(h_2)] for jointly Gaussian (h_1, h_2); inputs broadcast together.

        .. math:: K = E[\sigma(h_1)\sigma(h_2)], \quad
            (h_1, h_2) \sim N(0, [[c_{11}, c_{12}], [c_{12}, c_{22}]])

        Parameters
        ----------
        c11, c22 : array_like
            Variances of h_1 and h_2 (> 0).
        c12 : array_like
            Covariance of h_1 and h_2, with :math:`c_{12}^2 \le c_{11} c_{22}`.

        Returns
        -------
        ndarray
            K, of the broadcast shape of the inputs.
        """
        c11, c22, c12 = (np.asarray(a, dtype=np.float64) for a in (c11, c22, c12))
        if self._kernel is not None:
            return self._kernel(c11, c22, c12)
        return self._expect(self._sigma, self._sigma, c11, c22, c12)

    def kernel_matrix(self, covariance: np.ndarray) -> np.ndarray:
        r"""Feature second moments :math:`K_{jk} = E[\sigma(h_j)\sigma(h_k)]`, h ~ N(0, C).

        ``MODEL.md`` §4: C = UΛUᵀ is the pre-activation covariance, of shape (n, n); the result
        has shape (n, n). Only the upper triangle of C is read, so the result is exactly symmetric;
        the diagonal uses :meth:`second_moment` (exact ρ = 1).
        """
        cov = np.asarray(covariance, dtype=np.float64)
        diag = np.diag(cov).copy()
        if self._kernel is not None:
            upper = np.triu(cov) + np.triu(cov, 1).T  # read one triangle, as the quadrature does
            out = self._kernel(diag[:, None], diag[None, :], upper)
        else:
            rows, cols = np.triu_indices(cov.shape[0], k=1)
            vals = self._expect(self._sigma, self._sigma, diag[rows], diag[cols], cov[rows, cols])
            out = np.empty_like(cov)
            out[rows, cols] = vals
            out[cols, rows] = vals
        out[np.diag_indices_from(out)] = self.second_moment(diag)
        return out

    def second_moment(self, variance: np.ndarray) -> np.ndarray:
        """E[σ(h)²] for h ~ N(0, c); ``variance`` c of any shape, result of the same shape."""
        c = np.asarray(variance, dtype=np.float64)
        if self._kernel is not None:
            return self._kernel(c, c, c)
        return self._expect(self._sigma, self._sigma, c, c, c)

    def mean(self, variance: np.ndarray) -> np.ndarray:
        """E[σ(h)] for h ~ N(0, c); ``variance`` c of any shape, result of the same shape."""
        c = np.asarray(variance, dtype=np.float64)
        if self._mean is not None:
            return self._mean(c)
        return self._expect(self._sigma, _ones, c, c, c)

    def mean_slope(self, variance: np.ndarray) -> np.ndarray:
        r"""E[σ'(h)] for h ~ N(0, c), as :math:`E[h\sigma(h)]/c` (Stein's lemma, ``MODEL.md`` §4).

        ``variance`` c (> 0) of any shape; the result has the same shape.
        """
        c = np.asarray(variance, dtype=np.float64)
        if self._slope is not None:
            return self._slope(c)
        return self._expect(self._sigma, _identity, c, c, c) / c

    # -- quadrature ---------------------------------------------------------------------------
    @property
    def _sigma(self) -> Callable[[np.ndarray], np.ndarray]:
        return self._integrand if self._integrand is not None else self.function

    def _expect(self, f, g, c11, c22, c12) -> np.ndarray:
        return gaussian_expectation(f, g, c11, c22, c12, n_nodes=self.quadrature_nodes)


def get_activation(
    activation: str | Activation | Callable,
    *,
    closed_form: bool = True,
    quadrature_nodes: int | None = None,
) -> Activation:
    """Build an :class:`Activation` from a name in :data:`ACTIVATION_NAMES` or a callable.

    A user callable must be vectorized (elementwise on numpy arrays) and smooth except possibly
    at 0; its expectations come from the polar quadrature of :func:`gaussian_expectation`.

    Parameters
    ----------
    activation : str or Activation or callable
        A registered name, an existing activation (returned as is unless options are given), or
        a vectorized function.
    closed_form : bool, default True
        Use the closed forms where they exist; ``False`` forces quadrature (for checks).
    quadrature_nodes : int, optional
        Nodes per sector for the quadrature; default automatic from the variances.

    Examples
    --------
    >>> act = get_activation("relu")
    >>> float(act.kernel(1.0, 1.0, 1.0))  # E[relu(h)^2] = c/2
    0.5
    >>> round(float(get_activation("relu", closed_form=False).kernel(1.0, 1.0, 1.0)), 14)
    0.5
    """
    if quadrature_nodes is not None:
        quadrature_nodes = check_positive_int("quadrature_nodes", quadrature_nodes)
    if isinstance(activation, Activation):
        if closed_form and quadrature_nodes is None:
            return activation
        activation = activation.name if activation.name in ACTIVATION_NAMES else activation.function
    if callable(activation):
        name = getattr(activation, "__name__", "custom")
        return Activation(name=name, function=activation, quadrature_nodes=quadrature_nodes)
    name = check_choice("activation", activation, ACTIVATION_NAMES)
    if name in _CLOSED_FORMS:
        fn, kern, slope, mean = _CLOSED_FORMS[name]
        if not closed_form:
            return Activation(name=name, function=fn, quadrature_nodes=quadrature_nodes)
        return Activation(
            name=name,
            function=fn,
            has_closed_form=True,
            quadrature_nodes=quadrature_nodes,
            _kernel=kern,
            _slope=slope,
            _mean=mean,
        )
    fn, fast = _QUADRATURE_ONLY[name]
    return Activation(name=name, function=fn, quadrature_nodes=quadrature_nodes, _integrand=fast)
