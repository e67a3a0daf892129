"""The lone-point route of the theory (``_scaled._evaluate_one``) against the batched route.

A lone point is evaluated on Python floats with the same operations as the batched route on
arrays, so the two must agree bit for bit, warnings included; against a batched call over many
points at once (whose node sums add in another order) they agree to rounding.
"""

import itertools
import warnings

import numpy as np
import pytest

from scalinglaws import ModelSpec, Spectrum, Teacher, optimal_ridge, theory_loss
from scalinglaws._validation import NumericalWarning
from scalinglaws.theory import _scaled
from scalinglaws.theory._sums import spectral_sums

RIDGES = (0.0, 1e-8, 1e-3, 1.0)


def _specs():
    for alpha, m in itertools.product((0.5, 1.0, 2.0), (10, 300, 4096, 10**6)):
        noise = 0.1 if m == 300 else 0.0  # noise moves the pole to P = M <= N as well
        teacher = Teacher.power_law(1.0) if m == 4096 else Teacher.isotropic()
        yield ModelSpec(
            spectrum=Spectrum.power_law(latent_dim=m, alpha=alpha, lambda_plus=3.0),
            teacher=teacher,
            noise_var=noise,
        )
    eigenvalues = np.sort(np.random.default_rng(0).lognormal(0.0, 2.0, 500))[::-1]
    yield ModelSpec(spectrum=Spectrum.from_eigenvalues(eigenvalues), noise_var=0.01)


def _points(m: int) -> list[tuple[float, float, float]]:
    """N < P, N > P, N = P (below, at and above M) at every ridge, poles included."""
    sizes = sorted({1.0, 3.0, m / 2, m - 1.0, float(m), 3.0 * m})
    return list(itertools.product(sizes, sizes + [2.5 * m], RIDGES))


def _run(route, *args):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = route(*args)
    return out, [(w.category, str(w.message)) for w in caught]


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    with np.errstate(invalid="ignore"):
        rel = np.abs(a - b) / np.maximum(np.abs(a), np.abs(b))
    return float(np.max(np.where(same, 0.0, rel), initial=0.0))


@pytest.mark.parametrize("spec", list(_specs()), ids=lambda s: s.spectrum.describe())
def test_lone_point_is_the_batched_route_bit_for_bit(spec):
    sums = spectral_sums(spec)
    assert sums.df1_table is not None  # the lone route needs it: it is the one taken here
    points = np.array(_points(spec.latent_dim))
    nf, ns, rg = (points[:, i].copy() for i in range(3))
    log_gh = _scaled.log_normalized_ridge(sums, rg, spec.feature_var, nf, ns)
    # (N = M - 1 at γ = 0 leaves the ridgeless equation unconverged, warned, on either route)
    every, _ = _run(_scaled.evaluate_batched, sums, nf, ns, log_gh, spec.noise_var)
    # N or P within 1 of M: κ̂ and N - df₂ come out of cancellations there (measured 2.5e-10)
    near_m = np.minimum(np.abs(nf - spec.latent_dim), np.abs(ns - spec.latent_dim)) <= 1
    worst = {False: 0.0, True: 0.0}
    for i in range(nf.size):
        args = (sums, nf[i : i + 1], ns[i : i + 1], log_gh[i : i + 1], spec.noise_var)
        lone, lone_warned = _run(_scaled.evaluate, *args)
        batched, batched_warned = _run(_scaled.evaluate_batched, *args)
        assert lone_warned == batched_warned
        assert lone.keys() == batched.keys()
        for name, value in lone.items():
            assert value.dtype == batched[name].dtype and value.shape == (1,)
            np.testing.assert_array_equal(value, batched[name], err_msg=f"{name} at {points[i]}")
            rel = _relative(value, every[name][i : i + 1])
            worst[near_m[i]] = max(worst[near_m[i]], rel)
    # the many-point batch sums the nodes in another order (one matrix product, not dots)
    assert worst[False] <= 1e-12 and worst[True] <= 1e-9


