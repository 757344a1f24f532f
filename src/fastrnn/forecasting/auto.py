"""The default forecaster for a collection: cross-validate the candidates, choose by mean MASE,
try combinations, calibrate intervals on the validation errors, forecast.

    fc, report = forecast_collection(df, h=8, id_col=["Region", "State", "Purpose"],
                                     time_col="Quarter", target_col="Trips", level=[80, 95])
    fc                      # long format: ids, Quarter, forecast, lo-80, hi-80, lo-95, hi-95
    report.chosen           # e.g. "median(theta, ar, seasonal naive)"
    print("\\n".join(report.lines()))

    # covariates (for the global model; local models ignore them): `future` holds the
    # future-known columns over the horizon, h rows per series in the long format
    fc, report = forecast_collection(df, h=8, past_covariates=["visits"],
                                     future_covariates=["promo"], static=["size"],
                                     future=future_df)

How the choice is made
    1. Candidates (``models=``, default ``default_models``): naive, seasonal naive, drift,
       Theta, AR(p) on the first differences (p <= 2 seasons, by AIC), and
       ``GlobalRNN`` when the collection has at least ``GLOBAL_MIN_SERIES`` series.
    2. Rolling-origin cross-validation (``fastrnn.forecasting.cv``): ``n_windows`` windows of
       `h` values per series, ``step`` apart (default h); local models refitted on every
       window, global ones once per window on every series cut at that window's origin.
    3. Where a candidate fails on a window (too short for it, a fit that does not converge)
       the fallback's forecast (the seasonal naive) stands in for it, in validation and in
       the final forecast alike, so every candidate is scored on the same windows; the
       report counts the stand-ins. Windows where even the fallback fails are left out for
       every candidate.
    4. Score = mean over series of the series' mean MASE over its windows (``forecasting.accuracy``).
       The single models are ranked (ties: the order given); then the median and the mean
       of the best k (k = 2 .. ``max_combine``) are scored on the same windows. The best
       single model is kept unless a combination scores strictly lower. Nothing here is
       random; a seed reaches the models that have one (``seed``), so a run is repeatable.

Intervals (``level=``): split conformal per horizon step on rolling-origin errors of what
was chosen (a combination's errors are those of the combined forecast), in the series'
units (after the models undo their scaling and differencing).
    1. Calibration windows: the n_windows validation windows and, up to
       ``interval_windows`` (default ``INTERVAL_WINDOWS`` = 8), the windows before them,
       ``step`` apart (the same windows a cross-validation with that many would have); on
       the older ones only the chosen members and the fallback are refitted (the choice is
       made on the validation windows alone). Windows too short for a member get the
       fallback's forecast for it, as in the choice; windows too short for the fallback, or
       with a MASE scale of 0, are left out.
    2. Scores: the signed errors e = (a - f) / q, q the MASE scale of the window's training
       part, with each window's period effect taken out: window k's errors are re-centred
       from its per-step median m_k to the mean of the windows' medians and rescaled from its
       spread d_k (mean |e - m_k| over its series and steps) to the mean spread (means
       weighted by the windows' series counts; ``period_adjusted``), then pooled over the
       series and windows (so that series of any size share one calibration set): N per
       step. Windows of fewer than ``PERIOD_MIN_SERIES`` series, or without spread, are
       pooled as they are.
    3. Bounds of step j at level L (alpha = 1 - L/100): the floor((N + 1) alpha/2)-th and
       the ceil((N + 1)(1 - alpha/2))-th smallest e_j (``intervals.conformal_offsets``),
       lower <= 0 <= upper; a series' bounds are f_j + lower_j q_s .. f_j + upper_j q_s,
       q_s the MASE scale of its whole history. A level needs N >= 2 / alpha - 1 (9 for
       80%, 39 for 95%).
    Why these (chosen on the benchmark's validation split, the test part never read): the
    signed errors follow a bias of the chosen forecasts (a collection growing faster than
    its forecasts gets more room above), which cut the MSIS on every development collection
    against |a - f| radii; 8 windows rather than 3 average over more of each collection's
    history. A collection's error level moves from window to window with the period (the
    seasonal naive's mean scaled error varies by 20-40% between the 8 windows of every
    development collection, recessions most), and the errors of one window are shocks shared
    by its series: pooled as they are, a few turbulent windows widen the bounds for every
    period (the 80% intervals over-covered the monthly collections' validation part by
    6-9 points). Taking the period effect out aims the bounds at a period of average
    difficulty; on the validation split it moved the coverage towards 80 and 95 on both
    monthly collections and cut their MSIS by 2-8%, and left tourism's within 1%
    (bench/NOTES.md). Weighting recent windows, or scaling by the recent error level, was
    measured and not kept: the last windows do not predict the next period's error level.
    Dividing each series' errors by its own validation error level (normalised conformal)
    was measured and not kept either: after the MASE scaling a series' error level in the
    validation windows hardly predicts it in the next h values (correlation of the logs
    ~0.1-0.2).
``report.coverage`` and ``report.msis`` are the calibration windows' coverage and MSIS
(``forecasting.accuracy``), cross-fitted: window k's with bounds calibrated on the other
windows.
"""

