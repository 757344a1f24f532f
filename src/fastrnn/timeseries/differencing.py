"""Differencing and its inverse, for whole series and for forecasts.

A series is ``x[0..n-1]`` in its own units (the *levels*). A model of order-``d`` differences
predicts ``Δ^d x_i``; the one-step forecast of the level is

    x^_i = Δ^d x^_i + o_i,     o_i = x_i - Δ^d x_i = -sum_{k=1..d} C(d, k) (-1)^k x_{i-k},

which uses only the past, so the one-step error of the level equals the error of the
difference (``level_offset``). Multi-step forecasts of differences are integrated back from the
last ``d`` observed values (``undifference``).
"""

from __future__ import annotations

from math import comb

import numpy as np

from fastrnn import _params
from fastrnn.timeseries.scaling import _float_array

__all__ = ["difference", "inverse_difference", "level_offset", "undifference"]


def difference(x, d=1):
    """Differences of order ``d`` along the time axis (axis 0).

    x: (T,) or (T, F) -> (T - d, ...). ``d = 0`` returns a copy. Invert with
    ``inverse_difference(dx, x[:d])``.
    """
    d = _params.nonnegative_int(d, "d")
    a = _float_array(x, "x")
    if a.ndim == 0:
        raise ValueError("x: expected a 1-D or 2-D array, got a scalar")
    if a.shape[0] <= d:
        raise ValueError(f"x: expected more than d = {d} time steps, got {a.shape[0]}")
    return np.diff(a, n=int(d), axis=0) if d else a.copy()


def inverse_difference(dx, initial):
    """Undo :func:`difference`: rebuild the series from its order-d differences.

    dx: (N,) or (N, F), the order-d differences; initial: (d,) or (d, F), the first d values of
    the series (``d = len(initial)``). Returns the series (d + N, ...) = ``initial`` followed
    by the rebuilt values. To turn forecast differences into levels, pass the last d observed
    values as ``initial`` (and differences of order d of the continued series) and keep
    ``result[d:]``.
    """
    dx = _float_array(dx, "dx")
    init = _float_array(initial, "initial")
    d = init.shape[0] if init.ndim else 0
    if init.ndim and dx.ndim and init.shape[1:] != dx.shape[1:]:
        raise ValueError(f"initial: expected shape (d,) + {dx.shape[1:]} to match dx, got "
                         f"{init.shape}")
    out = dx
    for k in range(d - 1, -1, -1):
        # value at the start of the order-k differences, from the first d raw values
        head = np.diff(init, n=k, axis=0)[0]
        out = np.concatenate([head[None, ...] if init.ndim > 1 else head[None],
                              head + np.cumsum(out, axis=0)], axis=0)
    return out


def level_offset(x, d, idx=None):
    """o_i = x_i - Δ^d x_i (computed from x_{i-1}..x_{i-d} only) for i in `idx`
    (default: d..n-1)."""
    x = np.asarray(x, dtype=np.float64)
    if idx is None:
        idx = np.arange(d, x.shape[0])
    idx = np.asarray(idx)
    out = np.zeros(idx.shape, np.float64)
    for k in range(1, d + 1):
        out -= comb(d, k) * (-1) ** k * x[idx - k]
    return out


def undifference(x, dz, d):
    """Levels following `x` from forecast order-d differences `dz` (x needs >= d values)."""
    dz = np.asarray(dz, dtype=np.float64)
    if d == 0:
        return dz.copy()
    return inverse_difference(dz, np.asarray(x, dtype=np.float64)[-d:])[d:]
