"""Accuracy of forecasts over a horizon: the definitions used everywhere (tests, benchmarks,
cross-validation, the README).

For one series with training values y_1..y_n, horizon h, forecasts f and actuals a:

    MAE    = mean |a_t - f_t|
    RMSE   = sqrt(mean (a_t - f_t)^2)
    MAPE   = (100/h) sum |a_t - f_t| / |a_t|          (NaN when an actual is 0)
    sMAPE  = (200/h) sum |a_t - f_t| / (|a_t| + |f_t|) (the M-competitions' form; a term with
                                                        both zero counts 0)
    MASE   = mean |a_t - f_t| / q,  q = mean over t > s of |y_t - y_{t-s}| on the training
             values, s the seasonal period (1 for none; 1 also when n <= s); NaN when q = 0
    coverage of a level-L interval [l, u] = share of actuals inside it
    MSIS   = (1/h) sum [(u - l) + (2/alpha)(l - a) 1{a < l} + (2/alpha)(a - u) 1{a > u}] / q,
             alpha = 1 - L/100 (M4)

A collection's figure is the mean over its series (``fastrnn.forecasting.cv``).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "POINT_METRICS",
    "coverage",
    "evaluate",
    "mae",
    "mape",
    "mase",
    "mase_scale",
    "msis",
    "rmse",
    "smape",
]

POINT_METRICS = ("mase", "smape", "mae", "rmse", "mape")


def _pair(actual, forecast):
    a = np.asarray(actual, np.float64).ravel()
    f = np.asarray(forecast, np.float64).ravel()
    if a.shape != f.shape:
        raise ValueError(f"actual and forecast must have the same length, got {a.shape[0]} "
                         f"and {f.shape[0]}")
    if a.size == 0:
        raise ValueError("actual: expected at least one value, got none")
    return a, f


def mae(actual, forecast):
    a, f = _pair(actual, forecast)
    return float(np.mean(np.abs(a - f)))


def rmse(actual, forecast):
    a, f = _pair(actual, forecast)
    return float(np.sqrt(np.mean((a - f) ** 2)))


def mape(actual, forecast):
    a, f = _pair(actual, forecast)
    if np.any(a == 0):
        return float("nan")
    return float(100.0 * np.mean(np.abs(a - f) / np.abs(a)))


def smape(actual, forecast):
    a, f = _pair(actual, forecast)
    denom = np.abs(a) + np.abs(f)
    terms = np.divide(np.abs(a - f), denom, out=np.zeros_like(a), where=denom > 0)
    return float(200.0 * np.mean(terms))


def mase_scale(train, season=1):
    """q = mean over t > s of |y_t - y_{t-s}| (s = 1 when the training part has no more than
    s values); NaN with fewer than two values."""
    y = np.asarray(train, np.float64).ravel()
    s = int(season or 1)
    if y.shape[0] <= s:
        s = 1
    if y.shape[0] < 2:
        return float("nan")
    return float(np.mean(np.abs(y[s:] - y[:-s])))


def _scaled(value, q):
    return float(value / q) if np.isfinite(q) and q > 0 else float("nan")


def mase(actual, forecast, train, season=1):
    return _scaled(mae(actual, forecast), mase_scale(train, season))


def coverage(actual, lo, hi):
    a, lo = _pair(actual, lo)
    _, hi = _pair(actual, hi)
    return float(np.mean((a >= lo) & (a <= hi)))


def msis(actual, lo, hi, train, level, season=1):
    a, lo = _pair(actual, lo)
    _, hi = _pair(actual, hi)
    alpha = 1.0 - float(level) / 100.0
    if not 0 < alpha < 1:
        raise ValueError(f"level must be a percentage in (0, 100), got {level!r}")
    score = (hi - lo) + (2.0 / alpha) * ((lo - a) * (a < lo) + (a - hi) * (a > hi))
    return _scaled(float(np.mean(score)), mase_scale(train, season))


def evaluate(actual, prediction, train, season=1):
    """{metric: value} of one forecast: the point metrics, and coverage-L and msis-L for each
    level of `prediction` (a ``Prediction``, or an array of point forecasts)."""
    mean = prediction.mean if hasattr(prediction, "levels") else prediction   # not ndarray.mean
    a, f = _pair(actual, mean)
    q = mase_scale(train, season)
    out = {"mase": _scaled(mae(a, f), q), "smape": smape(a, f), "mae": mae(a, f),
           "rmse": rmse(a, f), "mape": mape(a, f)}
    for lv in getattr(prediction, "levels", ()):
        lo, hi = prediction.lo[lv], prediction.hi[lv]
        out[f"coverage-{lv:g}"] = coverage(a, lo, hi)
        out[f"msis-{lv:g}"] = msis(a, lo, hi, train, lv, season)
    return out
