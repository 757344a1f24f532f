"""Model selection for one series: RNN candidates and classical baselines side by side, under
the same split and the same three criteria.

    from fastrnn.forecasting import selection
    sel = selection.select(series, criterion="mse", n_jobs=2, seed=0)
    sel.table            # ranked: a pandas DataFrame when pandas is installed, else records
    sel.best             # the chosen fitted model (trained on the training part)
    sel.forecast(12)     # refit on the whole series, 12 steps ahead, in the series' units

The split
    The last ``test`` values (a fraction or a count) are the test part x_{m+1}..x_n; models are
    trained on x_1..x_m. Differencing (order d) is decided by the augmented Dickey-Fuller test
    on the training part (constant, lag by AIC): d is raised from 0 while the p-value is above
    ``alpha`` (at most ``max_diff``), unless ``diff=`` is given. RNNs and the AR baseline model
    the order-d differences (RNNs standard-scaled on the training part); the naive baselines
    use the levels. Every prediction and every criterion is in the series' own units.

The criteria (standard forms)
    * Gaussian log-likelihood of n one-step residuals e_t with the maximum-likelihood
      variance s^2 = (1/n) sum e_t^2:  ln L = -(n/2) (ln(2 pi s^2) + 1).
    * AIC = -2 ln L + 2k,   BIC = -2 ln L + k ln n,   k = trainable parameters (weights and
      biases of a network; coefficients and constant of an AR model; 0 for the naive ones; the
      residual variance is not counted, as in statsmodels' OLS). Some course notes print
      these divided by n (AIC/n = ln s^2 + 2k/n + const), or with misprints such as "k ln k"
      or "ln k / n"; dividing by n does not change the ranking, the misprints do; fastrnn uses
      the forms above. The residuals are the in-sample one-step residuals on the training part,
      on a common sample (from the largest history any model needs), so that the criteria of
      models with different lags are comparable.
    * Out-of-sample one-step MSE: forecast each x_i of the test part one step ahead from the
      true past, (1/(n-m)) sum (x_i - x^_i)^2. With ``refit_every=r`` the model is refitted
      on everything before x_{m+1+jr} for each block of r test values (rolling origin).

Baselines: naive (x^_i = x_{i-1}), seasonal naive (x^_i = x_{i-s}, s given or detected from
the autocorrelation), and AR(p) by least squares with a constant on the differenced series
(i.e. ARIMA(p, d, 0)), p in 0..max_lag chosen by AIC (or BIC when ``criterion="bic"``) on a
common sample, then refitted on all rows.

Parallel runs: candidates are fitted with joblib (``n_jobs``; joblib is optional, without it
the candidates run one after another); inside ``with joblib.parallel_backend("dask"):`` the
same call runs on a Dask cluster. Results do not depend on ``n_jobs`` or the backend: each
candidate's weights and shuffling come from its own generator, seeded from ``seed`` and the
candidate's name.
"""

from __future__ import annotations

import itertools
import threading
import time
import warnings
import zlib
from math import log, pi

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from fastrnn.forecasting.calendar import as_series, future_index, level_offset, undifference

__all__ = ["gaussian_loglik", "aic", "bic", "information_criteria", "one_step_mse",
           "out_of_sample_mse", "detect_period", "choose_diff", "Naive", "SeasonalNaive",
           "AR", "RNNForecaster", "grid", "select", "Selection", "CELLS"]

CELLS = ("elman", "lstm", "gru")
_CELL_NAMES = {"elman": "Elman", "lstm": "LSTM", "gru": "GRU"}
_CRITERIA = ("mse", "aic", "bic")


# -- criteria ------------------------------------------------------------------------------
def _residuals(residuals):
    e = np.asarray(residuals, dtype=np.float64).ravel()
    if e.size == 0:
        raise ValueError("residuals: expected at least one residual, got none")
    return e


def gaussian_loglik(residuals):
    """ln L = -(n/2)(ln(2 pi s^2) + 1), s^2 = mean(e^2): the Gaussian log-likelihood of the
    residuals at the maximum-likelihood variance (NaN residuals give NaN)."""
    e = _residuals(residuals)
    n = e.size
    s2 = float(np.mean(e * e))
    if not np.isfinite(s2):
        return float("nan")
    s2 = max(s2, np.finfo(np.float64).tiny)
    return -0.5 * n * (log(2.0 * pi * s2) + 1.0)


