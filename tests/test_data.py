"""Sampling: nested draws, reproducibility, and the moments of the generative model."""

import numpy as np
import pytest

from scalinglaws import ModelSpec, Spectrum, Teacher
from scalinglaws._validation import InputError
from scalinglaws.sampling.latent import (
    ROW_BLOCK,
    as_seed_sequence,
    sample_labels,
    sample_latent,
    sample_teacher,
    standard_normal_rows,
)


def test_standard_normal_rows_are_nested_across_blocks():
    seq = as_seed_sequence(7)
    big = standard_normal_rows(seq, 3 * ROW_BLOCK + 5, 4)
    for n in (1, ROW_BLOCK - 1, ROW_BLOCK, ROW_BLOCK + 1, 2 * ROW_BLOCK + 3):
        # Nesting is by construction (same streams, same order): exact equality.
        np.testing.assert_array_equal(standard_normal_rows(seq, n, 4), big[:n])


def test_sample_latent_covariance_matches_spectrum():
    spectrum = Spectrum.power_law(latent_dim=5, alpha=1.0)
    n = 200_000
    x = sample_latent(spectrum, n, rng=1)
    var = x.var(axis=0)
    # Sample variance of a Gaussian has standard error λ·sqrt(2/n); allow 5 standard errors.
    np.testing.assert_allclose(var, spectrum.eigenvalues, rtol=5 * np.sqrt(2 / n))
    off = np.corrcoef(x.T)[np.triu_indices(5, 1)]
    # Off-diagonal correlations have standard error 1/sqrt(n).
    assert np.max(np.abs(off)) < 5 / np.sqrt(n)


def test_rng_forms_are_reproducible():
    spectrum = Spectrum.power_law(latent_dim=3, alpha=1.0)
    a = sample_latent(spectrum, 4, rng=3)
    b = sample_latent(spectrum, 4, rng=np.random.SeedSequence(3))
    np.testing.assert_array_equal(a, b)
    g1 = sample_latent(spectrum, 4, rng=np.random.default_rng(5))
    g2 = sample_latent(spectrum, 4, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(g1, g2)


@pytest.mark.parametrize("bad", [-1, 1.5, "seed", None])
def test_bad_rng_is_a_one_line_error(bad):
    with pytest.raises(InputError, match="'rng' must be"):
        as_seed_sequence(bad)


def test_isotropic_teacher_variance():
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=50, alpha=1.0),
                     teacher=Teacher.isotropic(2.0))
    draws = np.array([sample_teacher(spec, rng=s) for s in range(4000)])
    # E[w_I^2] = σ_w²/M = 0.04 with standard error 0.04·sqrt(2/4000) per direction; pooled over
    # 50 directions the mean has standard error 0.04·sqrt(2/200000); allow 5 of them.
    np.testing.assert_allclose(np.mean(draws**2), 2.0 / 50, rtol=5 * np.sqrt(2 / 200_000))


def test_fixed_teacher_is_returned_as_is():
    w = np.array([1.0, -2.0, 0.5])
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=3, alpha=1.0), teacher=Teacher.fixed(w))
    np.testing.assert_array_equal(sample_teacher(spec, rng=0), w)


def test_label_noise_variance():
    x = np.zeros((100_000, 2))
    y = sample_labels(x, np.ones(2), 0.25, rng=0)
    # Sample variance standard error 0.25·sqrt(2/n); 5 standard errors.
    np.testing.assert_allclose(y.var(), 0.25, rtol=5 * np.sqrt(2 / 100_000))
