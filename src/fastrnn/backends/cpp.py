"""The compiled C++ backend: fastrnn.backends._core, whose functions already have the backend
signature. This module is the only importer of ``_core``."""

from fastrnn.backends import _core, _threading
from fastrnn.backends._core import (elman_backward, elman_forward, gru_backward,  # noqa: F401
                                    gru_forward, lstm_backward, lstm_forward)
from fastrnn.backends._core import empty_call  # noqa: F401  (the benchmarks' call floor)

# Besides the cells it has functions for, this backend trains whole epochs in C++ (``Trainer``)
# where the build has it (the registry's ``capabilities``).
CAPABILITIES = {"fused_training": hasattr(_core, "Trainer"), "device": "cpu", "masks": True}

Trainer = getattr(_core, "Trainer", None)

_threading.apply()  # the worker rule and set_num_threads, which the core cannot see itself


def is_built():
    return True


def is_available():
    return True


def why_unavailable():
    return ""


def threads():
    return _core.max_threads()


def isa():
    """The instruction-set variant of the kernels chosen at load time ("avx512", "avx2",
    "baseline"; FASTRNN_ISA overrides)."""
    return _core.isa()
