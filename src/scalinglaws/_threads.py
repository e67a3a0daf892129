"""BLAS thread limits (threadpoolctl, imported on first use): one controller for the package.

Small BLAS calls (a fit's vector operations, the engine's tiles and factorizations) run faster on
one thread than on several, and on a busy machine a multithreaded small call can be ten times
slower; :func:`single_threaded` is the one place that limits them. threadpoolctl loads lazily so
that the command line starts fast.
"""

from __future__ import annotations

import contextlib
import functools

__all__ = ["blas_controller", "current_threads", "single_threaded"]


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
