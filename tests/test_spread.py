"""The spread correction of the one-level theory (docs/nonlinear-theory.md, theory/spread.py).

Three independent routes: (1) the closed-form reduction (inputs whose quadratic forms do not
spread give the Gaussian one-level theory), (2) a scalar re-implementation of the equations
with SciPy's Brent solver for a and κ, (3) simulation at the cell where the Gaussian one-level
theory is furthest below it on power-law data.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pytest
from scipy.optimize import brentq

from scalinglaws import ModelSpec, Spectrum
from scalinglaws._validation import InputError, NumericalWarning
from scalinglaws.bridges.equivalence import one_level_theory, two_level_theory
from scalinglaws.model.streams import Stream, as_seed_sequence, child_sequence
from scalinglaws.sampling.features import draw_projection, feature_moments, random_features
from scalinglaws.sampling.latent import sample_latent, sample_teacher
from scalinglaws.sampling.simulate import simulate
from scalinglaws.theory.nonlinear import kernel_spectrum, one_level_loss
from scalinglaws.theory.spread import InputProjections

NOISE = 1e-4


def _draw(n_features=200, n_inputs=4096, alpha=0.5, activation="erf"):
    spec = ModelSpec(
        spectrum=Spectrum.power_law(latent_dim=50, alpha=alpha),
        activation=activation,
        noise_var=NOISE,
    )
    seq = child_sequence(as_seed_sequence(4), 0)
    w = sample_teacher(spec, child_sequence(seq, Stream.TEACHER))
    u = draw_projection(spec, n_features, child_sequence(seq, Stream.FEATURES))
    mo = feature_moments(u, spec.spectrum.eigenvalues, w, spec.activation)
    x = sample_latent(spec.spectrum, n_inputs, rng=1)
    phi = random_features(x, u, spec.activation)
    return mo, phi, x @ w


def test_inputs_without_spread_give_the_gaussian_one_level_loss():
    # τ(x) ≡ 1 for every κ when each input's power along v_i is s_i: then a = 1 − u and every
    # term is the Gaussian one's. Round-off of the secant solve and of the averages: measured
    # at most 9e-13 relative (κ; 2e-13 on the loss); bound 1e-10.
    mo, _, _ = _draw()
    ks = kernel_spectrum(mo.kernel, mo.target_cov, mo.target_var)
    flat = InputProjections(
        power=np.tile(ks.eigenvalues, (5, 1)), residual=np.full(5, ks.residual_var)
    )
    ns = np.array([50.0, 100, 150, 199, 201, 400, 800, 150, 400, 800])
    rg = np.array([1e-3, 1e-3, 1.0, 1e-2, 1e-2, 1e-3, 1.0, 0.0, 0.0, 0.0])
    gauss = one_level_loss(ks, ns, rg, noise_var=NOISE)
    spread = one_level_loss(replace(ks, inputs=flat), ns, rg, noise_var=NOISE)
    np.testing.assert_allclose(spread.test_mse, gauss.test_mse, rtol=1e-10)
    np.testing.assert_allclose(spread.kappa, gauss.kappa, rtol=1e-10, atol=0)


def _scalar(s, t2_over_s, sig_r2, power, r2, p, gamma):
    """The spread equations cell by cell, with Brent's method for a (inner) and log κ."""
    lam = gamma / p

    def a_of(kappa):
        df1 = np.sum(s / (s + kappa))
        tau = (power @ (1 / (s + kappa))) / df1
        u = df1 / p
        if u >= 1:
            return 0.0, tau, u, df1
        a = brentq(lambda a: np.mean(tau / (a + tau * u)) - 1, 1e-300, 10.0, rtol=1e-15)
        return a, tau, u, df1

    def g(log_k):
        a = a_of(np.exp(log_k))[0]
        return (log_k + np.log(a) if a > 0 else -1e300) - np.log(lam)

    log_k = brentq(g, np.log(lam) - 60, np.log(lam) + 60, xtol=1e-14, rtol=1e-15)
    kappa = np.exp(log_k)
    a, tau, u, _ = a_of(kappa)
    df2 = np.sum(s**2 / (s + kappa) ** 2)
    bias = kappa**2 * np.sum(t2_over_s / (s + kappa) ** 2)
    den = (a + tau * u) ** 2
    noise = np.mean((r2 + NOISE) * tau / den) * df2 / p
    return sig_r2 + NOISE + (bias + noise) / (1 - np.mean(tau**2 / den) * df2 / p), kappa


