"""Random-feature regression on real data through the grid engine, against another source tree.

Runs ``simulate_realdata`` on a realistic grid (default: Fashion-MNIST, ReLU features, 4 seeds,
N and P in {256 ... 4096}, two ridges) as a whole process in this tree and, with
``--baseline-src DIR``, in that tree too (e.g. ``git worktree add /tmp/old 9bde58b``, the
implementation with its own eigh ridge path), side by side; prints both times, their ratio and
the largest relative difference of the held-out test MSE.

    .venv/bin/python benchmarks/bench_realdata.py --baseline-src /tmp/old/src
    .venv/bin/python benchmarks/bench_realdata.py --dataset digits --n-samples 128,256,512,1024
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CHILD = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
try:
    from scalinglaws.bridges import make_task, simulate_realdata
except ImportError:
    from scalinglaws.realdata import make_task, simulate_realdata
args = json.loads(sys.argv[1])
task = make_task(args.pop("dataset"), max_samples=args.pop("max_samples"))
start = time.perf_counter()
ds = simulate_realdata(task, **args)
wall = time.perf_counter() - start
json.dump({"wall_s": wall, "test_mse": ds.test_mse.values.ravel().tolist()}, open(sys.argv[2], "w"))
"""


def _run(src: Path, args: dict) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        env = dict(os.environ, PYTHONPATH=str(src))
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", CHILD, json.dumps(args), out.name], env=env,
                       check=True)  # fmt: skip
        result = json.loads(Path(out.name).read_text())
        result["process_s"] = time.perf_counter() - start
        return result


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--max-samples", type=int, default=20000)
    parser.add_argument("--n-features", type=_ints, default=[256, 512, 1024, 2048, 4096])
    parser.add_argument("--n-samples", type=_ints, default=[256, 512, 1024, 2048, 4096])
    parser.add_argument("--ridges", type=lambda t: [float(v) for v in t.split(",")],
                        default=[1e-3, 1e-1])  # fmt: skip
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--baseline-src", type=Path, default=None)
    opts = parser.parse_args()
    args = dict(dataset=opts.dataset, max_samples=opts.max_samples, n_features=opts.n_features,
                n_samples=opts.n_samples, ridges=opts.ridges, n_seeds=opts.seeds,
                activation="relu", n_test=opts.n_test)  # fmt: skip
    print(f"{opts.dataset}, relu, N={opts.n_features}, P={opts.n_samples}, ridges={opts.ridges}, "
          f"{opts.seeds} seeds, {opts.n_test} test points")  # fmt: skip
    here = _run(Path(__file__).resolve().parent.parent / "src", args)
    print(f"engine:   {here['wall_s']:7.2f} s in simulate_realdata "
          f"({here['process_s']:.2f} s process)")  # fmt: skip
    if opts.baseline_src is not None:
        base = _run(opts.baseline_src, args)
        print(f"baseline: {base['wall_s']:7.2f} s in simulate_realdata "
              f"({base['process_s']:.2f} s process)")  # fmt: skip
        a, b = np.array(here["test_mse"]), np.array(base["test_mse"])
        print(f"ratio baseline/engine: {base['wall_s'] / here['wall_s']:.2f}x; largest relative "
              f"difference in test MSE: {np.max(np.abs(a - b) / np.abs(b)):.2e}")  # fmt: skip


if __name__ == "__main__":
    main()
