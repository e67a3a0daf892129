"""The main loop of one worker process of :class:`scalinglaws.studies.pool.WorkerPool`.

Started as ``python -c "...; main(argv)"`` with ``argv = [fd, parent_pid, deathsig, main_path]``:
``fd`` is this worker's end of a socket pair to the runner. The worker

1. ignores SIGINT (it runs in a session of its own, so a terminal's Ctrl-C reaches only the runner,
   which decides what happens to the units in flight);
2. follows its parent: on Linux the kernel kills it when the runner dies (``PR_SET_PDEATHSIG``),
   and everywhere a daemon thread exits it within a fraction of a second once its parent is gone
   (``os.getppid()`` changes), so no worker outlives a ``kill -9`` of the runner;
3. limits BLAS to one thread and warms the engine up (lazy imports would land on the first unit);
4. then receives ``(fn, arg)`` pairs and answers ``(True, fn(arg))`` or ``(False, exception)``
   until it receives ``None`` or its socket closes.

This module imports only the standard library at import time: it is the first thing a worker runs.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
import time
from multiprocessing.connection import Connection

_POLL_S = 0.2
_PR_SET_PDEATHSIG = 1
_LIMITS: list = []  # keeps the worker's threadpoolctl limit alive for the life of the process


def main(argv: list[str]) -> None:
    """Run the worker loop on the socket ``argv[0]`` until told to stop."""
    fd, parent, deathsig, main_path = int(argv[0]), int(argv[1]), argv[2] == "1", argv[3]
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    follow_parent(parent, deathsig=deathsig)
    if main_path:  # the runner's script, so that functions defined there unpickle here
        from multiprocessing.spawn import import_main_path

        import_main_path(main_path)
    conn = Connection(fd)
    _prepare()
    while True:
        try:
            message = conn.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            task = pickle.loads(message)
        except Exception as err:  # noqa: BLE001 - reported to the runner as this task's error
            _answer(conn, (False, err))
            continue
        if task is None:
            return
        fn, arg = task
        try:
            answer = (True, fn(arg))
        except Exception as err:  # noqa: BLE001 - the unit's error belongs to its future
            answer = (False, err)
        _answer(conn, answer)


def follow_parent(parent: int, *, deathsig: bool) -> None:
    """Exit when the process ``parent`` dies: at once on Linux, within ``_POLL_S`` elsewhere."""
    if deathsig and sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(_POLL_S)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="scalinglaws-follow-parent", daemon=True).start()


def _prepare() -> None:
    """One BLAS thread for the life of the process; a tiny grid once, so that the first unit does
    not pay for lazy imports (xarray's array backends, LAPACK wrappers: ~0.4 s)."""
    from threadpoolctl import threadpool_limits

    _LIMITS.append(threadpool_limits(limits=1))
    from ..model.spec import ModelSpec
    from ..model.spectrum import Spectrum
    from ..sampling.simulate import simulate

    simulate(
        ModelSpec(spectrum=Spectrum.power_law(latent_dim=4, alpha=1.0)),
        n_features=[2, 3],
        n_samples=[2, 3],
        ridges=[0.0, 1.0],
    )


def _answer(conn: Connection, answer: tuple) -> None:
    try:
        data = pickle.dumps(answer)
    except Exception as err:  # noqa: BLE001 - an unpicklable result or exception
        data = pickle.dumps((False, RuntimeError(f"{type(err).__name__}: {err}")))
    conn.send_bytes(data)
