"""Argument checks: one error format, validated once at the door, trusted inside.

Two kinds:

- Declarative scalar checks (after scikit-learn's ``_param_validation``): ``Int``, ``Real`` and
  ``Options`` describe what an argument may be, ``check(value, name, spec)`` returns the
  normalised value or raises with one message format, ``"<name> must be <what>, got <value>"``.
  A value of the wrong kind (a string for an int, a bool, None where None is not allowed)
  raises ``ParameterError``, which is both a TypeError and a ValueError (as scikit-learn's
  ``InvalidParameterError``: callers catching either keep working); a value of the right kind
  outside its range raises ValueError.
- Array checks for the Python backends (numpy, numba). The compiled backends do the same checks
  in their bindings (csrc/bindings), with the same wording: the argument's name, what was
  expected and what came. Rank or shape -> ValueError, dtype -> TypeError, NaN/inf -> ValueError.
"""

from __future__ import annotations

import numbers

import numpy as np

from fastrnn.cells import ACTIVATIONS, RECURRENT_ACTIVATIONS

__all__ = ["ParameterError", "Int", "Real", "Options", "check", "positive_int", "nonnegative_int", "activation",
           "recurrent_activation", "float_array", "array", "optional", "forward_inputs",
           "backward_grads", "step_mask"]


class ParameterError(TypeError, ValueError):
    """An argument of the wrong kind: a TypeError, and a ValueError for callers that catch that."""


class Int:
    """An int (not a bool) in [low, high] (None: unbounded); ``none_ok`` admits None."""

    def __init__(self, low=None, high=None, *, none_ok=False):
        self.low, self.high, self.none_ok = low, high, none_ok

    def describe(self):
        if self.low == 1 and self.high is None:
            what = "a positive int"
        elif self.high is None:
            what = "an int" if self.low is None else f"an int >= {self.low}"
        elif self.low is None:
            what = f"an int <= {self.high}"
        else:
            what = f"an int in [{self.low}, {self.high}]"
        return what + (" or None" if self.none_ok else "")

    def is_kind(self, value):
        return (value is None and self.none_ok) or (
            not isinstance(value, bool) and isinstance(value, numbers.Integral))

    def accepts(self, value):
        if value is None:
            return self.none_ok
        if not self.is_kind(value):
            return False
        return ((self.low is None or value >= self.low)
                and (self.high is None or value <= self.high))

    def normalise(self, value):
        return None if value is None else int(value)


class Real:
    """A finite real number in an interval; ``closed`` is "both", "left", "right" or "neither"."""

    def __init__(self, low=None, high=None, *, closed="both", none_ok=False):
        self.low, self.high, self.closed, self.none_ok = low, high, closed, none_ok

    def describe(self):
        if self.low is None and self.high is None:
            what = "a finite number"
        elif self.high is None:
            what = f"a number {'>=' if self.closed in ('both', 'left') else '>'} {self.low}"
        elif self.low is None:
            what = f"a number {'<=' if self.closed in ('both', 'right') else '<'} {self.high}"
        else:
            left = "[" if self.closed in ("both", "left") else "("
            right = "]" if self.closed in ("both", "right") else ")"
            what = f"a number in {left}{self.low}, {self.high}{right}"
        return what + (" or None" if self.none_ok else "")

    def is_kind(self, value):
        return (value is None and self.none_ok) or (
            not isinstance(value, bool) and isinstance(value, numbers.Real))

    def accepts(self, value):
        if value is None:
            return self.none_ok
        if not self.is_kind(value):
            return False
        v = float(value)
        if not np.isfinite(v):
            return False
        if self.low is not None:
            if v < self.low or (v == self.low and self.closed in ("right", "neither")):
                return False
        if self.high is not None:
            if v > self.high or (v == self.high and self.closed in ("left", "neither")):
                return False
        return True

    def normalise(self, value):
        return None if value is None else float(value)


class Options:
    """One of a fixed set of values (strings are compared as given)."""

    def __init__(self, values, *, none_ok=False):
        self.values, self.none_ok = tuple(values), none_ok

    def describe(self):
        return ("one of " + ", ".join(repr(v) for v in self.values)
                + (" or None" if self.none_ok else ""))

    def is_kind(self, value):
        return True  # a value outside the set is a wrong value, not a wrong kind

    def accepts(self, value):
        return (value is None and self.none_ok) or (value is not None and value in self.values)

    def normalise(self, value):
        return value


def check(value, name, spec):
    """`value` normalised by `spec` (Int, Real, Options); ParameterError (wrong kind) or
    ValueError (wrong value) naming `name` otherwise."""
    if not spec.accepts(value):
        error = ValueError if spec.is_kind(value) else ParameterError
        raise error(f"{name} must be {spec.describe()}, got {value!r}")
    return spec.normalise(value)


_POSITIVE = Int(1)
_NONNEGATIVE = Int(0)


def positive_int(value, name):
    return check(value, name, _POSITIVE)


def nonnegative_int(value, name):
    return check(value, name, _NONNEGATIVE)


def _shape_str(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def activation(name, arg="activation", allowed=ACTIVATIONS):
    if name not in allowed:
        raise ValueError(
            f"{arg} must be one of {', '.join(repr(a) for a in allowed)}; got {name!r}")
    return name


def recurrent_activation(name, allowed=RECURRENT_ACTIVATIONS):
    return activation(name, "recurrent_activation", allowed)


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


def step_mask(mask, B, T):
    """Keras's step mask of a forward call: None, or a bool or uint8 (B, T) array (nonzero: the
    step is valid). Returns None or a fresh C-contiguous bool copy (a cache keeps it, so a later
    edit of the caller's array cannot change the backward pass). A wrong dtype raises
    ParameterError, a wrong shape ValueError (the compiled binding's wording)."""
    if mask is None:
        return None
    want = f"mask must be a bool or uint8 array of shape (B, T) = {_shape_str((B, T))}"
    try:
        m = np.asarray(mask)
    except Exception as exc:  # e.g. ragged lists
        raise ParameterError(f"{want}, got {type(mask).__name__}") from exc
    if m.dtype != np.bool_ and m.dtype != np.uint8:
        raise ParameterError(f"{want}, got dtype {m.dtype}")
    if m.shape != (B, T):
        raise ValueError(f"mask must have shape (B, T) = {_shape_str((B, T))}, "
                         f"got {_shape_str(m.shape)}")
    return np.array(m != 0, order="C")


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
