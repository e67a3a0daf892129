"""Compressed spectral sums against exact O(M) sums, and the compressed path at M = 10^9."""

import math
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


def _term_by_term(sums, kappa_hat):
    """The five sums of the module docstring, each term in float64, added exactly (fsum)."""
    lev, w, v = sums.levels, sums.weights, sums.shares
    r = lev / (lev + kappa_hat)
    q_bar = max(kappa_hat, 1.0) / (lev + kappa_hat)
    terms = (w * r, w * r * r, w * r * q_bar, w * v * lev * q_bar, w * v * lev * q_bar * q_bar)
    return np.array([math.fsum(t.tolist()) for t in terms])


@pytest.mark.parametrize(
    "spec",
    [
        _spec(4096, 1.0, Teacher.power_law(1.0)),
        _spec(10**6, 2.0),
        ModelSpec(spectrum=Spectrum.from_eigenvalues(np.geomspace(1.0, 1e-140, 300))),
        ModelSpec(spectrum=Spectrum.from_eigenvalues(np.geomspace(1.0, 1e-152, 300))),
    ],
    ids=["M=4096", "M=1e6 compressed", "levels to 1e-140", "levels to 1e-152"],
)
def test_fused_sums_match_the_sums_term_by_term(spec):
    from scalinglaws.theory._sums import spectral_sums

    sums = spectral_sums(spec)
    # levels below 1e-150 would underflow as ℓ² in the fused weights: those sums go term by term
    assert (sums._fused_weights is None) == (sums.levels.min() < 1e-150)
    kappas = np.geomspace(sums.levels.min() * 1e-3, 1e6, 25)
    lone = np.array([sums.moments_one(float(k)) for k in kappas])
    batch = np.array(sums.moments(kappas)).T
    slopes = np.array([sums.df1_and_slope_one(float(k)) for k in kappas])
    batch_slopes = np.array(sums.df1_and_slope(kappas)).T
    reference = np.array([_term_by_term(sums, float(k)) for k in kappas])
    # every term positive, so no cancellation: the fused forms (ℓq̄/t for r) are within a few
    # roundings per term of the exactly added terms (measured at most 2.0e-15)
    assert_allclose(lone, reference, rtol=1e-13, atol=0)
    assert_allclose(batch, reference, rtol=1e-13, atol=0)
    # the slope of df₁ in log κ̂, -Σ ω r κ̂/(ℓ + κ̂): positive terms again
    assert_allclose(slopes[:, 0], reference[:, 0], rtol=1e-13, atol=0)
    lev = sums.levels
    slope_terms = [sums.weights * (lev / (lev + k)) * (k / (lev + k)) for k in kappas]
    reference_slopes = -np.array([math.fsum(t.tolist()) for t in slope_terms])
    assert_allclose(slopes[:, 1], reference_slopes, rtol=1e-13, atol=0)
    assert_allclose(batch_slopes, slopes, rtol=1e-13, atol=0)
