"""Sweep: the two-level theory's two routes against simulation on power-law data.

For M (default 50), α ∈ {0.5, 1, 2}, relu/erf/tanh features, a linear isotropic teacher and
σ_ε² = 1e-4, on N ∈ {M/2, 2M, 8M} × P ∈ {2M, 12M, 16M} × γ ∈ {1e-3, 1}: prints, per cell, the
Hermite route's and the reference route's excess over the simulated mean (``--seeds`` draws),
the simulation's relative standard error, and whether each route is within max(3 SE, 3 %)
(the acceptance of docs/nonlinear-theory.md). Takes a few minutes (tanh's simulation uses 2-D
quadrature). Run: ``.venv/bin/python benchmarks/sweep_nonlinear_powerlaw.py [--latent-dim 50]``.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from scalinglaws import ModelSpec, Spectrum
from scalinglaws._validation import NumericalWarning
from scalinglaws.bridges.equivalence import two_level_theory
from scalinglaws.sampling.simulate import simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latent-dim", type=int, default=50)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--alphas", default="0.5,1,2")
    parser.add_argument("--activations", default="relu,erf,tanh")
    args = parser.parse_args()
    m = args.latent_dim
    nf, ns, rg = [m // 2, 2 * m, 8 * m], [2 * m, 12 * m, 16 * m], [1e-3, 1.0]
    print(f"{'act':>5} {'alpha':>5} {'N':>5} {'P':>5} {'ridge':>6} {'hermite':>8} "
          f"{'reference':>9} {'sim SE':>7}  within max(3SE,3%): hermite reference")
    totals = {"hermite": 0, "reference": 0}
    cells = 0
    for alpha in (float(a) for a in args.alphas.split(",")):
        for name in args.activations.split(","):
            spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=m, alpha=alpha),
                             activation=name, noise_var=1e-4)
            grid = dict(n_features=nf, n_samples=ns, ridges=rg)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NumericalWarning)
                sim = simulate(spec, **grid, n_seeds=args.seeds, rng=4)
                herm = two_level_theory(spec, **grid, route="hermite").excess.values
                ref = two_level_theory(spec, **grid, route="reference").excess.values
            mean, sem = sim.excess_mean.values, sim.excess_sem.values
            allowed = np.maximum(3 * sem, 0.03 * mean)
            for idx in np.ndindex(mean.shape):
                i, j, k = idx
                ok_h = abs(herm[idx] - mean[idx]) <= allowed[idx]
                ok_r = abs(ref[idx] - mean[idx]) <= allowed[idx]
                totals["hermite"] += ok_h
                totals["reference"] += ok_r
                cells += 1
                print(f"{name:>5} {alpha:5.1f} {nf[i]:5d} {ns[j]:5d} {rg[k]:6.0e} "
                      f"{herm[idx] / mean[idx]:8.3f} {ref[idx] / mean[idx]:9.3f} "
                      f"{sem[idx] / mean[idx]:7.3f}  {'yes' if ok_h else 'NO':>7} "
                      f"{'yes' if ok_r else 'NO':>9}")
    print(f"within tolerance: hermite {totals['hermite']}/{cells}, "
          f"reference {totals['reference']}/{cells}")


if __name__ == "__main__":
    main()
