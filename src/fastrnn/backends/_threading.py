"""One thread setting for every CPU backend: ``fastrnn.set_num_threads`` / ``get_num_threads``.

The setting, in order: ``set_num_threads(n)``; else ``FASTRNN_NUM_THREADS``; else
``OMP_NUM_THREADS``; else one thread inside a worker process or a Dask worker (a library call
inside a parallel job must not multiply the job's parallelism: joblib's loky and Dask's nanny set
``OMP_NUM_THREADS`` for their workers, a plain ``multiprocessing`` pool does not); else the CPUs
this process may run on. It governs the compiled core's pool and the numba backend's calls (numba's
own pool size, ``NUMBA_NUM_THREADS``, is fixed when numba starts; the setting is capped at it).
"""

from __future__ import annotations

import multiprocessing
import os
import sys

from fastrnn import _params

ENVIRONMENT = ("FASTRNN_NUM_THREADS", "OMP_NUM_THREADS")

_explicit: int | None = None


def cpu_count():
    """The CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _from_environment():
    for name in ENVIRONMENT:
        value = os.environ.get(name, "")
        head = value.split(",")[0].strip()  # OpenMP's nested form "4,2" reads as 4
        if head.isdigit() and int(head) >= 1:
            return min(int(head), 1024)
    return None


def inside_worker():
    """True in a process started by multiprocessing (joblib's loky included) or in a thread of a
    Dask worker."""
    if multiprocessing.parent_process() is not None:
        return True
    distributed = sys.modules.get("distributed")
    if distributed is not None:
        try:
            distributed.get_worker()
            return True
        except (ValueError, AttributeError):
            pass
    return False


def get_num_threads():
    """The threads a kernel call may use (see the module's docstring for the order)."""
    if _explicit is not None:
        return _explicit
    from_env = _from_environment()
    if from_env is not None:
        return from_env
    return 1 if inside_worker() else cpu_count()


def set_num_threads(threads):
    """Sets the threads every CPU backend's calls may use, from the next call on; ``None`` goes
    back to the default (environment, worker rule, CPU count)."""
    global _explicit
    if threads is not None:
        _params.positive_int(threads, "threads")
    _explicit = threads
    apply()


def apply():
    """Hands the setting to the compiled core, where it is loaded (the core reads the
    environment itself, but not the worker rule or set_num_threads)."""
    core = sys.modules.get("fastrnn.backends._core")
    if core is not None and hasattr(core, "set_max_threads"):
        core.set_max_threads(get_num_threads())


def numba_threads(pool_size):
    """The threads a numba call may use: the setting, capped at numba's pool size."""
    return max(1, min(get_num_threads(), pool_size))
