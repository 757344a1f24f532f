"""Typed stubs of fastrnn.backends._core, the compiled CPU core (csrc/bindings).

Only ``fastrnn.backends.cpp`` imports the module; use ``fastrnn.ops`` and
``fastrnn.backends.fused_trainer()`` instead. Arrays are float32 or float64 (the dtype of x
decides, every other array must match it); shapes follow the glossary of ``fastrnn.ops``.
``_Saved`` is the opaque tuple a forward call returns for its backward call.
"""

from __future__ import annotations

from typing import Any, TypedDict

import numpy as np
from numpy.typing import ArrayLike, NDArray

_FloatArray = NDArray[np.floating[Any]]
_Saved = tuple[Any, ...]

# --- the cells (csrc/bindings/cells.cpp) ------------------------------------------------------

def elman_forward(x: ArrayLike, W: ArrayLike, U: ArrayLike, b: ArrayLike, h0: ArrayLike | None,
                  activation: str, mask: ArrayLike | None = None
                  ) -> tuple[_FloatArray, _FloatArray, _Saved]:
    """-> (h_seq (B,T,H), h_last (B,H), saved); mask: None or a bool / uint8 (B,T) step mask
    (the saved tuple then holds it as one extra, last entry)"""

def elman_backward(saved: _Saved, dh_seq: ArrayLike | None, dh_last: ArrayLike | None,
                   activation: str
                   ) -> tuple[_FloatArray, _FloatArray, _FloatArray, _FloatArray, _FloatArray]:
    """-> (dx, dW, dU, db, dh0)"""

def lstm_forward(x: ArrayLike, W: ArrayLike, U: ArrayLike, b: ArrayLike, h0: ArrayLike | None,
                 c0: ArrayLike | None, activation: str, recurrent_activation: str,
                 mask: ArrayLike | None = None
                 ) -> tuple[_FloatArray, _FloatArray, _FloatArray, _Saved]:
    """-> (h_seq (B,T,H), h_last (B,H), c_last (B,H), saved)"""

def lstm_backward(saved: _Saved, dh_seq: ArrayLike | None, dh_last: ArrayLike | None,
                  dc_last: ArrayLike | None, activation: str
                  ) -> tuple[_FloatArray, _FloatArray, _FloatArray, _FloatArray, _FloatArray,
                             _FloatArray]:
    """-> (dx, dW, dU, db, dh0, dc0)"""

def gru_forward(x: ArrayLike, W: ArrayLike, U: ArrayLike, b: ArrayLike, h0: ArrayLike | None,
                reset_after: bool, activation: str, recurrent_activation: str,
                mask: ArrayLike | None = None
                ) -> tuple[_FloatArray, _FloatArray, _Saved]:
    """-> (h_seq (B,T,H), h_last (B,H), saved)"""

def gru_backward(saved: _Saved, dh_seq: ArrayLike | None, dh_last: ArrayLike | None,
                 reset_after: bool, activation: str
                 ) -> tuple[_FloatArray, _FloatArray, _FloatArray, _FloatArray, _FloatArray]:
    """-> (dx, dW, dU, db, dh0)"""

# --- the fused trainer (csrc/bindings/train.cpp, fastrnn/train.hpp) ---------------------------

class _EpochResult(TypedDict):
    batches: int         # batches whose update was applied (and kept)
    samples: int         # their samples
    loss_sum: float      # sum over those batches of (loss + penalties) * batch size
    iterations: int      # the optimiser's iteration count afterwards
    stop: str            # '', 'loss' or 'gradient': what stopped the epoch
    stop_batch: int      # the batch that stopped it, or -1
    stop_loss: float     # its loss (stop == 'loss')
    rolled_back: bool    # stop == 'loss': the update before it was undone

class Trainer:
    """Fused training epochs of a Sequential model (fastrnn/train.hpp). Built by Sequential.fit;
    not a public API."""

    def __init__(self, dtype: str, layers: list[dict[str, Any]],
                 arrays: list[tuple[int, int, float, float]], n_params: int, loss: str,
                 from_logits: bool, batch_size: int,
                 loss_options: dict[str, Any] | None = None) -> None:
        """layers: one dict per layer (kind, steps, in, units, activation, return_sequences,
        reset_after, dense_activation, w, u, b, dropout, zero_output_for_mask, go_backwards,
        stateful; a first 'masking' layer: mask_value; 'bidirectional': merge_mode and
        halves, the two recurrent dicts, forward first); arrays: (offset, size, l1, l2) per
        trainable array; batch_size: the largest batch an epoch may use; loss_options: 'eps'
        (gaussian_nll) or 'quantiles' (quantile_loss)."""

    def epoch(self, params: NDArray[Any], slots: list[NDArray[Any]], x: ArrayLike,
              y: ArrayLike, order: ArrayLike | None, masks: list[ArrayLike | None] | None,
              optimizer: dict[str, Any], iterations: int, batch_size: int,
              pred: NDArray[Any] | None,
              sample_weight: ArrayLike | None = None,
              states: list[NDArray[Any]] | None = None) -> _EpochResult:
        """One epoch; params and slots are updated in place; sample_weight: (n, output steps)
        loss weights in the samples' original order; states: the stateful layers'
        (batch_size, units) states in plan order (h, then c), updated in place."""

# --- what the core is (csrc/bindings/info.cpp) ------------------------------------------------

def max_threads() -> int:
    """Threads a kernel call may use: set_max_threads, else FASTRNN_NUM_THREADS, else
    OMP_NUM_THREADS, else the CPUs this process may run on."""

def set_max_threads(threads: int) -> None:
    """Sets the threads kernel calls may use (from the next call on)."""

def isa() -> str:
    """Instruction set the kernels run with: 'avx512', 'avx2' or 'baseline'."""

def empty_call(*args: Any) -> None:
    """Does nothing: the floor of a binding call (the benchmarks time it)."""

# The core's cell table (csrc/include/fastrnn/cells.hpp): (name, gates, states) per cell.
cells: tuple[tuple[str, int, int], ...]
activations: tuple[str, ...]
recurrent_activations: tuple[str, ...]