def aic(residuals, k):
    """Akaike's criterion -2 ln L + 2k (not divided by n)."""
    return -2.0 * gaussian_loglik(residuals) + 2.0 * k


def bic(residuals, k):
    """Schwarz's criterion -2 ln L + k ln n (not divided by n)."""
    return -2.0 * gaussian_loglik(residuals) + k * log(_residuals(residuals).size)


def information_criteria(residuals, k):
    """dict(n, sigma2, loglik, aic, bic) of residuals from a model with k parameters."""
    e = _residuals(residuals)
    ll = gaussian_loglik(e)
    return {"n": int(e.size), "sigma2": float(np.mean(e * e)), "loglik": ll,
            "aic": -2.0 * ll + 2.0 * k, "bic": -2.0 * ll + k * log(e.size)}


def one_step_mse(actual, predicted):
    """(1/N) sum (actual - predicted)^2."""
    a, p = np.asarray(actual, np.float64), np.asarray(predicted, np.float64)
    if a.shape != p.shape:
        raise ValueError(f"actual and predicted must have the same shape, got {a.shape} and "
                         f"{p.shape}")
    return float(np.mean((a - p) ** 2))


def out_of_sample_mse(model, series, train_size, refit_every=None):
    """(mse, predictions): fit a copy of `model` on x_1..x_m (m = `train_size`) and forecast
    every later x_i one step ahead from the true past; with ``refit_every=r`` refit on all data
    before each block of r test values (rolling origin)."""
    x, _ = as_series(series)
    m = _check_train_size(train_size, x.shape[0])
    preds = _one_step_test(model.clone(), x, m, refit_every, fitted=False)
    return one_step_mse(x[m:], preds), preds


def _check_train_size(m, n):
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or not 0 < m < n:
        raise ValueError(f"train_size must be an int in [1, {n - 1}], got {m!r}")
    return int(m)


def _one_step_test(f, x, m, refit_every, fitted):
    """One-step predictions of x[m:], refitting a clone of f every `refit_every` steps."""
    if not refit_every:
        if not fitted:
            f.fit(x[:m])
        return f.predict_one_step(x, m)
    r = int(refit_every)
    if r < 1:
        raise ValueError(f"refit_every must be a positive int or None, got {refit_every!r}")
    out = np.empty(x.shape[0] - m)
    for a in range(m, x.shape[0], r):
        b = min(a + r, x.shape[0])
        g = f if (a == m and fitted) else f.clone().fit(x[:a])
        out[a - m:b - m] = g.predict_one_step(x[:b], a)
    return out


# -- differencing and season ---------------------------------------------------------------
def choose_diff(x, alpha=0.05, max_diff=2, regression="c"):
    """(d, tests): the smallest d in 0..max_diff at which the ADF test rejects a unit root at
    level `alpha` (max_diff when none does). ``tests`` holds one dict per order tried: d,
    statistic, pvalue, lags, nobs, critical_values."""
    from fastrnn.timeseries import adfuller

    x = np.asarray(x, np.float64)
    tests = []
    for d in range(int(max_diff) + 1):
        z = np.diff(x, d) if d else x
        stat, p, lags, nobs, crit, _ = adfuller(z, regression=regression, autolag="AIC")
        tests.append({"d": d, "statistic": float(stat), "pvalue": float(p), "lags": int(lags),
                      "nobs": int(nobs), "critical_values": dict(crit)})
        if p <= alpha:
            return d, tests
    return int(max_diff), tests


def detect_period(x, d=0, max_period=None, min_period=2):
    """The seasonal period of x: the lag (in min_period..max_period) of the highest local
    maximum of the autocorrelation of the order-d differences, when that maximum is at least
    0.2 and above the 3/sqrt(n) band (stricter than the usual 2/sqrt(n), which white noise
    crosses somewhere among many lags); None when there is none. Default
    ``max_period = n // 3``."""
    z = np.asarray(x, np.float64)
    z = np.diff(z, d) if d else z
    z = z - z.mean()
    n = z.shape[0]
    hi = n // 3 if max_period is None else min(int(max_period), n - 2)
    if hi < min_period + 1 or not np.any(z):
        return None
    denom = float(z @ z)
    r = np.array([float(z[:n - k] @ z[k:]) / denom for k in range(hi + 2)])
    best, best_r = None, max(0.2, 3.0 / np.sqrt(n))
    for k in range(max(min_period, 2), hi + 1):
        if r[k] > r[k - 1] and r[k] >= r[k + 1] and r[k] > best_r:
            best, best_r = k, r[k]
    return best


