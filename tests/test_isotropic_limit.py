"""Checks of the test suite's own coding of Mei & Montanari's isotropic limit
(tests/isotropic_limit.py) against its known limits, and of the mapping to this project's
model against simulation."""

import numpy as np
import pytest

import isotropic_limit as mm
from scalinglaws import ModelSpec, Spectrum
from scalinglaws.model.activations import get_activation
from scalinglaws.sampling.simulate import simulate

ACTIVATIONS = ("relu", "erf", "tanh")


def test_relu_constants_are_the_closed_forms():
    mu0, mu1, mu_star = mm.activation_constants(get_activation("relu"))
    # E relu(G) = 1/sqrt(2 pi), E[G relu(G)] = 1/2, E relu² = 1/2: round-off only
    np.testing.assert_allclose([mu0, mu1, mu_star**2],
                               [1 / np.sqrt(2 * np.pi), 0.5, 0.25 - 1 / (2 * np.pi)], rtol=1e-12)


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("lam", [1e-3, 1e-1])
def test_many_features_give_kernel_ridge_regression(name, lam):
    act = get_activation(name)
    far = mm.excess(act, psi1=1e6, psi2=2.0, lam=lam, noise=0.5)
    kernel = mm.kernel_limit(act, psi2=2.0, lam=lam, noise=0.5)
    # the random-features risk approaches the kernel limit like 1/psi1: 1e-6 → a few 1e-6
    np.testing.assert_allclose(far, kernel, rtol=1e-4)


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("lam", [1e-3, 1e-1])
def test_many_samples_give_the_population_ridge(name, lam):
    act = get_activation(name)
    far = mm.excess(act, psi1=2.0, psi2=1e7, lam=lam, noise=0.5)
    # the noise's share falls like 1/psi2 and the bias approaches its limit as fast
    np.testing.assert_allclose(far, mm.population_limit(act, psi1=2.0, lam=lam), rtol=1e-4)


@pytest.mark.parametrize(("psi1", "psi2"), [(0.5, 1.0), (1.0, 4.0), (2.0, 2.5)])
def test_ridgeless_variance_below_the_threshold_is_ols(psi1, psi2):
    """λ = 0, N < P: V = N/(P − N), least squares on N Gaussian-equivalent features (exact)."""
    _, v = mm.bias_variance(1.3, psi1, psi2, 0.0)
    np.testing.assert_allclose(v, psi1 / (psi2 - psi1), rtol=1e-12)


def test_ridgeless_threshold_is_a_pole():
    assert mm.bias_variance(1.0, 2.0, 2.0, 0.0) == (np.inf, np.inf)
    # approached with λ → 0 the variance grows like λ^-1/2 (the double descent of docs/model.md)
    v = [mm.bias_variance(1.0, 2.0, 2.0, lam)[1] for lam in (1e-6, 1e-8)]
    assert v[1] > 8 * v[0]


def test_small_ridge_approaches_the_ridgeless_value():
    for psi1, psi2 in [(0.5, 2.0), (4.0, 1.0)]:
        b0, v0 = mm.bias_variance(0.8, psi1, psi2, 0.0)
        b1, v1 = mm.bias_variance(0.8, psi1, psi2, 1e-12)
        # the solution is analytic in λ at λ = 0 off the threshold: error ~ λ^(1/2)·const
        np.testing.assert_allclose([b1, v1], [b0, v0], rtol=1e-5)


@pytest.mark.parametrize(("n", "p", "lam"), [(100, 400, 1e-3), (400, 200, 1e-1)])
def test_mapping_to_this_model_matches_simulation(n, p, lam):
    """Λ = I_M, σ_u² = 1, ψ1 = N/M, ψ2 = P/M, their λ = γM/(NP), at M = 200 (relu, noise 0.5)."""
    m = 200
    spec = ModelSpec(spectrum=Spectrum.from_eigenvalues(np.ones(m)), activation="relu",
                     noise_var=0.5)
    ridge = lam * n * p / m
    sim = simulate(spec, n_features=[n], n_samples=[p], ridges=[ridge], n_seeds=12, rng=1)
    mean, sem = float(sim.excess_mean.values.squeeze()), float(sim.excess_sem.values.squeeze())
    limit = mm.excess(get_activation("relu"), psi1=n / m, psi2=p / m, lam=lam, noise=0.5)
    # the limit is reached up to O(1/M) = 0.5 %; 12 seeds give a few % standard error
    assert abs(mean - limit) <= max(3 * sem, 0.02 * limit), (mean, sem, limit)
