"""The global RNN forecaster: one network trained on windows drawn from every series of a
collection (the ES-RNN / N-BEATS recipe), ensembled over seeds and input lengths.

    model = GlobalRNN(h=8, units=32, epochs=30, n_seeds=3, input_sizes=[16, 24])
    model.fit(series, season=4)          # series: list of 1-D float arrays, oldest first
    preds = model.predict(level=[80, 95])  # one base.Prediction per series

How a series is fed (N series, series i with n_i training values and seasonal period m_i;
L the input length, h the horizon, F the input features):

1. Deseasonalising (``seasonality="deseasonalize"``, the default): when m_i > 1, n_i >= 2 m_i
   and Theta's seasonality test passes, the series is divided by the classical-decomposition
   indices of its last ``season_window`` values (at least 2 m_i; seasonality drifts, and
   recent indices forecast better: bench/NOTES.md), or has them subtracted when a value is
   <= 0, and forecasts are multiplied back by the indices of their positions. ``"position"`` instead adds sin/cos of the position in the
   cycle (counted from each series' first value) as two input features; ``"none"`` does
   neither.
2. Windows: window e of a series reads its values x[e-L:e] and is trained on x[e:e+h]; the
   ``max_windows`` most recent windows of every series are stacked into one training set.
3. Per-window normalisation: the inputs and the targets of a window are divided by the
   window's own level (the mean of |x[e-L:e]|, ``normalize="mean"``, or |x[e-1]|,
   ``"last"``) and shifted by -1, so the network sees shapes, not scales: multiplying a series
   by c multiplies its forecast by c. ``"diff"`` centres on the window's mean and divides by
   its mean absolute step (the loss then weighs series as MASE does).
4. Short series: a series shorter than L + h is padded on the left with its first value
   (its covariates with their first row) so that it still gives one window; a series with
   n_i <= h gives no training window (its targets would be padding) but is still forecast
   from its padded last window.
5. Network: ``layers`` stacked cells (`cell`, `units` each) and Dense(h) (``strategy=
   "direct"``) or Dense(1) rolled forward h times, each step's window renormalised
   (``"recursive"``), trained with `loss` (MSE by default) and Adam for about ``steps``
   optimiser steps, on the fused C++ path when the backend has it (``fit_path_`` says which
   ran).

Covariates (``fit(..., covariates={"past": ..., "future": ..., "static": ...})``, any subset):

    past    list of N arrays (n_i, Fp) or (n_i,): observed with the series, unknown ahead
    future  list of N arrays (n_i + h, Ff) or (n_i + h,): known for the horizon too
    static  array (N, Fs) or (N,): one row per series

Past and future covariates are standardised per series (mean and sd of their training rows),
static ones over the series. Every input step carries the past, future and static values of
its time; with future covariates the input sequence is extended by h steps holding the
horizon's future values, a 0 value and a horizon flag of 1, so the network reads what it
will be asked about before its last state feeds the Dense head. The recursive strategy takes
static covariates only.

Ensembles: every (seed, input length) pair of ``range(seed, seed + n_seeds)`` x
``input_sizes`` (default ``[input_size]``) is a member network; the forecast is the
element-wise median of the members'.

Intervals (``predict(level=...)``): conformal over the collection. A clone is fitted on every
series less its last ``interval_windows * h`` values, window by window, and forecasts the h
values after each cutoff; the absolute errors divided by the series' MASE scale q_i pooled
over series and windows are the scores of each step j, the radius is their conformal quantile
(``intervals.conformal_radius``) and series i's interval is mean_j +- radius_j q_i. It costs
``interval_windows`` extra fits, made on the first request for levels.
"""

from __future__ import annotations

import warnings

import numpy as np

from fastrnn import _params, cells
from fastrnn.forecasting.accuracy import mase_scale
from fastrnn.forecasting.base import Prediction, as_series
from fastrnn.forecasting.intervals import check_levels, conformal_radius
from fastrnn.forecasting.theta import classical_decomposition, seasonality_test
from fastrnn.nn import Sequential, callbacks, layers, optimizers