# -- forecasters ---------------------------------------------------------------------------
class _Forecaster:
    """The protocol every model of a selection keeps.

    ``fit(x)`` on levels x (1-D float64); ``predict_one_step(x, start)``: predictions of
    x[start:] each from the true past x[:i] (start >= ``min_history``); ``forecast(x, steps)``:
    the next `steps` levels after x; ``n_params``; ``name``; ``clone()`` an unfitted copy."""

    kind = "baseline"
    diff = 0

    def clone(self):
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


class Naive(_Forecaster):
    """The last value: x^_i = x_{i-1}; forecasts repeat the last observation. 0 parameters."""

    name = "naive"
    n_params = 0
    min_history = max_history = 1

    def get_params(self):
        return {}

    def fit(self, x):
        return self

    def predict_one_step(self, x, start):
        x = np.asarray(x, np.float64)
        self._check_start(x, start)
        return x[start - 1:len(x) - 1].copy()

    def forecast(self, x, steps):
        return np.full(int(steps), float(np.asarray(x)[-1]))


class SeasonalNaive(_Forecaster):
    """The value one season ago: x^_i = x_{i-s}; forecasts repeat the last season.
    0 parameters. ``period`` s >= 1."""

    n_params = 0

    def __init__(self, period):
        if isinstance(period, bool) or not isinstance(period, (int, np.integer)) or period < 1:
            raise ValueError(f"period must be a positive int, got {period!r}")
        self.period = int(period)
        self.min_history = self.max_history = self.period

    @property
    def name(self):
        return f"seasonal naive (s={self.period})"

    def get_params(self):
        return {"period": self.period}

    def describe(self):
        return {"cell": "", "units": "", "lags": self.period, "layers": ""}

    def fit(self, x):
        return self

    def predict_one_step(self, x, start):
        x = np.asarray(x, np.float64)
        self._check_start(x, start)
        return x[start - self.period:len(x) - self.period].copy()

    def forecast(self, x, steps):
        x = np.asarray(x, np.float64)
        s = self.period
        return np.array([x[len(x) - s + (h % s)] for h in range(int(steps))])


def _ar_design(z, p, rows):
    """[1, z_{t-1}, ..., z_{t-p}] for t in rows."""
    X = np.empty((len(rows), p + 1))
    X[:, 0] = 1.0
    for k in range(1, p + 1):
        X[:, k] = z[rows - k]
    return X


class AR(_Forecaster):
    """AR(p) with a constant on the order-``diff`` differences, by least squares.

    ``p=None``: p in 0..max_lag chosen by ``ic`` ("aic" or "bic", Gaussian likelihood of the
    residuals, k = p + 1) on the common sample t >= max_lag, then refitted on every row
    t >= p (as statsmodels' ``ar_select_order``). ``n_params = p + 1``."""

    def __init__(self, p=None, max_lag=12, ic="aic", diff=0):
        if ic not in ("aic", "bic"):
            raise ValueError(f"ic must be 'aic' or 'bic', got {ic!r}")
        self.p, self.max_lag, self.ic, self.diff = p, int(max_lag), ic, int(diff)
        if p is not None and (isinstance(p, bool) or int(p) < 0):
            raise ValueError(f"p must be an int >= 0 or None, got {p!r}")
        self.p_ = None if p is None else int(p)

    def get_params(self):
        return {"p": self.p, "max_lag": self.max_lag, "ic": self.ic, "diff": self.diff}

    @property
    def max_history(self):
        return (self.max_lag if self.p is None else int(self.p)) + self.diff

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

    def fit(self, x):
        z = np.diff(np.asarray(x, np.float64), self.diff)
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
        return self

    def predict_one_step(self, x, start):
        x = np.asarray(x, np.float64)
        self._check_start(x, start)
        z = np.diff(x, self.diff)
        idx = np.arange(start, len(x))
        dz = _ar_design(z, self.p_, idx - self.diff) @ self.coef_
        return dz + level_offset(x, self.diff, idx)

    def forecast(self, x, steps):
        x = np.asarray(x, np.float64)
        z = list(np.diff(x, self.diff)[-max(self.p_, 1):])
        out = []
        for _ in range(int(steps)):
            v = self.coef_[0] + sum(self.coef_[k] * z[-k] for k in range(1, self.p_ + 1))
            out.append(v)
            z.append(v)
        return undifference(x, np.array(out), self.diff)


