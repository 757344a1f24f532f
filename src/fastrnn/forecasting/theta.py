"""The Theta method (Assimakopoulos & Nikolopoulos 2000, the M3 winner) in the form of
Hyndman & Billah (2003) and the ``thetaf`` of R's forecast package, and the drift baseline.

Theta, for a series x_1..x_n with seasonal period m:

1. Seasonality test (when m > 1 and n > 2m): with r_k the autocorrelation of x at lag k,
   the series is seasonal when |r_m| / sqrt((1 + 2 sum_{k=1}^{m-1} r_k^2) / n) exceeds
   1.645 (the 95% normal quantile, i.e. a 90% two-sided test).
2. If seasonal: classical multiplicative decomposition (R's ``decompose``): the centred moving
   average of order m (2 x m when m is even) is the trend, the mean ratio x_t / trend_t at
   each position of the cycle (counted from the first value) the seasonal index, normalised
   to average 1; x is divided by its indices. Indices near zero (< 1e-4) fall back to the
   non-seasonal method; a series with a value <= 0 is decomposed additively instead.
3. Simple exponential smoothing of the (adjusted) series, l_t = l_{t-1} + alpha (x_t -
   l_{t-1}), with alpha in [1e-4, 0.9999] (``thetaf``'s, through R's ``ets``; statsforecast's
   Theta uses [0.1, 0.99]: ``alpha_bounds=``) and the initial level l_0 chosen together by
   least squares of the one-step errors (l_0 in closed form for each alpha; alpha on three
   nested grids, to 2e-5 of the bounds' width).
4. Forecast h steps ahead: l_n + (b / 2) (h - 1 + (1 - (1 - alpha)^n) / alpha), with b the
   least-squares slope of the adjusted series on t = 0..n-1 (half the slope of the linear
   trend: the theta = 0 line's drift given weight 1/2), then multiplied by the seasonal index
   of each future position.

``predict_one_step(x, start)`` and ``forecast(x, steps)`` apply the fitted alpha, l_0, b and
seasonal indices to a history x that starts where the fitted series started (its prefix
ones are the fitted series' own one-step forecasts).

Drift: the naive forecast plus the average step, x_n + h (x_n - x_1) / (n - 1).
"""

from __future__ import annotations

import numpy as np

from fastrnn import _params
from fastrnn.forecasting.base import Forecaster
from fastrnn.forecasting.baselines import drift_sd
from fastrnn.timeseries.smoothing import ses_sse

__all__ = ["Drift", "Theta", "classical_decomposition", "seasonality_test", "ses_fit"]

_Z95 = 1.6448536269514722
_ALPHA_LOW, _ALPHA_HIGH = 1e-4, 0.9999
_DECOMPOSITION = _params.Options(("multiplicative", "additive"))
_BOUND = _params.Real(0, 1, closed="neither")


def _acf(x, nlags):
    """Autocorrelations r_0..r_nlags (R's ``acf``: sums over n - k pairs, divided by the
    lag-0 sum)."""
    z = np.asarray(x, np.float64) - np.mean(x)
    denom = float(z @ z)
    return np.array([float(z[:z.shape[0] - k] @ z[k:]) / denom for k in range(nlags + 1)])


def seasonality_test(x, m):
    """Whether x (1-D) is seasonal with period m by ``thetaf``'s test (step 1 above); False
    when m < 2, n <= 2m or x is constant."""
    x = np.asarray(x, np.float64)
    n = x.shape[0]
    if m < 2 or n <= 2 * m or np.ptp(x) == 0:
        return False
    r = _acf(x, m)[1:]
    stat = np.sqrt((1.0 + 2.0 * float(np.sum(r[:m - 1] ** 2))) / n)
    return bool(abs(r[m - 1]) / stat > _Z95)


