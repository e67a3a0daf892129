"""A small pool of local worker processes that cannot outlive the runner.

Each worker is a fresh Python process (``subprocess``; no fork of a threaded runner, no forkserver,
no resource tracker) in a session of its own, talking to the runner over a socket pair; see
:mod:`scalinglaws.studies._worker` for its side. Consequences, each a reason for this design:

* a terminal's Ctrl-C reaches the runner only, even while the workers are still starting, so the
  runner decides what happens to the units in flight;
* a worker follows its parent (``PR_SET_PDEATHSIG`` on Linux, and a thread watching
  ``os.getppid()``), so a ``kill -9`` of the runner leaves no process behind;
* a worker that dies (a ``kill``, the out-of-memory killer) fails only the unit it was computing,
  with :class:`WorkerLost` saying how it died; the other workers go on, so the runner can store
  their units before it reports the loss.

One thread of the runner sends tasks to idle workers and reads their answers, so the futures of
:meth:`WorkerPool.submit` complete on their own (``future.result()`` works without a wait loop).
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
from collections import deque
from multiprocessing.connection import Connection, wait

__all__ = ["WorkerLost", "WorkerPool"]

_BLAS_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_BOOT = (
    "import json, os, sys; "
    "sys.path[:0] = [p for p in json.loads(os.environ.pop('_SCALINGLAWS_PATH')) "
    "if p not in sys.path]; "
    "from scalinglaws.studies._worker import main; main(sys.argv[1:])"
)


class WorkerLost(RuntimeError):
    """A worker process died (killed by a signal, e.g. out of memory) while it held a task."""


class _Worker:
    def __init__(self, index: int, env: dict, deathsig: bool) -> None:
        ours, theirs = socket.socketpair()
        main_path = _main_path()
        command = [sys.executable, "-c", _BOOT, str(theirs.fileno()), str(os.getpid())]
        command += ["1" if deathsig else "0", main_path]
        try:
            self.proc = subprocess.Popen(
                command,
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=_stderr_fd(),  # a stray print must not mix with the runner's output
                env=env,
                start_new_session=True,
            )
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        self.index = index
        self.task: cf.Future | None = None
        self.alive = True


def _stderr_fd():
    try:
        return sys.__stderr__.fileno()
    except (AttributeError, OSError, ValueError):
        return subprocess.DEVNULL


def _main_path() -> str:
    """The runner's script, if it is one (``python script.py``), for functions defined there."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if getattr(main, "__spec__", None) is None and path and path.endswith(".py"):
        return os.path.abspath(path)
    return ""


def describe_exit(returncode: int | None) -> str:
    """How a process ended, in words: ``killed by signal SIGKILL`` or ``exited with status 1``."""
    if returncode is None:
        return "stopped answering"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = str(-returncode)
        hint = " (the system may have run out of memory)" if name == "SIGKILL" else ""
        return f"was killed by signal {name}{hint}"
    return f"exited with status {returncode}"


