"""The RNN forecaster of one series: the network and how it is fed, nothing else.

Differencing, scaling and windowing come from ``fastrnn.timeseries``; the network, its
training, early stopping and seeding from ``fastrnn.nn``; the cell set from ``fastrnn.cells``.
"""

from __future__ import annotations

import warnings

import numpy as np

from fastrnn import _params, cells
from fastrnn.forecasting.base import Forecaster, Prediction
from fastrnn.forecasting.intervals import (
    ConformalIntervals,
    check_levels,
    gaussian_bounds,
)
from fastrnn.nn import Sequential, callbacks, layers, losses, optimizers
from fastrnn.timeseries import (
    StandardScaler,
    difference,
    level_offset,
    make_windows,
    undifference,
)

__all__ = ["CELLS", "HEADS", "RNNForecaster", "head_quantiles"]

CELLS = cells.NAMES
HEADS = ("point", "gaussian", "quantile")

_OPTIMIZERS = {"adam": optimizers.Adam, "rmsprop": optimizers.RMSprop, "sgd": optimizers.SGD}
_CHECKS = {
    "units": _params.Int(1), "lags": _params.Int(1), "layers": _params.Int(1),
    "horizon": _params.Int(1), "batch_size": _params.Int(1), "epochs": _params.Int(0),
    "optimizer": _params.Options(tuple(_OPTIMIZERS)),
    "learning_rate": _params.Real(0, closed="neither"),
    "dropout": _params.Real(0, 1, closed="left"),
    "patience": _params.Int(1, none_ok=True),
    "validation": _params.Real(0, 1, closed="neither"),
    "diff": _params.Int(0), "seed": _params.Int(0, none_ok=True),
    "head": _params.Options(HEADS),
}
_DEFAULTS = {"horizon": 1, "epochs": 100, "batch_size": 32, "learning_rate": 0.01,
             "optimizer": "adam", "dropout": 0.0, "patience": None, "head": "point"}
# the parts of a name that differ from the defaults: (parameter, label; "" = the value alone)
_NAME_PARTS = (("horizon", "h"), ("epochs", "epochs"), ("batch_size", "batch"),
               ("learning_rate", "lr"), ("optimizer", ""), ("dropout", "dropout"),
               ("patience", "patience"), ("head", "head"))


def head_quantiles(levels):
    """The quantile levels a quantile head learns for the interval `levels` (percentages):
    0.5 -+ L/200 for each L, and the median: (80, 95) -> (0.025, 0.1, 0.5, 0.9, 0.975)."""
    taus = {0.5}
    for lv in check_levels(levels):
        taus.update((round(0.5 - lv / 200.0, 12), round(0.5 + lv / 200.0, 12)))
    return tuple(sorted(taus))


