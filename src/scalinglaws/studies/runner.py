"""Running a study: plan its units, claim the unfinished ones, run them, store each as it ends.

Before sending a unit to the executor the runner *claims* it in the store under an expiring lease
(:mod:`scalinglaws.studies.leases`), so several runners on one store divide the units between them;
a runner with nothing left to claim waits for the units other runners hold and takes over those
whose lease runs out, so every runner ends with the study complete. At most ``2 × capacity`` units
are in flight (one at a time for ``serial``).

Stopping: when ``stop`` is set (the CLI sets it on Ctrl-C or SIGTERM) or on ``KeyboardInterrupt``
the runner claims nothing more, drops the units no worker has started, waits for the running ones,
stores them, releases its claims and returns with ``interrupted=True``; a second
``KeyboardInterrupt`` while it waits abandons the running units. A worker that dies
(:class:`~scalinglaws.studies.pool.WorkerLost`) or a unit that fails stops the run the same way,
after which the error is raised, with what was stored and what remains.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .._memory import check_memory, format_bytes
from .._validation import warn_numerical
from .config import Study
from .executors import SerialExecutor, WorkerLost, make_executor
from .leases import LeaseKeeper, Owner
from .store import ResultStore
from .units import WorkUnit, plan_units, run_unit, unit_peak_bytes

__all__ = ["RunSummary", "run_study"]


@dataclass(frozen=True)
class RunSummary:
    """What one ``run_study`` call did. ``total`` counts distinct units (two cases with one spec
    share their units)."""

    total: int
    already_done: int
    computed: int
    done_elsewhere: int
    interrupted: bool
    wall_s: float
    owner: str = ""
    held_elsewhere: int = 0

    @property
    def remaining(self) -> int:
        """Units still missing from the store after this run (by this run's count)."""
        return self.total - self.already_done - self.computed - self.done_elsewhere


def run_study(
    study: Study,
    *,
    store: ResultStore | str | Path | None = None,
    executor="processes",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None,
    lease_s: float = 60.0,
    poll_s: float = 1.0,
    max_memory: int | str | None = None,
) -> RunSummary:
    """Run every unfinished unit of ``study`` and store each result as it finishes.

    Parameters
    ----------
    study : Study
        A validated study (:func:`~scalinglaws.studies.config.load_study`).
    store : ResultStore or path, optional
        Where results go; default the study's own ``store``.
    executor : {"serial", "processes", "dask"} or executor object, default "processes"
        Where units run (see :mod:`scalinglaws.studies.executors`); an object is not closed here.
    workers : int, optional
        Worker processes (``processes``, or a new local Dask cluster); default the CPU count,
        and never more than the units left.
    scheduler : str, optional
        Dask scheduler address (``dask`` only).
    progress : callable(done, total), optional
        Called with the number of finished units after each one.
    stop : threading.Event, optional
        Set it to stop after the units in flight (as on Ctrl-C).
    lease_s : float, default 60
        Seconds a claim on a unit lasts unless renewed (renewed every ``lease_s / 3``); another
        runner takes over a unit whose lease has run out.
    poll_s : float, default 1
        Seconds between looks at units that other runners hold.
    max_memory : int or str, optional
        Memory the local workers may use together (default: the memory available now). Before
        any worker starts, the largest unit's estimated peak times the number of local workers
        is checked against it, and the run is refused (one line) when it does not fit.

    Returns
    -------
    RunSummary

    Raises
    ------
    WorkerLost
        A worker process died; the units finished before are stored (one-line message).
    """
    start = time.perf_counter()
    own_store = not isinstance(store, ResultStore)
    store = ResultStore(study.store if store is None else store) if own_store else store
    state = started = None
    try:
        state = _Run(study, store, progress=progress, stop=stop, lease_s=lease_s, poll_s=poll_s)
        if isinstance(executor, str):
            _check_memory(state.pending.values(), executor, workers, scheduler, max_memory)
            executor = started = _new_executor(executor, workers, scheduler, len(state.pending))
        state.run(executor)
    except KeyboardInterrupt:
        if state is None:
            raise
        state.interrupted = True
    finally:
        if state is not None:
            state.finish()
        if started is not None:
            started.close()
        if own_store:
            store.close()
    summary = state.summary(time.perf_counter() - start)
    state.raise_failure(summary)
    return summary


def _check_memory(units, executor: str, workers, scheduler, max_memory) -> None:
    """Refuse a run whose local workers would together need more memory than there is."""
    if executor == "dask" and scheduler is not None:
        return  # the units run on other machines
    peaks = [(unit_peak_bytes(u), u) for u in units]
    if not peaks:
        return
    peak, unit = max(peaks, key=lambda item: item[0])
    side_by_side = 1 if executor == "serial" else (workers or os.cpu_count() or 1)
    side_by_side = max(1, min(side_by_side, len(peaks)))
    check_memory(
        peak * side_by_side,
        what=f"study run: {side_by_side} worker(s), each up to one unit like '{unit.label}' "
        f"(seed {unit.seed}, about {format_bytes(peak)})",
        parameter="that case's n_features/n_samples (or --workers)",
        max_memory=max_memory,
    )


def _new_executor(name: str, workers: int | None, scheduler: str | None, pending: int):
    if pending == 0 and scheduler is None:
        return SerialExecutor()  # nothing to run: start no workers
    if workers is None and not (name == "dask" and scheduler is not None):
        workers = max(1, min(os.cpu_count() or 1, pending))
    return make_executor(name, workers=workers, address=scheduler)


class _Run:
    """The bookkeeping of one run: pending, deferred (held by others) and in-flight units."""

    def __init__(self, study: Study, store: ResultStore, *, progress, stop, lease_s, poll_s):
        self.study, self.store = study, store
        self.progress = progress or (lambda done, total: None)
        self.stop, self.lease_s, self.poll_s = stop, lease_s, poll_s
        units: dict[str, WorkUnit] = {}
        for unit in plan_units(study):
            units.setdefault(unit.key, unit)
        finished = store.finished_keys()
        self.total = len(units)
        self.pending = {key: unit for key, unit in units.items() if key not in finished}
        self.already_done = self.total - len(self.pending)
        self.deferred: dict[str, WorkUnit] = {}
        self.in_flight: dict = {}
        self.computed = self.done_elsewhere = 0
        self.interrupted = False
        self.failure: tuple[WorkUnit, BaseException] | None = None
        self.owner = Owner.this_process()
        self.executor = None
        self.held_elsewhere = 0
        self.warnings: dict[str, int] = {}

    @property
    def done(self) -> int:
        return self.already_done + self.computed + self.done_elsewhere

    def _stopping(self) -> bool:
        if self.stop is not None and self.stop.is_set():
            self.interrupted = True
        return self.interrupted or self.failure is not None

    def run(self, executor) -> None:
        self.executor = executor
        self.progress(self.done, self.total)
        with LeaseKeeper(self.store.path, self.owner, lease_s=self.lease_s):
            try:
                self._loop()
            except KeyboardInterrupt:
                self.interrupted = True
            try:
                self._drain()
            except KeyboardInterrupt:  # a second one: abandon the units in flight
                self.interrupted = True
                executor.abort()
                self.in_flight.clear()

    def _loop(self) -> None:
        recheck = time.monotonic() + self.poll_s
        while not self._stopping():
            self._fill()
            if not self.in_flight:
                if not self.pending and not self.deferred:
                    return
                self._sleep()  # everything left is held by other runners
                recheck = 0.0
            else:
                self._collect(self.executor.wait_first(list(self.in_flight), self.poll_s))
            if time.monotonic() >= recheck:  # look again at what others hold
                self.pending = {**self.deferred, **self.pending}
                self.deferred = {}
                recheck = time.monotonic() + self.poll_s

    def _sleep(self) -> None:
        if self.stop is not None:
            self.stop.wait(self.poll_s)
        else:
            time.sleep(self.poll_s)

    def _fill(self) -> None:
        capacity = self.executor.capacity
        window = 1 if isinstance(self.executor, SerialExecutor) else 2 * capacity
        while self.pending and len(self.in_flight) < window and not self._stopping():
            keys = list(itertools.islice(self.pending, 256))
            need = window - len(self.in_flight)
            claimed, finished, held = self.store.claim(
                keys, owner=self.owner, limit=need, lease_s=self.lease_s
            )
            for key in finished:
                del self.pending[key]
                self.done_elsewhere += 1
                self.progress(self.done, self.total)
            for key in held:
                self.deferred[key] = self.pending.pop(key)
            for key in claimed:
                unit = self.pending.pop(key)
                self.in_flight[self.executor.submit(run_unit, unit)] = unit

    def _collect(self, finished) -> None:
        for future in finished:
            unit = self.in_flight[future]
            try:
                result = self.executor.result(future)
            except cf.CancelledError:
                del self.in_flight[future]
                continue
            except Exception as err:  # noqa: BLE001 - a lost worker or a failed unit: kept
                del self.in_flight[future]
                self.failure = self.failure or (unit, err)
                continue
            written = self.store.write(
                unit,
                result,
                study=self.study.name,
                study_hash=self.study.file_hash,
                runner=self.owner.id,
            )
            del self.in_flight[future]
            for message in getattr(result, "warnings", ()):
                self.warnings[message] = self.warnings.get(message, 0) + 1
            if written:
                self.computed += 1
            else:
                self.done_elsewhere += 1
            self.progress(self.done, self.total)

    def _drain(self) -> None:
        """Drop the units not started; wait for and store the running ones."""
        self.executor.cancel_queued()
        while self.in_flight:
            self._collect(self.executor.wait_first(list(self.in_flight), self.poll_s))

    def finish(self) -> None:
        """Release this runner's claims; count the units left that others hold; report the
        units' numerical warnings, each once with the number of units that raised it."""
        self.store.release(self.owner)
        for message, count in self.warnings.items():
            warn_numerical(f"{count} unit(s) of the study reported: {message}", stacklevel=2)
        left = set(self.pending) | set(self.deferred)
        self.held_elsewhere = self.store.live_claims(left) if left else 0

    def summary(self, wall_s: float) -> RunSummary:
        return RunSummary(
            total=self.total,
            already_done=self.already_done,
            computed=self.computed,
            done_elsewhere=self.done_elsewhere,
            interrupted=self.interrupted,
            wall_s=wall_s,
            owner=self.owner.id,
            held_elsewhere=self.held_elsewhere,
        )

    def raise_failure(self, summary: RunSummary) -> None:
        if self.failure is None:
            return
        unit, err = self.failure
        if not isinstance(err, WorkerLost):
            raise err
        what = f"'{unit.label}' {unit.kind}" + ("" if unit.seed is None else f" seed {unit.seed}")
        lost = WorkerLost(
            f"{err} while computing unit {what}; {self.done}/{self.total} units are stored; run "
            "the same command again to resume."
        )
        lost.summary = summary
        raise lost
