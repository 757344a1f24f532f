"""The forecaster protocol: what every model of a selection keeps, and the door a series comes
in by.

A forecaster (``Forecaster`` subclasses, or any object with the same methods):

    fit(y)                      train on the levels y (1-D), remembered as ``y_``; returns self
    predict(h, level=None)      a ``Prediction`` of the h values after ``y_``
    residuals(start=None)       in-sample one-step residuals y_t - y^_t, t >= start
                                (default ``min_history``), each from the true past
    predict_one_step(x, start)  predictions of x[start:], each from the true past x[:i]
    forecast(x, steps)          the next `steps` levels after any history x
    name, kind, n_params, min_history, max_history, diff, describe(), get_params(), clone()
    forecast_sd(h)              optional: (h,) sds of the 1..h-step errors (analytic intervals)

Prediction intervals: ``predict(h, level=[80, 95])`` adds a lower and an upper bound per
level (``lo[80]``, ``hi[80]``; ``lo-80``, ``hi-80`` in the long format), in the series' own
units. How they are made is the forecaster's ``intervals`` setting (``set_intervals``):

    None (default)          analytic where the model has them (``forecast_sd``: Gaussian
                            bounds from the sd of the h-step errors; naive, seasonal naive,
                            AR), else conformal with the model's ``default_intervals``
    "analytic"              analytic, ValueError for a model without them
    ConformalIntervals(..)  conformal from rolling-origin windows (``forecasting.intervals``)

A forecaster of the protocol that is not a ``Forecaster`` subclass gets conformal intervals
through ``fastrnn.forecasting.intervals.conformal_scores``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fastrnn import _params
from fastrnn.forecasting.intervals import (
    ConformalIntervals,
    check_levels,
    gaussian_bounds,
)

__all__ = ["Forecaster", "Prediction", "as_series", "check_levels"]


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


@dataclass(frozen=True, eq=False)
class Prediction:
    """What ``predict`` returns: ``mean`` (h,), the point forecasts in the series' units, and
    per level L (a float percentage) the bounds ``lo[L]`` and ``hi[L]`` (h,) (empty without
    levels)."""

    mean: np.ndarray
    lo: dict = field(default_factory=dict)
    hi: dict = field(default_factory=dict)

    @property
    def levels(self):
        return tuple(sorted(self.lo))

    def to_dict(self):
        """Columns of the long format: ``forecast``, then ``lo-L`` and ``hi-L`` per level."""
        out = {"forecast": self.mean}
        for lv in self.levels:
            out[f"lo-{lv:g}"] = self.lo[lv]
            out[f"hi-{lv:g}"] = self.hi[lv]
        return out

    def __len__(self):
        return len(self.mean)


class Forecaster:
    """Base class of the forecasters: subclasses implement ``_fit(x)``, ``predict_one_step``,
    ``forecast``, ``get_params``, ``name``, ``n_params``, ``min_history``, ``max_history``."""

    kind = "baseline"
    diff = 0
    y_ = None
    intervals = None
    # conformal calibration when a model has no analytic intervals (refit on every window:
    # cheap for the classical models; the RNN forecasters fit once)
    default_intervals = ConformalIntervals(n_windows=20, step=1, refit=True)

    def fit(self, y):
        """Train on the levels y (1-D: array, list or pandas Series); returns self."""
        x, _ = as_series(y, "y")
        self._fit(x)
        self.y_ = x
        self._scores = {}
        return self

    def _fit(self, x):
        raise NotImplementedError

    def _require_data(self):
        if self.y_ is None:
            raise RuntimeError(f"{self.name} is not fitted: call fit(y) first")

    def set_intervals(self, method):
        """How ``predict(h, level=...)`` makes intervals: None (analytic where the model has
        them, else conformal), "analytic", or a ``ConformalIntervals``. Returns self (kept by
        ``clone``)."""
        if not (method is None or isinstance(method, ConformalIntervals)
                or (isinstance(method, str) and method == "analytic")):
            raise _params.ParameterError(f"intervals must be None, 'analytic' or a "
                                         f"ConformalIntervals, got {method!r}")
        self.intervals = method
        self._scores = {}
        return self

    @property
    def has_analytic_intervals(self):
        return callable(getattr(self, "forecast_sd", None))

    def interval_method(self):
        """"analytic" or the ``ConformalIntervals`` that ``predict`` uses."""
        if self.intervals is None:
            return "analytic" if self.has_analytic_intervals else self.default_intervals
        if self.intervals == "analytic" and not self.has_analytic_intervals:
            raise ValueError(f"{self.name} has no analytic intervals; use "
                             f"set_intervals(ConformalIntervals(...)) or None (the default)")
        return self.intervals

    def predict(self, h, level=None):
        """The `h` values after the fitted series, as a ``Prediction``: point forecasts in
        ``.mean`` (h,), and with `level` (a percentage in (0, 100) or a list of them) the
        bounds ``.lo[L]``, ``.hi[L]`` (h,) of each level (``interval_method``)."""
        levels = check_levels(level)
        h = _params.positive_int(h, "h")
        self._require_data()
        mean = np.asarray(self.forecast(self.y_, h), np.float64)
        return self.with_intervals(mean, levels)

    def with_intervals(self, mean, level):
        """A ``Prediction`` of the forecasts `mean` (h,) of this fitted model (after its
        fitted series, or after a longer history with the same fitted parameters) with the
        bounds of `level`."""
        levels = check_levels(level)
        mean = np.asarray(mean, np.float64)
        if not levels:
            return Prediction(mean=mean)
        self._require_data()
        h = mean.shape[0]
        method = self.interval_method()
        if method == "analytic":
            lo, hi = gaussian_bounds(mean, self.forecast_sd(h), levels)
        else:
            lo, hi = method.bounds(mean, self.conformal_scores(h, method), levels)
        return Prediction(mean=mean, lo=lo, hi=hi)

    def conformal_scores(self, h, method=None):
        """(W, h) absolute errors of the rolling-origin windows of the fitted series
        (``forecasting.intervals``), computed once per h and method after each fit."""
        self._require_data()
        method = self.default_intervals if method is None else method
        cache = self.__dict__.setdefault("_scores", {})
        key = (int(h),) + method.key()
        if key not in cache:
            cache[key] = method.scores(self, self.y_, int(h))
        return cache[key]

    def _residual_sigma(self, residuals, k=0):
        """sqrt(sum e^2 / (N - k)) of N residuals and k estimated parameters."""
        e = np.asarray(residuals, np.float64)
        if e.shape[0] - k < 1:
            raise ValueError(f"{self.name}: {e.shape[0]} residual(s) are too few for an "
                             f"interval")
        return float(np.sqrt(np.sum(e * e) / (e.shape[0] - k)))

    def residuals(self, start=None):
        """In-sample one-step residuals y_t - y^_t of the fitted series for t >= `start`
        (default ``min_history``), each prediction from the true past."""
        self._require_data()
        start = self.min_history if start is None else _params.nonnegative_int(start, "start")
        return self.y_[start:] - self.predict_one_step(self.y_, start)

    def clone(self):
        """An unfitted copy with the same settings (and the same ``intervals``)."""
        new = type(self)(**self.get_params())
        if "intervals" in self.__dict__:
            new.intervals = self.intervals
        return new

    def describe(self):
        return {"cell": "", "units": "", "lags": "", "layers": ""}

    def _check_start(self, x, start):
        if start < self.min_history:
            raise ValueError(f"{self.name}: one-step predictions need at least "
                             f"{self.min_history} past values; start={start}")
        if start > len(x):
            raise ValueError(f"start={start} is beyond the series ({len(x)} values)")

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
