"""Gaussian-equivalence theory for nonlinear features (docs/model.md §6), against §5 and
simulation."""

import warnings

import numpy as np
import pytest

from scalinglaws import ModelSpec, Spectrum, Teacher
from scalinglaws._validation import NumericalWarning
from scalinglaws.bridges.equivalence import one_level_theory, reference_spectrum, two_level_theory
from scalinglaws.sampling.simulate import simulate
from scalinglaws.theory import theory_grid
from scalinglaws.theory.nonlinear import KernelSpectrum, kernel_spectrum, one_level_loss


def power_spec(latent_dim, **kw):
    return ModelSpec(spectrum=Spectrum.power_law(latent_dim=latent_dim, alpha=1.0), **kw)


def test_one_level_ridgeless_beyond_rank_is_ols_variance():
    """κ = 0 once P > rank K: test_mse = σ² P/(P − r), the classical OLS closed form."""
    s = np.array([3.0, 1.0, 0.5, 0.1])
    ks = KernelSpectrum(eigenvalues=s, target_power=np.array([1.0, 0.2, 0.05, 0.01]) * s,
                        target_var=1.5, n_features=4)
    res = one_level_loss(ks, [8.0, 40.0], 0.0, noise_var=0.2)
    sigma2 = 0.2 + ks.residual_var
    # Exact algebra (κ = 0, df₂ = r): equal to round-off.
    np.testing.assert_allclose(res.test_mse, sigma2 * np.array([8, 40]) / (np.array([8, 40]) - 4),
                               rtol=1e-12)


def test_one_level_pole_at_rank_warns_and_returns_inf():
    ks = KernelSpectrum(np.array([2.0, 1.0]), np.array([0.5, 0.1]), 1.0, 2)
    with pytest.warns(NumericalWarning, match="pole"):
        res = one_level_loss(ks, 2.0, 0.0, noise_var=0.1)
    assert np.isinf(res.test_mse)


def test_one_level_ridge_equation_holds():
    rng = np.random.default_rng(0)
    s = np.sort(rng.uniform(0.01, 2.0, 50))[::-1]
    ks = KernelSpectrum(s, rng.uniform(0, 1, 50) * s, 30.0, 50)
    res = one_level_loss(ks, 20.0, 3.0)
    kappa = float(res.kappa)
    df1 = np.sum(s / (s + kappa))
    # The defining equation κ(1 − df₁/P) = γ/P, solved by a bracketed root to ~1e-15.
    np.testing.assert_allclose(kappa * (1 - df1 / 20.0), 3.0 / 20.0, rtol=1e-10)


def test_linear_features_full_rank_have_no_residual():
    """Linear features with N ≥ M span the linear target: residual σ_r² = 0 (to round-off)."""
    spec = power_spec(20)
    rng = np.random.default_rng(1)
    u = rng.standard_normal((40, 20)) / np.sqrt(20)
    w = rng.standard_normal(20) / np.sqrt(20)
    lam = spec.spectrum.eigenvalues
    kernel = (u * lam) @ u.T
    ks = kernel_spectrum(kernel, (u * lam) @ w, float(w @ (lam * w)))
    assert ks.eigenvalues.size == 20  # the null space of the rank-20 K is dropped
    assert ks.residual_var < 1e-12 * ks.target_var


def test_two_level_reduces_to_section5_for_linear_features():
    spec = power_spec(100, noise_var=1e-4)
    grid = dict(n_features=[20, 60, 200], n_samples=[50, 400], ridges=[1e-3, 1.0])
    two = two_level_theory(spec, **grid, n_reference=4000)
    exact = theory_grid(spec, **grid)
    # The reference draw of 4000 features estimates Λσ_u²/M with Wishart fluctuations of
    # relative size ~sqrt(M/N_ref) = 0.16 per eigenvalue, averaging out in the sums: 3 %.
    np.testing.assert_allclose(two.excess, exact.excess, rtol=0.03)


def test_one_level_linear_matches_section5_on_average():
    spec = power_spec(200)
    grid = dict(n_features=[50, 100], n_samples=[400], ridges=[1e-2])
    one = one_level_theory(spec, **grid, n_seeds=8)
    exact = theory_grid(spec, **grid)
    # docs/model.md §6: one level agrees with §5 to 0.1–0.5 % per draw of U for linear features; the
    # 8-draw mean also carries the teacher's draw-to-draw spread: within 3 standard errors or 2 %.
    diff = np.abs(one.excess_mean - exact.excess)
    assert np.all(diff <= np.maximum(3 * one.excess_sem, 0.02 * exact.excess))


