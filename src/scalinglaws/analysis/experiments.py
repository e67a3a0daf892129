r"""Recipes: the standard experiments of the paper, each computed by the package and returned as a
Dataset (simulation and theory side by side, seeded); drawing them is :mod:`scalinglaws.plot`'s.

- :func:`double_descent_scan`: the loss against N at fixed P, ridgeless (the pole at N = P) and at
  the optimal ridge γ*(N, P) (finding iv of Maloney, Roberts & Sully 2022);
- :func:`equiparameterization_scan`: the optimal-ridge loss along budgets N·P = C, smallest at
  N = P (finding iii);
- :func:`linear_vs_relu_scan`: against a wide ReLU teacher, linear features plateau at N = M while
  ReLU features keep improving (finding ii);
- :func:`theory_curves`: the deterministic equivalent on a dense grid beside a simulation.

Dense theory grids avoid the ridgeless pole's exact point, so that a curve is drawn to both sides
of it without a warning about a value nobody asked for.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..bridges.equivalence import one_level_theory
from ..model.spec import ModelSpec
from ..model.spectrum import Spectrum
from ..model.teacher import Teacher
from ..sampling.simulate import simulate
from ..theory import optimal_ridge, theory_loss

__all__ = ["double_descent_scan", "equiparameterization_scan", "linear_vs_relu_scan",
           "theory_curves"]  # fmt: skip


def _off_pole(values: np.ndarray, pole: float) -> np.ndarray:
    """Dense grid values, nudged by 0.1 % where one falls exactly on the pole."""
    return np.where(values == pole, values * 1.001, values)


def double_descent_scan(*, seeds: int = 4, quick: bool = False, rng: int = 0) -> xr.Dataset:
    """Loss against N at P = 400 (M = 2000, α = 1, σ_ε² = 1e-5): ridgeless and at γ*.

    Returns variables ``theory_ridgeless``, ``theory_optimal`` and ``optimal_ridge`` over a dense
    ``n_dense`` axis, and the simulation's ``sim_ridgeless`` and ``sim_optimal`` (seed mean and
    ``*_sem``) over ``n_features``; ``attrs`` hold the setting.

    Examples
    --------
    >>> ds = double_descent_scan(seeds=2, quick=True)
    >>> dict(ds.sizes)
    {'n_dense': 60, 'n_features': 6}
    >>> bool((ds.theory_optimal <= ds.theory_ridgeless).all())  # γ* never does worse than γ = 0
    True
    """
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=2000, alpha=1.0), noise_var=1e-5)
    n_samples = 400
    dense = _off_pole(np.geomspace(20, 4000, 60 if quick else 200), n_samples)
    sim_n = np.array([25, 100, 300, 440, 800, 3200] if quick else
                     [25, 50, 100, 200, 300, 360, 440, 560, 800, 1600, 3200])  # fmt: skip
    ridgeless = theory_loss(spec, dense, n_samples, 0.0).excess
    best = optimal_ridge(spec, dense, n_samples)
    sim0 = simulate(spec, n_features=sim_n, n_samples=n_samples, ridges=0.0, n_seeds=seeds,
                    rng=rng)  # fmt: skip
    opt = [
        simulate(spec, n_features=int(n), n_samples=n_samples, ridges=float(g), n_seeds=seeds,
                 rng=rng)  # fmt: skip
        for n, g in zip(sim_n, optimal_ridge(spec, sim_n, n_samples).ridge, strict=True)
    ]
    return xr.Dataset(
        {
            "theory_ridgeless": ("n_dense", ridgeless),
            "theory_optimal": ("n_dense", best.excess),
            "optimal_ridge": ("n_dense", best.ridge),
            "sim_ridgeless": ("n_features", sim0.excess_mean.values.ravel()),
            "sim_ridgeless_sem": ("n_features", sim0.excess_sem.values.ravel()),
            "sim_optimal": ("n_features", [float(d.excess_mean.squeeze()) for d in opt]),
            "sim_optimal_sem": ("n_features", [float(d.excess_sem.squeeze()) for d in opt]),
        },
        coords={"n_dense": dense, "n_features": sim_n},
        attrs={"n_samples": n_samples, "latent_dim": 2000, "alpha": 1.0, "noise_var": 1e-5,
               "n_seeds": seeds, "spec": spec.to_dict().__repr__()},  # fmt: skip
    )


def equiparameterization_scan(budgets=(1e4, 1e5, 1e6), *, points: int = 41) -> xr.Dataset:
    """Optimal-ridge excess along N·P = C against N/P (M = 2·10⁴, α = 1), per budget.

    Returns ``excess`` and ``ridge`` of dims (budget, ratio) with ``ratio`` = N/P.

    Examples
    --------
    >>> import numpy as np
    >>> ds = equiparameterization_scan([1e4], points=11)
    >>> list(ds.dims)
    ['budget', 'ratio']
    """
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=20_000, alpha=1.0))
    ratio = np.geomspace(1e-2, 1e2, points)
    budget = np.asarray(budgets, dtype=float)
    nf, ns = np.sqrt(budget[:, None] * ratio), np.sqrt(budget[:, None] / ratio)
    best = optimal_ridge(spec, nf, ns)
    return xr.Dataset(
        {"excess": (("budget", "ratio"), best.excess), "ridge": (("budget", "ratio"), best.ridge)},
        coords={"budget": budget, "ratio": ratio},
        attrs={"latent_dim": 20_000, "alpha": 1.0},
    )


def linear_vs_relu_scan(*, seeds: int = 4, quick: bool = False, rng: int = 0) -> xr.Dataset:
    """Excess against N for linear and ReLU features learning a wide ReLU teacher (K = 20 M),
    M = 100, α = 1, P = 16000 (2000 quick), γ = 1e-4: simulation and one-level theory.

    Returns ``sim`` (seed mean), ``sim_sem`` and ``theory`` of dims (activation, n_features).
    """
    latent_dim, n_samples = 100, 2000 if quick else 16_000
    n_features = [25, 100, 400] if quick else [25, 50, 100, 200, 400, 800, 1600]
    teacher = Teacher.random_features("relu", 20 * latent_dim)
    grid = dict(n_features=n_features, n_samples=n_samples, ridges=1e-4)
    rows = {"sim": [], "sim_sem": [], "theory": []}
    for activation in ("linear", "relu"):
        spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=latent_dim, alpha=1.0),
                         teacher=teacher, activation=activation)  # fmt: skip
        sim = simulate(spec, **grid, n_seeds=seeds, rng=rng)
        theory = one_level_theory(spec, **grid, n_seeds=seeds, rng=rng)
        rows["sim"].append(sim.excess_mean.values.ravel())
        rows["sim_sem"].append(sim.excess_sem.values.ravel())
        rows["theory"].append(theory.excess_mean.values.ravel())
    dims = ("activation", "n_features")
    return xr.Dataset(
        {name: (dims, np.array(values)) for name, values in rows.items()},
        coords={"activation": ["linear", "relu"], "n_features": n_features},
        attrs={"latent_dim": latent_dim, "n_samples": n_samples, "ridge": 1e-4,
               "teacher_width": 20 * latent_dim, "n_seeds": seeds},  # fmt: skip
    )


def theory_curves(spec: ModelSpec, ds: xr.Dataset, x: str, points: int = 80) -> xr.Dataset | None:
    """The deterministic equivalent on a dense log grid of ``x`` (``"n_features"`` or
    ``"n_samples"``) at a simulation's values of the other axis and its ridges; None where the
    theory of linear features does not apply."""
    if not (spec.is_linear and spec.teacher.is_linear):
        return None
    other = "n_samples" if x == "n_features" else "n_features"
    others = ds[other].values.astype(float)
    xs = np.geomspace(float(ds[x].min()), float(ds[x].max()), points)
    ridge = ds.ridge.values
    if np.any(ridge == 0):  # ridgeless poles at N = P: keep the dense points off them
        xs = np.where(np.isin(xs, others), xs * 1.001, xs)
    nf = xs[:, None, None] if x == "n_features" else others[None, :, None]
    ns = others[None, :, None] if x == "n_features" else xs[:, None, None]
    res = theory_loss(spec, nf, ns, ridge[None, None, :])
    dims = (x, other, "ridge")
    return xr.Dataset(
        {"excess": (dims, np.asarray(res.excess)), "test_mse": (dims, np.asarray(res.test_mse))},
        coords={x: xs, other: others, "ridge": ridge},
    )
