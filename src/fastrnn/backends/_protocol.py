"""The backend protocol: what every backend module (numpy, numba, cpp, cuda) provides.

The registry (``fastrnn.backends``) loads a backend module by name and calls these; ``ops``
validates nothing itself and passes the backend the user's arrays. Shapes use the glossary of
``fastrnn.ops`` (B batch, T steps, I inputs, H units). ``saved`` is the backend's own record of a
forward pass (opaque to callers; ``ops.Cache`` carries it to the matching backward).

A backend runs the cells whose two functions it defines: ``capabilities(name)["cells"]`` is
derived from the functions present, so a backend may leave a cell out.

What every backend keeps besides the signatures (tests/kernels/test_backend_contract.py): inputs in
either byte order are accepted; the h_seq a forward function returns cannot be used to change
``saved`` (a read-only view of the array ``saved`` holds); a backward function re-checks
``saved`` and raises ValueError naming the cache for anything it did not make; T = 0 gives zero
weight gradients; a long call stops within about a second on Ctrl-C (KeyboardInterrupt).

Masks: every forward function takes ``mask`` (None, or Keras's bool / uint8 (B, T) step mask;
``fastrnn.ops`` says what it means). A backend whose ``CAPABILITIES["masks"]`` is True runs it in
its kernels and records it in ``saved`` for the backward function (which takes no mask of its
own); one whose kernels cannot (cuda) raises ValueError naming ``mask`` for anything but None.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["Backend", "CellFunctions"]

Array = Any  # a NumPy array (or, on the CUDA backend, also a device array)


@runtime_checkable
class Backend(Protocol):
    """The module-level names of a backend."""

    CAPABILITIES: dict  # {"fused_training": bool, "device": "cpu" | "gpu", "masks": bool}

    def is_built(self) -> bool: ...
    def is_available(self) -> bool: ...
    def why_unavailable(self) -> str: ...
    def threads(self) -> int: ...


class CellFunctions(Protocol):
    """The cell functions a backend defines, one forward and one backward per cell."""

    def elman_forward(self, x: Array, W: Array, U: Array, b: Array, h0: Array | None,
                      activation: str, mask: Array | None = None) -> tuple:
        """-> (h_seq (B, T, H), h_last (B, H), saved)"""

    def elman_backward(self, saved: Any, dh_seq: Array | None, dh_last: Array | None,
                       activation: str) -> tuple:
        """-> (dx, dW, dU, db, dh0)"""

    def lstm_forward(self, x: Array, W: Array, U: Array, b: Array, h0: Array | None,
                     c0: Array | None, activation: str, recurrent_activation: str,
                     mask: Array | None = None) -> tuple:
        """-> (h_seq, h_last, c_last, saved)"""

    def lstm_backward(self, saved: Any, dh_seq: Array | None, dh_last: Array | None,
                      dc_last: Array | None, activation: str) -> tuple:
        """-> (dx, dW, dU, db, dh0, dc0)"""

    def gru_forward(self, x: Array, W: Array, U: Array, b: Array, h0: Array | None,
                    reset_after: bool, activation: str, recurrent_activation: str,
                    mask: Array | None = None) -> tuple:
        """-> (h_seq, h_last, saved)"""

    def gru_backward(self, saved: Any, dh_seq: Array | None, dh_last: Array | None,
                     reset_after: bool, activation: str) -> tuple:
        """-> (dx, dW, dU, db, dh0)"""
