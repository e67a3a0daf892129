r"""Activations σ and their Gaussian expectations (``MODEL.md`` §4).

For pre-activations :math:`(h_1, h_2)` jointly Gaussian with zero mean, variances
:math:`c_{11}, c_{22}` and covariance :math:`c_{12}`, with :math:`\rho = c_{12}/\sqrt{c_{11}c_{22}}`:

========== ==================================================================================
name       kernel :math:`K = E[\sigma(h_1)\sigma(h_2)]`
========== ==================================================================================
linear     :math:`c_{12}`
relu       :math:`\frac{\sqrt{c_{11}c_{22}}}{2\pi}(\sin\theta + (\pi-\theta)\cos\theta)`,
           :math:`\theta = \arccos\rho` (arc-cosine kernel of order 1)
erf        :math:`\frac{2}{\pi}\arcsin\frac{2c_{12}}{\sqrt{(1+2c_{11})(1+2c_{22})}}` (arcsine kernel)
sign       :math:`\frac{2}{\pi}\arcsin\rho`
abs        :math:`\frac{2}{\pi}\sqrt{c_{11}c_{22}}\,(\sqrt{1-\rho^2} + \rho\arcsin\rho)`
quadratic  :math:`c_{11}c_{22} + 2c_{12}^2` (σ(h) = h²)
tanh, gelu 2-D Gauss–Hermite quadrature (also any user callable)
========== ==================================================================================

and, for Stein's lemma :math:`E[\sigma(h)\,t] = E[\sigma'(h)]\,\mathrm{Cov}(h, t)`, the mean slope
:math:`E[\sigma'(h)]`, :math:`h \sim N(0, c)`, computed as :math:`E[h\sigma(h)]/c` so that no
derivative of a user callable is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy.special import erf as _erf

from ._validation import check_choice

__all__ = ["Activation", "get_activation", "ACTIVATION_NAMES", "gauss_hermite"]

#: Quadrature nodes per dimension used for activations without a closed-form kernel.
DEFAULT_QUADRATURE_NODES = 64


def gauss_hermite(n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes z and weights w with Σ w f(z) ≈ E[f(Z)], Z ~ N(0, 1) (probabilists' Hermite)."""
    nodes, weights = hermegauss(n_nodes)
    return nodes, weights / np.sqrt(2.0 * np.pi)


def _gelu(h: np.ndarray) -> np.ndarray:
    return 0.5 * h * (1.0 + _erf(h / np.sqrt(2.0)))


def _rho(c11, c22, c12):
    return np.clip(c12 / np.sqrt(c11 * c22), -1.0, 1.0)


def _relu_kernel(c11, c22, c12):
    rho = _rho(c11, c22, c12)
    theta = np.arccos(rho)
    return np.sqrt(c11 * c22) / (2 * np.pi) * (np.sqrt(1.0 - rho**2) + (np.pi - theta) * rho)


def _erf_kernel(c11, c22, c12):
    arg = 2.0 * c12 / np.sqrt((1.0 + 2.0 * c11) * (1.0 + 2.0 * c22))
    return (2.0 / np.pi) * np.arcsin(np.clip(arg, -1.0, 1.0))


def _sign_kernel(c11, c22, c12):
    return (2.0 / np.pi) * np.arcsin(_rho(c11, c22, c12))


def _abs_kernel(c11, c22, c12):
    rho = _rho(c11, c22, c12)
    return (2.0 / np.pi) * np.sqrt(c11 * c22) * (np.sqrt(1.0 - rho**2) + rho * np.arcsin(rho))


def _quadratic_kernel(c11, c22, c12):
    return c11 * c22 + 2.0 * c12**2