@pytest.mark.parametrize("m", [300, 10**6])
def test_lone_point_with_a_known_ridgeless_root(m):
    # the optimal ridge's route: t₀ given, log γ̂ anywhere on its scan, ridgeless included
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=m, alpha=1.0), noise_var=0.05)
    sums = spectral_sums(spec)
    for n, p in itertools.product((2.0, m / 3, 2.0 * m), (5.0, m / 3 + 1, 3.0 * m)):
        nf, ns = np.array([n]), np.array([p])
        t0 = _scaled.ridgeless_log_kappa(sums, np.minimum(nf, ns))
        for log_gh in (-np.inf, -40.0, -5.0, 0.0, 3.0):
            args = (sums, nf, ns, np.array([log_gh]), spec.noise_var, t0)
            lone, lone_warned = _run(_scaled.evaluate, *args)
            batched, batched_warned = _run(_scaled.evaluate_batched, *args)
            assert lone_warned == batched_warned
            for name, value in lone.items():
                np.testing.assert_array_equal(value, batched[name], err_msg=name)


def test_lone_pole_is_inf_with_the_batched_warning():
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=1000, alpha=1.0), noise_var=0.1)
    for n, p in ((100, 100), (2000, 1000)):  # N = P < M; P = M <= N with noise
        with pytest.warns(NumericalWarning, match="pole") as lone_warned:
            lone = theory_loss(spec, n, p, 0.0)
        with pytest.warns(NumericalWarning, match="pole") as batch_warned:
            batch = theory_loss(spec, [n, n], [p, p], 0.0)
        lone_messages = [str(w.message) for w in lone_warned]
        batch_messages = [str(w.message).replace("at 2 point", "at 1 point") for w in batch_warned]
        assert lone_messages == batch_messages
        # both point at the caller's line, not into the package
        assert {w.filename for w in lone_warned} == {w.filename for w in batch_warned} == {__file__}
        assert lone.test_mse.shape == () and np.isinf(lone.test_mse)
        assert np.isinf(batch.test_mse).all()


def test_lone_theory_loss_matches_an_array_call():
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=4096, alpha=1.0), noise_var=0.01)
    n, p, ridge = [64, 512, 4096, 9000], [1024, 512, 300, 9000], [1e-3, 1e-8, 0.0, 1.0]
    batch = theory_loss(spec, n, p, ridge)
    for i in range(len(n)):
        lone = theory_loss(spec, n[i], p[i], ridge[i])
        for name, value in lone.as_dict().items():
            assert value.shape == ()
            assert _relative(value, getattr(batch, name)[i]) <= 1e-12, name


def test_lone_inputs_are_checked_as_before():
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=100, alpha=1.0))
    for bad in (0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="'n_features' must be finite numbers > 0"):
            theory_loss(spec, bad, 10, 0.0)
    with pytest.raises(ValueError, match="'ridge' must be finite numbers >= 0"):
        theory_loss(spec, 10, 10, -1e-3)
    # numpy scalars and 0-d arrays take the general checks, to the same answer
    plain = theory_loss(spec, 10, 20, 1e-3).test_mse
    assert theory_loss(spec, np.float64(10), np.array(20), np.float32(1e-3)).test_mse.shape == ()
    assert theory_loss(spec, np.float64(10), np.array(20.0), 1e-3).test_mse == plain


def test_lone_optimal_ridge_matches_a_batched_one():
    # its Brent search evaluates one point at a time once the others are done
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=4096, alpha=1.0), noise_var=0.01)
    batch = optimal_ridge(spec, [256, 1024], [1024, 8192])
    for i, (n, p) in enumerate(((256, 1024), (1024, 8192))):
        lone = optimal_ridge(spec, n, p)
        assert lone.ridge > 0
        assert _relative(lone.test_mse, batch.test_mse[i]) <= 1e-7  # the search: ~xtol² = 1e-8
