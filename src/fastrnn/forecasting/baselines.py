"""Classical baselines: naive (x^_i = x_{i-1}), seasonal naive (x^_i = x_{i-s}) and AR(p) by
least squares with a constant on the order-d differences (i.e. ARIMA(p, d, 0)), p in
0..max_lag chosen by AIC or BIC on a common sample, then refitted on all rows.

A fast forecaster that loses to these is worthless, so every selection fits them beside the
networks, under the same split and the same criteria.

Analytic intervals (``forecast_sd(h)``: the sd of the j-step forecast errors, j = 1..h, for
Gaussian bounds; Hyndman & Athanasopoulos, FPP3 section 5.5), sigma from the fitted series:

    naive            sigma sqrt(j)               sigma^2 = mean (y_t - y_{t-1})^2
    seasonal naive   sigma sqrt(floor((j-1)/m) + 1)     sigma^2 = mean (y_t - y_{t-m})^2
    drift            sigma sqrt(j (1 + j/T))     T = n - 1 differences d_t, b their mean,
                                                 sigma^2 = sum (d_t - b)^2 / (T - 1)
                                                 (``drift_sd``; j/T is the variance of b)
    AR(p), ARIMA(p,d,0)  sigma sqrt(sum_{i<j} psi_i^2), psi the MA(inf) weights of
                     phi(B) (1 - B)^d, sigma^2 = SSR / nobs of the least-squares fit (the
                     conditional ML variance, as statsmodels' AutoReg)

The sds ignore the uncertainty of the AR coefficients (as AutoReg and ARIMA do).
"""

from __future__ import annotations

import numpy as np

from fastrnn import _params
from fastrnn.forecasting.base import Forecaster
from fastrnn.forecasting.metrics import information_criteria
from fastrnn.timeseries import difference, level_offset, undifference

__all__ = ["AR", "Naive", "SeasonalNaive", "drift_sd", "psi_weights"]

_IC = _params.Options(("aic", "bic"))
_P = _params.Int(0, none_ok=True)


class Naive(Forecaster):
    """The last value: x^_i = x_{i-1}; forecasts repeat the last observation. 0 parameters."""

    name = "naive"
    n_params = 0
    min_history = max_history = 1

    def get_params(self):
        return {}

    def _fit(self, x):
        pass

    def predict_one_step(self, x, start):
        x = np.asarray(x, np.float64)
        self._check_start(x, start)
        return x[start - 1:len(x) - 1].copy()

    def forecast(self, x, steps):
        steps = _params.positive_int(steps, "steps")
        return np.full(steps, float(np.asarray(x)[-1]))

    def forecast_sd(self, h):
        """(h,) sds of the 1..h-step errors: sigma sqrt(j)."""
        self._require_data()
        sigma = self._residual_sigma(np.diff(self.y_))
        return sigma * np.sqrt(np.arange(1, _params.positive_int(h, "h") + 1))


