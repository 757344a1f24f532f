"""The library's global random generator and ``set_random_seed`` (Keras's
``keras.utils.set_random_seed``).

Weight initialisers without a ``seed``, dropout masks of layers without a ``seed`` and the
per-epoch shuffling of ``fit`` all draw from one NumPy Generator. ``set_random_seed(s)``
reseeds it, so that building, compiling and fitting the same model on the same data twice
gives identical weights and losses.
"""

from __future__ import annotations

import numpy as np

__all__ = ["set_random_seed", "generator"]

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
