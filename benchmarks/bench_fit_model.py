"""Fitting the solvable model to simulated grids: recovery, identifiability, held-out prediction.

1. Recovery (the issue's setting): random-feature ridge regression with M = 2000, alpha in
   {0.5, 1, 2}, N in {50 .. 4000}, P in {64 .. 4000} (7 x 7, no label noise), at each ridge of
   ``--ridges``, ``--seeds`` seeds; fitted per seed with whole seeds resampled
   (``group="seed"``, 1000 resamples). Printed: each estimate, its 95 % interval, whether it
   covers the truth, and the relative error (acceptance: alpha within 5 %, amplitude within
   10 %). A ridge of 1e-2 makes the alpha = 2 grid ridge-limited (gamma M / (N P) above the
   kappa of the power law almost everywhere), where the loss falls as (gamma / N P)^(alpha /
   (1 + alpha)) and alpha is weakly determined; 1e-5 keeps every grid in the power-law regime.
2. Far below M: N, P <= 200 with M = 20000 (100 times below: M should be reported as not
   identified, with the lower bound the data set) and with M = 2000 (10 times below: the
   finite-M corrections, large for alpha = 1, still bound M loosely).
3. Held out: the alpha = 1 grid fitted on its low-compute half (6 N P <= median), the other half
   predicted: RMSE of log L and how many points fall inside the 95 % prediction band, for the
   model and for the Chinchilla form on (N, P).

Run:  .venv/bin/python benchmarks/bench_fit_model.py [--seeds 8] [--ridges 1e-5,1e-2]
      [--parts 1,2,3] [--cache DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

N_GRID = [50, 100, 200, 400, 800, 1600, 4000]
P_GRID = [64, 128, 256, 512, 1024, 2048, 4000]
SMALL = [25, 50, 100, 200]


def simulated(alpha, n_features, n_samples, seeds, cache, *, ridge=1e-2, latent_dim=2000):
    import xarray as xr

    from scalinglaws import ModelSpec, Spectrum, simulate

    name = f"sim_M{latent_dim}_a{alpha:g}_N{max(n_features)}_s{seeds}"
    name += ".nc" if ridge == 1e-2 else f"_r{ridge:g}.nc"
    if cache is not None and (cache / name).exists():
        return xr.open_dataset(cache / name).load()
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=latent_dim, alpha=alpha))
    start = time.perf_counter()
    ds = simulate(spec, n_features=n_features, n_samples=n_samples, ridges=[ridge],
                  n_seeds=seeds, rng=0)  # fmt: skip
    print(f"  simulated alpha = {alpha:g}, M = {latent_dim}, ridge {ridge:g}: "
          f"{time.perf_counter() - start:.0f} s")  # fmt: skip
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        ds.to_netcdf(cache / name)
    return ds


def _fmt(value) -> str:
    return "None" if value is None else f"{value:.4g}"


def show(result, truth: dict) -> None:
    for name in ("alpha", "amplitude", "latent_dim", "noise_var"):
        est, (low, high) = result.params[name], result.ci95[name]
        true = truth.get(name)
        cover = (
            ""
            if true is None or low is None or high is None
            else ("covers" if low <= true <= high else "MISSES")
        )
        err = "" if est is None or not true else f"{100 * (est / true - 1):+.1f} %"
        print(f"    {name:>11} {_fmt(est):>10}  [{_fmt(low)}, {_fmt(high)}]  {cover:>6}  {err}")
    for key in ("latent_dim", "noise_var"):
        if key in result.notes:
            print(f"    note {key}: {result.notes[key]}")


def main() -> None:
    from scalinglaws.analysis.fits import fit

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--ridges", default="1e-5,1e-2", help="Comma-separated ridges of part 1.")
    parser.add_argument("--parts", default="1,2,3", help="Which parts to run (comma-separated).")
    parser.add_argument("--cache", type=Path, default=None, help="Keep the simulations here.")
    args = parser.parse_args()
    ridges = [float(r) for r in args.ridges.split(",")]
    parts = set(args.parts.split(","))
    if "1" in parts:
        for ridge in ridges:
            print(f"1. recovery, M = 2000, N, P spanning 50-4000, ridge {ridge:g}")
            for alpha in (0.5, 1.0, 2.0):
                ds = simulated(alpha, N_GRID, P_GRID, args.seeds, args.cache, ridge=ridge)
                start = time.perf_counter()
                result = fit(ds, form="model", y="test_mse", group="seed")
                print(f"  alpha = {alpha:g}: fit + 1000 resamples in "
                      f"{time.perf_counter() - start:.1f} s")  # fmt: skip
                show(result, {"alpha": alpha, "amplitude": 1.0, "latent_dim": 2000})
                print(
                    f"    allocation: a = {result.allocation.a:.3f}, tokens per parameter "
                    f"{result.allocation.tokens_per_parameter:.3g} ({result.allocation.note})",
                    flush=True,
                )
    if "2" in parts:
        for latent_dim in (20000, 2000):
            print(f"2. N, P <= 200, far below M = {latent_dim}, ridge {ridges[0]:g}")
            ds = simulated(1.0, SMALL, SMALL, args.seeds, args.cache, ridge=ridges[0],
                           latent_dim=latent_dim)  # fmt: skip
            result = fit(ds, form="model", y="test_mse", group="seed", n_bootstrap=300)
            show(result, {"alpha": 1.0, "amplitude": 1.0, "latent_dim": latent_dim})
    if "3" in parts:
        print(f"3. held out: fit the low-compute half of the alpha = 1 grid (ridge {ridges[0]:g}), "
              "predict the rest")  # fmt: skip
        ds = simulated(1.0, N_GRID, P_GRID, args.seeds, args.cache, ridge=ridges[0])
        frame = ds["test_mse"].to_dataframe().reset_index()
        median = float(np.median(6.0 * frame.n_features * frame.n_samples))
        for form, extra in (("model", {}), ("chinchilla", {"x": ("n_features", "n_samples")})):
            result = fit(ds, form=form, y="test_mse", group="seed", heldout_column="compute",
                         heldout_above=median, n_bootstrap=300, **extra)  # fmt: skip
            held = result.heldout
            print(
                f"  {form:>10}: trained on {held.n_train}, predicted {held.n_heldout}: RMSE(log L) "
                f"{held.rmse_log:.3f}, {held.n_inside} inside the 95 % prediction band",
                flush=True,
            )
            if form == "model":
                show(result, {"alpha": 1.0, "amplitude": 1.0, "latent_dim": 2000})


if __name__ == "__main__":
    main()
