"""Optimal ridge, equiparameterization and the compute-optimal frontier (docs/model.md §5)."""

import json
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from scalinglaws import ModelSpec, Spectrum
from scalinglaws.theory import CostModel, compute_frontier, optimal_ridge, theory_loss

REFERENCE = json.loads((Path(__file__).parent / "reference" / "theory_reference.json").read_text())
REF = {item["name"]: item for item in REFERENCE["values"]}


def _spec(latent_dim=20_000, alpha=1.0, noise_var=0.0):
    return ModelSpec(
        spectrum=Spectrum.power_law(latent_dim=latent_dim, alpha=alpha), noise_var=noise_var
    )


def test_equiparameterization_minimum_at_equal_features_and_samples():
    n = np.array([100, 200, 500, 1000, 2000, 5000, 10_000.0])
    res = optimal_ridge(_spec(), n, 1e6 / n)
    assert n[np.argmin(res.test_mse)] == 1000
    ref = REF["l_opt_equiparameterized"]
    # docs/model.md quotes 3 digits: 1 % covers the rounding (measured 2.4007e-7)
    assert_allclose(res.test_mse[3], ref["value"], rtol=ref["rtol"])
    assert_allclose(res.test_mse[0], REF["l_opt_unbalanced"]["value"], rtol=0.01)
    # exact sums give the same optimum (compressed sums agree to ~1e-11)
    exact = optimal_ridge(_spec(), 1000, 1000, method="exact")
    assert_allclose(exact.test_mse, res.test_mse[3], rtol=1e-8)


def test_optimal_ridge_is_a_minimum():
    spec = _spec(latent_dim=3000, noise_var=1e-6)
    best = optimal_ridge(spec, 300, 500)
    assert best.ridge > 0
    around = theory_loss(spec, 300, 500, best.ridge * np.array([0.9, 1.1]))
    # golden section to 1e-4 in log γ: the optimum is below its ±10 % neighbours
    assert np.all(around.test_mse > best.test_mse)
    assert best.test_mse < theory_loss(spec, 300, 500, 0.0).test_mse


def test_optimal_ridge_is_zero_when_interpolation_is_perfect():
    # noiseless with N, P ≥ M: γ = 0 gives zero loss, any γ > 0 does worse
    res = optimal_ridge(_spec(latent_dim=200), 400, 300)
    assert res.ridge == 0.0 and res.test_mse == 0.0


def test_optimal_loss_at_equal_resources_is_twice_the_infinite_data_loss():
    spec = _spec()
    ratio = optimal_ridge(spec, 1000, 1000).test_mse / theory_loss(spec, 1000, 1e14).test_mse
    assert_allclose(ratio, 2.0, rtol=0.05)  # docs/model.md: "≈ 2.0 for α = 1"


def test_frontier_is_balanced_with_exponent_minus_alpha_over_two():
    spec = _spec(latent_dim=10**6, alpha=1.0)
    front = compute_frontier(spec, [1e4, 1e5, 1e6])
    # duality makes N = P exact; golden section in log N stops at 1e-4
    assert_allclose(front.n_features, np.sqrt(front.budget), rtol=1e-3)
    assert_allclose(front.exponent_n_features, 0.5, atol=1e-3)
    # L* ∝ C^(-α/2) with finite-n corrections of a few 1e-3 at n = 100..1000
    assert_allclose(front.exponent_loss, 0.5, atol=0.01)
    ds = front.to_dataset()
    assert ds.test_mse.dims == ("budget",)


def test_frontier_with_a_linear_cost_model_respects_the_budget():
    spec = _spec(latent_dim=5000, noise_var=1e-6)
    cost = CostModel(per_feature=100.0, per_sample=1.0, per_product=1.0)
    front = compute_frontier(spec, [1e5, 1e6], cost=cost)
    assert_allclose(cost.cost(front.n_features, front.n_samples), front.budget, rtol=1e-12)
    # features cost more, so the optimum holds fewer features than the N·P-only optimum
    plain = compute_frontier(spec, [1e5, 1e6])
    assert np.all(front.n_features < plain.n_features)


def test_invalid_frontier_inputs():
    with pytest.raises(ValueError, match="^'budgets' must be a finite number > 0"):
        compute_frontier(_spec(), [-1.0])
    with pytest.raises(ValueError, match="^'per_feature' must be a finite number >= 0"):
        CostModel(per_feature=-1.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"per_product": 0.0}, r"^'per_product' must be > 0 when 'per_sample' is 0.* Got 0\.0"),
        (
            {"per_product": 0.0, "per_sample": 1.0},
            r"^'per_product' must be > 0 when 'per_feature' is 0.* Got 0\.0 instead\.$",
        ),
    ],
)
def test_cost_model_without_a_bound_is_a_one_line_input_error(kwargs, message):
    from scalinglaws._validation import InputError

    with pytest.raises(InputError, match=message):
        CostModel(**kwargs)


def test_budget_below_the_cost_of_one_feature_and_sample_is_an_input_error():
    from scalinglaws._validation import InputError

    cost = CostModel(per_feature=2.0, per_sample=3.0, per_product=1.0)
    with pytest.raises(InputError, match=r"^'budgets' must be >= 6 with this cost .* Got 5\.0"):
        compute_frontier(_spec(latent_dim=500), [100.0, 5.0], cost=cost)


def test_frontier_reports_progress_per_group_of_budgets():
    calls = []
    compute_frontier(_spec(latent_dim=500), [1e3, 1e4, 1e5], progress=lambda d, t: calls.append(d))
    assert calls[0] == 0 and calls[-1] == 3
