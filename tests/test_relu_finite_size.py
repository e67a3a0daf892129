"""relu's distance from the isotropic limit at finite M is the model's, not the theory's.

At M = 200 the Hermite route sits 2-6 % below Mei & Montanari's proportional limit for relu at
N, P >= 4M (tests/test_hermite_theory.py). Simulation at the same finite M sides with the route:
measured with 160 seeds at M = 200 (standard error 0.9 %), route/simulation 1.002, 1.005, 0.997
and limit/simulation 1.067, 1.031, 1.021 at (N/M, P/M, λ) = (8, 8, 1e-3), (4, 8, 1e-3),
(8, 4, 0); with 100 seeds at M = 100 (1.7 %), 0.992, 0.995, 0.981 against 1.124, 1.047, 1.028.
The terms the limit drops (the features' mean direction, degree 2's M²/2 directions that are
not yet white at N = 8M) are real at finite M, and the route keeps them.
"""

import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import isotropic_limit as mm  # noqa: E402
from scalinglaws import ModelSpec, NumericalWarning, Spectrum  # noqa: E402
from scalinglaws.sampling.simulate import simulate  # noqa: E402
from scalinglaws.theory.hermite import hermite_loss, hermite_spectrum  # noqa: E402


def test_simulation_at_finite_m_sides_with_the_hermite_route_not_the_limit():
    m, ratio, lam = 100, 8, 1e-3
    spec = ModelSpec(spectrum=Spectrum.from_eigenvalues(np.ones(m)), activation="relu")
    n = p = ratio * m
    ridge = lam * n * p / m
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumericalWarning)
        sim = simulate(spec, n_features=[n], n_samples=[p], ridges=[ridge], n_seeds=50, rng=7)
    mean, sem = float(sim.excess_mean.squeeze()), float(sim.excess_sem.squeeze())
    route = float(hermite_loss(hermite_spectrum(spec), n, p, ridge).excess)
    limit = mm.excess(spec.activation, psi1=ratio, psi2=ratio, lam=lam)
    # 50 seeds: standard error 2.4 % (the teacher's draw dominates it); measured route/simulation
    # 1.013, limit/simulation 1.148 (6 standard errors)
    assert abs(route - mean) <= 3 * sem, (route / mean, sem / mean)
    assert abs(limit - mean) > 3 * sem, (limit / mean, sem / mean)