def classical_decomposition(x, m, multiplicative=True):
    """The seasonal indices (m,) of x by classical decomposition, position 0 being x's first
    value: ratios (differences) to the centred moving average of order m (2 x m for even m),
    averaged per position and normalised to mean 1 (sum 0). Needs n >= 2m."""
    x = np.asarray(x, np.float64)
    n = x.shape[0]
    if n < 2 * m:
        raise ValueError(f"classical decomposition needs at least 2 periods ({2 * m} values), "
                         f"got {n}")
    w = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
    half = w.shape[0] // 2
    trend = np.full(n, np.nan)
    trend[half:n - half] = np.convolve(x, w, mode="valid")
    detrended = x / trend if multiplicative else x - trend
    figure = np.array([np.nanmean(detrended[i::m]) for i in range(m)])
    return figure / figure.mean() if multiplicative else figure - figure.mean()


def ses_fit(x, bounds=(_ALPHA_LOW, _ALPHA_HIGH)):
    """(alpha, l_0) of simple exponential smoothing of x (1-D) by least squares of the
    one-step errors, alpha in `bounds` (default [1e-4, 0.9999])."""
    x = np.asarray(x, np.float64)
    shift = x[0]                                 # SES is shift-equivariant: better rounding
    z = x - shift
    lo, hi = bounds
    for size in (101, 41, 41):
        alphas = np.linspace(lo, hi, size)
        sse, level0 = ses_sse(z, alphas)
        i = int(np.argmin(sse))
        lo, hi = alphas[max(i - 1, 0)], alphas[min(i + 1, size - 1)]
    return float(alphas[i]), float(level0[i] + shift)


def _ses_levels(z, alpha, level0):
    """The one-step predictions l_0, l_1, ..., l_n of SES over z (n + 1 values)."""
    out = np.empty(z.shape[0] + 1)
    level = level0
    out[0] = level
    for t, v in enumerate(z, 1):
        level += alpha * (v - level)
        out[t] = level
    return out


