"""Weight penalties with Keras's definitions; they are added to the training loss.

    L1(l1=0.01)            penalty = l1 * sum(|w|)          gradient l1 * sign(w)
    L2(l2=0.01)            penalty = l2 * sum(w ** 2)       gradient 2 * l2 * w
    L1L2(l1=0.0, l2=0.0)   the sum of both

(Keras's l2 has no factor 1/2: ``l2(0.01)`` adds ``0.01 * sum(w**2)``.) ``l1``, ``l2``,
``l1_l2`` are the lower-case aliases, as in Keras. A regulariser is called on an array and
returns a float; ``gradient(w)`` gives d penalty / dw.
"""

from __future__ import annotations

import numpy as np

from fastrnn import _params
from fastrnn._params import check as _check

__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "get", "serialize"]


_FACTOR = _params.Real(0)


def _factor(value, name):
    return _check(value, name, _FACTOR)


class Regularizer:
    """Base class: ``reg(w) -> float`` and ``reg.gradient(w) -> array like w``."""

    def __call__(self, w):
        raise NotImplementedError

    def gradient(self, w):
        raise NotImplementedError

    def get_config(self):
        return {}

    def __repr__(self):
        return f"{type(self).__name__}(" + ", ".join(
            f"{k}={v!r}" for k, v in self.get_config().items()) + ")"


class L1L2(Regularizer):
    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = _factor(l1, "l1"), _factor(l2, "l2")

    def __call__(self, w):
        w = np.asarray(w)
        out = 0.0
        if self.l1:
            out += self.l1 * float(np.abs(w).sum())
        if self.l2:
            out += self.l2 * float((w * w).sum())
        return out

    def gradient(self, w):
        w = np.asarray(w)
        g = np.zeros_like(w)
        if self.l1:
            g += self.l1 * np.sign(w)
        if self.l2:
            g += (2 * self.l2) * w
        return g

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


l1, l2, l1_l2 = L1, L2, L1L2
_CLASSES = {"L1": L1, "L2": L2, "L1L2": L1L2}
_NAMES = {"l1": L1, "l2": L2, "l1_l2": L1L2}


def get(identifier, arg="regularizer"):
    """None, a Regularizer, a name ('l1', 'l2', 'l1_l2' with Keras's defaults) or a dict."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str) and identifier in _NAMES:
        return _NAMES[identifier]()
    if isinstance(identifier, dict) and identifier.get("class_name") in _CLASSES:
        return _CLASSES[identifier["class_name"]](**identifier.get("config", {}))
    raise ValueError(f"{arg} must be None, a fastrnn.regularizers object or one of "
                     f"'l1', 'l2', 'l1_l2'; got {identifier!r}")


def serialize(reg):
    return None if reg is None else {"class_name": type(reg).__name__, "config": reg.get_config()}
