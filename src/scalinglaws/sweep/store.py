"""The embedded result store: one SQLite file in WAL mode, one transaction per finished unit.

Tables
------
``units``
    One row per finished work unit, ``unit_key`` UNIQUE, with its provenance: package version,
    study-file hash, canonical spec JSON, grid JSON, seed, root seed, loss method, wall time, host
    and finish time (UTC).
``cells``
    One row per (unit, N, P, γ) with ``test_mse`` and ``excess`` as IEEE doubles (bit-exact; SQLite
    stores NaN as NULL, read back as NaN).

A unit and its cells are written in one ``BEGIN IMMEDIATE`` transaction with ``INSERT OR IGNORE``
on the unique key, so a crash never leaves half a unit, and two processes that finish the same unit
store it once. Readers are never blocked (WAL).
"""

from __future__ import annotations

import datetime
import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__
from .units import UnitResult, WorkUnit

__all__ = ["ResultStore", "SCHEMA_VERSION"]

#: Version of the table layout below; stored in ``meta``.
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS units (
    id INTEGER PRIMARY KEY,
    unit_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    study TEXT NOT NULL,
    spec_name TEXT NOT NULL,
    label TEXT NOT NULL,
    block INTEGER NOT NULL,
    seed INTEGER,
    root_seed INTEGER NOT NULL,
    loss TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    grid_json TEXT NOT NULL,
    package_version TEXT NOT NULL,
    study_hash TEXT NOT NULL,
    wall_s REAL NOT NULL,
    host TEXT NOT NULL,
    finished_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cells (
    unit_id INTEGER NOT NULL REFERENCES units(id),
    n_features INTEGER NOT NULL,
    n_samples INTEGER NOT NULL,
    ridge REAL NOT NULL,
    test_mse REAL,
    excess REAL,
    PRIMARY KEY (unit_id, n_features, n_samples, ridge)
) WITHOUT ROWID;
"""

_UNIT_COLUMNS = (
    "unit_key, kind, study, spec_name, label, block, seed, root_seed, loss, spec_json, "
    "grid_json, package_version, study_hash, wall_s, host, finished_at"
)


class ResultStore:
    """A study's SQLite result store; safe for several processes at once.

    Parameters
    ----------
    path : str or Path
        The database file (created with its tables if absent).
    timeout : float, default 120
        Seconds to wait for another writer's transaction before giving up.
    """

    def __init__(self, path: str | Path, *, timeout: float = 120.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        with self._transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._conn.execute(statement)
            self._conn.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )

    # -- context -------------------------------------------------------------------------------
    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def _transaction(self):
        return _Transaction(self._conn)

    # -- writing -------------------------------------------------------------------------------
    def write(self, unit: WorkUnit, result: UnitResult, *, study: str, study_hash: str) -> bool:
        """Store one finished unit and its cells in one transaction.

        Returns
        -------
        bool
            True if written; False if the store already held the unit (then nothing changes).
        """
        row = (
            unit.key,
            unit.kind,
            study,
            unit.spec_name,
            unit.label,
            unit.block,
            unit.seed,
            unit.root_seed,
            unit.loss,
            json.dumps(unit.spec, sort_keys=True),
            json.dumps(unit.grid, sort_keys=True),
            __version__,
            study_hash,
            float(result.wall_s),
            result.host,
            datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        )
        with self._transaction():
            cur = self._conn.execute(
                f"INSERT OR IGNORE INTO units ({_UNIT_COLUMNS}) VALUES ({', '.join('?' * 16)})",
                row,
            )
            if cur.rowcount == 0:
                return False
            self._conn.executemany(
                "INSERT INTO cells VALUES (?, ?, ?, ?, ?, ?)",
                _cell_rows(cur.lastrowid, unit.grid, result),
            )
        return True

    # -- reading -------------------------------------------------------------------------------
    def finished_keys(self) -> set[str]:
        """Keys of every finished unit in the store."""
        return {row[0] for row in self._conn.execute("SELECT unit_key FROM units")}

    def has(self, key: str) -> bool:
        """Whether the unit ``key`` is finished."""
        cur = self._conn.execute("SELECT 1 FROM units WHERE unit_key = ?", (key,))
        return cur.fetchone() is not None

    def count_units(self) -> int:
        """Number of finished units."""
        return int(self._conn.execute("SELECT COUNT(*) FROM units").fetchone()[0])

    def unit_table(self, keys: Iterable[str] | None = None) -> pd.DataFrame:
        """Finished units (provenance columns), optionally only those with the given keys."""
        frame = pd.read_sql_query(f"SELECT id, {_UNIT_COLUMNS} FROM units ORDER BY id", self._conn)
        return frame if keys is None else frame[frame.unit_key.isin(set(keys))]

    def cell_table(self, keys: Iterable[str] | None = None) -> pd.DataFrame:
        """One row per (unit, N, P, γ): the unit's labels and provenance, test_mse, excess."""
        query = (
            "SELECT u.unit_key, u.kind, u.study, u.spec_name, u.label, u.block, u.seed, "
            "u.root_seed, u.loss, c.n_features, c.n_samples, c.ridge, c.test_mse, c.excess, "
            "u.wall_s, u.host, u.package_version, u.study_hash, u.spec_json "
            "FROM cells c JOIN units u ON u.id = c.unit_id "
            "ORDER BY u.id, c.n_features, c.n_samples, c.ridge"
        )
        frame = pd.read_sql_query(query, self._conn)
        for name in ("test_mse", "excess"):
            frame[name] = frame[name].astype(np.float64)
        if keys is not None:
            frame = frame[frame.unit_key.isin(set(keys))].reset_index(drop=True)
        return frame


def _cell_rows(unit_id: int, grid: dict, result: UnitResult):
    for i, n in enumerate(grid["n_features"]):
        for j, p in enumerate(grid["n_samples"]):
            for k, ridge in enumerate(grid["ridges"]):
                yield (
                    unit_id,
                    int(n),
                    int(p),
                    float(ridge),
                    _real(result.test_mse[i, j, k]),
                    _real(result.excess[i, j, k]),
                )


def _real(value) -> float | None:
    value = float(value)
    return None if np.isnan(value) else value


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error): the write lock up front."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:
        self._conn.execute("ROLLBACK" if exc_type else "COMMIT")
