"""How far a study is: done and total units per case and kind, units in progress, and an ETA.

The store is opened read-only (``mode=ro``): ``study status`` works on a store it may not write,
creates nothing beside it, and never blocks a runner.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import Study
from .store import ResultStore
from .units import plan_units

__all__ = ["StudyStatus", "study_status"]


@dataclass(frozen=True)
class StudyStatus:
    """Done and total units of a study, per case label and kind, and an ETA.

    ``total`` and ``done`` count distinct units (cases with one spec share them); each row of
    ``rows`` counts the units of one case and kind. ``in_progress`` counts units that runners
    hold under a live lease.
    """

    total: int
    done: int
    rows: tuple[dict, ...]
    eta_s: float | None
    workers: int
    in_progress: int = 0


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
    with ResultStore(path, readonly=True) as opened:
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
    left_keys = keys - finished
    eta = 0.0
    for kind in ("simulation", "theory"):
        left = len({u.key for u in units if u.kind == kind and u.key in left_keys})
        if left == 0:
            continue
        times = [] if table is None else table.wall_s[table.kind == kind].to_numpy()
        if len(times) == 0:
            eta = None
            break
        eta += float(np.mean(times)) * left / workers
    return StudyStatus(
        total=len(keys),
        done=len(finished),
        rows=tuple(rows.values()),
        eta_s=eta,
        workers=workers,
        in_progress=store.live_claims(left_keys) if store is not None and left_keys else 0,
    )
