"""Rolling-origin cross-validation of local and global forecasters over a whole collection.

    cv = cross_validate(standard_baselines(), df, h=8, n_windows=3, step=8,
                        id_col=["Region", "State", "Purpose"], time_col="Quarter",
                        target_col="Trips", n_jobs=2)
    cv.summary()        # per model: mean MASE, sMAPE, ... over the series
    cv.per_series()     # per series and model: means over the windows
    cv.forecasts()      # long format: ids, time, cutoff, actual, one column per model

The windows. For a series of n values (less the last ``holdout``, kept out of every window
so that a final test part is never seen), window k = 1..W (W = ``n_windows``) trains on the
first n - h - step (W - k) values and is scored on the h after them; ``step`` defaults to h
(windows side by side). Every local model is refitted from scratch on every window of every
series (a clone, or the spec called with the series' seasonal period). A global model
(``fastrnn.forecasting.local``: ``is_global``) is fitted once per window k: one clone on
every series truncated to its own window-k cutoff (so nothing after a cutoff is seen), one
``predict`` for all of them. A window with fewer than 2 training values, or a fit that
fails, is recorded with its message and scores NaN.

Covariates (``past_covariates=``, ``future_covariates=``, ``static=``: column names) reach the
global models only. In window k they get the past covariates of the first `cut` rows (up to
the origin) and the future-known ones of the first `cut` + h rows: their values over the
window's horizon come from the series' own history, as a user would have known them ahead
at that origin; nothing after origin + h is read. Local models ignore covariates.

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
from fastrnn.forecasting.accuracy import POINT_METRICS, evaluate, mase_scale
from fastrnn.forecasting.local import (
    _FIT_ERRORS,
    PROGRESS_CHUNKS,
    Covariates,
    build_model,
    chunks,
    fit_global,
    is_global,
    model_specs,
    n_workers,
    parallel_map,
    read_with_covariates,
    warn_unused,
)

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


def _window_record(s, name, k, cut):
    return {"uid": s.uid, "model": name, "window": k, "cutoff": int(s.ticks[cut - 1]),
            "n_train": cut, "fit_s": np.nan, "error": ""}


def _too_short(s, name, k, cut):
    return {"uid": s.uid, "model": name, "window": k, "cutoff": None, "n_train": max(cut, 0),
            "fit_s": np.nan, "error": f"too short: {len(s)} values for window {k + 1}"}


def _score(rec, fc, pred, season):
    """Put the metrics of `pred` into `rec` and the forecast into `fc` (FloatingPointError
    for non-finite forecasts)."""
    if not np.all(np.isfinite(pred.mean)):
        raise FloatingPointError("non-finite forecasts")
    rec.update(evaluate(fc["actual"], pred, fc["train"], season or 1))
    fc["models"][rec["model"]] = pred


def _run_chunk(args):
    """The local models of `specs` on every window of every series of a chunk: (records,
    forecasts); global specs are left to ``_run_global``."""
    series, specs, h, n_windows, step, holdout, level = args
    local = [(name, spec) for name, spec in specs if not is_global(spec)]
    records, forecasts = [], []
    for s in series:
        for k, cut in enumerate(window_cutoffs(len(s), h, n_windows, step, holdout)):
            if cut < 2:
                records.extend(_too_short(s, name, k, cut) for name, _ in local)
                continue
            train = s.y[:cut]
            season = s.period(train)
            fc = _window(s, k, cut, h, season)
            for name, spec in local:
                rec = _window_record(s, name, k, cut)
                try:
                    t0 = time.perf_counter()
                    model = build_model(spec, season).fit(train)
                    pred = model.predict(h, level=level)
                    rec["fit_s"] = time.perf_counter() - t0
                    _score(rec, fc, pred, season)
                except NotImplementedError:
                    raise                  # asked of every fit (intervals): not a failure
                except _FIT_ERRORS as exc:
                    rec["error"] = str(exc) or type(exc).__name__
                records.append(rec)
            del fc["train"]
            forecasts.append(fc)
    return records, forecasts


def _window(s, k, cut, h, season):
    """The forecast record of window k of series s (training on its first `cut` values):
    times, cutoff, actuals, the MASE scale of the training part, and the models' forecasts
    to come."""
    train = s.y[:cut]
    return {"uid": s.uid, "window": k, "ticks": s.ticks[cut:cut + h],
            "cutoff": int(s.ticks[cut - 1]), "actual": s.y[cut:cut + h], "train": train,
            "season": season, "scale": mase_scale(train, season or 1), "models": {}}


def _run_global(panel, specs, h, n_windows, step, holdout, level, by_window, progress,
                covariates=None):
    """The global models of `specs`: for each window one fit on every series truncated to
    its cutoff in that window (its `covariates`, a ``Covariates``, cut as the module
    docstring says), one predict; (records, the new window forecasts). Forecasts are added
    to `by_window` {(uid, k): window forecast} (made where missing)."""
    glob = [(name, spec) for name, spec in specs if is_global(spec)]
    records, new = [], []
    if not glob:
        return records, new
    cuts = [window_cutoffs(len(s), h, n_windows, step, holdout) for s in panel.series]
    for k in range(n_windows):
        rows = [(s, c[k]) for s, c in zip(panel.series, cuts) if c[k] >= 2]
        for s, c in zip(panel.series, cuts):
            if c[k] < 2:
                records.extend(_too_short(s, name, k, c[k]) for name, _ in glob)
        if not rows:
            continue
        wins = []
        for s, cut in rows:
            fc = by_window.get((s.uid, k))
            if fc is None:
                fc = _window(s, k, cut, h, s.period(s.y[:cut]))
                by_window[(s.uid, k)] = fc
                new.append(fc)
            else:
                fc["train"] = s.y[:cut]
            wins.append(fc)
        # past covariates up to the origin, future-known ones up to origin + h: no later row
        cov = None if not covariates else covariates.arrays(
            [s for s, _ in rows], [cut for _, cut in rows], h)
        for name, spec in glob:
            recs = [_window_record(s, name, k, cut) for s, cut in rows]
            try:
                t0 = time.perf_counter()
                preds = fit_global(spec, [fc["train"] for fc in wins],
                                   [fc["season"] for fc in wins], h, level, cov)
                share = (time.perf_counter() - t0) / len(rows)
            except NotImplementedError:
                raise
            except _FIT_ERRORS as exc:
                for rec in recs:
                    rec["error"] = str(exc) or type(exc).__name__
                records.extend(recs)
                continue
            for rec, fc, pred in zip(recs, wins, preds):
                rec["fit_s"] = share
                try:
                    _score(rec, fc, pred, fc["season"])
                except FloatingPointError as exc:
                    rec["error"] = str(exc)
            records.extend(recs)
        for fc in wins:
            fc.pop("train", None)
        if progress is not None:
            progress(k + 1, n_windows)
    return records, new


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
                   n_jobs=1, progress=None, past_covariates=(), future_covariates=(),
                   static=(), **panel_kwargs):
    """Rolling-origin cross-validation of `models` on every series of `data`.

    models      a forecaster, a callable season -> forecaster, a global model, a list, or
                {name: spec} (``fastrnn.forecasting.local``; ``standard_baselines()``)
    data        a ``Panel``, or anything ``read_panel`` reads (with `panel_kwargs`:
                id_col, time_col, target_col, fill, duplicates, freq, season, ...)
    h           the horizon of every window
    n_windows   windows per series (the last ends ``holdout`` values before the end)
    step        values between the windows' origins (default h)
    holdout     final values of each series kept out of every window (a test part)
    level       prediction-interval levels, e.g. [80, 95] (the models must provide them)
    n_jobs      joblib workers over series (-1: all cores; capped at cores and series)
    progress    progress(done, total) after each chunk of series (the local models), then
                after each window (the global models)
    past_covariates, future_covariates, static   covariate columns (names) of `data` for
                the global models (module docstring); a ``Panel`` must carry them
    Returns a :class:`CrossValidation`."""
    h = _params.positive_int(h, "h")
    n_windows = _params.positive_int(n_windows, "n_windows")
    step = h if step is None else _params.positive_int(step, "step")
    holdout = _params.nonnegative_int(holdout, "holdout")
    specs = model_specs(models)
    cov = Covariates.of(past_covariates, future_covariates, static)
    panel = read_with_covariates(data, cov, **panel_kwargs)
    warn_unused(cov, specs)
    t0 = time.perf_counter()
    workers = n_workers(n_jobs, len(panel))
    parts = chunks(panel.series, workers, at_least=PROGRESS_CHUNKS if progress else 1)
    tasks = [(c, specs, h, n_windows, step, holdout, level) for c in parts]
    done = parallel_map(_run_chunk, tasks, n_jobs, progress) if any(
        not is_global(sp) for _, sp in specs) else []
    records = [r for rec, _ in done for r in rec]
    forecasts = [f for _, fc in done for f in fc]
    by_window = {(fc["uid"], fc["window"]): fc for fc in forecasts}
    more, new = _run_global(panel, specs, h, n_windows, step, holdout, level, by_window,
                            progress, cov)
    if more:
        # one order whatever ran where: series as in the panel, windows, models as given
        pos = {uid: i for i, uid in enumerate(panel.uids)}
        rank = {name: i for i, (name, _) in enumerate(specs)}
        records = sorted(records + more, key=lambda r: (pos[r["uid"]], r["window"],
                                                        rank[r["model"]]))
        forecasts = sorted(forecasts + new, key=lambda f: (pos[f["uid"]], f["window"]))
    settings = {"h": h, "n_windows": n_windows, "step": step, "holdout": holdout,
                "level": level, "workers": workers}
    return CrossValidation(panel, [n for n, _ in specs], records, forecasts, settings,
                           time.perf_counter() - t0)
