r"""The teacher (target function) of the generative model (``docs/model.md`` §2, §6).

The target is :math:`y = f_*(x) + \varepsilon`, :math:`\varepsilon \sim N(0, \sigma_\varepsilon^2)`.
Five variants share one protocol (:class:`Teacher`); build them with its classmethods or from
their plain-JSON form with :meth:`Teacher.from_dict`:

- :meth:`~Teacher.isotropic`: :math:`w_I \sim N(0, \sigma_w^2/M)` i.i.d. (the paper's teacher);
- :meth:`~Teacher.power_law`: :math:`w_I \sim N(0, \bar w_I^2)`,
  :math:`\bar w_I^2 \propto I^{-\beta}` normalized to :math:`\sum_I \bar w_I^2 = \sigma_w^2`;
- :meth:`~Teacher.from_variances`: :math:`w_I \sim N(0, \bar w_I^2)` for given variances;
- :meth:`~Teacher.fixed`: one fixed weight vector (then :math:`\bar w_I^2 = w_I^2`);
- :meth:`~Teacher.random_features`: :math:`f_*(x) = \sum_{k=1}^{K} a_k \sigma_t(v_k\cdot x)`,
  :math:`v_{kI} \sim N(0, \sigma_v^2/M)`, :math:`a_k \sim N(0, \sigma_a^2/K)`, drawn per seed.

Capabilities in place of kind checks: :attr:`~Teacher.is_linear` (y is linear in x),
:attr:`~Teacher.is_random` (drawn afresh per seed), :attr:`~Teacher.per_direction` (one number
per latent direction, paired with the eigenvalues in the order they were given) and
:attr:`~Teacher.index_exponent` (β when :math:`\bar w_I^2 \propto I^{-\beta}`, which lets the
theory compress its sums).

==========  ===================  ===================================================
symbol      name                 meaning
==========  ===================  ===================================================
w̄_I²        ``variances``        E[w_I²], per latent direction (teacher "source")
σ_w²        ``teacher_var``      total teacher variance Σ_I w̄_I²
β           ``exponent``         power-law exponent of w̄_I² in the index I
K           ``width``            number of features of a random-feature teacher
σ_v²        ``feature_var``      variance scale of its input weights v_k
σ_a²        ``output_var``       variance scale of its output weights a_k
==========  ===================  ===================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import ClassVar

import numpy as np

from .._validation import InputError, check_positive_float, check_positive_int
from ._schema import read_fields
from .activations import Activation, get_activation

__all__ = [
    "Teacher",
    "IsotropicTeacher",
    "PowerLawTeacher",
    "VarianceTeacher",
    "FixedTeacher",
    "RandomFeatureTeacher",
    "TEACHER_WIDTH_PER_LATENT",
]

#: Default width of a random-feature teacher, per latent direction: K = 20·M.
TEACHER_WIDTH_PER_LATENT = 20


class Teacher:
    """The protocol of every teacher variant; build one with a classmethod."""

    kind: ClassVar[str]
    is_linear: ClassVar[bool] = True
    is_random: ClassVar[bool] = True
    per_direction: ClassVar[bool] = False

    # -- constructors -------------------------------------------------------------------------
    @staticmethod
    def isotropic(teacher_var: float = 1.0) -> IsotropicTeacher:
        """Isotropic random teacher with total variance σ_w² (each direction σ_w²/M)."""
        return IsotropicTeacher(teacher_var=check_positive_float("teacher_var", teacher_var))

    @staticmethod
    def power_law(exponent: float, teacher_var: float = 1.0) -> PowerLawTeacher:
        r"""Random teacher with :math:`\bar w_I^2 = \sigma_w^2 I^{-\beta} / \sum_J J^{-\beta}`."""
        if isinstance(exponent, bool) or not isinstance(exponent, int | float | np.number):
            raise InputError(f"'exponent' must be a finite number. Got {exponent!r} instead.")
        if not np.isfinite(float(exponent)):
            raise InputError(f"'exponent' must be a finite number. Got {exponent!r} instead.")
        return PowerLawTeacher(
            exponent=float(exponent), teacher_var=check_positive_float("teacher_var", teacher_var)
        )

    @staticmethod
    def from_variances(variances: object) -> VarianceTeacher:
        """Random teacher with per-direction variances w̄_I² ≥ 0, shape ``(latent_dim,)``, in the
        order of the eigenvalues given to the spectrum."""
        arr = _array("variances", variances, ">= 0", lambda a: np.isfinite(a) & (a >= 0))
        return VarianceTeacher(values=arr)

    @staticmethod
    def fixed(weights: object) -> FixedTeacher:
        """A fixed teacher weight vector w, shape ``(latent_dim,)``, in the order of the
        eigenvalues given to the spectrum."""
        return FixedTeacher(values=_array("weights", weights, "", np.isfinite))

    @staticmethod
    def random_features(
        activation: str | Activation = "relu",
        width: int | None = None,
        *,
        feature_var: float = 1.0,
        output_var: float = 1.0,
    ) -> RandomFeatureTeacher:
        r"""Wide random-feature teacher :math:`y = \sum_k a_k \sigma_t(v_k \cdot x) + \varepsilon`.

        Parameters
        ----------
        activation : str or Activation, default "relu"
            σ_t, the teacher's nonlinearity (``"linear"`` gives a linear teacher of rank ≤ K).
        width : int, optional
            K, the number of teacher features; default :data:`TEACHER_WIDTH_PER_LATENT` × M,
            set when the teacher joins a :class:`~scalinglaws.ModelSpec`.
        feature_var : float, default 1
            σ_v², so that :math:`v_{kI} \sim N(0, \sigma_v^2/M)`.
        output_var : float, default 1
            σ_a², so that :math:`a_k \sim N(0, \sigma_a^2/K)`.
        """
        return RandomFeatureTeacher(
            activation=get_activation(activation),
            width=None if width is None else check_positive_int("width", width),
            feature_var=check_positive_float("teacher_feature_var", feature_var),
            output_var=check_positive_float("teacher_output_var", output_var),
        )

    @staticmethod
    def from_dict(data: object) -> Teacher:
        """The teacher of a plain-JSON description (the inverse of :meth:`to_dict`)."""
        fields = read_fields(data, TEACHERS, default_kind="isotropic")
        build = TEACHERS[fields.pop("kind")][0]
        return build(**fields)

    # -- the protocol ---------------------------------------------------------------------------
    @property
    def index_exponent(self) -> float | None:
        """β when :math:`\\bar w_I^2 \\propto I^{-\\beta}` in the sorted index (else None)."""
        return None

    def variances(self, latent_dim: int) -> np.ndarray:
        """w̄_I² = E[w_I²] for I = 1..M, shape ``(latent_dim,)`` (linear teachers only)."""
        shares, log_scale = self.scaled_variances(latent_dim)
        with np.errstate(over="ignore"):
            return shares * np.exp(log_scale)

    def scaled_variances(self, latent_dim: int) -> tuple[np.ndarray, float]:
        """``(shares, log_scale)`` with w̄² = shares·exp(log_scale), formed without overflow."""
        raise TypeError("A random-feature teacher has no per-direction variances w̄_I².")

    def check_dim(self, latent_dim: int) -> None:
        """Raise if a per-direction array does not have ``latent_dim`` entries."""

    def describe(self) -> str:  # pragma: no cover - every variant defines it
        raise NotImplementedError

    def to_dict(self) -> dict:  # pragma: no cover - every variant defines it
        raise NotImplementedError


def _array(name: str, value: object, bound: str, ok) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(
            f"'{name}' must be a 1-D array of numbers. Got {value!r:.60} instead."
        ) from None
    bad = ~ok(arr)
    if arr.ndim != 1 or arr.size == 0 or bad.any():
        found = f"{float(arr[bad][0])!r} among its entries" if bad.any() else f"shape {arr.shape}"
        bound = f" {bound}" if bound else ""
        raise InputError(
            f"'{name}' must be a non-empty 1-D array of finite numbers{bound}. Got {found} instead."
        )
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True)
class IsotropicTeacher(Teacher):
    """:math:`w_I \\sim N(0, \\sigma_w^2/M)` i.i.d."""

    kind: ClassVar[str] = "isotropic"
    teacher_var: float = 1.0

    @property
    def index_exponent(self) -> float:
        return 0.0

    def variances(self, latent_dim: int) -> np.ndarray:
        return np.full(latent_dim, self.teacher_var / latent_dim)

    def scaled_variances(self, latent_dim: int) -> tuple[np.ndarray, float]:
        return np.full(latent_dim, 1.0 / latent_dim), float(np.log(self.teacher_var))

    def describe(self) -> str:
        return f"isotropic teacher, teacher_var={self.teacher_var:g}"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "teacher_var": self.teacher_var}


@dataclass(frozen=True)
class PowerLawTeacher(Teacher):
    """:math:`\\bar w_I^2 \\propto I^{-\\beta}`, normalized to σ_w²."""

    kind: ClassVar[str] = "power_law"
    exponent: float
    teacher_var: float = 1.0

    @property
    def index_exponent(self) -> float:
        return self.exponent

    def _raw(self, latent_dim: int) -> np.ndarray:
        # I^-β normalized in log space: no overflow for any exponent.
        logs = -self.exponent * np.log(np.arange(1, latent_dim + 1, dtype=np.float64))
        return np.exp(logs - logs.max())

    def variances(self, latent_dim: int) -> np.ndarray:
        raw = self._raw(latent_dim)
        return raw * (self.teacher_var / raw.sum())

    def scaled_variances(self, latent_dim: int) -> tuple[np.ndarray, float]:
        raw = self._raw(latent_dim)
        return raw / raw.sum(), float(np.log(self.teacher_var))

    def describe(self) -> str:
        return f"power-law teacher, exponent={self.exponent:g}, teacher_var={self.teacher_var:g}"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "exponent": self.exponent, "teacher_var": self.teacher_var}


@dataclass(frozen=True, eq=False)
class _ArrayTeacher(Teacher):
    values: np.ndarray = field(repr=False)
    per_direction: ClassVar[bool] = True
    _name: ClassVar[str]

    def check_dim(self, latent_dim: int) -> None:
        if self.values.size != latent_dim:
            raise InputError(
                f"'{self._name}' must have latent_dim={latent_dim} entries. "
                f"Got {self.values.size} instead."
            )

    def to_dict(self) -> dict:
        return {"kind": self.kind, self._name: self.values.tolist()}

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return bool(np.array_equal(self.values, other.values))

    def __hash__(self) -> int:
        return hash((self.kind, self.values.tobytes()))


@dataclass(frozen=True, eq=False)
class VarianceTeacher(_ArrayTeacher):
    """Random teacher with given per-direction variances w̄_I²."""

    kind: ClassVar[str] = "variances"
    _name: ClassVar[str] = "variances"

    @property
    def teacher_var(self) -> float:
        return float(self.values.sum())

    def variances(self, latent_dim: int) -> np.ndarray:
        return self.values

    def scaled_variances(self, latent_dim: int) -> tuple[np.ndarray, float]:
        top = float(np.max(self.values))
        return (self.values / top, float(np.log(top))) if top > 0 else (self.values, 0.0)

    def describe(self) -> str:
        return f"per-direction teacher variances, teacher_var={self.teacher_var:g}"


@dataclass(frozen=True, eq=False)
class FixedTeacher(_ArrayTeacher):
    """One fixed weight vector w (the same for every seed)."""

    kind: ClassVar[str] = "fixed"
    is_random: ClassVar[bool] = False
    _name: ClassVar[str] = "weights"

    @property
    def weights(self) -> np.ndarray:
        """w, in the order of the eigenvalues given to the spectrum."""
        return self.values

    @property
    def teacher_var(self) -> float:
        return float(self.values @ self.values)

    def variances(self, latent_dim: int) -> np.ndarray:
        return self.values**2

    def scaled_variances(self, latent_dim: int) -> tuple[np.ndarray, float]:
        top = float(np.max(np.abs(self.values)))
        if top == 0:
            return np.zeros(self.values.size), 0.0
        return (self.values / top) ** 2, 2.0 * float(np.log(top))

    def describe(self) -> str:
        return f"fixed teacher, teacher_var={self.teacher_var:g}"


@dataclass(frozen=True)
class RandomFeatureTeacher(Teacher):
    """:math:`f_*(x) = \\sum_k a_k \\sigma_t(v_k\\cdot x)`, drawn afresh for each seed."""

    kind: ClassVar[str] = "random_features"
    is_linear: ClassVar[bool] = False
    activation: Activation = field(default_factory=lambda: get_activation("relu"))
    width: int | None = None
    feature_var: float = 1.0
    output_var: float = 1.0

    def with_latent_dim(self, latent_dim: int) -> RandomFeatureTeacher:
        """This teacher with its default width (20·M) resolved for ``latent_dim``."""
        if self.width is not None:
            return self
        return replace(self, width=TEACHER_WIDTH_PER_LATENT * int(latent_dim))

    def describe(self) -> str:
        return f"{self.activation.name} random-feature teacher, width={self.width}"

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "activation": self.activation.name,
            "width": self.width,
            "feature_var": self.feature_var,
            "output_var": self.output_var,
        }


#: Registry: kind -> (builder, fields of its plain-JSON form, required fields).
TEACHERS = {
    "isotropic": (Teacher.isotropic, ("teacher_var",), ()),
    "power_law": (Teacher.power_law, ("exponent", "teacher_var"), ("exponent",)),
    "variances": (Teacher.from_variances, ("variances",), ("variances",)),
    "fixed": (Teacher.fixed, ("weights",), ("weights",)),
    "random_features": (
        Teacher.random_features,
        ("activation", "width", "feature_var", "output_var"),
        (),
    ),
}