class RNNForecaster(Forecaster):
    """A recurrent network on the last `lags` values of the (order-``diff`` differenced,
    standard-scaled) series: ``layers`` stacked cells of `units` each (`cell`: a name or alias
    of ``fastrnn.cells``), then ``Dense(horizon)``. Trained with MSE and Adam (or
    "rmsprop"/"sgd") for `epochs` epochs of shuffled mini-batches; with ``patience`` the last
    ``validation`` fraction of the training windows is held out and training stops when its
    loss has not improved for `patience` epochs (best weights restored).

    ``horizon > 1`` trains a direct multi-step model: ``forecast`` then predicts `horizon`
    steps at once (and feeds blocks back beyond); one-step predictions use its first output.
    ``seed`` fixes weights, dropout and shuffling (``select`` sets one per candidate when it is
    None). ``backend``: a ``fastrnn.backends`` name or None for the default.
    The fitted network is ``model_`` (a ``fastrnn.Sequential``), the scaler ``scaler_``.
    ``predict(h, level=[80, 95])`` gives conformal intervals (``default_intervals``; another
    calibration with ``set_intervals``).

    ``head``: "point" (the default: ``Dense(horizon)`` trained with MSE), or a distributional
    head whose intervals ``predict(h, level=...)`` reads off the network itself (unless
    ``set_intervals`` chose conformal ones):

    - "gaussian": ``Dense(2 horizon)`` trained with ``losses.GaussianNLL``: a mean and a
      scale per step; the point forecast is the mean, the bounds mean -+ z_L sigma.
    - "quantile": ``Dense(Q horizon)`` trained with ``losses.QuantileLoss`` on the
      ``head_quantiles(head_levels)`` (non-crossing by construction); the point forecast is
      the median, the level-L bounds the 0.5 -+ L/200 quantiles, so ``level`` must be among
      ``head_levels`` (default (80, 95)).

    Multi-step intervals come from a direct multi-output head, not from sample paths: the
    network predicts the distribution of each of the `horizon` next steps from the same
    window, so the head's intervals reach ``h <= horizon`` steps (set ``horizon`` to the
    longest h you need intervals for; point forecasts still go beyond by feeding blocks
    back). The bounds are mapped to the series' units through the scaler (an increasing
    affine map, which keeps Gaussian and quantile bounds exact).

    With ``diff = d > 0`` bounds on differences do not add up into bounds on levels, so a
    distributional head learns the level scale directly: its target at step j of the window
    ending at t is y_{t+j} - P_d(j), P_d(j) the polynomial continuation of the last d + 1
    values (the forecast when every future d-th difference is 0: y_t for d = 1, y_t +
    j (y_t - y_{t-1}) for d = 2). That target is a fixed linear map of the future d-th
    differences (their d-fold cumulative sum), standardised per step on the training
    windows (``target_mean_``, ``target_sd_``, (horizon,)), so the head's mean, scale and
    quantiles are those of y_{t+j} given the window, and the bounds are P_d(j) plus them:
    exact for every j <= horizon (a Gaussian random walk's 80% band at step j is y_t -+
    1.2816 sigma sqrt(j)). The inputs are the scaled differences as for the point head, and
    point forecasts beyond the horizon feed the block's implied differences back. The
    point head (MSE on the differences) is unchanged."""

    kind = "rnn"
    # intervals: conformal from 20 rolling origins one step apart, forecast by one network
    # fitted on the data before the first (one extra fit, not 20; see forecasting.intervals)
    default_intervals = ConformalIntervals(n_windows=20, step=1, refit=False)

    def __init__(self, cell=cells.GRU.name, units=8, lags=12, layers=1, *, horizon=1,
                 epochs=100, batch_size=32, learning_rate=0.01, optimizer="adam", dropout=0.0,
                 patience=None, validation=0.15, diff=0, backend=None, seed=None,
                 head="point", head_levels=(80, 95)):
        self.cell = cells.get(cell).name
        given = {"units": units, "lags": lags, "layers": layers, "horizon": horizon,
                 "epochs": epochs, "batch_size": batch_size, "optimizer": optimizer,
                 "learning_rate": learning_rate, "dropout": dropout, "patience": patience,
                 "validation": validation, "diff": diff, "seed": seed, "head": head}
        for name, value in given.items():
            setattr(self, name, _params.check(value, name, _CHECKS[name]))
        self.head_levels = check_levels(head_levels)
        if self.head == "quantile" and not self.head_levels:
            raise _params.ParameterError("head_levels must name at least one level for "
                                         "head='quantile', e.g. (80, 95)")
        self._last_history = None
        self.backend = backend
        self.model_ = None
        self.scaler_ = None

    def get_params(self):
        return {"cell": self.cell, "units": self.units, "lags": self.lags,
                "layers": self.layers, "horizon": self.horizon, "epochs": self.epochs,
                "batch_size": self.batch_size, "learning_rate": self.learning_rate,
                "optimizer": self.optimizer, "dropout": self.dropout,
                "patience": self.patience, "validation": self.validation, "diff": self.diff,
                "backend": self.backend, "seed": self.seed, "head": self.head,
                "head_levels": self.head_levels}

    @property
    def name(self):
        units = ",".join([str(self.units)] * self.layers)
        s = f"{cells.get(self.cell).title}({units}) lags={self.lags}"
        p = self.get_params()
        for k, short in _NAME_PARTS:
            if p[k] != _DEFAULTS[k]:
                s += f" {short}={p[k]:g}" if isinstance(p[k], float) else (
                    f" {p[k]}" if not short else f" {short}={p[k]}")
        return s

    @property
    def min_history(self):
        return self.lags + self.diff

    max_history = min_history

    @property
    def n_params(self):
        cell, H, out = cells.get(self.cell), self.units, self.horizon * self._per_step()
        return (cell.count_params(1, H) + (self.layers - 1) * cell.count_params(H, H)
                + H * out + out)

    def describe(self):
        return {"cell": cells.get(self.cell).title, "units": self.units, "lags": self.lags,
                "layers": self.layers}

    def min_length(self):
        """Fewest training values for fit: enough for 8 windows."""
        return self.diff + self.lags + self.horizon + 7

    # the scaler's statistics as plain floats (the series has one feature)
    @property
    def mean_(self):
        return float(self.scaler_.mean_[0])

    @property
    def scale_(self):
        return float(self.scaler_.scale_[0])

    # -- network ---------------------------------------------------------------------------
    def _loss(self):
        if self.head == "gaussian":
            return losses.GaussianNLL()
        if self.head == "quantile":
            return losses.QuantileLoss(head_quantiles(self.head_levels))
        return losses.MeanSquaredError()

    def _per_step(self):
        """Network outputs per forecast step: 1, 2 (mean, scale) or one per quantile."""
        return getattr(self._loss(), "outputs_per_target", 1)

    def _point(self, out):
        """The point forecasts (..., horizon) of network outputs (..., horizon * per step):
        the outputs, the Gaussian means or the quantile head's medians."""
        out = np.asarray(out)
        if self.head == "gaussian":
            return out[..., :self.horizon]
        if self.head == "quantile":
            loss = self._loss()
            return loss.quantiles_of(out)[..., loss.quantiles.index(0.5)]
        return out

    def _seed(self):
        return 0 if self.seed is None else int(self.seed)

    def _build(self):
        cell = cells.get(self.cell)
        Cell = getattr(layers, cell.keras_class)
        s = self._seed()
        stack = []
        for i in range(self.layers):
            stack.append(Cell(self.units, return_sequences=i < self.layers - 1,
                              seed=s * 100 + i, backend=self.backend, name=f"{cell.name}_{i}"))
            if self.dropout:
                stack.append(layers.Dropout(self.dropout, seed=s * 100 + 50 + i,
                                            name=f"dropout_{i}"))
        stack.append(layers.Dense(self.horizon * self._per_step(), name="dense"))
        model = Sequential(stack, name="forecaster", backend=self.backend)
        model.build((None, self.lags, 1), rng=np.random.default_rng([s, 7]))
        model.compile(optimizer=_OPTIMIZERS[self.optimizer](learning_rate=self.learning_rate),
                      loss=self._loss())
        return model

    def _inputs(self, x):
        """The scaled order-d differences of the levels x, as the network reads them."""
        return self.scaler_.transform(difference(x, self.diff)).astype(np.float32)

    def _levels(self, out):
        return self.scaler_.inverse_transform(np.asarray(out, np.float64))

    @property
    def _level_head(self):
        """A distributional head with differencing: it learns the level scale (class
        docstring)."""
        return self.head != "point" and self.diff > 0

    def _cumulate(self):
        """(horizon, horizon) W: level targets y_{t+j} - P_d(j) = W @ the next d-th
        differences (the d-fold cumulative sum: W = L^d, L lower-triangular ones)."""
        low = np.tril(np.ones((self.horizon, self.horizon)))
        return np.linalg.matrix_power(low, self.diff)

    def _head_targets(self, out):
        """Level targets y_{t+j} - P_d(j) (..., horizon) of head outputs in network units:
        the per-step standardisation undone."""
        return self.target_mean_ + self.target_sd_ * np.asarray(out, np.float64)

    def _continuation(self, x, steps):
        """P_d(1..steps): the levels after x when every future d-th difference is 0."""
        return undifference(x, np.zeros(steps), self.diff)

    def _fit(self, x):
        """Difference, scale (on x), window, train."""
        if len(x) < self.min_length():
            raise ValueError(f"{self.name}: {len(x)} training values are too few; lags="
                             f"{self.lags}, horizon={self.horizon}, diff={self.diff} need at "
                             f"least {self.min_length()}")
        self.scaler_ = StandardScaler().fit(difference(x, self.diff))
        X, Y = make_windows(self._inputs(x), self.lags, self.horizon, copy=True)
        if self._level_head:
            # the level-scale targets of a distributional head, standardised per step
            Yd = self.mean_ + self.scale_ * np.asarray(Y, np.float64)   # the differences
            Ylev = Yd @ self._cumulate().T
            self.target_mean_ = Ylev.mean(axis=0)
            sd = Ylev.std(axis=0)
            self.target_sd_ = np.where(sd > 0, sd, 1.0)
            Y = ((Ylev - self.target_mean_) / self.target_sd_).astype(np.float32)
        model = self._build()
        validation, stops = None, []
        if self.patience:
            nv = max(1, round(self.validation * len(X)))
            if len(X) - nv < 2:
                raise ValueError(f"{self.name}: too few windows ({len(X)}) for a validation "
                                 f"part")
            X, Xv, Y, Yv = X[:-nv], X[-nv:], Y[:-nv], Y[-nv:]
            validation = (Xv, Yv)
            stops = [callbacks.EarlyStopping(monitor="val_loss", patience=self.patience,
                                             restore_best_weights=True)]
        self.epochs_run_ = 0
        if self.epochs:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)   # a non-finite loss stops fit
                history = model.fit(X, Y, epochs=self.epochs, batch_size=self.batch_size,
                                    verbose=0, validation_data=validation, callbacks=stops,
                                    rng=np.random.default_rng([self._seed(), 11]))
            # an epoch cut short by a non-finite loss ran, but logged nothing
            self.epochs_run_ = len(history.epoch) + (history.nonfinite is not None)
        self.model_ = model

    def _require_fitted(self):
        if self.model_ is None:
            raise RuntimeError(f"{self.name} is not fitted: call fit(x) first")

    def predict_one_step(self, x, start):
        self._require_fitted()
        x = np.asarray(x, np.float64)
        self._check_start(x, start)
        if start == len(x):
            return np.empty(0)
        # the window before each predicted difference j = start - diff .. len(x) - diff - 1
        first = start - self.diff - self.lags
        X = make_windows(self._inputs(x)[first:], self.lags, 1, copy=True).X
        out = self._point(self.model_.predict(X, batch_size=1024, verbose=0))[:, 0]
        # step 1 of a level head's target is the d-th difference itself (W[0, 0] = 1)
        step = (self.target_mean_[0] + self.target_sd_[0] * np.asarray(out, np.float64)
                if self._level_head else self._levels(out))
        return step + level_offset(x, self.diff, np.arange(start, len(x)))

    def forecast(self, x, steps):
        """The next `steps` levels: recursive (horizon 1) or direct in blocks of `horizon`."""
        steps = _params.positive_int(steps, "steps")
        self._require_fitted()
        x = np.asarray(x, np.float64)
        if len(x) < self.min_history:
            raise ValueError(f"{self.name}: forecasting needs at least {self.min_history} "
                             f"values, got {len(x)}")
        self._last_history = x   # the head's intervals of this forecast (with_intervals)
        buf = list(self._inputs(x)[-self.lags:])
        out = []
        cumulate = self._cumulate() if self._level_head else None
        while len(out) < steps:
            inp = np.asarray(buf[-self.lags:], np.float32)[None, :, None]
            p = self._point(np.asarray(self.model_(inp)))[0]
            if cumulate is not None:   # level targets -> the differences they imply, rescaled
                diffs = np.linalg.solve(cumulate, self._head_targets(p))
                p = ((diffs - self.mean_) / self.scale_).astype(np.float32)
            take = list(p[:min(self.horizon, steps - len(out))])
            out.extend(take)
            buf.extend(take)
        return undifference(x, self._levels(out), self.diff)

    # -- the distributional head's intervals -------------------------------------------------
    def head_bounds(self, x, steps, level):
        """({L: lo}, {L: hi}), each (steps,), of the head's intervals for the `steps` values
        after the history x (levels: class docstring), in the series' units."""
        levels = check_levels(level)
        steps = _params.positive_int(steps, "steps")
        self._require_fitted()
        if self.head == "point":
            raise ValueError(f"{self.name} has a point head: its intervals are conformal "
                             "(predict(h, level=...)); head='gaussian' or 'quantile' learns them")
        if steps > self.horizon:
            raise ValueError(f"{self.name}: the {self.head} head gives intervals for up to "
                             f"horizon={self.horizon} steps (a direct multi-output head), got "
                             f"{steps}; fit with horizon >= {steps}")
        if self.head == "quantile":
            missing = [lv for lv in levels if lv not in self.head_levels]
            if missing:
                raise ValueError(f"{self.name}: the quantile head was trained for levels "
                                 f"{list(self.head_levels)}, not {missing}; fit with "
                                 f"head_levels including them")
        x = np.asarray(x, np.float64)
        if len(x) < self.min_history:
            raise ValueError(f"{self.name}: forecasting needs at least {self.min_history} "
                             f"values, got {len(x)}")
        inp = self._inputs(x)[-self.lags:].astype(np.float32)[None, :, None]
        out = np.asarray(self.model_(inp), np.float64)
        loss = self._loss()
        lo, hi = {}, {}
        if self._level_head:
            # level targets y_{t+j} - P_d(j), standardised per step: an increasing affine
            # map per step, then the known continuation P_d added
            base = self._continuation(x, self.horizon)
            shift, stretch = self.target_mean_ + base, self.target_sd_
        else:
            # the scaler is y = scale * z + mean (diff = 0: the levels themselves)
            shift = np.full(self.horizon, self.mean_)
            stretch = np.full(self.horizon, self.scale_)
        shift, stretch = shift[:steps], stretch[:steps]
        if self.head == "gaussian":
            mu, sigma = loss.mean_and_sigma(out)
            # sds stretch, means map
            lo, hi = gaussian_bounds(shift + stretch * mu[0, :steps],
                                     sigma[0, :steps] * stretch, levels)
        else:
            q = loss.quantiles_of(out)[0, :steps]           # (steps, Q), network units
            for lv in levels:
                j_lo = loss.quantiles.index(round(0.5 - lv / 200.0, 12))
                j_hi = loss.quantiles.index(round(0.5 + lv / 200.0, 12))
                lo[lv], hi[lv] = shift + stretch * q[:, j_lo], shift + stretch * q[:, j_hi]
        return lo, hi

    def _uses_head(self, levels):
        return bool(levels) and self.head != "point" and self.intervals is None

    def predict(self, h, level=None):
        """As ``Forecaster.predict``; with a distributional head (and no ``set_intervals``)
        the bounds are the head's (``head_bounds``)."""
        levels = check_levels(level)
        if not self._uses_head(levels):
            return super().predict(h, level)
        h = _params.positive_int(h, "h")
        self._require_data()
        mean = np.asarray(self.forecast(self.y_, h), np.float64)
        lo, hi = self.head_bounds(self.y_, h, levels)
        return Prediction(mean=mean, lo=lo, hi=hi)

    def with_intervals(self, mean, level):
        """As ``Forecaster.with_intervals``; with a distributional head the bounds are the
        head's for the history `mean` was forecast from: the last ``forecast(x, ...)`` or the
        fitted series (ValueError for any other `mean`)."""
        levels = check_levels(level)
        if not self._uses_head(levels):
            return super().with_intervals(mean, level)
        mean = np.asarray(mean, np.float64)
        self._require_data()
        for x in (self._last_history, self.y_):
            if x is not None and np.array_equal(self.forecast(x, mean.shape[0]), mean):
                lo, hi = self.head_bounds(x, mean.shape[0], levels)
                return Prediction(mean=mean, lo=lo, hi=hi)
        raise ValueError(f"{self.name}: the head's intervals need the history the forecasts "
                         "came from: call forecast(x, steps) first, then with_intervals")

    # -- pickling (fastrnn models hold functions that do not pickle: keep the weights) ------
    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_last_history", None)
        model = state.pop("model_", None)
        state["_weights"] = None if model is None else model.get_weights()
        return state

    def __setstate__(self, state):
        weights = state.pop("_weights", None)
        state.setdefault("head", "point")
        state.setdefault("head_levels", (80.0, 95.0))
        self.__dict__.update(state)
        self._last_history = None
        self.model_ = None
        if weights is not None:
            self.model_ = self._build()
            self.model_.set_weights(weights)
