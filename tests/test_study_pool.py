"""The local worker pool: futures complete on their own, errors come back, queued tasks cancel, a
killed worker fails only its own task, and no worker outlives ``close``."""

from __future__ import annotations

import concurrent.futures as cf
import os
import signal
import time

import pytest

from scalinglaws.studies.executors import ProcessExecutor
from scalinglaws.studies.pool import WorkerLost, describe_exit


@pytest.fixture(scope="module")
def pool():
    executor = ProcessExecutor(workers=2)
    yield executor
    executor.close()


def test_results_and_errors_come_back_without_a_wait_loop(pool):
    assert pool.submit(abs, -3).result(timeout=60) == 3
    with pytest.raises(ValueError, match="invalid literal"):
        pool.submit(int, "x").result(timeout=60)
    futures = [pool.submit(abs, -n) for n in range(6)]
    assert [f.result(timeout=60) for f in futures] == list(range(6))


def test_queued_tasks_cancel_and_running_ones_finish(pool):
    running = [pool.submit(time.sleep, 0.5) for _ in range(2)]
    time.sleep(0.1)  # both workers busy now
    queued = [pool.submit(abs, -1) for _ in range(3)]
    pool.cancel_queued()
    done, _ = cf.wait(queued, timeout=5)
    assert done == set(queued) and all(f.cancelled() for f in queued)
    assert [f.result(timeout=60) for f in running] == [None, None]


def test_a_killed_worker_fails_its_own_task_only():
    executor = ProcessExecutor(workers=2)
    try:
        assert executor.submit(abs, -1).result(timeout=60) == 1  # the workers are up
        # idle workers take tasks in order: worker 0 the victim, worker 1 the survivor
        victim, survivor = executor.submit(time.sleep, 30), executor.submit(time.sleep, 0.5)
        time.sleep(0.2)
        os.kill(executor.pids[0], signal.SIGKILL)
        with pytest.raises(WorkerLost, match="SIGKILL"):
            victim.result(timeout=30)
        assert survivor.result(timeout=30) is None  # the other worker's unit still finishes
        with pytest.raises(WorkerLost):  # a lost worker fails the run: no new work
            executor.submit(abs, -1).result(timeout=5)
    finally:
        executor.abort()
    for pid in executor.pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_describe_exit_names_the_signal():
    assert describe_exit(-9).startswith("was killed by signal SIGKILL")
    assert describe_exit(3) == "exited with status 3"