class WorkerPool:
    """``workers`` local worker processes with one BLAS thread each.

    The workers start at once (each imports the engine and warms it up, about a second, in
    parallel with the runner); tasks queue until a worker is free.
    """

    def __init__(self, workers: int) -> None:
        if os.environ.get("_SCALINGLAWS_WORKER"):
            raise RuntimeError(
                "a worker process may not start workers of its own: put the script's main code "
                "under `if __name__ == '__main__':` (workers import the script)"
            )
        env = {**os.environ, **dict.fromkeys(_BLAS_VARIABLES, "1"), "_SCALINGLAWS_WORKER": "1"}
        env["_SCALINGLAWS_PATH"] = json.dumps([p for p in sys.path if p])
        # PR_SET_PDEATHSIG fires when the *thread* that started a worker ends: ask for it only
        # from the main thread, which lives as long as the process.
        deathsig = threading.current_thread() is threading.main_thread()
        self._lock = threading.Lock()
        self._queue: deque = deque()
        self._closing = False
        self._lost: WorkerLost | None = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._workers: list[_Worker] = []
        try:
            for index in range(workers):
                self._workers.append(_Worker(index, env, deathsig))
        except BaseException:
            self.abort()
            raise
        self._thread = threading.Thread(target=self._serve, name="scalinglaws-pool", daemon=True)
        self._thread.start()

    @property
    def pids(self) -> list[int]:
        """Process ids of the workers."""
        return [w.proc.pid for w in self._workers]

    def submit(self, fn, arg) -> cf.Future:
        """Queue ``fn(arg)``; its future completes when a worker has answered."""
        future: cf.Future = cf.Future()
        with self._lock:
            if self._closing:
                raise RuntimeError("the worker pool is closed")
            if self._lost is not None:
                future.set_exception(self._lost)
                return future
            self._queue.append((future, fn, arg))
        self._wake()
        return future

    def cancel_queued(self) -> None:
        """Cancel the tasks that no worker has started."""
        with self._lock:
            while self._queue:
                future = self._queue.popleft()[0]
                future.cancel()
                future.set_running_or_notify_cancel()  # now a waiter sees it as done

    def close(self) -> None:
        """Cancel queued tasks, wait for the running ones, then stop the workers."""
        with self._lock:
            self._closing = True
        self.cancel_queued()
        self._wake()
        self._thread.join()
        for worker in self._workers:
            if worker.alive:
                try:
                    worker.conn.send_bytes(pickle.dumps(None))
                except OSError:
                    pass
        for worker in self._workers:
            try:
                worker.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                worker.proc.kill()
                worker.proc.wait()
            worker.conn.close()
        self._wake_r.close()
        self._wake_w.close()

    def abort(self) -> None:
        """Kill every worker now; running tasks fail with :class:`WorkerLost`."""
        with self._lock:
            self._closing = True
        self.cancel_queued()
        for worker in self._workers:
            worker.proc.kill()
        for worker in self._workers:
            worker.proc.wait()
        if getattr(self, "_thread", None) is not None:
            self._wake()
            self._thread.join()

    # -- the pool's thread ---------------------------------------------------------------------
    def _wake(self) -> None:
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass

    def _serve(self) -> None:
        while True:
            self._dispatch()
            busy = [w for w in self._workers if w.alive and w.task is not None]
            with self._lock:
                if self._closing and not busy:
                    return
            waiting = [w.conn for w in self._workers if w.alive] + [self._wake_r]
            for ready in wait(waiting, timeout=1.0):
                if ready is self._wake_r:
                    self._wake_r.recv(4096)
                    continue
                self._receive(next(w for w in self._workers if w.conn is ready))

    def _dispatch(self) -> None:
        for worker in self._workers:
            if not worker.alive or worker.task is not None:
                continue
            with self._lock:
                item = self._queue.popleft() if self._queue else None
            if item is None:
                return
            future, fn, arg = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                data = pickle.dumps((fn, arg))
            except Exception as err:  # noqa: BLE001 - belongs to this task's future
                future.set_exception(err)
                continue
            worker.task = future
            try:
                worker.conn.send_bytes(data)
            except OSError:
                self._died(worker)

    def _receive(self, worker: _Worker) -> None:
        try:
            ok, value = pickle.loads(worker.conn.recv_bytes())
        except (EOFError, OSError):
            self._died(worker)
            return
        future, worker.task = worker.task, None
        if future is None:
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def _died(self, worker: _Worker) -> None:
        worker.alive = False
        try:
            returncode = worker.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            worker.proc.kill()
            returncode = worker.proc.wait()
        lost = WorkerLost(f"worker process {worker.proc.pid} {describe_exit(returncode)}")
        future, worker.task = worker.task, None
        if future is not None and not future.done():
            future.set_exception(lost)
        with self._lock:
            # A lost worker is a failure of the run: new and queued tasks fail the same way.
            self._lost = self._lost or lost
            while self._queue:
                queued = self._queue.popleft()[0]
                if queued.set_running_or_notify_cancel():
                    queued.set_exception(lost)
