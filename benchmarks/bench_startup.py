"""Start-up time of the command line as whole processes: ``--help``, ``--version``, an error path.

Each command runs ``--runs`` times in a fresh interpreter (``python -m scalinglaws.cli.main``);
the script prints min / median / max wall time per command. With ``--baseline-src DIR`` (the
``src`` folder of another checkout, e.g. ``git worktree add /tmp/old <rev>``), the same commands
run against that tree too, side by side, with the ratio of medians.

    .venv/bin/python benchmarks/bench_startup.py --runs 15
    git worktree add /tmp/old 9bde58b && \
        .venv/bin/python benchmarks/bench_startup.py --baseline-src /tmp/old/src
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = {
    "--help": ["--help"],
    "--version": ["--version"],
    "simulate --help": ["simulate", "--help"],
    "error path": ["simulate", "-M", "10", "-a", "1", "-N", "0", "-P", "5"],
}


def _time(src: Path, args: list[str], runs: int) -> list[float]:
    env = dict(os.environ, PYTHONPATH=str(src))
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "scalinglaws.cli.main", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        out.append(time.perf_counter() - start)
    return out


def _fmt(values: list[float]) -> str:
    return (
        f"{min(values) * 1e3:7.0f} {statistics.median(values) * 1e3:7.0f} "
        f"{max(values) * 1e3:7.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--baseline-src", type=Path, default=None)
    args = parser.parse_args()
    here = Path(__file__).resolve().parent.parent / "src"
    print(f"{args.runs} runs each; wall time in ms (min median max)")
    header = f"{'command':<18} {'this tree':>23}"
    if args.baseline_src:
        header += f" {'baseline':>23} {'ratio':>7}"
    print(header)
    for name, cmd in COMMANDS.items():
        now = _time(here, cmd, args.runs)
        line = f"{name:<18} {_fmt(now)}"
        if args.baseline_src:
            before = _time(args.baseline_src, cmd, args.runs)
            ratio = statistics.median(before) / statistics.median(now)
            line += f" {_fmt(before)} {ratio:6.1f}x"
        print(line)


if __name__ == "__main__":
    main()
