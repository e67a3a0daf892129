"""Runners sharing one store: claims with expiring leases divide the units; stale ones are taken
over; old stores migrate."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from scalinglaws.studies import (
    SCHEMA_VERSION,
    ResultStore,
    UnitResult,
    load_study,
    plan_units,
    run_study,
    study_status,
)
from scalinglaws.studies.leases import machine

STUDY = """
[study]
name = "shared"
seed = 3

[grid]
n_features = {grid}
n_samples = {grid}
ridges = [1e-3, 1e-2]
seeds = {seeds}

[[spec]]
name = "lin"
spectrum = {{ kind = "power_law", latent_dim = 200, alpha = 1.0 }}
"""


def write_study(tmp_path: Path, *, grid: str = "[8, 16]", seeds: int = 3) -> Path:
    path = tmp_path / "shared.toml"
    path.write_text(STUDY.format(grid=grid, seeds=seeds))
    return path


def add_claim(store: Path, key: str, *, owner: str, host: str, pid: int, expires_in: float):
    now = time.time()
    with sqlite3.connect(store) as conn:
        conn.execute(
            "INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?, ?, ?)",
            (key, owner, host, pid, now, now + expires_in),
        )


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_two_runners_in_parallel_compute_disjoint_units_and_complete_the_store(tmp_path):
    path = write_study(tmp_path, grid="[16, 32, 64, 128, 256]", seeds=16)  # ~0.2 s a unit
    study = load_study(path)
    command = [sys.executable, "-m", "scalinglaws.cli.main", "study", "run", str(path)]
    command += ["--executor", "serial", "--json"]
    procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)]
    procs.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    summaries = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        summaries.append(json.loads(out))
    total = len(plan_units(study))
    assert all(s["done"] == s["total"] == total for s in summaries)
    assert sum(s["computed"] for s in summaries) == total, summaries  # nothing computed twice
    assert all(s["computed"] >= 1 for s in summaries), summaries  # both took part
    with sqlite3.connect(study.store) as conn:
        rows = conn.execute("SELECT runner, COUNT(*) FROM units GROUP BY runner").fetchall()
        assert conn.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0  # all released
    by_runner = dict(rows)
    assert by_runner == {s["runner"]: s["computed"] for s in summaries if s["computed"]}


def test_stale_claims_are_taken_over(tmp_path):
    study = load_study(write_study(tmp_path))
    store = tmp_path / "stale.sqlite"
    ResultStore(store).close()
    keys = [u.key for u in plan_units(study)]
    # an expired lease of a runner elsewhere, and a live lease of a dead runner on this machine
    add_claim(store, keys[0], owner="gone", host="elsewhere/", pid=1, expires_in=-5.0)
    add_claim(store, keys[1], owner="killed", host=machine(), pid=dead_pid(), expires_in=600.0)
    assert study_status(study, store=store).in_progress == 0  # neither holds its unit
    summary = run_study(study, store=store, executor="serial", poll_s=0.05)
    assert summary.computed == len(keys) and summary.done_elsewhere == 0
    with ResultStore(store, readonly=True) as opened:
        assert opened.finished_keys() == set(keys)


def test_a_live_claim_elsewhere_is_waited_for_then_taken_over_when_it_expires(tmp_path):
    study = load_study(write_study(tmp_path))
    store = tmp_path / "live.sqlite"
    ResultStore(store).close()
    keys = [u.key for u in plan_units(study)]
    expiry = time.time() + 1.0
    add_claim(store, keys[0], owner="busy", host="elsewhere/", pid=1, expires_in=1.0)
    summary = run_study(study, store=store, executor="serial", poll_s=0.05)
    assert time.time() >= expiry, "the unit was taken before the other runner's lease ran out"
    assert summary.computed == len(keys)


def test_a_unit_another_runner_finishes_is_not_computed_again(tmp_path):
    study = load_study(write_study(tmp_path))
    store = tmp_path / "other.sqlite"
    ResultStore(store).close()
    units = plan_units(study)
    add_claim(store, units[0].key, owner="busy", host="elsewhere/", pid=1, expires_in=600.0)
    status = study_status(study, store=store)
    assert status.in_progress == 1 and status.done == 0
    box = {}
    runner = threading.Thread(
        target=lambda: box.update(summary=run_study(study, store=store, executor="serial"))
    )
    runner.start()
    deadline = time.monotonic() + 30
    while study_status(study, store=store).done < len(units) - 1:  # all but the held unit
        assert time.monotonic() < deadline and runner.is_alive()
        time.sleep(0.02)
    assert runner.is_alive(), "the runner must wait for the unit held elsewhere"
    shape = (2, 2, 2)
    result = UnitResult(units[0].key, np.ones(shape), np.zeros(shape), wall_s=0.1, host="other")
    with ResultStore(store) as other:
        assert other.write(units[0], result, study="shared", study_hash="x", runner="busy")
    runner.join(timeout=30)
    summary = box["summary"]
    assert (summary.computed, summary.done_elsewhere) == (len(units) - 1, 1)


V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE units (
    id INTEGER PRIMARY KEY, unit_key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
    study TEXT NOT NULL, spec_name TEXT NOT NULL, label TEXT NOT NULL, block INTEGER NOT NULL,
    seed INTEGER, root_seed INTEGER NOT NULL, loss TEXT NOT NULL, spec_json TEXT NOT NULL,
    grid_json TEXT NOT NULL, package_version TEXT NOT NULL, study_hash TEXT NOT NULL,
    wall_s REAL NOT NULL, host TEXT NOT NULL, finished_at TEXT NOT NULL
);
CREATE TABLE cells (
    unit_id INTEGER NOT NULL REFERENCES units(id), n_features INTEGER NOT NULL,
    n_samples INTEGER NOT NULL, ridge REAL NOT NULL, test_mse REAL, excess REAL,
    PRIMARY KEY (unit_id, n_features, n_samples, ridge)
) WITHOUT ROWID;
INSERT INTO meta VALUES ('schema_version', '1');
"""


