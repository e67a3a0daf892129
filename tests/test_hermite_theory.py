"""The Hermite route of the two-level theory (theory/hermite.py) against §5, the closed forms of
the Hermite coefficients and the tests' own coding of Mei & Montanari's isotropic limit."""

import warnings
from math import factorial

import numpy as np
import pytest

import isotropic_limit as mm
from scalinglaws import ModelSpec, Spectrum, Teacher
from scalinglaws._validation import InputError, NumericalWarning
from scalinglaws.bridges.equivalence import predict_grid, resolve_route, two_level_theory
from scalinglaws.theory import theory_grid
from scalinglaws.theory.hermite import hermite_coefficients, hermite_loss, hermite_spectrum

RATIOS = np.array([0.5, 1.0, 2.0, 4.0, 8.0])
LAMBDAS = np.array([0.0, 1e-3, 1e-1])


def flat(m, **kw):
    return ModelSpec(spectrum=Spectrum.from_eigenvalues(np.ones(m)), **kw)


def test_relu_coefficients_are_the_closed_forms():
    """a_k = He_{k-2}(0)/(sqrt(2 pi) sqrt(k!)) for k >= 2 (integration by parts)."""
    a = hermite_coefficients("relu", 1.0, 8)
    he0 = {0: 1.0, 2: -1.0, 4: 3.0, 6: -15.0}  # He_2m(0) = (-1)^m (2m-1)!!, odd ones vanish
    expected = [1 / np.sqrt(2 * np.pi), 0.5] + [
        he0.get(k - 2, 0.0) / np.sqrt(2 * np.pi * factorial(k)) for k in range(2, 9)
    ]
    # composite Gauss-Legendre with the kink on a panel edge: round-off level
    np.testing.assert_allclose(a, expected, atol=1e-13)


@pytest.mark.parametrize("name", ["erf", "tanh", "relu"])
def test_coefficients_add_up_to_the_second_moment(name):
    from scalinglaws.model.activations import get_activation

    a = hermite_coefficients(name, 2.0, 40)
    # Parseval: Σ a_k² = E σ(√2 G)²; the tail past degree 40 is 3.3e-4 relative for relu
    # (a_k² ~ k^-5/2, measured), far below for the smooth ones
    np.testing.assert_allclose(np.sum(a**2), get_activation(name).second_moment(2.0), rtol=5e-4)


def test_linear_features_reproduce_section5():
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=100, alpha=1.0), noise_var=0.1)
    hs = hermite_spectrum(spec)
    assert hs.white_var == 0 and set(hs.degree) == {1}
    nf, ns, rg = [20.0, 100.0, 300.0], [50.0, 130.0, 400.0], [0.0, 1e-3, 1.0]
    got = hermite_loss(hs, np.array(nf)[:, None, None], np.array(ns)[None, :, None],
                       np.array(rg)[None, None, :], noise_var=0.1)
    exact = theory_grid(spec, n_features=[20, 100, 300], n_samples=[50, 130, 400], ridges=rg)
    # the tilting identity makes degree 1 exact for linear σ: the same §5 sums, round-off only
    np.testing.assert_allclose(got.excess, exact.excess.values, rtol=1e-10)


def test_spectrum_is_deterministic_and_keeps_the_total_power():
    spec = flat(100, activation="tanh")
    one, two = hermite_spectrum(spec), hermite_spectrum(spec)
    np.testing.assert_array_equal(one.eigenvalues, two.eigenvalues)
    total = float(one.eigenvalues @ one.weights) + one.white_var
    # E tanh(h)² at h ~ N(0, |u|²), |u|² ≈ 1 ± 0.14: averaged over 4096 nodes, 0.3 %
    np.testing.assert_allclose(total, spec.activation.second_moment(1.0), rtol=3e-3)


