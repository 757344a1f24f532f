"""Model selection for one series: RNN candidates and classical baselines side by side, under
the same split and the same three criteria.

    from fastrnn.forecasting import select, grid
    sel = select(series, grid(), criterion="mse", n_jobs=2, seed=0)
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

The criteria (``fastrnn.forecasting.metrics`` has their forms)
    * AIC and BIC of the in-sample one-step residuals on the training part, on a common
      sample (from the largest history any model needs), so that the criteria of models with
      different lags are comparable.
    * Out-of-sample one-step MSE: forecast each x_i of the test part one step ahead from the
      true past, (1/(n-m)) sum (x_i - x^_i)^2. With ``refit_every=r`` the model is refitted
      on everything before x_{m+1+jr} for each block of r test values (rolling origin).

Baselines (``fastrnn.forecasting.baselines``): naive, seasonal naive (s given or detected from
the autocorrelation by ``fastrnn.timeseries.detect_period``), and AR(p) on the differenced
series, p chosen by AIC (or BIC when ``criterion="bic"``).

Parallel runs: candidates are fitted with joblib (``n_jobs``; joblib is optional, without it
the candidates run one after another); inside ``with joblib.parallel_backend("dask"):`` the
same call runs on a Dask cluster. Results do not depend on ``n_jobs`` or the backend: each
candidate's weights and shuffling come from its own generator, seeded from ``seed`` and the
candidate's name. ``n_jobs`` never starts more workers than the cores this process may run on
(its affinity mask) or the models to fit, and the workers end when the process that started
them dies (killed or crashed), even in the middle of a fit.
"""

from __future__ import annotations

import itertools
import os
import time
import warnings
import zlib

import numpy as np

from fastrnn import _params
from fastrnn.forecasting.base import as_series
from fastrnn.forecasting.intervals import check_levels
from fastrnn.forecasting.baselines import AR, Naive, SeasonalNaive
from fastrnn.forecasting.calendar import future_index
from fastrnn.forecasting.metrics import information_criteria, one_step_mse
from fastrnn.forecasting.rnn import CELLS, RNNForecaster
from fastrnn.forecasting.workers import end_with_parent, worker_count
from fastrnn.timeseries import adfuller, detect_period, difference

__all__ = ["choose_diff", "out_of_sample_mse", "grid", "select", "Selection"]

_CRITERIA = _params.Options(("mse", "aic", "bic"))
_REFIT = _params.Int(1, none_ok=True)
_SEASON = _params.Int(1, none_ok=True)
_ALPHA = _params.Real(0, 1, closed="right")
_TEST_FRACTION = _params.Real(0, 1, closed="neither")
_TEST_COUNT = _params.Int(1)


def out_of_sample_mse(model, series, train_size, refit_every=None):
    """(mse, predictions): fit a copy of `model` on x_1..x_m (m = `train_size`) and forecast
    every later x_i one step ahead from the true past; with ``refit_every=r`` refit on all data
    before each block of r test values (rolling origin)."""
    x, _ = as_series(series)
    m = _check_train_size(train_size, x.shape[0])
    preds = _one_step_test(model.clone(), x, m, refit_every, fitted=False)
    return one_step_mse(x[m:], preds), preds


def _check_train_size(m, n):
    return _params.check(m, "train_size", _params.Int(1, n - 1))


def _one_step_test(f, x, m, refit_every, fitted):
    """One-step predictions of x[m:], refitting a clone of f every `refit_every` steps."""
    if not refit_every:
        if not fitted:
            f.fit(x[:m])
        return f.predict_one_step(x, m)
    r = _params.check(refit_every, "refit_every", _REFIT)
    out = np.empty(x.shape[0] - m)
    for a in range(m, x.shape[0], r):
        b = min(a + r, x.shape[0])
        g = f if (a == m and fitted) else f.clone().fit(x[:a])
        out[a - m:b - m] = g.predict_one_step(x[:b], a)
    return out


