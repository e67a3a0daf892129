"""BLAS thread limits (threadpoolctl, imported on first use): one controller for the package.

Small BLAS calls (a fit's vector operations, the engine's tiles and factorizations) run faster on
one thread than on several, and on a busy machine a multithreaded small call can be ten times
slower; :func:`single_threaded` is the one place that limits them. threadpoolctl loads lazily so
that the command line starts fast.
"""

from __future__ import annotations

import contextlib
import functools

__all__ = [
    "SMALL_EIGH",
    "blas_controller",
    "current_threads",
    "single_threaded",
    "threads_for_eigh",
]

#: Symmetric eigendecompositions below this side run on one BLAS thread: measured quiet on 2
#: cores, one thread is 0.8x the time of two at n = 200 and 1.4-1.6x at n = 800-3200; on a busy
#: machine a 200x200 call on two threads was seen to take 70x its quiet time.
SMALL_EIGH = 512


@functools.cache
def blas_controller():
    """The package's one :class:`threadpoolctl.ThreadpoolController` (built on first use)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextlib.contextmanager
def single_threaded():
    """Run the block with one BLAS thread (restored afterwards)."""
    with blas_controller().limit(limits=1, user_api="blas"):
        yield


def current_threads() -> int:
    """The BLAS thread count in effect now (the largest over the loaded BLAS libraries)."""
    counts = [info["num_threads"] for info in blas_controller().info()
              if info["user_api"] == "blas"]  # fmt: skip
    return max(counts, default=1)


def threads_for_eigh(n: int):
    """A context for an n×n eigendecomposition: one BLAS thread below :data:`SMALL_EIGH`
    (steady on a busy machine, as fast when quiet), the default above (the large call gains)."""
    return single_threaded() if n < SMALL_EIGH else contextlib.nullcontext()
