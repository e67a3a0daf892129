"""The grid engine: nested-draw consistency, exact vs Monte-Carlo loss, reference value."""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from scalinglaws import ModelSpec, Spectrum, Teacher
from scalinglaws._validation import InputError, NumericalWarning
from scalinglaws.model.streams import as_seed_sequence, child_sequence
from scalinglaws.results import to_records
from scalinglaws.sampling.features import draw_projection, linear_excess
from scalinglaws.sampling.ridge import svd_ridge
from scalinglaws.sampling.simulate import simulate, simulate_records

REFERENCE_FILE = Path(__file__).parent / "reference" / "simulation_reference.json"
REFERENCE = json.loads(REFERENCE_FILE.read_text())


def power_spec(latent_dim=200, alpha=1.0, **kw):
    return ModelSpec(spectrum=Spectrum.power_law(latent_dim=latent_dim, alpha=alpha), **kw)


def test_same_seed_same_numbers_whatever_the_other_seeds():
    spec = power_spec()
    all_seeds = simulate(spec, n_features=[30], n_samples=[60], n_seeds=4, rng=1)
    one = simulate(spec, n_features=[30], n_samples=[60], seeds=[3], rng=1)
    np.testing.assert_array_equal(all_seeds.excess.sel(seed=3), one.excess.sel(seed=3))


@pytest.mark.parametrize("activation", ["linear", "relu", "erf", "tanh"])
def test_exact_loss_matches_monte_carlo_estimate(activation):
    spec = power_spec(latent_dim=60, activation=activation, noise_var=0.01)
    kw = dict(n_features=[15, 90], n_samples=[45], ridges=[0.0, 0.1], seeds=[0], rng=3)
    exact = simulate(spec, **kw)
    mc = simulate(spec, **kw, loss="monte_carlo", n_test=100_000)
    for name in ("test_mse", "excess"):
        z = (mc[name] - exact[name]) / mc[f"{name}_mc_se"]
        # A 10^5-point estimate is within 4 of its standard errors of the exact value.
        assert np.all(np.abs(z.values) < 4), (name, z.values)


def test_test_mse_is_excess_plus_noise():
    spec = power_spec(noise_var=0.3)
    ds = simulate(spec, n_features=[10, 40], n_samples=[20, 80], ridges=[0, 1], n_seeds=2)
    # By definition (docs/model.md §4); a float addition, exact to one ulp.
    np.testing.assert_allclose(ds.test_mse - ds.excess, 0.3, rtol=1e-12)


def test_reference_setting_mean_excess():
    ref = REFERENCE["reference_excess_M2000_N200_P1000"]
    s = ref["setting"]
    spec = power_spec(latent_dim=s["latent_dim"], alpha=s["alpha"])
    ds = simulate(spec, n_features=s["n_features"], n_samples=s["n_samples"], ridges=s["ridge"],
                  n_seeds=s["n_seeds"], rng=s["rng"])
    mean, sem = float(ds.excess_mean.squeeze()), float(ds.excess_sem.squeeze())
    # The value 7.0e-6 is a rounded theory value: the 20-seed mean must be within 4 SE.
    assert abs(mean - ref["expected_mean_excess"]) < 4 * sem
    # Our recorded measurement: same seeds, same numbers up to BLAS round-off across machines.
    np.testing.assert_allclose(mean, ref["measured_mean_excess"], rtol=1e-6)
    np.testing.assert_allclose(sem, ref["measured_sem"], rtol=1e-5)


def test_interpolation_peak_cell_matches_svd_route():
    """γ = 0 at N = P goes through a stable route; recompute that cell independently by SVD."""
    spec = power_spec(latent_dim=400)
    with pytest.warns(NumericalWarning, match="interpolation pole"):
        ds = simulate(spec, n_features=[150], n_samples=[150], ridges=[0.0], seeds=[0], rng=9)
    assert bool(ds.infinite_expectation.all())
    seq = child_sequence(as_seed_sequence(9), 0)
    from scalinglaws.sampling.latent import sample_labels, sample_latent, sample_teacher

    w = sample_teacher(spec, child_sequence(seq, 0))
    u = draw_projection(spec, 150, child_sequence(seq, 1))
    x = sample_latent(spec.spectrum, 150, child_sequence(seq, 2))
    y = sample_labels(x, w, 0.0, child_sequence(seq, 3))
    theta = svd_ridge(x @ u.T, y, [0.0])
    expected = linear_excess(theta, u, spec.spectrum.eigenvalues, w)[0]
    # At the interpolation peak cond(Φ) ~ 1e6: backward-stable routes agree to ~1e-9.
    np.testing.assert_allclose(float(ds.excess.squeeze()), expected, rtol=1e-7)


def test_linear_plateau_beyond_latent_dim():
    """With N ≥ M and P ≥ M, linear features reach the OLS solution: excess independent of N."""
    spec = power_spec(latent_dim=40, noise_var=0.01)
    ds = simulate(spec, n_features=[60, 120], n_samples=[100], ridges=[0.0], seeds=[0])
    vals = ds.excess.squeeze().values
    # Both cells give the same predictor β = X⁺y (docs/model.md §5, breakdown): equal to round-off.
    np.testing.assert_allclose(vals[0], vals[1], rtol=1e-8)


