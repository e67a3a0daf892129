"""Where work units run: in this process, in local worker processes, or on a Dask cluster.

Every executor has the same small interface — ``submit(fn, arg)`` returns a future,
``wait_first(futures)`` returns the finished ones, ``capacity`` says how many units run at once,
``close()`` releases the workers — and none changes a number: a unit's result depends only on the
unit.

* ``serial``: in this process, one unit at a time, with the BLAS threads as configured.
* ``processes`` (default): a :class:`concurrent.futures.ProcessPoolExecutor` of ``workers``
  processes started with ``forkserver`` (``spawn`` where unavailable), each limited to one BLAS
  thread (``OMP/OPENBLAS/MKL_NUM_THREADS=1`` and :mod:`threadpoolctl`) and ignoring SIGINT, so a
  Ctrl-C lets the units in flight finish.
* ``dask``: a :class:`distributed.Client` to the scheduler at ``address`` (for example one started
  by dask-jobqueue on Slurm/PBS), or to a new :class:`distributed.LocalCluster` of ``workers``
  processes when no address is given.

Whatever the executor, :func:`~scalinglaws.sweep.units.run_unit` computes each unit with one BLAS
thread, so that the numbers are bit-identical everywhere.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import signal
from collections.abc import Callable

from .._validation import InputError, check_choice, check_positive_int

__all__ = ["EXECUTORS", "SerialExecutor", "ProcessExecutor", "DaskExecutor", "make_executor"]

#: Executor names accepted by :func:`make_executor` and ``study run --executor``.
EXECUTORS = ("serial", "processes", "dask")

_BLAS_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_LIMITS = []  # keeps the worker's threadpoolctl limit alive for the life of the process


def make_executor(name: str, *, workers: int | None = None, address: str | None = None):
    """The executor called ``name`` with ``workers`` workers (default: the CPU count)."""
    name = check_choice("executor", name, EXECUTORS)
    if workers is not None:
        workers = check_positive_int("workers", workers)
    if name == "serial":
        return SerialExecutor()
    if name == "processes":
        return ProcessExecutor(workers=workers or os.cpu_count() or 1)
    return DaskExecutor(address=address, workers=workers)


class SerialExecutor:
    """Runs each unit in this process as it is submitted."""

    capacity = 1

    def submit(self, fn: Callable, arg) -> cf.Future:
        """Run ``fn(arg)`` now; return a finished future."""
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(arg))
        except BaseException as err:  # noqa: BLE001 - handed to the caller through the future
            if isinstance(err, KeyboardInterrupt):
                raise
            future.set_exception(err)
        return future

    def wait_first(self, futures) -> set:
        """All submitted futures are finished already."""
        return set(futures)

    def close(self) -> None:
        """Nothing to release."""


def _init_worker() -> None:
    """Worker start: one BLAS thread, the engine imported, SIGINT left to the parent."""
    for name in _BLAS_VARIABLES:
        os.environ[name] = "1"
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from threadpoolctl import threadpool_limits

    _LIMITS.append(threadpool_limits(limits=1))
    _warm_up()


def _warm_up() -> None:
    """Run a tiny grid once, so that a worker's first unit does not pay for lazy imports (xarray's
    array backends, LAPACK wrappers: ~0.4 s) — that cost would otherwise land on the first unit."""
    from ..simulation import simulate
    from ..spec import ModelSpec
    from ..spectrum import Spectrum

    simulate(
        ModelSpec(spectrum=Spectrum.power_law(latent_dim=4, alpha=1.0)),
        n_features=[2, 3],
        n_samples=[2, 3],
        ridges=[0.0, 1.0],
    )


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


class ProcessExecutor:
    """Local worker processes with one BLAS thread each."""

    def __init__(self, *, workers: int) -> None:
        self.capacity = check_positive_int("workers", workers)
        self._pool = cf.ProcessPoolExecutor(
            max_workers=self.capacity, mp_context=_context(), initializer=_init_worker
        )

    def submit(self, fn: Callable, arg) -> cf.Future:
        """Queue ``fn(arg)`` on the pool."""
        return self._pool.submit(fn, arg)

    def wait_first(self, futures) -> set:
        """Block until at least one future is finished; return the finished ones."""
        done, _ = cf.wait(futures, return_when=cf.FIRST_COMPLETED)
        return done

    def close(self) -> None:
        """Shut the pool down, dropping queued units that have not started."""
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """A Dask distributed cluster, by scheduler address or a new local cluster."""

    def __init__(self, *, address: str | None = None, workers: int | None = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise InputError(
                "'executor' must be 'serial' or 'processes' without Dask. Got 'dask' instead; "
                "install scalinglaws[sweep] (dask[distributed])."
            ) from None
        self._cluster = None
        if address is None:
            self._cluster = LocalCluster(
                n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True
            )
            address = self._cluster.scheduler_address
        try:
            self._client = Client(address, timeout="30s")
        except OSError as err:
            self._close_cluster()
            raise InputError(
                f"'scheduler' must be the address of a running Dask scheduler. Got {address!r} "
                f"instead ({err})."
            ) from None

    @property
    def capacity(self) -> int:
        """Threads on the cluster now (at least 1: workers may still be joining)."""
        return max(1, sum(self._client.nthreads().values()))

    def submit(self, fn: Callable, arg):
        """Send ``fn(arg)`` to the cluster."""
        return self._client.submit(fn, arg, pure=False)

    def wait_first(self, futures) -> set:
        """Block until at least one future is finished; return the finished ones."""
        from distributed import wait

        return set(wait(list(futures), return_when="FIRST_COMPLETED").done)

    def close(self) -> None:
        """Close the client (and the local cluster this executor started)."""
        self._client.close()
        self._close_cluster()

    def _close_cluster(self) -> None:
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
