"""Time-ordered train / validation / test splits (no shuffling, optional gap)."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["split_indices", "train_val_test_split"]


def _size(v, n: int, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{name}: expected a fraction in [0, 1) or an int count, got {v!r}")
    if isinstance(v, numbers.Integral):
        if v < 0 or v > n:
            raise ValueError(f"{name}: expected a count in [0, {n}], got {v}")
        return int(v)
    if not 0.0 <= v < 1.0:
        raise ValueError(f"{name}: expected a fraction in [0, 1), got {v}")
    return int(np.floor(v * n + 0.5))


def split_indices(n, val=0.15, test=0.15, gap=0):
    """Slices (train, val, test) of ``range(n)`` in time order.

    ``val``/``test``: fractions of n (rounded) or counts. ``gap``: time steps dropped between
    train and validation and between validation and test, so that no window straddles two
    parts; for arrays of windows (``make_windows`` with stride 1) use
    ``gap >= lags + horizon - 1`` to keep every time step of a validation window out of every
    training window (and likewise for test). The test part is the last ``test`` steps; the
    validation part ends ``gap`` steps before it; training is everything before that, less
    ``gap`` steps. A zero-size validation part produces no extra gap.
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"n: expected a non-negative int, got {n!r}")
    n = int(n)
    if isinstance(gap, bool) or not isinstance(gap, numbers.Integral) or gap < 0:
        raise ValueError(f"gap: expected a non-negative int, got {gap!r}")
    n_test = _size(test, n, "test")
    n_val = _size(val, n, "val")
    gaps = gap * ((n_test > 0) + (n_val > 0))
    n_train = n - n_test - n_val - gaps
    if n_train <= 0:
        raise ValueError(f"val/test/gap: nothing left for training: n={n}, val={n_val}, "
                         f"test={n_test}, gap={gap} (x{(n_test > 0) + (n_val > 0)})")
    train = slice(0, n_train)
    v0 = n_train + (gap if n_val else 0)
    val_s = slice(v0, v0 + n_val)
    t0 = v0 + n_val + (gap if n_test else 0)
    test_s = slice(t0, t0 + n_test)
    return train, val_s, test_s


def train_val_test_split(*arrays, val=0.15, test=0.15, gap=0):
    """Split arrays along their first (time or window) axis, in time order, without shuffling.

    ``arrays``: one or more arrays with the same first dimension n (e.g. a series (T, F), or
    windows X (W, lags, F) and y (W, horizon)). Returns views: for one array
    ``(train, val, test)``; for several, one ``(train, val, test)`` tuple per array.
    See :func:`split_indices` for ``val``, ``test`` and ``gap``.
    """
    if not arrays:
        raise ValueError("arrays: expected at least one array, got none")
    arrs = [a if hasattr(a, "shape") else np.asarray(a) for a in arrays]
    n = arrs[0].shape[0]
    for i, a in enumerate(arrs[1:], 1):
        if a.shape[0] != n:
            raise ValueError(f"arrays[{i}]: expected first dimension {n} like arrays[0], got "
                             f"{a.shape[0]}")
    tr, va, te = split_indices(n, val, test, gap)
    parts = [(a[tr], a[va], a[te]) for a in arrs]
    return parts[0] if len(parts) == 1 else tuple(parts)
