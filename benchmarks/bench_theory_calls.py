"""Lone theory calls and the optimizers built on them, in this tree and (optionally) another.

Times, each in a fresh interpreter per source tree (first call excluded: it builds the spectral
sums, which later calls reuse):

- a lone ``theory_loss(spec, N, P, ridge)`` at scalars (median of 2000 calls), M = 4096 (exact
  sums) and M = 10⁶ (compressed);
- ``optimal_ridge`` at one (N, P) and on a 10 × 10 grid of (N, P);
- ``compute_frontier`` for 8 budgets, ridge optimal at every point.

With ``--baseline-src DIR`` (e.g. ``git worktree add /tmp/old 9bde58b``, or ``git worktree add
--detach /tmp/head HEAD`` for a change not yet committed) the same runs against that tree, side
by side, with ratios, and the largest relative difference of the results.

    .venv/bin/python benchmarks/bench_theory_calls.py --baseline-src /tmp/old/src
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, sys, time, warnings
import numpy as np
warnings.simplefilter("ignore")
from scalinglaws import ModelSpec, Spectrum, compute_frontier, optimal_ridge, theory_loss

def median_time(fn, runs):
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))

out, values = {}, {}
for m in (4096, 1_000_000):
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=m, alpha=1.0))
    out[f"theory_loss lone, M={m}"] = median_time(lambda: theory_loss(spec, 512, 1024, 1e-3), 2000)
    values[f"theory_loss M={m}"] = [float(theory_loss(spec, 512, 1024, 1e-3).test_mse)]
spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=4096, alpha=1.0))
out["optimal_ridge lone"] = median_time(lambda: optimal_ridge(spec, 512, 1024), 100)
values["optimal_ridge lone"] = [float(optimal_ridge(spec, 512, 1024).test_mse)]
grid = np.geomspace(64, 8192, 10)
n_grid, p_grid = grid[:, None], grid[None, :]
out["optimal_ridge 10x10"] = median_time(lambda: optimal_ridge(spec, n_grid, p_grid), 5)
values["optimal_ridge 10x10"] = optimal_ridge(spec, n_grid, p_grid).test_mse.ravel().tolist()
budgets = np.geomspace(1e4, 1e8, 8)
out["compute_frontier 8 budgets"] = median_time(lambda: compute_frontier(spec, budgets), 3)
front = compute_frontier(spec, budgets)
values["compute_frontier 8 budgets"] = np.asarray(front.test_mse).ravel().tolist()
json.dump({"seconds": out, "values": values}, open(sys.argv[1], "w"))
"""


def run(src: Path) -> dict:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        path = fh.name
    env = dict(os.environ, PYTHONPATH=str(src))
    subprocess.run([sys.executable, "-c", CHILD, path], env=env, check=True)
    result = json.load(open(path))
    os.unlink(path)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-src", type=Path, default=None)
    args = parser.parse_args()
    here = run(Path(__file__).resolve().parent.parent / "src")
    other = run(args.baseline_src) if args.baseline_src else None
    head = f"{'median time per call':<32}{'this tree':>12}"
    print(head + (f"{'baseline-src':>14}{'speed-up':>10}" if other else ""))
    for name, sec in here["seconds"].items():
        line = f"{name:<32}{_fmt(sec):>12}"
        if other:
            base = other["seconds"][name]
            line += f"{_fmt(base):>14}{base / sec:9.1f}x"
        print(line)
    if other:
        worst = 0.0
        for name, vals in here["values"].items():
            for a, b in zip(vals, other["values"][name], strict=True):
                if a != b:
                    worst = max(worst, abs(a - b) / max(abs(a), abs(b)))
        print(f"largest relative difference of the results: {worst:.2e}")


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms" if seconds < 1 else f"{seconds:.2f} s"


if __name__ == "__main__":
    main()