def test_spread_loss_matches_a_scalar_brent_solution_of_its_equations():
    # Same inputs, two solvers (vectorised Newton + Illinois against nested Brent). Measured
    # at most 4e-13 relative on κ and the loss; bound 1e-8 (Brent's own tolerance on log κ).
    mo, phi, f_star = _draw()
    ks = kernel_spectrum(mo.kernel, mo.target_cov, mo.target_var, inputs=phi, input_target=f_star)
    ns = np.array([100.0, 150, 400, 800])
    rg = np.array([1e-3, 1.0, 1e-3, 1e-2])
    res = one_level_loss(ks, ns, rg, noise_var=NOISE)
    s = ks.eigenvalues
    for k in range(ns.size):
        loss, kappa = _scalar(
            s, ks.explained, ks.residual_var, ks.inputs.power, ks.inputs.residual, ns[k], rg[k]
        )
        assert res.kappa[k] == pytest.approx(kappa, rel=1e-8)
        assert res.test_mse[k] == pytest.approx(loss, rel=1e-8)


def test_spread_residual_is_the_target_outside_the_features_span():
    # E_x r(x)² over the inputs estimates σ_r² (Monte Carlo over 4096 inputs: within 10 %).
    mo, phi, f_star = _draw()
    ks = kernel_spectrum(mo.kernel, mo.target_cov, mo.target_var, inputs=phi, input_target=f_star)
    assert np.mean(ks.inputs.residual) == pytest.approx(ks.residual_var, rel=0.1)
    # and E_x τ(x) = 1 at every κ up to the same Monte-Carlo error
    s = ks.eigenvalues
    for kappa in (1e-6 * s[0], 1e-3 * s[0], s[0]):
        tau = ks.inputs.power @ (1 / (s + kappa)) / np.sum(s / (s + kappa))
        assert np.mean(tau) == pytest.approx(1.0, abs=0.05)


def test_spread_correction_reaches_simulation_where_the_gaussian_one_level_theory_cannot():
    # erf features, α = 0.5, M = 50, N = 8M, P = 16M, γ = 1e-3: the Gaussian one-level theory of
    # the very draws simulate uses is 0.85 of the simulated excess (10 seeds, SE 1.6 %), outside
    # max(3 SE, 3 %); with the spread of the quadratic forms it is 0.99 (measured; 16384 inputs).
    spec = ModelSpec(
        spectrum=Spectrum.power_law(latent_dim=50, alpha=0.5), activation="erf", noise_var=NOISE
    )
    grid = dict(n_features=[400], n_samples=[800], ridges=[1e-3], n_seeds=10, rng=4)
    sim = simulate(spec, **grid).excess.values.ravel()
    gauss = one_level_theory(spec, **grid).excess.values.ravel()
    spread = one_level_theory(spec, **grid, n_inputs=16384).excess.values.ravel()
    mean, sem = sim.mean(), sim.std(ddof=1) / np.sqrt(sim.size)
    tol = max(3 * sem, 0.03 * mean)
    assert abs(gauss.mean() - mean) > tol  # the gap the correction closes is real
    assert abs(spread.mean() - mean) <= tol
    assert spread.mean() / mean == pytest.approx(0.99, abs=0.03)


def test_sampled_route_takes_the_spread_by_default_and_is_deterministic():
    spec = ModelSpec(
        spectrum=Spectrum.power_law(latent_dim=20, alpha=1.0), activation="relu", noise_var=NOISE
    )
    grid = dict(n_features=[10, 40], n_samples=[60], ridges=[1e-3], n_draws=3)
    a = two_level_theory(spec, **grid, route="sampled", rng=1)
    b = two_level_theory(spec, **grid, route="sampled", rng=1)
    g = two_level_theory(spec, **grid, route="sampled", rng=1, n_inputs=0)
    assert a.attrs["n_inputs"] == 4096 and g.attrs["n_inputs"] == 0
    np.testing.assert_array_equal(a.excess.values, b.excess.values)
    assert not np.allclose(a.excess.values, g.excess.values, rtol=1e-6)


@pytest.mark.parametrize("value", [-1, 10, 255, 1.5, True, "many"])
def test_n_inputs_is_checked(value):
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=20, alpha=1.0), activation="relu")
    with pytest.raises(InputError, match="'n_inputs' must be 0"):
        two_level_theory(spec, n_features=[10], n_samples=[20], route="sampled", n_inputs=value)


def test_n_inputs_is_refused_off_the_sampled_route():
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=20, alpha=1.0), activation="relu")
    with pytest.raises(InputError, match="sampled route only"):
        two_level_theory(spec, n_features=[10], n_samples=[20], route="hermite", n_inputs=1024)


def test_a_spread_pole_is_inf_with_one_warning():
    mo, phi, f_star = _draw(n_features=100, n_inputs=1024)
    ks = kernel_spectrum(mo.kernel, mo.target_cov, mo.target_var, inputs=phi, input_target=f_star)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = one_level_loss(ks, [ks.eigenvalues.size, 300.0], [0.0, 0.0], noise_var=NOISE)
    assert np.isinf(res.test_mse[0]) and np.isfinite(res.test_mse[1])
    numerical = [w for w in caught if issubclass(w.category, NumericalWarning)]
    assert len(numerical) == 1 and "pole" in str(numerical[0].message)
    assert numerical[0].filename == __file__
