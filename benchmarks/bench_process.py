"""``scalinglaws simulate`` against the plain per-cell baseline, both as whole processes.

The grid (issue 13): N, P in {128, ..., 2048}, M = 4096, α = 1, ridges {1e-4, 1e-2}, 2 seeds.
Both sides run in fresh interpreters and are timed from launch to exit (start-up, imports, draws,
solves, output): ``python -m scalinglaws.cli.main simulate ... --json`` and
``python benchmarks/baseline_percell.py`` (:mod:`baseline_percell`: fresh draws, explicit
features, one solve per ridge, 10 000 sampled test points per cell). Prints min / median / max
of each, the ratio of medians, and the median ratio of the two test losses over the cells off
the diagonal N = P (independent draws and a sampled test set: about 1, not equal). With
``--baseline-src DIR`` the engine of another checkout runs too (e.g. the tree before a change).

    .venv/bin/python benchmarks/bench_process.py                 # engine x6, baseline x1
    .venv/bin/python benchmarks/bench_process.py --baseline-src /tmp/old/src --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"


def grid_args(args) -> list[str]:
    sizes = ",".join(str(s) for s in args.sizes)
    return ["-M", str(args.latent_dim), "-a", "1", "-N", sizes, "-P", sizes,
            "--ridge", args.ridges, "--seeds", str(args.seeds)]  # fmt: skip


def engine_command(args) -> list[str]:
    return [sys.executable, "-m", "scalinglaws.cli.main", "simulate", *grid_args(args),
            "--json", "--no-progress"]  # fmt: skip


def timed(command: list[str], src: Path | None, stdout_to: str | None) -> float:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    start = time.perf_counter()
    with open(stdout_to or os.devnull, "w") as sink:
        subprocess.run(command, env=env, stdout=sink, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def engine_runs(args, src: Path, runs: int) -> tuple[list[float], np.ndarray]:
    times, values = [], None
    for _ in range(runs):
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
            path = fh.name
        times.append(timed(engine_command(args), src, path))
        values = engine_values(path, args)
        os.unlink(path)
    return times, values


def engine_values(path: str, args) -> np.ndarray:
    """Mean test MSE from ``simulate --json`` as (N, P, ridge)."""
    rows = json.load(open(path))
    sizes, ridges = list(args.sizes), [float(r) for r in args.ridges.split(",")]
    out = np.full((len(sizes), len(sizes), len(ridges)), np.nan)
    for row in rows:
        i, j = sizes.index(int(row["n_features"])), sizes.index(int(row["n_samples"]))
        out[i, j, ridges.index(float(row["ridge"]))] = row["test_mse"]
    return out


def baseline_runs(args, runs: int) -> tuple[list[float], np.ndarray]:
    times, values = [], None
    for _ in range(runs):
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
            path = fh.name
        sizes = ",".join(str(s) for s in args.sizes)
        command = [sys.executable, str(HERE / "baseline_percell.py"), "-M", str(args.latent_dim),
                   "--sizes", sizes, "--ridges", args.ridges, "--seeds", str(args.seeds),
                   "--json", path]  # fmt: skip
        times.append(timed(command, None, None))
        values = np.array(json.load(open(path)))
        os.unlink(path)
    return times, values


def fmt(values: list[float]) -> str:
    return f"{min(values):8.2f} {statistics.median(values):8.2f} {max(values):8.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6, help="engine processes (default 6)")
    parser.add_argument("--baseline-runs", type=int, default=1, help="baseline processes")
    parser.add_argument("--baseline-src", type=Path, default=None,
                        help="also time the engine of this src tree")  # fmt: skip
    parser.add_argument("--latent-dim", type=int, default=4096)
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")],
                        default=[128, 256, 512, 1024, 2048])  # fmt: skip
    parser.add_argument("--ridges", default="1e-4,1e-2")
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args()
    print(f"grid: N, P in {args.sizes}, M = {args.latent_dim}, ridges {args.ridges}, "
          f"{args.seeds} seeds; {os.cpu_count()} cores; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")  # fmt: skip
    print(f"{'whole process, s':<28}{'min':>8} {'median':>8} {'max':>8}")
    # half the engine's runs before the baseline and half after: a VM's speed drifts over
    # minutes, and the engine's few seconds would otherwise sample one moment of it only
    before = (args.runs + 1) // 2
    engine_t, engine_v = engine_runs(args, SRC, before)
    if args.baseline_src is not None:
        other_t, other_v = engine_runs(args, args.baseline_src, before)
    base_t, base_v = baseline_runs(args, args.baseline_runs)
    engine_t += engine_runs(args, SRC, args.runs - before)[0]
    if args.baseline_src is not None:
        other_t += engine_runs(args, args.baseline_src, args.runs - before)[0]
    print(f"{'scalinglaws simulate':<28}{fmt(engine_t)}   ({args.runs} runs, "
          f"{before} before the baseline, {args.runs - before} after)")  # fmt: skip
    if args.baseline_src is not None:
        print(f"{'simulate, baseline-src':<28}{fmt(other_t)}   ({args.runs} runs)")
    print(f"{'plain per-cell baseline':<28}{fmt(base_t)}   ({args.baseline_runs} runs)")
    ratio = statistics.median(base_t) / statistics.median(engine_t)
    print(f"\nratio baseline / engine (medians): {ratio:.1f}x")
    if args.baseline_src is not None:
        print(f"ratio baseline-src / engine (medians): "
              f"{statistics.median(other_t) / statistics.median(engine_t):.2f}x")  # fmt: skip
        diff = np.nanmax(np.abs(other_v - engine_v) / np.abs(other_v))
        print(f"largest relative difference engine vs baseline-src: {diff:.2e}")
    off = np.abs(np.subtract.outer(args.sizes, args.sizes)) > 0
    print(f"median baseline/engine test MSE off N = P: "
          f"{np.median((base_v / engine_v)[off]):.3f} (independent draws: ~1)")  # fmt: skip


if __name__ == "__main__":
    main()
