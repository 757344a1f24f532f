"""Activations of Dense layers (Keras names and definitions), each with its derivative.

    linear      y = a                        (also activation=None)
    relu        y = max(a, 0)
    sigmoid     y = 1 / (1 + exp(-a))
    tanh        y = tanh(a)
    softmax     y = exp(a) / sum(exp(a)) over the last axis
    leaky_relu  y = a if a > 0 else 0.2 a     (Keras 3's default negative_slope=0.2)
    elu         y = a if a > 0 else exp(a) - 1  (alpha = 1)

``get(name)`` returns an :class:`Activation` with ``forward(a) -> y`` and
``backward(a, y, dy) -> da`` (the vector-Jacobian product; softmax couples the last axis).
The recurrent layers take theirs from the cell table, ``fastrnn.cells`` (tanh, relu,
sigmoid, linear), which the kernels implement.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Activation", "get", "NAMES"]


def _sigmoid(a):
    # exp of a non-positive number only: never overflows.
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(a.dtype, copy=False)


def _softmax(a):
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class Activation:
    """A named elementwise (or last-axis, for softmax) function and its derivative."""

    def __init__(self, name, forward, backward):
        self.name, self._forward, self._backward = name, forward, backward

    def forward(self, a):
        return self._forward(a)

    def backward(self, a, y, dy):
        """dL/da given the pre-activation a, the output y and dL/dy."""
        return self._backward(a, y, dy)

    def __repr__(self):
        return f"Activation({self.name!r})"


_TABLE = {
    "linear": Activation("linear", lambda a: a, lambda a, y, dy: dy),
    "relu": Activation("relu", lambda a: np.maximum(a, 0),
                       lambda a, y, dy: dy * (a > 0)),
    "sigmoid": Activation("sigmoid", _sigmoid, lambda a, y, dy: dy * y * (1 - y)),
    "tanh": Activation("tanh", np.tanh, lambda a, y, dy: dy * (1 - y * y)),
    "softmax": Activation("softmax", _softmax,
                          lambda a, y, dy: y * (dy - (dy * y).sum(axis=-1, keepdims=True))),
    "leaky_relu": Activation("leaky_relu", lambda a: np.where(a > 0, a, a * 0.2).astype(a.dtype),
                             lambda a, y, dy: dy * np.where(a > 0, 1.0, 0.2).astype(a.dtype)),
    "elu": Activation("elu", lambda a: np.where(a > 0, a, np.expm1(np.minimum(a, 0))),
                      lambda a, y, dy: dy * np.where(a > 0, 1.0, y + 1).astype(a.dtype)),
}
NAMES = tuple(_TABLE)


def get(name, arg="activation"):
    """The activation called `name` (None means linear); ValueError listing the valid names."""
    if name is None:
        name = "linear"
    if isinstance(name, Activation):
        return name
    if not isinstance(name, str) or name not in _TABLE:
        raise ValueError(f"{arg} must be one of {', '.join(repr(n) for n in NAMES)} or None; "
                         f"got {name!r}")
    return _TABLE[name]