_CLOSED_FORMS = {
    "linear": (
        lambda h: h,
        lambda c11, c22, c12: c12 + 0.0 * (c11 + c22),
        lambda c: np.ones_like(c),
        lambda c: np.zeros_like(c),
    ),
    "relu": (
        lambda h: np.maximum(h, 0.0),
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
_QUADRATURE_ONLY = {"tanh": np.tanh, "gelu": _gelu}

#: Names accepted by :func:`get_activation`.
ACTIVATION_NAMES = tuple(_CLOSED_FORMS) + tuple(_QUADRATURE_ONLY)


@dataclass(frozen=True, eq=False)
class Activation:
    """A feature nonlinearity σ with its Gaussian expectations.

    Use :func:`get_activation` to build one from a name or a callable.

    Attributes
    ----------
    name : str
        Registered name, or the callable's ``__name__`` for user functions.
    function : callable
        Vectorized σ, applied elementwise.
    has_closed_form : bool
        Whether :meth:`kernel` is a closed form (else 2-D Gauss–Hermite quadrature).
    """

    name: str
    function: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    has_closed_form: bool = False
    quadrature_nodes: int = DEFAULT_QUADRATURE_NODES
    _kernel: Callable | None = field(default=None, repr=False)
    _slope: Callable | None = field(default=None, repr=False)
    _mean: Callable | None = field(default=None, repr=False)

    def __call__(self, h: np.ndarray) -> np.ndarray:
        """σ(h), elementwise."""
        return self.function(h)

    def kernel(self, c11: np.ndarray, c22: np.ndarray, c12: np.ndarray) -> np.ndarray:
        r"""K = E[σ(h_1)σ(h_2)] for jointly Gaussian (h_1, h_2); inputs broadcast together.

        Parameters
        ----------
        c11, c22 : array_like
            Variances of h_1 and h_2 (> 0).
        c12 : array_like
            Covariance of h_1 and h_2, with :math:`c_{12}^2 \le c_{11} c_{22}`.
        """
        c11, c22, c12 = (np.asarray(a, dtype=np.float64) for a in (c11, c22, c12))
        if self._kernel is not None:
            return self._kernel(c11, c22, c12)
        return self._quadrature_kernel(c11, c22, c12)

    def kernel_matrix(self, covariance: np.ndarray) -> np.ndarray:
        """K_jk = E[σ(h_j)σ(h_k)] for h ~ N(0, C); ``covariance`` C of shape (n, n) → (n, n).

        The diagonal uses :meth:`second_moment` (exact ρ = 1); only the upper triangle is
        computed for quadrature activations.
        """
        cov = np.asarray(covariance, dtype=np.float64)
        diag = np.diag(cov).copy()
        if self._kernel is not None:
            out = self._kernel(diag[:, None], diag[None, :], cov)
        else:
            rows, cols = np.triu_indices(cov.shape[0], k=1)
            vals = self._quadrature_kernel(diag[rows], diag[cols], cov[rows, cols])
            out = np.empty_like(cov)
            out[rows, cols] = vals
            out[cols, rows] = vals
        out[np.diag_indices_from(out)] = self.second_moment(diag)
        return out

    def second_moment(self, variance: np.ndarray) -> np.ndarray:
        """E[σ(h)²] for h ~ N(0, c), by 1-D Gauss–Hermite or the closed form at ρ = 1."""
        c = np.asarray(variance, dtype=np.float64)
        if self._kernel is not None:
            return self._kernel(c, c, c)
        return self._expect_1d(lambda h: self.function(h) ** 2, c)

    def mean(self, variance: np.ndarray) -> np.ndarray:
        """E[σ(h)] for h ~ N(0, c)."""
        c = np.asarray(variance, dtype=np.float64)
        if self._mean is not None:
            return self._mean(c)
        return self._expect_1d(self.function, c)

    def mean_slope(self, variance: np.ndarray) -> np.ndarray:
        r"""E[σ'(h)] for h ~ N(0, c), computed as :math:`E[h\sigma(h)]/c` (Stein's lemma)."""
        c = np.asarray(variance, dtype=np.float64)
        if self._slope is not None:
            return self._slope(c)
        return self._expect_1d(lambda h: h * self.function(h), c) / c

    # -- quadrature ---------------------------------------------------------------------------
    def _expect_1d(self, f: Callable, c: np.ndarray) -> np.ndarray:
        z, w = gauss_hermite(max(self.quadrature_nodes, 96))
        h = np.sqrt(c)[..., None] * z
        return np.sum(f(h) * w, axis=-1)

    def _quadrature_kernel(self, c11, c22, c12, chunk: int = 4096) -> np.ndarray:
        c11, c22, c12 = np.broadcast_arrays(c11, c22, c12)
        shape = c11.shape
        a, b, r = c11.ravel(), c22.ravel(), _rho(c11, c22, c12).ravel()
        z, w = gauss_hermite(self.quadrature_nodes)
        ww = w[:, None] * w[None, :]
        out = np.empty(a.size)
        for start in range(0, a.size, chunk):
            sl = slice(start, start + chunk)
            s1, s2, rr = np.sqrt(a[sl]), np.sqrt(b[sl]), r[sl]
            f1 = self.function(s1[:, None] * z[None, :])  # (k, q)
            arg = rr[:, None, None] * z[None, :, None] + np.sqrt(1 - rr**2)[:, None, None] * z
            f2 = self.function(s2[:, None, None] * arg)  # (k, q, q)
            out[sl] = np.einsum("ka,kab,ab->k", f1, f2, ww, optimize=True)
        return out.reshape(shape)


def get_activation(activation: str | Activation | Callable, **options) -> Activation:
    """Build an :class:`Activation` from a name in :data:`ACTIVATION_NAMES` or a callable.

    A user callable must be vectorized (elementwise on numpy arrays); its kernel is computed by
    2-D Gauss–Hermite quadrature with ``quadrature_nodes`` nodes per dimension.

    Examples
    --------
    >>> act = get_activation("relu")
    >>> float(act.kernel(1.0, 1.0, 1.0))  # E[relu(h)^2] = c/2
    0.5
    """
    if isinstance(activation, Activation):
        return activation
    if callable(activation):
        name = getattr(activation, "__name__", "custom")
        return Activation(name=name, function=activation, **options)
    name = check_choice("activation", activation, ACTIVATION_NAMES)
    if name in _CLOSED_FORMS:
        fn, kern, slope, mean = _CLOSED_FORMS[name]
        return Activation(
            name=name,
            function=fn,
            has_closed_form=True,
            _kernel=kern,
            _slope=slope,
            _mean=mean,
            **options,
        )
    return Activation(name=name, function=_QUADRATURE_ONLY[name], **options)