@pytest.mark.parametrize(
    ("activation", "teacher"),
    [("relu", Teacher.random_features("relu", 1000)), ("tanh", Teacher.isotropic(1.0))],
)
def test_nonlinear_theory_matches_simulation(activation, teacher):
    """One level within max(3 SE, 7 %) of simulation, the default two-level theory (auto: the
    sampled route on power-law data) within max(3 SE, 3 %), on a grid with N > M (M = 50)."""
    spec = power_spec(50, activation=activation, teacher=teacher, noise_var=1e-4)
    grid = dict(n_features=[25, 100, 200], n_samples=[80, 600], ridges=[1e-3, 1.0])
    sim = simulate(spec, **grid, n_seeds=10, rng=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumericalWarning)
        one = one_level_theory(spec, **grid, n_seeds=10, rng=4)
        two = two_level_theory(spec, **grid, rng=4)
    assert two.attrs["route"] == "sampled"
    mean, sem = sim.excess_mean.values, sim.excess_sem.values
    # Gaussian equivalence is a large-N, large-P statement; 7 % allows its finite-size error
    # at N = 25, P = 80, and 3 SE the Monte-Carlo spread of 10 seeds.
    allowed = np.maximum(3 * sem, 0.07 * mean)
    assert np.all(np.abs(one.excess_mean.values - mean) <= allowed), one.excess_mean.values / mean
    # The sampled route's 8 draws of the features are independent of the simulation's 10 seeds,
    # so the two Monte-Carlo errors add: SE² = SE_sim² + SE_theory². They are comparable at
    # N = M/2 with the random-feature teacher (V is drawn per draw: SE_theory 3.4 %, SE_sim
    # 5.7 %), where the route is measured 1.19x the simulated mean at P = 600 while the paired
    # one-level theory is 1.00 of it (the 10 seeds' mean sits 2.3 SE_sim low; 32 draws: 1.14x).
    # Measured elsewhere: 0.86-1.10 (tanh 0.88-1.04, relu 0.92-1.19) with SE_sim 3-14 %.
    combined = np.hypot(sem, two.excess_sem.values)
    allowed_two = np.maximum(3 * combined, 0.03 * mean)
    assert np.all(np.abs(two.excess.values - mean) <= allowed_two), two.excess.values / mean


def test_sampled_route_for_linear_features_is_section5():
    """Linear features: each draw's one-level loss is §5 to 0.1-0.5 % (docs/model.md §6) and w is
    averaged exactly, so the 8-draw mean is §5 within 3 of its standard errors plus 0.5 %."""
    spec = power_spec(100, noise_var=1e-4)
    grid = dict(n_features=[20, 60, 200], n_samples=[50, 400], ridges=[1e-3, 1.0])
    sampled = two_level_theory(spec, **grid, route="sampled")
    exact = theory_grid(spec, **grid).excess.values
    # the draws stop where the standard error is under 1 % of the excess: at N = 200 after 3
    assert sampled.attrs["route"] == "sampled" and sampled.attrs["n_draws"] == [8, 8, 3]
    assert sampled.attrs["max_draws"] == 8 and sampled.attrs["draw_rtol"] == 0.01
    # measured: at most 2.0 standard errors off (ratios 0.966-1.005, SE 0.02-3 %)
    diff = np.abs(sampled.excess.values - exact)
    assert np.all(diff <= 3 * sampled.excess_sem.values + 0.005 * exact), sampled.excess / exact


def test_sampled_route_draws_are_nested_in_n_and_reproducible():
    spec = power_spec(30, activation="erf")
    grid = dict(n_samples=[40, 200], ridges=[1e-2], n_draws=3, rng=7)
    both = two_level_theory(spec, n_features=[20, 60], **grid)
    small = two_level_theory(spec, n_features=[20], **grid)
    # the leading 20×20 block of a draw of 60 features is the draw of 20: the same arrays
    np.testing.assert_array_equal(both.excess.values[:1], small.excess.values)
    np.testing.assert_array_equal(both.excess_sem.values[:1], small.excess_sem.values)
    assert not np.array_equal(two_level_theory(spec, n_features=[20], **{**grid, "rng": 8})
                              .excess.values, small.excess.values)


