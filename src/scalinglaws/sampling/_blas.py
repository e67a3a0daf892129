"""BLAS thread counts (threadpoolctl): the engine's BLAS calls run on one thread.

Small products and factorizations run faster on one thread than on several, and on a busy
machine a multithreaded BLAS call can be ten times slower than on one thread (measured: a 256³
product at 78 GFlop/s on one thread, 14.5 GFlop/s on two beside another process; the grid's
solve stage 0.5 s quiet, 9-20 s beside a neighbour). The engine therefore makes every call on one
thread and takes its parallelism from running independent calls side by side
(:mod:`scalinglaws.sampling._parallel`), as many as the BLAS would have used threads
(:func:`parallel_workers`).
"""

from __future__ import annotations

from .._threads import current_threads, single_threaded
from ._parallel import available_cores

__all__ = ["current_threads", "parallel_workers", "single_threaded"]


def parallel_workers() -> int:
    """Workers for the engine's pool: the BLAS thread count in effect where the caller starts
    (so ``OPENBLAS_NUM_THREADS=1``, ``threadpoolctl`` limits and a study unit's one thread are
    honoured), at most the cores this process may use."""
    return max(1, min(current_threads(), available_cores()))
