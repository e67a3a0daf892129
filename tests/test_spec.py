"""Teacher and ModelSpec: construction, validation, equality."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from scalinglaws import InputError
from scalinglaws.model.activations import get_activation
from scalinglaws.model.spec import ModelSpec, Teacher
from scalinglaws.model.spectrum import Spectrum

SPECTRUM = Spectrum.power_law(latent_dim=50, alpha=1.0)


def test_isotropic_teacher_variances():
    t = Teacher.isotropic(2.0)
    v = t.variances(50)
    assert_allclose(v, 2.0 / 50, rtol=1e-15, atol=0)  # σ_w²/M in each direction
    assert_allclose(v.sum(), 2.0, rtol=1e-14, atol=0)
    assert t.is_random and t.kind == "isotropic"


def test_power_law_teacher_variances():
    t = Teacher.power_law(1.5, teacher_var=3.0)
    v = t.variances(40)
    raw = np.arange(1, 41, dtype=float) ** -1.5
    assert_allclose(v, 3.0 * raw / raw.sum(), rtol=1e-14, atol=0)  # same formula
    assert_allclose(v.sum(), 3.0, rtol=1e-14, atol=0)


def test_from_variances_and_fixed_teachers():
    t = Teacher.from_variances([0.5, 0.0, 0.25])
    assert t.teacher_var == 0.75 and t.variances(3).tolist() == [0.5, 0.0, 0.25]
    w = Teacher.fixed([1.0, -2.0, 0.5])
    assert not w.is_random
    assert w.weights.tolist() == [1.0, -2.0, 0.5]
    assert w.variances(3).tolist() == [1.0, 4.0, 0.25]
    assert w.teacher_var == 5.25
    assert not hasattr(t, "weights")  # only the fixed variant has weights


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda: Teacher.isotropic(0.0), "teacher_var"),
        (lambda: Teacher.power_law(float("inf")), "exponent"),
        (lambda: Teacher.power_law(1.0, teacher_var=-1.0), "teacher_var"),
        (lambda: Teacher.from_variances([1.0, -1.0]), "variances"),
        (lambda: Teacher.from_variances([]), "variances"),
        (lambda: Teacher.fixed([[1.0]]), "weights"),
        (lambda: Teacher.fixed([np.nan]), "weights"),
    ],
)
def test_teacher_rejects_bad_input(build, name):
    with pytest.raises(ValueError, match=rf"^'{name}' must") as info:
        build()
    assert "\n" not in str(info.value)


def test_model_spec_defaults_and_normalization():
    spec = ModelSpec(spectrum=SPECTRUM, activation="relu", noise_var=1, feature_var=2)
    assert spec.latent_dim == 50 and not spec.is_linear
    assert spec.activation == get_activation("relu")
    assert isinstance(spec.noise_var, float) and spec.feature_var == 2.0
    assert spec.teacher == Teacher.isotropic(1.0)
    assert_allclose(spec.teacher_variances().sum(), 1.0, rtol=1e-14, atol=0)
    assert ModelSpec(spectrum=SPECTRUM).is_linear
    assert spec.to_dict()["activation"] == "relu"


def test_model_spec_equality_and_hash():
    a = ModelSpec(spectrum=SPECTRUM, activation="tanh")
    b = ModelSpec(spectrum=Spectrum.power_law(latent_dim=50, alpha=1.0), activation="tanh")
    assert a == b and hash(a) == hash(b)
    assert a != ModelSpec(spectrum=SPECTRUM, activation="relu")


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"noise_var": -1.0}, "noise_var"),
        ({"feature_var": 0.0}, "feature_var"),
        ({"feature_var": float("nan")}, "feature_var"),
        ({"activation": "nope"}, "activation"),
        ({"teacher": Teacher.fixed(np.ones(49))}, "weights"),
        ({"teacher": Teacher.from_variances(np.ones(51))}, "variances"),
    ],
)
def test_model_spec_rejects_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=rf"^'{name}' must") as info:
        ModelSpec(spectrum=SPECTRUM, **kwargs)
    assert "\n" not in str(info.value)


def test_model_spec_rejects_wrong_types():
    with pytest.raises(TypeError, match="'spectrum' must be a Spectrum"):
        ModelSpec(spectrum=[1.0, 2.0])
    with pytest.raises(TypeError, match="'teacher' must be a Teacher"):
        ModelSpec(spectrum=SPECTRUM, teacher=1.0)


def test_latent_dim_error_names_parameter():
    with pytest.raises(ValueError, match=r"^'latent_dim' must be a positive integer\. Got -3"):
        ModelSpec(spectrum=Spectrum.power_law(latent_dim=-3, alpha=1.0))
    with pytest.raises(ValueError, match=r"^'alpha' must be a finite number > 0\. Got 0"):
        ModelSpec(spectrum=Spectrum.power_law(latent_dim=3, alpha=0))


@settings(max_examples=40, deadline=None)
@given(
    exponent=st.floats(-3.0, 6.0),
    latent_dim=st.integers(1, 2000),
    teacher_var=st.floats(1e-3, 1e3),
)
def test_power_law_teacher_sums_to_teacher_var(exponent, latent_dim, teacher_var):
    v = Teacher.power_law(exponent, teacher_var=teacher_var).variances(latent_dim)
    assert v.shape == (latent_dim,)
    # Normalized by construction; summation rounding only.
    assert_allclose(v.sum(), teacher_var, rtol=1e-12, atol=0)
    if exponent > 0:
        assert np.all(np.diff(v) <= 0)


@settings(max_examples=30, deadline=None)
@given(noise=st.floats(0.0, 1e6), feature=st.floats(1e-6, 1e6))
def test_model_spec_round_trips_valid_numbers(noise, feature):
    spec = ModelSpec(spectrum=SPECTRUM, noise_var=noise, feature_var=feature)
    assert (spec.noise_var, spec.feature_var) == (noise, feature)


def test_unsorted_eigenvalues_stay_paired_with_their_teacher_components():
    """Each direction keeps its eigenvalue and its teacher variance whatever order they come in."""
    given = ModelSpec(
        spectrum=Spectrum.from_eigenvalues([0.01, 1.0, 0.5]),
        teacher=Teacher.from_variances([1.0, 0.0, 0.0]),
    )
    ordered = ModelSpec(
        spectrum=Spectrum.from_eigenvalues([1.0, 0.5, 0.01]),
        teacher=Teacher.from_variances([0.0, 0.0, 1.0]),
    )
    np.testing.assert_array_equal(given.teacher_variances(), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(given.spectrum.eigenvalues, ordered.spectrum.eigenvalues)
    fixed = ModelSpec(spectrum=given.spectrum, teacher=Teacher.fixed([3.0, 1.0, 2.0]))
    np.testing.assert_array_equal(fixed.teacher_weights(), [1.0, 2.0, 3.0])


def test_unsorted_spectrum_round_trips_through_its_dict():
    from scalinglaws import ModelSpec

    spec = ModelSpec(
        spectrum=Spectrum.from_eigenvalues([0.01, 1.0, 0.5]),
        teacher=Teacher.fixed([3.0, 1.0, 2.0]),
    )
    again = ModelSpec.from_dict(spec.to_dict())
    assert again.spectrum == spec.spectrum
    np.testing.assert_array_equal(again.teacher_weights(), spec.teacher_weights())


@pytest.mark.parametrize(
    "teacher",
    [
        Teacher.isotropic(2.0),
        Teacher.power_law(0.5, teacher_var=3.0),
        Teacher.from_variances([0.5, 0.0, 0.25]),
        Teacher.fixed([1.0, -2.0, 0.5]),
        Teacher.random_features("tanh", 40, feature_var=2.0, output_var=0.5),
    ],
    ids=lambda t: t.kind,
)
def test_every_model_object_round_trips_through_its_dict(teacher):
    spectrum = Spectrum.from_eigenvalues([0.2, 1.0, 0.4])
    spec = ModelSpec(spectrum=spectrum, teacher=teacher, noise_var=0.1, activation="relu")
    again = ModelSpec.from_dict(spec.to_dict())
    assert again == spec and again.to_dict() == spec.to_dict()
    assert Teacher.from_dict(teacher.to_dict()) == teacher


def test_random_feature_teacher_width_defaults_to_twenty_per_latent_direction():
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=30, alpha=1.0),
                     teacher=Teacher.random_features("relu"))
    assert spec.teacher.width == 600 and spec.to_dict()["teacher"]["width"] == 600


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"spectrum": {"kind": "power_law", "latent_dim": 10, "alpha": -1}},
         "'spectrum.alpha' must be a finite number > 0. Got -1 instead."),
        ({"spectrum": {"latent_dim": 10, "alpha": 1, "alph": 2}},
         "unknown field 'spectrum.alph'; expected one of kind, latent_dim, alpha, lambda_plus."),
        ({"spectrum": {"kind": "power_law", "latent_dim": 10}}, "missing field 'spectrum.alpha'."),
        ({"spectrum": {"kind": "triangle"}}, "'spectrum.kind' must be one of 'power_law'"),
        ({"spectrum": {"latent_dim": 3, "alpha": 1}, "teacher": {"kind": "power_law"}},
         "missing field 'teacher.exponent'."),
        ({"spectrum": {"latent_dim": 3, "alpha": 1}, "noise": 1}, "unknown field 'noise'"),
    ],  # fmt: skip
)
def test_from_dict_errors_name_the_field_path(data, message):
    with pytest.raises(InputError) as info:
        ModelSpec.from_dict(data)
    assert str(info.value).startswith(message), str(info.value)
