"""Weight penalties with Keras's definitions; they are added to the training loss.

    L1(l1=0.01)            penalty = l1 * sum(|w|)          gradient l1 * sign(w)
    L2(l2=0.01)            penalty = l2 * sum(w ** 2)       gradient 2 * l2 * w
    L1L2(l1=0.0, l2=0.0)   the sum of both

    OrthogonalRegularizer(factor=0.01, mode="rows")   see the class

(Keras's l2 has no factor 1/2: ``l2(0.01)`` adds ``0.01 * sum(w**2)``.) ``l1``, ``l2``,
``l1_l2``, ``orthogonal_regularizer`` are the lower-case aliases, as in Keras. A regulariser
is called on an array and returns a float; ``gradient(w)`` gives d penalty / dw (a custom
regulariser must define it too). String identifiers follow Keras 3's ``get``: 'l1', 'l2',
'l1l2' (l1 = l2 = 0), 'orthogonal_regularizer' and the class names; 'l1_l2' is rejected, as
in Keras 3.
"""

from __future__ import annotations

import numpy as np

from fastrnn import _params
from fastrnn._params import check as _check

__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2",
           "orthogonal_regularizer", "get", "serialize", "deserialize"]


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

    @classmethod
    def from_config(cls, config):
        """The regularizer of a ``get_config()`` dict (Keras's classmethod)."""
        return cls(**config)

    def __repr__(self):
        return f"{type(self).__name__}(" + ", ".join(
            f"{k}={v!r}" for k, v in self.get_config().items()) + ")"


class L1L2(Regularizer):
    def __init__(self, l1=0.0, l2=0.0):
        l1, l2 = 0.0 if l1 is None else l1, 0.0 if l2 is None else l2   # Keras: None is 0
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
        super().__init__(l1=0.01 if l1 is None else l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    def __init__(self, l2=0.01):
        super().__init__(l2=0.01 if l2 is None else l2)

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Keras's OrthogonalRegularizer: for a 2-D weight, the rows (``mode="rows"``) or columns
    are L2-normalised (norm floored at eps = 1e-7, as Keras's rsqrt clamp), their pairwise dot
    products taken, and the penalty is ``factor * 0.5 * sum(|off-diagonal|) / n_pairs``."""

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _factor(factor, "factor")
        self.mode = _check(mode, "mode", _params.Options(("rows", "columns")))

    def _rows(self, w):
        w = np.asarray(w)
        if w.ndim != 2:
            raise ValueError(f"OrthogonalRegularizer needs a 2-D weight, got shape {w.shape}")
        return w if self.mode == "rows" else w.T

    @staticmethod
    def _normalised(r):
        inv = np.minimum(1.0 / np.sqrt((r * r).sum(axis=1, keepdims=True)), 1e7)
        return r * inv, inv

    def __call__(self, w):
        r = self._rows(w)
        n = r.shape[0]
        if n < 2:
            return 0.0
        with np.errstate(divide="ignore"):
            u, _ = self._normalised(r)
        prod = u @ u.T
        np.fill_diagonal(prod, 0.0)
        return float(self.factor * 0.5 * np.abs(prod).sum() / (n * (n - 1) / 2.0))

    def gradient(self, w):
        r = self._rows(w)
        n = r.shape[0]
        if n < 2:
            return np.zeros_like(np.asarray(w))
        with np.errstate(divide="ignore"):
            u, inv = self._normalised(r)
        s = np.sign(u @ u.T)
        np.fill_diagonal(s, 0.0)
        gu = (self.factor * 0.5 / (n * (n - 1) / 2.0)) * 2.0 * (s @ u)   # s is symmetric
        clamped = inv >= 1e7          # rows of norm <= eps: u = r / eps, a linear map
        gr = np.where(clamped, gu * inv, (gu - u * (u * gu).sum(axis=1, keepdims=True)) * inv)
        return gr if self.mode == "rows" else gr.T

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer
_CLASSES = {"L1": L1, "L2": L2, "L1L2": L1L2, "OrthogonalRegularizer": OrthogonalRegularizer}
# Keras 3's string identifiers: the class names and their snake_case forms. "l1l2" (not
# "l1_l2") is L1L2() with Keras's constructor defaults, l1 = l2 = 0.
_NAMES = {**_CLASSES, "l1": L1, "l2": L2, "l1l2": L1L2,
          "orthogonal_regularizer": OrthogonalRegularizer}


def get(identifier, arg="regularizer"):
    """Keras 3's ``regularizers.get``: None, a Regularizer, a string identifier (a class name
    or its snake_case: 'l1', 'l2', 'l1l2', 'orthogonal_regularizer', with the classes'
    defaults), a class, or a serialised dict ({'class_name', 'config'}, Keras's 'module' and
    'registered_name' keys allowed)."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Regularizer):
        return identifier()
    if isinstance(identifier, str) and identifier in _NAMES:
        return _NAMES[identifier]()
    if isinstance(identifier, dict) and identifier.get("class_name") in _CLASSES:
        return _CLASSES[identifier["class_name"]].from_config(identifier.get("config") or {})
    hint = " ('l1_l2' is not a Keras 3 identifier: use 'l1l2' or L1L2(l1, l2))" if (
        identifier == "l1_l2") else ""
    raise ValueError(f"{arg} must be None, a fastrnn.regularizers object or one of "
                     f"{', '.join(repr(n) for n in _NAMES)}; got {identifier!r}{hint}")


def serialize(reg):
    return None if reg is None else {"class_name": type(reg).__name__, "config": reg.get_config()}


def deserialize(config):
    return get(config)
