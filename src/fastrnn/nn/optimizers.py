"""Optimisers with Keras 3's update rules and defaults. Updates are in place.

g is the gradient after clipping, lr the learning rate, t = iterations + 1:

    SGD(learning_rate=0.01, momentum=0.0, nesterov=False)
        momentum == 0:  w -= lr g
        else:           m = momentum m - lr g;  w += m            (nesterov: w += momentum m - lr g)
    Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
        m += (1 - beta_1)(g - m);  v += (1 - beta_2)(g^2 - v)
        w -= lr sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)
    RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False)
        v = rho v + (1 - rho) g^2;   (centered: a = rho a + (1 - rho) g, den = v - a^2)
        inc = lr g / sqrt(v + epsilon)    (epsilon inside the root, as Keras 3)
        momentum == 0: w -= inc;  else: m = momentum m + inc;  w -= m

Gradient clipping, at most one of (as Keras): ``clipnorm`` (each gradient array rescaled to
norm <= clipnorm), ``global_clipnorm`` (all gradients rescaled together), ``clipvalue``
(elementwise clip to [-clipvalue, clipvalue]).

``get(identifier)`` accepts 'sgd', 'adam', 'rmsprop' (Keras defaults), an instance or a
serialised dict. An optimiser binds to its parameter list on the first ``apply``.
"""

from __future__ import annotations

import math

import numpy as np

from fastrnn import _params
from fastrnn._params import check as _check

__all__ = ["Optimizer", "SGD", "Adam", "RMSprop", "get", "serialize"]


_POSITIVE = _params.Real(0, closed="neither")
_NONNEGATIVE = _params.Real(0)
_UNIT = _params.Real(0, 1)                   # [0, 1]
_DECAY = _params.Real(0, 1, closed="left")   # [0, 1)


def _positive(value, name, allow_zero=False):
    return _check(value, name, _NONNEGATIVE if allow_zero else _POSITIVE)


class Optimizer:
    """Base class: ``apply(params, grads)`` updates each array of `params` in place.

    ``state()`` is the list of slot arrays (for saving, and for rolling back an update);
    ``iterations`` counts the updates applied."""

    name = "optimizer"

    def __init__(self, learning_rate, clipnorm=None, clipvalue=None, global_clipnorm=None):
        self.learning_rate = _positive(learning_rate, "learning_rate")
        set_ = [n for n, v in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                               ("global_clipnorm", global_clipnorm)) if v is not None]
        if len(set_) > 1:
            raise ValueError(f"only one of clipnorm, clipvalue, global_clipnorm can be set; "
                             f"got {', '.join(set_)}")
        self.clipnorm = None if clipnorm is None else _positive(clipnorm, "clipnorm")
        self.clipvalue = None if clipvalue is None else _positive(clipvalue, "clipvalue")
        self.global_clipnorm = (None if global_clipnorm is None
                                else _positive(global_clipnorm, "global_clipnorm"))
        self.iterations = 0
        self._slots = None  # list (per parameter) of lists of arrays

    # -- state ---------------------------------------------------------------------------
    n_slots = 0

    def build(self, params):
        self._slots = [[np.zeros_like(p) for _ in range(self.n_slots)] for p in params]

    def state(self):
        """The slot arrays, flattened: parameter-major, slot-minor."""
        return [] if self._slots is None else [s for slots in self._slots for s in slots]

    def set_state(self, iterations, arrays, params):
        self.build(params)
        flat = self.state()
        if len(arrays) != len(flat):
            raise ValueError(f"optimizer state has {len(arrays)} arrays, expected {len(flat)}")
        for dst, src in zip(flat, arrays):
            if dst.shape != np.shape(src):
                raise ValueError(f"optimizer state array has shape {np.shape(src)}, "
                                 f"expected {dst.shape}")
            dst[...] = src
        self.iterations = int(iterations)

    # -- clipping ------------------------------------------------------------------------
    def _clip(self, grads):
        if self.clipvalue is not None:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        if self.clipnorm is not None:
            out = []
            for g in grads:
                n = float(np.sqrt((g * g).sum()))
                out.append(g * (self.clipnorm / n) if n > self.clipnorm else g)
            return out
        if self.global_clipnorm is not None:
            n = float(np.sqrt(sum(float((g * g).sum()) for g in grads)))
            if n > self.global_clipnorm:
                return [g * (self.global_clipnorm / n) for g in grads]
        return grads

    def apply(self, params, grads):
        """One update of every array in `params` (in place) from `grads` (clipped first)."""
        self.step(params, self._clip(grads))

    def step(self, params, grads):
        """The update from already-clipped gradients (``fit`` clips per weight array, then
        updates all trainable weights as one flat vector)."""
        if self._slots is None or [s[0].shape for s in self._slots if s] != [
                p.shape for p, s in zip(params, self._slots) if s] or len(self._slots) != len(params):
            self.build(params)
        self._prepare(self.iterations + 1)
        self.iterations += 1
        for p, g, slots in zip(params, grads, self._slots):
            self._update(p, g, slots)

    def _prepare(self, t):
        pass

    def _update(self, p, g, slots):
        raise NotImplementedError

    def get_config(self):
        cfg = {"learning_rate": self.learning_rate}
        for k in ("clipnorm", "clipvalue", "global_clipnorm"):
            if getattr(self, k) is not None:
                cfg[k] = getattr(self, k)
        return cfg

    def __repr__(self):
        return f"{type(self).__name__}(" + ", ".join(
            f"{k}={v!r}" for k, v in self.get_config().items()) + ")"


