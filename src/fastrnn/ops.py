"""The functional API: forward passes and backpropagation through time of the three cells.

Shapes (batch-first, Keras weight layout; B batch, T steps, I inputs, H units):

    x (B, T, I); h0, c0 (B, H) or None for zeros
    Elman  W (I, H)   U (H, H)   b (H,)
    LSTM   W (I, 4H)  U (H, 4H)  b (4H,)                          gate blocks i, f, c, o
    GRU    W (I, 3H)  U (H, 3H)  b (2, 3H) reset_after, else (3H,)  gate blocks z, r, h

Forward results: ``r.h_seq`` (B, T, H), ``r.h_last`` (B, H), ``r.c_last`` (B, H; LSTM only,
else None), ``r.cache`` (pass it to the matching backward). The backward functions return the
gradients of a loss L given dL/dh_seq (``dh_seq``), dL/dh_last (``dh_last``) and, for the LSTM,
dL/dc_last (``dc_last``); each is optional, None meaning zero: ``g.dx g.dW g.dU g.db g.dh0``
(and ``g.dc0`` for the LSTM), each with the shape of what it differentiates.

The output dtype is the dtype of x (float32 or float64); every other array must have the same
dtype. ``backend`` is a name from ``fastrnn.backends.available()``; None picks
``fastrnn.backends.default()``. Errors: ValueError for a wrong shape, a NaN/inf or an unknown
name; TypeError for a wrong dtype. The cache keeps references to the arrays the forward pass
used (C-contiguous copies when the inputs were strided); ``r.h_seq`` is a read-only view of the
one it holds, so that editing a result in place cannot change a later backward pass (copy it to
write into it). Inputs may be in either byte order. Ctrl-C interrupts a long call on every CPU
backend (KeyboardInterrupt, within about a second).

The GRU equations: z = sigmoid(x W_z + h U_z + b_z), r = sigmoid(x W_r + h U_r + b_r),
reset_after=True (Keras's default, PyTorch's and cuDNN's): hh = act(x W_h + b_in + r * (h U_h + b_rec));
reset_after=False (Cho et al.): hh = act(x W_h + (r * h) U_h + b_h); then h' = z * h + (1 - z) * hh.
Texts that write h' = (1 - z) * h + z * hh describe the same model with z relabelled as 1 - z.

Masks (Keras's semantics): ``mask`` is None (every step valid) or a bool / uint8 (B, T) array
whose nonzero entries mark the valid steps. At a masked step the states (h, and c for the LSTM)
carry over unchanged from the previous step: h_t = m h~_t + (1 - m) h_{t-1} per sample, h~_t the
cell's step, so ``r.h_seq[:, t]`` is the carried state there and ``r.h_last`` the state after the
last valid step (h0 when a sample has none). Keras's layer outputs (the previous output, or zeros
with ``zero_output_for_mask``, at a masked step) are the recurrent layers' business. The cache
records the mask, and the backward functions give the exact gradients of the blend (a masked
step passes dL/dh, dL/dc straight to the step before and adds nothing to dx, dW, dU, db). Every
CPU backend (cpp, numba, numpy) takes masks; the CUDA backend does not (ValueError naming
``mask``; ``fastrnn.backends.capabilities(name)["masks"]`` says which do). A wrong mask dtype
raises ParameterError (a TypeError and a ValueError), a wrong shape ValueError.
"""

from __future__ import annotations

from fastrnn import backends as _backends
from fastrnn import cells as _cells

__all__ = ["RNNResult", "Gradients", "Cache", "elman_forward", "elman_backward",
           "lstm_forward", "lstm_backward", "gru_forward", "gru_backward"]


class Cache:
    """What a backward pass needs from its forward pass. Opaque; pass it back unchanged."""

    __slots__ = ("backend", "cell", "saved", "options")

    def __init__(self, backend, cell, saved, options):
        self.backend, self.cell, self.saved, self.options = backend, cell, saved, options

    def __repr__(self):
        return f"Cache(cell={self.cell!r}, backend={self.backend!r})"


class RNNResult:
    """h_seq (B, T, H), h_last (B, H), c_last (B, H) for the LSTM (None otherwise), cache."""

    __slots__ = ("h_seq", "h_last", "c_last", "cache")

    def __init__(self, h_seq, h_last, c_last, cache):
        self.h_seq, self.h_last, self.c_last, self.cache = h_seq, h_last, c_last, cache

    def __repr__(self):
        return f"RNNResult(h_seq shape={self.h_seq.shape}, cache={self.cache!r})"


