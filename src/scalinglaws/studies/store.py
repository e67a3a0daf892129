"""The embedded result store: one SQLite file, one transaction per finished unit, leases on units.

Tables
------
``meta``
    ``schema_version`` (see :data:`SCHEMA_VERSION`); older stores are migrated when opened for
    writing and read as they are when opened read-only.
``units``
    One row per finished work unit, ``unit_key`` UNIQUE, with its provenance: package version,
    study-file hash, canonical spec JSON, grid JSON, seed, root seed, loss method, wall time, host,
    finish time (UTC) and the runner that computed it (schema 2).
``cells``
    One row per (unit, N, P, γ) with ``test_mse`` and ``excess`` as IEEE doubles (bit-exact; SQLite
    stores NaN as NULL, read back as NaN).
``claims`` (schema 2)
    One row per unit a runner is computing: owner, host, pid and an expiry time (a lease, see
    :mod:`scalinglaws.studies.leases`).

A unit and its cells are written in one ``BEGIN IMMEDIATE`` transaction with ``INSERT OR IGNORE``
on the unique key (which also drops the unit's claim), so a crash never leaves half a unit, and two
processes that finish the same unit store it once. While a runner writes, the file is in WAL mode
(readers never block the writer); the last runner to close it switches it back to a plain rollback
journal, so a finished store is one self-contained file that read-only openers
(``readonly=True``: ``status``, ``export``, ``plot``) read without creating anything beside it.
"""

from __future__ import annotations

import datetime
import json
import sqlite3
import urllib.parse
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from .._validation import InputError
from ..results import package_version
from . import leases
from .units import UnitResult, WorkUnit

__all__ = ["ResultStore", "SCHEMA_VERSION"]

#: Version of the table layout; stored in ``meta``. 1: units, cells. 2: units.runner, claims.
SCHEMA_VERSION = 2

_V1 = """
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
) WITHOUT ROWID
"""

#: Statements that take a store from version ``v - 1`` to ``v``.
_MIGRATIONS = {2: ["ALTER TABLE units ADD COLUMN runner TEXT", leases.CLAIMS_TABLE]}

_UNIT_COLUMNS = (
    "unit_key, kind, study, spec_name, label, block, seed, root_seed, loss, spec_json, "
    "grid_json, package_version, study_hash, wall_s, host, finished_at"
)


