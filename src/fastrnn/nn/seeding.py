"""The library's global random generator and ``set_random_seed`` (Keras's
``keras.utils.set_random_seed``).

Weight initialisers without a ``seed``, dropout masks of layers without a ``seed`` and the
per-epoch shuffling of ``fit`` all draw from one NumPy Generator. ``set_random_seed(s)``
reseeds it, so that building, compiling and fitting the same model on the same data twice
gives identical weights and losses. ``Sequential.build(rng=...)`` and ``fit(rng=...)`` draw
from a generator of their own instead (see ``as_generator``) and leave the global one alone,
which is what concurrent fits need.
"""

from __future__ import annotations

import numbers

import numpy as np

from fastrnn import _params

__all__ = ["set_random_seed", "generator", "as_generator"]

_rng = np.random.default_rng()


def set_random_seed(seed):
    """Reseed the global generator (also NumPy's legacy global one, as Keras does)."""
    global _rng
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise TypeError(f"seed must be a non-negative int, got {seed!r}")
    _rng = np.random.default_rng(int(seed))
    np.random.seed(int(seed) % 2**32)


def generator(seed=None):
    """A Generator: a new one from `seed` when given, else the global one."""
    return _rng if seed is None else np.random.default_rng(seed)


def as_generator(rng, name="rng"):
    """The Generator an ``rng=`` argument names: None stays None (the caller then draws from
    the global generator), an int seed gives a new Generator, a Generator is used as it is."""
    if rng is None or isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, bool) or not isinstance(rng, numbers.Integral):
        raise TypeError(f"{name} must be None, an int seed or a numpy.random.Generator, "
                        f"got {rng!r}")
    return np.random.default_rng(_params.nonnegative_int(rng, name))
