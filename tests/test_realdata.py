"""Random-feature ridge regression on real data (digits) and the theory from the measured pool."""

from __future__ import annotations

import json

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

pytest.importorskip("sklearn")

from scalinglaws.bridges.realdata import (  # noqa: E402
    make_task,
    realdata_theory,
    simulate_realdata,
    split_task,
)
from scalinglaws.cli.main import main  # noqa: E402
from scalinglaws.model.streams import Stream, child_sequence, standard_normal_rows  # noqa: E402
from scalinglaws.sampling.ridge import fit_ridge  # noqa: E402

GRID = dict(n_features=[16, 64, 256], n_samples=[100, 400], ridges=[1.0], n_seeds=2)


@pytest.fixture(scope="module")
def task():
    return make_task("digits")


@pytest.fixture(scope="module")
def relu_results(task):
    sim = simulate_realdata(task, activation="relu", **GRID)
    theory = realdata_theory(task, activation="relu", **GRID)
    return sim, theory


@pytest.fixture(scope="module")
def linear_results(task):
    sim = simulate_realdata(task, activation="linear", **GRID)
    return sim, realdata_theory(task, activation="linear", **GRID)


def test_make_task_onehot_targets(task):
    assert task.inputs.shape == (1797, 64) and task.targets.shape == (1797, 10)
    assert_array_equal(task.targets.sum(axis=1), 1.0)


def test_split_is_disjoint_and_standardized_with_pool_statistics(task):
    split = split_task(task, 200, child_sequence(np.random.SeedSequence(3), 0))
    assert np.intersect1d(split.pool_index, split.test_index).size == 0
    assert split.pool_index.size + split.test_index.size == 1797 and split.test_index.size == 200
    # pool statistics: exact zero mean and mean squared norm D on the pool (not on the test set)
    assert_allclose(split.pool_inputs.mean(axis=0), 0.0, atol=1e-12)  # round-off only
    assert_allclose(np.mean(np.sum(split.pool_inputs**2, axis=1)), 64.0, rtol=1e-12)
    assert_allclose(split.pool_targets.mean(axis=0), 0.0, atol=1e-12)


def test_same_seed_gives_same_numbers(task, relu_results):
    again = simulate_realdata(task, activation="relu", **GRID)
    assert_array_equal(again.test_mse.values, relu_results[0].test_mse.values)


def test_cell_alone_equals_cell_in_bigger_grid(task, relu_results):
    alone = simulate_realdata(
        task, n_features=[64], n_samples=[100], ridges=[1.0], n_seeds=1, activation="relu"
    )
    cell = relu_results[0].test_mse.sel(n_features=64, n_samples=100, seed=0)
    # same draws; only the Gram is a leading block of a larger product: BLAS round-off
    assert_allclose(float(alone.test_mse.squeeze()), float(cell.squeeze()), rtol=1e-9)


@pytest.mark.parametrize("n_features", [64, 256])  # primal (N < P) and dual (N > P) routes
def test_test_mse_matches_fit_ridge_per_class(task, relu_results, n_features):
    seq = child_sequence(np.random.SeedSequence(0), 0)
    split = split_task(task, None, seq)
    u = standard_normal_rows(child_sequence(seq, Stream.FEATURES), 256, 64) * np.sqrt(1 / 64)
    u = u[:n_features]
    phi = np.maximum(split.pool_inputs[:100] @ u.T, 0.0)
    pred = np.column_stack(
        [
            np.maximum(split.test_inputs @ u.T, 0.0) @ fit_ridge(phi, y, [1.0])[:, 0]
            for y in split.pool_targets[:100].T
        ]
    )
    expected = np.mean(np.sum((pred - split.test_targets) ** 2, axis=1))
    got = relu_results[0].test_mse.sel(n_features=n_features, n_samples=100, seed=0)
    # two well-conditioned solvers (eigh vs Cholesky) of the same system
    assert_allclose(float(got.squeeze()), expected, rtol=1e-8)


def test_loss_falls_with_samples(relu_results):
    mean = relu_results[0].test_mse_mean.squeeze("ridge")
    assert np.all(mean.sel(n_samples=400) < mean.sel(n_samples=100))


def test_linear_theory_tracks_measured_loss(linear_results):
    sim, theory = linear_results
    ratio = (theory.test_mse / sim.test_mse_mean).values
    # Measured (2 seeds, ridge 1, P <= pool/4): ratios 0.93-1.00 with the pool as a sample of
    # the population (0.89-0.98 when the pool is taken for the population); the held-out
    # measurement's standard error over 2 seeds is 2-4 %.
    assert np.all((ratio > 0.9) & (ratio < 1.04)), ratio
    # the theory reproduces the sign of every change in N, including the rise past N = D = 64
    # at P = 100 (measured 0.537 -> 0.633)
    d_sim = np.sign(sim.test_mse_mean.diff("n_features").values)
    assert_array_equal(np.sign(theory.test_mse.diff("n_features").values), d_sim)


def test_relu_theory_tracks_measured_loss(relu_results):
    sim, theory = relu_results
    ratio = (theory.test_mse / sim.test_mse_mean).values
    # Measured: 0.91-1.02 (worst at N = 256, P = 400; 0.71-0.98 with the pool taken for the
    # population): the pool as a sample, leave-one-out on it (docs/nonlinear.md).
    assert np.all((ratio > 0.88) & (ratio < 1.05)), ratio
    for dim in ("n_features", "n_samples"):  # both fall monotonically along N and along P
        assert np.all(sim.test_mse_mean.diff(dim) < 0)
        assert np.all(theory.test_mse.diff(dim) < 0)


def test_cli_json_reports_measured_and_theory(capsys):
    argv = ["realdata", "-N", "16,32", "-P", "50,100", "--seeds", "2", "--json"]
    assert main(argv + ["--activation", "linear"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["task"] == "digits/onehot" and len(out["records"]) == 4
    assert all(r["theory"] is not None and r["test_mse"] > 0 for r in out["records"])
    assert {e["against"] for e in out["exponents"]} == {"n_features", "n_samples"}


@pytest.mark.parametrize(
    "argv",
    [
        ["--dataset", "no-such-data"],
        ["-P", "5000"],  # more than the pool
        ["-N", "0"],
        ["--n-test", "1797"],
        ["--activation", "nope"],
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(capsys, argv):
    assert main(["realdata", "-N", "16", "-P", "50", "--seeds", "1", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
