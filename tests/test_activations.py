"""Gaussian expectations of activations: closed forms vs polar quadrature vs Monte-Carlo."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy.special import erf, gamma, ndtr

from scalinglaws._validation import NumericalWarning
from scalinglaws.model.activations import (
    ACTIVATION_NAMES,
    Activation,
    gaussian_expectation,
    get_activation,
    quadrature_kernel,
    radial_gauss_rule,
)

CLOSED_FORM_NAMES = ("linear", "relu", "erf", "sign", "abs", "quadratic")
MC_SAMPLES = 1_000_000

# (c11, c22, rho): unequal variances, both signs, and ρ at and near ±1.
SETTINGS = [
    (1.0, 1.0, 0.0),
    (0.3, 2.5, 0.6),
    (2.0, 0.05, -0.4),
    (1.7, 0.9, 0.999999),
    (0.8, 3.0, -0.999999),
    (1.2, 0.7, 1.0),
    (0.4, 4.0, -1.0),
]


def _grid():
    c = np.array([0.05, 0.3, 1.0, 2.5, 5.0])
    rho = np.array([-1.0, -0.999999, -0.7, -0.2, 0.0, 0.35, 0.9, 0.999999, 1.0])
    c11, c22, r = (a.ravel() for a in np.meshgrid(c, c, rho, indexing="ij"))
    return c11, c22, r * np.sqrt(c11 * c22)


def _gaussian_pairs(c11, c22, rho, rng, n=MC_SAMPLES):
    z1, z2 = rng.standard_normal((2, n))
    h1 = np.sqrt(c11) * z1
    h2 = np.sqrt(c22) * (rho * z1 + np.sqrt(1.0 - rho**2) * z2)
    return h1, h2


def _assert_within_4se(samples, expected, what):
    mean = samples.mean()
    se = samples.std(ddof=1) / np.sqrt(samples.size)
    assert abs(mean - expected) <= 4.0 * se + 1e-12, f"{what}: MC {mean} ± {se} vs {expected}"


# -- the radial rule -----------------------------------------------------------------------------
@pytest.mark.parametrize("n_nodes", [4, 16, 40])
def test_radial_rule_integrates_polynomials_exactly(n_nodes):
    nodes, weights = radial_gauss_rule(n_nodes)
    k = np.arange(2 * n_nodes)
    exact = 2.0 ** (k / 2) * gamma(k / 2 + 1)  # ∫ r^k r e^{-r²/2} dr
    approx = np.array([np.sum(weights * nodes**j) for j in k])
    # Gauss rule: exact to rounding for degree < 2n; all terms positive, so 1e-13 relative.
    assert_allclose(approx, exact, rtol=1e-13, atol=0)
    assert np.all(nodes > 0) and np.all(weights > 0)


# -- closed forms vs quadrature ------------------------------------------------------------------
@pytest.mark.parametrize("name", CLOSED_FORM_NAMES)
def test_closed_form_kernel_matches_quadrature(name):
    closed, quad = get_activation(name), get_activation(name, closed_form=False)
    assert closed.has_closed_form and not quad.has_closed_form
    c11, c22, c12 = _grid()
    scale = np.sqrt(closed.second_moment(c11) * closed.second_moment(c22))
    # Independent routes; the quadrature is exact to rounding for these σ, and 1e-8 leaves room
    # for the conditioning of θ = arccos ρ at ρ = 1 - 1e-6 (closed forms in ρ lose digits there).
    assert_allclose(
        quad.kernel(c11, c22, c12) / scale, closed.kernel(c11, c22, c12) / scale, rtol=0, atol=1e-8
    )


@pytest.mark.parametrize("name", CLOSED_FORM_NAMES)
def test_closed_form_one_point_expectations_match_quadrature(name):
    closed, quad = get_activation(name), get_activation(name, closed_form=False)
    c = np.array([0.01, 0.2, 1.0, 3.0, 9.0])
    # Both routes are exact to rounding for these piecewise-polynomial or smooth σ.
    assert_allclose(quad.mean(c), closed.mean(c), rtol=1e-10, atol=1e-12)
    assert_allclose(quad.second_moment(c), closed.second_moment(c), rtol=1e-10, atol=1e-12)
    assert_allclose(quad.mean_slope(c), closed.mean_slope(c), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", CLOSED_FORM_NAMES)
@pytest.mark.parametrize("setting", SETTINGS[:5])
def test_closed_form_kernel_matches_monte_carlo(name, setting):
    c11, c22, rho = setting
    act = get_activation(name)
    rng = np.random.default_rng(20221030)
    h1, h2 = _gaussian_pairs(c11, c22, rho, rng)
    expected = float(act.kernel(c11, c22, rho * np.sqrt(c11 * c22)))
    _assert_within_4se(act(h1) * act(h2), expected, f"{name} {setting}")


# -- quadrature-only activations -----------------------------------------------------------------
@pytest.mark.parametrize("name", ["tanh", "gelu"])
def test_quadrature_kernel_converges_in_nodes(name):
    c11, c22, c12 = _grid()
    sigma = get_activation(name).function
    coarse = quadrature_kernel(sigma, c11, c22, c12, n_nodes=40)
    fine = quadrature_kernel(sigma, c11, c22, c12, n_nodes=80)
    # Spectral convergence: 40 nodes per sector already agree with 80 to rounding for c ≤ 5.
    assert_allclose(coarse, fine, rtol=0, atol=1e-10)
    # The automatic node count reaches the same accuracy.
    assert_allclose(get_activation(name).kernel(c11, c22, c12), fine, rtol=0, atol=1e-10)


@pytest.mark.parametrize("name", ["tanh", "gelu"])
@pytest.mark.parametrize("setting", SETTINGS)
def test_quadrature_kernel_matches_monte_carlo(name, setting):
    c11, c22, rho = setting
    act = get_activation(name)
    h1, h2 = _gaussian_pairs(c11, c22, rho, np.random.default_rng(7))
    expected = float(act.kernel(c11, c22, rho * np.sqrt(c11 * c22)))
    _assert_within_4se(act(h1) * act(h2), expected, f"{name} {setting}")


def test_user_callable_sin_matches_known_kernel():
    act = get_activation(lambda h: np.sin(h))
    assert not act.has_closed_form
    c11, c22, c12 = _grid()
    expected = np.exp(-(c11 + c22) / 2) * np.sinh(c12)  # E[sin h1 sin h2]
    # Entire integrand: the quadrature is accurate to rounding.
    assert_allclose(act.kernel(c11, c22, c12), expected, rtol=0, atol=1e-12)
    c = np.array([0.1, 1.0, 4.0])
    assert_allclose(act.mean_slope(c), np.exp(-c / 2), rtol=1e-12, atol=0)  # E[cos h]
    assert_allclose(act.mean(c), 0.0, rtol=0, atol=1e-15)  # odd σ


def test_gaussian_expectation_of_mixed_functions():
    # E[h1 h2^3] = 3 c12 c22 (Isserlis): exact in r, a trigonometric polynomial in φ that
    # Gauss-Legendre integrates to rounding with 16 nodes per sector.
    c11, c22, c12 = _grid()
    got = gaussian_expectation(lambda h: h, lambda h: h**3, c11, c22, c12, n_nodes=16)
    assert_allclose(got, 3.0 * c12 * c22, rtol=1e-13, atol=1e-14)


def test_exact_at_rho_plus_minus_one():
    quad = get_activation("sign", closed_form=False)
    c = np.array([0.2, 1.0, 7.0])
    # Degenerate pairs (ρ = ±1): two sectors of zero width, sign·sign = ±1 everywhere.
    assert_allclose(quad.kernel(c, c, c), 1.0, rtol=0, atol=1e-15)
    assert_allclose(quad.kernel(c, c, -c), -1.0, rtol=0, atol=1e-15)
    relu = get_activation("relu", closed_form=False)
    assert_allclose(relu.kernel(c, 4 * c, 2 * c), c, rtol=1e-14, atol=0)  # E[relu(h)relu(2h)]
    assert_allclose(relu.kernel(c, c, -c), 0.0, rtol=0, atol=1e-15)  # disjoint supports


# -- one-point expectations ----------------------------------------------------------------------
@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_one_point_expectations_match_monte_carlo(name):
    act = get_activation(name)
    c = 1.7
    h = np.sqrt(c) * np.random.default_rng(11).standard_normal(MC_SAMPLES)
    values = act(h)
    _assert_within_4se(values, float(act.mean(c)), f"{name} mean")
    _assert_within_4se(values**2, float(act.second_moment(c)), f"{name} second moment")
    _assert_within_4se(h * values / c, float(act.mean_slope(c)), f"{name} slope (Stein)")


def test_mean_slope_known_values():
    c = np.array([0.05, 0.5, 2.0, 10.0])
    relu = get_activation("relu", closed_form=False)
    erf_quad = get_activation("erf", closed_form=False)
    # Quadrature of E[hσ(h)]/c vs E[σ'] in closed form; exact to rounding.
    assert_allclose(relu.mean_slope(c), 0.5, rtol=1e-13, atol=0)
    assert_allclose(
        erf_quad.mean_slope(c), 2.0 / np.sqrt(np.pi * (1.0 + 2.0 * c)), rtol=1e-12, atol=0
    )


def test_mean_slope_equals_expected_derivative():
    c = np.array([0.1, 1.0, 3.0])
    tanh = get_activation("tanh")
    # σ' = 1 - tanh², so E[σ'] = 1 - E[tanh²]: Stein's lemma against the second moment.
    assert_allclose(tanh.mean_slope(c), 1.0 - tanh.second_moment(c), rtol=1e-12, atol=1e-14)
    gelu = get_activation("gelu")

    def gelu_slope(h):
        return ndtr(h) + h * np.exp(-0.5 * h**2) / np.sqrt(2.0 * np.pi)

    direct = gaussian_expectation(gelu_slope, np.ones_like, c, c, c)
    # Two quadratures of different integrands, each accurate to ~1e-13.
    assert_allclose(gelu.mean_slope(c), direct, rtol=1e-11, atol=0)


# -- kernel matrices -----------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu", "sign", np.sin])
def test_kernel_matrix_symmetric_psd_with_exact_diagonal(activation):
    rng = np.random.default_rng(3)
    u = rng.standard_normal((30, 8))
    cov = u @ np.diag(np.arange(1, 9, dtype=float) ** -2.0) @ u.T
    act = get_activation(activation)
    k = act.kernel_matrix(cov)
    assert k.shape == (30, 30)
    assert_allclose(k, k.T, rtol=0, atol=0)  # filled from one triangle / symmetric formula
    # PSD up to rounding (a Gram matrix of features in L²).
    assert np.linalg.eigvalsh(k).min() >= -1e-12 * np.abs(k).max()
    assert_allclose(np.diag(k), act.second_moment(np.diag(cov)), rtol=1e-14, atol=0)
    i, j = 2, 17  # off-diagonal entries are the pair kernel
    assert_allclose(k[i, j], act.kernel(cov[i, i], cov[j, j], cov[i, j]), rtol=1e-14, atol=1e-16)


def test_kernel_matrix_tanh_is_fast():
    rng = np.random.default_rng(4)
    g = rng.standard_normal((200, 50))
    cov = g @ g.T / 50
    act = get_activation("tanh")
    act.kernel_matrix(cov[:5, :5])  # build the cached rules
    start = time.perf_counter()
    act.kernel_matrix(cov)
    # About 1 s on one core; generous bound for loaded CI machines.
    assert time.perf_counter() - start < 10.0


def test_chunking_does_not_change_values():
    rng = np.random.default_rng(5)
    c11, c22 = rng.uniform(0.1, 3.0, (2, 2500))
    c12 = rng.uniform(-1, 1, 2500) * np.sqrt(c11 * c22)
    act = get_activation("gelu", quadrature_nodes=24)
    together = act.kernel(c11, c22, c12)  # several chunks of ~900 pairs
    alone = np.array([act.kernel(c11[i], c22[i], c12[i]) for i in (0, 1200, 2499)])
    assert_allclose(together[[0, 1200, 2499]], alone, rtol=1e-14, atol=1e-16)


def test_broadcasting_and_shapes():
    act = get_activation("tanh")
    out = act.kernel(np.ones((3, 1)), np.ones((1, 4)), 0.5)
    assert out.shape == (3, 4)
    assert act.kernel(1.0, 1.0, 0.5).shape == ()


def test_huge_variance_warns():
    with pytest.warns(NumericalWarning, match="quadrature_nodes"):
        get_activation("tanh").kernel(1e4, 1.0, 0.0)


# -- construction --------------------------------------------------------------------------------
def test_get_activation_names_and_errors():
    for name in ACTIVATION_NAMES:
        assert get_activation(name).name == name
    with pytest.raises(ValueError, match=r"^'activation' must be one of .*Got 'nope' instead\.$"):
        get_activation("nope")
    with pytest.raises(ValueError, match="'quadrature_nodes' must be a positive integer"):
        get_activation("tanh", quadrature_nodes=0)


def test_activation_equality_and_passthrough():
    relu = get_activation("relu")
    assert relu == get_activation("relu") and hash(relu) == hash(get_activation("relu"))
    assert relu != get_activation("relu", closed_form=False)
    assert get_activation(relu) is relu
    forced = get_activation(relu, closed_form=False, quadrature_nodes=8)
    assert isinstance(forced, Activation) and not forced.has_closed_form
    assert forced.quadrature_nodes == 8
    assert_allclose(forced(np.array([-1.0, 2.0])), [0.0, 2.0], rtol=0, atol=0)


def test_erf_function_is_scipy_erf():
    h = np.linspace(-3, 3, 7)
    assert_allclose(get_activation("erf")(h), erf(h), rtol=0, atol=0)


@settings(max_examples=25, deadline=None)
@given(
    c11=st.floats(0.01, 8.0),
    c22=st.floats(0.01, 8.0),
    rho=st.floats(-1.0, 1.0),
)
def test_tanh_kernel_symmetric_and_cauchy_schwarz(c11, c22, rho):
    act = get_activation("tanh")
    c12 = rho * np.sqrt(c11 * c22)
    k = float(act.kernel(c11, c22, c12))
    # Swapping the pair is an exact symmetry of E[σ(h1)σ(h2)]; the rules differ, so 1e-12.
    assert_allclose(k, float(act.kernel(c22, c11, c12)), rtol=0, atol=1e-12)
    bound = np.sqrt(act.second_moment(c11) * act.second_moment(c22))
    assert abs(k) <= bound * (1 + 1e-12)
    assert k * rho >= -1e-15  # odd increasing σ: the kernel has the sign of ρ