def _isotropic_errors(m, name, noise):
    spec = flat(m, activation=name, noise_var=noise)
    hs = hermite_spectrum(spec)
    r1, r2, lam = np.meshgrid(RATIOS, RATIOS, LAMBDAS, indexing="ij")
    nf, ns = r1 * m, r2 * m
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumericalWarning)  # the ridgeless N = P poles
        got = hermite_loss(hs, nf, ns, lam * nf * ns / m, noise_var=noise).excess
    limit = np.vectorize(
        lambda a, b, c: mm.excess(spec.activation, psi1=a, psi2=b, lam=c, noise=noise)
    )(r1, r2, lam)
    pole = (lam == 0) & (r1 == r2)
    assert np.all(np.isinf(got[pole]))  # the limit's B and V are inf there too
    err = np.abs(got / np.where(pole, 1.0, limit) - 1.0)
    return err[~pole & (r1 != r2)].max(), err[~pole & (r1 == r2)].max()


@pytest.mark.parametrize("m", [200, 400])
@pytest.mark.parametrize("name", ["erf", "tanh"])
@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_matches_the_isotropic_limit(m, name, noise):
    """N/M, P/M in {0.5..8}, λ in {0, 1e-3, 1e-1}: within 2 % off N = P, 5 % on it.

    Measured: at most 0.4 % (M = 200) and 0.12 % (M = 400), the spread of the 4096 weight nodes
    and O(1/M) terms the limit drops."""
    off, on = _isotropic_errors(m, name, noise)
    assert off <= 0.02 and on <= 0.05, (off, on)


@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_relu_approaches_the_isotropic_limit_like_one_over_m(noise):
    """relu has a mean (μ0² = 1/2π) and a large degree-2 part: the features' mean direction and
    the M²/2 degree-2 directions (not yet white at N = 8M) are O(1/M) terms the limit drops.
    Measured: 2.6 % off N = P (6.1 % on it) at M = 200, 1.2 % (3.0 %) at M = 400: within the
    2 % / 5 % from M = 400 on, and the deviation halves as M doubles."""
    off200, on200 = _isotropic_errors(200, "relu", noise)
    off400, on400 = _isotropic_errors(400, "relu", noise)
    assert off400 <= 0.02 and on400 <= 0.05, (off400, on400)
    assert off200 <= 0.03 and on200 <= 0.065, (off200, on200)
    assert 1.6 <= off200 / off400 <= 2.6, (off200, off400)


def test_ridgeless_threshold_is_a_pole_with_a_warning():
    spec = flat(200, activation="relu", noise_var=0.5)
    with pytest.warns(NumericalWarning, match="pole"):
        ds = two_level_theory(spec, n_features=[400], n_samples=[400, 800], ridges=[0.0])
    assert np.isinf(ds.test_mse.values[0, 0, 0]) and np.isfinite(ds.test_mse.values[0, 1, 0])


def test_auto_route_follows_the_effective_rank():
    assert resolve_route(flat(200, activation="relu")) == "hermite"
    power = ModelSpec(spectrum=Spectrum.power_law(latent_dim=200, alpha=1.0), activation="relu")
    assert resolve_route(power) == "sampled"  # effective rank 2.5: the c spread is large
    assert resolve_route(power, "reference") == "reference"
    assert resolve_route(flat(200, activation="relu"), n_reference=1000) == "reference"
    assert resolve_route(power, n_reference=1000) == "reference"
    wide = flat(50, activation="relu", teacher=Teacher.random_features("relu", 100))
    assert resolve_route(wide) == "sampled"
    assert resolve_route(flat(200, teacher=Teacher.random_features("relu", 100))) == "sampled"
    with pytest.raises(InputError, match="^'route' must be 'sampled', 'reference' or 'auto'"):
        resolve_route(wide, "hermite")
    for route in ("hermite", "sampled"):
        with pytest.raises(InputError, match="^'n_reference' applies to the reference route"):
            resolve_route(flat(50, activation="relu"), route, 100)
    with pytest.raises(InputError, match="^'route' must be one of"):
        resolve_route(power, "fast")