from __future__ import annotations

import time
from math import ceil
import warnings
from dataclasses import dataclass, field

import numpy as np

from fastrnn import _params
from fastrnn.forecasting.accuracy import mase_scale
from fastrnn.forecasting.base import Prediction
from fastrnn.forecasting.baselines import AR
from fastrnn.forecasting.cv import cross_validate
from fastrnn.forecasting.global_rnn import GlobalRNN
from fastrnn.forecasting.intervals import check_levels, conformal_offsets
from fastrnn.forecasting.local import (
    Covariates,
    model_specs,
    run_forecasts,
    standard_baselines,
    warn_unused,
)
from fastrnn.forecasting.panel import Panel, read_panel

__all__ = ["GLOBAL_MIN_SERIES", "PERIOD_MIN_SERIES", "CollectionReport", "default_models",
           "forecast_collection", "period_adjusted"]

# a network trained across series needs enough of them to learn from; below, the classical
# models alone
GLOBAL_MIN_SERIES = 20
FALLBACK = "seasonal naive"
# windows the intervals are calibrated on (at least n_windows; module docstring)
INTERVAL_WINDOWS = 8
# a window's median and spread are measured on its series: below this many, its errors are
# pooled as they are
PERIOD_MIN_SERIES = 10
_COMBINE = _params.Int(1)


def ar_differences(season):
    """AR(p) on the first differences, p up to two seasons (at least 8, at most 24) by AIC."""
    return AR(max_lag=min(max(2 * int(season or 1), 8), 24), ic="aic", diff=1)


def default_models(n_series, h, seed=0):
    """({name: spec}, {name: why it is left out}) of the default candidates for a collection
    of `n_series` series and horizon `h` (module docstring)."""
    models = dict(standard_baselines())
    models["ar"] = ar_differences
    skipped = {}
    if n_series >= GLOBAL_MIN_SERIES:
        model = GlobalRNN(h, seed=seed)
        models[model.name] = model
    else:
        skipped["global rnn"] = (f"the collection has {n_series} series, fewer than "
                                 f"{GLOBAL_MIN_SERIES}")
    return models, skipped


