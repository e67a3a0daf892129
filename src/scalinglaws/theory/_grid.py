"""Large evaluations in chunks: progress reports, and a refusal when the estimated time is too long.

The theory costs about 0.1 ms per point (linear theory, compressed sums) and grows with the number
of spectral nodes, so the cost is *measured* on the first chunk, extrapolated to the whole grid,
and the work refused (one line, with the estimate and the parameters to lower) when the estimate
exceeds :data:`MAX_SECONDS`, unless ``allow_slow``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .._validation import InputError

__all__ = ["MAX_SECONDS", "GRID_BYTES_PER_POINT", "run_in_chunks", "format_seconds"]

#: Work estimated to take longer than this (seconds) is refused unless ``allow_slow``.
MAX_SECONDS = 3600.0
#: Bytes held per grid point by a theory grid: 3 inputs and up to 13 outputs, float64.
GRID_BYTES_PER_POINT = 16 * 8
#: Points per chunk after the first, and in the first (the calibration).
CHUNK, FIRST_CHUNK = 8192, 512

Progress = Callable[[int, int], None]


def format_seconds(seconds: float) -> str:
    """``'42 s'``, ``'7.5 min'``, ``'3.2 h'`` or ``'12 days'``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"


def run_in_chunks(
    func: Callable[[int, int], None],
    total: int,
    *,
    what: str,
    parameter: str,
    progress: Progress | None = None,
    allow_slow: bool = False,
    first_chunk: int = FIRST_CHUNK,
    chunk: int = CHUNK,
    unit: str = "points",
) -> None:
    """Call ``func(start, stop)`` over ``range(total)`` in chunks, then ``progress(done, total)``.

    After the first chunk (``first_chunk`` items, then ``chunk`` at a time), the time per item
    measured so far is extrapolated to ``total``; above
    :data:`MAX_SECONDS` an :class:`~scalinglaws._validation.InputError` names the estimate and
    ``parameter`` (unless ``allow_slow``).
    """
    started = time.perf_counter()
    done = 0
    if progress is not None:
        progress(0, total)
    while done < total:
        stop = min(done + (first_chunk if done == 0 else chunk), total)
        func(done, stop)
        first = done == 0
        done = stop
        if progress is not None:
            progress(done, total)
        if first and done < total and not allow_slow:
            per_point = (time.perf_counter() - started) / done
            estimate = per_point * total
            if estimate > MAX_SECONDS:
                raise InputError(
                    f"{what} of {total:,} {unit} would take about {format_seconds(estimate)} "
                    f"(measured {per_point * 1e3:.2g} ms per {unit[:-1]}), more than "
                    f"{format_seconds(MAX_SECONDS)}; lower {parameter}, or allow it with "
                    "allow_slow=True (CLI: --allow-slow)."
                )
