"""The reference backend: validation plus fastrnn.backends.reference (the plain NumPy ground
truth). It implements the backend protocol of ``fastrnn/backends/_protocol.py`` as every other
backend does; ``saved`` is private to the backend.
"""

from __future__ import annotations

import numpy as np

from fastrnn.backends import reference as ref
from fastrnn import _params as v


CAPABILITIES = {"fused_training": False, "device": "cpu"}


def is_built():
    return True


def is_available():
    return True


def why_unavailable():
    return ""


def threads():
    return 1  # one Python loop over time; NumPy's BLAS may use more inside a product


def _last(seq, init, B, H, dtype):
    if seq.shape[1] > 0:
        return seq[:, -1].copy()
    return np.zeros((B, H), dtype) if init is None else init.copy()


def elman_forward(x, W, U, b, h0, activation):
    v.activation(activation)
    x, W, U, b, B, T, I, H = v.forward_inputs(x, W, U, b, 1)
    h0 = v.optional(h0, "h0", x.dtype, (B, H), "(B, H)")
    h_seq, saved = ref.elman_forward(x, W, U, b, h0, activation)
    return h_seq, _last(h_seq, h0, B, H, x.dtype), saved


def elman_backward(saved, dh_seq, dh_last, activation):
    dh_seq, dh_last = v.backward_grads(dh_seq, dh_last, saved["x"], saved["U"].shape[0])
    return ref.elman_backward(saved, dh_seq, dh_last)


def lstm_forward(x, W, U, b, h0, c0, activation, recurrent_activation):
    v.activation(activation)
    v.recurrent_activation(recurrent_activation)
    x, W, U, b, B, T, I, H = v.forward_inputs(x, W, U, b, 4)
    h0 = v.optional(h0, "h0", x.dtype, (B, H), "(B, H)")
    c0 = v.optional(c0, "c0", x.dtype, (B, H), "(B, H)")
    h_seq, c_last, saved = ref.lstm_forward(x, W, U, b, h0, c0, activation, recurrent_activation)
    return h_seq, _last(h_seq, h0, B, H, x.dtype), c_last.copy(), saved


def lstm_backward(saved, dh_seq, dh_last, dc_last, activation):
    dh_seq, dh_last, dc_last = v.backward_grads(dh_seq, dh_last, saved["x"], saved["U"].shape[0],
                                                dc_last, lstm=True)
    return ref.lstm_backward(saved, dh_seq, dh_last, dc_last)


def gru_forward(x, W, U, b, h0, reset_after, activation, recurrent_activation):
    v.activation(activation)
    v.recurrent_activation(recurrent_activation)
    Ua = v.float_array(U, "U")
    H = Ua.shape[0] if Ua.ndim == 2 else 0
    b_shape, b_sym = (((2, 3 * H), "(2, 3H) (reset_after=True)") if reset_after
                      else ((3 * H,), "(3H,) (reset_after=False)"))
    x, W, U, b, B, T, I, H = v.forward_inputs(x, W, U, b, 3, b_shape=b_shape, b_symbol=b_sym)
    h0 = v.optional(h0, "h0", x.dtype, (B, H), "(B, H)")
    h_seq, saved = ref.gru_forward(x, W, U, b, h0, bool(reset_after), activation,
                                   recurrent_activation)
    return h_seq, _last(h_seq, h0, B, H, x.dtype), saved


def gru_backward(saved, dh_seq, dh_last, reset_after, activation):
    dh_seq, dh_last = v.backward_grads(dh_seq, dh_last, saved["x"], saved["U"].shape[0])
    return ref.gru_backward(saved, dh_seq, dh_last)
