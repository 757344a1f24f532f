"""Reused memory for the large arrays of the pure-Python backends (the C++ core has its own pool).

A fresh multi-megabyte NumPy array costs a page fault per 4 KiB page on first write, and freeing
it returns the pages to the kernel (munmap), so a training step that allocates and frees its
outputs and scratch pays both every time (a large part of a training step on the numba
backend: bench/NOTES.md). ``empty`` hands out arrays whose memory comes from a pool of
previously used buffers of the same size; when the last array (or view) using a buffer is
freed, the buffer goes back to the pool instead of to the kernel.

How a buffer finds its way back without C code: the array is built from a small owner object
through ``__array_interface__``, so NumPy keeps the owner as the array's ``base``; the owner's
``__del__`` runs when the last view is gone and queues the buffer; the next ``empty`` moves it
back into the pool (see ``_returned`` for why __del__ does no more). Arrays under
``MIN_BYTES`` use NumPy's allocator (malloc reuses those well). The pool keeps at most
``POOL_BYTES`` of idle buffers, dropping the oldest first.
"""

from __future__ import annotations

import collections
import math
import threading

import numpy as np

MIN_BYTES = 1 << 20
POOL_BYTES = 2 << 30  # as the core's pool: the train-large LSTM's gates alone are 512 MiB

_lock = threading.Lock()  # guards _idle and _idle_bytes
_idle: list = []  # buffers (uint8 arrays), oldest first
_idle_bytes = 0
# Buffers given back by _Owner.__del__ and not yet in _idle. __del__ may run at any allocation,
# in any thread, even while this thread holds _lock inside _take (the cyclic GC): so it only
# appends here (atomic, no lock), and _take moves them to _idle under the lock.
_returned: collections.deque = collections.deque()


def _drain():
    """Moves returned buffers into _idle, dropping the oldest beyond POOL_BYTES. Holds _lock."""
    global _idle_bytes
    while _returned:
        buf = _returned.popleft()
        if buf.nbytes > POOL_BYTES:
            continue
        while _idle and _idle_bytes + buf.nbytes > POOL_BYTES:
            _idle_bytes -= _idle.pop(0).nbytes
        _idle.append(buf)
        _idle_bytes += buf.nbytes


def _take(nbytes):
    global _idle_bytes
    with _lock:
        _drain()
        for i in range(len(_idle)):
            if _idle[i].nbytes == nbytes:
                _idle_bytes -= nbytes
                return _idle.pop(i)
    return np.empty(nbytes, np.uint8)


def _give_back(buf):
    _returned.append(buf)


class _Owner:
    """Holds a pooled buffer for the arrays made from it; returns it to the pool when freed."""

    __slots__ = ("buffer", "__array_interface__")

    def __init__(self, buffer, shape, dtype):
        self.buffer = buffer
        self.__array_interface__ = {"shape": shape, "typestr": dtype.str, "version": 3,
                                    "data": (buffer.ctypes.data, False)}

    def __del__(self):
        try:
            _give_back(self.buffer)
        except Exception:  # interpreter shutdown: module globals may already be gone
            pass


def empty(shape, dtype):
    """An uninitialised C-contiguous array like ``np.empty(shape, dtype)``, from the pool when it
    is at least MIN_BYTES."""
    dtype = np.dtype(dtype)
    shape = tuple(int(s) for s in shape)
    nbytes = dtype.itemsize * math.prod(shape)
    if nbytes < MIN_BYTES:
        return np.empty(shape, dtype)
    return np.asarray(_Owner(_take(nbytes), shape, dtype))


def idle_bytes():
    """Bytes held by idle buffers (for tests)."""
    with _lock:
        _drain()
        return _idle_bytes
