"""``scalinglaws simulate`` quiet and beside a busy neighbour process that this script starts.

Times the whole-process run of :mod:`bench_process`'s grid (N, P in {128, ..., 2048}, M = 4096,
ridges {1e-4, 1e-2}, 2 seeds) ``--runs`` times on a quiet machine, then starts a neighbour and
times it again while the neighbour runs:

- ``--neighbour simulate`` (default): a second ``scalinglaws simulate`` of the same grid,
  restarted in a loop;
- ``--neighbour loop``: a CPU-bound Python loop (one busy core).

Prints min / median / max of both, and the ratio of the medians (goal: at most 2). With
``--baseline-src DIR`` the same is measured for another checkout's engine, side by side.

    .venv/bin/python benchmarks/bench_contention.py
    .venv/bin/python benchmarks/bench_contention.py --neighbour loop --baseline-src /tmp/old/src
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench_process import SRC, engine_command, fmt, timed

LOOP = "while True:\n    pass\n"


def start_neighbour(kind: str, args) -> subprocess.Popen:
    if kind == "loop":
        command = [sys.executable, "-c", LOOP]
    else:
        run = " ".join(engine_command(args))
        command = ["bash", "-c", f"while true; do {run} > /dev/null 2>&1; done"]
    env = dict(os.environ, PYTHONPATH=str(SRC))
    proc = subprocess.Popen(command, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    time.sleep(2.0)  # let it get going
    return proc


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def measure(args, src: Path) -> tuple[list[float], list[float]]:
    quiet = [timed(engine_command(args), src, None) for _ in range(args.runs)]
    neighbour = start_neighbour(args.neighbour, args)
    try:
        busy = [timed(engine_command(args), src, None) for _ in range(args.runs)]
    finally:
        stop(neighbour)
    return quiet, busy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--neighbour", choices=["simulate", "loop"], default="simulate")
    parser.add_argument("--baseline-src", type=Path, default=None)
    parser.add_argument("--latent-dim", type=int, default=4096)
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")],
                        default=[128, 256, 512, 1024, 2048])  # fmt: skip
    parser.add_argument("--ridges", default="1e-4,1e-2")
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args()
    print(f"grid: N, P in {args.sizes}, M = {args.latent_dim}, ridges {args.ridges}, "
          f"{args.seeds} seeds; {os.cpu_count()} cores; neighbour: {args.neighbour}")  # fmt: skip
    trees = [("this tree", SRC)]
    if args.baseline_src is not None:
        trees.append(("baseline-src", args.baseline_src))
    print(f"{'whole process, s':<30}{'min':>8} {'median':>8} {'max':>8}")
    for name, src in trees:
        quiet, busy = measure(args, src)
        print(f"{name + ', quiet':<30}{fmt(quiet)}")
        print(f"{name + ', beside neighbour':<30}{fmt(busy)}")
        print(f"{'':<30}contended / quiet (medians): "
              f"{statistics.median(busy) / statistics.median(quiet):.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
