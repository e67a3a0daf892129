"""Running studies: resumable after SIGKILL, executor-independent, safe with concurrent writers."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from scalinglaws import ModelSpec
from scalinglaws.cli.main import main
from scalinglaws.sampling.simulate import simulate
from scalinglaws.studies import ResultStore, load_study, plan_units, run_study, study_frame

STUDY = """
[study]
name = "{name}"
compute = "{compute}"
seed = 7

[grid]
n_features = {grid}
n_samples = {grid}
ridges = [0.0, 0.01]
seeds = {seeds}
alpha = [0.5, 1.0]

[[spec]]
name = "lin"
noise_var = 0.05
spectrum = {{ kind = "power_law", latent_dim = 300 }}
"""

SMALL = {"grid": "[8, 16, 32, 64]", "seeds": 3, "compute": "simulation"}
#: ~0.1-0.2 s per unit, 24 simulation units: long enough to be killed partway.
KILLABLE = {"grid": "[16, 32, 64, 128]", "seeds": 12, "compute": "simulation"}


def write_study(tmp_path: Path, *, name: str = "s", **fields) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(STUDY.format(name=name, **{**SMALL, **fields}))
    return path


def cli_run(path: Path, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "scalinglaws.cli.main", "study", "run", str(path)]
    return subprocess.Popen(
        [*command, "--no-progress", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: the kill reaches its workers too
    )


def count_units(store: Path) -> int:
    if not store.exists():
        return 0
    try:
        with sqlite3.connect(store, timeout=30) as conn:
            return conn.execute("SELECT COUNT(*) FROM units").fetchone()[0]
    except sqlite3.OperationalError:  # tables not created yet
        return 0


def wait_for_rows(store: Path, proc: subprocess.Popen, rows: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if (n := count_units(store)) >= rows:
            return n
        time.sleep(0.01)
    raise AssertionError(f"the study did not reach {rows} stored units in time")


def values(study, store: Path):
    """The study's stored cells, sorted, as (keys, N, P, ridge, test_mse, excess) arrays."""
    with ResultStore(store) as opened:
        frame = study_frame(study, opened)
    frame = frame.sort_values(["unit_key", "n_features", "n_samples", "ridge"])
    return frame[["unit_key", "n_features", "n_samples", "ridge", "test_mse", "excess"]]


def assert_bit_identical(a, b) -> None:
    assert list(a.unit_key) == list(b.unit_key)
    for name in ("n_features", "n_samples", "ridge"):
        np.testing.assert_array_equal(a[name].to_numpy(), b[name].to_numpy())
    for name in ("test_mse", "excess"):  # exact equality: the same numbers, NaN where NaN
        np.testing.assert_array_equal(a[name].to_numpy(), b[name].to_numpy(), strict=True)


def assert_complete_once(study, store: Path) -> None:
    units = plan_units(study)
    with sqlite3.connect(store) as conn:
        keys = [row[0] for row in conn.execute("SELECT unit_key FROM units")]
        cells = conn.execute("SELECT COUNT(*) FROM cells").fetchone()[0]
    assert len(keys) == len(units) == len(set(keys))
    assert set(keys) == {u.key for u in units}
    grid = units[0].grid
    per_unit = len(grid["n_features"]) * len(grid["n_samples"]) * len(grid["ridges"])
    assert cells == len(units) * per_unit


def test_study_resumes_after_sigkill_bit_identical(tmp_path):
    path = write_study(tmp_path, name="killed", **KILLABLE)
    study = load_study(path)
    total = len(plan_units(study))
    proc = cli_run(path, "--executor", "processes", "--workers", "2")
    wait_for_rows(study.store, proc, 3)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    partial = count_units(study.store)
    assert 3 <= partial < total, "the kill must land partway through the study"

    resumed = cli_run(path, "--executor", "processes", "--workers", "2", "--json")
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err.decode()
    assert f'"already_done": {partial}' in out.decode()
    assert_complete_once(study, study.store)

    fresh = tmp_path / "fresh.sqlite"
    run_study(study, store=fresh, executor="serial")
    assert_bit_identical(values(study, study.store), values(study, fresh))


def test_study_executors_give_identical_numbers(tmp_path):
    distributed = pytest.importorskip("distributed")
    study = load_study(write_study(tmp_path))
    stores = {name: tmp_path / f"{name}.sqlite" for name in ("serial", "processes", "dask")}
    run_study(study, store=stores["serial"], executor="serial")
    run_study(study, store=stores["processes"], executor="processes", workers=2)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        summary = run_study(
            study, store=stores["dask"], executor="dask", scheduler=cluster.scheduler_address
        )
    assert summary.computed == len(plan_units(study))
    reference = values(study, stores["serial"])
    for name in ("processes", "dask"):
        assert_bit_identical(values(study, stores[name]), reference)


def test_study_unit_equals_a_bare_simulate_call(tmp_path):
    study = load_study(write_study(tmp_path))
    store = tmp_path / "one.sqlite"
    run_study(study, store=store, executor="serial")
    unit = next(u for u in plan_units(study) if u.seed == 2)
    ds = simulate(
        ModelSpec.from_dict(unit.spec),
        n_features=unit.grid["n_features"],
        n_samples=unit.grid["n_samples"],
        ridges=unit.grid["ridges"],
        seeds=[2],
        rng=7,
    )
    got = values(study, store)
    got = got[got.unit_key == unit.key]
    np.testing.assert_array_equal(got.excess.to_numpy(), ds.excess.values.ravel(), strict=True)


def test_study_concurrent_writers_store_each_unit_once(tmp_path):
    path = write_study(tmp_path, name="shared", seeds=6)
    study = load_study(path)
    procs = [cli_run(path, "--executor", "serial", "--json") for _ in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    assert_complete_once(study, study.store)


def test_study_sigint_stops_after_units_in_flight(tmp_path):
    path = write_study(tmp_path, name="interrupted", **KILLABLE)
    study = load_study(path)
    proc = cli_run(path, "--executor", "processes", "--workers", "2")
    wait_for_rows(study.store, proc, 2)
    os.kill(proc.pid, signal.SIGINT)  # the parent only, as a terminal's Ctrl-C reaches it first
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert "Traceback" not in err.decode()
    stored = count_units(study.store)
    assert 2 <= stored < len(plan_units(study))
    with sqlite3.connect(study.store) as conn:  # no half-written unit: every unit has its cells
        orphans = conn.execute(
            "SELECT COUNT(*) FROM units u WHERE NOT EXISTS "
            "(SELECT 1 FROM cells c WHERE c.unit_id = u.id)"
        ).fetchone()[0]
    assert orphans == 0


def test_study_second_run_computes_nothing(tmp_path, capsys):
    path = write_study(tmp_path)
    assert main(["study", "run", str(path), "--executor", "serial", "--no-progress"]) == 0
    assert main(["study", "run", str(path), "--executor", "serial", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"computed": 0' in out and '"already_done": 6' in out