def test_sampled_route_adaptive_draws_are_the_fixed_draws_prefix():
    """Each N's mean is over the first D_N draws of the fixed-count route (same seed, the same
    numbers); an N stops early only where every cell's standard error is within draw_rtol of
    its mean excess, and never before MIN_DRAWS draws."""
    spec = power_spec(40, activation="relu")
    grid = dict(n_features=[20, 80, 320], n_samples=[40, 160, 640], ridges=[1e-3, 1.0], rng=3)
    fixed = two_level_theory(spec, **grid, draw_rtol=0)
    assert fixed.attrs["n_draws"] == 8 and fixed.attrs["draw_rtol"] == 0.0
    adaptive = two_level_theory(spec, **grid)
    used = adaptive.attrs["n_draws"]
    # measured: the spread falls with N (largest SE/mean over 8 draws 2.8 %, 1.6 %, 0.46 %)
    assert used == [8, 8, 3]
    for i, k in enumerate(used):
        prefix = two_level_theory(spec, **grid, n_draws=k, draw_rtol=0)
        for name in ("test_mse", "excess", "kappa", "excess_sem"):
            np.testing.assert_array_equal(adaptive[name].values[i], prefix[name].values[i])
        rel = adaptive.excess_sem.values[i] / adaptive.excess.values[i]
        assert k == 8 or np.all(rel <= 0.01), (k, rel)
    # A mean of the first k of 8 draws differs from the 8 draws' by sqrt(8/k - 1) of the
    # latter's standard error (measured at most 1.6 of that, at N = 320)
    scale = np.sqrt(8 / np.array(used) - 1)[:, None, None] * fixed.excess_sem.values
    diff = np.abs(adaptive.excess.values - fixed.excess.values)
    assert np.all(diff <= 3 * scale), diff / scale
    again = two_level_theory(spec, **grid)
    np.testing.assert_array_equal(again.excess.values, adaptive.excess.values)
    loose = two_level_theory(spec, **grid, n_draws=2, draw_rtol=1.0)
    assert loose.attrs["n_draws"] == 2  # the minimum is capped at n_draws
    for bad in (-0.1, float("nan"), "x"):
        with pytest.raises(InputError, match="^'draw_rtol' must be a finite number >= 0"):
            two_level_theory(spec, **grid, draw_rtol=bad)
    with pytest.raises(InputError, match="^'draw_rtol' applies to the sampled route only"):
        two_level_theory(spec, **grid, route="reference", draw_rtol=0.01)
    with pytest.raises(InputError, match="^'draw_rtol' applies to the two-level theory's"):
        predict_grid(spec, n_features=[20], n_samples=[40], level="one", draw_rtol=0.01)


@pytest.mark.parametrize("bad", [0, -3, 2.5, "8", True, None])
def test_n_draws_is_validated(bad):
    spec = power_spec(20, activation="relu")
    grid = dict(n_features=[10], n_samples=[40], ridges=[1e-2])
    if bad is None:  # n_draws given with another route
        for route in ("reference", "hermite"):
            with pytest.raises(InputError, match="^'n_draws' applies to the sampled route only"):
                two_level_theory(spec, **grid, route=route, n_draws=4)
        with pytest.raises(InputError, match="^'n_draws' applies to the two-level theory's"):
            predict_grid(spec, **grid, level="one", n_draws=4)
        return
    with pytest.raises(InputError, match=rf"^'n_draws' must be a positive integer .*default 8.*"
                                         rf"Got {bad!r} instead"):
        two_level_theory(spec, **grid, n_draws=bad)


def test_sampled_route_pole_warns_once_with_a_count_and_returns_inf():
    spec = power_spec(40, activation="relu")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        ds = two_level_theory(spec, n_features=[50], n_samples=[50, 60], ridges=[0.0], n_draws=3)
    messages = [str(w.message) for w in record]
    # rank K = N = 50 for every draw: one pole per draw, re-issued once with the count
    assert [w.category for w in record] == [NumericalWarning], messages
    assert "pole" in messages[0] and "(3 times over 3 draw(s)" in messages[0]
    assert np.isinf(ds.test_mse.values[0, 0, 0]) and np.isnan(ds.excess_sem.values[0, 0, 0])
    assert np.all(np.isfinite(ds.test_mse.values[0, 1, 0]))


def test_reference_spectrum_of_relu_extends_past_latent_dim():
    spec = power_spec(40, activation="relu")
    ref = reference_spectrum(spec, 400)
    # Linear features would have rank 40; ReLU's kernel keeps ≥ 10x more numerically non-zero
    # eigenvalues (the extension of the spectrum, docs/model.md §6).
    assert ref.eigenvalues.size > 400 * 0.9
    assert ref.eigenvalues[200] > 1e-9 * ref.eigenvalues[0]