class Gradients:
    """dx (B, T, I), dW, dU, db (shapes of W, U, b), dh0 (B, H), dc0 (B, H; LSTM only)."""

    __slots__ = ("dx", "dW", "dU", "db", "dh0", "dc0")

    def __init__(self, dx, dW, dU, db, dh0, dc0=None):
        self.dx, self.dW, self.dU, self.db, self.dh0, self.dc0 = dx, dW, dU, db, dh0, dc0

    def __iter__(self):
        yield from (self.dx, self.dW, self.dU, self.db, self.dh0)
        if self.dc0 is not None:
            yield self.dc0

    def __repr__(self):
        return "Gradients(" + ", ".join(
            f"{k}={getattr(self, k).shape}" for k in self.__slots__ if getattr(self, k) is not None) + ")"


_ELMAN, _LSTM, _GRU = _cells.ELMAN.name, _cells.LSTM.name, _cells.GRU.name


def _backend_of(cache, cell):
    if not isinstance(cache, Cache):
        raise TypeError(f"cache must be the .cache of a {cell}_forward result, got {type(cache).__name__}")
    if cache.cell != cell:
        raise ValueError(f"cache comes from {cache.cell}_forward, not {cell}_forward")
    return _backends.get(cache.backend)[1]


def elman_forward(x, W, U, b, h0=None, *, activation="tanh", mask=None, backend=None):
    """Elman (SimpleRNN): h_t = act(x_t W + h_{t-1} U + b), act in tanh, relu, sigmoid, linear.
    mask: None or bool / uint8 (B, T), the steps to run (see the module docstring)."""
    name, be = _backends.get(backend)
    h_seq, h_last, saved = be.elman_forward(x, W, U, b, h0, activation, mask)
    return RNNResult(h_seq, h_last, None, Cache(name, _ELMAN, saved, (activation,)))


def elman_backward(cache, dh_seq=None, dh_last=None):
    """Gradients (dx, dW, dU, db, dh0) of an elman_forward call."""
    be = _backend_of(cache, _ELMAN)
    return Gradients(*be.elman_backward(cache.saved, dh_seq, dh_last, *cache.options))


def lstm_forward(x, W, U, b, h0=None, c0=None, *, activation="tanh",
                 recurrent_activation="sigmoid", mask=None, backend=None):
    """LSTM, Keras gate order i, f, c, o; activation tanh (default), relu, sigmoid or linear.
    mask: None or bool / uint8 (B, T); h and c carry over masked steps."""
    name, be = _backends.get(backend)
    h_seq, h_last, c_last, saved = be.lstm_forward(x, W, U, b, h0, c0, activation,
                                                   recurrent_activation, mask)
    return RNNResult(h_seq, h_last, c_last, Cache(name, _LSTM, saved, (activation,)))


def lstm_backward(cache, dh_seq=None, dh_last=None, dc_last=None):
    """Gradients (dx, dW, dU, db, dh0, dc0) of an lstm_forward call."""
    be = _backend_of(cache, _LSTM)
    return Gradients(*be.lstm_backward(cache.saved, dh_seq, dh_last, dc_last, *cache.options))


def gru_forward(x, W, U, b, h0=None, *, reset_after=True, activation="tanh",
                recurrent_activation="sigmoid", mask=None, backend=None):
    """GRU, Keras gate order z, r, h; b is (2, 3H) when reset_after (default) else (3H,).
    mask: None or bool / uint8 (B, T); h carries over masked steps."""
    name, be = _backends.get(backend)
    reset_after = bool(reset_after)
    h_seq, h_last, saved = be.gru_forward(x, W, U, b, h0, reset_after, activation,
                                          recurrent_activation, mask)
    return RNNResult(h_seq, h_last, None, Cache(name, _GRU, saved, (reset_after, activation)))


def gru_backward(cache, dh_seq=None, dh_last=None):
    """Gradients (dx, dW, dU, db, dh0) of a gru_forward call; db has the shape of b."""
    be = _backend_of(cache, _GRU)
    return Gradients(*be.gru_backward(cache.saved, dh_seq, dh_last, *cache.options))
