"""The reference backend: validation plus fastrnn.backends.reference (the plain NumPy ground
truth). It implements the backend protocol of ``fastrnn/backends/_protocol.py`` as every other
backend does; ``saved`` is private to the backend (the reference's dict). The backward functions
re-check it as the other backends re-check theirs (keys, array shapes and dtypes, options), so a
damaged cache raises a ValueError that says so instead of an IndexError or a wrong answer. Inputs
in the other byte order are accepted (``_inputs.native``); the h_seq a forward call returns is a
read-only view of the one its cache holds. ``mask`` (Keras's (B, T) step mask, None for all
valid) is checked by ``fastrnn._params.step_mask`` and kept in the cache as a bool copy.
"""

from __future__ import annotations

import numpy as np

from fastrnn import _params as v
from fastrnn import cells as _cells
from fastrnn.backends import _inputs
from fastrnn.backends import reference as ref


CAPABILITIES = {"fused_training": False, "device": "cpu", "masks": True}


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


def _check_saved(saved, info, arrays, options):
    """Re-checks the cache of the cell `info` (a fastrnn.cells row): a dict with x, W, U and the
    `arrays` (name -> "BH", "BTH" or "BTG"), all float arrays of x's dtype and of the shapes x and
    U imply, and the `options` (name -> allowed values). Returns (B, T, I, H)."""
    cell = info.name
    if not isinstance(saved, dict):
        raise ValueError(f"cache does not come from {cell}_forward of the numpy backend: "
                         f"expected the dict of its saved arrays, got {type(saved).__name__}; "
                         "pass the cache of a forward call unchanged")
    missing = [k for k in ("x", "W", "U", *arrays, *options) if k not in saved]
    if missing:
        raise ValueError(f"cache of {cell}_forward is damaged: it has no {', '.join(missing)}; "
                         "pass the cache of a forward call unchanged")

    def damaged(name, want, arr):
        what = (f"{type(arr).__name__} {getattr(arr, 'dtype', '')} {getattr(arr, 'shape', '')}"
                if arr is not None else "None")
        return ValueError(f"cache {name} is damaged: expected {want}, got {what}; pass the cache "
                          "of a forward call unchanged")

    x, U = saved["x"], saved["U"]
    if not (isinstance(x, np.ndarray) and x.ndim == 3 and x.dtype in (np.float32, np.float64)):
        raise damaged("x", "a float32 or float64 array of shape (B, T, I)", x)
    G = info.gates
    if not (isinstance(U, np.ndarray) and U.ndim == 2 and U.shape[0] >= 1
            and U.shape[1] == G * U.shape[0]):
        raise damaged("U", f"an array of shape (H, {G}H)", U)
    B, T, I = x.shape
    H = U.shape[0]
    shapes = {"W": (I, G * H), "U": (H, G * H), "BH": (B, H), "BTH": (B, T, H),
              "BTG": (B, T, G * H)}
    for name, kind in [("W", "W"), ("U", "U"), *arrays.items()]:
        arr, shape = saved[name], shapes[kind]
        if not (isinstance(arr, np.ndarray) and arr.dtype == x.dtype and arr.shape == shape):
            raise damaged(name, f"a {x.dtype} array of shape {shape}", arr)
    mask = saved.get("mask")
    if mask is not None and not (isinstance(mask, np.ndarray) and mask.dtype == np.bool_
                                 and mask.shape == (B, T)):
        raise damaged("mask", f"None or a bool array of shape {(B, T)}", mask)
    for name, allowed in options.items():
        got = saved[name]
        if not any(got is a or (isinstance(got, str) and got == a) for a in allowed):
            raise ValueError(f"cache {name} is damaged: expected one of "
                             f"{', '.join(repr(a) for a in allowed)}, got {got!r}; pass the "
                             "cache of a forward call unchanged")
    return B, T, I, H


_ACTS = {"activation": _cells.ACTIVATIONS}
_RECURRENT = {"recurrent_activation": _cells.RECURRENT_ACTIVATIONS}


