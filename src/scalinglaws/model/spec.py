r"""The model definition shared by simulation and theory: :class:`Teacher` and :class:`ModelSpec`.

See ``MODEL.md`` §2–3. The target is :math:`y = w \cdot x + \varepsilon` with
:math:`\varepsilon \sim N(0, \sigma_\varepsilon^2)`; features are
:math:`\phi_j(x) = \sigma(u_j \cdot x)` with :math:`u_{jI} \sim N(0, \sigma_u^2 / M)`.

==========  ===================  ===================================================
symbol      name                 meaning
==========  ===================  ===================================================
w̄_I²        ``variances``        E[w_I²], per latent direction (teacher "source")
σ_w²        ``teacher_var``      total teacher variance Σ_I w̄_I² (isotropic: σ_w²/M each)
σ_ε²        ``noise_var``        label-noise variance
σ           ``activation``       feature nonlinearity
σ_u²        ``feature_var``      feature-weight variance (times 1/M)
==========  ===================  ===================================================

Both are frozen and validated once at construction; numerics downstream trust them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validation import (
    InputError,
    check_nonnegative_float,
    check_positive_float,
    check_positive_int,
)
from .activations import Activation, get_activation
from .spectrum import Spectrum

__all__ = ["Teacher", "ModelSpec"]

#: Teacher kinds given as one number per latent direction (paired with the given eigenvalues).
_PER_DIRECTION = ("variances", "fixed")


@dataclass(frozen=True, eq=False)
class Teacher:
    """The linear teacher w of ``MODEL.md`` §2; build with a classmethod, not the constructor.

    - :meth:`isotropic`: :math:`w_I \\sim N(0, \\sigma_w^2/M)` i.i.d. (the paper's teacher);
    - :meth:`power_law`: :math:`w_I \\sim N(0, \\bar w_I^2)` with
      :math:`\\bar w_I^2 \\propto I^{-\\beta}`, normalized so that
      :math:`\\sum_I \\bar w_I^2 = \\sigma_w^2`;
    - :meth:`from_variances`: :math:`w_I \\sim N(0, \\bar w_I^2)` for any given variances;
    - :meth:`fixed`: one fixed weight vector (then :math:`\\bar w_I^2 = w_I^2`);
    - :meth:`random_features`: the nonlinear teacher of ``MODEL.md`` §6,
      :math:`y = \\sum_{k=1}^{K} a_k \\sigma_t(v_k\\cdot x)`,
      :math:`v_{kI} \\sim N(0, \\sigma_v^2/M)`, :math:`a_k \\sim N(0, \\sigma_a^2/K)`,
      drawn afresh for each seed.
    """

    kind: str
    teacher_var: float | None = None
    exponent: float | None = None
    _array: np.ndarray | None = field(default=None, repr=False)
    activation: Activation | None = None
    width: int | None = None
    feature_var: float | None = None
    output_var: float | None = None

    @classmethod
    def random_features(
        cls,
        activation: str | Activation = "relu",
        width: int = 1000,
        *,
        feature_var: float = 1.0,
        output_var: float = 1.0,
    ) -> Teacher:
        r"""Wide random-feature teacher :math:`y = \sum_k a_k \sigma_t(v_k \cdot x) + \varepsilon`.

        Parameters
        ----------
        activation : str or Activation, default "relu"
            σ_t, the teacher's nonlinearity (``"linear"`` gives a linear teacher of rank ≤ K).
        width : int, default 1000
            K, the number of teacher features (MODEL.md §6 suggests K ≥ 20·M).
        feature_var : float, default 1
            σ_v², so that :math:`v_{kI} \sim N(0, \sigma_v^2/M)`.
        output_var : float, default 1
            σ_a², so that :math:`a_k \sim N(0, \sigma_a^2/K)`.
        """
        return cls(
            kind="random_features",
            activation=get_activation(activation),
            width=check_positive_int("width", width),
            feature_var=check_positive_float("teacher_feature_var", feature_var),
            output_var=check_positive_float("teacher_output_var", output_var),
        )

    @property
    def is_linear(self) -> bool:
        """Whether y is linear in x with weights w (all kinds but ``random_features``)."""
        return self.kind != "random_features"

    @classmethod
    def isotropic(cls, teacher_var: float = 1.0) -> Teacher:
        """Isotropic random teacher with total variance σ_w² (each direction σ_w²/M)."""
        return cls(kind="isotropic", teacher_var=check_positive_float("teacher_var", teacher_var))

    @classmethod
    def power_law(cls, exponent: float, teacher_var: float = 1.0) -> Teacher:
        r"""Random teacher with :math:`\bar w_I^2 = \sigma_w^2 I^{-\beta} / \sum_J J^{-\beta}`."""
        if isinstance(exponent, bool) or not isinstance(exponent, int | float | np.number):
            raise InputError(f"'exponent' must be a finite number. Got {exponent!r} instead.")
        beta = float(exponent)
        if not np.isfinite(beta):
            raise InputError(f"'exponent' must be a finite number. Got {exponent!r} instead.")
        return cls(
            kind="power_law",
            teacher_var=check_positive_float("teacher_var", teacher_var),
            exponent=beta,
        )

    @classmethod
    def from_variances(cls, variances: object) -> Teacher:
        """Random teacher with per-direction variances w̄_I² ≥ 0, shape ``(latent_dim,)``."""
        arr = _float_array("variances", variances)
        bad = ~np.isfinite(arr) | (arr < 0)
        if arr.ndim != 1 or arr.size == 0 or bad.any():
            found = (
                f"{float(arr[bad][0])!r} among its entries" if bad.any() else f"shape {arr.shape}"
            )
            raise InputError(
                f"'variances' must be a non-empty 1-D array of finite numbers >= 0. "
                f"Got {found} instead."
            )
        arr.setflags(write=False)
        return cls(kind="variances", teacher_var=float(arr.sum()), _array=arr)

    @classmethod
    def fixed(cls, weights: object) -> Teacher:
        """A fixed teacher weight vector w, shape ``(latent_dim,)``."""
        arr = _float_array("weights", weights)
        bad = ~np.isfinite(arr)
        if arr.ndim != 1 or arr.size == 0 or bad.any():
            found = (
                f"{float(arr[bad][0])!r} among its entries" if bad.any() else f"shape {arr.shape}"
            )
            raise InputError(
                f"'weights' must be a non-empty 1-D array of finite numbers. Got {found} instead."
            )
        arr.setflags(write=False)
        return cls(kind="fixed", teacher_var=float(arr @ arr), _array=arr)

    @property
    def is_random(self) -> bool:
        """Whether w is drawn afresh for each seed."""
        return self.kind != "fixed"

    @property
    def weights(self) -> np.ndarray:
        """The fixed weight vector (``kind == 'fixed'`` only)."""
        if self.kind != "fixed":
            raise TypeError("Only a fixed teacher has 'weights'; random teachers are sampled.")
        return self._array

    def variances(self, latent_dim: int) -> np.ndarray:
        """w̄_I² = E[w_I²] for I = 1..M, shape ``(latent_dim,)`` (linear teachers only)."""
        if not self.is_linear:
            raise TypeError("A random-feature teacher has no per-direction variances w̄_I².")
        if self.kind == "isotropic":
            return np.full(latent_dim, self.teacher_var / latent_dim)
        if self.kind == "power_law":  # normalized in log space: no overflow for any exponent
            logs = -self.exponent * np.log(np.arange(1, latent_dim + 1, dtype=np.float64))
            raw = np.exp(logs - logs.max())
            return raw * (self.teacher_var / raw.sum())
        if self.kind == "variances":
            return self._array
        return self._array**2

    def check_dim(self, latent_dim: int) -> None:
        """Raise if an explicit teacher array does not have ``latent_dim`` entries."""
        if self._array is not None and self._array.size != latent_dim:
            name = "weights" if self.kind == "fixed" else "variances"
            raise InputError(
                f"'{name}' must have latent_dim={latent_dim} entries. "
                f"Got {self._array.size} instead."
            )

    def describe(self) -> str:
        """A short human-readable description."""
        if self.kind == "isotropic":
            return f"isotropic teacher, teacher_var={self.teacher_var:g}"
        if self.kind == "power_law":
            return (
                f"power-law teacher, exponent={self.exponent:g}, teacher_var={self.teacher_var:g}"
            )
        if self.kind == "random_features":
            return f"{self.activation.name} random-feature teacher, width={self.width}"
        return f"{self.kind} teacher, teacher_var={self.teacher_var:g}"

    def to_dict(self) -> dict:
        """Plain-JSON description."""
        if self.kind == "random_features":
            return {
                "kind": self.kind,
                "activation": self.activation.name,
                "width": self.width,
                "feature_var": self.feature_var,
                "output_var": self.output_var,
            }
        out: dict = {"kind": self.kind, "teacher_var": self.teacher_var}
        if self.kind == "power_law":
            out["exponent"] = self.exponent
        if self._array is not None:
            out["weights" if self.kind == "fixed" else "variances"] = self._array.tolist()
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Teacher):
            return NotImplemented
        same = self._key() == other._key()
        if self._array is None or other._array is None:
            return same and self._array is other._array
        return same and bool(np.array_equal(self._array, other._array))

    def _key(self) -> tuple:
        return (
            self.kind,
            self.teacher_var,
            self.exponent,
            self.activation,
            self.width,
            self.feature_var,
            self.output_var,
        )

    def __hash__(self) -> int:
        extra = None if self._array is None else self._array.tobytes()
        return hash((*self._key(), extra))


def _float_array(name: str, value: object) -> np.ndarray:
    try:
        return np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(
            f"'{name}' must be a 1-D array of numbers. Got {value!r:.60} instead."
        ) from None


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    """Everything that defines one instance of the model (``MODEL.md`` §2–3).

    Parameters
    ----------
    spectrum : Spectrum
        Latent covariance eigenvalues λ_I.
    teacher : Teacher, default isotropic with σ_w² = 1
        The target weights w.
    noise_var : float, default 0
        σ_ε², label-noise variance (≥ 0).
    activation : str or Activation or callable, default "linear"
        σ of the features φ_j(x) = σ(u_j · x); a name from
        :data:`scalinglaws.model.activations.ACTIVATION_NAMES` or any vectorized callable.
    feature_var : float, default 1
        σ_u², so that u_jI ~ N(0, σ_u²/M).

    Examples
    --------
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=100, alpha=1.0))
    >>> spec.activation.name, spec.noise_var, spec.latent_dim
    ('linear', 0.0, 100)
    """

    spectrum: Spectrum
    teacher: Teacher = field(default_factory=Teacher.isotropic)
    noise_var: float = 0.0
    activation: Activation = "linear"  # type: ignore[assignment]  # normalized in __post_init__
    feature_var: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.spectrum, Spectrum):
            raise TypeError(
                f"'spectrum' must be a Spectrum. Got {type(self.spectrum).__name__} instead."
            )
        if not isinstance(self.teacher, Teacher):
            raise TypeError(
                f"'teacher' must be a Teacher. Got {type(self.teacher).__name__} instead."
            )
        self.teacher.check_dim(self.spectrum.latent_dim)
        object.__setattr__(self, "noise_var", check_nonnegative_float("noise_var", self.noise_var))
        object.__setattr__(
            self, "feature_var", check_positive_float("feature_var", self.feature_var)
        )
        object.__setattr__(self, "activation", get_activation(self.activation))

    @property
    def latent_dim(self) -> int:
        """M, the latent dimension."""
        return self.spectrum.latent_dim

    @property
    def is_linear(self) -> bool:
        """Whether the features are linear (σ = identity)."""
        return self.activation.name == "linear"

    def teacher_variances(self) -> np.ndarray:
        """w̄_I² per direction, in the order of the (sorted) eigenvalues, shape ``(latent_dim,)``.

        Per-direction arrays (:meth:`Teacher.from_variances`, :meth:`Teacher.fixed`) are given in
        the order of the eigenvalues the spectrum was built from; the spectrum stores its
        eigenvalues sorted, and the same permutation is applied here, so each direction keeps its
        own eigenvalue and teacher component. A power-law teacher is indexed by the sorted rank.
        """
        variances = self.teacher.variances(self.latent_dim)
        if self.teacher.kind in _PER_DIRECTION:
            return variances[self.spectrum.order]
        return variances

    def teacher_weights(self) -> np.ndarray:
        """The fixed teacher w in the order of the sorted eigenvalues (``kind == 'fixed'`` only)."""
        return self.teacher.weights[self.spectrum.order]

    def to_dict(self) -> dict:
        """Plain-JSON description of the spec."""
        return {
            "spectrum": self.spectrum.to_dict(),
            "teacher": self.teacher.to_dict(),
            "noise_var": self.noise_var,
            "activation": self.activation.name,
            "feature_var": self.feature_var,
        }
