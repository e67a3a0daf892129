"""The §5 theory over the whole float64 range of λ₊, σ_w², σ_u², σ_ε² and γ (docs/model.md §5).

Two independent routes: a 50-digit :mod:`decimal` evaluation of docs/model.md §5 exactly as written
(κ² tf₂ d + κ tf₁ (1 − d) + σ_ε² g over 1 − g, no scaling tricks; decimal's exponent range makes
1e600 an ordinary number), and the invariances of the model (hypothesis, scale factors from
1e-300 to 1e300). Every numpy floating-point warning is an error here.
"""

from decimal import Decimal, getcontext

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from scalinglaws import ModelSpec, Spectrum, Teacher
from scalinglaws._validation import NumericalWarning
from scalinglaws.theory import local_slopes, optimal_ridge, regime, theory_loss

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

getcontext().prec = 50
M = 60


def _spec(lambda_plus=1.0, teacher_var=1.0, feature_var=1.0, noise_var=0.0, latent_dim=M):
    return ModelSpec(
        spectrum=Spectrum.power_law(latent_dim=latent_dim, alpha=1.0, lambda_plus=lambda_plus),
        teacher=Teacher.isotropic(teacher_var),
        feature_var=feature_var,
        noise_var=noise_var,
    )


def _decimal_excess(spec: ModelSpec, nf: float, ns: float, ridge: float) -> Decimal:
    """docs/model.md §5 verbatim in 50-digit decimals: bisection for κ in log space, then the
    sums."""
    d = Decimal
    lam = [d(spec.spectrum.lambda_plus) * d(i) ** -2 for i in range(1, spec.latent_dim + 1)]
    var = [d(spec.teacher.teacher_var) / spec.latent_dim] * spec.latent_dim
    n, p, m = d(nf), d(ns), spec.latent_dim

    def df1(k):
        return sum(x / (x + k) for x in lam)

    def root(f, lo, hi):  # f increasing; geometric bisection to 1e-45 relative
        for _ in range(400):
            mid = (lo * hi).sqrt()
            lo, hi = (mid, hi) if f(mid) < 0 else (lo, mid)
        return (lo * hi).sqrt()

    small, tr = min(n, p), sum(lam)
    k0 = root(lambda k: small - df1(k), lam[-1] * d("1e-20"), 2 * tr / small) if small < m else 0
    gt = d(ridge) * m / (d(spec.feature_var) * n * p)
    if gt > 0:
        lo = max(k0, gt)
        kappa = root(
            lambda k: k * (1 - df1(k) / n) * (1 - df1(k) / p) - gt, lo, gt + tr / n + tr / p
        )
    else:
        kappa = k0
    r = [x / (x + kappa) for x in lam]
    a = small if gt == 0 and small < m else sum(r)
    b = sum(x * x for x in r)
    t1 = sum(v * x for v, x in zip(var, r, strict=True))
    t2 = sum(v * x / (y + kappa) for v, x, y in zip(var, r, lam, strict=True))
    dd = (n - a) / (n - b)
    g = (a - dd * (a - b)) / p
    return (kappa**2 * t2 * dd + kappa * t1 * (1 - dd) + d(spec.noise_var) * g) / (1 - g)


@pytest.mark.parametrize(
    ("scales", "nf", "ns", "ridge"),
    [
        ({}, 10, 20, 1e200),  # the CLI case: excess was 0.0
        ({"lambda_plus": 1e300}, 10, 20, 0.0),
        ({"teacher_var": 1e308}, 10, 20, 0.0),
        ({"feature_var": 1e-300}, 10, 20, 1.0),
        ({"lambda_plus": 1e-300}, 10, 20, 1e-301),
        ({"lambda_plus": 1e200, "teacher_var": 1e100, "noise_var": 1e250}, 30, 20, 1e150),
        ({"feature_var": 1e300, "noise_var": 1e-300}, 80, 500, 1e-290),  # N, P > M, tiny κ
        ({"teacher_var": 1e-300, "lambda_plus": 1e-5}, 40, 40, 1e-9),  # near the peak
    ],
)
@pytest.mark.filterwarnings(
    "ignore:The teacher sum tf2 exceeds:scalinglaws._errors.NumericalWarning"
)
def test_loss_matches_fifty_digit_section5_at_extreme_scales(scales, nf, ns, ridge):
    spec = _spec(**scales)
    res = theory_loss(spec, nf, ns, ridge)
    expected = float(_decimal_excess(spec, nf, ns, ridge))
    # scales enter through exp/log of up to ~700: ~1e-13 relative; κ solved to ~1e-14
    assert_allclose(res.excess, expected, rtol=1e-12, atol=0)


