"""Rolling-origin cross-validation of local forecasters over a whole collection.

    cv = cross_validate(standard_baselines(), df, h=8, n_windows=3, step=8,
                        id_col=["Region", "State", "Purpose"], time_col="Quarter",
                        target_col="Trips", n_jobs=2)
    cv.summary()        # per model: mean MASE, sMAPE, ... over the series
    cv.per_series()     # per series and model: means over the windows
    cv.forecasts()      # long format: ids, time, cutoff, actual, one column per model

The windows. For a series of n values (less the last ``holdout``, kept out of every window
so that a final test part is never seen), window k = 1..W (W = ``n_windows``) trains on the
first n - h - step (W - k) values and is scored on the h after them; ``step`` defaults to h
(windows side by side). Every model is refitted from scratch on every window (a clone, or
the spec called with the series' seasonal period). A window with fewer than 2 training
values, or a fit that fails, is recorded with its message and scores NaN.

The metrics (``fastrnn.forecasting.accuracy``): MASE (scaled by the in-sample seasonal naive
error of the window's training part, s the series' period, 1 without one), sMAPE, MAE, RMSE,
MAPE, and coverage and MSIS per level when intervals are asked for (``level=``). A series'
figure is the mean over its windows; a collection's the mean over its series (series where
a model failed on every window are left out of that model's mean and counted).

Series are spread over joblib workers (``n_jobs``; never more than cores or series); the
results do not depend on ``n_jobs``.
"""

from __future__ import annotations

import time

import numpy as np

from fastrnn import _params
from fastrnn.forecasting import intervals as _intervals
from fastrnn.forecasting.accuracy import POINT_METRICS, evaluate
from fastrnn.forecasting.local import (
    build_model,
    chunks,
    model_specs,
    n_workers,
    parallel_map,
)
from fastrnn.forecasting.panel import Panel, read_panel

__all__ = ["CrossValidation", "cross_validate", "window_cutoffs"]


def window_cutoffs(n, h, n_windows, step, holdout=0):
    """The training lengths of the windows of a series of n values (oldest first), the last
    `holdout` values left out; some may be < 2 (too short). The windows of the conformal
    intervals (``forecasting.intervals``) with the holdout removed first."""
    return _intervals.window_cutoffs(n - holdout, h, n_windows, step)


def _table(rows):
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is optional
        return rows
    return pd.DataFrame(rows)


def _run_chunk(args):
    series, specs, h, n_windows, step, holdout, level = args
    records, forecasts = [], []
    for s in series:
        for k, cut in enumerate(window_cutoffs(len(s), h, n_windows, step, holdout)):
            fc = {"uid": s.uid, "ticks": None, "cutoff": None, "actual": None, "models": {}}
            if cut < 2:
                for name, _ in specs:
                    records.append({"uid": s.uid, "model": name, "window": k, "cutoff": None,
                                    "n_train": max(cut, 0), "fit_s": np.nan,
                                    "error": f"too short: {len(s)} values for window {k + 1}"})
                continue
            train, actual = s.y[:cut], s.y[cut:cut + h]
            season = s.period(train)
            fc.update(ticks=s.ticks[cut:cut + h], cutoff=int(s.ticks[cut - 1]), actual=actual)
            for name, spec in specs:
                rec = {"uid": s.uid, "model": name, "window": k, "cutoff": int(s.ticks[cut - 1]),
                       "n_train": cut, "fit_s": np.nan, "error": ""}
                try:
                    t0 = time.perf_counter()
                    model = build_model(spec, season).fit(train)
                    pred = model.predict(h, level=level)
                    rec["fit_s"] = time.perf_counter() - t0
                    if not np.all(np.isfinite(pred.mean)):
                        raise FloatingPointError("non-finite forecasts")
                    rec.update(evaluate(actual, pred, train, season or 1))
                    fc["models"][name] = pred
                except NotImplementedError:
                    raise                  # asked of every fit (intervals): not a failure
                except (ValueError, RuntimeError, FloatingPointError,
                        np.linalg.LinAlgError) as exc:
                    rec["error"] = str(exc) or type(exc).__name__
                records.append(rec)
            forecasts.append(fc)
    return records, forecasts