def test_linear_features_plateau_at_latent_dim_relu_features_keep_improving():
    """docs/model.md §6 against a wide ReLU teacher (K = 20 M), M = 100, α = 1, P = 80 M."""
    teacher = Teacher.random_features("relu", 2000)
    grid = dict(n_features=[100, 200, 400, 800], n_samples=8000, ridges=1e-4, n_seeds=2)
    excess = {}
    for activation in ("linear", "relu"):
        spec = power_spec(100, teacher=teacher, activation=activation)
        excess[activation] = simulate(spec, **grid).excess.values[:, 0, 0, :]  # (N, seed)
    # Linear features with N ≥ M give the same predictor (OLS on x, up to γ = 1e-4): the loss
    # does not move past N = M (measured ratios 1 ± 1e-4 per seed; 1 % allows for the ridge).
    linear = excess["linear"] / excess["linear"][0]
    np.testing.assert_allclose(linear, 1.0, atol=0.01)
    # ReLU features keep improving at every step past M, as a power law of slope about −0.65
    # (measured −0.60 … −0.70 per doubling at P = 16000); require a clear fall: slope ≤ −0.4.
    relu = excess["relu"]
    assert np.all(np.diff(relu, axis=0) < 0)
    slope = np.polyfit(np.log([100, 200, 400, 800]), np.log(relu.mean(axis=1)), 1)[0]
    assert slope <= -0.4, slope
    assert np.all(relu[-1] < 0.5 * excess["linear"][-1])


# -- trust at the edges: poles warn, bad reference sizes refused, memory and time estimated --------
from scalinglaws._memory import MemoryLimitError  # noqa: E402
from scalinglaws._validation import InputError  # noqa: E402
from scalinglaws.bridges.equivalence import predict_grid  # noqa: E402
from scalinglaws.theory import _cost  # noqa: E402
from scalinglaws.theory.nonlinear import two_level_loss  # noqa: E402


def test_two_level_pole_warns_and_returns_inf():
    spec = power_spec(40, activation="relu")
    with pytest.warns(NumericalWarning, match="pole"):
        ds = two_level_theory(spec, n_features=[50], n_samples=[50, 60], ridges=[0.0])
    assert np.isinf(ds.test_mse.values[0, 0, 0]) and np.isfinite(ds.test_mse.values[0, 1, 0])


def test_one_level_warnings_come_once_with_a_count():
    spec = power_spec(30, activation="relu")
    with pytest.warns(NumericalWarning, match=r"pole.*\(3 times over 3 draw\(s\)") as record:
        one_level_theory(spec, n_features=[20], n_samples=[20], ridges=[0.0], n_seeds=3)
    assert sum("pole" in str(w.message) for w in record) == 1


@pytest.mark.parametrize("call", ["two", "predict"])
def test_reference_smaller_than_the_largest_n_is_refused(call):
    spec = power_spec(40, activation="relu")
    grid = dict(n_features=[20, 80], n_samples=[100], ridges=[1e-2], n_reference=60)
    run = two_level_theory if call == "two" else predict_grid
    with pytest.raises(InputError, match=r"^'n_reference' must be >= max n_features = 80: .*60"):
        run(spec, **grid)


def test_reference_memory_and_time_are_checked_before_any_work(monkeypatch):
    spec = power_spec(50, activation="relu")
    with pytest.raises(MemoryLimitError, match=r"reference kernel of 400,000 features .* TiB"):
        reference_spectrum(spec, 400_000)
    with pytest.raises(MemoryLimitError, match="max_memory"):
        reference_spectrum(spec, 2000, max_memory="10MB")
    wide = power_spec(50, activation="relu", teacher=Teacher.random_features("relu", 10**7))
    with pytest.raises(MemoryLimitError, match="'teacher_width'"):
        reference_spectrum(wide, 1000)
    monkeypatch.setattr(_cost, "FLOP_RATE", 1e3)  # eigh(1000) would then take 4e6 s
    with pytest.raises(InputError, match=r"would take about .* lower 'n_reference'"):
        reference_spectrum(spec, 1000)
    with pytest.raises(InputError, match="allow_slow=True"):
        one_level_theory(spec, n_features=[300], n_samples=[10])
    with pytest.raises(InputError, match=r"sampled two-level theory over 3 to 8 draw.*'n_draws'"):
        two_level_theory(spec, n_features=[300], n_samples=[10])
    with pytest.raises(InputError, match=r"sampled two-level theory over 8 draw\(s\)"):
        two_level_theory(spec, n_features=[300], n_samples=[10], draw_rtol=0)
    with pytest.raises(MemoryLimitError, match=r"sampled two-level theory .* 400,000"):
        two_level_theory(spec, n_features=[400_000], n_samples=[10], allow_slow=True)
    assert reference_spectrum(spec, 300, allow_slow=True).eigenvalues.size > 0


