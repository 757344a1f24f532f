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

``level=`` is where prediction intervals will come in: ``Prediction`` has room for a lower
and an upper bound per level (``lo-80``, ``hi-80``, ...). Until they exist a level raises
NotImplementedError, so that nobody mistakes a point forecast for an interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fastrnn import _params

__all__ = ["Forecaster", "Prediction", "as_series"]


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


def check_level(level):
    """The door for ``level=``: None passes; anything else is refused until intervals exist."""
    if level is not None:
        raise NotImplementedError(
            f"prediction intervals are not available yet: level={level!r} was asked for; "
            "pass level=None for point forecasts")
    return level


@dataclass(frozen=True, eq=False)
class Prediction:
    """What ``predict`` returns: ``mean`` (h,), the point forecasts in the series' units, and
    per level L the bounds ``lo[L]`` and ``hi[L]`` (empty while intervals do not exist)."""

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

    def fit(self, y):
        """Train on the levels y (1-D: array, list or pandas Series); returns self."""
        x, _ = as_series(y, "y")
        self._fit(x)
        self.y_ = x
        return self

    def _fit(self, x):
        raise NotImplementedError

    def _require_data(self):
        if self.y_ is None:
            raise RuntimeError(f"{self.name} is not fitted: call fit(y) first")

    def predict(self, h, level=None):
        """The `h` values after the fitted series, as a ``Prediction`` (point forecasts in
        ``.mean``). `level` (intervals) is not available yet and raises NotImplementedError."""
        check_level(level)
        h = _params.positive_int(h, "h")
        self._require_data()
        return Prediction(mean=np.asarray(self.forecast(self.y_, h), np.float64))

    def residuals(self, start=None):
        """In-sample one-step residuals y_t - y^_t of the fitted series for t >= `start`
        (default ``min_history``), each prediction from the true past."""
        self._require_data()
        start = self.min_history if start is None else _params.nonnegative_int(start, "start")
        return self.y_[start:] - self.predict_one_step(self.y_, start)

    def clone(self):
        """An unfitted copy with the same settings."""
        return type(self)(**self.get_params())

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
