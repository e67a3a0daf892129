"""Feature maps and the exact loss formulas, against Monte-Carlo and against each other."""

import numpy as np
import pytest

from scalinglaws import ModelSpec, Spectrum, get_activation
from scalinglaws.sampling.features import (
    draw_projection,
    feature_moments,
    linear_excess,
    moment_excess,
    random_features,
)
from scalinglaws.sampling.latent import sample_latent, sample_teacher
from scalinglaws.sampling.ridge import fit_ridge


def _setup(activation, latent_dim=30, n_features=12, seed=0):
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=latent_dim, alpha=1.0),
                     activation=activation)
    u = draw_projection(spec, n_features, rng=seed)
    w = sample_teacher(spec, rng=seed + 1)
    return spec, u, w


def test_projection_variance_is_feature_var_over_latent_dim():
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=400, alpha=1.0), feature_var=2.0)
    u = draw_projection(spec, 500, rng=0)
    # 2e5 entries of variance 2/400: standard error of the sample variance is var·sqrt(2/2e5).
    np.testing.assert_allclose(u.var(), 2.0 / 400, rtol=5 * np.sqrt(2 / 200_000))


def test_linear_excess_equals_kernel_form_for_linear_features():
    spec, u, w = _setup("linear")
    theta = np.random.default_rng(3).standard_normal((12, 3))
    moments = feature_moments(u, spec.spectrum.eigenvalues, w, spec.activation)
    # Same quadratic form written two ways (O(NM) vs K, b): equal up to round-off.
    np.testing.assert_allclose(
        linear_excess(theta, u, spec.spectrum.eigenvalues, w),
        moment_excess(theta, moments, 12),
        rtol=1e-10,
    )


@pytest.mark.parametrize("activation", ["linear", "relu", "erf", "tanh"])
def test_exact_loss_matches_monte_carlo_test_set(activation):
    """Trained readout; exact excess vs a 10^5-point test set, within 4 standard errors."""
    spec, u, w = _setup(activation)
    eig = spec.spectrum.eigenvalues
    x = sample_latent(spec.spectrum, 40, rng=10)
    phi = random_features(x, u, spec.activation)
    theta = fit_ridge(phi, x @ w, [0.0, 0.1])
    moments = feature_moments(u, eig, w, spec.activation)
    exact = moment_excess(theta, moments, u.shape[0])
    x_test = sample_latent(spec.spectrum, 100_000, rng=11)
    sq = (random_features(x_test, u, spec.activation) @ theta - (x_test @ w)[:, None]) ** 2
    estimate, sem = sq.mean(axis=0), sq.std(axis=0, ddof=1) / np.sqrt(sq.shape[0])
    assert np.all(np.abs(estimate - exact) < 4 * sem), (estimate, exact, sem)


def test_target_covariance_by_stein_matches_monte_carlo():
    spec, u, w = _setup("relu", n_features=5)
    moments = feature_moments(u, spec.spectrum.eigenvalues, w, spec.activation)
    x = sample_latent(spec.spectrum, 400_000, rng=12)
    prod = random_features(x, u, get_activation("relu")) * (x @ w)[:, None]
    est, sem = prod.mean(axis=0), prod.std(axis=0, ddof=1) / np.sqrt(x.shape[0])
    assert np.all(np.abs(est - moments.target_cov) < 4 * sem)
