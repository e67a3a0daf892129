"""A fixed set of runs whose numbers must not change when the code is reorganized.

``python tests/helpers/before_after.py OUT.json`` writes every number of every run. The file
``tests/reference/before_after.json`` holds them as computed by the package at commit 9bde58b
(before the trust and architecture issues), with that source tree on ``PYTHONPATH``;
``tests/test_before_after.py`` recomputes them with the code of today and compares.

Only the public API is used, found under the names it had then or has now.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
import warnings

import numpy as np


def _find(name: str, *modules: str):
    for module in modules:
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    raise ImportError(f"{name} not found in {modules}")


def _values(array) -> list:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(array, float).ravel()]


def run() -> dict:
    import scalinglaws as sl

    ModelSpec, Spectrum, Teacher = sl.ModelSpec, sl.Spectrum, sl.Teacher
    simulate, theory_grid = sl.simulate, sl.theory_grid
    one_level = _find("one_level_theory", "scalinglaws.bridges", "scalinglaws.bridges.equivalence")
    two_level = _find("two_level_theory", "scalinglaws.bridges", "scalinglaws.bridges.equivalence")
    make_task = _find("make_task", "scalinglaws.bridges", "scalinglaws.bridges.realdata")
    sim_real = _find("simulate_realdata", "scalinglaws.bridges", "scalinglaws.bridges.realdata")
    theory_real = _find("realdata_theory", "scalinglaws.bridges", "scalinglaws.bridges.realdata")
    out: dict[str, list] = {}

    def spec(m=200, **kw):
        return ModelSpec(spectrum=Spectrum.power_law(latent_dim=m, alpha=1.0), **kw)

    grid = dict(n_features=[20, 90, 300], n_samples=[50, 200], ridges=[0.0, 1e-3, 1.0])
    out["simulate/linear"] = _values(simulate(spec(noise_var=1e-3), **grid, n_seeds=2).excess)
    out["simulate/relu"] = _values(
        simulate(spec(60, activation="relu"), **grid, n_seeds=2, rng=1).excess
    )
    out["simulate/tanh-rf-teacher"] = _values(
        simulate(
            spec(30, activation="tanh", teacher=Teacher.random_features("relu", 60)),
            n_features=[10, 40], n_samples=[30, 80], ridges=[1e-2], n_seeds=1, rng=2,
        ).excess
    )  # fmt: skip
    out["simulate/monte-carlo"] = _values(
        simulate(spec(50, noise_var=0.1), n_features=[10, 40], n_samples=[30, 80],
                 ridges=[1e-3], n_seeds=1, rng=3, loss="monte_carlo", n_test=2000).test_mse
    )  # fmt: skip
    theory = theory_grid(spec(2000, noise_var=1e-4), **grid)
    out["theory/grid"] = _values(theory.test_mse)
    best = sl.optimal_ridge(spec(20_000), [100.0, 1000.0], [1000.0, 1000.0])
    out["theory/optimal"] = _values(np.r_[best.ridge, best.test_mse])
    frontier = sl.compute_frontier(spec(20_000), [1e4, 1e5, 1e6])
    out["theory/frontier"] = _values(np.r_[frontier.n_features, frontier.excess])
    relu = spec(40, activation="relu", teacher=Teacher.random_features("relu", 200))
    small = dict(n_features=[20, 60], n_samples=[50, 150], ridges=[1e-3])
    out["nonlinear/one-level"] = _values(one_level(relu, **small, n_seeds=2).test_mse_mean)
    out["nonlinear/two-level"] = _values(two_level(relu, **small, n_reference=400).test_mse)
    out["study/units"] = _study_values()
    try:
        task = make_task("digits")
    except ImportError:  # the data extra is missing: the real-data runs are skipped
        return out
    real = dict(n_features=[16, 64, 256], n_samples=[100, 400], ridges=[1e-3, 1.0])
    out["realdata/simulate"] = _values(sim_real(task, **real, n_seeds=2).test_mse)
    # the model 9bde58b had (the pool as population); today's default treats it as a sample
    same = {"pool": "population"} if "pool" in inspect.signature(theory_real).parameters else {}
    out["realdata/theory"] = _values(theory_real(task, **real, n_seeds=1, **same).test_mse)
    return out


STUDY = """
[study]
compute = "both"
seed = 3
[grid]
n_features = [16, 64]
n_samples = [32, 128]
ridges = [0.0, 1e-2]
seeds = 2
[[spec]]
name = "linear"
noise_var = 1e-3
spectrum = { kind = "power_law", latent_dim = 100, alpha = 1.0 }
"""


def _study_values() -> list:
    import tempfile
    from pathlib import Path

    load_study = _find("load_study", "scalinglaws.studies", "scalinglaws.studies")
    run_study = _find("run_study", "scalinglaws.studies", "scalinglaws.studies")
    study_frame = _find("study_frame", "scalinglaws.studies", "scalinglaws.studies")
    store_class = _find("ResultStore", "scalinglaws.studies", "scalinglaws.studies")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fixed.toml"
        path.write_text(STUDY)
        study = load_study(path)
        run_study(study, executor="serial")
        with store_class(study.store) as store:
            frame = study_frame(study, store)
    frame = frame.sort_values(["kind", "seed", "n_features", "n_samples", "ridge"])
    return _values(frame.test_mse.to_numpy())


if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run()
    with open(sys.argv[1], "w") as handle:
        json.dump(result, handle, indent=1)
