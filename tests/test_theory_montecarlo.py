"""Theory against a small self-contained Monte-Carlo of linear random-feature ridge regression.

An independent route that needs nothing from the package's sampling side: plain numpy draws
x ~ N(0, Λ), U ~ N(0, σ_u²/M), w ~ N(0, σ_w²/M), fits θ = (ΦᵀΦ + γI)⁻¹Φᵀy (γ = 0: min-norm), and
takes the exact excess (Uᵀθ − w)ᵀΛ(Uᵀθ − w). Criterion of issue 3: the mean over seeds lies
within max(3 standard errors, 5 %) of theory.
"""

import numpy as np
import pytest

from scalinglaws import ModelSpec, Spectrum
from scalinglaws.theory import theory_loss


def _fit_excess(rng, lam, n, p, ridge, noise_var):
    m = lam.size
    u = rng.standard_normal((n, m)) / np.sqrt(m)
    w = rng.standard_normal(m) / np.sqrt(m)
    x = rng.standard_normal((p, m)) * np.sqrt(lam)
    y = x @ w + np.sqrt(noise_var) * rng.standard_normal(p)
    phi = x @ u.T
    if ridge == 0:
        theta = np.linalg.lstsq(phi, y, rcond=None)[0]  # minimum-norm solution
    elif n <= p:
        theta = np.linalg.solve(phi.T @ phi + ridge * np.eye(n), phi.T @ y)
    else:
        theta = phi.T @ np.linalg.solve(phi @ phi.T + ridge * np.eye(p), y)
    diff = u.T @ theta - w
    return diff @ (lam * diff)


# (alpha, M, N, P, normalized ridge γ̃, noise σ_ε², seeds): N<P, N>P, N=P; γ̃ = 0 and > 0;
# label noise; α ∈ {0.5, 1, 2}; N or P beyond M, and both beyond M (the noise floor).
CASES = [
    (1.0, 2000, 100, 400, 0.0, 0.0, 30),
    (1.0, 2000, 400, 100, 0.0, 0.0, 30),
    (1.0, 2000, 200, 200, 1e-4, 0.0, 30),
    (0.5, 2000, 150, 300, 1e-3, 1e-3, 30),
    (2.0, 2000, 300, 150, 1e-5, 1e-5, 30),
    (1.0, 2000, 2400, 200, 0.0, 1e-5, 10),
    (1.0, 2000, 200, 2400, 1e-5, 0.0, 10),
    (1.0, 200, 400, 600, 0.0, 1e-4, 30),
]


@pytest.mark.parametrize(("alpha", "m", "n", "p", "ridge_tilde", "noise_var", "seeds"), CASES)
def test_theory_matches_monte_carlo(alpha, m, n, p, ridge_tilde, noise_var, seeds):
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=m, alpha=alpha), noise_var=noise_var)
    lam = spec.spectrum.eigenvalues
    ridge = ridge_tilde * n * p / m  # γ = γ̃ σ_u² N P / M
    rng = np.random.default_rng([n, p, m, int(alpha * 10)])
    draws = np.array([_fit_excess(rng, lam, n, p, ridge, noise_var) for _ in range(seeds)])
    mean, sem = draws.mean(), draws.std(ddof=1) / np.sqrt(seeds)
    theory = float(theory_loss(spec, n, p, ridge).excess)
    # the deterministic equivalent has O(1/n) finite-size corrections (~1 % here) and the mean has
    # sampling error: the criterion max(3 SE, 5 %)
    assert abs(mean - theory) <= max(3 * sem, 0.05 * theory), (mean, sem, theory)
