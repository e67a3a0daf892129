"""BLAS thread counts chosen per stage by problem size (threadpoolctl).

Small products and factorizations run faster on one thread than on several, and on a busy
machine a multithreaded BLAS call on a small matrix can be ten times slower than on one thread
(measured: a 256³ product at 78 GFlop/s on one thread, 14.5 GFlop/s on two beside another
process). The engine therefore computes its fixed-shape tiles with one BLAS thread and leaves
large factorizations (:data:`LARGE`) to the BLAS's own thread count.
"""

from __future__ import annotations

import contextlib
import functools

__all__ = ["LARGE", "current_threads", "single_threaded", "threads_for"]

#: Matrix order from which a factorization keeps the BLAS's own thread count.
LARGE = 1024


@functools.cache
def _controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextlib.contextmanager
def single_threaded():
    """Run the block with one BLAS thread (restored afterwards)."""
    with _controller().limit(limits=1, user_api="blas"):
        yield


def current_threads() -> int:
    """The BLAS thread count in effect now (the largest over the loaded BLAS libraries)."""
    counts = [info["num_threads"] for info in _controller().info() if info["user_api"] == "blas"]
    return max(counts, default=1)


def threads_for(order: int, outer: int):
    """A context for a factorization of ``order``: one thread below :data:`LARGE`, else ``outer``
    (the count in effect where the caller started, e.g. 1 inside a study unit)."""
    return _controller().limit(limits=1 if order < LARGE else outer, user_api="blas")