class Theta(Forecaster):
    """The standard Theta method (``thetaf``): SES of the seasonally adjusted series plus half
    the slope of its linear trend, reseasonalised (see the module's docstring).

    period         seasonal period m (1: none); a frequency's period, e.g. 4 quarterly
    seasonal       "auto" (the seasonality test decides), True (decompose whenever n >= 2m),
                   False
    decomposition  "multiplicative" (additive for a series with a value <= 0) or "additive"
    alpha_bounds   (low, high) of the smoothing parameter, 0 < low < high < 1
    n_params = 3 (alpha, l_0, b) + m - 1 seasonal indices when seasonal."""

    def __init__(self, period=1, seasonal="auto", decomposition="multiplicative",
                 alpha_bounds=(_ALPHA_LOW, _ALPHA_HIGH)):
        self.period = _params.positive_int(period, "period")
        if not (isinstance(seasonal, bool) or (isinstance(seasonal, str) and seasonal == "auto")):
            raise _params.ParameterError(f"seasonal must be 'auto', True or False, got "
                                         f"{seasonal!r}")
        self.seasonal = seasonal
        self.decomposition = _params.check(decomposition, "decomposition", _DECOMPOSITION)
        try:
            lo, hi = (float(_params.check(v, "alpha_bounds", _BOUND)) for v in alpha_bounds)
        except TypeError:
            raise _params.ParameterError(f"alpha_bounds must be a pair (low, high), got "
                                         f"{alpha_bounds!r}") from None
        if not lo < hi:
            raise ValueError(f"alpha_bounds must have low < high, got {alpha_bounds!r}")
        self.alpha_bounds = (lo, hi)
        self.seasonal_ = False
        self.figure_ = np.ones(1)
        self.multiplicative_ = True
        self.min_history = self.max_history = 1

    @property
    def name(self):
        return "theta" if self.period == 1 else f"theta (s={self.period})"

    @property
    def n_params(self):
        return 3 + (self.period - 1 if self.seasonal_ else 0)

    def get_params(self):
        return {"period": self.period, "seasonal": self.seasonal,
                "decomposition": self.decomposition, "alpha_bounds": self.alpha_bounds}

    def describe(self):
        return {"cell": "", "units": "", "lags": self.period if self.seasonal_ else "",
                "layers": ""}

    def _fit(self, x):
        n, m = x.shape[0], self.period
        if n < 3:
            raise ValueError(f"theta: {n} values are too few (at least 3)")
        seasonal = m > 1 and ((self.seasonal == "auto" and seasonality_test(x, m))
                              or (self.seasonal is True and n >= 2 * m))
        self.multiplicative_ = self.decomposition == "multiplicative" and bool(np.all(x > 0))
        self.seasonal_ = False
        self.figure_ = np.ones(1) if self.multiplicative_ else np.zeros(1)
        if seasonal:
            figure = classical_decomposition(x, m, self.multiplicative_)
            if not (self.multiplicative_ and np.any(np.abs(figure) < 1e-4)):
                self.seasonal_, self.figure_ = True, figure
        z = self._adjust(x)
        self.alpha_, self.level0_ = ses_fit(z, self.alpha_bounds)
        t = np.arange(n, dtype=np.float64)
        self.slope_ = float(np.polyfit(t, z, 1)[0])

    def _index(self, positions):
        return self.figure_[np.asarray(positions) % self.figure_.shape[0]]

    def _adjust(self, x):
        s = self._index(np.arange(x.shape[0]))
        return x / s if self.multiplicative_ else x - s

    def _reseason(self, values, positions):
        s = self._index(positions)
        return values * s if self.multiplicative_ else values + s

    def _drift(self, n, steps):
        """(b / 2)(h - 1 + (1 - (1 - alpha)^n) / alpha) for h = 1..steps after n values."""
        a = self.alpha_
        return 0.5 * self.slope_ * (np.arange(steps) + (1.0 - (1.0 - a) ** n) / a)

    def predict_one_step(self, x, start):
        x = np.asarray(x, np.float64)
        self._check_start(x, start)
        self._require_fit()
        levels = _ses_levels(self._adjust(x), self.alpha_, self.level0_)
        i = np.arange(start, x.shape[0])
        a = self.alpha_
        pred = levels[i] + 0.5 * self.slope_ * (1.0 - (1.0 - a) ** i) / a
        return self._reseason(pred, i)

    def forecast(self, x, steps):
        x = np.asarray(x, np.float64)
        self._require_fit()
        n, steps = x.shape[0], int(steps)
        level = _ses_levels(self._adjust(x), self.alpha_, self.level0_)[-1]
        return self._reseason(level + self._drift(n, steps), np.arange(n, n + steps))

    def _require_fit(self):
        if not hasattr(self, "alpha_"):
            raise RuntimeError(f"{self.name} is not fitted: call fit(y) first")


class Drift(Forecaster):
    """The random walk with drift: x^_{n+h} = x_n + h (x_n - x_1) / (n - 1), one-step
    x^_i = x_{i-1} + (x_{i-1} - x_1) / (i - 2) from the true past. 1 parameter (the
    drift)."""

    name = "drift"
    n_params = 1
    min_history = max_history = 2

    def get_params(self):
        return {}

    def _fit(self, x):
        if x.shape[0] < 2:
            raise ValueError(f"drift: {x.shape[0]} value(s) are too few (at least 2)")

    def predict_one_step(self, x, start):
        x = np.asarray(x, np.float64)
        self._check_start(x, start)
        i = np.arange(start, x.shape[0])
        last = x[i - 1]
        return last + (last - x[0]) / (i - 1)

    def forecast(self, x, steps):
        x = np.asarray(x, np.float64)
        if x.shape[0] < 2:
            raise ValueError(f"drift: {x.shape[0]} value(s) are too few (at least 2)")
        slope = (x[-1] - x[0]) / (x.shape[0] - 1)
        return x[-1] + slope * np.arange(1, int(steps) + 1)

    def forecast_sd(self, h):
        """(h,) sds of the 1..h-step errors (analytic intervals): sigma sqrt(h (1 + h/T))."""
        self._require_data()
        return drift_sd(self.y_, h)
