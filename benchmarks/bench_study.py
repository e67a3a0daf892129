"""Study runner overhead and scaling: bare engine calls against ``run_study``.

Times one study four ways and prints a table:

* bare engine: ``simulate(spec, ..., seeds=[s], rng=root)`` for every unit, in this process, with
  one BLAS thread (as units run);
* ``serial`` executor through :func:`run_study` (plan, store writes, provenance);
* ``processes`` executor at 1 and at 2 workers (workers started beforehand; start-up printed
  apart).

Every configuration is timed twice and the shorter time kept: on a shared machine noise only
ever adds time.

The per-unit overhead is (runner − bare) / bare; the speed-up is time(1 worker) / time(2 workers).

Run: ``.venv/bin/python benchmarks/bench_study.py [--seeds 12] [--n-max 1024]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from scalinglaws import ModelSpec
from scalinglaws.sampling.simulate import simulate
from scalinglaws.studies import load_study, plan_units, run_study
from scalinglaws.studies.executors import ProcessExecutor, SerialExecutor

STUDY = """
[study]
name = "bench"
seed = 0

[grid]
n_features = {grid}
n_samples = {grid}
ridges = [0.0, 1e-3, 1e-2, 1e-1]
seeds = {seeds}

[[spec]]
name = "linear"
spectrum = {{ kind = "power_law", latent_dim = 1000, alpha = 1.0 }}
"""


def bare(study) -> float:
    """Seconds for the bare engine calls of every unit (one BLAS thread)."""
    start = time.perf_counter()
    with threadpool_limits(limits=1):
        for unit in plan_units(study):
            simulate(
                ModelSpec.from_dict(unit.spec),
                n_features=unit.grid["n_features"],
                n_samples=unit.grid["n_samples"],
                ridges=unit.grid["ridges"],
                seeds=[unit.seed],
                rng=unit.root_seed,
            )
    return time.perf_counter() - start


def runner(study, tmp: Path, name: str, executor) -> float:
    """Seconds for ``run_study`` into a fresh store, on an already started executor."""
    start = time.perf_counter()
    summary = run_study(study, store=tmp / f"{name}.sqlite", executor=executor)
    assert summary.computed == summary.total
    return time.perf_counter() - start


def started_pool(workers: int) -> tuple[ProcessExecutor, float]:
    """A process pool with every worker started and warm; and the seconds that took."""
    start = time.perf_counter()
    pool = ProcessExecutor(workers=workers)
    for future in [pool.submit(time.sleep, 0.2) for _ in range(workers)]:
        future.result()
    return pool, time.perf_counter() - start - 0.2


def _spin(n: int) -> float:
    start = time.perf_counter()
    total = 0
    for i in range(n):
        total += i
    return time.perf_counter() - start


def cpu_parallelism(pool: ProcessExecutor, workers: int) -> float:
    """Speed-up this machine gives ``workers`` pure-Python processes (ideal: ``workers``)."""
    one = pool.submit(_spin, 3_000_000).result()
    start = time.perf_counter()
    for future in [pool.submit(_spin, 3_000_000) for _ in range(workers)]:
        future.result()
    return workers * one / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=12, help="units (one per seed)")
    parser.add_argument("--n-max", type=int, default=1024, help="largest N and P of the grid")
    args = parser.parse_args()
    grid = [n for n in (16, 32, 64, 128, 256, 512, 1024) if n <= args.n_max]
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        path = tmp / "bench.toml"
        path.write_text(STUDY.format(grid=grid, seeds=args.seeds))
        study = load_study(path)
        units = len(plan_units(study))
        bare(study)  # warm-up: imports, caches
        # best of two, alternating, so that drifts of a shared machine hit both alike
        pairs = [(bare(study), runner(study, tmp, f"serial{i}", SerialExecutor())) for i in (0, 1)]
        rows = [("bare engine (1 BLAS thread)", min(p[0] for p in pairs))]
        rows.append(("run_study, serial", min(p[1] for p in pairs)))
        startup = {}
        for workers in (1, 2):
            pool, startup[workers] = started_pool(workers)
            try:
                seconds = min(runner(study, tmp, f"p{workers}_{i}", pool) for i in (0, 1))
                if workers == 2:
                    parallelism = cpu_parallelism(pool, 2)
            finally:
                pool.close()
            rows.append((f"run_study, processes x{workers}", seconds))
    report(rows, units=units, grid=grid, startup=startup, parallelism=parallelism)


def report(rows, *, units: int, grid, startup: dict, parallelism: float) -> None:
    base = rows[0][1]
    times = dict(rows)
    print(f"study: {units} units (one seed each), N = P = {grid}, 4 ridges, M = 1000")
    print(
        f"machine: {os.cpu_count()} CPUs; 2 busy processes run {parallelism:.2f}x as fast as 1 "
        "(the ceiling for the speed-up below)\n"
    )
    print(f"{'run':<32}{'total s':>10}{'s / unit':>11}{'vs bare':>10}")
    for name, seconds in rows:
        print(f"{name:<32}{seconds:>10.3f}{seconds / units:>11.4f}{seconds / base:>10.3f}")
    serial = times["run_study, serial"]
    one, two = times["run_study, processes x1"], times["run_study, processes x2"]
    print()
    print(f"per-unit overhead, serial runner vs bare:       {100 * (serial - base) / base:6.2f} %")
    print(f"per-unit overhead, processes x1 vs bare:        {100 * (one - base) / base:6.2f} %")
    print(f"speed-up, processes 1 -> 2 workers:             {one / two:6.2f} x")
    print(
        f"worker start-up (not in the times above):       {startup[1]:6.2f} s (1 worker), "
        f"{startup[2]:.2f} s (2 workers)"
    )


if __name__ == "__main__":
    main()