def test_fixed_teacher_and_progress_callback():
    spec = power_spec(latent_dim=20, teacher=Teacher.fixed(np.ones(20)))
    calls = []
    simulate(spec, n_features=[5, 10], n_samples=[8, 16, 32], n_seeds=2,
             progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (12, 12) and len(calls) == 12


def test_to_records_keys_and_null_for_undefined_sem():
    spec = power_spec(latent_dim=20)
    rec = to_records(simulate(spec, n_features=[5], n_samples=[8], n_seeds=1))
    assert set(rec[0]) == {"n_features", "n_samples", "ridge", "test_mse", "test_mse_sem",
                           "excess", "excess_sem", "n_seeds", "infinite_expectation"}
    assert rec[0]["test_mse_sem"] is None and rec[0]["n_seeds"] == 1


@pytest.mark.parametrize(
    ("seeds", "options"),
    [
        (1, {}),  # one seed: every standard error None
        (3, {"ridges": [0.0, 1e-3]}),  # ridge 0 at N = P = 16 and P = M = 20: poles, inf/None
        (5, {"loss": "monte_carlo", "n_test": 500, "ridges": [1e-2]}),
        (2, {"activation": "relu", "ridges": [0.0, 1e-1]}),
    ],
)
def test_records_without_the_dataset_equal_to_records_of_simulate(seeds, options):
    """The command line prints simulate_records (no xarray); it must be to_records(simulate())
    exactly: the same means and standard errors to the last bit, the same Nones, flags and
    warnings."""
    options = dict(options)  # the parameter's own dict is shared between runs
    activation = options.pop("activation", "linear")
    spec = power_spec(latent_dim=20, noise_var=0.1, activation=activation)
    grid = {"n_features": [8, 16, 40], "n_samples": [16, 20, 50], "n_seeds": seeds, "rng": 5}
    with warnings.catch_warnings(record=True) as direct_warnings:
        warnings.simplefilter("always")
        direct = simulate_records(spec, **grid, **options)
    with warnings.catch_warnings(record=True) as via_warnings:
        warnings.simplefilter("always")
        via = to_records(simulate(spec, **grid, **options))
    assert direct == via  # floats compared with ==: bit for bit (None where not finite)
    assert [str(w.message) for w in direct_warnings] == [str(w.message) for w in via_warnings]
    poles = 0.0 in options.get("ridges", [0.0])
    assert any(r["infinite_expectation"] for r in direct) == poles
    assert len(direct_warnings) == int(poles)
    assert all(w.filename == __file__ for w in direct_warnings)  # points at the caller
    assert (direct[0]["test_mse_sem"] is None) == (seeds == 1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_features": [0]}, "'n_features' must be"),
        ({"n_samples": [-4]}, "'n_samples' must be"),
        ({"ridges": [-1.0]}, "'ridges' must be"),
        ({"n_seeds": 0}, "'n_seeds' must be"),
        ({"loss": "sampled"}, "'loss' must be one of"),
    ],
)
def test_bad_grid_input_is_a_one_line_error(kwargs, message):
    args = dict(n_features=[5], n_samples=[5])
    args.update(kwargs)
    with pytest.raises(InputError, match=message) as info:
        simulate(power_spec(latent_dim=10), **args)
    assert "\n" not in str(info.value)


def test_unsorted_spectrum_simulates_like_the_sorted_one():
    """Eigenvalues [0.01, 1, 0.5] with teacher variances [1, 0, 0]: the teacher lives on the
    smallest direction, so the loss is small (it was 11.25 when the pairing was lost)."""
    given = ModelSpec(spectrum=Spectrum.from_eigenvalues([0.01, 1.0, 0.5]),
                      teacher=Teacher.from_variances([1.0, 0.0, 0.0]))
    ordered = ModelSpec(spectrum=Spectrum.from_eigenvalues([1.0, 0.5, 0.01]),
                        teacher=Teacher.from_variances([0.0, 0.0, 1.0]))
    kw = dict(n_features=[2, 5], n_samples=[4, 10], ridges=[1e-3], n_seeds=4, rng=0)
    a, b = simulate(given, **kw), simulate(ordered, **kw)
    # The same model written in two orders: the same draws, bit for bit.
    np.testing.assert_array_equal(a.excess.values, b.excess.values)
    # At most the teacher's own power, w̄²λ = 0.01, on average (the excess of predicting 0).
    assert float(a.excess_mean.sel(n_features=5, n_samples=10).squeeze()) < 0.05


@pytest.mark.parametrize(
    "sizes, latent_dim, ridges",
    [([128, 256, 512, 1024], 1024, [1e-4, 1e-2]), ([100, 300, 700, 1000], 512, [0.0, 1e-3, 0.1])],
)
def test_peak_memory_estimate_bounds_the_arrays_a_seed_allocates(sizes, latent_dim, ridges):
    """simulation_peak_bytes (which refuses work before it allocates) against tracemalloc's
    peak of numpy's allocations for one seed, solves side by side included.

    Measured: 0.68 and 0.85 of the estimate. An estimate below the peak would let work through
    that does not fit; one far above it would refuse work that does.
    """
    import tracemalloc

    from scalinglaws.results import Grid
    from scalinglaws.sampling.simulate import simulation_peak_bytes

    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=latent_dim, alpha=1.0))
    grid = Grid(n_features=sizes, n_samples=sizes, ridges=ridges, seeds=[0])
    estimate = simulation_peak_bytes(spec, grid)
    run = {"n_features": sizes, "n_samples": sizes, "ridges": ridges}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumericalWarning)  # the ridgeless N = P pole
        simulate_records(spec, **run)  # imports and caches outside the measurement
        tracemalloc.start()
        try:
            simulate_records(spec, **run)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert 0.4 * estimate < peak <= estimate
