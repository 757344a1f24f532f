"""Typed stubs of fastrnn.backends._cuda, the CUDA backend (csrc/bindings/cuda.cpp).

Only ``fastrnn.backends.cuda`` imports the module; use ``fastrnn.ops`` with ``backend="cuda"``.
_Array arguments are NumPy arrays (copied to the GPU) or device arrays exposing
``__cuda_array_interface__`` (used in place). ``alloc(shape, dtype_name)`` makes the outputs
(e.g. torch.empty on the input's device); None gives DeviceArray results copied back to NumPy.
Without a GPU the module imports and every kernel call raises RuntimeError after the argument
checks.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
from numpy.typing import NDArray

_Array = Any  # a NumPy array, or a device array with __cuda_array_interface__
_Alloc = Callable[[tuple[int, ...], str], Any]
_Saved = tuple[Any, ...]

class DeviceArray:
    """GPU memory owned by fastrnn (the NumPy path's saved arrays)."""

    def __init__(self, shape: Sequence[int], dtype: str) -> None: ...
    @property
    def __cuda_array_interface__(self) -> dict[str, Any]: ...
    @property
    def shape(self) -> tuple[int, ...]: ...
    @property
    def dtype(self) -> np.dtype[Any]: ...
    @property
    def device(self) -> int: ...
    def get(self) -> NDArray[Any]:
        """A NumPy copy."""

def device_count() -> int:
    """Number of usable CUDA devices (0 without a GPU or driver)."""

def why_unavailable() -> str:
    """Why no CUDA device can be used ('' when one can)."""

def elman_forward(x: _Array, W: _Array, U: _Array, b: _Array, h0: _Array | None, activation: str,
                  alloc: _Alloc | None = None) -> tuple[_Array, _Array, _Saved]:
    """-> (h_seq, h_last, saved)"""

def elman_backward(saved: _Saved, dh_seq: _Array | None, dh_last: _Array | None, activation: str,
                   alloc: _Alloc | None = None) -> tuple[_Array, _Array, _Array, _Array, _Array]:
    """-> (dx, dW, dU, db, dh0)"""

def lstm_forward(x: _Array, W: _Array, U: _Array, b: _Array, h0: _Array | None, c0: _Array | None,
                 activation: str, recurrent_activation: str, alloc: _Alloc | None = None
                 ) -> tuple[_Array, _Array, _Array, _Saved]:
    """-> (h_seq, h_last, c_last, saved)"""

def lstm_backward(saved: _Saved, dh_seq: _Array | None, dh_last: _Array | None,
                  dc_last: _Array | None, activation: str, alloc: _Alloc | None = None
                  ) -> tuple[_Array, _Array, _Array, _Array, _Array, _Array]:
    """-> (dx, dW, dU, db, dh0, dc0)"""

def gru_forward(x: _Array, W: _Array, U: _Array, b: _Array, h0: _Array | None, reset_after: bool,
                activation: str, recurrent_activation: str, alloc: _Alloc | None = None
                ) -> tuple[_Array, _Array, _Saved]:
    """-> (h_seq, h_last, saved)"""

def gru_backward(saved: _Saved, dh_seq: _Array | None, dh_last: _Array | None, reset_after: bool,
                 activation: str, alloc: _Alloc | None = None
                 ) -> tuple[_Array, _Array, _Array, _Array, _Array]:
    """-> (dx, dW, dU, db, dh0)"""