# -- differencing ---------------------------------------------------------------------------
def choose_diff(x, alpha=0.05, max_diff=2, regression="c"):
    """(d, tests): the smallest d in 0..max_diff at which the ADF test rejects a unit root at
    level `alpha` (max_diff when none does). ``tests`` holds one dict per order tried: d,
    statistic, pvalue, lags, nobs, critical_values."""
    x = np.asarray(x, np.float64)
    max_diff = _params.nonnegative_int(max_diff, "max_diff")
    alpha = _params.check(alpha, "alpha", _ALPHA)
    tests = []
    for d in range(max_diff + 1):
        z = difference(x, d)
        stat, p, lags, nobs, crit, _ = adfuller(z, regression=regression, autolag="AIC")
        tests.append({"d": d, "statistic": float(stat), "pvalue": float(p), "lags": int(lags),
                      "nobs": int(nobs), "critical_values": dict(crit)})
        if p <= alpha:
            return d, tests
    return max_diff, tests


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


# -- the runner and the ranking -------------------------------------------------------------
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
        ic = information_criteria(f.residuals(t0), f.n_params)
        rec.update(loglik=ic["loglik"], aic=ic["aic"], bic=ic["bic"])
        preds = _one_step_test(f, x, m, refit_every, fitted=True)
        rec["mse"] = one_step_mse(x[m:], preds) if np.all(np.isfinite(preds)) else np.nan
        if not np.isfinite(rec["mse"]):
            rec["error"] = "non-finite predictions (training diverged)"
    except (ValueError, RuntimeError, np.linalg.LinAlgError, FloatingPointError) as exc:
        rec["error"] = str(exc)
        f = None
    return rec, f, preds


