"""Leases on work units, so that several runners on one store divide the units between them.

A runner *claims* a unit before it sends it to a worker: one row of the store's ``claims`` table
(unit key, owner, host, pid, expiry), written in a ``BEGIN IMMEDIATE`` transaction, so that two
runners never claim the same unit at once. While the unit is in flight a :class:`LeaseKeeper`
thread renews the owner's leases every ``lease_s / 3`` seconds; writing the finished unit drops its
claim in the same transaction, and a runner that stops (finished, interrupted or failed) releases
the rest. A claim is *live* while its lease has not expired and its owner may still be running; a
runner takes over any other claim:

* an expired lease (the owner crashed, lost its connection, or was stopped), or
* a lease of a runner on this same machine (same host name and process namespace) whose process
  no longer exists — a ``kill -9`` on this machine is noticed at once, not after the lease.

A runner with nothing left to claim but units held by others waits for them, polling, and takes
over those whose lease runs out, so every runner ends with the study complete.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CLAIMS_TABLE", "LeaseKeeper", "Owner", "claim", "live_count"]

CLAIMS_TABLE = """CREATE TABLE IF NOT EXISTS claims (
    unit_key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    claimed_at REAL NOT NULL,
    expires_at REAL NOT NULL
)"""

_CHUNK = 500  # keys per SQL statement, well under SQLite's limit on bound variables


@dataclass(frozen=True)
class Owner:
    """Who holds a claim: a unique id, the machine (host and process namespace) and the pid."""

    id: str
    host: str
    pid: int

    @classmethod
    def this_process(cls) -> Owner:
        """A new owner id for a runner in this process."""
        host, pid = machine(), os.getpid()
        return cls(id=f"{socket.gethostname()}:{pid}:{uuid.uuid4().hex[:12]}", host=host, pid=pid)


def machine() -> str:
    """This machine as a claim sees it: the host name and, on Linux, the pid namespace (so that
    two containers with one host name are not taken for one machine)."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return f"{socket.gethostname()}/{namespace}"


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _live(row, *, owner: Owner, now: float, here: str) -> bool:
    """Whether the claim ``row`` = (key, owner, host, pid, expires_at) holds off ``owner``."""
    _, holder, host, pid, expires_at = row
    if holder == owner.id or expires_at <= now:
        return False
    return host != here or _process_exists(pid)


def _rows(conn: sqlite3.Connection, table: str, columns: str, keys: list[str]):
    for start in range(0, len(keys), _CHUNK):
        part = keys[start : start + _CHUNK]
        marks = ", ".join("?" * len(part))
        yield from conn.execute(
            f"SELECT {columns} FROM {table} WHERE unit_key IN ({marks})", part
        ).fetchall()


def claim(
    conn: sqlite3.Connection, keys: list[str], *, owner: Owner, limit: int, lease_s: float
) -> tuple[list[str], set[str], set[str]]:
    """Claim up to ``limit`` of ``keys``, in order, inside the caller's write transaction.

    Returns
    -------
    claimed : list of str
        Keys now claimed by ``owner`` until ``now + lease_s``.
    finished : set of str
        Keys already stored as finished units (examined keys only).
    held : set of str
        Keys under a live claim of another runner (examined keys only).

    Keys after the ``limit``-th claimed one are not examined and appear in none of the three.
    """
    now, here = time.time(), machine()
    finished = {row[0] for row in _rows(conn, "units", "unit_key", keys)}
    claims = {
        row[0]: row for row in _rows(conn, "claims", "unit_key, owner, host, pid, expires_at", keys)
    }
    claimed: list[str] = []
    held: set[str] = set()
    seen_finished: set[str] = set()
    for key in keys:
        if len(claimed) == limit:
            break
        if key in finished:
            seen_finished.add(key)
        elif key in claims and _live(claims[key], owner=owner, now=now, here=here):
            held.add(key)
        else:
            claimed.append(key)
    conn.executemany(
        "INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?, ?, ?)",
        [(key, owner.id, owner.host, owner.pid, now, now + lease_s) for key in claimed],
    )
    return claimed, seen_finished, held


def live_count(conn: sqlite3.Connection, keys: set[str] | None) -> int:
    """Claims that hold off other runners (unexpired, owner possibly running), among ``keys``."""
    now, here, nobody = time.time(), machine(), Owner(id="", host="", pid=0)
    rows = conn.execute(
        "SELECT unit_key, owner, host, pid, expires_at FROM claims WHERE expires_at > ?", (now,)
    )
    return sum(
        1
        for row in rows
        if (keys is None or row[0] in keys) and _live(row, owner=nobody, now=now, here=here)
    )


class LeaseKeeper:
    """A daemon thread that renews ``owner``'s leases in the store at ``path`` every
    ``lease_s / 3`` seconds, on a connection of its own, until :meth:`stop`."""

    def __init__(self, path: str | Path, owner: Owner, *, lease_s: float) -> None:
        self._path, self._owner, self._lease_s = Path(path), owner, lease_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scalinglaws-leases", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop renewing (the claims themselves are released by the runner)."""
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, timeout=self._lease_s / 3, isolation_level=None)
        try:
            while not self._stopped.wait(self._lease_s / 3):
                try:
                    conn.execute(
                        "UPDATE claims SET expires_at = ? WHERE owner = ?",
                        (time.time() + self._lease_s, self._owner.id),
                    )
                except sqlite3.OperationalError:  # store busy for a whole period: next time
                    continue
        finally:
            conn.close()
