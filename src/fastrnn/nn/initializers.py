"""Weight initialisers with Keras's names and definitions.

    glorot_uniform   U(-l, l), l = sqrt(6 / (fan_in + fan_out))   (Keras's kernel default)
    glorot_normal    truncated normal, stddev sqrt(2 / (fan_in + fan_out)) / .87962566
    he_uniform       U(-l, l), l = sqrt(6 / fan_in)
    he_normal        truncated normal, stddev sqrt(2 / fan_in) / .87962566
    orthogonal       Q of the QR decomposition of a normal matrix, signs fixed by diag(R),
                     times gain (Keras's recurrent-kernel default)
    zeros, ones, constant(value)
    random_normal(mean=0, stddev=0.05), random_uniform(minval=-0.05, maxval=0.05)

For a 2-D shape (rows, cols), fan_in = rows and fan_out = cols, as in Keras; so an LSTM kernel
(I, 4H) has fan_out = 4H. Each initialiser is called as ``init(shape, dtype, rng)`` and has
``get_config()``; ``get(identifier)`` accepts a name, an instance or a serialised dict.
The numbers are NumPy's, not TensorFlow's: same distributions, different draws.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Initializer", "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "Orthogonal",
           "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform", "get", "serialize"]


def _fans(shape):
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


def _truncated_normal(rng, shape, stddev):
    """Normal(0, stddev) redrawn outside two standard deviations (Keras's truncated normal)."""
    out = rng.standard_normal(shape)
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2
    return out * stddev


class Initializer:
    """Base class: ``init(shape, dtype, rng) -> ndarray``."""

    name = "initializer"

    def __call__(self, shape, dtype, rng):
        return np.asarray(self.sample(tuple(int(s) for s in shape), rng), dtype=dtype)

    def sample(self, shape, rng):
        raise NotImplementedError

    def get_config(self):
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    name = "zeros"

    def sample(self, shape, rng):
        return np.zeros(shape)


class Ones(Initializer):
    name = "ones"

    def sample(self, shape, rng):
        return np.ones(shape)


class Constant(Initializer):
    name = "constant"

    def __init__(self, value=0.0):
        self.value = float(value)

    def sample(self, shape, rng):
        return np.full(shape, self.value)

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    name = "random_normal"

    def __init__(self, mean=0.0, stddev=0.05):
        self.mean, self.stddev = float(mean), float(stddev)

    def sample(self, shape, rng):
        return self.mean + self.stddev * rng.standard_normal(shape)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev}


class RandomUniform(Initializer):
    name = "random_uniform"

    def __init__(self, minval=-0.05, maxval=0.05):
        self.minval, self.maxval = float(minval), float(maxval)

    def sample(self, shape, rng):
        return rng.uniform(self.minval, self.maxval, shape)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval}


class GlorotUniform(Initializer):
    name = "glorot_uniform"

    def sample(self, shape, rng):
        fan_in, fan_out = _fans(shape)
        limit = np.sqrt(6.0 / max(1, fan_in + fan_out))
        return rng.uniform(-limit, limit, shape)


class GlorotNormal(Initializer):
    name = "glorot_normal"

    def sample(self, shape, rng):
        fan_in, fan_out = _fans(shape)
        return _truncated_normal(rng, shape, np.sqrt(2.0 / max(1, fan_in + fan_out)) / .87962566103423978)


class HeUniform(Initializer):
    name = "he_uniform"

    def sample(self, shape, rng):
        limit = np.sqrt(6.0 / max(1, _fans(shape)[0]))
        return rng.uniform(-limit, limit, shape)


class HeNormal(Initializer):
    name = "he_normal"

    def sample(self, shape, rng):
        return _truncated_normal(rng, shape, np.sqrt(2.0 / max(1, _fans(shape)[0])) / .87962566103423978)


class Orthogonal(Initializer):
    """Keras's orthogonal: rows = prod(shape[:-1]), cols = shape[-1]; QR of a normal
    (max, min) matrix, columns' signs fixed by diag(R), transposed when rows < cols."""

    name = "orthogonal"

    def __init__(self, gain=1.0):
        self.gain = float(gain)

    def sample(self, shape, rng):
        if len(shape) < 2:
            raise ValueError(f"the orthogonal initializer needs a shape of rank >= 2, got {shape}")
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        a = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)

    def get_config(self):
        return {"gain": self.gain}


_CLASSES = {c.name: c for c in (Zeros, Ones, Constant, RandomNormal, RandomUniform, GlorotUniform,
                                GlorotNormal, HeUniform, HeNormal, Orthogonal)}
_CLASS_NAMES = {c.__name__: c for c in _CLASSES.values()}


def get(identifier, arg="initializer"):
    """An Initializer from a name ('glorot_uniform'), an instance or {'class_name', 'config'}."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        if identifier in _CLASS_NAMES:
            return _CLASS_NAMES[identifier]()
    if isinstance(identifier, dict) and identifier.get("class_name") in _CLASS_NAMES:
        return _CLASS_NAMES[identifier["class_name"]](**identifier.get("config", {}))
    raise ValueError(f"{arg} must be one of {', '.join(repr(n) for n in _CLASSES)} "
                     f"or an initializer object; got {identifier!r}")


def serialize(init):
    return {"class_name": type(init).__name__, "config": init.get_config()}
