"""Independent pieces of the engine's work spread over threads, each calling one-thread BLAS.

A multithreaded BLAS or LAPACK call on a small or medium matrix synchronizes its threads many
times; beside another busy process those barriers wait on descheduled threads, and the grid's
solve stage was measured 20-40 times slower that way (0.5 s quiet, 9-20 s beside a neighbour).
The engine therefore keeps every BLAS call on one thread and runs *independent* calls — tiles of
the features, tiles of a running Gram, the cells of one P, the cells' losses — side by side on a
small pool of Python threads. numpy's products, ufuncs and random generators release the GIL;
SciPy's LAPACK wrappers (``scipy.linalg.lapack``, ``eigh``, ``cho_solve``) do not: measured on 2
cores, one thread each, two ``dpotrf`` of n = 2048 side by side took 0.82-0.95 of the time of two
in a row, two numpy 256³ products 0.53 of it. The solve stage's Cholesky factorizations, its
largest cost, therefore go through :mod:`scalinglaws.sampling._lapack`, which calls the same
LAPACK routine without the GIL (0.64-0.69 of two in a row), and the engine makes each (cell,
independent ridge) its own task so that a cell's ridges factorize side by side. The
triangular solves and matrix-vector products around them still hold the GIL; they cost n² where
a factorization costs n³/3. A descheduled worker only delays its own piece, so a busy neighbour
costs time in proportion to the cores it takes, not to the number of barriers.

Every piece writes its own output and computes it with the same calls in the same order whatever
the number of workers, so results are the same to the last bit with 1 or many workers.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["available_cores", "ordered_imap", "ordered_map"]

T = TypeVar("T")
R = TypeVar("R")

_state = threading.local()
_lock = threading.Lock()
_pools: dict[int, ThreadPoolExecutor] = {}


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the system reports it)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(os.cpu_count() or 1, 1)


def _pool(workers: int) -> ThreadPoolExecutor:
    with _lock:
        pool = _pools.get(workers)
        if pool is None:
            pool = ThreadPoolExecutor(
                max_workers=workers,
                thread_name_prefix="scalinglaws",
                initializer=_mark_worker,
            )
            _pools[workers] = pool
        return pool


def _mark_worker() -> None:
    _state.inside = True


def ordered_imap(fn: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """``fn(x)`` for each item, in order, the calls spread over ``workers`` threads.

    Every call is submitted at once and the results come back in the items' order as they
    finish. Runs inline with one worker, one item, or when called from inside a worker (no
    nesting, so no pool waits on itself). An exception raised by a call is raised here.
    """
    items = list(items)
    if workers <= 1 or len(items) <= 1 or getattr(_state, "inside", False):
        return (fn(x) for x in items)
    return _pool(min(workers, 64)).map(fn, items)


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> list[R]:
    """``[fn(x) for x in items]`` through :func:`ordered_imap`."""
    return list(ordered_imap(fn, items, workers))
