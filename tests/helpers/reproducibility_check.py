"""Cells alone against the same cells inside larger grids; prints one JSON line.

Run as a script (``python tests/helpers/reproducibility_check.py``) so that the test suite can
repeat it under other BLAS kernels and thread counts (OPENBLAS_CORETYPE, OPENBLAS_NUM_THREADS).
Output: ``{"max_grid_difference": float, "values": {case: [floats of the big grid]}}``, where the
grid difference is the largest |alone - inside| over every compared cell (0.0 means bit-identical).
"""

import json
import warnings

import numpy as np

from scalinglaws import ModelSpec, Spectrum, Teacher
from scalinglaws._validation import NumericalWarning
from scalinglaws.sampling.simulate import simulate

CASES = {
    "linear-noise": (
        dict(latent_dim=120, noise_var=1e-3),
        dict(n_features=[20, 60, 150, 300], n_samples=[50, 100, 150, 270],
             ridges=[0.0, 1e-3, 1.0], n_seeds=2, rng=5),
        [(60, 100), (150, 150), (300, 270), (20, 270)],
    ),
    "relu": (
        dict(latent_dim=60, activation="relu"),
        dict(n_features=[20, 90, 300], n_samples=[45, 130, 280], ridges=[0.0, 0.1],
             n_seeds=2, rng=1),
        [(90, 130), (300, 130), (20, 45)],
    ),
    "tanh-quadrature": (
        dict(latent_dim=20, activation="tanh", teacher=Teacher.random_features("relu", 50)),
        dict(n_features=[10, 40, 100], n_samples=[30, 70], ridges=[1e-2], n_seeds=1, rng=2),
        [(40, 30), (100, 70)],
    ),
    "eigh-route": (
        dict(latent_dim=80, noise_var=0.01),
        dict(n_features=[30, 120, 290], n_samples=[60, 270], ridges=list(np.geomspace(1e-4, 1, 9)),
             n_seeds=1, rng=6),
        [(120, 60), (30, 270), (290, 270)],
    ),
    "monte-carlo": (
        dict(latent_dim=50, noise_var=0.1),
        dict(n_features=[10, 40, 300], n_samples=[30, 80, 260], ridges=[1e-3], n_seeds=2, rng=3,
             loss="monte_carlo", n_test=3000),
        [(40, 80), (300, 260)],
    ),
    "random-feature-teacher": (
        dict(latent_dim=30, activation="relu", teacher=Teacher.random_features("relu", 200)),
        dict(n_features=[20, 70, 280], n_samples=[40, 100, 270], ridges=[1e-3], n_seeds=1,
             rng=4),
        [(70, 100), (280, 270)],
    ),
}


def run() -> dict:
    worst, values = 0.0, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumericalWarning)  # the pole cells are compared too
        for name, (spec_kw, grid, cells) in CASES.items():
            alpha = 1.0
            spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=spec_kw.pop("latent_dim"),
                                                         alpha=alpha), **spec_kw)
            big = simulate(spec, **grid)
            values[name] = big.excess.values.ravel().tolist()
            seeds = big.seed.values
            for n, p in cells:
                for s in seeds:
                    small = dict(grid, n_features=[n], n_samples=[p], n_seeds=None, seeds=[int(s)])
                    small.pop("n_seeds")
                    alone = simulate(spec, **small).excess.sel(n_features=n, n_samples=p).values
                    inside = big.excess.sel(n_features=n, n_samples=p, seed=s).values
                    worst = max(worst, float(np.max(np.abs(alone.ravel() - inside.ravel()))))
    return {"max_grid_difference": worst, "values": values}


if __name__ == "__main__":
    print(json.dumps(run()))
