"""Feature spectra (exact K/N and sampled), power-law exponents, local slopes and cut-offs."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from scalinglaws import ModelSpec, Spectrum
from scalinglaws._validation import InputError
from scalinglaws.analysis.powerlaw import (
    extension_windows,
    find_cutoff,
    fit_power_law,
    local_slopes,
    numerical_rank,
)
from scalinglaws.analysis.spectra import (
    covariance_spectrum,
    exact_feature_spectrum,
    feature_covariance_spectrum,
    random_feature_spectrum,
    sampled_feature_spectrum,
    standardize,
)

M, N = 100, 2000


@pytest.fixture(scope="module")
def extension():
    """Exact K/N spectra of the issue's setting: M = 100, α = 1, N = 2000 (one draw of U)."""
    from threadpoolctl import threadpool_limits

    spectrum = Spectrum.power_law(latent_dim=M, alpha=1.0)
    # One BLAS thread: the suite runs one xdist worker per core, and a threaded 2000×2000 eigvalsh
    # under that load is 3-4x slower than a serial one.
    with threadpool_limits(limits=1):
        return {
            act: exact_feature_spectrum(ModelSpec(spectrum=spectrum, activation=act), N, rng=0)
            for act in ("relu", "linear")
        }


# -- spectrum extension past M (docs/model.md §6) ----------------------------------------------
def test_relu_spectrum_continues_past_latent_dim_as_power_law(extension):
    lam = extension["relu"]
    assert np.all(lam[M - 1 : 8 * M] > 1e-6 * lam[0])  # non-zero: far above round-off (1e-16)
    fit = fit_power_law(lam, start=M, stop=8 * M)
    # Acceptance band of the issue; docs/model.md §6 measured about -1.6 on this setting.
    assert -2.2 <= fit.slope <= -1.3
    # The power law holds across M: slopes below and past M agree within 0.15 (docs/model.md §6
    # quotes ≈ -1.6 on [10, M), [M, 3M) and [3M, 8M); 0.15 covers one draw of U's fluctuations).
    slopes = [fit_power_law(lam, start=a, stop=b).slope for a, b in extension_windows(M, N)]
    assert len(slopes) == 3
    assert np.ptp(slopes) < 0.15 and all(-1.8 < s < -1.45 for s in slopes)


def test_linear_spectrum_stops_at_latent_dim(extension):
    lam = extension["linear"]
    assert np.all(lam[:M] > 1e-6 * lam[0])
    # Rank M: the rest is eigensolver round-off, ~1e-16 relative; the issue asks for < 1e-10.
    assert np.max(np.abs(lam[M:])) < 1e-10 * lam[0]
    assert numerical_rank(lam) == M
    cut = find_cutoff(lam, start=10, stop=M)
    assert cut.found and cut.extent == M


def test_relu_spectrum_has_no_cutoff_at_latent_dim(extension):
    cut = find_cutoff(extension["relu"], start=10, stop=M)
    assert cut.extent > 8 * M


def test_exact_linear_spectrum_is_that_of_the_latent_gram():
    # Linear features: the non-zero eigenvalues of K/N = UΛUᵀ/N are those of Λ^½ (UᵀU/N) Λ^½,
    # an M×M route; the two agree to round-off (1e-10 relative on λ_1 ~ 1e-2 .. λ_M ~ 1e-4).
    from scalinglaws.sampling.features import draw_projection

    spectrum = Spectrum.power_law(latent_dim=10, alpha=1.0)
    spec = ModelSpec(spectrum=spectrum)
    lam = exact_feature_spectrum(spec, 400, rng=1)
    u = draw_projection(spec, 400, rng=1)
    root = np.sqrt(spectrum.eigenvalues)
    small = np.sort(np.linalg.eigvalsh(root[:, None] * (u.T @ u / 400) * root))[::-1]
    assert_allclose(lam[:10], small, rtol=1e-10)
    # and N/M = 40 ≫ 1 brings it near (σ_u²/M) Λ: Wishart spread ~ 2/sqrt(40) ≈ 0.3 at most.
    assert_allclose(lam[:10], spectrum.eigenvalues / 10, rtol=0.4)


def test_sampled_feature_spectrum_estimates_exact_kernel_spectrum():
    # The sampled spectrum draws U from the first child of its seed; the exact one is given that
    # child, so both use the same U. The leading eigenvalues then agree statistically: with
    # P = 20000 their relative error is ~ sqrt(2/P) ≈ 1%, so 10% is a generous bound that still
    # catches a wrong normalization (a factor N or P).
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=20, alpha=1.0), activation="relu")
    exact = exact_feature_spectrum(spec, 50, rng=np.random.SeedSequence(3).spawn(2)[0])
    sampled = sampled_feature_spectrum(spec, 50, 20_000, rng=3)
    assert_allclose(sampled[:5], exact[:5], rtol=0.1)


def test_linear_features_have_rank_min_n_m_p():
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=30, alpha=1.0))
    for n_features, n_samples, rank in ((50, 200, 30), (20, 200, 20), (50, 25, 25)):
        lam = sampled_feature_spectrum(spec, n_features, n_samples, rng=0)
        assert lam.shape == (min(n_features, n_samples),)
        assert numerical_rank(lam) == rank


