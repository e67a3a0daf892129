"""Compressed spectral sums against exact O(M) sums, and the compressed path at M = 10^9."""

import time

import numpy as np
import pytest
from numpy.testing import assert_allclose

from scalinglaws import ModelSpec, Spectrum, Teacher
from scalinglaws.theory import compressed_sums, exact_sums, theory_loss


def _spec(latent_dim, alpha, teacher=None):
    return ModelSpec(
        spectrum=Spectrum.power_law(latent_dim=latent_dim, alpha=alpha),
        teacher=teacher or Teacher.isotropic(),
    )


def _kappas(spec):
    # κ across the whole spectrum: below λ_M up to above λ_1
    return np.logspace(np.log10(spec.spectrum.smallest) - 1, 1, 9)


@pytest.mark.slow
def test_compressed_sums_match_exact_at_ten_million():
    spec = _spec(10**7, 1.0, Teacher.power_law(0.5))
    kappa = _kappas(spec)
    exact = np.array(exact_sums(spec).all(kappa))
    compressed = np.array(compressed_sums(spec).all(kappa))
    # the accuracy target for compressed sums is 1e-6 relative (measured ~1e-11)
    assert_allclose(compressed, exact, rtol=1e-6, atol=0)


@pytest.mark.parametrize("alpha", [0.5, 2.0])
@pytest.mark.parametrize("teacher", [Teacher.isotropic(), Teacher.power_law(1.5)])
def test_compressed_sums_match_exact(alpha, teacher):
    spec = _spec(300_000, alpha, teacher)
    kappa = _kappas(spec)
    exact = np.array(exact_sums(spec).all(kappa))
    compressed = np.array(compressed_sums(spec).all(kappa))
    # quadrature in index space is spectrally accurate; 1e-6 is the promised accuracy
    assert_allclose(compressed, exact, rtol=1e-6, atol=0)


def test_compressed_loss_matches_exact_loss_at_ten_million():
    spec = _spec(10**7, 1.0)
    n, p, ridge = np.array([100.0, 3000.0]), np.array([10**5, 800.0]), np.array([0.0, 1e-2])
    exact = theory_loss(spec, n, p, ridge, method="exact").test_mse
    compressed = theory_loss(spec, n, p, ridge, method="compressed").test_mse
    # sums agree to ~1e-11, the loss inherits that; 1e-6 is the stated accuracy
    assert_allclose(compressed, exact, rtol=1e-6, atol=0)


def test_compressed_cost_does_not_grow_with_latent_dim():
    small, huge = compressed_sums(_spec(10**5, 1.0)), compressed_sums(_spec(10**9, 1.0))
    assert huge.n_nodes < 1000
    assert huge.n_nodes < 2 * small.n_nodes
    # the weights count the latent directions: Σ ω = M up to rounding
    assert_allclose(huge.weights.sum(), 10**9, rtol=1e-9)


def test_theory_runs_at_one_billion_latent_directions():
    spec = _spec(10**9, 1.0)
    start = time.perf_counter()
    res = theory_loss(spec, [100.0, 1000.0, 10**4], 10**8, [0.0, 0.0, 1.0])
    assert time.perf_counter() - start < 5.0
    assert np.all(np.isfinite(res.excess)) and np.all(res.excess > 0)
    # κ₀ ≈ λ₊ (C_1/n)² for n ≪ M; the leading-order form is good to ~1% at n = 100
    assert_allclose(res.kappa[0], (np.pi / 2 / 100) ** 2, rtol=0.02)
