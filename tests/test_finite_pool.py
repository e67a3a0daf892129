"""The held-out loss from a finite pool (theory.finite_pool) against independent routes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

from scalinglaws import NumericalWarning
from scalinglaws._validation import InputError
from scalinglaws.bridges.pool_theory import _loo_risk, _pool_directions
from scalinglaws.bridges.tasks import Split
from scalinglaws.model.activations import get_activation
from scalinglaws.theory.finite_pool import held_out_loss
from scalinglaws.theory.nonlinear import KernelSpectrum, kernel_spectrum, one_level_loss


def _pool(n, dim, rng, noise=0.3, alpha=1.0):
    """Gaussian rows with a power-law covariance, a linear target plus noise; the population's
    spectrum and the target's power along it."""
    lam = np.arange(1, dim + 1, dtype=float) ** -(1 + alpha)
    x = rng.standard_normal((n, dim)) * np.sqrt(lam)
    theta = rng.standard_normal(dim)
    y = x @ theta + noise * rng.standard_normal(n)
    truth = KernelSpectrum(lam, theta**2 * lam**2, float(theta**2 @ lam) + noise**2, dim)
    return x, y[:, None], truth


def _spectrum(x, y):
    n = x.shape[0]
    return kernel_spectrum(x.T @ x / n, x.T @ y / n, float(np.sum(y * y) / n))


def test_an_infinite_pool_is_the_population():
    """n → ∞: the one-level loss of the pool's spectrum taken as the population."""
    rng = np.random.default_rng(0)
    ks = _spectrum(*_pool(400, 30, rng)[:2])
    p, g = np.array([[20.0], [60.0], [300.0]]), np.array([[0.0, 1e-3, 1.0]])
    big = held_out_loss(ks, 10**15, p, g).test_mse
    ref = one_level_loss(ks, p, g).test_mse
    # the two differ by O(P/n) = 3e-13 and the bisection's 1e-15 in log κ̂
    assert_allclose(big, ref, rtol=1e-9)


def test_whole_pool_is_generalized_cross_validation():
    """P = n: the GCV of an explicit ridge fit on the pool, |y − Hy|²/n / (1 − tr H/n)²."""
    rng = np.random.default_rng(1)
    x, y, _ = _pool(200, 40, rng)
    n = x.shape[0]
    for ridge in (1e-2, 1.0, 30.0):
        hat = x @ np.linalg.solve(x.T @ x + ridge * np.eye(x.shape[1]), x.T)
        gcv = np.sum((y - hat @ y) ** 2) / n / (1 - np.trace(hat) / n) ** 2
        got = float(held_out_loss(_spectrum(x, y), n, n, ridge).test_mse)
        assert_allclose(got, gcv, rtol=1e-10)  # an identity: round-off of two routes


def test_gaussian_pool_recovers_the_population_loss():
    """Gaussian rows: the loss from the pool's spectrum is the population's own one-level loss
    (from the true Λ and θ) to the deterministic equivalent's finite-n accuracy, up to P = n;
    the pool taken for the population is far off at P near n."""
    rng = np.random.default_rng(2)
    n, dim = 2000, 400
    p = np.array([[200.0], [1000.0], [1800.0], [2000.0]])
    g = np.array([[1e-3, 1e-1]])
    sample, population = [], []
    for _ in range(4):
        x, y, truth = _pool(n, dim, rng)
        ks = _spectrum(x, y)
        exact = one_level_loss(truth, p, g).test_mse
        sample.append(held_out_loss(ks, n, p, g).test_mse / exact)
        population.append(one_level_loss(ks, p, g).test_mse / exact)
    sample, population = np.mean(sample, axis=0), np.mean(population, axis=0)
    # measured over 4 pools: 1.006-1.016 (the deterministic equivalent's finite-size error at
    # dim/n = 0.2, P/dim down to 0.5)
    assert np.all(np.abs(sample - 1) < 0.03), sample
    # the pool as population predicts an in-sample loss: measured 0.80 at P ≥ 0.9 n, γ = 1e-3
    assert np.all(population[2:, 0] < 0.85), population


def test_leave_one_out_matches_explicit_refits():
    """The closed-form leave-one-out risk equals n refits, each without one row (primal N < n
    and dual N > n routes)."""
    rng = np.random.default_rng(3)
    n, dims = 60, 5
    x = rng.standard_normal((n, dims))
    y = np.column_stack([np.sin(x[:, 0]), x[:, 1] * x[:, 2]]) + 0.1 * rng.standard_normal((n, 2))
    split = Split(x, y, x[:2], y[:2], np.arange(n), np.arange(2))
    u = rng.standard_normal((90, dims)) / np.sqrt(dims)
    act = get_activation("relu")
    for dirs in _pool_directions(split, u, act, [20, 90]):
        k = dirs.spectrum.n_features
        phi = np.maximum(x @ u[:k].T, 0.0)
        for kappa_hat in (1e-3, 0.3):
            brute = 0.0
            for mu in range(n):
                keep = np.arange(n) != mu
                a = phi[keep]
                w = np.linalg.solve(a.T @ a + n * kappa_hat * np.eye(k), a.T @ y[keep])
                brute += np.sum((y[mu] - phi[mu] @ w) ** 2) / n
            got = _loo_risk(split, u, act, dirs)(np.array([kappa_hat]))[0]
            assert_allclose(got, brute, rtol=1e-8)  # identity; conditioning of the refits


def test_ridgeless_threshold_is_a_pole_and_below_it_df1_equals_p():
    rng = np.random.default_rng(4)
    ks = _spectrum(*_pool(300, 30, rng)[:2])
    with pytest.warns(NumericalWarning, match="pole"):
        res = held_out_loss(ks, 300, [10.0, 30.0, 100.0], 0.0)
    assert np.isinf(res.test_mse[1]) and np.all(np.isfinite(res.test_mse[[0, 2]]))
    assert_allclose(res.df1[0], 10.0, rtol=1e-10)  # P < rank: κ̂ solves df̂1(κ̂) = P
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no pole, no warning
        held_out_loss(ks, 300, [10.0, 100.0], 0.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(n_samples=301), r"^'n_samples' must be between 1 and the pool size 300"),
        (dict(n_samples=0), r"^'n_samples' must be between 1 and the pool size 300"),
        (dict(n_samples=10, ridge=-1.0), r"^'ridge' must be finite and >= 0"),
    ],
)
def test_bad_input_is_refused_naming_the_parameter(kwargs, message):
    ks = KernelSpectrum(np.array([1.0, 0.1]), np.array([0.5, 0.01]), 1.0, 2)
    with pytest.raises(InputError, match=message):
        held_out_loss(ks, 300, **kwargs)


def test_a_broken_pool_risk_is_inf_with_a_warning_not_a_silent_number():
    """A pool risk that is not a finite number (a leave-one-out row of leverage 1) is never
    passed on as a loss."""
    ks = KernelSpectrum(np.array([1.0, 0.1]), np.array([0.5, 0.01]), 1.0, 2)
    with pytest.warns(NumericalWarning, match="not a finite non-negative number at 1 point"):
        res = held_out_loss(ks, 300, [10.0, 20.0], 1e-2,
                            pool_risk=lambda k: np.array([0.5, np.nan]))  # fmt: skip
    assert np.isfinite(res.test_mse[0]) and np.isinf(res.test_mse[1])