class ResultStore:
    """A study's SQLite result store; safe for several processes at once.

    Parameters
    ----------
    path : str or Path
        The database file (created with its tables if absent, unless ``readonly``).
    timeout : float, default 120
        Seconds to wait for another writer's transaction before giving up.
    readonly : bool, default False
        Open with ``mode=ro``: nothing is created, migrated or written (``status``, ``export``,
        ``plot``); a store of an older schema is read as it is.

    Raises
    ------
    InputError
        When ``path`` is a folder, not a SQLite file, another program's SQLite file, a store of a
        newer schema, or cannot be opened (one line that says which).
    """

    def __init__(self, path: str | Path, *, timeout: float = 120.0, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        if self.path.is_dir():
            raise _bad_store(self.path, "a folder")
        self._conn = None
        try:
            self._conn = _connect(self.path, timeout=timeout, readonly=readonly)
            self.version = _schema_version(self._conn, self.path)
            if not readonly:
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
                self._conn.execute("PRAGMA foreign_keys=ON")
                self._migrate()
            self._columns = self._unit_columns()
        except BaseException as err:
            if self._conn is not None:
                self._conn.close()
            if isinstance(err, sqlite3.DatabaseError):
                raise _bad_store(self.path, str(err)) from None
            raise

    def _migrate(self) -> None:
        with self._transaction():
            version = _schema_version(self._conn, self.path)  # again, under the write lock
            if version == 0:
                for statement in _V1.split(";"):
                    self._conn.execute(statement)
                self._conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
                version = 1
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[target]:
                    self._conn.execute(statement)
            self._conn.execute(
                "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),)
            )
        self.version = SCHEMA_VERSION

    def _unit_columns(self) -> set[str]:
        return {row[1] for row in self._conn.execute("PRAGMA table_info(units)")}

    # -- context -------------------------------------------------------------------------------
    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection; the last writer to close leaves the file without a WAL."""
        if not self.readonly:
            try:  # only possible when no other connection is open; never wait for one
                self._conn.execute("PRAGMA busy_timeout = 0")
                self._conn.execute("PRAGMA journal_mode=DELETE")
            except sqlite3.OperationalError:
                pass
        self._conn.close()

    def _transaction(self):
        return _Transaction(self._conn)

    # -- writing -------------------------------------------------------------------------------
    def write(
        self,
        unit: WorkUnit,
        result: UnitResult,
        *,
        study: str,
        study_hash: str,
        runner: str | None = None,
    ) -> bool:
        """Store one finished unit and its cells in one transaction, and drop its claim.

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
            package_version(),
            study_hash,
            float(result.wall_s),
            result.host,
            datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            runner,
        )
        with self._transaction():
            cur = self._conn.execute(
                f"INSERT OR IGNORE INTO units ({_UNIT_COLUMNS}, runner) "
                f"VALUES ({', '.join('?' * 17)})",
                row,
            )
            self._conn.execute("DELETE FROM claims WHERE unit_key = ?", (unit.key,))
            if cur.rowcount == 0:
                return False
            self._conn.executemany(
                "INSERT INTO cells VALUES (?, ?, ?, ?, ?, ?)",
                _cell_rows(cur.lastrowid, unit.grid, result),
            )
        return True

    # -- leases (see scalinglaws.studies.leases) -------------------------------------------------
    def claim(self, keys: Iterable[str], *, owner: leases.Owner, limit: int, lease_s: float):
        """Claim up to ``limit`` of ``keys`` for ``owner`` (see :func:`.leases.claim`)."""
        with self._transaction():
            return leases.claim(self._conn, list(keys), owner=owner, limit=limit, lease_s=lease_s)

    def release(self, owner: leases.Owner) -> None:
        """Drop every claim of ``owner``."""
        with self._transaction():
            self._conn.execute("DELETE FROM claims WHERE owner = ?", (owner.id,))

    def live_claims(self, keys: Iterable[str] | None = None) -> int:
        """How many of ``keys`` (default all) other runners hold under an unexpired lease."""
        if self.version < 2:
            return 0
        return leases.live_count(self._conn, None if keys is None else set(keys))

    # -- reading -------------------------------------------------------------------------------
    def finished_keys(self) -> set[str]:
        """Keys of every finished unit in the store."""
        if self.version == 0:
            return set()
        return {row[0] for row in self._conn.execute("SELECT unit_key FROM units")}

    def has(self, key: str) -> bool:
        """Whether the unit ``key`` is finished."""
        if self.version == 0:
            return False
        cur = self._conn.execute("SELECT 1 FROM units WHERE unit_key = ?", (key,))
        return cur.fetchone() is not None

    def count_units(self) -> int:
        """Number of finished units."""
        if self.version == 0:
            return 0
        return int(self._conn.execute("SELECT COUNT(*) FROM units").fetchone()[0])

    def unit_table(self, keys: Iterable[str] | None = None) -> pd.DataFrame:
        """Finished units (provenance columns), optionally only those with the given keys."""
        columns = f"id, {_UNIT_COLUMNS}, {self._runner('units')}"
        if self.version == 0:
            return pd.DataFrame(columns=[c.strip() for c in columns.split(",")])
        frame = pd.read_sql_query(f"SELECT {columns} FROM units ORDER BY id", self._conn)
        return frame if keys is None else frame[frame.unit_key.isin(set(keys))]

    def cell_table(self, keys: Iterable[str] | None = None) -> pd.DataFrame:
        """One row per (unit, N, P, γ): the unit's labels and provenance, test_mse, excess."""
        names = (
            "unit_key, kind, study, spec_name, label, block, seed, root_seed, loss, n_features, "
            "n_samples, ridge, test_mse, excess, wall_s, host, package_version, study_hash, "
            "spec_json, finished_at, runner"
        )
        if self.version == 0:
            return pd.DataFrame(columns=[c.strip() for c in names.split(",")])
        query = (
            "SELECT u.unit_key, u.kind, u.study, u.spec_name, u.label, u.block, u.seed, "
            "u.root_seed, u.loss, c.n_features, c.n_samples, c.ridge, c.test_mse, c.excess, "
            "u.wall_s, u.host, u.package_version, u.study_hash, u.spec_json, u.finished_at, "
            f"{self._runner('u')} FROM cells c JOIN units u ON u.id = c.unit_id "
            "ORDER BY u.id, c.n_features, c.n_samples, c.ridge"
        )
        frame = pd.read_sql_query(query, self._conn)
        for name in ("test_mse", "excess"):
            frame[name] = frame[name].astype(np.float64)
        if keys is not None:
            frame = frame[frame.unit_key.isin(set(keys))].reset_index(drop=True)
        return frame

    def _runner(self, table: str) -> str:
        return f"{table}.runner" if "runner" in self._columns else "NULL AS runner"


def _connect(path: Path, *, timeout: float, readonly: bool) -> sqlite3.Connection:
    if not readonly:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise _bad_store(path, f"cannot create its folder: {err.strerror}") from None
        return sqlite3.connect(path, timeout=timeout, isolation_level=None)
    uri = "file:" + urllib.parse.quote(str(path.resolve()))
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=timeout, isolation_level=None)
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        # A store left in WAL mode in a folder we cannot write: no -shm can be made. Without a
        # -wal file there is nothing beyond the main file, and nobody can be writing here.
        conn.close()
        wal = Path(f"{path}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise
        conn = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None)
    return conn


def _schema_version(conn: sqlite3.Connection, path: Path) -> int:
    """0 for an empty database, else the store's schema version; InputError if not ours."""
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:
        return 0
    row = None
    if {"meta", "units", "cells"} <= tables:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        found = ", ".join(sorted(tables)[:5])
        raise _bad_store(path, f"a SQLite file of another program, with tables {found}")
    version = int(row[0])
    if version > SCHEMA_VERSION:
        raise _bad_store(
            path,
            f"written by a newer scalinglaws (schema {version}; this one knows up to "
            f"{SCHEMA_VERSION}); upgrade scalinglaws",
        )
    return version


def _bad_store(path: Path, why: str) -> InputError:
    return InputError(
        f"'store' must be a scalinglaws result store (SQLite). Got '{path}' instead: {why}."
    )


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
