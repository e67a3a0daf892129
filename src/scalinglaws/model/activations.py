r"""Activations σ and their Gaussian expectations (``docs/model.md`` §3–4, §6).

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

Expectations without a closed form come from the polar Gauss quadrature of
:mod:`scalinglaws.model.quadrature`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .._names import ACTIVATION_NAMES as _NAMES
from .._validation import check_choice, check_positive_int
from .quadrature import (
    correlation,
    gauss_hermite,
    gaussian_expectation,
    quadrature_kernel,
    radial_gauss_rule,
    root_product,
)

__all__ = [
    "Activation",
    "get_activation",
    "ACTIVATION_NAMES",
    "gauss_hermite",
    "gaussian_expectation",
    "quadrature_kernel",
    "radial_gauss_rule",
]

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


def _relu_kernel(c11, c22, c12):
    rho = correlation(c11, c22, c12)
    theta = np.arccos(rho)
    return root_product(c11, c22) / (2 * np.pi) * (np.sqrt(1.0 - rho**2) + (np.pi - theta) * rho)


def _erf_kernel(c11, c22, c12):
    arg = 2.0 * c12 / root_product(1.0 + 2.0 * c11, 1.0 + 2.0 * c22)
    return (2.0 / np.pi) * np.arcsin(np.clip(arg, -1.0, 1.0))


def _sign_kernel(c11, c22, c12):
    return (2.0 / np.pi) * np.arcsin(correlation(c11, c22, c12))


def _abs_kernel(c11, c22, c12):
    rho = correlation(c11, c22, c12)
    scale = (2.0 / np.pi) * root_product(c11, c22)
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
    """A feature nonlinearity σ with its Gaussian expectations (``docs/model.md`` §3–4).

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

        ``docs/model.md`` §4: C = UΛUᵀ is the pre-activation covariance, of shape (n, n); the result
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
        r"""E[σ'(h)] for h ~ N(0, c), as :math:`E[h\sigma(h)]/c` (Stein's lemma, docs/model.md §4).

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
