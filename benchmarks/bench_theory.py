"""Benchmark: the vectorized, compressed theory against a plain per-point scalar root-finder.

A 100 × 100 grid of (N, P) at M = 10^6 (power law α = 1, isotropic teacher, γ̃ = 1e-6 fixed):

- ``theory_loss`` (vectorized Chandrupatla in log κ over all points, compressed spectral sums with
  O(log M) nodes) on the whole grid;
- a baseline: ``scipy.optimize.brentq`` per point on the full O(M) numpy sums, timed on a random
  subset of points (it would take minutes on the whole grid).

Prints time per point for both, their ratio (target ≥ 100×) and the largest relative difference
of the test loss on the subset. Run: ``.venv/bin/python benchmarks/bench_theory.py``.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import brentq

from scalinglaws import ModelSpec, Spectrum
from scalinglaws.theory import theory_loss

LATENT_DIM = 1_000_000
GRID = 100
SUBSET = 100
RIDGE_TILDE = 1e-6


def baseline_point(lam: np.ndarray, var: np.ndarray, n: float, p: float, ridge_tilde: float):
    """Scalar route: brentq on the full sums for κ, then the §5 formula."""

    def residual(log_kappa: float) -> float:
        k = np.exp(log_kappa)
        df1 = np.sum(lam / (lam + k))
        return k * (1 - df1 / n) * (1 - df1 / p) - ridge_tilde

    # lower bracket γ̃ may lie below the ridgeless branch: start at the ridgeless κ₀ instead
    small = min(n, p)
    k0 = np.exp(brentq(lambda t: np.sum(lam / (lam + np.exp(t))) - small, -80.0, 5.0, xtol=1e-14))
    lo = np.log(max(k0, ridge_tilde))
    kappa = np.exp(
        brentq(residual, lo, np.log(ridge_tilde + lam.sum() * (1 / n + 1 / p)), xtol=1e-14)
    )
    r = lam / (lam + kappa)
    df1, df2 = r.sum(), (r * r).sum()
    tf1, tf2 = (var * r).sum(), (var * r / (lam + kappa)).sum()
    d = (n - df1) / (n - df2)
    g = (df1 - d * (df1 - df2)) / p
    return (kappa**2 * tf2 * d + kappa * tf1 * (1 - d)) / (1 - g)


def main() -> None:
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=LATENT_DIM, alpha=1.0))
    n = np.geomspace(10, 10**5, GRID)
    p = np.geomspace(10, 10**5, GRID)
    nn, pp = np.meshgrid(n, p, indexing="ij")
    ridge = RIDGE_TILDE * nn * pp / LATENT_DIM

    theory_loss(spec, 100.0, 100.0, 1.0)  # warm-up (imports, node construction)
    start = time.perf_counter()
    res = theory_loss(spec, nn, pp, ridge)
    fast = time.perf_counter() - start

    lam = np.asarray(spec.spectrum.eigenvalues)
    var = spec.teacher_variances()
    rng = np.random.default_rng(0)
    pick = rng.choice(nn.size, size=SUBSET, replace=False)
    start = time.perf_counter()
    slow_values = [baseline_point(lam, var, nn.flat[i], pp.flat[i], RIDGE_TILDE) for i in pick]
    slow = time.perf_counter() - start

    rel = np.max(np.abs(np.array(slow_values) / res.test_mse.flat[pick] - 1))
    per_fast, per_slow = fast / nn.size, slow / SUBSET
    print(f"theory benchmark: M = {LATENT_DIM:.0e}, alpha = 1, gamma~ = {RIDGE_TILDE:g}")
    print(f"{'method':<44}{'points':>8}{'total s':>10}{'per point':>14}")
    print(
        f"{'vectorized + compressed sums (theory_loss)':<44}{nn.size:>8}{fast:>10.3f}"
        f"{per_fast * 1e6:>11.1f} us"
    )
    print(
        f"{'scalar brentq + full O(M) sums':<44}{SUBSET:>8}{slow:>10.3f}{per_slow * 1e6:>11.1f} us"
    )
    print(f"speed-up per point: {per_slow / per_fast:,.0f}x (target >= 100x)")
    print(f"largest relative difference of test_mse on the subset: {rel:.2e}")


if __name__ == "__main__":
    main()