class CrossValidation:
    """What ``cross_validate`` measured: ``records`` (one dict per series, model and window:
    uid, model, window, cutoff tick, n_train, the metrics, fit_s, error), the windows'
    settings, and tables built from them."""

    def __init__(self, panel, names, records, forecasts, settings, wall_s):
        self.panel = panel
        self.models = names
        self.records = records
        self._forecasts = forecasts
        self.settings = settings
        self.wall_s = wall_s
        self.metrics = list(POINT_METRICS) + [   # the point metrics even when every fit failed
            m for m in dict.fromkeys(k for r in records for k in r)
            if m.startswith(("coverage-", "msis-"))]

    def _ids(self, uid):
        parts = uid if len(self.panel.id_cols) > 1 else (uid,)
        return dict(zip(self.panel.id_cols, parts))

    def per_series_records(self):
        """[dict]: per series and model, the mean of each metric over its windows, the
        windows scored and failed."""
        groups = {}
        for r in self.records:
            groups.setdefault((r["uid"], r["model"]), []).append(r)
        out = []
        for (uid, model), rs in groups.items():
            row = {**self._ids(uid), "model": model,
                   "windows": sum(not r["error"] for r in rs),
                   "failed": sum(bool(r["error"]) for r in rs)}
            for m in self.metrics:
                vals = np.array([r.get(m, np.nan) for r in rs], np.float64)
                row[m] = float(np.nanmean(vals)) if np.isfinite(vals).any() else np.nan
            out.append(row)
        return out

    def per_series(self):
        """Per series and model: the metrics averaged over the windows (a pandas DataFrame
        when pandas is installed, else a list of dicts)."""
        return _table(self.per_series_records())

    def summary_records(self):
        """[dict] per model, in the order given: the mean of each metric over the series
        (``series``: how many had a finite MASE), failed windows, total fit seconds."""
        rows = self.per_series_records()
        out = []
        for name in self.models:
            mine = [r for r in rows if r["model"] == name]
            fits = [r for r in self.records if r["model"] == name]
            row = {"model": name,
                   "series": sum(np.isfinite(r.get("mase", np.nan)) for r in mine),
                   "failed": sum(r["failed"] for r in mine),
                   "fit_s": float(np.nansum([r["fit_s"] for r in fits]))}
            for m in self.metrics:
                vals = np.array([r[m] for r in mine], np.float64)
                row[m] = float(np.nanmean(vals)) if np.isfinite(vals).any() else np.nan
            out.append(row)
        return out

    def summary(self):
        """Per model: the collection's figures (pandas DataFrame, or a list of dicts)."""
        return _table(self.summary_records())

    def best(self, metric="mase"):
        """The model with the lowest mean `metric` over the collection."""
        rows = [r for r in self.summary_records() if np.isfinite(r.get(metric, np.nan))]
        if not rows:
            raise ValueError(f"no model has a finite {metric}")
        return min(rows, key=lambda r: r[metric])["model"]

    def errors(self):
        """[(uid, model, window, message)] of every window that failed."""
        return [(r["uid"], r["model"], r["window"], r["error"]) for r in self.records
                if r["error"]]

    def forecasts(self):
        """The windows' forecasts in the long format: id column(s), time column, ``cutoff``
        (the last training time), the actual values (target column), then one column per
        model (and ``model-lo-L``/``model-hi-L`` with levels)."""
        p = self.panel
        cols = {c: [] for c in p.id_cols}
        times, cutoffs, actual, values = [], [], [], {}
        n = 0
        for fc in self._forecasts:
            h = fc["actual"].shape[0]
            for c, v in self._ids(fc["uid"]).items():
                cols[c].extend([v] * h)
            times.extend(list(p.times.write(fc["ticks"])))
            cutoffs.extend(list(p.times.write(np.full(h, fc["cutoff"], np.int64))))
            actual.append(fc["actual"])
            for name, pred in fc["models"].items():
                for c, v in pred.to_dict().items():
                    key = name if c == "forecast" else f"{name}-{c}"
                    values.setdefault(key, np.full(0, np.nan))
                    values[key] = np.concatenate([values[key], np.full(n - values[key].shape[0],
                                                                       np.nan), v])
            n += h
        out = dict(cols)
        out[p.time_col] = p._time_column(times)
        out["cutoff"] = p._time_column(cutoffs)
        out[p.target_col] = np.concatenate(actual) if actual else np.empty(0)
        for key, v in values.items():
            out[key] = np.concatenate([v, np.full(n - v.shape[0], np.nan)])
        return p._frame(out)


def cross_validate(models, data, h, n_windows=3, step=None, *, holdout=0, level=None,
                   n_jobs=1, progress=None, **panel_kwargs):
    """Rolling-origin cross-validation of `models` on every series of `data`.

    models      a forecaster, a callable season -> forecaster, a list, or {name: spec}
                (``fastrnn.forecasting.local``; ``standard_baselines()``)
    data        a ``Panel``, or anything ``read_panel`` reads (with `panel_kwargs`:
                id_col, time_col, target_col, fill, duplicates, freq, season, ...)
    h           the horizon of every window
    n_windows   windows per series (the last ends ``holdout`` values before the end)
    step        values between the windows' origins (default h)
    holdout     final values of each series kept out of every window (a test part)
    level       prediction-interval levels, e.g. [80, 95] (the models must provide them)
    n_jobs      joblib workers over series (-1: all cores; capped at cores and series)
    progress    progress(done, total) after each chunk of series
    Returns a :class:`CrossValidation`."""
    h = _params.positive_int(h, "h")
    n_windows = _params.positive_int(n_windows, "n_windows")
    step = h if step is None else _params.positive_int(step, "step")
    holdout = _params.nonnegative_int(holdout, "holdout")
    specs = model_specs(models)
    panel = data if isinstance(data, Panel) else read_panel(data, **panel_kwargs)
    t0 = time.perf_counter()
    workers = n_workers(n_jobs, len(panel))
    tasks = [(c, specs, h, n_windows, step, holdout, level)
             for c in chunks(panel.series, workers)]
    parts = parallel_map(_run_chunk, tasks, n_jobs, progress)
    records = [r for rec, _ in parts for r in rec]
    forecasts = [f for _, fc in parts for f in fc]
    settings = {"h": h, "n_windows": n_windows, "step": step, "holdout": holdout,
                "level": level, "workers": workers}
    return CrossValidation(panel, [n for n, _ in specs], records, forecasts, settings,
                           time.perf_counter() - t0)
