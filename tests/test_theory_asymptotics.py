"""Power-law asymptotics, local slopes and regimes (docs/model.md §5)."""

import json
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.integrate import quad
from scipy.special import gamma

from scalinglaws import ModelSpec, Spectrum
from scalinglaws.theory import (
    asymptotic_excess,
    asymptotic_kappa,
    local_slopes,
    power_law_prefactor,
    regime,
    ridgeless_kappa,
    scaling_exponent,
    spectral_sums,
)

REFERENCE = json.loads((Path(__file__).parent / "reference" / "theory_reference.json").read_text())
REF = {item["name"]: item for item in REFERENCE["values"]}


def _spec(latent_dim, alpha=1.0, noise_var=0.0):
    return ModelSpec(
        spectrum=Spectrum.power_law(latent_dim=latent_dim, alpha=alpha), noise_var=noise_var
    )


@pytest.mark.parametrize("alpha", [0.3, 0.5, 1.0, 2.0, 4.0])
def test_prefactor_matches_gamma_form_and_integral(alpha):
    c = power_law_prefactor(alpha)
    s = 1.0 / (1.0 + alpha)
    assert_allclose(c, gamma(s) * gamma(1 - s) / (1 + alpha), rtol=1e-13)  # reflection formula
    integral = quad(lambda x: 1.0 / (1.0 + x ** (1.0 + alpha)), 0, np.inf, epsabs=0, epsrel=1e-12)
    assert_allclose(c, integral[0], rtol=1e-9)  # quadrature accuracy
    assert_allclose(power_law_prefactor(1.0), REF["prefactor_alpha_1"]["value"], rtol=1e-14)


def test_scaling_exponents():
    assert scaling_exponent(1.5) == 1.5
    assert_allclose(scaling_exponent(1.5, ridge_limited=True), 0.6, rtol=1e-15)


def test_asymptotic_kappa_and_excess_approach_exact_for_small_n():
    spec = _spec(10**8, alpha=1.0)
    n = np.array([50.0, 200.0])
    exact = ridgeless_kappa(spectral_sums(spec), n)
    # the leading order has O(1/n) corrections: measured 2.0 % at n = 50, 0.5 % at n = 200
    assert_allclose(asymptotic_kappa(spec, n), exact, rtol=0.03)
    from scalinglaws.theory import theory_loss

    loss = theory_loss(spec, n, 1e9).excess
    assert_allclose(asymptotic_excess(spec, n, 1e9), loss, rtol=0.03)


def test_local_slopes_are_minus_one_at_two_hundred_thousand():
    spec = _spec(200_000, alpha=1.0)
    n = np.geomspace(100, 2000, 8)
    slopes = local_slopes(spec, n, 1e7)
    # the acceptance: within 0.02 of −α (measured −0.990 … −1.008)
    assert_allclose(slopes.n_features, -1.0, atol=0.02)
    # P ≫ N: the loss depends on P only through 1/(1 − N/P), slope −(N/P)/(1 − N/P)
    assert_allclose(slopes.n_samples, -(n / 1e7) / (1 - n / 1e7), rtol=1e-3)


def test_local_slopes_match_closed_form_derivative():
    spec = _spec(5000, alpha=0.5, noise_var=1e-5)
    slopes = local_slopes(spec, 150, 600, 0.0, quantity="excess")
    # ridgeless N < P: excess = (κ₀ N/M + σ² N/P)/(1 − N/P) with df₁(κ₀) = N; centred differences
    # of the same formula at h = 1e-6 are an independent derivative
    lam = spec.spectrum.eigenvalues

    def excess(log_n):
        n = np.exp(log_n)
        from scipy.optimize import brentq

        k = brentq(lambda k: (lam / (lam + k)).sum() - n, 1e-12, 1e3, xtol=1e-300, rtol=1e-15)
        return (k * n / 5000 + 1e-5 * n / 600) / (1 - n / 600)

    h = 1e-5
    ref = (np.log(excess(np.log(150) + h)) - np.log(excess(np.log(150) - h))) / (2 * h)
    assert_allclose(slopes.n_features, ref, rtol=1e-5)  # O(h²) truncation of both


def test_regimes_follow_documented_rules():
    spec = _spec(20_000, alpha=1.0)
    labels = regime(
        spec,
        [100, 10_000, 1000, 1000, 30_000],
        [10_000, 100, 1000, 1000, 50_000],
        [0.0, 0.0, 1e-4, 100.0, 0.0],
    )
    expected = [
        "parameter_limited",
        "data_limited",
        "interpolation_peak",
        "ridge_limited",
        "breakdown",
    ]
    assert list(labels) == expected
