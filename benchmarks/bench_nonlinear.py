"""Benchmark: the two-level nonlinear theory's Hermite route against its reference-draw route.

For isotropic data (Λ = I_M, where ``route="auto"`` takes the Hermite route) and relu features,
a 10 × 10 grid of (N, P) log-spaced over [M/2, N_max] × [M/2, 16M], one ridge (λ = 1e-3 in Mei
& Montanari's units), at several M and N_max:

- ``two_level_theory(route="hermite")``: the spectrum from the Hermite expansion (degree 2's
  M×M block, no feature draw), then §5 on the grid;
- ``two_level_theory(route="reference")`` with the default N_ref = max(4 N_max, 1000): an
  N_ref × N_ref kernel and its eigendecomposition (cost ∝ N_ref³), run only where its estimate
  stays under a few minutes (``--max-reference``).

Prints seconds for each, their ratio, and the largest relative difference between the two
routes and to the tests' coding of the isotropic limit (tests/isotropic_limit.py). Run:
``.venv/bin/python benchmarks/bench_nonlinear.py [--max-reference 4000]``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from scalinglaws import ModelSpec, Spectrum
from scalinglaws._validation import NumericalWarning
from scalinglaws.bridges.equivalence import default_reference, two_level_theory

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import isotropic_limit as mm  # noqa: E402

CASES = [(200, 2), (200, 4), (400, 2), (200, 8), (400, 8), (1000, 8), (2000, 8)]  # (M, N_max/M)
LAM = 1e-3


def grid(m: int, n_ratio: int):
    nf = np.unique(np.geomspace(m / 2, n_ratio * m, 10).astype(int))
    ns = np.unique(np.geomspace(m / 2, 16 * m, 10).astype(int))
    return nf, ns


def run(spec, nf, ns, route):
    ridge = LAM * nf[:, None] * ns[None, :] / spec.latent_dim  # one γ per cell: γ = λNP/M
    out = np.empty((nf.size, ns.size))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumericalWarning)
        if route == "hermite":  # the spectrum once, every cell's own ridge
            ds = two_level_theory(spec, n_features=nf, n_samples=ns,
                                  ridges=np.unique(ridge), route=route)
        else:
            ds = two_level_theory(spec, n_features=nf, n_samples=ns,
                                  ridges=np.unique(ridge), route=route, allow_slow=True)
    seconds = time.perf_counter() - start
    values, rg = ds.excess.values, ds.ridge.values
    for i in range(nf.size):
        for j in range(ns.size):
            out[i, j] = values[i, j, np.searchsorted(rg, ridge[i, j])]
    return seconds, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-reference", type=int, default=4000,
                        help="largest N_ref to run the reference route at (cost ∝ N_ref³)")
    args = parser.parse_args()
    print(f"{'M':>5} {'N_max':>6} {'hermite s':>10} {'N_ref':>6} {'reference s':>12} "
          f"{'ratio':>7} {'max|h/ref-1|':>13} {'max|h/limit-1|':>15}")
    for m, n_ratio in CASES:
        spec = ModelSpec(spectrum=Spectrum.from_eigenvalues(np.ones(m)), activation="relu")
        nf, ns = grid(m, n_ratio)
        t_h, herm = run(spec, nf, ns, "hermite")
        limit = np.array([[mm.excess(spec.activation, psi1=n / m, psi2=p / m, lam=LAM)
                           for p in ns] for n in nf])
        off_limit = float(np.max(np.abs(herm / limit - 1)))
        n_ref = default_reference(int(nf[-1]))
        if n_ref <= args.max_reference:
            t_r, ref = run(spec, nf, ns, "reference")
            ratio, diff = f"{t_r / t_h:7.1f}", f"{float(np.max(np.abs(herm / ref - 1))):13.3f}"
            ref_s = f"{t_r:12.2f}"
        else:
            ratio, diff, ref_s = f"{'-':>7}", f"{'-':>13}", f"{'(skipped)':>12}"
        print(f"{m:5d} {int(nf[-1]):6d} {t_h:10.2f} {n_ref:6d} {ref_s} {ratio} {diff} "
              f"{off_limit:15.4f}")


if __name__ == "__main__":
    main()