def elman_forward(x, W, U, b, h0, activation, mask=None):
    v.activation(activation)
    x, W, U, b, h0 = map(_inputs.native, (x, W, U, b, h0))
    x, W, U, b, B, T, _, H = v.forward_inputs(x, W, U, b, 1)
    h0 = v.optional(h0, "h0", x.dtype, (B, H), "(B, H)")
    mask = v.step_mask(mask, B, T)
    h_seq, saved = ref.elman_forward(x, W, U, b, h0, activation, mask)
    return _inputs.read_only(h_seq), _last(h_seq, h0, B, H, x.dtype), saved


def elman_backward(saved, dh_seq, dh_last, activation):
    _, _, _, H = _check_saved(saved, _cells.ELMAN, {"h0": "BH", "h_seq": "BTH"}, _ACTS)
    dh_seq, dh_last = v.backward_grads(_inputs.native(dh_seq), _inputs.native(dh_last),
                                       saved["x"], H)
    return ref.elman_backward(saved, dh_seq, dh_last)


def lstm_forward(x, W, U, b, h0, c0, activation, recurrent_activation, mask=None):
    v.activation(activation)
    v.recurrent_activation(recurrent_activation)
    x, W, U, b, h0, c0 = map(_inputs.native, (x, W, U, b, h0, c0))
    x, W, U, b, B, T, _, H = v.forward_inputs(x, W, U, b, 4)
    h0 = v.optional(h0, "h0", x.dtype, (B, H), "(B, H)")
    c0 = v.optional(c0, "c0", x.dtype, (B, H), "(B, H)")
    mask = v.step_mask(mask, B, T)
    h_seq, c_last, saved = ref.lstm_forward(x, W, U, b, h0, c0, activation, recurrent_activation,
                                            mask)
    return _inputs.read_only(h_seq), _last(h_seq, h0, B, H, x.dtype), c_last.copy(), saved


def lstm_backward(saved, dh_seq, dh_last, dc_last, activation):
    _, _, _, H = _check_saved(saved, _cells.LSTM, {"h0": "BH", "c0": "BH", "h_seq": "BTH",
                                                   "c_seq": "BTH", "gates": "BTG"},
                              {**_ACTS, **_RECURRENT})
    dh_seq, dh_last, dc_last = v.backward_grads(_inputs.native(dh_seq), _inputs.native(dh_last),
                                                saved["x"], H, _inputs.native(dc_last), lstm=True)
    return ref.lstm_backward(saved, dh_seq, dh_last, dc_last)


def gru_forward(x, W, U, b, h0, reset_after, activation, recurrent_activation, mask=None):
    v.activation(activation)
    v.recurrent_activation(recurrent_activation)
    x, W, U, b, h0 = map(_inputs.native, (x, W, U, b, h0))
    Ua = v.float_array(U, "U")
    H = Ua.shape[0] if Ua.ndim == 2 else 0
    b_shape, b_sym = (((2, 3 * H), "(2, 3H) (reset_after=True)") if reset_after
                      else ((3 * H,), "(3H,) (reset_after=False)"))
    x, W, U, b, B, T, _, H = v.forward_inputs(x, W, U, b, 3, b_shape=b_shape, b_symbol=b_sym)
    h0 = v.optional(h0, "h0", x.dtype, (B, H), "(B, H)")
    mask = v.step_mask(mask, B, T)
    h_seq, saved = ref.gru_forward(x, W, U, b, h0, bool(reset_after), activation,
                                   recurrent_activation, mask)
    return _inputs.read_only(h_seq), _last(h_seq, h0, B, H, x.dtype), saved


def gru_backward(saved, dh_seq, dh_last, reset_after, activation):
    # the variant the cache was made with must be the one asked for (the cache's own options)
    _, _, _, H = _check_saved(saved, _cells.GRU, {"h0": "BH", "h_seq": "BTH", "gates": "BTG",
                                                  "rec_h": "BTH"},
                              {**_ACTS, **_RECURRENT, "reset_after": (bool(reset_after),)})
    dh_seq, dh_last = v.backward_grads(_inputs.native(dh_seq), _inputs.native(dh_last),
                                       saved["x"], H)
    return ref.gru_backward(saved, dh_seq, dh_last)