def test_predict_grid_defaults_to_the_hermite_route_for_isotropic_data():
    ds = predict_grid(flat(200, activation="erf"), n_features=[100, 800], n_samples=[400],
                      ridges=[1.0])
    assert ds.attrs["level"] == "two" and ds.attrs["route"] == "hermite"
    with pytest.raises(InputError, match="^'route' applies to the two-level theory only"):
        predict_grid(flat(20), n_features=[10], n_samples=[40], route="hermite")


def test_cli_route_hermite_is_the_library_number(capsys):
    import json

    from scalinglaws.cli.main import main

    args = ["theory", "-M", "100", "-a", "1", "--activation", "relu", "-N", "400", "-P", "800",
            "--ridge", "1.6", "--route", "hermite", "--json"]
    assert main(args) == 0
    rec = json.loads(capsys.readouterr().out)[0]
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=100, alpha=1.0), activation="relu")
    expected = two_level_theory(spec, n_features=[400], n_samples=[800], ridges=[1.6],
                                route="hermite").excess.values.item()
    # the CLI only formats the library's number (the spectrum's nodes are fixed): identical
    assert rec["excess"] == pytest.approx(expected, rel=1e-15)
    assert main([*args, "--teacher-activation", "relu", "--teacher-width", "50"]) == 2
    assert "'route' must be 'sampled', 'reference' or 'auto'" in capsys.readouterr().err


def test_cli_route_choices_are_the_library_routes_and_sampled_takes_draws(capsys):
    import json

    from scalinglaws.bridges.equivalence import ROUTES
    from scalinglaws.cli.main import main
    from scalinglaws.cli.theory import theory_command

    route = next(p for p in theory_command.params if p.name == "route")
    assert tuple(route.type.choices) == ROUTES
    args = ["theory", "-M", "20", "-a", "1", "--activation", "erf", "-N", "30", "-P", "60",
            "--ridge", "1e-2", "--route", "sampled", "--draws", "2", "--json"]
    assert main(args) == 0
    rec = json.loads(capsys.readouterr().out)[0]
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=20, alpha=1.0), activation="erf")
    expected = two_level_theory(spec, n_features=[30], n_samples=[60], ridges=[1e-2],
                                n_draws=2).excess.values.item()
    assert rec["excess"] == pytest.approx(expected, rel=1e-15)
    assert main([*args[:-3], "--route", "reference", "--draws", "2"]) == 2
    assert "'n_draws' applies to the sampled route only" in capsys.readouterr().err


@pytest.mark.filterwarnings(  # at c = 1e-200 the teacher sum tf2 ~ 1e400 is honestly inf
    "ignore:The teacher sum tf2 exceeds:scalinglaws._errors.NumericalWarning"
)
@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_relu_route_is_scale_invariant_over_the_float_range(scale):
    """relu is homogeneous: Λ → cΛ, σ_w² → σ_w²/c, γ → cγ leaves the loss unchanged."""
    def loss(c):
        spec = ModelSpec(spectrum=Spectrum.from_eigenvalues(c * np.ones(150)), activation="relu",
                         teacher=Teacher.isotropic(1.0 / c), noise_var=0.1)
        return hermite_loss(hermite_spectrum(spec), [75.0, 300.0], [300.0, 600.0],
                            [0.0, c], noise_var=0.1).excess
    # the nodes are drawn once and scaled; the sums run in scaled units: round-off only
    np.testing.assert_allclose(loss(scale), loss(1.0), rtol=1e-10)


def test_work_beyond_minutes_is_refused_in_one_line():
    spec = flat(3_000_000, activation="relu")
    with pytest.raises(InputError, match=r"^'n_nodes' times 'latent_dim' must be at most .*"
                                         r"4096 x 3000000 instead"):
        hermite_spectrum(spec)
