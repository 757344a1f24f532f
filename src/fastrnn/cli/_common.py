"""What every command shares: the one-line error, the thread setting, the backend check."""

from __future__ import annotations

import os

from fastrnn import _params, backends


class CLIError(Exception):
    """An error reported as one line, without a traceback."""


def set_threads(n, torch_too=False):
    """OMP_NUM_THREADS for the compiled core (read when it is first loaded: the commands call
    this before touching a backend), and PyTorch's thread count when asked."""
    if n is None:
        return
    try:
        _params.positive_int(n, "--threads")
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    os.environ["OMP_NUM_THREADS"] = str(n)
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
