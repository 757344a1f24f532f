"""Argument checks for the Python backends (numpy, numba).

The compiled backends do the same checks in their bindings (csrc/bindings/core.cpp), with the
same wording: the argument's name, what was expected and what came. Rank or shape -> ValueError,
dtype -> TypeError, NaN/inf -> ValueError.
"""

from __future__ import annotations

import numpy as np

ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
RECURRENT_ACTIVATIONS = ("sigmoid",)


def _shape_str(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def activation(name, arg="activation"):
    if name not in ACTIVATIONS:
        raise ValueError(
            f"{arg} must be one of {', '.join(repr(a) for a in ACTIVATIONS)}; got {name!r}")
    return name


def recurrent_activation(name):
    if name not in RECURRENT_ACTIVATIONS:
        raise ValueError(
            f"recurrent_activation must be one of "
            f"{', '.join(repr(a) for a in RECURRENT_ACTIVATIONS)}; got {name!r}")
    return name


def float_array(a, name):
    """np.asarray(a), which must hold float32 or float64."""
    try:
        arr = np.asarray(a)
    except Exception as exc:  # e.g. ragged lists
        raise TypeError(f"{name} must be a float32 or float64 array, got {type(a).__name__}") from exc
    if arr.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} must be a float32 or float64 array, got dtype {arr.dtype}")
    return arr


def array(a, name, dtype, shape, symbol, x_name="x"):
    """Checks dtype (same as x), shape and finiteness; returns a C-contiguous array."""
    arr = float_array(a, name)
    if arr.dtype != dtype:
        raise TypeError(f"{name} has dtype {arr.dtype} but {x_name} has dtype {np.dtype(dtype)}; "
                        "pass all arrays in one dtype")
    if arr.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {symbol} = {_shape_str(shape)}, "
                         f"got {_shape_str(arr.shape)}")
    if not np.isfinite(arr).all():
        first = int(np.flatnonzero(~np.isfinite(arr.ravel()))[0])
        raise ValueError(f"{name} contains NaN or inf (first at flat index {first})")
    return np.ascontiguousarray(arr)


def optional(a, name, dtype, shape, symbol, x_name="x"):
    return None if a is None else array(a, name, dtype, shape, symbol, x_name)


def forward_inputs(x, W, U, b, gates, *, b_shape=None, b_symbol=None):
    """Validates x, W, U, b of a cell with `gates` gate blocks; returns (x, W, U, b, B, T, I, H)."""
    x = float_array(x, "x")
    if x.ndim != 3:
        raise ValueError(f"x must have shape (B, T, I) (3 dimensions), got {_shape_str(x.shape)}")
    Ua = float_array(U, "U")
    g = "" if gates == 1 else str(gates)
    if Ua.ndim != 2 or Ua.shape[0] < 1 or Ua.shape[1] != gates * Ua.shape[0]:
        raise ValueError(f"U must have shape (H, {g}H) with H >= 1, got {_shape_str(Ua.shape)}")
    B, T, I = x.shape
    H = Ua.shape[0]
    x = array(x, "x", x.dtype, (B, T, I), "(B, T, I)")
    W = array(W, "W", x.dtype, (I, gates * H), f"(I, {g}H)")
    U = array(U, "U", x.dtype, (H, gates * H), f"(H, {g}H)")
    b = array(b, "b", x.dtype, b_shape or (gates * H,), b_symbol or f"({g}H,)")
    return x, W, U, b, B, T, I, H


def backward_grads(dh_seq, dh_last, x, H, dc_last=None, lstm=False):
    B, T, _ = x.shape
    out = [optional(dh_seq, "dh_seq", x.dtype, (B, T, H), "(B, T, H)"),
           optional(dh_last, "dh_last", x.dtype, (B, H), "(B, H)")]
    if lstm:
        out.append(optional(dc_last, "dc_last", x.dtype, (B, H), "(B, H)"))
    return out