@dataclass
class CollectionReport:
    """What ``forecast_collection`` compared and chose.

    models       candidate names, in order; ``skipped`` {name: why not a candidate}
    windows      {"h", "n_windows", "step", "scored"}: the cross-validation windows
                 (``scored``: series x windows every candidate was scored on)
    scores       [dict] per candidate and combination, best first: name, kind ("model",
                 "median", "mean"), members, mase, smape (means over the series), series
                 (how many scored), stand_ins (windows where the fallback stood in)
    chosen       the name chosen; ``members`` and ``how`` ("model", "median", "mean")
    fallback     the model standing in where one fails; ``fallback_series`` the series
                 whose final forecast used it for at least one member
    levels, coverage {L: cross-fitted coverage on the calibration windows}, ``msis`` {L: its
                 MSIS, mean over the series}, ``offsets`` {L: ((h,) lower, (h,) upper)
                 bounds around the forecast on the MASE scale}; ``windows["interval_windows"]``
                 the calibration windows
    cv           the ``CrossValidation``; ``panel_summary``, ``notes`` (data hygiene)
    seed, wall_s
    """

    models: list
    skipped: dict
    windows: dict
    scores: list
    chosen: str
    members: tuple
    how: str
    fallback: str
    fallback_series: int = 0
    levels: tuple = ()
    coverage: dict = field(default_factory=dict)
    msis: dict = field(default_factory=dict)
    offsets: dict = field(default_factory=dict)
    cv: object = None
    panel_summary: str = ""
    notes: list = field(default_factory=list)
    seed: int = 0
    wall_s: float = 0.0

    def table(self):
        """``scores`` as a pandas DataFrame (when pandas is installed; else the records)."""
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - pandas is optional
            return self.scores
        return pd.DataFrame(self.scores)

    def lines(self):
        """The report as text lines: data, windows, the validation table, the choice."""
        w = self.windows
        out = [f"data: {self.panel_summary}"] if self.panel_summary else []
        out.append(f"models compared: {', '.join(self.models)}"
                   + "".join(f"; {n}: {why}" for n, why in self.skipped.items()))
        out.append(f"how: rolling-origin cross-validation, {w['n_windows']} window(s) of "
                   f"{w['h']} steps per series, origins {w['step']} apart; "
                   f"{w['scored']} series-windows scored; chosen by mean MASE over the "
                   f"series (combinations: median/mean of the best k)")
        width = max(len("model"), *(len(r["name"]) for r in self.scores))
        out.append(f"  {'model':<{width}}  {'MASE':>8}  {'sMAPE':>8}  {'series':>6}  "
                   f"{'stand-ins':>9}")
        for r in self.scores:
            mark = "  <- chosen" if r["name"] == self.chosen else ""
            out.append(f"  {r['name']:<{width}}  {_num(r['mase']):>8}  {_num(r['smape']):>8}"
                       f"  {r['series']:>6}  {r['stand_ins']:>9}{mark}")
        best = next(r for r in self.scores if r["name"] == self.chosen)
        out.append(f"chosen: {self.chosen} (validation MASE {_num(best['mase'])}, sMAPE "
                   f"{_num(best['smape'])})" + (f"; the {self.fallback} stood in on "
                                                f"{self.fallback_series} series"
                                                if self.fallback_series else ""))
        if self.levels:
            cov = ", ".join(f"{lv:g}%: {100 * self.coverage[lv]:.1f}% (MSIS "
                            f"{_num(self.msis.get(lv, np.nan))})"
                            if np.isfinite(self.coverage.get(lv, np.nan)) else f"{lv:g}%: -"
                            for lv in self.levels)
            out.append(f"intervals: conformal, per horizon step, from the signed errors on "
                       f"{w.get('interval_windows', w['n_windows'])} window(s) scaled by each "
                       f"series' MASE scale, each window's period effect taken out; "
                       f"validation coverage (cross-fitted over those windows) {cov}")
        return out


def _num(v):
    return f"{v:.3f}" if np.isfinite(v) else "-"


def _arrays(cv, uids, names, h, n_windows):
    """Actuals (S, W, h), MASE scales (S, W) and forecasts {name: (S, W, h)} of the
    validation windows (NaN where a window or a forecast is missing)."""
    pos = {u: i for i, u in enumerate(uids)}
    actual = np.full((len(uids), n_windows, h), np.nan)
    scale = np.full((len(uids), n_windows), np.nan)
    fcs = {n: np.full((len(uids), n_windows, h), np.nan) for n in names}
    for fc in cv._forecasts:
        i, k = pos[fc["uid"]], fc["window"]
        actual[i, k] = fc["actual"]
        scale[i, k] = fc["scale"]
        for n, pred in fc["models"].items():
            fcs[n][i, k] = pred.mean
    return actual, scale, fcs