def test_covariance_spectrum_matches_numpy_cov():
    x = np.random.default_rng(0).normal(size=(300, 7)) * np.arange(1, 8)
    expected = np.sort(np.linalg.eigvalsh(np.cov(x.T, bias=True)))[::-1]
    assert_allclose(covariance_spectrum(x), expected, rtol=1e-12)  # same matrix, two routes
    wide = x[:5]  # P < D: through the P×P Gram, min(P, D) eigenvalues
    expected = np.sort(np.linalg.eigvalsh(np.cov(wide.T, bias=True)))[::-1][:5]
    assert_allclose(covariance_spectrum(wide), expected, rtol=1e-10, atol=1e-12)


def test_feature_covariance_spectrum_normalization():
    phi = np.random.default_rng(1).normal(size=(40, 10))
    expected = np.sort(np.linalg.eigvalsh(phi.T @ phi / (40 * 10)))[::-1]
    assert_allclose(feature_covariance_spectrum(phi), expected, rtol=1e-12)


def test_random_feature_spectrum_of_data_shapes_and_rank():
    x = np.random.default_rng(2).normal(size=(200, 8))
    assert_allclose(np.mean(np.sum(standardize(x) ** 2, axis=1)), 8.0, rtol=1e-12)
    lin = random_feature_spectrum(x, 50, activation="linear", rng=0)
    relu = random_feature_spectrum(x, 50, activation="relu", rng=0)
    assert lin.shape == relu.shape == (50,)
    assert numerical_rank(lin) == 8 and numerical_rank(relu) == 50


# -- exponent estimator --------------------------------------------------------------------------
def test_fit_recovers_exact_power_law():
    lam = 3.0 * np.arange(1, 5001, dtype=float) ** -1.37
    fit = fit_power_law(lam, start=5, stop=4000)
    # Exact data: least squares in log-log is exact up to round-off of log (1e-15 each).
    assert_allclose(fit.exponent, 1.37, atol=1e-10)
    assert_allclose(fit.prefactor, 3.0, rtol=1e-10)
    assert fit.stderr < 1e-10 and fit.window == (5, 4000)
    assert_allclose(fit.predict(10.0), 3.0 * 10**-1.37, rtol=1e-10)


@pytest.mark.parametrize("seed", range(5))
def test_fit_recovers_noisy_power_law_within_standard_error(seed):
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, 3001, dtype=float)
    lam = ranks**-1.8 * np.exp(0.2 * rng.standard_normal(ranks.size))
    fit = fit_power_law(lam, start=3, stop=3000)
    # Independent log-normal scatter: the classical standard error is valid; 4 standard errors
    # (two-sided p ≈ 6e-5) on each of 5 seeds.
    assert abs(fit.exponent - 1.8) < 4 * fit.stderr
    assert 0.1 < fit.residual_std < 0.3  # the scatter put in (0.2)


def test_fit_rejects_bad_windows_and_nonpositive_values():
    lam = np.arange(1, 101, dtype=float) ** -2.0
    with pytest.raises(InputError, match="window of at least 3 ranks"):
        fit_power_law(lam, start=50, stop=200)
    lam[60] = -1e-18
    with pytest.raises(InputError, match="at rank 61"):
        fit_power_law(lam, start=10, stop=100, points_per_decade=1000)


def test_local_slopes_profile_is_flat_on_a_power_law_and_stops_at_round_off():
    lam = np.arange(1, 1001, dtype=float) ** -2.5
    prof = local_slopes(lam)
    assert_allclose(prof.slope, -2.5, atol=1e-10)  # exact power law: every window exact
    lam[300:] = 1e-20 * lam[0]  # below the 1e-12 round-off floor
    assert local_slopes(lam).index.max() < 300


def test_cutoff_found_where_power_law_drops():
    ranks = np.arange(1, 1001, dtype=float)
    for k in (150, 400, 777):
        lam = ranks**-1.5 * np.where(ranks <= k, 1.0, np.exp(-(ranks - k) / 5.0) * 0.5)
        cut = find_cutoff(lam, start=5, stop=100)
        # exp(-(i-k)/5)/2 < 0.1 from i = k + 9 on; a sharp drop is found within 10 ranks.
        assert k <= cut.extent <= k + 10 and cut.found
    step = np.where(ranks <= 300, ranks**-1.5, 1e-4 * ranks**-1.5)
    assert find_cutoff(step, start=5, stop=100).extent == 300


def test_no_cutoff_on_a_pure_noisy_power_law():
    ranks = np.arange(1, 2001, dtype=float)
    lam = ranks**-1.2 * np.exp(0.1 * np.random.default_rng(0).standard_normal(ranks.size))
    cut = find_cutoff(lam, start=5, stop=200)
    assert not cut.found and cut.extent == 2000  # 0.1 is 23 sigma of the scatter below


def test_extension_windows_clip_to_half_the_spectrum():
    assert extension_windows(100, 2000) == [(10, 100), (100, 300), (300, 800)]
    assert extension_windows(100, 500) == [(10, 100), (100, 251)]
    assert extension_windows(8, 100) == [(2, 8), (8, 24), (24, 51)]
