"""How many worker processes a parallel run starts, and their end with the process that
started them.

``worker_count(n_jobs, n_tasks)`` reads ``n_jobs`` as joblib does (-1 all cores, -2 all but
one, ...) but never gives more workers than the cores this process may run on (its affinity
mask) or than the tasks: ``--jobs 100000`` must not start 100000 processes. Under a joblib
backend that runs elsewhere (Dask, ...) only the task cap applies.

``end_with_parent(parent)``, called at the start of each task, makes a worker process end
when the process that started it dies (killed, crashed): joblib's loky workers notice that
only between tasks, and a fit can run for minutes.
"""

from __future__ import annotations

import os
import threading
import time

from fastrnn import _params
from fastrnn.backends import _threading

__all__ = ["end_with_parent", "usable_cores", "worker_count"]

_JOBS = _params.Int(none_ok=True)
# joblib's backends that run on this machine: their workers are capped at its cores
_LOCAL_BACKENDS = ("LokyBackend", "MultiprocessingBackend", "ThreadingBackend",
                   "SequentialBackend")


def usable_cores():
    """The CPU cores this process may run on (its affinity mask where the OS has one)."""
    return _threading.cpu_count()


def worker_count(n_jobs, n_tasks):
    """How many workers to start for `n_tasks` tasks: `n_jobs` as joblib reads it
    (-1 all cores, -2 all but one, ...), never more than the cores this process may use nor
    than `n_tasks`. None stays None (one worker, or what an enclosing
    ``joblib.parallel_backend`` says). Under a backend that does not run here (Dask, ...) only
    the task cap applies."""
    n_jobs = _params.check(n_jobs, "n_jobs", _JOBS)
    if n_jobs == 0:
        raise ValueError("n_jobs must be a nonzero int (N, or -1 for all cores) or None, got 0")
    if n_jobs is None:
        return None
    cores = usable_cores()
    if n_jobs < 0:
        n_jobs = max(cores + 1 + n_jobs, 1)
    if _backend_is_local():
        n_jobs = min(n_jobs, cores)
    return max(min(n_jobs, n_tasks), 1)


def _backend_is_local():
    try:
        from joblib.parallel import get_active_backend
    except ImportError:
        return True
    return type(get_active_backend()[0]).__name__ in _LOCAL_BACKENDS


_watching = False


def end_with_parent(parent):
    """In a worker process started by the process `parent` (a joblib/loky worker): a daemon
    thread that ends this process once `parent` is gone (a child's parent pid changes when
    its parent dies), so that a killed run leaves no workers fitting on. Nothing happens in
    `parent` itself (sequential, threads) or where `parent` is not the parent (a Dask worker)."""
    global _watching
    if _watching or os.name != "posix" or os.getpid() == parent or os.getppid() != parent:
        return
    _watching = True

    def watch():
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name="fastrnn-parent-watch", daemon=True).start()