def _scores(actual, f, scale, mask):
    """(mean MASE, mean sMAPE, series scored) over the series of the windows in `mask`."""
    err = np.abs(actual - f)
    with np.errstate(invalid="ignore", divide="ignore"):
        mase = np.where(mask, err.mean(axis=2) / scale, np.nan)
        denom = np.abs(actual) + np.abs(f)
        terms = np.where(denom > 0, err / np.where(denom > 0, denom, 1.0), 0.0)
        smape = np.where(mask, 200.0 * terms.mean(axis=2), np.nan)
    has = mask.any(axis=1)
    if not has.any():
        return np.nan, np.nan, 0
    per_mase = np.nanmean(mase[has], axis=1)
    per_smape = np.nanmean(smape[has], axis=1)
    return float(per_mase.mean()), float(per_smape.mean()), int(has.sum())


def _combine(stack, how):
    return np.median(stack, axis=0) if how == "median" else np.mean(stack, axis=0)


def _choose(actual, scale, fcs, names, fallback, max_combine):
    """(score records best first, the chosen one, the filled forecasts, the mask)."""
    fb = fcs[fallback]
    filled, stand_ins = {}, {}
    for n in names:
        miss = ~np.isfinite(fcs[n]).all(axis=2)
        filled[n] = np.where(miss[..., None], fb, fcs[n])
        stand_ins[n] = miss & np.isfinite(fb).all(axis=2) & np.isfinite(actual).all(axis=2)
    mask = (np.isfinite(actual).all(axis=2) & np.isfinite(scale) & (scale > 0))
    for n in names:
        mask &= np.isfinite(filled[n]).all(axis=2)
    if not mask.any():
        raise ValueError("no validation window could be scored: the series are too short "
                         "for the windows (fewer n_windows, or a shorter horizon)")
    records = []
    for order, n in enumerate(names):
        m, s, k = _scores(actual, filled[n], scale, mask)
        records.append({"name": n, "kind": "model", "members": (n,), "mase": m, "smape": s,
                        "series": k, "stand_ins": int((stand_ins[n] & mask).sum()),
                        "_order": order})
    singles = sorted(records, key=lambda r: (r["mase"], r["_order"]))
    combos = []
    for k in range(2, min(max_combine, len(singles)) + 1):
        members = tuple(r["name"] for r in singles[:k])
        stack = np.stack([filled[n] for n in members])
        for how in ("median", "mean") if k > 2 else ("mean",):   # of two they are one
            f = _combine(stack, how)
            filled[f"{how}({', '.join(members)})"] = f
            m, s, cnt = _scores(actual, f, scale, mask)
            combos.append({"name": f"{how}({', '.join(members)})", "kind": how,
                           "members": members, "mase": m, "smape": s, "series": cnt,
                           "stand_ins": sum(r["stand_ins"] for r in singles[:k]),
                           "_order": len(names) + len(combos)})
    chosen = singles[0]
    best_combo = min(combos, key=lambda r: (r["mase"], r["_order"])) if combos else None
    if best_combo is not None and best_combo["mase"] < chosen["mase"]:
        chosen = best_combo
    ranked = sorted(singles + combos, key=lambda r: (r["mase"], r["_order"]))
    for r in ranked:
        del r["_order"]
    return ranked, chosen, filled, mask