_BUILD_LOCK = threading.Lock()


class RNNForecaster(_Forecaster):
    """A recurrent network on the last `lags` values of the (order-``diff`` differenced,
    standard-scaled) series: ``layers`` stacked cells of `units` each (cell "elman", "lstm" or
    "gru"), then ``Dense(horizon)``. Trained with MSE and Adam (or "rmsprop"/"sgd") for
    `epochs` epochs of shuffled mini-batches; with ``patience`` the last ``validation``
    fraction of the training windows is held out and training stops when its loss has not
    improved for `patience` epochs (best weights restored).

    ``horizon > 1`` trains a direct multi-step model: ``forecast`` then predicts `horizon`
    steps at once (and feeds blocks back beyond); one-step predictions use its first output.
    ``seed`` fixes weights, dropout and shuffling (``select`` sets one per candidate when it is
    None). ``backend``: a ``fastrnn.backends`` name or None for the default.
    The fitted network is ``model_`` (a ``fastrnn.Sequential``)."""

    kind = "rnn"

    def __init__(self, cell="gru", units=8, lags=12, layers=1, *, horizon=1, epochs=100,
                 batch_size=32, learning_rate=0.01, optimizer="adam", dropout=0.0,
                 patience=None, validation=0.15, diff=0, backend=None, seed=None):
        cell = str(cell).lower()
        if cell in ("simplernn", "rnn"):
            cell = "elman"
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {', '.join(repr(c) for c in CELLS)}, "
                             f"got {cell!r}")
        for nm, v in (("units", units), ("lags", lags), ("layers", layers),
                      ("horizon", horizon), ("batch_size", batch_size)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{nm} must be a positive int, got {v!r}")
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"epochs must be an int >= 0, got {epochs!r}")
        if optimizer not in ("adam", "rmsprop", "sgd"):
            raise ValueError(f"optimizer must be 'adam', 'rmsprop' or 'sgd', got {optimizer!r}")
        if not float(learning_rate) > 0:
            raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        if patience is not None and int(patience) < 1:
            raise ValueError(f"patience must be a positive int or None, got {patience!r}")
        if not 0.0 < float(validation) < 1.0:
            raise ValueError(f"validation must be in (0, 1), got {validation!r}")
        self.cell, self.units, self.lags, self.layers = cell, int(units), int(lags), int(layers)
        self.horizon, self.epochs, self.batch_size = int(horizon), int(epochs), int(batch_size)
        self.learning_rate, self.optimizer = float(learning_rate), optimizer
        self.dropout, self.patience, self.validation = float(dropout), patience, float(validation)
        self.diff, self.backend, self.seed = int(diff), backend, seed
        self.model_ = None

    _DEFAULTS = {"horizon": 1, "epochs": 100, "batch_size": 32, "learning_rate": 0.01,
                 "optimizer": "adam", "dropout": 0.0, "patience": None}

    def get_params(self):
        return {"cell": self.cell, "units": self.units, "lags": self.lags,
                "layers": self.layers, "horizon": self.horizon, "epochs": self.epochs,
                "batch_size": self.batch_size, "learning_rate": self.learning_rate,
                "optimizer": self.optimizer, "dropout": self.dropout,
                "patience": self.patience, "validation": self.validation, "diff": self.diff,
                "backend": self.backend, "seed": self.seed}

    @property
    def name(self):
        units = ",".join([str(self.units)] * self.layers)
        s = f"{_CELL_NAMES[self.cell]}({units}) lags={self.lags}"
        p = self.get_params()
        for k, short in (("horizon", "h"), ("epochs", "epochs"), ("batch_size", "batch"),
                         ("learning_rate", "lr"), ("optimizer", ""), ("dropout", "dropout"),
                         ("patience", "patience")):
            if p[k] != self._DEFAULTS[k]:
                s += f" {short}={p[k]:g}" if isinstance(p[k], float) else (
                    f" {p[k]}" if not short else f" {short}={p[k]}")
        return s

    @property
    def min_history(self):
        return self.lags + self.diff

    max_history = min_history

    @property
    def n_params(self):
        I, H, L = 1, self.units, self.layers
        per = {"elman": lambda i: H * (i + H + 1), "lstm": lambda i: 4 * H * (i + H + 1),
               "gru": lambda i: 3 * H * (i + H + 2)}[self.cell]
        return per(I) + (L - 1) * per(H) + H * self.horizon + self.horizon

    def describe(self):
        return {"cell": _CELL_NAMES[self.cell], "units": self.units, "lags": self.lags,
                "layers": self.layers}

    def min_length(self):
        """Fewest training values for fit: enough for 8 windows."""
        return self.diff + self.lags + self.horizon + 7

    # -- network ---------------------------------------------------------------------------
    def _seed(self):
        return 0 if self.seed is None else int(self.seed)

    def _build(self):
        import fastrnn
        from fastrnn.nn import layers as L
        from fastrnn.nn import optimizers as O
        from fastrnn.nn import seeding

        Cell = {"elman": L.SimpleRNN, "lstm": L.LSTM, "gru": L.GRU}[self.cell]
        s = self._seed()
        stack = [fastrnn.Input((self.lags, 1), name="input")]
        for i in range(self.layers):
            stack.append(Cell(self.units, return_sequences=i < self.layers - 1,
                              seed=s * 100 + i, backend=self.backend, name=f"{self.cell}_{i}"))
            if self.dropout:
                stack.append(L.Dropout(self.dropout, seed=s * 100 + 50 + i, name=f"dropout_{i}"))
        stack.append(L.Dense(self.horizon, name="dense"))
        # Weight initialisers draw from the library's global generator: swap in a seeded one
        # for the build only, under a lock, and put the caller's back (thread-safe, no side
        # effect on the caller's seeding).
        with _BUILD_LOCK:
            saved = seeding._rng
            seeding._rng = np.random.default_rng([s, 7])
            try:
                model = fastrnn.Sequential(stack, name="forecaster", backend=self.backend)
            finally:
                seeding._rng = saved
        opt = {"adam": O.Adam, "rmsprop": O.RMSprop, "sgd": O.SGD}[self.optimizer]
        model.compile(optimizer=opt(learning_rate=self.learning_rate), loss="mse")
        return model

    def _scale(self, z):
        return (z - self.mean_) / self.scale_

    def fit(self, x):
        """Train on the levels x (1-D): difference, scale (on x), window, fit."""
        x = np.asarray(x, np.float64)
        if len(x) < self.min_length():
            raise ValueError(f"{self.name}: {len(x)} training values are too few; lags="
                             f"{self.lags}, horizon={self.horizon}, diff={self.diff} need at "
                             f"least {self.min_length()}")
        z = np.diff(x, self.diff) if self.diff else x
        self.mean_ = float(z.mean())
        sd = float(z.std())
        self.scale_ = sd if sd > 0 else 1.0
        zs = self._scale(z).astype(np.float32)
        win = sliding_window_view(zs, self.lags + self.horizon)
        X = np.ascontiguousarray(win[:, :self.lags, None])
        Y = np.ascontiguousarray(win[:, self.lags:])
        model = self._build()
        rng = np.random.default_rng([self._seed(), 11])
        Xv = Yv = None
        if self.patience:
            nv = max(1, int(round(self.validation * len(X))))
            if len(X) - nv < 2:
                raise ValueError(f"{self.name}: too few windows ({len(X)}) for a validation "
                                 f"part")
            X, Xv, Y, Yv = X[:-nv], X[-nv:], Y[:-nv], Y[-nv:]
        best, best_w, wait, self.epochs_run_ = np.inf, None, 0, 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # a non-finite loss stops fit
            for _ in range(self.epochs):
                perm = rng.permutation(len(X))
                model.fit(X[perm], Y[perm], epochs=1, batch_size=self.batch_size, verbose=0,
                          shuffle=False)
                self.epochs_run_ += 1
                if model.stop_training:
                    break
                if Xv is not None:
                    v = float(np.mean((model.predict(Xv, batch_size=1024, verbose=0) - Yv) ** 2))
                    if v < best - 1e-12:
                        best, best_w, wait = v, model.get_weights(), 0
                    else:
                        wait += 1
                        if wait >= int(self.patience):
                            break
        if best_w is not None:
            model.set_weights(best_w)
        self.model_ = model
        return self

    def _require_fitted(self):
        if self.model_ is None:
            raise RuntimeError(f"{self.name} is not fitted: call fit(x) first")

    def predict_one_step(self, x, start):
        self._require_fitted()
        x = np.asarray(x, np.float64)
        self._check_start(x, start)
        if start == len(x):
            return np.empty(0)
        z = np.diff(x, self.diff) if self.diff else x
        zs = self._scale(z).astype(np.float32)
        idx = np.arange(start, len(x))
        X = sliding_window_view(zs, self.lags)[idx - self.diff - self.lags][..., None]
        out = self.model_.predict(np.ascontiguousarray(X), batch_size=1024, verbose=0)[:, 0]
        return out.astype(np.float64) * self.scale_ + self.mean_ + level_offset(x, self.diff, idx)

    def forecast(self, x, steps):
        """The next `steps` levels: recursive (horizon 1) or direct in blocks of `horizon`."""
        self._require_fitted()
        x = np.asarray(x, np.float64)
        if len(x) < self.min_history:
            raise ValueError(f"{self.name}: forecasting needs at least {self.min_history} "
                             f"values, got {len(x)}")
        z = np.diff(x, self.diff) if self.diff else x
        buf = list(self._scale(z[-self.lags:]).astype(np.float32))
        out = []
        while len(out) < steps:
            inp = np.asarray(buf[-self.lags:], np.float32)[None, :, None]
            p = np.asarray(self.model_(inp))[0]
            take = list(p[:min(self.horizon, steps - len(out))])
            out.extend(take)
            buf.extend(take)
        dz = np.asarray(out, np.float64) * self.scale_ + self.mean_
        return undifference(x, dz, self.diff)

    # -- pickling (fastrnn models hold functions that do not pickle: keep the weights) ------
    def __getstate__(self):
        state = dict(self.__dict__)
        model = state.pop("model_", None)
        state["_weights"] = None if model is None else model.get_weights()
        return state

    def __setstate__(self, state):
        weights = state.pop("_weights", None)
        self.__dict__.update(state)
        self.model_ = None
        if weights is not None:
            self.model_ = self._build()
            self.model_.set_weights(weights)


