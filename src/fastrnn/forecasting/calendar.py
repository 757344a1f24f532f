"""The time labels of a forecast: the future of a series' index, and ``forecast(model, series,
steps)``, which puts a fitted forecaster's values on that calendar.

Recursive forecasting feeds each one-step forecast back as an input; a model trained with
``horizon = H > 1`` forecasts H steps at once (direct), and in blocks of H, fed back, beyond.
Differencing and its inverse are ``fastrnn.timeseries``'s (``level_offset``, ``undifference``).
"""

from __future__ import annotations

import warnings

import numpy as np

from fastrnn import _params
from fastrnn.forecasting.base import as_series, check_levels

__all__ = ["future_index", "forecast"]


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


def forecast(model, series, steps, level=None):
    """Forecast `steps` values after the end of `series` with a fitted forecaster of
    ``fastrnn.forecasting`` (an RNN forecaster or a baseline).

    Scaling and differencing are inverted: the values are in the series' own units. A pandas
    Series in gives a pandas Series out, indexed by the continuation of its time index
    (``future_index``; a RangeIndex continuing the positions when none can be inferred); an
    array in gives an array out. With `level` (80, or [80, 95]) the bounds of the model's
    intervals come too (``Forecaster.with_intervals``, calibrated on the model's fitted
    series): a ``Prediction`` for an array, a DataFrame with the columns ``forecast``,
    ``lo-80``, ``hi-80``, ... for a pandas Series."""
    levels = check_levels(level)
    steps = _params.positive_int(steps, "steps")
    x, index = as_series(series)
    values = model.forecast(x, steps)
    pred = None
    if levels:
        if not hasattr(model, "with_intervals"):
            raise TypeError(f"{type(model).__name__} makes no intervals (level={level!r}); "
                            "use a fastrnn.forecasting.Forecaster")
        pred = model.with_intervals(values, levels)
    if index is None:
        return values if pred is None else pred
    import pandas as pd

    fut = future_index(index, steps)
    if fut is None:
        fut = pd.RangeIndex(len(x), len(x) + steps)
    if pred is not None:
        return pd.DataFrame(pred.to_dict(), index=fut)
    return pd.Series(values, index=fut, name=getattr(series, "name", None))