def v1_store_with_one_unit(study, path: Path) -> None:
    """A store as version 1 wrote it, holding the study's first unit."""
    reference = path.with_name("reference.sqlite")
    run_study(study, store=reference, executor="serial")
    with sqlite3.connect(reference) as ref, sqlite3.connect(path) as conn:
        conn.executescript(V1_SCHEMA)
        unit = ref.execute(
            "SELECT id, unit_key, kind, study, spec_name, label, block, seed, root_seed, loss, "
            "spec_json, grid_json, package_version, study_hash, wall_s, host, finished_at "
            "FROM units ORDER BY id LIMIT 1"
        ).fetchone()
        conn.execute(f"INSERT INTO units VALUES ({', '.join('?' * 17)})", unit)
        cells = ref.execute("SELECT * FROM cells WHERE unit_id = ?", (unit[0],)).fetchall()
        conn.executemany("INSERT INTO cells VALUES (?, ?, ?, ?, ?, ?)", cells)


def test_a_version_1_store_is_read_as_is_and_migrated_when_run(tmp_path):
    study = load_study(write_study(tmp_path))
    store = tmp_path / "v1.sqlite"
    v1_store_with_one_unit(study, store)
    before = store.read_bytes()
    assert study_status(study, store=store).done == 1  # read-only: no migration
    assert store.read_bytes() == before
    summary = run_study(study, store=store, executor="serial")
    assert (summary.already_done, summary.computed) == (1, len(plan_units(study)) - 1)
    with sqlite3.connect(store) as conn:
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        runners = [row[0] for row in conn.execute("SELECT runner FROM units ORDER BY id")]
    assert int(version[0]) == SCHEMA_VERSION
    assert runners[0] is None and all(r == summary.owner for r in runners[1:])


@pytest.mark.parametrize("lease_s", [0.3])
def test_leases_of_units_in_flight_are_renewed(tmp_path, lease_s):
    """A unit that runs longer than the lease keeps its claim: the keeper renews it."""
    study = load_study(write_study(tmp_path, seeds=1))
    store = tmp_path / "renew.sqlite"
    seen = []

    def slow_unit(unit):
        time.sleep(3 * lease_s)
        with sqlite3.connect(store) as conn:
            seen.extend(conn.execute("SELECT expires_at FROM claims").fetchall())
        from scalinglaws.studies import run_unit

        return run_unit(unit)

    class SlowSerial:
        capacity = 1

        def submit(self, fn, arg):
            from scalinglaws.studies.executors import SerialExecutor

            return SerialExecutor().submit(slow_unit, arg)

        def wait_first(self, futures, timeout=None):
            return set(futures)

        def result(self, future):
            return future.result()

        def cancel_queued(self):
            pass

        def abort(self):
            pass

    started = time.time()
    summary = run_study(study, store=store, executor=SlowSerial(), lease_s=lease_s)
    assert summary.computed == 1
    (expires_at,) = seen[0]
    assert expires_at > started + 2 * lease_s  # renewed at least once past the first lease