class SGD(Optimizer):
    name = "sgd"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **clip):
        super().__init__(learning_rate, **clip)
        self.momentum = _check(momentum, "momentum", _UNIT)
        self.nesterov = bool(nesterov)
        self.n_slots = 1 if self.momentum else 0

    def _update(self, p, g, slots):
        lr = self.learning_rate
        if not self.momentum:
            p -= lr * g
            return
        m = slots[0]
        m *= self.momentum
        m -= lr * g
        if self.nesterov:
            p += self.momentum * m - lr * g
        else:
            p += m

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    name = "adam"
    n_slots = 2

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **clip):
        super().__init__(learning_rate, **clip)
        if amsgrad:
            raise NotImplementedError("Adam(amsgrad=True) is not implemented in fastrnn")
        self.beta_1 = _check(beta_1, "beta_1", _DECAY)
        self.beta_2 = _check(beta_2, "beta_2", _DECAY)
        self.epsilon = _positive(epsilon, "epsilon", allow_zero=True)

    def _prepare(self, t):
        self._alpha = (self.learning_rate * math.sqrt(1 - self.beta_2 ** t)
                       / (1 - self.beta_1 ** t))

    def _update(self, p, g, slots):
        m, v = slots
        m += (1 - self.beta_1) * (g - m)
        v += (1 - self.beta_2) * (g * g - v)
        p -= self._alpha * m / (np.sqrt(v) + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class RMSprop(Optimizer):
    name = "rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, **clip):
        super().__init__(learning_rate, **clip)
        self.rho = _check(rho, "rho", _DECAY)
        self.momentum = _positive(momentum, "momentum", allow_zero=True)
        self.epsilon = _positive(epsilon, "epsilon", allow_zero=True)
        self.centered = bool(centered)
        self.n_slots = 1 + (1 if self.momentum else 0) + (1 if self.centered else 0)

    def _update(self, p, g, slots):
        v = slots[0]
        v *= self.rho
        v += (1 - self.rho) * (g * g)
        if self.centered:
            a = slots[-1]
            a *= self.rho
            a += (1 - self.rho) * g
            den = v - a * a + self.epsilon
        else:
            den = v + self.epsilon
        inc = self.learning_rate * g / np.sqrt(den)
        if self.momentum:
            m = slots[1]
            m *= self.momentum
            m += inc
            p -= m
        else:
            p -= inc

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


_NAMES = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop}
_CLASSES = {c.__name__: c for c in _NAMES.values()}


def get(identifier):
    """An Optimizer from 'sgd' / 'adam' / 'rmsprop', an instance or {'class_name', 'config'}."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _NAMES:
        return _NAMES[identifier.lower()]()
    if isinstance(identifier, dict) and identifier.get("class_name") in _CLASSES:
        return _CLASSES[identifier["class_name"]](**identifier.get("config", {}))
    raise ValueError(f"optimizer must be one of {', '.join(repr(n) for n in _NAMES)} or a "
                     f"fastrnn.optimizers.Optimizer; got {identifier!r}")


def serialize(opt):
    return {"class_name": type(opt).__name__, "config": opt.get_config()}
