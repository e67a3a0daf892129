"""Theory (docs/model.md §5) against the package's Monte-Carlo engine
``scalinglaws.sampling.simulate``.

Criterion of issue 3: the simulation mean lies within max(3 standard errors, 5 %) of theory at every
cell (except the γ = 0, N = P pole, where the simulated mean does not exist).
"""

import numpy as np
import pytest

simulation = pytest.importorskip("scalinglaws.sampling.simulate")

from scalinglaws import ModelSpec, Spectrum  # noqa: E402
from scalinglaws.theory import theory_grid  # noqa: E402


def _check(spec, n_features, n_samples, ridges, n_seeds):
    sim = simulation.simulate(
        spec, n_features=n_features, n_samples=n_samples, ridges=ridges, n_seeds=n_seeds, rng=0
    )
    theory = theory_grid(spec, n_features=n_features, n_samples=n_samples, ridges=ridges)
    for name in ("excess", "test_mse"):
        mean = sim[f"{name}_mean"].transpose("n_features", "n_samples", "ridge").values
        sem = sim[f"{name}_sem"].transpose("n_features", "n_samples", "ridge").values
        expected = theory[name].values
        finite = np.isfinite(expected)
        # O(1/n) finite-size corrections (~1 %) plus sampling error: max(3 SE, 5 %)
        tolerance = np.maximum(3 * sem, 0.05 * expected)
        bad = finite & ~(np.abs(mean - expected) <= tolerance)
        assert not bad.any(), (name, mean[bad], sem[bad], expected[bad])


@pytest.mark.parametrize(("alpha", "noise_var"), [(0.5, 0.0), (1.0, 1e-5), (2.0, 0.0)])
def test_theory_matches_simulation_on_grid(alpha, noise_var):
    # N < P, N > P, N = P (γ > 0 only; γ = 0 there is the pole); γ = 0 and two ridges (γ̃ ≈ 1e-4
    # and 5e-3 at N = P = 400)
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=2000, alpha=alpha), noise_var=noise_var)
    import warnings

    from scalinglaws._validation import NumericalWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumericalWarning)  # the γ = 0, N = P cells are poles
        _check(spec, [100, 400], [100, 400], [0.0, 2e-3, 0.1], n_seeds=12)


@pytest.mark.parametrize(("n_features", "n_samples"), [([2400], [200]), ([200], [2400])])
def test_theory_matches_simulation_beyond_latent_dim(n_features, n_samples):
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=2000, alpha=1.0), noise_var=1e-5)
    _check(spec, n_features, n_samples, [0.0, 1e-2], n_seeds=10)


def test_theory_matches_simulation_at_the_noise_floor():
    # N, P ≥ M, γ = 0: excess = σ_ε² M / (P − M), independent of N
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=200, alpha=1.0), noise_var=1e-4)
    _check(spec, [300, 600], [600], [0.0], n_seeds=8)