def _job(i, f, x, m, t0, refit_every, parent):
    end_with_parent(parent)
    return i, _evaluate(f, x, m, t0, refit_every)


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
        parent = os.getpid()
        calls = (joblib.delayed(_job)(i, f, x, m, t0, refit_every, parent)
                 for i, f in enumerate(tasks))
        par = joblib.Parallel(n_jobs=worker_count(n_jobs, total),
                              return_as="generator_unordered")
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

    def forecast(self, steps, refit=True, model=None, level=None):
        """`steps` values after the end of the series from the chosen model (or the model
        named `model`), refitted on the whole series first when `refit` (same settings and
        seed); in the series' units, as a pandas Series with the continued time index when
        the input had an index, else an array. With `level` (a number or a list in (0, 100)):
        a ``Prediction`` with the bounds of the chosen model's intervals for an unindexed
        series, else a DataFrame with the ``forecast``, ``lo-L`` and ``hi-L`` columns."""
        levels = check_levels(level)
        steps = _params.positive_int(steps, "steps")
        name = self.records[0]["model"] if model is None else model
        if name not in self.models:
            raise ValueError(f"no fitted model named {name!r}; models: {sorted(self.models)}")
        f = self.models[name]
        if refit:
            f = f.clone().fit(self._x)
        values = f.forecast(self._x, steps)
        pred = f.with_intervals(values, levels) if levels else None
        if self.index is None:
            return values if pred is None else pred
        import pandas as pd

        fut = future_index(self.index, steps)
        if fut is None:
            fut = pd.RangeIndex(self.n, self.n + steps)
        if pred is not None:
            return pd.DataFrame(pred.to_dict(), index=fut)
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
        default ``grid()`` (every cell x 8, 16 units x 6, 12 lags).
    criterion : "mse" (out-of-sample one-step), "aic" or "bic" (in-sample, common sample)
    test : fraction (0 < test < 1) or count of the last values held out
    diff : order of differencing, 0 .. `max_diff`; None: by the ADF test at level `alpha`
        (in (0, 1]), at most `max_diff`
    baselines : add naive, seasonal naive (when a period is given or detected) and AR(p)
    season : the seasonal-naive period (None: ``detect_period`` on the training part)
    ar_max_lag : largest AR order tried (default: the largest candidate lag, at least
        round(12 (n/100)^(1/4)))
    refit_every : rolling-origin refits for the MSE (None: fit once)
    n_jobs : joblib workers (None: 1, or what an enclosing ``joblib.parallel_backend`` says;
        -1: all cores); never more than the cores this process may use or the models to fit
        (``worker_count``)
    seed : int; every candidate without its own seed gets one from it and its name
    backend : fastrnn backend for the RNNs (None: the default)
    progress : callable(done, total, record) called as each model finishes

    Returns a :class:`Selection`.
    """
    criterion = _params.check(criterion, "criterion", _CRITERIA)
    max_diff = _params.nonnegative_int(max_diff, "max_diff")
    diff = _params.check(diff, "diff", _params.Int(0, max_diff, none_ok=True))
    alpha = _params.check(alpha, "alpha", _ALPHA)
    season = _params.check(season, "season", _SEASON)
    refit_every = _params.check(refit_every, "refit_every", _REFIT)
    worker_count(n_jobs, 1)   # its checks, before any work
    t_start = time.perf_counter()
    x, index = as_series(series)
    n = x.shape[0]
    n_test = _test_size(test, n)
    m = n - n_test
    if m < 20:
        raise ValueError(f"series: {n} values leave {m} for training after a test part of "
                         f"{n_test}; at least 20 are needed")
    d, adf = _differencing(x[:m], diff, alpha, max_diff)
    models = _candidates(grid() if candidates is None else candidates, d, backend, seed)
    period = None
    if baselines:
        period = season if season is not None else detect_period(x[:m], d,
                                                                 max_period=min(m // 3, 400))
        models = _baselines(models, m, d, period, ar_max_lag, criterion) + models
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
    records, fitted, preds = _rank(results, criterion)
    return Selection(records=records, models=fitted, test_predictions=preds, diff=d, adf=adf,
                     period=period, criterion=criterion, n=n, n_train=m, n_test=n_test, t0=t0,
                     index=index, name=getattr(series, "name", None), _x=x,
                     seconds=time.perf_counter() - t_start)


def _test_size(test, n):
    """The size of the test part from a fraction in (0, 1) or a count (at least 1)."""
    if _TEST_COUNT.accepts(test):
        return int(test)
    if not _TEST_COUNT.is_kind(test) and _TEST_FRACTION.accepts(test):
        return max(int(round(float(test) * n)), 1)
    error = ValueError if _TEST_FRACTION.is_kind(test) else _params.ParameterError
    raise error(f"test must be a fraction in (0, 1) or a count >= 1, got {test!r}")


def _differencing(x, diff, alpha, max_diff):
    """(d, ADF tests) for the training part x: by ``choose_diff``, or the given order with
    one test of its differences for the report (none when they are too short)."""
    if diff is None:
        return choose_diff(x, alpha=alpha, max_diff=max_diff)
    try:
        _, adf = choose_diff(difference(x, diff), alpha=1.0, max_diff=0)
        adf[0]["d"] = diff
    except ValueError:
        adf = []
    return diff, adf


def _candidates(candidates, d, backend, seed):
    """Unfitted copies of the candidates, the networks given the order d, the backend and a
    seed of their own (from `seed` and their name) where they have none."""
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
    return models


def _baselines(models, m, d, period, ar_max_lag, criterion):
    """Naive, seasonal naive (for a period > 1) and AR(p), p up to the largest candidate lag
    (at least round(12 (m/100)^(1/4))) and at most a third of the training part."""
    lag_max = max([getattr(c, "lags", 0) for c in models] + [0])
    if ar_max_lag is None:
        ar_max_lag = max(lag_max, int(round(12 * (m / 100) ** 0.25)))
    ar_max_lag = int(min(ar_max_lag, max((m - d) // 3, 1)))
    base = [Naive()]
    if period is not None and period > 1:
        base.append(SeasonalNaive(int(period)))
    base.append(AR(max_lag=ar_max_lag, ic="bic" if criterion == "bic" else "aic", diff=d))
    return base


def _rank(results, criterion):
    """(records ranked by `criterion`, non-finite last, with their rank first; fitted models
    and test predictions by name); RuntimeError when no model could be fitted."""
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
    records = [{"rank": i, **r} for i, r in enumerate(records, 1)]
    if not fitted or not np.isfinite(records[0][criterion]):
        raise RuntimeError("no model could be fitted: " + "; ".join(
            f"{r['model']}: {r['error']}" for r in records))
    return records, fitted, preds
