"""The result layer: one validated Grid, one Dataset builder with the same attributes everywhere,
JSON-safe records, and a to_dataset() on every result type."""

import json
import math

import numpy as np
import pytest

from scalinglaws import (
    InputError,
    ModelSpec,
    NumericalWarning,
    Spectrum,
    Teacher,
    simulate,
    theory_grid,
)
from scalinglaws.bridges.equivalence import one_level_theory, predict_grid, two_level_theory
from scalinglaws.results import Grid, to_records


def spec(**kw):
    return ModelSpec(spectrum=Spectrum.power_law(latent_dim=40, alpha=1.0), **kw)


GRID = dict(n_features=[8, 16], n_samples=[12, 30], ridges=[1e-3, 0.1])


def test_grid_sorts_deduplicates_and_validates_once():
    grid = Grid(n_features=[16, 8, 16], n_samples=30, ridges=[0.1, 0.0], n_seeds=3)
    assert grid.n_features == (8, 16) and grid.n_samples == (30,) and grid.ridges == (0.0, 0.1)
    assert grid.seeds == (0, 1, 2) and grid.shape == (2, 1, 2)
    with pytest.raises(InputError, match="'n_samples' must be"):
        Grid(n_features=[8], n_samples=[0])
    with pytest.raises(InputError, match="'ridges' must be"):
        Grid(n_features=[8], n_samples=[4], ridges=[-1.0])


RESULTS = {
    "simulate": lambda: simulate(spec(), **GRID, n_seeds=2),
    "theory_grid": lambda: theory_grid(spec(), **GRID),
    "one-level": lambda: one_level_theory(spec(activation="relu"), **GRID, n_seeds=2),
    "two-level": lambda: two_level_theory(spec(activation="relu"), **GRID, n_reference=64),
    "predict_grid": lambda: predict_grid(
        spec(activation="tanh", teacher=Teacher.random_features("relu", 40)), **GRID, level="one",
        n_seeds=2,
    ),  # fmt: skip
}


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_every_grid_result_has_the_standard_layout_and_attributes(name):
    ds = RESULTS[name]()
    assert list(ds.n_features.values) == [8, 16] and list(ds.ridge.values) == [1e-3, 0.1]
    assert ds.attrs["source"] and ds.attrs["package_version"]
    # The spec is JSON, and it is the model itself: it rebuilds the same spec.
    rebuilt = ModelSpec.from_dict(json.loads(ds.attrs["spec"]))
    assert rebuilt.latent_dim == 40 and rebuilt.activation.name in ("linear", "relu", "tanh")
    if "seed" in ds.dims:
        assert json.loads(ds.attrs["seeds"]) == list(ds.seed.values)
        assert set(json.loads(ds.attrs["rng"])) == {"entropy", "spawn_key"}


def test_records_are_plain_json_with_null_for_non_finite_values():
    with pytest.warns(NumericalWarning, match="interpolation pole"):
        ds = simulate(spec(), n_features=[8], n_samples=[8, 20], ridges=[0.0], n_seeds=1)
    records = to_records(ds)
    text = json.dumps(records, allow_nan=False)  # raises on NaN or Infinity
    assert records[0]["test_mse_sem"] is None and "NaN" not in text
    assert [r["infinite_expectation"] for r in records] == [True, False]
    assert all(isinstance(r["excess"], float) and math.isfinite(r["excess"]) for r in records)


def test_theory_records_choose_their_fields():
    ds = theory_grid(spec(), **GRID)
    records = to_records(ds, {"test_mse": "test_mse", "kappa": "kappa"})
    assert set(records[0]) == {"n_features", "n_samples", "ridge", "test_mse", "kappa"}
    np.testing.assert_array_equal([r["kappa"] for r in records], ds.kappa.values.ravel())