def grid(cells=CELLS, units=(8, 16), lags=(6, 12), layers=(1,), epochs=(100,),
         learning_rate=(0.01,), batch_size=(32,), **fixed):
    """RNN candidates: every combination of the given cells, units, lags, layers and training
    settings (each a value or a sequence); `fixed` keyword arguments (horizon, dropout,
    patience, optimizer, backend, seed, ...) go to every ``RNNForecaster``."""
    def seq(v):
        return list(v) if isinstance(v, (list, tuple, range, np.ndarray)) else [v]

    out = []
    for c, u, lg, ly, ep, lr, bs in itertools.product(seq(cells), seq(units), seq(lags),
                                                       seq(layers), seq(epochs),
                                                       seq(learning_rate), seq(batch_size)):
        out.append(RNNForecaster(c, int(u), int(lg), int(ly), epochs=int(ep),
                                 learning_rate=float(lr), batch_size=int(bs), **fixed))
    return out


# -- selection -----------------------------------------------------------------------------
def _name_seed(seed, name):
    return (int(seed) * 1_000_003 + zlib.crc32(name.encode())) % (2**31)


def _evaluate(f, x, m, t0, refit_every):
    """Fit f on x[:m]; its record (criteria, time), the fitted model and its test predictions."""
    rec = {"model": f.name, "kind": f.kind, **f.describe(), "params": None, "loglik": np.nan,
           "aic": np.nan, "bic": np.nan, "mse": np.nan, "fit_s": np.nan, "error": ""}
    preds = np.full(len(x) - m, np.nan)
    try:
        t = time.perf_counter()
        f.fit(x[:m])
        rec["fit_s"] = time.perf_counter() - t
        rec.update(model=f.name, **f.describe(), params=f.n_params)
        ic = information_criteria(x[t0:m] - f.predict_one_step(x[:m], t0), f.n_params)
        rec.update(loglik=ic["loglik"], aic=ic["aic"], bic=ic["bic"])
        preds = _one_step_test(f, x, m, refit_every, fitted=True)
        rec["mse"] = one_step_mse(x[m:], preds) if np.all(np.isfinite(preds)) else np.nan
        if not np.isfinite(rec["mse"]):
            rec["error"] = "non-finite predictions (training diverged)"
    except (ValueError, RuntimeError, np.linalg.LinAlgError, FloatingPointError) as exc:
        rec["error"] = str(exc)
        f = None
    return rec, f, preds


