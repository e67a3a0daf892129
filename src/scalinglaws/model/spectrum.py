r"""Spectra of the latent data covariance
:math:`\Lambda = \mathrm{diag}(\lambda_1, \dots, \lambda_M)`.

See ``MODEL.md`` §2. A :class:`Spectrum` is either the paper's power law

.. math:: \lambda_I = \lambda_+ \, I^{-(1+\alpha)}, \qquad I = 1, \dots, M,

or any explicit array of positive eigenvalues (for example one measured from data).

=========  ================  ==========================================
symbol     name              meaning
=========  ================  ==========================================
M          ``latent_dim``    number of latent directions
α          ``alpha``         power-law exponent (spectrum falls as 1+α)
λ_+        ``lambda_plus``   largest eigenvalue of the power law
λ_I        ``eigenvalues``   the spectrum, sorted in decreasing order
=========  ================  ==========================================

A power law is stored by its parameters, so that ``latent_dim`` may be huge (10^9) for the theory,
which evaluates its spectral sums in compressed form; :attr:`Spectrum.eigenvalues` materializes the
array only when asked (sampling needs it, and refuses absurd sizes with a clear error).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .._validation import (
    InputError,
    check_positive_array,
    check_positive_float,
    check_positive_int,
)

__all__ = ["Spectrum", "MAX_MATERIALIZED_DIM"]

#: Largest latent dimension whose eigenvalue array is built in memory (8·10^7 doubles = 640 MB).
MAX_MATERIALIZED_DIM = 80_000_000


@dataclass(frozen=True, eq=False)
class Spectrum:
    """Eigenvalues of the latent covariance, decreasing.

    Build one with :meth:`power_law` or :meth:`from_eigenvalues`; do not call the constructor.

    Examples
    --------
    >>> s = Spectrum.power_law(latent_dim=4, alpha=1.0)
    >>> s.eigenvalues.round(4).tolist()
    [1.0, 0.25, 0.1111, 0.0625]
    >>> s.latent_dim, s.alpha, s.kind
    (4, 1.0, 'power_law')
    """

    kind: str
    latent_dim: int
    alpha: float | None = None
    lambda_plus: float | None = None
    _explicit: np.ndarray | None = field(default=None, repr=False)
    _order: np.ndarray | None = field(default=None, repr=False)

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def power_law(cls, *, latent_dim: int, alpha: float, lambda_plus: float = 1.0) -> Spectrum:
        r"""The power law :math:`\lambda_I = \lambda_+ I^{-(1+\alpha)}`, :math:`I = 1..M`.

        Parameters
        ----------
        latent_dim : int
            M, the number of latent directions (any positive integer; arrays are built lazily).
        alpha : float
            α > 0, so that the eigenvalues fall as :math:`I^{-(1+\alpha)}`.
        lambda_plus : float, default 1
            λ_+, the largest eigenvalue.
        """
        return cls(
            kind="power_law",
            latent_dim=check_positive_int("latent_dim", latent_dim),
            alpha=check_positive_float("alpha", alpha),
            lambda_plus=check_positive_float("lambda_plus", lambda_plus),
        )

    @classmethod
    def from_eigenvalues(cls, eigenvalues: object) -> Spectrum:
        """Any positive eigenvalues, shape ``(latent_dim,)``; stored sorted in decreasing order.

        The order they were given in is kept (:attr:`order`), so that per-direction teacher
        arrays given in the same order stay paired with their eigenvalues (:class:`ModelSpec`
        applies the same permutation to them).

        Examples
        --------
        >>> s = Spectrum.from_eigenvalues([0.01, 1.0, 0.5])
        >>> s.eigenvalues.tolist(), s.order.tolist()
        ([1.0, 0.5, 0.01], [1, 2, 0])
        """
        given = check_positive_array("eigenvalues", eigenvalues)
        order = np.argsort(-given, kind="stable")
        arr = given[order].copy()
        arr.setflags(write=False)
        order.setflags(write=False)
        return cls(kind="explicit", latent_dim=int(arr.size), _explicit=arr, _order=order)

    @property
    def order(self) -> np.ndarray:
        """Positions in the given order of the sorted eigenvalues: ``sorted = given[order]``.

        The identity for a power law and for eigenvalues given in decreasing order.
        """
        if self._order is None:
            return np.arange(self.latent_dim)
        return self._order

    @property
    def is_reordered(self) -> bool:
        """Whether the eigenvalues were given in another order than decreasing."""
        return self._order is not None and bool(np.any(self._order != np.arange(self.latent_dim)))

    # -- values -------------------------------------------------------------------------------
    def eigenvalue_at(self, index: np.ndarray | float) -> np.ndarray:
        r"""λ at a (possibly fractional) 1-based index, :math:`\lambda_+ I^{-(1+\alpha)}`.

        Used by compressed spectral sums, which treat the index as a continuous variable.
        """
        if self.kind != "power_law":
            raise TypeError("'eigenvalue_at' needs a power-law spectrum; use 'eigenvalues'.")
        return self.lambda_plus * np.asarray(index, dtype=np.float64) ** (-(1.0 + self.alpha))

    @cached_property
    def eigenvalues(self) -> np.ndarray:
        """The eigenvalues λ_1 ≥ … ≥ λ_M, read-only array of shape ``(latent_dim,)``."""
        if self._explicit is not None:
            return self._explicit
        if self.latent_dim > MAX_MATERIALIZED_DIM:
            raise InputError(
                f"'latent_dim' must be at most {MAX_MATERIALIZED_DIM} to build the eigenvalue "
                f"array (sampling needs it). Got {self.latent_dim} instead; the theory handles "
                "larger M without building it."
            )
        out = self.eigenvalue_at(np.arange(1, self.latent_dim + 1, dtype=np.float64))
        out.setflags(write=False)
        return out

    @property
    def largest(self) -> float:
        """λ_1, the largest eigenvalue."""
        return float(self.lambda_plus if self.kind == "power_law" else self._explicit[0])

    @property
    def smallest(self) -> float:
        """λ_M, the smallest eigenvalue."""
        if self.kind == "power_law":
            return float(self.eigenvalue_at(float(self.latent_dim)))
        return float(self._explicit[-1])

    @cached_property
    def trace(self) -> float:
        """Σ_I λ_I (exact for explicit spectra; for power laws above 10^7 via Euler–Maclaurin)."""
        if self.kind == "explicit" or self.latent_dim <= 10_000_000:
            return float(np.sum(self.eigenvalues))
        return _power_law_sum(self.latent_dim, 1.0 + self.alpha) * self.lambda_plus

    def describe(self) -> str:
        """A short human-readable description."""
        if self.kind == "power_law":
            return (
                f"power law: M={self.latent_dim}, alpha={self.alpha:g}, "
                f"lambda_plus={self.lambda_plus:g}"
            )
        return f"explicit: M={self.latent_dim}, lambda in [{self.smallest:.3g}, {self.largest:.3g}]"

    def to_dict(self) -> dict:
        """Plain-JSON description (explicit eigenvalues as a list)."""
        if self.kind == "power_law":
            return {
                "kind": "power_law",
                "latent_dim": self.latent_dim,
                "alpha": self.alpha,
                "lambda_plus": self.lambda_plus,
            }
        given = np.empty_like(self._explicit)
        given[self.order] = self._explicit  # the order the user gave, so that teachers pair up
        return {"kind": "explicit", "eigenvalues": given.tolist()}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Spectrum):
            return NotImplemented
        if self.kind != other.kind or self.latent_dim != other.latent_dim:
            return False
        if self.kind == "power_law":
            return (self.alpha, self.lambda_plus) == (other.alpha, other.lambda_plus)
        return bool(
            np.array_equal(self._explicit, other._explicit)
            and np.array_equal(self.order, other.order)
        )

    def __hash__(self) -> int:
        if self.kind == "power_law":
            return hash((self.kind, self.latent_dim, self.alpha, self.lambda_plus))
        return hash((self.kind, self._explicit.tobytes(), self.order.tobytes()))


def _power_law_sum(m: int, s: float, head: int = 10_000) -> float:
    """Σ_{I=1}^{m} I^{-s} by an exact head plus an Euler–Maclaurin tail (relative error < 1e-14)."""
    idx = np.arange(1, head + 1, dtype=np.float64)
    total = float(np.sum(idx[::-1] ** (-s)))
    a, b = float(head + 1), float(m)

    def integral(x0: float, x1: float) -> float:
        return (x1 ** (1 - s) - x0 ** (1 - s)) / (1 - s) if s != 1 else np.log(x1 / x0)

    tail = integral(a, b) + 0.5 * (a**-s + b**-s)
    tail += (s / 12.0) * (a ** (-s - 1) - b ** (-s - 1))
    tail -= (s * (s + 1) * (s + 2) / 720.0) * (a ** (-s - 3) - b ** (-s - 3))
    return total + tail
