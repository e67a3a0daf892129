r"""The model definition shared by simulation and theory: :class:`ModelSpec` (``docs/model.md``).

Features are :math:`\phi_j(x) = \sigma(u_j \cdot x)` with :math:`u_{jI} \sim N(0, \sigma_u^2 / M)`,
the target :math:`y = f_*(x) + \varepsilon` (:mod:`scalinglaws.model.teacher`), the data
:math:`x \sim N(0, \Lambda)` (:mod:`scalinglaws.model.spectrum`).

==========  ===================  ===================================================
symbol      name                 meaning
==========  ===================  ===================================================
Λ           ``spectrum``         latent covariance eigenvalues λ_I
f_*         ``teacher``          the target function
σ_ε²        ``noise_var``        label-noise variance
σ           ``activation``       feature nonlinearity
σ_u²        ``feature_var``      feature-weight variance (times 1/M)
==========  ===================  ===================================================

The spec is frozen and validated once at construction; numerics downstream trust it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validation import InputError, check_nonnegative_float, check_positive_float
from ._schema import relocate
from .activations import Activation, get_activation
from .spectrum import Spectrum
from .teacher import RandomFeatureTeacher, Teacher

__all__ = ["ModelSpec", "Teacher", "Spectrum"]

_SPEC_FIELDS = ("spectrum", "teacher", "noise_var", "activation", "feature_var")


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    """Everything that defines one instance of the model (``docs/model.md`` §2–3).

    Parameters
    ----------
    spectrum : Spectrum
        Latent covariance eigenvalues λ_I.
    teacher : Teacher, default isotropic with σ_w² = 1
        The target; a random-feature teacher without a width gets 20·M features here.
    noise_var : float, default 0
        σ_ε², label-noise variance (≥ 0).
    activation : str or Activation or callable, default "linear"
        σ of the features φ_j(x) = σ(u_j · x); a name from
        :data:`scalinglaws.ACTIVATION_NAMES` or any vectorized callable.
    feature_var : float, default 1
        σ_u², so that u_jI ~ N(0, σ_u²/M).

    Examples
    --------
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=100, alpha=1.0))
    >>> spec.activation.name, spec.noise_var, spec.latent_dim
    ('linear', 0.0, 100)
    >>> ModelSpec.from_dict(spec.to_dict()) == spec
    True
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
        if isinstance(self.teacher, RandomFeatureTeacher):
            object.__setattr__(self, "teacher", self.teacher.with_latent_dim(self.latent_dim))
        object.__setattr__(self, "noise_var", check_nonnegative_float("noise_var", self.noise_var))
        object.__setattr__(
            self, "feature_var", check_positive_float("feature_var", self.feature_var)
        )
        object.__setattr__(self, "activation", get_activation(self.activation))

    @classmethod
    def from_dict(cls, data: object) -> ModelSpec:
        """The spec of a plain-JSON description (the inverse of :meth:`to_dict`).

        Unknown fields and bad values raise :class:`~scalinglaws.InputError` naming the field;
        the spectrum and teacher are read by :meth:`Spectrum.from_dict` and
        :meth:`Teacher.from_dict`.
        """
        if not isinstance(data, dict):
            raise InputError(f"must be a table (a dict). Got {data!r:.60} instead.")
        for key in data:
            if key not in _SPEC_FIELDS:
                expected = ", ".join(_SPEC_FIELDS)
                raise InputError(f"unknown field '{key}'; expected one of {expected}.")
        if "spectrum" not in data:
            raise InputError("missing field 'spectrum'.")
        return cls(
            spectrum=_located("spectrum", Spectrum.from_dict, data["spectrum"]),
            teacher=_located("teacher", Teacher.from_dict, data.get("teacher", {})),
            noise_var=data.get("noise_var", 0.0),
            activation=data.get("activation", "linear"),
            feature_var=data.get("feature_var", 1.0),
        )

    @property
    def latent_dim(self) -> int:
        """M, the latent dimension."""
        return self.spectrum.latent_dim

    @property
    def is_linear(self) -> bool:
        """Whether the features are linear (σ = identity)."""
        return self.activation.name == "linear"

    def scaled_teacher_variances(self) -> tuple[np.ndarray, float]:
        """``(shares, log_scale)``: w̄² = shares·exp(log_scale) in the sorted eigenvalue order,
        without overflow for any scale (see :meth:`Teacher.scaled_variances`)."""
        shares, log_scale = self.teacher.scaled_variances(self.latent_dim)
        if self.teacher.per_direction:
            shares = shares[self.spectrum.order]
        return shares, log_scale

    def teacher_variances(self) -> np.ndarray:
        """w̄_I² per direction, in the order of the (sorted) eigenvalues, shape ``(latent_dim,)``.

        Per-direction arrays (:meth:`Teacher.from_variances`, :meth:`Teacher.fixed`) are given in
        the order of the eigenvalues the spectrum was built from; the spectrum stores its
        eigenvalues sorted, and the same permutation is applied here, so each direction keeps its
        own eigenvalue and teacher component. A power-law teacher is indexed by the sorted rank.
        """
        variances = self.teacher.variances(self.latent_dim)
        return variances[self.spectrum.order] if self.teacher.per_direction else variances

    def teacher_weights(self) -> np.ndarray:
        """The fixed teacher w in the order of the sorted eigenvalues (fixed teachers only)."""
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


def _located(name: str, reader, value):
    """Read a nested object; its errors name the field's path (``'spectrum.alpha' must ...``)."""
    try:
        return reader(value)
    except InputError as err:
        raise relocate(err, name) from None
