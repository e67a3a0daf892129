"""Ridge solvers against independent routes: normal equations, pinv, SVD, primal = dual."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scalinglaws.sampling.ridge as ridge_mod
from scalinglaws._validation import InputError
from scalinglaws.sampling.ridge import fit_ridge, min_norm_solve, solve_gram, solve_ridge, svd_ridge

RIDGES = np.array([0.0, 1e-3, 1e-1, 1.0, 10.0])


def power_law_features(rng, n_samples, n_features, exponent=1.0):
    """Gaussian features with a decaying column scale, as random features of power-law data."""
    scale = np.arange(1, n_features + 1) ** (-exponent / 2)
    return rng.standard_normal((n_samples, n_features)) * scale


@pytest.mark.parametrize("shape", [(60, 20), (20, 60), (40, 40)])
def test_ridge_primal_satisfies_normal_equations(shape):
    rng = np.random.default_rng(0)
    phi = power_law_features(rng, *shape)
    y = rng.standard_normal(shape[0])
    theta = fit_ridge(phi, y, RIDGES[1:])
    for k, gamma in enumerate(RIDGES[1:]):
        lhs = (phi.T @ phi + gamma * np.eye(shape[1])) @ theta[:, k]
        # Residual of a backward-stable solve: a few eps times ||A|| ||θ||, hence 1e-10 relative.
        np.testing.assert_allclose(lhs, phi.T @ y, rtol=0, atol=1e-10 * np.abs(phi.T @ y).max())


@pytest.mark.parametrize("shape", [(20, 60), (5, 200)])
def test_ridge_dual_equals_primal_formula(shape):
    rng = np.random.default_rng(1)
    phi = power_law_features(rng, *shape)
    y = rng.standard_normal(shape[0])
    theta = fit_ridge(phi, y, RIDGES[1:])  # N > P: solved through the dual Gram
    for k, gamma in enumerate(RIDGES[1:]):
        primal = np.linalg.solve(phi.T @ phi + gamma * np.eye(shape[1]), phi.T @ y)
        # The two formulas are algebraically equal; the primal N×N system has condition
        # (s_max + γ)/γ ≤ 1e5 here, so agreement to 1e-9 relative is the expected round-off.
        np.testing.assert_allclose(theta[:, k], primal, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("shape", [(60, 20), (20, 60), (40, 40), (41, 40), (39, 40)])
def test_ridge_min_norm_matches_pinv(shape):
    rng = np.random.default_rng(2)
    phi = power_law_features(rng, *shape, exponent=2.0)
    y = rng.standard_normal(shape[0])
    theta = fit_ridge(phi, y, [0.0])[:, 0]
    expected = np.linalg.pinv(phi) @ y
    # pinv is SVD-based (independent of the Gram/LU/QR routes); near N = P the problem has
    # condition ~1e5, so the two agree to about 1e-16 * 1e5 — 1e-8 leaves a safe margin.
    np.testing.assert_allclose(theta, expected, rtol=1e-8, atol=1e-10 * np.abs(expected).max())


def test_ridge_min_norm_rank_deficient_equals_pinv():
    rng = np.random.default_rng(3)
    base = rng.standard_normal((80, 10))
    phi = base @ rng.standard_normal((10, 30))  # rank 10 < min(80, 30)
    y = rng.standard_normal(80)
    theta = fit_ridge(phi, y, [0.0])[:, 0]
    expected = np.linalg.pinv(phi) @ y
    # Rank 10 with well-separated singular values: both routes cut the null space exactly.
    np.testing.assert_allclose(theta, expected, rtol=1e-8, atol=1e-10)


def test_ridge_stable_at_interpolation_threshold():
    """At N = P with power-law columns the Gram has condition ~1e16: the solver must not use it."""
    rng = np.random.default_rng(4)
    n = 300
    phi = power_law_features(rng, n, n, exponent=3.0)
    y = rng.standard_normal(n)
    theta = fit_ridge(phi, y, [0.0, 1e-12])
    reference = svd_ridge(phi, y, [0.0, 1e-12])
    # LU / SVD routes on Φ itself are backward stable: relative agreement ~ eps * cond(Φ) ≈ 1e-8.
    np.testing.assert_allclose(theta, reference, rtol=1e-6, atol=1e-9 * np.abs(reference).max())
    assert np.all(np.isfinite(theta))


def test_ridge_eigh_path_equals_cholesky_path(monkeypatch):
    rng = np.random.default_rng(5)
    phi = power_law_features(rng, 50, 30)
    y = rng.standard_normal(50)
    ridges = np.geomspace(1e-4, 10, 9)
    monkeypatch.setattr(ridge_mod, "EIGH_MIN_RIDGES", 10**6)
    by_cholesky = fit_ridge(phi, y, ridges)
    monkeypatch.setattr(ridge_mod, "EIGH_MIN_RIDGES", 1)
    by_eigh = fit_ridge(phi, y, ridges)
    # Two factorizations of the same SPD systems (condition ≤ 1e6): 1e-9 relative.
    np.testing.assert_allclose(by_eigh, by_cholesky, rtol=1e-9, atol=1e-12)


def test_min_norm_solve_square_full_rank_is_exact_solution():
    rng = np.random.default_rng(6)
    phi = rng.standard_normal((30, 30))
    y = rng.standard_normal(30)
    theta = min_norm_solve(phi, y)
    # A square well-conditioned system: the interpolation residual is round-off.
    np.testing.assert_allclose(phi @ theta, y, rtol=0, atol=1e-11)


@settings(max_examples=25, deadline=None)
@given(
    n_samples=st.integers(2, 30),
    n_features=st.integers(2, 30),
    gamma=st.floats(1e-3, 1e2),
    seed=st.integers(0, 2**16),
)
def test_ridge_primal_equals_dual_property(n_samples, n_features, gamma, seed):
    rng = np.random.default_rng(seed)
    phi = rng.standard_normal((n_samples, n_features))
    y = rng.standard_normal(n_samples)
    theta = fit_ridge(phi, y, [gamma])[:, 0]
    primal = np.linalg.solve(phi.T @ phi + gamma * np.eye(n_features), phi.T @ y)
    dual = phi.T @ np.linalg.solve(phi @ phi.T + gamma * np.eye(n_samples), y)
    # Condition ≤ (30·30·4 + γ)/γ ≲ 1e7 for γ ≥ 1e-3: 1e-7 relative is a safe round-off bound.
    scale = np.abs(primal).max() + 1e-300
    np.testing.assert_allclose(theta, primal, rtol=1e-7, atol=1e-9 * scale)
    np.testing.assert_allclose(primal, dual, rtol=1e-7, atol=1e-9 * scale)


def test_fit_ridge_rejects_negative_ridge_and_bad_shapes():
    phi, y = np.ones((3, 2)), np.ones(3)
    with pytest.raises(InputError, match="'ridges' must be"):
        fit_ridge(phi, y, [-1.0])
    with pytest.raises(InputError, match="'features' must have shape"):
        fit_ridge(phi, np.ones(4), [0.0])


def test_mixed_precision_path_is_double_accurate():
    """float32 Cholesky + float64 refinement (LAPACK dsposv's method) vs a float64 solve."""
    rng = np.random.default_rng(8)
    phi = power_law_features(rng, 600, 300)
    gram, rhs = phi.T @ phi, rng.standard_normal(300)
    gamma = np.trace(gram) * 1e-5  # condition bound 1e5: inside the mixed-precision range
    sol = solve_gram(gram, rhs, np.array([gamma]))
    assert sol.routes == ("cholesky-mixed",)
    direct = np.linalg.solve(gram + gamma * np.eye(300), rhs)
    # Refinement stops at backward error sqrt(n)·eps·(tr G + γ); the forward error is then at
    # most cond ≤ 1e5 times that, i.e. ~1e-9 relative — far below single precision (1e-7).
    mixed = sol.solutions[:, 0, 0]
    np.testing.assert_allclose(mixed, direct, rtol=1e-9, atol=1e-9 * np.abs(direct).max())


def test_mixed_precision_declines_ill_conditioned_systems():
    rng = np.random.default_rng(9)
    q, _ = np.linalg.qr(rng.standard_normal((200, 200)))
    gram = (q * np.geomspace(1.0, 1e-12, 200)) @ q.T
    # cond 1e12 ≫ 1/eps32: the float32 factor is useless; the solver must not take that route.
    sol = solve_gram(gram, rng.standard_normal(200), np.array([1e-13]))
    assert sol.routes[0] != "cholesky-mixed"


def test_ridge_many_targets_equal_one_target_at_a_time():
    rng = np.random.default_rng(10)
    phi = power_law_features(rng, 50, 20)
    targets = rng.standard_normal((50, 3))
    both = fit_ridge(phi, targets, [0.0, 1e-2])
    for c in range(3):
        one = fit_ridge(phi, targets[:, c], [0.0, 1e-2])
        # Same systems, one right-hand side at a time: only BLAS blocking differs.
        np.testing.assert_allclose(both[:, c, :], one, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("shape", [(30, 30), (20, 40)])
def test_solve_ridge_reports_the_route_of_each_ridge(shape):
    rng = np.random.default_rng(11)
    phi, y = power_law_features(rng, *shape, exponent=3.0), rng.standard_normal(shape[0])
    fit = solve_ridge(phi, y, [0.0, 1.0])
    # γ = 0 on a square Φ never goes through the Gram (its condition is cond(Φ)²).
    expected = "min-norm-lu" if shape[0] == shape[1] else "cholesky"
    assert fit.routes[0] == expected and fit.routes[1] in ("cholesky", "cholesky-mixed")
    assert set(fit.routes) <= set(ridge_mod.ROUTES)


@pytest.mark.parametrize("shape", [(60, 20), (20, 60), (40, 40)])
@pytest.mark.parametrize("gamma", [1e-10, 1e-3, 1.0])
def test_augmented_qr_route_matches_svd_reference(shape, gamma):
    from scalinglaws.sampling.ridge import augmented_ridge

    rng = np.random.default_rng(12)
    phi = power_law_features(rng, *shape, exponent=3.0)
    y = rng.standard_normal((shape[0], 2))
    reference = svd_ridge(phi, y, [gamma])[:, :, 0]
    # Both are backward stable in Φ (condition √cond(G + γI) ≤ ~1e7 here): 1e-8 relative.
    np.testing.assert_allclose(augmented_ridge(phi, y, gamma), reference, rtol=1e-8,
                               atol=1e-8 * np.abs(reference).max())


def rotated_features(rng, n_samples, n_features, smallest):
    """Φ = A diag(s) Bᵀ with random orthogonal A, B and s log-spaced from 1 to ``smallest``: an
    ill-conditioning no diagonal scaling of the columns removes."""
    a, _ = np.linalg.qr(rng.standard_normal((n_samples, n_samples)))
    b, _ = np.linalg.qr(rng.standard_normal((n_features, n_features)))
    k = min(n_samples, n_features)
    return (a[:, :k] * np.logspace(0, np.log10(smallest), k)) @ b[:, :k].T


@pytest.mark.parametrize(
    "make",
    [
        lambda rng: power_law_features(rng, 80, 80, exponent=4.0),  # cond(G + γI) ~ 6e12
        lambda rng: rotated_features(rng, 80, 80, 1e-6),  # primal, cond(G + γI) ~ 5e11
        lambda rng: rotated_features(rng, 40, 80, 1e-6),  # dual (P < N), the same
    ],
)
def test_ridge_beyond_the_gram_is_refined_with_residuals_from_phi(make):
    from scalinglaws.sampling.ridge import augmented_ridge

    rng = np.random.default_rng(13)
    phi = make(rng)
    y = rng.standard_normal(phi.shape[0])
    fit = solve_ridge(phi, y, [1e-12])
    assert fit.routes == ("cholesky-refined",)
    reference = svd_ridge(phi, y, [1e-12])[:, 0]
    scale = np.abs(reference).max()
    # measured: within 1.3e-11 of the SVD, as close as augmented QR (1.2e-11; the Gram alone is
    # off by up to 1e-9 where it still passes its condition check); 1e-10 relative to the largest
    # component of the solution
    assert np.abs(fit.readouts[:, 0, 0] - reference).max() <= 1e-10 * scale
    qr = augmented_ridge(phi, y[:, None], 1e-12)[:, 0]
    assert np.abs(fit.readouts[:, 0, 0] - qr).max() <= 1e-10 * scale


def test_ridge_where_refinement_does_not_converge_goes_through_augmented_qr():
    from scalinglaws.sampling.ridge import augmented_ridge

    rng = np.random.default_rng(3)
    phi = rotated_features(rng, 80, 80, 1e-8)  # cond(G + γI) ~ 1e12 with a rotated spectrum
    y = rng.standard_normal(80)
    fit = solve_ridge(phi, y, [1e-12])
    assert fit.routes == ("qr-augmented",)
    qr = augmented_ridge(phi, y[:, None], 1e-12)[:, 0]
    np.testing.assert_array_equal(fit.readouts[:, 0, 0], qr)


def test_refinement_gives_up_with_a_factor_of_another_system():
    from scalinglaws.sampling.stable import refined_ridge

    rng = np.random.default_rng(4)
    phi = power_law_features(rng, 50, 30, exponent=2.0)
    y = rng.standard_normal((50, 1))
    gram = phi.T @ phi
    wrong = np.linalg.cholesky(gram + 10.0 * np.eye(30)).T  # a preconditioner, not the factor
    assert refined_ridge(phi, y, 1e-3, wrong, dual=False) is None
    right = np.linalg.cholesky(gram + 1e-3 * np.eye(30)).T
    theta = refined_ridge(phi, y, 1e-3, right, dual=False)
    np.testing.assert_allclose(theta[:, 0], svd_ridge(phi, y[:, 0], [1e-3])[:, 0], rtol=1e-12)


@pytest.mark.parametrize(
    "ridges",
    [np.array([0.0, 1e-3, 1e-1]), np.array([1e-1, 0.0, *np.geomspace(1e-4, 10.0, 8)])],
    ids=["cholesky", "eigh"],
)
def test_each_independent_ridge_group_solved_alone_gives_the_same_bits(ridges):
    """The engine solves the groups of independent_ridges as separate tasks: no number moves."""
    rng = np.random.default_rng(12)
    phi = power_law_features(rng, 80, 60)
    gram, rhs = phi.T @ phi, phi.T @ rng.standard_normal(80)
    together = solve_gram(gram, rhs, ridges)
    groups = ridge_mod.independent_ridges(ridges)
    assert sorted(np.concatenate(groups).tolist()) == list(range(ridges.size))
    for group in groups:
        alone = solve_gram(gram, rhs, ridges[group])
        np.testing.assert_array_equal(alone.solutions, together.solutions[:, :, group])
        assert alone.routes == tuple(together.routes[i] for i in group)
    assert ("eigh" in together.routes) == (len(groups) < ridges.size)


def test_one_column_refinement_agrees_with_the_block_kernels():
    """One target column refines with dsymv/strsv, several with dsymm/spotrs: same accuracy.

    Both stop at backward error sqrt(n)·eps·(tr G + γ) with cond ≤ 1e5, so each is within
    ~1e-10 relative of the float64 solution, and so of each other.
    """
    rng = np.random.default_rng(13)
    phi = power_law_features(rng, 500, 250)
    gram, rhs = phi.T @ phi, rng.standard_normal((250, 2))
    gamma = np.trace(gram) * 1e-5
    block = solve_gram(gram, rhs, np.array([gamma]))
    direct = np.linalg.solve(gram + gamma * np.eye(250), rhs)
    for c in range(2):
        column = solve_gram(gram, rhs[:, c], np.array([gamma]))
        assert block.routes == column.routes == ("cholesky-mixed",)
        scale = np.abs(direct[:, c]).max()
        np.testing.assert_allclose(column.solutions[:, 0, 0], direct[:, c], atol=1e-9 * scale)
        np.testing.assert_allclose(block.solutions[:, c, 0], direct[:, c], atol=1e-9 * scale)