def _older_windows(cv_more, panel, names, members, how, h, n_more):
    """Actuals (S, K, h), MASE scales (S, K) and the chosen forecast (S, K, h) of the K =
    `n_more` calibration windows older than the validation windows (``cv_more``: the
    chosen members and the fallback cross-validated on them), the fallback standing in for a
    member that failed as in ``_choose``."""
    actual, scale, fcs = _arrays(cv_more, panel.uids, names, h, n_more)
    fb = fcs[FALLBACK]
    parts = [np.where((~np.isfinite(fcs[n]).all(axis=2))[..., None], fb, fcs[n])
             for n in members]
    f = parts[0] if len(parts) == 1 else _combine(np.stack(parts), how)
    return actual, scale, f


def period_adjusted(scaled, mask):
    """The calibration errors with each window's period effect taken out (module docstring,
    Intervals 2): scaled (S, K, h) signed errors on the MASE scale, mask (S, K) the
    series-windows to use; returns (S, K, h), window k's errors e mapped to
    m + (e - m_k) d / d_k, m_k its per-step median and d_k its spread (mean |e - m_k|), m and
    d their means over the windows weighted by series counts. Windows with fewer than
    ``PERIOD_MIN_SERIES`` series or no spread are kept as they are and left out of m and d.
    Entries outside `mask` are returned unchanged."""
    out = np.array(scaled, np.float64, copy=True)
    med, spread, count = {}, {}, {}
    for k in range(out.shape[1]):
        rows = mask[:, k]
        if rows.sum() < PERIOD_MIN_SERIES:
            continue
        e = out[rows, k]
        m = np.median(e, axis=0)
        d = float(np.mean(np.abs(e - m)))
        if d > 0:
            med[k], spread[k], count[k] = m, d, int(rows.sum())
    if len(med) < 2:
        return out
    total = sum(count.values())
    m_all = sum(count[k] * med[k] for k in med) / total
    d_all = sum(count[k] * spread[k] for k in med) / total
    for k in med:
        rows = mask[:, k]
        out[rows, k] = m_all + (out[rows, k] - med[k]) * (d_all / spread[k])
    return out


def _calibrate(actual, f, scale, mask, levels):
    """Conformal bounds from the calibration windows' signed errors with the period effect
    taken out (module docstring): ({L: ((h,) lower, (h,) upper) offsets on the MASE scale},
    {L: cross-fitted coverage}, {L: cross-fitted MSIS, the mean over the series}). actual, f
    (S, K, h), scale (S, K), mask (S, K) the series-windows to use. The cross-fitted scores
    of window k come from bounds calibrated on the other windows alone (adjusted among
    themselves) against window k's errors as they are."""
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = (actual - f) / scale[..., None]
    adjusted = period_adjusted(scaled, mask)
    # window k held out: the other windows' errors, adjusted among themselves (level-free)
    held_out = {}
    for k in range(mask.shape[1]):
        if mask[:, k].any():
            rest = mask.copy()
            rest[:, k] = False
            held_out[k] = period_adjusted(scaled, rest)[rest]
    offsets, coverage, msis = {}, {}, {}
    for lv in levels:
        try:
            offsets[lv] = conformal_offsets(adjusted[mask], lv)
        except ValueError:
            raise ValueError(f"level {lv:g}: the calibration windows give {int(mask.sum())} "
                             f"series-windows, too few for a conformal interval at that "
                             f"level (at least {ceil(200 / (100 - lv) - 1e-9) - 1}); raise "
                             f"n_windows (--windows) or lower the level") from None
        alpha = 1.0 - lv / 100.0
        hits, total = 0, 0
        score = np.full(mask.shape, np.nan)
        for k, others in held_out.items():
            here = mask[:, k]
            try:
                lo, hi = conformal_offsets(others, lv)
            except ValueError:
                continue
            e = scaled[here, k]
            inside = (e >= lo) & (e <= hi)
            hits += int(inside.sum())
            total += inside.size
            # MSIS on the MASE scale: the width plus 2/alpha times the miss beyond a bound
            score[here, k] = np.mean((hi - lo) + (2 / alpha) * (np.maximum(lo - e, 0.0)
                                                                + np.maximum(e - hi, 0.0)),
                                     axis=1)
        coverage[lv] = hits / total if total else float("nan")
        has = np.isfinite(score).any(axis=1)
        msis[lv] = float(np.nanmean(score[has], axis=1).mean()) if has.any() else float("nan")
    return offsets, coverage, msis


