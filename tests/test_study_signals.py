"""Runs that are stopped from outside: Ctrl-C as workers start, a killed worker, a killed runner.

Each test starts ``scalinglaws study run`` as a subprocess with a marker in its environment, which
every process it starts inherits; scanning ``/proc`` for the marker finds them all, whoever their
parent is by then.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from scalinglaws.studies import load_study, plan_units

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads processes from /proc"
)

#: ~0.1-0.2 s per unit, 24 simulation units, no ridgeless pole (no warnings on stderr).
STUDY = """
[study]
name = "signals"
seed = 7

[grid]
n_features = [16, 32, 64, 128]
n_samples = [16, 32, 64, 128]
ridges = [1e-3, 1e-2]
seeds = 12
alpha = [0.5, 1.0]

[[spec]]
name = "lin"
noise_var = 0.05
spectrum = { kind = "power_law", latent_dim = 300 }
"""


_STARTED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _kill_leftover_runners():
    """A failed test must not leave its runner (and so its workers) running."""
    yield
    while _STARTED:
        proc = _STARTED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def start_runner(path: Path, marker: str, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "scalinglaws.cli.main", "study", "run", str(path)]
    proc = subprocess.Popen(
        [*command, "--no-progress", "--executor", "processes", "--workers", "2", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "SCALINGLAWS_TEST_MARKER": marker},
        start_new_session=True,  # as a terminal's job: a process group of its own
    )
    _STARTED.append(proc)
    return proc


def marked_processes(marker: str) -> list[int]:
    """Pids of live processes whose environment holds ``marker`` (zombies excluded)."""
    needle = f"SCALINGLAWS_TEST_MARKER={marker}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            if needle not in Path(f"/proc/{entry}/environ").read_bytes():
                continue
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if state != "Z":
            found.append(int(entry))
    return found


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if entry.isdigit() and int(fields[1]) == pid:
            found.append(int(entry))
    return found


def count_units(store: Path) -> int:
    try:
        with sqlite3.connect(store, timeout=30) as conn:
            return conn.execute("SELECT COUNT(*) FROM units").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def wait_until(condition, proc: subprocess.Popen, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if value := condition():
            return value
        time.sleep(0.01)
    proc.kill()
    raise AssertionError(f"the runner did not reach {what} in time: {proc.communicate()}")


def assert_no_survivor(marker: str, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while (alive := marked_processes(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive, f"processes of the runner survive it: {alive}"


def resume(path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "scalinglaws.cli.main", "study", "run", str(path), "--no-progress"],
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    study = load_study(path)
    assert count_units(study.store) == len(plan_units(study))


@pytest.fixture
def study_path(tmp_path) -> Path:
    path = tmp_path / "signals.toml"
    path.write_text(STUDY)
    return path


def test_ctrl_c_while_workers_start_exits_130_in_one_line_and_resumes(study_path):
    marker = uuid.uuid4().hex
    proc = start_runner(study_path, marker)
    wait_until(lambda: len(marked_processes(marker)) >= 3, proc, "starting its workers")
    time.sleep(0.3)  # the workers are importing the engine now (about a second)
    assert count_units(load_study(study_path).store) == 0
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole job
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert b"Traceback" not in err and b"BrokenProcessPool" not in err
    assert b"interrupted" in out
    assert_no_survivor(marker)
    resume(study_path)


def test_killed_worker_is_a_one_line_error_and_the_finished_units_stay(study_path):
    marker = uuid.uuid4().hex
    store = load_study(study_path).store
    proc = start_runner(study_path, marker)
    wait_until(lambda: count_units(store) >= 3, proc, "3 stored units")
    os.kill(children(proc.pid)[0], signal.SIGKILL)  # as the out-of-memory killer would
    _, err = proc.communicate(timeout=60)
    text = err.decode()
    assert proc.returncode == 1, text
    assert "Traceback" not in text
    (line,) = [line for line in text.splitlines() if line.startswith("error:")]
    assert "SIGKILL" in line and "run the same command again" in line
    stored = count_units(store)
    assert 3 <= stored < len(plan_units(load_study(study_path)))
    assert f"{stored}/24 units are stored" in line
    assert_no_survivor(marker)
    resume(study_path)


def test_kill_9_of_the_runner_leaves_no_process_behind(study_path):
    marker = uuid.uuid4().hex
    store = load_study(study_path).store
    proc = start_runner(study_path, marker)
    wait_until(lambda: count_units(store) >= 2, proc, "2 stored units")
    started = marked_processes(marker)
    assert len(started) >= 3, "the runner and its two workers"
    os.kill(proc.pid, signal.SIGKILL)  # the runner only: its workers must notice by themselves
    proc.wait(timeout=30)
    assert_no_survivor(marker, within=3.0)
    resume(study_path)  # the dead runner's claims on this machine are taken over at once
