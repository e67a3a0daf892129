"""The theory's root finding: Newton's stopping rule and the cubic start from the df₁ table.

- ``newton_root`` / ``newton_root_scalar`` accept the point a Newton step lands on, without
  evaluating it, once two steps in a row show quadratic convergence (``_solve`` docstring): the
  root must still be the true one to a few ulps, in one evaluation fewer, and a sequence that
  converges only linearly (a triple root) must not stop early.
- The ridge equation's start is read off the table by cubic Hermite interpolation of its
  residual (the table's df₁ slopes give the residual's slope at the grid points): measured
  within 2e-5 of the root where linear interpolation is within 1e-2, and never worse.
"""

import math

import numpy as np
import pytest

from scalinglaws import ModelSpec, Spectrum
from scalinglaws.theory import _scaled
from scalinglaws.theory._solve import newton_root, newton_root_scalar
from scalinglaws.theory._sums import spectral_sums


def _counted(func):
    calls = []

    def wrapped(x):
        calls.append(x)
        return func(x)

    return wrapped, calls


@pytest.mark.parametrize("c", [0.3, 2.0, 1e5])
def test_quadratic_stop_keeps_the_root_in_one_evaluation_fewer(c):
    # f = e^x - c from 1e-3 above the root: errors 1e-3, 5e-7, 1e-13, then ~1e-26 unevaluated
    func, calls = _counted(lambda x: (math.exp(x) - c, math.exp(x)))
    root, ok = newton_root_scalar(func, -20.0, 20.0, math.log(c) + 1e-3)
    assert ok
    assert abs(root - math.log(c)) <= 4 * math.ulp(max(abs(math.log(c)), 1.0))
    # the step rule alone needs a fourth evaluation to see a step below 1e-15
    assert len(calls) == 3


def test_batched_newton_takes_the_same_steps_as_the_scalar_one():
    c = np.array([0.3, 2.0, 1e5, 7.0])
    start = np.log(c) + np.array([1e-3, -1e-2, 1e-6, 0.5])
    batched = newton_root(
        lambda x, idx: (np.exp(x) - c[idx], np.exp(x)), np.full(4, -20.0), np.full(4, 20.0),
        start=start,
    )  # fmt: skip
    for k in range(4):
        one, _ = newton_root_scalar(
            lambda x, k=k: (math.exp(x) - c[k], math.exp(x)), -20.0, 20.0, float(start[k])
        )
        assert abs(batched.x[k] - one) <= 2 * math.ulp(abs(one))  # math.exp vs np.exp: an ulp
    assert batched.converged.all()


def test_linear_convergence_does_not_stop_early():
    # f = x³ has a triple root: Newton's steps shrink by 2/3 each, never quadratically
    func, calls = _counted(lambda x: (x**3, 3 * x * x))
    root, ok = newton_root_scalar(func, -1.0, 2.0, 1.0)
    assert ok and abs(root) < 1e-14
    assert len(calls) > 50  # it kept going to the step rule


@pytest.mark.parametrize(("m", "alpha"), [(10, 1.0), (300, 0.5), (4096, 1.0), (10**6, 2.0)])
def test_cubic_start_from_the_table(m, alpha):
    sums = spectral_sums(ModelSpec(spectrum=Spectrum.power_law(latent_dim=m, alpha=alpha)))
    g = np.geomspace(1, 10 * m, 12)
    nf, ns, rg = (x.ravel() for x in np.meshgrid(g, g, np.geomspace(1e-8, 1e2, 6), indexing="ij"))
    log_gh = _scaled.log_normalized_ridge(sums, rg, 1.0, nf, ns)
    t_grid, below, res = _scaled._table_residual(sums, nf, ns, log_gh)
    bound, _ = _scaled._table_lower_bound(sums, nf, ns, log_gh)
    t0 = np.where(np.isnan(bound), _scaled.ridgeless_log_kappa(sums, np.minimum(nf, ns)), bound)
    lo, hi = np.maximum(t0, log_gh), _scaled._upper(sums, nf, ns, log_gh)
    linear = _scaled._first_crossing(t_grid, res, lo, hi, below)
    start = _scaled._first_crossing(t_grid, res, lo, hi, below, (sums, nf, ns, log_gh))
    root = _scaled.solve_log_kappa(sums, nf, ns, log_gh, t0)
    # the rows whose last grid point below the root lies inside the bracket: the linear guess
    # interpolates there too; elsewhere (that point at or below the bracket's lower end, on the
    # branch) only the cubic start interpolates, the linear one takes the fallback
    inside = (t_grid > lo[:, None]) & (t_grid < hi[:, None])
    masked = np.where(inside, res, np.where(t_grid <= lo[:, None], -1.0, 1.0))
    rows, j = np.arange(nf.size), np.argmax(masked > 0, axis=1)
    both_inside = (j > 0) & inside[rows, j] & inside[rows, np.maximum(j - 1, 0)]
    refined = (start != linear) & both_inside
    assert refined.sum() > 150  # a sign change between grid points: about a fifth of the grid
    err_linear, err_cubic = np.abs(linear - root)[refined], np.abs(start - root)[refined]
    # measured max: 2.1e-3 / 8.5e-7 (M = 4096), 9.6e-3 / 1.6e-5 (M = 1e6, α = 2)
    assert err_linear.max() < 1e-2
    assert err_cubic.max() < 2e-5
    assert (err_cubic <= err_linear).all()
    assert np.median(err_cubic) < 1e-2 * np.median(err_linear)  # measured 1e-5 to 1e-3
    anchored_below = (start != linear) & ~both_inside
    # measured: 37-219 such rows per case, the cubic start within 1.7e-5 (M = 1e6) to 5.6e-3
    # (M = 300) of the root, the fallback within 0.04-0.28, the medians 1e-7 to 2e-4 apart;
    # over this grid the lone call's Newton evaluations fall from 3.2-3.6 to 2.7-3.5 a call
    assert anchored_below.sum() >= 30
    err_fallback = np.abs(linear - root)[anchored_below]
    err_anchored = np.abs(start - root)[anchored_below]
    assert err_anchored.max() < 1e-2
    assert (err_anchored <= err_fallback).all()
    assert np.median(err_anchored) < 1e-3 * np.median(err_fallback)
