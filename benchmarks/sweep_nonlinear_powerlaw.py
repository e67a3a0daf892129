"""Sweep: the two-level theory's routes against simulation on power-law data.

For M (default 50), α ∈ {0.5, 1, 2}, relu/erf/tanh features, a linear isotropic teacher and
σ_ε² = 1e-4, on N ∈ {M/2, 2M, 8M} × P ∈ {2M, 12M, 16M} × γ ∈ {1e-3, 1}: prints, per cell, the
Hermite, reference and sampled routes' excess over the simulated mean (``--seeds`` draws; the
sampled route with its default spread correction and, as ``sampled-gauss``, with the Gaussian
data side), the simulation's relative standard error, and two *ceilings*: the one-level theory
for the very draws of the features and teacher the simulation used, with the Gaussian data side
(``gauss``: no route that maps the features onto Gaussian ones can do better) and with the
spread of the features' quadratic forms from 16384 inputs (``spread``), each over the simulated
excess (the ratio of the paired means ± its standard error). A route counts as
within when it is within max(3 SE, 3 %) of the simulated mean (the acceptance of
docs/nonlinear-theory.md); for the sampled route, whose draws are independent of the
simulation's, SE² = SE_sim² + SE_route². ``--routes`` picks a subset.
Takes many minutes (tanh's kernels use 2-D quadrature). Run (one BLAS thread: on a busy
machine a multithreaded small ``eigh`` can be a hundred times slower):
``OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/sweep_nonlinear_powerlaw.py -M 50``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from scalinglaws import ModelSpec, Spectrum
from scalinglaws._validation import NumericalWarning
from scalinglaws.bridges.equivalence import one_level_theory, two_level_theory
from scalinglaws.sampling.simulate import simulate

#: The routes compared: name -> two_level_theory keywords ("sampled-gauss": the sampled route
#: with the Gaussian data side, as before the spread correction).
ROUTE_ARGS = {
    "hermite": {"route": "hermite"},
    "reference": {"route": "reference"},
    "sampled": {"route": "sampled"},
    "sampled-gauss": {"route": "sampled", "n_inputs": 0},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latent-dim", "-M", type=int, default=50)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--alphas", default="0.5,1,2")
    parser.add_argument("--activations", default="relu,erf,tanh")
    parser.add_argument("--routes", default=",".join(ROUTE_ARGS))
    args = parser.parse_args()
    ROUTES = tuple(args.routes.split(","))  # noqa: N806 - the routes of this run
    m = args.latent_dim
    nf, ns, rg = [m // 2, 2 * m, 8 * m], [2 * m, 12 * m, 16 * m], [1e-3, 1.0]
    print("act alpha N P ridge, each route's excess over the simulated mean, the simulation's "
          "relative SE, the Gaussian and spread ceilings, and the routes within max(3SE, 3%)",
          flush=True)
    totals = dict.fromkeys(ROUTES, 0)
    cells = 0
    for alpha in (float(a) for a in args.alphas.split(",")):
        for name in args.activations.split(","):
            spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=m, alpha=alpha),
                             activation=name, noise_var=1e-4)
            grid = dict(n_features=nf, n_samples=ns, ridges=rg)
            seconds = {}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NumericalWarning)
                start = time.perf_counter()
                sim = simulate(spec, **grid, n_seeds=args.seeds, rng=4)
                seconds["sim"] = time.perf_counter() - start
                start = time.perf_counter()
                one = one_level_theory(spec, **grid, n_seeds=args.seeds, rng=4)
                seconds["one-level"] = time.perf_counter() - start
                start = time.perf_counter()
                spread = one_level_theory(spec, **grid, n_seeds=args.seeds, rng=4, n_inputs=16384)
                seconds["one-level spread"] = time.perf_counter() - start
                ratios, route_sem = {}, None
                for route in ROUTES:
                    start = time.perf_counter()
                    ds = two_level_theory(spec, **grid, **ROUTE_ARGS[route], allow_slow=True)
                    seconds[route] = time.perf_counter() - start
                    ratios[route] = ds.excess.values
                    if route.startswith("sampled"):
                        route_sem = {**(route_sem or {}), route: ds.excess_sem.values}
            mean, sem = sim.excess_mean.values, sim.excess_sem.values
            # The ceiling E[one]/E[sim] as the ratio of the paired means, and its standard error
            # by the ratio estimator: the spread of one − ceiling·sim over the seeds.
            sim_x = sim.excess.values  # (N, P, γ, seed)
            ceilings = {}
            for key, theory in (("gauss", one), ("spread", spread)):
                one_x = theory.excess.values
                ceiling = one_x.mean(axis=-1) / mean
                resid = one_x - ceiling[..., None] * sim_x
                ceilings[key] = ceiling, resid.std(axis=-1, ddof=1) / np.sqrt(args.seeds) / mean
            allowed = {route: np.maximum(3 * sem, 0.03 * mean) for route in ROUTES}
            for route, route_se in (route_sem or {}).items():
                allowed[route] = np.maximum(3 * np.hypot(sem, route_se), 0.03 * mean)
            for idx in np.ndindex(mean.shape):
                i, j, k = idx
                ok = {r: abs(ratios[r][idx] - mean[idx]) <= allowed[r][idx] for r in ROUTES}
                for r in ROUTES:
                    totals[r] += ok[r]
                cells += 1
                line = f"{name:>5} {alpha:5.1f} {nf[i]:5d} {ns[j]:5d} {rg[k]:6.0e} "
                line += " ".join(f"{r} {ratios[r][idx] / mean[idx]:.3f}" for r in ROUTES)
                line += f"  sim SE {sem[idx] / mean[idx]:.3f}"
                for key, (ceiling, ceiling_se) in ceilings.items():
                    line += f"  {key} ceiling {ceiling[idx]:.3f}±{ceiling_se[idx]:.3f}"
                line += "  within: " + " ".join(r for r in ROUTES if ok[r])
                print(line, flush=True)
            print(f"# {name} alpha={alpha:g} seconds: "
                  + ", ".join(f"{key} {value:.1f}" for key, value in seconds.items()), flush=True)
    print("within tolerance: " + ", ".join(f"{r} {totals[r]}/{cells}" for r in ROUTES))


if __name__ == "__main__":
    main()
