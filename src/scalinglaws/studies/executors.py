"""Where work units run: in this process, in local worker processes, or on a Dask cluster.

Every executor has the same small interface — ``submit(fn, arg)`` returns a future,
``wait_first(futures, timeout)`` returns the finished ones (perhaps none, after ``timeout``),
``result(future)`` gives a future's value (a lost worker as :class:`WorkerLost`), ``capacity`` says
how many units run at once, ``cancel_queued()`` drops units not started, ``abort()`` stops at once
and ``close()`` releases the workers — and none changes a number: a unit's result depends only on
the unit.

* ``serial``: in this process, one unit at a time, with the BLAS threads as configured.
* ``processes`` (default): a :class:`~scalinglaws.studies.pool.WorkerPool` of ``workers`` fresh
  processes, each with one BLAS thread, in sessions of their own (a terminal's Ctrl-C reaches only
  the runner) and following the runner (none outlives a ``kill -9`` of it).
* ``dask``: a :class:`distributed.Client` to the scheduler at ``address`` (for example one started
  by dask-jobqueue on Slurm/PBS), or to a new :class:`distributed.LocalCluster` of ``workers``
  processes when no address is given.

Whatever the executor, :func:`~scalinglaws.studies.units.run_unit` computes each unit with one BLAS
thread, so that the numbers are bit-identical everywhere.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
from collections.abc import Callable

from .._names import EXECUTORS
from .._validation import InputError, check_choice, check_positive_int
from .pool import WorkerLost, WorkerPool

__all__ = [
    "EXECUTORS",
    "DaskExecutor",
    "ProcessExecutor",
    "SerialExecutor",
    "WorkerLost",
    "make_executor",
]

#: Executor names accepted by :func:`make_executor` and ``study run --executor``.

#: Seconds to wait for a Dask scheduler that does not answer.
CONNECT_TIMEOUT_S = 10


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
        except Exception as err:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(err)
        return future

    def wait_first(self, futures, timeout: float | None = None) -> set:
        """All submitted futures are finished already."""
        return set(futures)

    def result(self, future):
        """The future's value (or its exception, raised)."""
        return future.result()

    def cancel_queued(self) -> None:
        """Nothing is ever queued."""

    def abort(self) -> None:
        """Nothing runs in the background."""

    def close(self) -> None:
        """Nothing to release."""


class ProcessExecutor:
    """Local worker processes with one BLAS thread each (see :mod:`scalinglaws.studies.pool`)."""

    def __init__(self, *, workers: int) -> None:
        self.capacity = check_positive_int("workers", workers)
        self._pool = WorkerPool(self.capacity)

    @property
    def pids(self) -> list[int]:
        """Process ids of the workers."""
        return self._pool.pids

    def submit(self, fn: Callable, arg) -> cf.Future:
        """Queue ``fn(arg)`` on the pool."""
        return self._pool.submit(fn, arg)

    def wait_first(self, futures, timeout: float | None = None) -> set:
        """Wait up to ``timeout`` seconds for a future to finish; return the finished ones."""
        done, _ = cf.wait(futures, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return done

    def result(self, future):
        """The future's value; :class:`WorkerLost` if its worker died."""
        return future.result()

    def cancel_queued(self) -> None:
        """Drop the units that no worker has started."""
        self._pool.cancel_queued()

    def abort(self) -> None:
        """Kill the workers now."""
        self._pool.abort()

    def close(self) -> None:
        """Wait for the running units, then stop the workers."""
        self._pool.close()


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
        self._sent: set = set()
        if address is None:
            self._cluster = LocalCluster(
                n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True
            )
            address = self._cluster.scheduler_address
        else:
            _check_address(address)
        try:
            self._client = Client(address, timeout=f"{CONNECT_TIMEOUT_S}s")
        except (OSError, ValueError, TypeError) as err:
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
        future = self._client.submit(fn, arg, pure=False)
        self._sent.add(future)
        return future

    def wait_first(self, futures, timeout: float | None = None) -> set:
        """Wait up to ``timeout`` seconds for a future to finish; return the finished ones."""
        import asyncio

        from distributed import wait

        try:
            return set(wait(list(futures), timeout=timeout, return_when="FIRST_COMPLETED").done)
        except (TimeoutError, asyncio.TimeoutError):  # one and the same from Python 3.11 on
            return {f for f in futures if f.done()}

    def result(self, future):
        """The future's value; :class:`WorkerLost` if Dask gave up on the unit's workers."""
        from distributed import KilledWorker

        self._sent.discard(future)
        try:
            return future.result()
        except KilledWorker as err:
            raise WorkerLost(f"Dask workers died computing it ({err})") from None

    def cancel_queued(self) -> None:
        """Dask does not tell queued from running units: they all finish."""

    def abort(self) -> None:
        """Cancel every unit sent to the cluster."""
        self._client.cancel(list(self._sent))
        self._sent.clear()

    def close(self) -> None:
        """Close the client (and the local cluster this executor started)."""
        self._client.close()
        self._close_cluster()

    def _close_cluster(self) -> None:
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def _check_address(address: str) -> None:
    """Fail at once, before any connection attempt, on what cannot be a scheduler address."""
    from distributed.comm import parse_address
    from distributed.comm.addressing import parse_host_port

    try:
        scheme, location = parse_address(address)
        if scheme in ("tcp", "tls", "ws", "wss", "ucx"):
            host, port = parse_host_port(location)
            if not host or any(c.isspace() for c in host):
                raise ValueError(f"no host in {address!r}")
    except (ValueError, TypeError) as err:
        raise InputError(
            "'scheduler' must be a Dask scheduler address such as tcp://host:8786. Got "
            f"{address!r} instead ({err})."
        ) from None