def test_sampled_time_estimate_counts_the_adaptive_minimum_of_draws(monkeypatch):
    """A draw of N = (1000, 2000) at 1e10 flop/s: 4·(1000³ + 2000³)/1e10 = 3.6 s of eigh (plus
    2000² relu entries at 50-100 ns, 0.2-0.4 s); 8 fixed draws ~30 s, the adaptive 3 ~11-12 s."""
    spec = power_spec(50, activation="relu")
    monkeypatch.setattr(_cost, "FLOP_RATE", 1e10)
    monkeypatch.setattr(_cost, "MAX_SECONDS", 20.0)
    with pytest.raises(InputError, match=r"over 8 draw\(s\) at n_features = 2,000 would take "
                                         r"about (29|3\d) s"):
        _cost.check_sampled(spec, [1000, 2000], 8)
    _cost.check_sampled(spec, [1000, 2000], 8, min_draws=3)  # ~11 s: allowed
    monkeypatch.setattr(_cost, "MAX_SECONDS", 10.0)
    with pytest.raises(InputError, match=r"over 3 to 8 draw\(s\) .* about 1[0-3] s"):
        _cost.check_sampled(spec, [1000, 2000], 8, min_draws=3)


def test_quadrature_kernel_time_is_estimated_from_its_measured_cost():
    spec = power_spec(50, activation="tanh")  # 2-D quadrature, ~20 µs per entry
    # 8000² entries at ~20 µs: ~20 min (memory limit raised, so that time decides)
    with pytest.raises(InputError, match=r"The reference kernel of 8,000 features would take"):
        reference_spectrum(spec, 8000, max_memory="1TiB")


def test_reference_memory_estimate_is_close_to_the_measured_peak():
    import tracemalloc

    spec = power_spec(100, activation="relu")
    tracemalloc.start()
    reference_spectrum(spec, 800)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # the estimate counts the big arrays of each phase; the module promises within ~1.3x
    assert 0.75 < _cost.reference_bytes(spec, 800) / peak < 1.3


@pytest.mark.filterwarnings(
    "ignore:The teacher sum tf2 exceeds:scalinglaws._errors.NumericalWarning"
)
@pytest.mark.parametrize("c", [1e-300, 1e300])
def test_nonlinear_losses_are_scale_invariant_over_the_float_range(c):
    # (at c = 1e-300 the equivalent teacher's tf2 ~ 1e600 is honestly inf, with its warning)
    rng = np.random.default_rng(3)
    s = np.sort(rng.uniform(0.01, 2.0, 40))[::-1]
    power = rng.uniform(0, 1, 40) * s * 0.02
    base = KernelSpectrum(s, power, 1.0, 40)
    scaled = KernelSpectrum(s * c, power * c, 1.0, 40)  # K → cK, b → √c b: t²/s unchanged
    p, ridge = np.array([10.0, 39.0, 200.0]), np.array([0.0, 1e-3, 1.0])
    one0 = one_level_loss(base, p[:, None], ridge, noise_var=0.1)
    one1 = one_level_loss(scaled, p[:, None], ridge * c, noise_var=0.1)
    # scaled-unit evaluation: c enters only through logs of up to 690, 1e-12
    np.testing.assert_allclose(one1.test_mse, one0.test_mse, rtol=1e-12)
    two0 = two_level_loss(base, [5.0, 30.0], p[:, None], 1e-2, noise_var=0.1)
    two1 = two_level_loss(scaled, [5.0, 30.0], p[:, None], 1e-2 * c, noise_var=0.1)
    np.testing.assert_allclose(two1.test_mse, two0.test_mse, rtol=1e-12)


def test_kernel_spectrum_of_a_tiny_kernel_is_the_scaled_spectrum():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((30, 30))
    kernel, target = a @ a.T / 30, rng.standard_normal(30)
    base = kernel_spectrum(kernel, target, 1e6)
    tiny = kernel_spectrum(kernel * 4.0**-200, target * 2.0**-200, 1e6)  # powers of 2: exact
    # eigh sees the same matrix after the power-of-4 rescaling: equal to round-off
    np.testing.assert_allclose(tiny.eigenvalues * 4.0**200, base.eigenvalues, rtol=1e-12)
    np.testing.assert_allclose(tiny.explained, base.explained, rtol=1e-10)
