"""What every command shares: the one-line error, the thread setting, the backend check."""

from __future__ import annotations

import os

from fastrnn import _params, backends
from fastrnn.backends import _threading


class CLIError(Exception):
    """An error reported as one line, without a traceback."""


def available_memory():
    """Bytes of memory this process can still get (Linux: MemAvailable, lowered by a cgroup
    v2 limit when there is one), or None where that cannot be read."""
    avail = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        return None
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            limit = f.read().strip()
        with open("/sys/fs/cgroup/memory.current") as f:
            used = int(f.read().strip())
        if limit != "max" and avail is not None:
            avail = min(avail, max(int(limit) - used, 0))
    except (OSError, ValueError):
        pass
    return avail


def readable_bytes(n):
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024


def set_threads(n, torch_too=False):
    """The one thread setting of every backend (fastrnn.set_num_threads), also put in the
    environment so that worker processes inherit it, and PyTorch's thread count when asked."""
    if n is None:
        return
    try:
        _params.positive_int(n, "--threads")
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    for name in _threading.ENVIRONMENT:
        os.environ[name] = str(n)
    os.environ.setdefault("NUMBA_NUM_THREADS", str(n))  # numba's pool size, read when it starts
    _threading.set_num_threads(n)
    if torch_too:
        try:
            import torch
        except ImportError:
            return
        torch.set_num_threads(n)


def check_available(names):
    """CLIError unless every backend in `names` can run here."""
    avail = backends.available()
    for name in names:
        if name not in avail:
            raise CLIError(f"backend {name!r} is not available here; available: "
                           f"{', '.join(avail)}")
