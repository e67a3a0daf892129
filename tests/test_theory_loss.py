"""The deterministic equivalent of docs/model.md §5: identities, special cases, limits, edges."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy.optimize import brentq

from scalinglaws import ModelSpec, Spectrum, Teacher
from scalinglaws._validation import NumericalWarning
from scalinglaws.theory import theory_grid, theory_loss

REFERENCE = json.loads((Path(__file__).parent / "reference" / "theory_reference.json").read_text())
REF = {item["name"]: item for item in REFERENCE["values"]}


def _spec(latent_dim=500, alpha=1.0, noise_var=0.0, teacher=None, feature_var=1.0):
    return ModelSpec(
        spectrum=Spectrum.power_law(latent_dim=latent_dim, alpha=alpha),
        teacher=teacher or Teacher.isotropic(),
        noise_var=noise_var,
        feature_var=feature_var,
    )


def _sums(lam, var, kappa):
    r = lam / (lam + kappa)
    return r.sum(), (r * r).sum(), (var * r).sum(), (var * r / (lam + kappa)).sum()


@settings(max_examples=40, deadline=None)
@given(
    alpha=st.floats(0.3, 2.5),
    latent_dim=st.integers(20, 400),
    n=st.integers(1, 1000),
    p=st.integers(1, 1000),
    log_ridge=st.floats(-4, 2),
)
def test_loss_is_symmetric_in_features_and_samples_without_noise(
    alpha, latent_dim, n, p, log_ridge
):
    spec = _spec(latent_dim, alpha)
    res = theory_loss(spec, [n, p], [p, n], 10.0**log_ridge)
    # exact identity; κ is solved to ~1e-14, so 1e-10 leaves room for conditioning
    assert_allclose(res.test_mse[0], res.test_mse[1], rtol=1e-10, atol=0)


def test_noise_breaks_duality():
    res = theory_loss(_spec(noise_var=1e-3), [100, 300], [300, 100], 0.0)
    assert abs(res.test_mse[0] / res.test_mse[1] - 1) > 0.01


@pytest.mark.parametrize(("n", "p"), [(50, 300), (300, 50), (120, 2000), (450, 200)])
def test_ridgeless_closed_forms_match_general_solver(n, p):
    spec = _spec(latent_dim=500, alpha=1.0, noise_var=1e-4, teacher=Teacher.isotropic(2.0))
    lam, m = spec.spectrum.eigenvalues, spec.latent_dim
    small, large = min(n, p), max(n, p)
    kappa = brentq(lambda k: (lam / (lam + k)).sum() - small, 1e-12, 1e3, xtol=1e-300, rtol=1e-15)
    df2 = ((lam / (lam + kappa)) ** 2).sum()
    signal = 2.0 / m * kappa * small / (1 - small / large)
    if n < p:
        noise = spec.noise_var * n / (p - n)
    else:
        noise = spec.noise_var * (p * (n - df2) / ((n - p) * (p - df2)) - 1)
    res = theory_loss(spec, n, p, 0.0, method="exact")
    # closed forms are algebraically identical to §5 at γ = 0; κ from an independent brentq
    assert_allclose(res.excess, signal + noise, rtol=1e-10, atol=0)
    assert_allclose(res.kappa, kappa, rtol=1e-12)


def test_infinite_features_limit_is_kernel_ridge_regression():
    # N → ∞ at fixed γ̃ = γ M / (σ_u² N P): φ·φ' → (σ_u² N / M) x·x', so ridge γ on features is
    # kernel ridge regression on x with ridge γ' = γ M / (σ_u² N) and κ(1 − df₁/P) = γ'/P = γ̃.
    spec = _spec(
        latent_dim=800, alpha=1.5, noise_var=1e-4, teacher=Teacher.power_law(0.7), feature_var=2.0
    )
    lam, var = spec.spectrum.eigenvalues, spec.teacher_variances()
    p, ridge_tilde, n_big = 300.0, 1e-3, 1e13
    kappa = brentq(
        lambda k: k * (1 - (lam / (lam + k)).sum() / p) - ridge_tilde,
        ridge_tilde,
        1e3,
        xtol=1e-300,
        rtol=1e-15,
    )
    df1, df2, tf1, tf2 = _sums(lam, var, kappa)
    # textbook ridge-regression risk (e.g. Hastie et al. 2019): bias + variance over 1 − df₂/P
    krr = (kappa**2 * tf2 + spec.noise_var * df2 / p) / (1 - df2 / p)
    ridge = ridge_tilde * spec.feature_var * n_big * p / spec.latent_dim
    res = theory_loss(spec, n_big, p, ridge, method="exact")
    # corrections are O(df₁/N) ~ 1e-11
    assert_allclose(res.excess, krr, rtol=1e-8)
    assert_allclose(res.kappa, kappa, rtol=1e-8)


def test_infinite_samples_limit_is_best_projection_predictor():
    # P → ∞: the best linear predictor from N random projections; isotropic teacher:
    # excess = (σ_w²/M) κ₀ N with df₁(κ₀) = N
    spec = _spec(latent_dim=600, alpha=1.0)
    lam = spec.spectrum.eigenvalues
    kappa = brentq(lambda k: (lam / (lam + k)).sum() - 90, 1e-12, 1e3, xtol=1e-300, rtol=1e-15)
    res = theory_loss(spec, 90, 1e14, 1.0)
    assert_allclose(res.excess, kappa * 90 / spec.latent_dim, rtol=1e-8)  # O(N/P) corrections


def test_breakdown_excess_is_variance_limited():
    ref = REF["breakdown_excess"]
    spec = _spec(latent_dim=1000, alpha=1.0, noise_var=1e-6)
    res = theory_loss(spec, [1100, 2000, 4000], 5000, 0.0)
    # exact at γ = 0 once N, P ≥ M (κ = 0): σ_ε² M/(P − M); the issue asks for 1e-6
    assert_allclose(res.excess, ref["value"], rtol=ref["rtol"])


def test_noiseless_loss_vanishes_once_both_exceed_latent_dim():
    res = theory_loss(_spec(latent_dim=200), [200, 300, 500], [200, 250, 1000], 0.0)
    assert_allclose(res.excess, 0.0, atol=0)  # exact: κ = 0 and no noise


def test_double_descent_pole_returns_inf_with_warning():
    with pytest.warns(NumericalWarning, match="pole"):
        res = theory_loss(_spec(), [100, 100], [100, 300], 0.0)
    assert np.isinf(res.test_mse[0]) and np.isfinite(res.test_mse[1])


def test_loss_grows_like_inverse_sqrt_ridge_at_the_peak():
    ridges = np.array([1e-9, 1e-8])
    res = theory_loss(_spec(latent_dim=2000), 200, 200, ridges)
    slope = np.diff(np.log(res.test_mse)) / np.diff(np.log(ridges))
    assert_allclose(slope, -0.5, atol=0.01)  # leading order γ^-1/2; corrections O(γ^1/2)


def test_inputs_broadcast_and_grid_has_simulation_dims():
    spec = _spec()
    res = theory_loss(spec, np.array([10, 20, 40])[:, None], np.array([30, 60]), 0.1)
    assert res.test_mse.shape == (3, 2) and res.kappa.shape == (3, 2)
    ds = theory_grid(spec, n_features=[40, 10, 20], n_samples=[30, 60], ridges=[0.1, 0.0])
    assert ds.test_mse.dims == ("n_features", "n_samples", "ridge")
    assert list(ds.n_features.values) == [10, 20, 40]
    # the grid is the broadcast call, value for value
    assert_allclose(ds.test_mse.sel(ridge=0.1).values, res.test_mse, rtol=1e-14)


def test_loss_decreases_in_features_and_samples_at_fixed_normalized_ridge():
    spec = _spec(latent_dim=1000)
    n = np.array([10, 30, 100, 300.0])
    res = theory_loss(spec, n, 2000, 1e-3 * n * 2000 / 1000)  # γ̃ = 1e-3 fixed
    assert np.all(np.diff(res.excess) < 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_features": -3}, r"^'n_features' must be finite numbers > 0\. Got -3\.0 instead\.$"),
        ({"n_samples": [10, 0]}, r"^'n_samples' must be finite numbers > 0\. Got 0\.0 instead\.$"),
        ({"ridge": -1.0}, r"^'ridge' must be finite numbers >= 0\. Got -1\.0 instead\.$"),
        ({"method": "fast"}, r"^'method' must be one of 'auto', 'exact', 'compressed'\."),
    ],
)
def test_invalid_inputs_raise_one_line_errors(kwargs, message):
    args = {"n_features": 10, "n_samples": 20, "ridge": 0.0} | kwargs
    method = args.pop("method", "auto")
    with pytest.raises(ValueError, match=message):
        theory_loss(_spec(), **args, method=method)


def test_nonlinear_spec_and_unsupported_compression_are_rejected():
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=50, alpha=1.0), activation="relu")
    with pytest.raises(ValueError, match="^'spec' must have a linear activation"):
        theory_loss(spec, 10, 10)
    with pytest.raises(TypeError, match="^'spec' must be a ModelSpec"):
        theory_loss("spec", 10, 10)
    explicit = ModelSpec(spectrum=Spectrum.from_eigenvalues([1.0, 0.5, 0.1]))
    with pytest.raises(ValueError, match="^'method' must be 'exact' for this spec"):
        theory_loss(explicit, 2, 2, 0.1, method="compressed")


def test_root_finder_and_minimizer_say_whether_they_converged():
    from scalinglaws.theory._solve import bracketed_root, golden_minimum

    def residual(x, idx):
        return x**3 - 2.0

    done = bracketed_root(residual, np.array([0.0, 0.0]), np.array([2.0, 3.0]))
    # Chandrupatla on a valid bracket converges to 2^(1/3) within a few ulps.
    np.testing.assert_allclose(done.x, 2.0 ** (1 / 3), rtol=1e-14)
    assert done.converged.all()
    cut = bracketed_root(residual, np.array([0.0]), np.array([2.0]), maxiter=2)
    assert not cut.converged.any()
    nan = golden_minimum(lambda x, idx: np.full(x.shape, np.nan), np.array([0.0]), np.array([1.0]))
    assert not nan.converged.any()


def test_brent_finds_the_golden_section_minimum_in_fewer_calls():
    from scalinglaws.theory._solve import brent_minimum, golden_minimum

    rng = np.random.default_rng(0)
    centers = rng.uniform(-3.0, 3.0, 200)
    calls = {"golden": 0, "brent": 0}

    def objective(key):
        def f(x, idx):
            calls[key] += 1
            # smooth, asymmetric, not a parabola: Brent must interpolate, not just land on it
            return np.log1p((x - centers[idx]) ** 2) + 0.1 * (x - centers[idx]) ** 4

        return f

    lo, hi = np.full(200, -5.0), np.full(200, 5.0)
    golden = golden_minimum(objective("golden"), lo, hi, xtol=1e-6)
    brent = brent_minimum(objective("brent"), lo, hi, xtol=1e-6)
    # both stop with a bracket narrower than xtol around the true minimizer
    assert np.max(np.abs(golden.x - centers)) < 1e-6
    assert np.max(np.abs(brent.x - centers)) < 1e-6
    assert brent.converged.all()
    # measured: 12 calls against golden section's 36
    assert calls["brent"] <= calls["golden"] // 2, calls
    # a minimum at the bracket's edge, a kink, an infinite region and an all-NaN objective
    edge = brent_minimum(lambda x, idx: x, np.array([0.0]), np.array([1.0]), xtol=1e-8)
    assert edge.x[0] < 1e-8 and edge.converged.all()
    kink = brent_minimum(lambda x, idx: np.abs(x - 0.7), np.array([0.0]), np.array([1.0]),
                         xtol=1e-8)  # fmt: skip
    assert abs(kink.x[0] - 0.7) < 1e-8
    wall = brent_minimum(lambda x, idx: np.where(x < 0.3, np.inf, (x - 0.5) ** 2),
                         np.array([0.0]), np.array([1.0]), xtol=1e-8)  # fmt: skip
    assert abs(wall.x[0] - 0.5) < 1e-8 and wall.converged.all()
    nan = brent_minimum(lambda x, idx: np.full(x.shape, np.nan), np.array([0.0]), np.array([1.0]))
    assert not nan.converged.any()