def forecast_collection(data, h, *, id_col="unique_id", time_col="ds", target_col="y",
                        season=None, level=None, models=None, n_windows=3, step=None,
                        max_combine=4, fill=None, n_jobs=1, seed=0, progress=None,
                        past_covariates=(), future_covariates=(), static=(), future=None,
                        interval_windows=INTERVAL_WINDOWS):
    """Forecast every series of `data` `h` steps ahead with the model (or combination) that
    validates best over the collection; returns (forecasts, report).

    data         a ``Panel``, or anything ``read_panel`` reads (a long-format pandas/polars
                 frame or a mapping of columns) with `id_col` (a name or a list), `time_col`,
                 `target_col`, `season` (default: from the frequency) and `fill` (None:
                 missing values and gaps are an error; "interpolate", "ffill", "zero"); a
                 ``Panel`` is used as it is (those five are then not read)
    h            the horizon
    level        interval levels, e.g. [80, 95] (conformal, module docstring)
    interval_windows  windows the intervals are calibrated on (default ``INTERVAL_WINDOWS``,
                 8; never fewer than n_windows): the validation windows and as many older
                 ones, on which only the chosen members and the fallback are refitted
    models       candidates (a list or {name: spec}, ``fastrnn.forecasting.local``; global
                 models allowed); default ``default_models``. The seasonal naive is added
                 as the fallback when missing.
    n_windows    validation windows per series; ``step`` values between their origins
                 (default h)
    max_combine  combinations of the best 2 .. max_combine models are tried (1: none)
    n_jobs       joblib workers over series (-1: all cores; never more than cores or
                 series); inside ``joblib.parallel_backend("dask")`` the chunks of series run
                 on a Dask cluster. The result does not depend on it.
    seed         given to the default global model; the choice itself is deterministic
    progress     progress(stage, done, total), stage "validation" or "forecast"
    past_covariates, future_covariates, static   covariate columns of `data` (a name or a
                 list each; a ``Panel`` must carry them): observed with the values, known
                 ahead, one number per series. Global models read them (the default
                 ``GlobalRNN`` among them); local models ignore them, and a warning says so
                 when no candidate is global. Validation windows cut them at their origin
                 (the future-known ones at origin + h, from their own history:
                 ``fastrnn.forecasting.cv``)
    future       with future_covariates: their values over the horizon, a frame of the
                 data's kind with the id and time columns and those columns, exactly the h
                 times after each series' end for every series (``panel.read_future``)

    Returns (the long format of ``Panel.to_long``: id column(s), the time column continuing
    each series' calendar, ``forecast``, ``lo-L``, ``hi-L`` per level; a
    :class:`CollectionReport`). Raises ValueError for bad input (naming it)."""
    t_start = time.perf_counter()
    h = _params.positive_int(h, "h")
    n_windows = _params.positive_int(n_windows, "n_windows")
    interval_windows = _params.positive_int(interval_windows, "interval_windows")
    step = h if step is None else _params.positive_int(step, "step")
    max_combine = _params.check(max_combine, "max_combine", _COMBINE)
    seed = _params.check(seed, "seed", _params.Int())
    levels = check_levels(level)
    cov = Covariates.of(past_covariates, future_covariates, static)
    panel = data if isinstance(data, Panel) else read_panel(
        data, id_col=id_col, time_col=time_col, target_col=target_col, season=season,
        fill=fill, covariates=cov.columns, static=cov.static)
    cov.check(panel)
    fut = cov.read_future(panel, future, h)    # checked before any fitting
    skipped = {}
    if models is None:
        models, skipped = default_models(len(panel), h, seed)
    specs = model_specs(models)
    if FALLBACK not in dict(specs):
        specs.append((FALLBACK, standard_baselines()[FALLBACK]))
    names = [n for n, _ in specs]
    warn_unused(cov, specs, "".join(f" ({n}: {why})" for n, why in skipped.items()))

    def stage(what):
        return None if progress is None else (lambda d, t: progress(what, d, t))

    with warnings.catch_warnings():
        # warn_unused has spoken above; cross_validate would say it again
        warnings.filterwarnings("ignore", "covariates .* read by global models only",
                                UserWarning)
        cv = cross_validate(dict(specs), panel, h, n_windows, step, n_jobs=n_jobs,
                            progress=stage("validation"), past_covariates=cov.past,
                            future_covariates=cov.future, static=cov.static)
    actual, scale, fcs = _arrays(cv, panel.uids, names, h, n_windows)
    ranked, chosen, filled, mask = _choose(actual, scale, fcs, names, FALLBACK, max_combine)
    members = chosen["members"]
    offsets, coverage, msis, n_cal = {}, {}, {}, n_windows
    if levels:
        f_cal, n_cal = filled[chosen["name"]], max(n_windows, interval_windows)
        a_cal, q_cal = actual, scale
        if n_cal > n_windows:
            # older windows for the intervals alone: the chosen members (and the fallback)
            # on the n_cal - n_windows windows before the validation windows
            more = [(n, sp) for n, sp in specs if n in members or n == FALLBACK]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                cv_more = cross_validate(dict(more), panel, h, n_cal - n_windows, step,
                                         holdout=n_windows * step, n_jobs=n_jobs,
                                         progress=stage("intervals"),
                                         past_covariates=cov.past,
                                         future_covariates=cov.future, static=cov.static)
            old = _older_windows(cv_more, panel, [n for n, _ in more], members,
                                 chosen["kind"], h, n_cal - n_windows)
            a_cal = np.concatenate([old[0], actual], axis=1)
            q_cal = np.concatenate([old[1], scale], axis=1)
            f_cal = np.concatenate([old[2], f_cal], axis=1)
        m_cal = (np.isfinite(a_cal).all(axis=2) & np.isfinite(q_cal) & (q_cal > 0)
                 & np.isfinite(f_cal).all(axis=2))
        offsets, coverage, msis = _calibrate(a_cal, f_cal, q_cal, m_cal, levels)

    need = [(n, sp) for n, sp in specs if n in members or n == FALLBACK]
    results = run_forecasts(panel, need, h, None, n_jobs, stage("forecast"), cov, fut)
    preds, stood_in = {}, 0
    for s, (uid, got, _) in zip(panel.series, results):
        fb = got.get(FALLBACK)
        parts, used = [], False
        for n in members:
            p = got.get(n)
            if p is None or np.shape(p.mean) != (h,) or not np.all(np.isfinite(p.mean)):
                p, used = fb, True
            parts.append(np.full(h, np.nan) if p is None else np.asarray(p.mean, np.float64))
        stood_in += used
        mean = parts[0] if len(parts) == 1 else _combine(np.stack(parts), chosen["kind"])
        lo, hi = {}, {}
        if levels:
            q = mase_scale(s.y, s.period() or 1)
            q = q if np.isfinite(q) else 0.0
            for lv in levels:
                lo[lv], hi[lv] = mean + offsets[lv][0] * q, mean + offsets[lv][1] * q
        preds[uid] = Prediction(mean, lo, hi)
    out = panel.to_long(preds, h)
    report = CollectionReport(
        models=names, skipped=skipped,
        windows={"h": h, "n_windows": n_windows, "step": step, "scored": int(mask.sum()),
                 "interval_windows": n_cal},
        scores=ranked, chosen=chosen["name"], members=members, how=chosen["kind"],
        fallback=FALLBACK, fallback_series=int(stood_in), levels=levels, coverage=coverage,
        msis=msis, offsets=offsets, cv=cv, panel_summary=panel.summary(), notes=panel.notes(), seed=seed,
        wall_s=time.perf_counter() - t_start)
    return out, report