class SeasonalNaive(Forecaster):
    """The value one season ago: x^_i = x_{i-s}; forecasts repeat the last season.
    0 parameters. ``period`` s >= 1."""

    n_params = 0

    def __init__(self, period):
        self.period = _params.positive_int(period, "period")
        self.min_history = self.max_history = self.period

    @property
    def name(self):
        return f"seasonal naive (s={self.period})"

    def get_params(self):
        return {"period": self.period}

    def describe(self):
        return {"cell": "", "units": "", "lags": self.period, "layers": ""}

    def _check_one_season(self, x):
        if x.shape[0] < self.period:  # x[-s + h % s] would wrap round to the series' start
            raise ValueError(f"seasonal naive: {x.shape[0]} values, fewer than one season "
                             f"({self.period})")

    def _fit(self, x):
        self._check_one_season(x)

    def predict_one_step(self, x, start):
        x = np.asarray(x, np.float64)
        self._check_start(x, start)
        return x[start - self.period:len(x) - self.period].copy()

    def forecast(self, x, steps):
        steps = _params.positive_int(steps, "steps")
        x = np.asarray(x, np.float64)
        self._check_one_season(x)
        s = self.period
        return np.array([x[len(x) - s + (h % s)] for h in range(steps)])

    def forecast_sd(self, h):
        """(h,) sds of the 1..h-step errors: sigma sqrt(floor((j - 1)/m) + 1)."""
        self._require_data()
        m = self.period
        sigma = self._residual_sigma(self.y_[m:] - self.y_[:-m])
        j = np.arange(1, _params.positive_int(h, "h") + 1)
        return sigma * np.sqrt((j - 1) // m + 1)


def drift_sd(y, h):
    """(h,) sds of the 1..h-step errors of the drift forecast after the series y (n >= 3):
    sigma sqrt(j (1 + j/T)), T = n - 1 (module docstring)."""
    d = np.diff(np.asarray(y, np.float64))
    t = d.shape[0]
    if t < 2:
        raise ValueError(f"drift intervals need at least 3 values, got {t + 1}")
    sigma = float(np.sqrt(np.sum((d - d.mean()) ** 2) / (t - 1)))
    j = np.arange(1, _params.positive_int(h, "h") + 1)
    return sigma * np.sqrt(j * (1.0 + j / t))


def psi_weights(phi, d, h):
    """psi_0..psi_{h-1} of the model phi(B) (1 - B)^d y_t = c + e_t, phi(B) = 1 - sum_k
    phi_k B^k (phi (p,))."""
    poly = np.r_[1.0, -np.asarray(phi, np.float64)]
    for _ in range(d):
        poly = np.convolve(poly, [1.0, -1.0])
    big = -poly[1:]
    psi = np.zeros(h)
    psi[0] = 1.0
    for j in range(1, h):
        k = min(j, big.shape[0])
        psi[j] = float(big[:k] @ psi[j - k:j][::-1])
    return psi


def _ar_design(z, p, rows):
    """[1, z_{t-1}, ..., z_{t-p}] for t in rows."""
    X = np.empty((len(rows), p + 1))
    X[:, 0] = 1.0
    for k in range(1, p + 1):
        X[:, k] = z[rows - k]
    return X


class AR(Forecaster):
    """AR(p) with a constant on the order-``diff`` differences, by least squares.

    ``p=None``: p in 0..max_lag chosen by ``ic`` ("aic" or "bic", Gaussian likelihood of the
    residuals, k = p + 1) on the common sample t >= max_lag, then refitted on every row
    t >= p (as statsmodels' ``ar_select_order``). ``n_params = p + 1``."""

    def __init__(self, p=None, max_lag=12, ic="aic", diff=0):
        self.ic = _params.check(ic, "ic", _IC)
        self.p = _params.check(p, "p", _P)
        self.max_lag = _params.nonnegative_int(max_lag, "max_lag")
        self.diff = _params.nonnegative_int(diff, "diff")
        self.p_ = self.p

    def get_params(self):
        return {"p": self.p, "max_lag": self.max_lag, "ic": self.ic, "diff": self.diff}

    @property
    def max_history(self):
        return (self.max_lag if self.p is None else self.p) + self.diff

    @property
    def min_history(self):
        return (self.max_lag if self.p_ is None else self.p_) + self.diff

    @property
    def name(self):
        p = "p" if self.p_ is None else self.p_
        return f"AR({p})" if self.diff == 0 else f"ARIMA({p},{self.diff},0)"

    @property
    def n_params(self):
        return (self.max_lag if self.p_ is None else self.p_) + 1

    def describe(self):
        return {"cell": "", "units": "", "lags": self.p_, "layers": ""}

    def _fit(self, x):
        z = difference(x, self.diff)
        if self.p is None:
            P = self.max_lag
            if len(z) - P < P + 3:
                raise ValueError(f"AR: {len(z)} values are too few for max_lag={P}")
            rows = np.arange(P, len(z))
            best = None
            for p in range(P + 1):
                X = _ar_design(z, p, rows)
                coef = np.linalg.lstsq(X, z[rows], rcond=None)[0]
                ic = information_criteria(z[rows] - X @ coef, p + 1)[self.ic]
                if best is None or ic < best[0] - 1e-12:
                    best = (ic, p)
            self.p_ = best[1]
        rows = np.arange(self.p_, len(z))
        if len(rows) < self.p_ + 2:
            raise ValueError(f"AR: {len(z)} values are too few for p={self.p_}")
        X = _ar_design(z, self.p_, rows)
        self.coef_ = np.linalg.lstsq(X, z[rows], rcond=None)[0]
        resid = z[rows] - X @ self.coef_
        self.sigma2_ = float(resid @ resid / resid.shape[0])

    def forecast_sd(self, h):
        """(h,) sds of the 1..h-step errors: sigma sqrt(sum_{i<j} psi_i^2)."""
        self._require_data()
        psi = psi_weights(self.coef_[1:], self.diff, _params.positive_int(h, "h"))
        return np.sqrt(self.sigma2_ * np.cumsum(psi * psi))

    def predict_one_step(self, x, start):
        x = np.asarray(x, np.float64)
        self._check_start(x, start)
        z = difference(x, self.diff)
        idx = np.arange(start, len(x))
        dz = _ar_design(z, self.p_, idx - self.diff) @ self.coef_
        return dz + level_offset(x, self.diff, idx)

    def forecast(self, x, steps):
        steps = _params.positive_int(steps, "steps")
        x = np.asarray(x, np.float64)
        z = list(difference(x, self.diff)[-max(self.p_, 1):])
        out = []
        for _ in range(steps):
            v = self.coef_[0] + sum(self.coef_[k] * z[-k] for k in range(1, self.p_ + 1))
            out.append(v)
            z.append(v)
        return undifference(x, np.array(out), self.diff)
