"""Running a study: plan its units, skip the finished ones, run the rest, store each as it ends.

The runner keeps at most ``2 × capacity`` units in flight, and checks the store again just before
sending each unit, so two runners on one store share the work instead of repeating it (and the
store's unique key makes any unit they both finish count once). On Ctrl-C (``KeyboardInterrupt``)
it sends nothing more, waits for the units in flight, stores them, and returns with
``interrupted=True``.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import Study
from .executors import make_executor
from .store import ResultStore
from .units import WorkUnit, load_theory, plan_units, run_unit

__all__ = ["RunSummary", "StudyStatus", "run_study", "study_status"]


@dataclass(frozen=True)
class RunSummary:
    """What one ``run_study`` call did."""

    total: int
    already_done: int
    computed: int
    done_elsewhere: int
    interrupted: bool
    wall_s: float

    @property
    def remaining(self) -> int:
        """Units still missing from the store after this run (by this run's count)."""
        return self.total - self.already_done - self.computed - self.done_elsewhere


@dataclass(frozen=True)
class StudyStatus:
    """Done and total units of a study, per case label and kind, and an ETA."""

    total: int
    done: int
    rows: tuple[dict, ...]
    eta_s: float | None
    workers: int


def run_study(
    study: Study,
    *,
    store: ResultStore | str | Path | None = None,
    executor="processes",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RunSummary:
    """Run every unfinished unit of ``study`` and store each result as it finishes.

    Parameters
    ----------
    study : Study
        A validated study (:func:`~scalinglaws.sweep.config.load_study`).
    store : ResultStore or path, optional
        Where results go; default the study's own ``store``.
    executor : {"serial", "processes", "dask"} or executor object, default "processes"
        Where units run (see :mod:`scalinglaws.sweep.executors`); an object is not closed here.
    workers : int, optional
        Worker processes (``processes``, or a new local Dask cluster); default the CPU count.
    scheduler : str, optional
        Dask scheduler address (``dask`` only).
    progress : callable(done, total), optional
        Called with the number of finished units after each one.

    Returns
    -------
    RunSummary
    """
    start = time.perf_counter()
    own_store = not isinstance(store, ResultStore)
    store = ResultStore(study.store if store is None else store) if own_store else store
    own_executor = isinstance(executor, str)
    if own_executor:
        executor = make_executor(executor, workers=workers, address=scheduler)
    try:
        state = _Run(study, store, executor, progress)
        state.run()
    finally:
        if own_executor:
            executor.close()
        if own_store:
            store.close()
    return RunSummary(
        total=state.total,
        already_done=state.already_done,
        computed=state.computed,
        done_elsewhere=state.done_elsewhere,
        interrupted=state.interrupted,
        wall_s=time.perf_counter() - start,
    )


class _Run:
    """The bookkeeping of one run: pending units, units in flight, counts."""

    def __init__(self, study: Study, store: ResultStore, executor, progress) -> None:
        self.study, self.store, self.executor = study, store, executor
        self.progress = progress or (lambda done, total: None)
        units = plan_units(study)
        finished = store.finished_keys()
        self.total = len(units)
        self.pending: deque[WorkUnit] = deque(u for u in units if u.key not in finished)
        self.already_done = self.total - len(self.pending)
        if any(u.kind == "theory" for u in self.pending):
            load_theory()  # fail before any work if the theory is not available
        self.computed = self.done_elsewhere = 0
        self.in_flight: dict = {}
        self.interrupted = False

    @property
    def done(self) -> int:
        return self.already_done + self.computed + self.done_elsewhere

    def run(self) -> None:
        self.progress(self.done, self.total)
        try:
            self._fill()
            while self.in_flight:
                self._collect(self.executor.wait_first(list(self.in_flight)))
                self._fill()
        except KeyboardInterrupt:
            self.interrupted = True
            self.pending.clear()
            while self.in_flight:
                self._collect(self.executor.wait_first(list(self.in_flight)))

    def _fill(self) -> None:
        window = 2 * self.executor.capacity
        while self.pending and len(self.in_flight) < window:
            unit = self.pending.popleft()
            if self.store.has(unit.key):
                self.done_elsewhere += 1
                self.progress(self.done, self.total)
                continue
            self.in_flight[self.executor.submit(run_unit, unit)] = unit

    def _collect(self, finished) -> None:
        for future in finished:
            unit = self.in_flight[future]
            written = self.store.write(
                unit, future.result(), study=self.study.name, study_hash=self.study.file_hash
            )
            del self.in_flight[future]
            if written:
                self.computed += 1
            else:
                self.done_elsewhere += 1
            self.progress(self.done, self.total)


def study_status(
    study: Study, *, store: ResultStore | str | Path | None = None, workers: int | None = None
) -> StudyStatus:
    """Done and total units per case and kind, and the time left at ``workers`` workers.

    The ETA is the mean wall time of the finished units of each kind times the units left of that
    kind, divided by ``workers`` (default the CPU count); None before any unit of a kind finished.
    """
    workers = workers or os.cpu_count() or 1
    path = study.store if store is None else store
    if isinstance(path, ResultStore):
        return _status(study, path, workers)
    if not Path(path).exists():
        return _status(study, None, workers)
    with ResultStore(path) as opened:
        return _status(study, opened, workers)


def _status(study: Study, store: ResultStore | None, workers: int) -> StudyStatus:
    units = plan_units(study)
    keys = {u.key for u in units}
    table = store.unit_table(keys) if store is not None else None
    finished = set() if table is None else set(table.unit_key)
    rows: dict[tuple[str, str], dict] = {}
    for unit in units:
        row = rows.setdefault(
            (unit.label, unit.kind), {"case": unit.label, "kind": unit.kind, "done": 0, "total": 0}
        )
        row["total"] += 1
        row["done"] += unit.key in finished
    eta = 0.0
    for kind in ("simulation", "theory"):
        left = sum(1 for u in units if u.kind == kind and u.key not in finished)
        if left == 0:
            continue
        times = [] if table is None else table.wall_s[table.kind == kind].to_numpy()
        if len(times) == 0:
            eta = None
            break
        eta += float(np.mean(times)) * left / workers
    return StudyStatus(
        total=len(units),
        done=len(finished),
        rows=tuple(rows.values()),
        eta_s=eta,
        workers=workers,
    )
