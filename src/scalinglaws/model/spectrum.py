r"""Spectra of the latent data covariance
:math:`\Lambda = \mathrm{diag}(\lambda_1, \dots, \lambda_M)` (``docs/model.md`` §2).

Two variants share one protocol (:class:`Spectrum`): the paper's power law

.. math:: \lambda_I = \lambda_+ \, I^{-(1+\alpha)}, \qquad I = 1, \dots, M,

(:class:`PowerLawSpectrum`), and any explicit array of positive eigenvalues, for example one
measured from data (:class:`ExplicitSpectrum`). Build them with :meth:`Spectrum.power_law` and
:meth:`Spectrum.from_eigenvalues`, or from their plain-JSON form with :meth:`Spectrum.from_dict`.

=========  ================  ==========================================
symbol     name              meaning
=========  ================  ==========================================
M          ``latent_dim``    number of latent directions
α          ``alpha``         power-law exponent (spectrum falls as 1+α)
λ_+        ``lambda_plus``   largest eigenvalue of the power law
λ_I        ``eigenvalues``   the spectrum, sorted in decreasing order
=========  ================  ==========================================

A power law is stored by its parameters, so that ``latent_dim`` may be huge (10^9) for the theory,
which evaluates its spectral sums in compressed form (capability :attr:`Spectrum.compressible`);
:attr:`Spectrum.eigenvalues` materializes the array only when asked (sampling needs it, and
refuses absurd sizes with a clear error).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

import numpy as np

from .._validation import (
    InputError,
    check_positive_array,
    check_positive_float,
    check_positive_int,
)
from ._schema import read_fields

__all__ = ["Spectrum", "PowerLawSpectrum", "ExplicitSpectrum", "MAX_MATERIALIZED_DIM"]

#: Largest latent dimension whose eigenvalue array is built in memory (8·10^7 doubles = 640 MB).
MAX_MATERIALIZED_DIM = 80_000_000


class Spectrum:
    """Eigenvalues of the latent covariance, decreasing: the protocol both variants share.

    Capabilities: :attr:`compressible` (the theory may evaluate its sums over a continuous
    index, in O(log M)), :attr:`is_power_law` (α and λ₊ exist).

    Examples
    --------
    >>> s = Spectrum.power_law(latent_dim=4, alpha=1.0)
    >>> s.eigenvalues.round(4).tolist()
    [1.0, 0.25, 0.1111, 0.0625]
    >>> s.latent_dim, s.alpha, s.kind
    (4, 1.0, 'power_law')
    >>> Spectrum.from_dict(s.to_dict()) == s
    True
    """

    #: Registry key of the variant (the ``kind`` of its plain-JSON form).
    kind: ClassVar[str]
    compressible: ClassVar[bool] = False
    is_power_law: ClassVar[bool] = False
    latent_dim: int

    # -- constructors -------------------------------------------------------------------------
    @staticmethod
    def power_law(*, latent_dim: int, alpha: float, lambda_plus: float = 1.0) -> PowerLawSpectrum:
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
        return PowerLawSpectrum(
            latent_dim=check_positive_int("latent_dim", latent_dim),
            alpha=check_positive_float("alpha", alpha),
            lambda_plus=check_positive_float("lambda_plus", lambda_plus),
        )

    @staticmethod
    def from_eigenvalues(eigenvalues: object) -> ExplicitSpectrum:
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
        return ExplicitSpectrum(latent_dim=int(arr.size), values=arr, permutation=order)

    @staticmethod
    def from_dict(data: object) -> Spectrum:
        """The spectrum of a plain-JSON description (the inverse of :meth:`to_dict`).

        Unknown fields and bad values raise :class:`~scalinglaws.InputError` naming the field.
        """
        fields = read_fields(data, SPECTRA, default_kind="power_law")
        build = SPECTRA[fields.pop("kind")][0]
        return build(**fields)

    # -- the protocol ---------------------------------------------------------------------------
    @property
    def eigenvalues(self) -> np.ndarray:  # pragma: no cover - every variant defines it
        raise NotImplementedError

    @property
    def largest(self) -> float:
        """λ_1, the largest eigenvalue."""
        return float(self.eigenvalues[0])

    @property
    def smallest(self) -> float:
        """λ_M, the smallest eigenvalue."""
        return float(self.eigenvalues[-1])

    @cached_property
    def trace(self) -> float:
        """Σ_I λ_I."""
        return float(np.sum(self.eigenvalues))

    @property
    def order(self) -> np.ndarray:
        """Positions in the given order of the sorted eigenvalues: ``sorted = given[order]``
        (the identity unless explicit eigenvalues were given in another order)."""
        return np.arange(self.latent_dim)

    @property
    def is_reordered(self) -> bool:
        """Whether the eigenvalues were given in another order than decreasing."""
        return bool(np.any(self.order != np.arange(self.latent_dim)))

    def eigenvalue_at(self, index: np.ndarray | float) -> np.ndarray:
        """λ at 1-based indices (power laws: a continuous index; explicit: rounded up)."""
        pos = np.clip(np.ceil(np.asarray(index, dtype=np.float64)).astype(np.int64), 1,
                      self.latent_dim) - 1  # fmt: skip
        return self.eigenvalues[pos]

    def describe(self) -> str:  # pragma: no cover - every variant defines it
        raise NotImplementedError

    def to_dict(self) -> dict:  # pragma: no cover - every variant defines it
        raise NotImplementedError


@dataclass(frozen=True, eq=True)
class PowerLawSpectrum(Spectrum):
    """:math:`\\lambda_I = \\lambda_+ I^{-(1+\\alpha)}`, stored by its parameters."""

    kind: ClassVar[str] = "power_law"
    compressible: ClassVar[bool] = True
    is_power_law: ClassVar[bool] = True
    latent_dim: int
    alpha: float
    lambda_plus: float = 1.0

    def eigenvalue_at(self, index: np.ndarray | float) -> np.ndarray:
        r""":math:`\lambda_+ I^{-(1+\alpha)}` at a (possibly fractional) 1-based index.

        Used by compressed spectral sums, which treat the index as a continuous variable.
        """
        return self.lambda_plus * np.asarray(index, dtype=np.float64) ** (-(1.0 + self.alpha))

    @cached_property
    def eigenvalues(self) -> np.ndarray:
        """The eigenvalues λ_1 ≥ … ≥ λ_M, read-only array of shape ``(latent_dim,)``."""
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
        return float(self.lambda_plus)

    @property
    def smallest(self) -> float:
        return float(self.eigenvalue_at(float(self.latent_dim)))

    @cached_property
    def trace(self) -> float:
        """Σ_I λ_I (above 10^7 directions by an Euler–Maclaurin tail, relative error < 1e-14)."""
        if self.latent_dim <= 10_000_000:
            return float(np.sum(self.eigenvalues))
        return _power_law_sum(self.latent_dim, 1.0 + self.alpha) * self.lambda_plus

    def describe(self) -> str:
        """A short human-readable description."""
        return (
            f"power law: M={self.latent_dim}, alpha={self.alpha:g}, "
            f"lambda_plus={self.lambda_plus:g}"
        )

    def to_dict(self) -> dict:
        """Plain JSON: ``kind``, ``latent_dim``, ``alpha``, ``lambda_plus``."""
        return {
            "kind": self.kind,
            "latent_dim": self.latent_dim,
            "alpha": self.alpha,
            "lambda_plus": self.lambda_plus,
        }


@dataclass(frozen=True, eq=False)
class ExplicitSpectrum(Spectrum):
    """Any positive eigenvalues, stored sorted with the permutation they came in."""

    kind: ClassVar[str] = "explicit"
    latent_dim: int
    values: np.ndarray = field(repr=False)
    permutation: np.ndarray = field(repr=False)

    @property
    def eigenvalues(self) -> np.ndarray:
        """The eigenvalues λ_1 ≥ … ≥ λ_M, read-only array of shape ``(latent_dim,)``."""
        return self.values

    @property
    def order(self) -> np.ndarray:
        return self.permutation

    def describe(self) -> str:
        """A short human-readable description."""
        return f"explicit: M={self.latent_dim}, lambda in [{self.smallest:.3g}, {self.largest:.3g}]"

    def to_dict(self) -> dict:
        """Plain JSON: ``kind`` and the eigenvalues in the order they were given."""
        given = np.empty_like(self.values)
        given[self.permutation] = self.values
        return {"kind": self.kind, "eigenvalues": given.tolist()}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ExplicitSpectrum):
            return NotImplemented
        return bool(
            np.array_equal(self.values, other.values)
            and np.array_equal(self.permutation, other.permutation)
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.values.tobytes(), self.permutation.tobytes()))


#: Registry: kind -> (builder, fields of its plain-JSON form, required fields).
SPECTRA = {
    "power_law": (
        Spectrum.power_law,
        ("latent_dim", "alpha", "lambda_plus"),
        ("latent_dim", "alpha"),
    ),
    "explicit": (Spectrum.from_eigenvalues, ("eigenvalues",), ("eigenvalues",)),
}


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