def test_excess_beyond_float64_is_inf_with_a_warning():
    spec = _spec(lambda_plus=1e300, teacher_var=1e300)  # λ₊σ_w² = 1e600
    with pytest.warns(NumericalWarning, match="exceeds the float64 range"):
        res = theory_loss(spec, 10, 20, 0.0)
    assert np.isinf(res.excess) and np.isfinite(res.kappa)
    # the slopes are taken from the log of the loss, so they exist anyway and equal the base ones
    base, slopes = local_slopes(_spec(), 10, 20), local_slopes(spec, 10, 20)
    # the same centred differences of log L = log(λ₊σ_w²) + ...: at log L ≈ 1381 one rounding
    # is 2.3e-13, over 2h = 2e-3 that is 1e-10 absolute
    assert_allclose(slopes.n_features, base.n_features, rtol=0, atol=1e-9)
    assert_allclose(slopes.n_samples, base.n_samples, rtol=0, atol=1e-9)


def test_kappa_beyond_float64_is_inf_with_a_warning():
    spec = _spec(feature_var=1e-300)
    with pytest.warns(NumericalWarning) as record:
        res = theory_loss(spec, 10, 20, 1e100)  # κ ≈ γ̃ = 5e399
    messages = " ".join(str(w.message) for w in record)
    assert "kappa exceeds the float64 range" in messages
    assert "normalized ridge exceeds the float64 range" in messages
    # the loss is still the γ → ∞ limit Σ w̄² λ = Σ I⁻²/M (corrections O(1/κ))
    assert_allclose(res.excess, np.sum(np.arange(1, M + 1.0) ** -2) / M, rtol=1e-14)
    assert np.isinf(res.kappa)


@settings(max_examples=30, deadline=None)
@given(
    log_c=st.floats(-300, 300),
    nf=st.integers(1, 120),
    ns=st.integers(1, 120),
    log_ridge=st.floats(-4, 3),
    noise=st.sampled_from([0.0, 1e-3]),
)
def test_scaling_spectrum_and_ridge_together_scales_the_loss(log_c, nf, ns, log_ridge, noise):
    # λ₊ → cλ₊, γ → cγ, σ_ε² → cσ_ε²: κ → cκ, so excess/(λ₊σ_w²) and the noise ratio are fixed
    c, ridge = 10.0**log_c, 10.0**log_ridge
    base = theory_loss(_spec(noise_var=noise), nf, ns, ridge).excess
    scaled = theory_loss(_spec(lambda_plus=c, noise_var=noise * c), nf, ns, ridge * c).excess
    # the same scaled-unit computation; c enters through logs of up to 690: 1e-12
    assert_allclose(scaled / c, base, rtol=1e-12, atol=0)


@settings(max_examples=30, deadline=None)
@given(log_s=st.floats(-300, 300), nf=st.integers(1, 120), ns=st.integers(1, 120))
def test_teacher_variance_scales_the_noiseless_excess_linearly(log_s, nf, ns):
    s = 10.0**log_s
    base = theory_loss(_spec(), nf, ns, 1e-2).excess
    scaled = theory_loss(_spec(teacher_var=s), nf, ns, 1e-2).excess
    assert_allclose(scaled / s, base, rtol=1e-12, atol=0)  # log-space scale, as above


@settings(max_examples=30, deadline=None)
@given(log_c=st.floats(-300, 300), nf=st.integers(1, 120), ns=st.integers(1, 120))
def test_feature_variance_and_ridge_enter_only_through_their_ratio(log_c, nf, ns):
    c = 10.0**log_c
    base = theory_loss(_spec(noise_var=1e-4), nf, ns, 0.3)
    scaled = theory_loss(_spec(feature_var=c, noise_var=1e-4), nf, ns, 0.3 * c)
    # γ̃ = γM/(σ_u²NP) is formed in log space: the same κ to ~1e-14
    assert_allclose(scaled.excess, base.excess, rtol=1e-12, atol=0)
    assert_allclose(scaled.kappa, base.kappa, rtol=1e-12, atol=0)


@pytest.mark.parametrize("c", [1e-300, 1e300])
def test_optimal_ridge_and_regime_scale_with_the_spectrum(c):
    base = optimal_ridge(_spec(), [10, 50], [20, 30])
    scaled = optimal_ridge(_spec(lambda_plus=c), [10, 50], [20, 30])
    # the same search in scaled units; a flat optimum moves by ~xtol² = 1e-8 at most
    assert_allclose(scaled.test_mse / c, base.test_mse, rtol=1e-8)
    assert_allclose(scaled.ridge / c, base.ridge, rtol=1e-3)  # γ* only known to xtol = 1e-4
    labels = regime(_spec(), [10, 100], [1000, 100], [0.0, 1e-3])
    assert list(regime(_spec(lambda_plus=c), [10, 100], [1000, 100], [0.0, 1e-3 * c])) == list(
        labels
    )