def _run(tasks, x, m, t0, refit_every, n_jobs, progress):
    try:
        import joblib
    except ImportError:
        joblib = None
    total = len(tasks)
    results = [None] * total
    if joblib is None:
        if n_jobs not in (None, 1):
            warnings.warn("joblib is not installed: running the candidates one after another",
                          RuntimeWarning, stacklevel=3)
        gen = ((i, _evaluate(f, x, m, t0, refit_every)) for i, f in enumerate(tasks))
    else:
        def job(i, f):
            return i, _evaluate(f, x, m, t0, refit_every)

        calls = (joblib.delayed(job)(i, f) for i, f in enumerate(tasks))
        par = joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        gen = par(calls)
    for done, (i, res) in enumerate(gen, 1):
        results[i] = res
        if progress is not None:
            progress(done, total, res[0])
    return results


class Selection:
    """What ``select`` returns.

    ``records``: one dict per model, ranked (rank, model, kind, cell, units, lags, layers,
    params, loglik, aic, bic, mse, fit_s, error); ``table``: the same as a pandas DataFrame
    when pandas is installed (else the records); ``best`` / ``best_record``: the chosen fitted
    model and its record; ``models``: name -> fitted model; ``test_predictions``: name ->
    one-step predictions of the test part; ``diff``, ``adf`` (the tests of ``choose_diff``, or
    one test at the given order), ``period`` (the seasonal-naive period or None),
    ``criterion``, ``n``, ``n_train``, ``n_test``, ``t0`` (first residual of the common
    sample), ``index`` (the input's index or None), ``seconds``."""

    def __init__(self, **kw):
        self.__dict__.update(kw)

    @property
    def best_record(self):
        return self.records[0]

    @property
    def best(self):
        return self.models[self.records[0]["model"]]

    @property
    def table(self):
        try:
            return self.to_frame()
        except ImportError:
            return self.records

    def to_frame(self):
        """The ranked records as a pandas DataFrame indexed by rank (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.records).set_index("rank")

    def test_index(self):
        """Labels of the test part (the input's index, else positions)."""
        if self.index is not None:
            return self.index[self.n_train:]
        return np.arange(self.n_train, self.n)

    def forecast(self, steps, refit=True, model=None):
        """`steps` values after the end of the series from the chosen model (or the model
        named `model`), refitted on the whole series first when `refit` (same settings and
        seed); in the series' units, as a pandas Series with the continued time index when
        the input had an index, else an array."""
        name = self.records[0]["model"] if model is None else model
        if name not in self.models:
            raise ValueError(f"no fitted model named {name!r}; models: {sorted(self.models)}")
        f = self.models[name]
        if refit:
            f = f.clone().fit(self._x)
        values = f.forecast(self._x, int(steps))
        if self.index is None:
            return values
        import pandas as pd

        fut = future_index(self.index, int(steps))
        if fut is None:
            fut = pd.RangeIndex(self.n, self.n + int(steps))
        return pd.Series(values, index=fut, name=self.name)

    def __repr__(self):
        b = self.records[0]
        return (f"<Selection: {len(self.records)} models, criterion {self.criterion}, "
                f"d={self.diff}, best {b['model']!r} ({self.criterion} {b[self.criterion]:.4g})>")


def select(series, candidates=None, criterion="mse", *, test=0.2, diff=None, max_diff=2,
           alpha=0.05, baselines=True, season=None, ar_max_lag=None, refit_every=None,
           n_jobs=None, seed=0, backend=None, progress=None):
    """Fit every candidate and baseline on the training part and rank them by `criterion`.

    Parameters
    ----------
    series : 1-D array, list or pandas Series (its index is kept for forecasts)
    candidates : list of ``RNNForecaster`` (or any model with the protocol of the baselines),
        default ``grid()`` (Elman, LSTM, GRU x 8, 16 units x 6, 12 lags).
    criterion : "mse" (out-of-sample one-step), "aic" or "bic" (in-sample, common sample)
    test : fraction (0 < test < 1) or count of the last values held out
    diff : order of differencing; None: by the ADF test at level `alpha`, at most `max_diff`
    baselines : add naive, seasonal naive (when a period is given or detected) and AR(p)
    season : the seasonal-naive period (None: ``detect_period`` on the training part)
    ar_max_lag : largest AR order tried (default: the largest candidate lag, at least
        round(12 (n/100)^(1/4)))
    refit_every : rolling-origin refits for the MSE (None: fit once)
    n_jobs : joblib workers (None: 1, or what an enclosing ``joblib.parallel_backend`` says)
    seed : int; every candidate without its own seed gets one from it and its name
    backend : fastrnn backend for the RNNs (None: the default)
    progress : callable(done, total, record) called as each model finishes

    Returns a :class:`Selection`.
    """
    if criterion not in _CRITERIA:
        raise ValueError(f"criterion must be one of {', '.join(map(repr, _CRITERIA))}, got "
                         f"{criterion!r}")
    t_start = time.perf_counter()
    x, index = as_series(series)
    n = x.shape[0]
    if isinstance(test, (float, np.floating)) and not isinstance(test, bool):
        if not 0.0 < test < 1.0:
            raise ValueError(f"test: expected a fraction in (0, 1) or a count, got {test!r}")
        n_test = int(round(test * n))
    elif isinstance(test, (int, np.integer)) and not isinstance(test, bool):
        n_test = int(test)
    else:
        raise ValueError(f"test: expected a fraction in (0, 1) or a count, got {test!r}")
    n_test = max(n_test, 1)
    m = n - n_test
    if m < 20:
        raise ValueError(f"series: {n} values leave {m} for training after a test part of "
                         f"{n_test}; at least 20 are needed")

    if diff is None:
        d, adf = choose_diff(x[:m], alpha=alpha, max_diff=max_diff)
    else:
        if isinstance(diff, bool) or not isinstance(diff, (int, np.integer)) or diff < 0:
            raise ValueError(f"diff must be an int >= 0 or None, got {diff!r}")
        d = int(diff)
        try:
            _, adf = choose_diff(np.diff(x[:m], d) if d else x[:m], alpha=1.0, max_diff=0)
            adf[0]["d"] = d
        except ValueError:
            adf = []

    if candidates is None:
        candidates = grid()
    models = []
    for c in candidates:
        if not hasattr(c, "get_params"):
            raise TypeError(f"candidates: expected RNNForecaster objects (see grid()), got "
                            f"{type(c).__name__}")
        c = c.clone()
        if isinstance(c, RNNForecaster):
            c.diff = d
            if backend is not None and c.backend is None:
                c.backend = backend
            if c.seed is None:
                c.seed = _name_seed(seed, c.name)
        models.append(c)

    period = None
    if baselines:
        lag_max = max([getattr(c, "lags", 0) for c in models] + [0])
        if ar_max_lag is None:
            ar_max_lag = max(lag_max, int(round(12 * (m / 100) ** 0.25)))
        ar_max_lag = int(min(ar_max_lag, max((m - d) // 3, 1)))
        period = season if season is not None else detect_period(x[:m], d,
                                                                 max_period=min(m // 3, 400))
        base = [Naive()]
        if period is not None and period > 1:
            base.append(SeasonalNaive(int(period)))
        base.append(AR(max_lag=ar_max_lag, ic="bic" if criterion == "bic" else "aic", diff=d))
        models = base + models
    if not models:
        raise ValueError("candidates: nothing to select from (no candidates, baselines=False)")
    names = [f.name for f in models]
    dup = {nm for nm in names if names.count(nm) > 1}
    if dup:
        raise ValueError(f"candidates: duplicate models {sorted(dup)}")

    t0 = max(f.max_history for f in models)
    too_short = [f for f in models if isinstance(f, RNNForecaster) and f.min_length() > m]
    if too_short or m - t0 < 10:
        worst = max(models, key=lambda f: getattr(f, "min_length", lambda: f.max_history)())
        need = max(t0 + 10, getattr(worst, "min_length", lambda: 0)())
        raise ValueError(f"series: {n} values ({m} for training) are too few for lags up to "
                         f"{t0 - d} with d={d}: at least {need + n_test} values needed")

    results = _run(models, x, m, t0, refit_every, n_jobs, progress)
    records, fitted, preds = [], {}, {}
    for rec, f, p in results:
        records.append(rec)
        if f is not None:
            fitted[rec["model"]] = f
            preds[rec["model"]] = p

    def key(r):
        v = r[criterion]
        return (not np.isfinite(v), v if np.isfinite(v) else 0.0, r["model"])

    records.sort(key=key)
    for i, r in enumerate(records, 1):
        r["rank"] = i
    records = [{"rank": r.pop("rank"), **r} for r in records]
    if not fitted or not np.isfinite(records[0][criterion]):
        raise RuntimeError("no model could be fitted: " + "; ".join(
            f"{r['model']}: {r['error']}" for r in records))
    return Selection(records=records, models=fitted, test_predictions=preds, diff=d, adf=adf,
                     period=period, criterion=criterion, n=n, n_train=m, n_test=n_test, t0=t0,
                     index=index, name=getattr(series, "name", None), _x=x,
                     seconds=time.perf_counter() - t_start)
