"""Multi-step forecasting helpers: differencing offsets and their inverse, time indices of the
future, and ``forecast(model, series, steps)``.

Conventions (shared with ``fastrnn.selection``): a series is 1-D, ``x[0..n-1]`` in its own
units (the *levels*). A model of order-``d`` differences predicts ``Δ^d x_i``; the one-step
forecast of the level is

    x^_i = Δ^d x^_i + o_i,     o_i = x_i - Δ^d x_i = -sum_{k=1..d} C(d, k) (-1)^k x_{i-k},

which uses only the past, so the one-step error of the level equals the error of the
difference. Multi-step forecasts of differences are integrated back with
``fastrnn.timeseries.inverse_difference`` from the last ``d`` observed values.

Recursive forecasting feeds each one-step forecast back as an input; a model trained with
``horizon = H > 1`` forecasts H steps at once (direct), and in blocks of H, fed back, beyond.
"""

from __future__ import annotations

import warnings
from math import comb

import numpy as np

from fastrnn.timeseries import inverse_difference

__all__ = ["level_offset", "undifference", "future_index", "forecast", "as_series"]


def as_series(series, name="series"):
    """(values float64 1-D, index or None) from an array, list or pandas Series/1-column
    DataFrame. Raises ValueError/TypeError naming `name` for bad input (not 1-D, not numeric,
    NaN/inf)."""
    index = None
    if hasattr(series, "to_numpy") and hasattr(series, "index"):
        if getattr(series, "ndim", 1) == 2:
            if series.shape[1] != 1:
                raise ValueError(f"{name}: expected one column, got a frame with "
                                 f"{series.shape[1]} columns; pick one, e.g. df['col']")
            series = series.iloc[:, 0]
        index = series.index
        series = series.to_numpy()
    a = np.asarray(series)
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_):
        raise TypeError(f"{name}: expected numbers, got dtype {a.dtype}")
    a = a.astype(np.float64)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D series, got shape {a.shape}")
    bad = np.flatnonzero(~np.isfinite(a))
    if bad.size:
        raise ValueError(f"{name}: value {bad[0]} is {a[bad[0]]} (NaN or inf); fill or drop "
                         f"missing values first ({bad.size} in all)")
    return a, index


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


def _const_step(a):
    if a.shape[0] < 2:
        return None
    steps = np.diff(a)
    return steps[0] if np.all(steps == steps[0]) and steps[0] != 0 else None


def future_index(index, steps):
    """The `steps` time labels after `index`, or None when they cannot be inferred.

    `index`: a pandas Index (DatetimeIndex/PeriodIndex with a frequency that is set or can be
    inferred, or integers with a constant step) or a NumPy array of integers or datetime64
    with a constant step (whole months also when they are months apart). Returns the same
    kind (pandas Index or NumPy array)."""
    if index is None or steps < 1:
        return None
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is optional
        pd = None
    k = np.arange(1, steps + 1)
    if pd is not None and isinstance(index, pd.Index):
        if len(index) == 0:
            return None
        if isinstance(index, pd.PeriodIndex):
            return index[-1] + k
        if isinstance(index, pd.DatetimeIndex):
            freq = index.freq
            if freq is None and len(index) >= 3:
                with warnings.catch_warnings():    # pandas 3 warns about its return type
                    warnings.simplefilter("ignore")
                    freq = pd.infer_freq(index)
            if freq is None:
                return None
            return pd.date_range(index[-1], periods=steps + 1, freq=freq)[1:]
        if pd.api.types.is_integer_dtype(index.dtype):
            step = _const_step(np.asarray(index))
            if step is None:
                return None
            return pd.Index(index[-1] + step * k, name=index.name)
        return None
    a = np.asarray(index)
    if a.ndim != 1 or a.shape[0] == 0:
        return None
    if np.issubdtype(a.dtype, np.integer):
        step = _const_step(a)
        return None if step is None else a[-1] + step * k
    if np.issubdtype(a.dtype, np.datetime64):
        months = a.astype("datetime64[M]")
        if np.all(months.astype(a.dtype) == a):      # first of each month (or coarser)
            step = _const_step(months.astype(np.int64))
            if step is not None:
                return (months[-1] + step * k).astype(a.dtype)
        step = _const_step(a.astype(np.int64))
        return None if step is None else a[-1] + step * k
    return None


def forecast(model, series, steps):
    """Forecast `steps` values after the end of `series` with a fitted model of
    ``fastrnn.selection`` (an RNN forecaster or a baseline).

    Scaling and differencing are inverted: the values are in the series' own units. A pandas
    Series in gives a pandas Series out, indexed by the continuation of its time index
    (``future_index``; a RangeIndex continuing the positions when none can be inferred); an
    array in gives an array out."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    x, index = as_series(series)
    values = model.forecast(x, int(steps))
    if index is None:
        return values
    import pandas as pd

    fut = future_index(index, int(steps))
    if fut is None:
        fut = pd.RangeIndex(len(x), len(x) + int(steps))
    return pd.Series(values, index=fut, name=getattr(series, "name", None))