__all__ = ["GlobalRNN"]

_CHECKS = {
    "h": _params.Int(1), "input_size": _params.Int(1, none_ok=True), "units": _params.Int(1),
    "layers": _params.Int(1), "epochs": _params.Int(0, none_ok=True),
    "steps": _params.Int(1), "batch_size": _params.Int(1),
    "decay": _params.Real(0, 1, closed="right"),
    "learning_rate": _params.Real(0, closed="neither"),
    "loss": _params.Options(("mae", "mse")),
    "normalize": _params.Options(("mean", "last", "diff")),
    "seasonality": _params.Options(("deseasonalize", "position", "none")),
    "strategy": _params.Options(("direct", "recursive")),
    "max_windows": _params.Int(1), "n_seeds": _params.Int(1), "seed": _params.Int(0),
    "interval_windows": _params.Int(1),
    "season_window": _params.Int(2, none_ok=True),
}
_COVARIATE_KINDS = ("past", "future", "static")
_TINY = 1e-12


def _as_rows(a, rows, name):
    """`a` as float64 (rows, F) (a 1-D array is one column); errors name `name`."""
    a = np.asarray(a)
    if a.dtype == object or not np.issubdtype(a.dtype, np.number):
        raise TypeError(f"{name}: expected numbers, got dtype {a.dtype}")
    a = a.astype(np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] != rows:
        raise ValueError(f"{name}: expected shape ({rows},) or ({rows}, F), got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name}: contains NaN or inf")
    return a


def _standardise(a, axis=0):
    mean = a.mean(axis=axis, keepdims=True)
    sd = a.std(axis=axis, keepdims=True)
    return (a - mean) / np.where(sd > _TINY, sd, 1.0)


def _window_norm(win, normalize):
    """(centre, scale), each (W,), of windows (W, L); a window is read as (x - centre) / scale.
    "mean" / "last": both the level (the mean of |x|, or |last value|; never 0), so the
    network reads x / level - 1; "diff": the mean of x and the mean absolute step (at least
    1e-3 of the level), so the loss weighs series as MASE does."""
    mean_abs = np.abs(win).mean(axis=1)
    safe_abs = np.where(mean_abs > _TINY, mean_abs, 1.0)
    if normalize == "diff":
        step = np.abs(np.diff(win, axis=1)).mean(axis=1) if win.shape[1] > 1 else 0 * safe_abs
        return win.mean(axis=1), np.maximum(step, 1e-3 * safe_abs)
    level = mean_abs if normalize == "mean" else np.abs(win[:, -1])
    level = np.where(level > _TINY, level, safe_abs)
    return level, level


class _Prepared:
    """One series as the networks read it: the adjusted values ``x`` (n,), the extra
    per-step features ``steps`` (n + h, F_steps) (position, past, future, static columns;
    rows n.. carry only what is known ahead), and how to undo the adjustment."""

    def __init__(self, x, steps, indices, multiplicative, n):
        self.x, self.steps, self.n = x, steps, n
        self.indices, self.multiplicative = indices, multiplicative

    def reseasonalise(self, f):
        """Forecasts f (h,) of the adjusted series back in the series' units."""
        if self.indices is None:
            return f
        m = self.indices.shape[0]
        idx = self.indices[(self.n + np.arange(f.shape[0])) % m]
        return f * idx if self.multiplicative else f + idx


