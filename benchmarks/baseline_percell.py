"""The plain per-cell baseline: what a user writes without the engine, as a function and a process.

Per cell (N, P) and seed: fresh draws of the teacher w, the projection U, the inputs X and the
labels; explicit features Φ = X Uᵀ; one linear solve per ridge (``numpy.linalg.solve`` on the
primal or dual normal equations; ``lstsq`` for the minimum-norm γ = 0); and the test MSE from
``n_test`` sampled test points. Nothing is shared between cells, ridges or seeds.

As a process (the whole-process benchmarks time it with its interpreter start-up, as they time
``scalinglaws simulate``)::

    python benchmarks/baseline_percell.py -M 4096 --sizes 128,256,512,1024,2048 \\
        --ridges 1e-4,1e-2 --seeds 2 --json out.json
"""

from __future__ import annotations

import argparse
import json

import numpy as np


def baseline(
    eigenvalues: np.ndarray, sizes, ridges, n_seeds: int, n_test: int = 10_000, dtype=np.float64
) -> np.ndarray:
    """Mean test MSE over seeds, shape (len(sizes), len(sizes), len(ridges)) = (N, P, ridge).

    Linear features of the latent model with an isotropic teacher of variance 1 and no label
    noise; ``dtype`` is that of every array (float32 to time the fast, inaccurate mode).
    """
    m = eigenvalues.size
    sqrt_lam = np.sqrt(eigenvalues).astype(dtype)
    out = np.zeros((len(sizes), len(sizes), len(ridges)))
    for seed in range(n_seeds):
        for i, n in enumerate(sizes):
            for j, p in enumerate(sizes):
                rng = np.random.default_rng([seed, i, j])
                w = (rng.standard_normal(m) / np.sqrt(m)).astype(dtype)
                u = (rng.standard_normal((n, m)) / np.sqrt(m)).astype(dtype)
                x = rng.standard_normal((p, m)).astype(dtype) * sqrt_lam
                y = x @ w
                phi = x @ u.T
                x_test = rng.standard_normal((n_test, m)).astype(dtype) * sqrt_lam
                phi_test, y_test = x_test @ u.T, x_test @ w
                for r, gamma in enumerate(ridges):
                    if gamma == 0:
                        theta = np.linalg.lstsq(phi, y, rcond=None)[0]
                    elif n <= p:
                        theta = np.linalg.solve(phi.T @ phi + gamma * np.eye(n, dtype=dtype),
                                                phi.T @ y)  # fmt: skip
                    else:
                        dual = phi @ phi.T + gamma * np.eye(p, dtype=dtype)
                        theta = phi.T @ np.linalg.solve(dual, y)
                    err = phi_test @ theta - y_test
                    out[i, j, r] += float(np.mean(err.astype(np.float64) ** 2)) / n_seeds
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-M", "--latent-dim", type=int, default=4096)
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--sizes", default="128,256,512,1024,2048")
    parser.add_argument("--ridges", default="1e-4,1e-2")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--n-test", type=int, default=10_000)
    parser.add_argument("--json", default=None, help="write the mean test MSE here")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    ridges = [float(r) for r in args.ridges.split(",")]
    lam = np.arange(1, args.latent_dim + 1, dtype=np.float64) ** -(1.0 + args.alpha)
    out = baseline(lam, sizes, ridges, args.seeds, args.n_test)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out.tolist(), fh)


if __name__ == "__main__":
    main()
