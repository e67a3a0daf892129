"""Engine vs a plain per-cell baseline on the same grid; prints times, ratio and GFLOP/s.

Grid (issue 2): N, P in {64, 128, ..., 4096}, M = 8192, alpha = 1, 4 ridges, 4 seeds.

* engine   — ``scalinglaws.simulate``: one nested draw per seed, running Grams, one
             factorization per cell for all ridges, exact test loss without test points;
* baseline — per cell: fresh draws of w, U, X and noise, explicit features, one linear solve per
             ridge (``numpy.linalg.solve``; ``lstsq`` for the min-norm γ = 0), and the test MSE
             from 10 000 sampled test points.

Usage: python benchmarks/bench_engine.py [--quick] [--repeats R] [--baseline-seeds K]
``--quick`` uses N, P up to 1024 and M = 2048 (a smoke run of a few seconds).
Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from baseline_percell import baseline
from scalinglaws import ModelSpec, Spectrum
from scalinglaws.sampling.simulate import StageTimer, simulate


def machine_matmul_gflops(p: int, n: int, m: int, repeats: int = 3) -> float:
    """Best-of-``repeats`` GFLOP/s of a (p × m) @ (m × n) float64 matmul, the features' shape."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((p, m)), rng.standard_normal((n, m))
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b.T
        best = min(best, time.perf_counter() - t)
    return 2.0 * p * n * m / best / 1e9


def stage_flops(sizes: list[int], latent_dim: int, n_ridges: int) -> dict[str, float]:
    """Floating-point operations per seed of the engine's matrix stages (leading terms).

    features: 2·P·N·M; gram: symmetric rank-k updates, P·N² (primal) + P'²·N (dual);
    solve: per P (primal) or N (dual), one Cholesky n³/3 per ridge at the largest nested cell
    (float32 with float64 refinement where well conditioned — counted like float64 flops), and for
    N = P an LU 2n³/3 for γ = 0; the O(n²) per-cell solves and refinements are not counted.
    """
    n_max = p_max = max(sizes)
    flops = {"features": 2.0 * p_max * n_max * latent_dim}
    primal_cols = max(n for n in sizes if n <= p_max)
    dual_rows = max((p for p in sizes if p < n_max), default=0)
    flops["gram"] = 1.0 * p_max * primal_cols**2 + 1.0 * dual_rows**2 * n_max
    solve = 0.0
    positive = n_ridges - 1  # the grid has one γ = 0
    for p in sizes:  # primal cells N ≤ P: one factorization per ridge at the largest N
        top = max(n for n in sizes if n <= p)
        below = max((n for n in sizes if n < p), default=0)
        solve += positive * top**3 / 3.0
        solve += (2.0 * p**3 / 3.0 + below**3 / 3.0) if top == p else top**3 / 3.0
    for n in sizes:  # dual cells P < N: one factorization per ridge at the largest P
        top = max((p for p in sizes if p < n), default=0)
        solve += n_ridges * top**3 / 3.0
    flops["solve"] = solve
    return flops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small grid smoke run")
    parser.add_argument("--repeats", type=int, default=3, help="engine runs (median reported)")
    parser.add_argument(
        "--baseline-seeds",
        type=int,
        default=None,
        help="seeds for the baseline (default: same as the engine)",
    )
    args = parser.parse_args()
    top, m = (1024, 2048) if args.quick else (4096, 8192)
    sizes = [2**k for k in range(6, int(np.log2(top)) + 1)]
    ridges, n_seeds = [0.0, 1e-2, 1.0, 100.0], 4
    base_seeds = args.baseline_seeds or n_seeds
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=m, alpha=1.0))
    print(f"machine: {platform.machine()}, {platform.python_version()}, numpy {np.__version__}")
    print(f"grid: N, P in {sizes}, M = {m}, ridges = {ridges}, seeds = {n_seeds}")

    peak = machine_matmul_gflops(top, top, m)
    runs, totals = [], []
    for _ in range(args.repeats):  # the machine is shared: repeat, report median and minimum
        timer = StageTimer()
        t = time.perf_counter()
        ds = simulate(
            spec, n_features=sizes, n_samples=sizes, ridges=ridges, n_seeds=n_seeds, timer=timer
        )
        totals.append(time.perf_counter() - t)
        runs.append(timer.seconds)
    engine_s = float(np.median(totals))

    print(f"\nmachine matmul ({top}x{m} @ {m}x{top}, float64): {peak:8.1f} GFLOP/s")
    print(
        f"\nengine: {engine_s:8.2f} s total for {n_seeds} seeds (median of {args.repeats} runs; "
        f"min {min(totals):.2f}, max {max(totals):.2f})"
    )
    flops = stage_flops(sizes, m, len(ridges))
    print(
        f"  {'stage':<9}{'median s':>9}{'min s':>8}{'share':>7}{'GFLOP':>9}{'GFLOP/s':>9}"
        f"{'of matmul':>11}"
    )
    stages = sorted(runs[0], key=lambda k: -np.median([r[k] for r in runs]))
    for stage in stages:
        sec = float(np.median([r[stage] for r in runs]))
        best = min(r[stage] for r in runs)
        gf = flops.get(stage, 0.0) * n_seeds / 1e9
        rate = gf / sec if gf else float("nan")
        print(
            f"  {stage:<9}{sec:9.2f}{best:8.2f}{sec / engine_s:7.0%}{gf:9.1f}{rate:9.1f}"
            f"{rate / peak:11.0%}"
        )

    t = time.perf_counter()
    base = baseline(spec.spectrum.eigenvalues, sizes, ridges, base_seeds)
    base_s = time.perf_counter() - t
    base_scaled = base_s * n_seeds / base_seeds
    note = (
        ""
        if base_seeds == n_seeds
        else f" (measured on {base_seeds} seeds, scaled ×{n_seeds / base_seeds:g})"
    )
    print(f"\nbaseline: {base_scaled:8.2f} s for {n_seeds} seeds{note}")
    print(f"speed-up engine vs baseline: {base_scaled / engine_s:6.1f}x")

    eng = ds.test_mse_mean.values
    ok = (
        np.isfinite(eng)
        & np.isfinite(base)
        & (np.abs(ds.n_features.values[:, None] - ds.n_samples.values[None, :]) > 0)[..., None]
    )
    ratio = np.median(base[ok] / eng[ok])
    print(
        f"sanity: median baseline/engine test MSE over off-diagonal cells = {ratio:.3f} "
        "(independent draws; ~1 expected)"
    )


if __name__ == "__main__":
    main()