class GlobalRNN:
    """One recurrent network for a whole collection (module docstring).

    h               forecast horizon (the Dense head's width with ``strategy="direct"``)
    input_size      input length L (None: max(h, 2 m), m the largest seasonal period)
    cell, units, layers   the recurrent stack (a name or alias of ``fastrnn.cells``)
    epochs          passes over the windows (None: about `steps` optimiser steps in all)
    batch_size, learning_rate, loss    Adam on "mse" or "mae"
    decay           the learning rate is multiplied by `decay` at 1/2 and again at 3/4 of
                    the epochs
    normalize       "mean", "last" or "diff": how each window is scaled (module docstring)
    seasonality     "deseasonalize", "position" or "none"
    season_window   the most recent values the seasonal indices are estimated on (at least
                    2 m; None: all)
    strategy        "direct" (Dense(h)) or "recursive" (Dense(1) rolled h times)
    max_windows     most recent windows taken from each series
    n_seeds, input_sizes   the ensemble: seeds seed..seed+n_seeds-1 x input lengths
    interval_windows       calibration windows of the conformal intervals
    backend         a ``fastrnn.backends`` name, or None for the default

    After ``fit``: ``members_`` (one (input length, fitted ``Sequential``) per member),
    ``fit_path_`` ("fused" when every member trained in the compiled core, else "python"),
    ``fit_info_`` (each member's ``fused_fit_info``)."""

    is_global = True
    kind = "rnn"

    def __init__(self, h, input_size=None, cell=cells.LSTM.name, units=32, layers=1, *,
                 epochs=None, steps=2000, batch_size=256, learning_rate=3e-3, decay=1.0, loss="mse",
                 normalize="mean", seasonality="deseasonalize", strategy="direct",
                 max_windows=64, n_seeds=1, input_sizes=None, seed=0, interval_windows=1,
                 season_window=48, backend=None):
        self.cell = cells.get(cell).name
        given = {"h": h, "input_size": input_size, "units": units, "layers": layers,
                 "epochs": epochs, "steps": steps, "batch_size": batch_size,
                 "learning_rate": learning_rate, "decay": decay,
                 "loss": loss, "normalize": normalize, "seasonality": seasonality,
                 "strategy": strategy, "max_windows": max_windows, "n_seeds": n_seeds,
                 "seed": seed, "interval_windows": interval_windows,
                 "season_window": season_window}
        for name, value in given.items():
            setattr(self, name, _params.check(value, name, _CHECKS[name]))
        if input_sizes is not None:
            if isinstance(input_sizes, (int, np.integer)) or not len(input_sizes):
                raise ValueError(f"input_sizes must be a non-empty list of positive ints or "
                                 f"None, got {input_sizes!r}")
            input_sizes = [_params.check(v, "input_sizes", _params.Int(1))
                           for v in input_sizes]
        self.input_sizes = input_sizes
        self.backend = backend
        self.members_ = None

    # -- protocol ---------------------------------------------------------------------------
    def get_params(self):
        return {"h": self.h, "input_size": self.input_size, "cell": self.cell,
                "units": self.units, "layers": self.layers, "epochs": self.epochs,
                "steps": self.steps, "batch_size": self.batch_size,
                "learning_rate": self.learning_rate, "decay": self.decay,
                "loss": self.loss, "normalize": self.normalize,
                "seasonality": self.seasonality, "strategy": self.strategy,
                "max_windows": self.max_windows, "n_seeds": self.n_seeds,
                "input_sizes": None if self.input_sizes is None else list(self.input_sizes),
                "seed": self.seed, "interval_windows": self.interval_windows,
                "season_window": self.season_window, "backend": self.backend}

    def clone(self):
        """An unfitted copy with the same settings."""
        return type(self)(**self.get_params())

    @property
    def name(self):
        units = ",".join([str(self.units)] * self.layers)
        s = f"Global{cells.get(self.cell).title}({units})"
        sizes = self.input_sizes or ([self.input_size] if self.input_size else [])
        if sizes:
            s += " L=" + ",".join(str(v) for v in sizes)
        if self.n_seeds > 1 or (self.input_sizes and len(self.input_sizes) > 1):
            s += f" x{self.n_seeds * len(self.input_sizes or [0])}"
        if self.strategy != "direct":
            s += f" {self.strategy}"
        if self.seasonality != "deseasonalize":
            s += f" season={self.seasonality}"
        return s

    def describe(self):
        return {"cell": cells.get(self.cell).title, "units": self.units,
                "layers": self.layers, "members": self.n_seeds * len(self._sizes())}

    def _sizes(self):
        if self.input_sizes is not None:
            return list(self.input_sizes)
        if self.input_size is not None:
            return [self.input_size]
        m = max(self.seasons_) if getattr(self, "seasons_", None) else 1
        return [max(self.h, 2 * m)]

    # -- input checks -----------------------------------------------------------------------
    def _check_series(self, series):
        if isinstance(series, np.ndarray) and series.ndim == 1:
            raise TypeError("series must be a list of 1-D arrays (one per series), got one "
                            "1-D array; pass [y] for a single series")
        if isinstance(series, (str, bytes)) or not hasattr(series, "__len__"):
            raise TypeError(f"series must be a list of 1-D arrays, got "
                            f"{type(series).__name__}")
        if len(series) == 0:
            raise ValueError("series must hold at least one series, got an empty list")
        out = []
        for i, s in enumerate(series):
            x, _ = as_series(s, f"series[{i}]")
            if x.shape[0] == 0:
                raise ValueError(f"series[{i}]: expected at least 1 value, got 0")
            out.append(x)
        return out

    def _check_season(self, season, count):
        if isinstance(season, (list, tuple, np.ndarray)):
            if len(season) != count:
                raise ValueError(f"season: expected an int or {count} ints (one per series), "
                                 f"got {len(season)}")
            return [_params.check(int(v) if isinstance(v, np.integer) else v,
                                  f"season[{i}]", _params.Int(1))
                    for i, v in enumerate(season)]
        season = int(season) if isinstance(season, np.integer) else season
        return [_params.check(season, "season", _params.Int(1))] * count

    def _check_covariates(self, covariates, ys):
        if covariates is None:
            return {}
        if not isinstance(covariates, dict):
            raise TypeError(f"covariates must be a dict with keys among {_COVARIATE_KINDS}, "
                            f"got {type(covariates).__name__}")
        unknown = set(covariates) - set(_COVARIATE_KINDS)
        if unknown:
            raise ValueError(f"covariates: unknown kind(s) {sorted(unknown)}; expected keys "
                             f"among {_COVARIATE_KINDS}")
        out, N = {}, len(ys)
        for kind in ("past", "future"):
            if covariates.get(kind) is None:
                continue
            given = covariates[kind]
            if len(given) != N:
                raise ValueError(f"covariates['{kind}']: expected {N} arrays (one per "
                                 f"series), got {len(given)}")
            extra = self.h if kind == "future" else 0
            rows = [_as_rows(a, len(y) + extra, f"covariates['{kind}'][{i}]")
                    for i, (a, y) in enumerate(zip(given, ys))]
            if len({r.shape[1] for r in rows}) != 1:
                raise ValueError(f"covariates['{kind}']: every series needs the same number "
                                 f"of columns, got {sorted({r.shape[1] for r in rows})}")
            out[kind] = rows
        if covariates.get("static") is not None:
            out["static"] = _as_rows(covariates["static"], N, "covariates['static']")
        if self.strategy == "recursive" and ("past" in out or "future" in out):
            raise ValueError("covariates: strategy='recursive' takes static covariates only, "
                             f"got {sorted(k for k in out if k != 'static')}")
        return out

    # -- preparation ------------------------------------------------------------------------
    def _prepare(self, ys, seasons, cov):
        """One ``_Prepared`` per series (module docstring, steps 1 and covariates)."""
        h = self.h
        static = _standardise(cov["static"]) if "static" in cov else None
        out = []
        for i, (y, m) in enumerate(zip(ys, seasons)):
            n = y.shape[0]
            indices, mult, x = None, True, y
            if (self.seasonality == "deseasonalize" and m > 1 and n >= 2 * m
                    and seasonality_test(y, m)):
                mult = bool((y > 0).all())
                # indices from the recent values only: seasonality drifts
                k = n if self.season_window is None else min(n, max(2 * m,
                                                                   self.season_window))
                indices = np.roll(classical_decomposition(y[n - k:], m, multiplicative=mult),
                                  (n - k) % m)
                pos = indices[np.arange(n) % m]
                x = y / pos if mult else y - pos
            cols = []
            if self.seasonality == "position":
                angle = 2 * np.pi * (np.arange(n + h) % m) / m
                cols += [np.sin(angle)[:, None], np.cos(angle)[:, None]]
            if "past" in cov:
                past = _standardise(cov["past"][i])
                start = sum(c.shape[1] for c in cols)
                self._past_cols = slice(start, start + past.shape[1])
                cols.append(np.vstack([past, np.zeros((h, past.shape[1]))]))
            if "future" in cov:
                fut = cov["future"][i]
                mean, sd = fut[:n].mean(axis=0), fut[:n].std(axis=0)
                cols.append((fut - mean) / np.where(sd > _TINY, sd, 1.0))
            if static is not None:
                cols.append(np.repeat(static[i][None, :], n + h, axis=0))
            steps = np.hstack(cols) if cols else np.zeros((n + h, 0))
            out.append(_Prepared(x, steps, indices, mult, n))
        return out

    def _windows(self, p, L, ends):
        """Inputs (W, T, 1 + F) and (centre, scale) (W,) each of the windows of `p` ending at `ends`
        (indices into the left-padded values; T = L, or L + h with future covariates)."""
        x, steps, _ = self._padded(p, L)
        win = np.lib.stride_tricks.sliding_window_view(x, L)[ends - L]       # (W, L)
        centre, scale = _window_norm(win, self.normalize)
        value = (win - centre[:, None]) / scale[:, None]
        T = L + (self.h if self._future else 0)
        feats = np.lib.stride_tricks.sliding_window_view(steps, T, axis=0)   # (.., F, T)
        feats = np.swapaxes(feats[ends - L], 1, 2)                           # (W, T, F)
        if self._future:
            # the horizon steps: past covariates are not known there (in a training window
            # they would leak the targets' time), and a flag marks them
            feats = feats.copy()
            if self._past_cols is not None:
                feats[:, L:, self._past_cols] = 0.0
            flag = np.zeros(feats.shape[:2] + (1,))
            flag[:, L:] = 1.0
            feats = np.concatenate([feats, flag], axis=2)
            value = np.hstack([value, np.zeros((value.shape[0], self.h))])
        return np.concatenate([value[:, :, None], feats], axis=2), (centre, scale)

    def _padded(self, p, L):
        """p's values and steps, left-padded (first value / first row) to >= L + h values."""
        pad = max(0, L + self.h - p.n)
        x = np.r_[np.full(pad, p.x[0]), p.x]
        steps = np.vstack([np.repeat(p.steps[:1], pad, axis=0), p.steps])
        return x, steps, pad

    def _training_set(self, prepared, L):
        """(X (W, T, F) float32, Y (W, h or 1) float32) over every series."""
        width = self.h if self.strategy == "direct" else 1
        Xs, Ys = [], []
        for p in prepared:
            if p.n <= self.h:    # its targets would reach into the padding
                continue
            x = self._padded(p, L)[0]
            last = x.shape[0] - width        # the last window end with real targets
            first = max(L, last - self.max_windows + 1)
            ends = np.arange(first, last + 1)
            X, (centre, scale) = self._windows(p, L, ends)
            tgt = np.lib.stride_tricks.sliding_window_view(x, width)[ends]
            Xs.append(X)
            Ys.append((tgt - centre[:, None]) / scale[:, None])
        if not Xs:
            raise ValueError(f"series: no series has more than h={self.h} values, so none "
                             f"gives a training window")
        return (np.concatenate(Xs).astype(np.float32),
                np.concatenate(Ys).astype(np.float32))

    # -- fit --------------------------------------------------------------------------------
    def _build(self, L, features, seed):
        cell = cells.get(self.cell)
        Cell = getattr(layers, cell.keras_class)
        stack = [Cell(self.units, return_sequences=i < self.layers - 1, seed=seed * 100 + i,
                      backend=self.backend, name=f"{cell.name}_{i}")
                 for i in range(self.layers)]
        stack.append(layers.Dense(self.h if self.strategy == "direct" else 1, name="dense"))
        model = Sequential(stack, name="global_rnn", backend=self.backend)
        T = L + (self.h if self._future else 0)
        model.build((None, T, features), rng=np.random.default_rng([seed, L, 7]))
        model.compile(optimizer=optimizers.Adam(learning_rate=self.learning_rate),
                      loss=self.loss)
        return model

    def _schedule(self, epochs):
        """Epoch -> learning rate: times `decay` from half-way, and again from 3/4."""
        lr, d = self.learning_rate, self.decay
        return lambda e, _: lr * d ** ((e >= epochs // 2) + (e >= 3 * epochs // 4))

    def fit(self, series, season=1, covariates=None):
        """Train the member networks on the windows of every series (list of 1-D arrays,
        oldest first, lengths may differ); `season` an int or one per series; `covariates`
        a dict of "past" / "future" / "static" (module docstring). Returns self."""
        ys = self._check_series(series)
        self.seasons_ = self._check_season(season, len(ys))
        cov = self._check_covariates(covariates, ys)
        self._future, self._past_cols = "future" in cov, None
        self.y_ = ys
        self.covariates_ = cov
        self._prepared = self._prepare(ys, self.seasons_, cov)
        self.members_, self.fit_info_, self._specs = [], [], []
        for L in self._sizes():
            X, Y = self._training_set(self._prepared, L)
            for seed in range(self.seed, self.seed + self.n_seeds):
                model = self._build(L, X.shape[2], seed)
                epochs = self.epochs
                if epochs is None:
                    epochs = max(1, round(self.steps / -(-X.shape[0] // self.batch_size)))
                stops = []
                if self.decay != 1.0:
                    stops = [callbacks.LearningRateScheduler(self._schedule(epochs))]
                if epochs:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", RuntimeWarning)  # non-finite: fit stops
                        model.fit(X, Y, epochs=epochs, batch_size=self.batch_size,
                                  verbose=0, callbacks=stops,
                                  rng=np.random.default_rng([seed, L, 11]))
                self.fit_info_.append(dict(model.fused_fit_info or {"fused": False,
                                                                     "reason": "epochs=0"}))
                self.members_.append((L, model))
                self._specs.append((L, X.shape[2], seed))
        self.fit_path_ = ("fused" if all(i.get("fused") for i in self.fit_info_)
                          else "python")
        self._scores = None
        return self

    # -- predict ----------------------------------------------------------------------------
    def _member_forecast(self, L, model):
        """(N, h) forecasts of the adjusted series by one member."""
        h, out = self.h, []
        if self.strategy == "direct":
            Xs, centres, scales = [], [], []
            for p in self._prepared:
                pad = self._padded(p, L)[2]
                X, (centre, scale) = self._windows(p, L, np.array([pad + p.n]))
                Xs.append(X)
                centres.append(centre)
                scales.append(scale)
            X = np.concatenate(Xs).astype(np.float32)
            f = np.asarray(model.predict(X, batch_size=1024, verbose=0), np.float64)
            return f * np.concatenate(scales)[:, None] + np.concatenate(centres)[:, None]
        # recursive: every step's window renormalised by its own level, as in training
        hist = [self._padded(p, L) for p in self._prepared]
        vals = np.stack([x[-L:] for x, _, _ in hist])                        # (N, L)
        # padded steps have h rows after the last value: step j reads rows -h-L+j .. -h+j-1
        steps = np.stack([s[s.shape[0] - h - L:] for _, s, _ in hist])       # (N, L + h, F)
        for j in range(h):
            win = vals[:, -L:]
            centre, scale = _window_norm(win, self.normalize)
            feats = steps[:, j:j + L]
            value = (win - centre[:, None]) / scale[:, None]
            X = np.concatenate([value[:, :, None], feats], axis=2)
            f = np.asarray(model.predict(X.astype(np.float32), batch_size=1024, verbose=0),
                           np.float64)[:, 0]
            vals = np.hstack([vals, (f * scale + centre)[:, None]])
            out.append(vals[:, -1])
        return np.stack(out, axis=1)

    def _require_fitted(self):
        if self.members_ is None:
            raise RuntimeError(f"{self.name} is not fitted: call fit(series, season) first")

    def _point(self):
        """(N, h) ensemble-median forecasts in the series' units."""
        f = np.median(np.stack([self._member_forecast(L, m) for L, m in self.members_]),
                      axis=0)
        return np.stack([p.reseasonalise(row) for p, row in zip(self._prepared, f)])

    def predict(self, h=None, level=None):
        """One ``Prediction`` per series: the h values after its end (h at most the model's
        horizon; default all of it), with conformal bounds per level (module docstring)."""
        self._require_fitted()
        h = self.h if h is None else _params.check(h, "h", _params.Int(1, self.h))
        levels = check_levels(level)
        mean = self._point()[:, :h]
        if not levels:
            return [Prediction(row.copy()) for row in mean]
        scores = self._conformal_scores()
        q = np.array([self._scale(y, m) for y, m in zip(self.y_, self.seasons_)])
        out = []
        radius = {lv: conformal_radius(scores, lv)[:h] for lv in levels}
        for i, row in enumerate(mean):
            lo = {lv: row - r * q[i] for lv, r in radius.items()}
            hi = {lv: row + r * q[i] for lv, r in radius.items()}
            out.append(Prediction(row.copy(), lo, hi))
        return out

    @staticmethod
    def _scale(y, m):
        """The MASE scale of a training part, falling back to the non-seasonal one and to
        the mean |y| (constant series), never 0."""
        for q in (mase_scale(y, m), mase_scale(y, 1), float(np.abs(y).mean())):
            if np.isfinite(q) and q > _TINY:
                return q
        return 1.0

    def _conformal_scores(self):
        """(windows x series, h) scaled absolute errors of clones fitted on the series less
        their last k h values, k = 1..interval_windows."""
        if self._scores is not None:
            return self._scores
        h, rows = self.h, []
        for k in range(1, self.interval_windows + 1):
            cut = k * h
            keep = [i for i, y in enumerate(self.y_) if len(y) - cut > h]
            if not keep:
                break
            train = [self.y_[i][:-cut] for i in keep]
            cov = {}
            if "past" in self.covariates_:
                cov["past"] = [self.covariates_["past"][i][:-cut] for i in keep]
            if "future" in self.covariates_:
                cov["future"] = [self.covariates_["future"][i][:len(self.y_[i]) - cut + h]
                                 for i in keep]
            if "static" in self.covariates_:
                cov["static"] = self.covariates_["static"][keep]
            sub = self.clone().fit(train, [self.seasons_[i] for i in keep], cov or None)
            f = sub._point()
            for j, i in enumerate(keep):
                actual = self.y_[i][len(train[j]):len(train[j]) + h]
                rows.append(np.abs(actual - f[j]) / self._scale(train[j], self.seasons_[i]))
        if not rows:
            raise ValueError(f"intervals: no series has more than {2 * h} values, none can "
                             f"calibrate a conformal interval for h={h}")
        self._scores = np.stack(rows)
        return self._scores

    # -- pickling (fastrnn models hold functions that do not pickle: keep the weights) ------
    def __getstate__(self):
        state = dict(self.__dict__)
        members = state.pop("members_", None)
        state["_weights"] = None if members is None else [m.get_weights() for _, m in members]
        return state

    def __setstate__(self, state):
        weights = state.pop("_weights", None)
        self.__dict__.update(state)
        self.members_ = None
        if weights is not None:
            self.members_ = []
            for (L, features, seed), w in zip(self._specs, weights):
                model = self._build(L, features, seed)
                model.set_weights(w)
                self.members_.append((L, model))
