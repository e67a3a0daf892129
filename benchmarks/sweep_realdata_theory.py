"""Sweep: the real-data theory against the held-out measurement on every installed dataset.

For each dataset (ReLU features unless ``--activation``), on N from a few dozen to twice the
largest P's neighbourhood, P from 2 % to 90 % of the training pool and γ ∈ {1e-4, 1e-2, 1}, it
runs ``simulate_realdata`` and ``realdata_theory`` with both pool models side by side — ``sample``
(the default: the pool as a sample of the population, the measurement's own features, leave-one-out
on the pool) and ``population`` (the pool taken as the population) — and prints theory/measured
per cell and a summary: the share of cells within 10 % and the worst cells, split into cells near
the interpolation peak (0.5 ≤ N/P ≤ 2 with γ ≤ 1e-2) and the rest.

    .venv/bin/python benchmarks/sweep_realdata_theory.py                 # all installed datasets
    .venv/bin/python benchmarks/sweep_realdata_theory.py --datasets digits --seeds 4
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from scalinglaws._validation import NumericalWarning
from scalinglaws.bridges.realdata import make_task, realdata_theory, simulate_realdata
from scalinglaws.datasets import DatasetUnavailableError

#: (target, rows used, N grid); the pool is the rows less the default held-out set. The token
#: embeddings' class labels are the token ids, one row each, so no held-out row shares a label with
#: the pool: their regression target is the centre coordinate instead.
SETUPS = {
    "digits": ("onehot", None, [64, 256, 1024, 2048]),
    "lfw": ("onehot", None, [32, 128, 512]),
    "fashion-mnist": ("onehot", 5000, [64, 256, 1024, 2048]),
    "image-patches": ("onehot", 20000, [64, 256, 1024]),
    "minilm-tokens": ("center", 5000, [64, 256, 1024, 2048]),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(SETUPS))
    parser.add_argument("--activation", default="relu")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--tolerance", type=float, default=0.10)
    parser.add_argument("--verbose", action="store_true", help="print every cell")
    opts = parser.parse_args()
    ridges = [1e-4, 1e-2, 1.0]
    for name in opts.datasets.split(","):
        target, rows, nf = SETUPS[name]
        try:
            task = make_task(name, target, max_samples=rows)
        except DatasetUnavailableError as exc:
            print(f"{name}: not installed ({exc})")
            continue
        n_total = task.inputs.shape[0]
        probe = simulate_realdata(task, n_features=[8], n_samples=[8], ridges=[1.0], n_seeds=1)
        n_pool = int(probe.attrs["n_pool"])
        ns = sorted({max(int(f * n_pool), 8) for f in (0.02, 0.1, 0.3, 0.6, 0.9)})
        nf = [k for k in nf if k <= 4 * ns[-1]]
        grid = dict(n_features=nf, n_samples=ns, ridges=ridges, activation=opts.activation)
        start = time.perf_counter()
        sim = simulate_realdata(task, **grid, n_seeds=opts.seeds)
        t_sim = time.perf_counter() - start
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NumericalWarning)
            start = time.perf_counter()
            new = realdata_theory(task, **grid, n_seeds=opts.seeds, pool="sample")
            t_new = time.perf_counter() - start
            start = time.perf_counter()
            old = realdata_theory(task, **grid, n_seeds=opts.seeds, pool="population")
            t_old = time.perf_counter() - start
        mean, sem = sim.test_mse_mean.values, sim.test_mse_sem.values
        r_new, r_old = new.test_mse.values / mean, old.test_mse.values / mean
        print(f"\n{task.name}: {n_total} rows, pool {n_pool}, test {sim.attrs['n_test']}, "
              f"{opts.activation}, {opts.seeds} seeds; N={nf}, P={ns}, γ={ridges}; "
              f"measured {t_sim:.1f} s, theory sample {t_new:.1f} s, population {t_old:.1f} s")
        near = np.zeros(mean.shape, dtype=bool)
        for i, j, k in np.ndindex(mean.shape):
            near[i, j, k] = 0.5 <= nf[i] / ns[j] <= 2 and ridges[k] <= 1e-2
            if opts.verbose:
                print(f"  N={nf[i]:5d} P={ns[j]:6d} γ={ridges[k]:.0e} measured={mean[i, j, k]:.4g}"
                      f" (SEM {sem[i, j, k] / mean[i, j, k]:.1%})  sample {r_new[i, j, k]:.3f}"
                      f"  population {r_old[i, j, k]:.3f}")
        for label, mask in (("away from the peak", ~near), ("near the peak", near)):
            if not mask.any():
                continue
            for model, ratio in (("sample", r_new), ("population", r_old)):
                vals = ratio[mask]
                ok = np.abs(vals - 1) <= opts.tolerance
                print(f"  {label:>18}, {model:>10}: {ok.sum():3d}/{vals.size} within "
                      f"{opts.tolerance:.0%}; theory/measured {np.min(vals):.3f}–"
                      f"{np.max(vals):.3f}, median {np.median(vals):.3f}")


if __name__ == "__main__":
    main()
