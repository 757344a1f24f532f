"""Local forecasters over a whole collection: model specifications, the parallel runner over
series, and the many-series forecast in the long format.

A model specification is a fitted-or-not forecaster (cloned for every fit) or a callable
``season -> forecaster`` (for models whose settings depend on each series' seasonal period,
such as the seasonal naive or Theta); several are given as a dict {name: spec} or a list.
``standard_baselines()`` gives naive, seasonal naive, drift and Theta that way.

A global model (one fitted across all the series at once, such as
``fastrnn.forecasting.global_rnn.GlobalRNN``) is a specification object with
``is_global = True`` and

    fit(series, season=..., covariates=None)    series: a list of 1-D float64 arrays; season
                                                an int or a list of them (None: unknown)
    predict(h, level=None) -> [Prediction]      one per series, in the order given
    clone(), name

It is fitted once on the whole collection (``fit_global``), never per series, and runs in
this process (it may parallelise itself).

Parallel runs use joblib (optional: without it, one after another) over chunks of series;
``n_jobs`` follows joblib (-1: all cores) but never starts more workers than cores or tasks,
and the results do not depend on it.
"""

from __future__ import annotations

import os

import numpy as np

from fastrnn import _params
from fastrnn.forecasting.baselines import Naive, SeasonalNaive
from fastrnn.forecasting.panel import Panel, read_panel
from fastrnn.forecasting.theta import Drift, Theta

__all__ = [
    "build_model",
    "fit_global",
    "forecast_panel",
    "is_global",
    "model_specs",
    "n_workers",
    "parallel_map",
    "run_forecasts",
    "standard_baselines",
]


def seasonal_naive(season):
    """The seasonal naive forecaster for period `season` (the naive one without a season)."""
    return SeasonalNaive(season) if season and season > 1 else Naive()


def theta(season):
    """Theta for period `season` (non-seasonal without one)."""
    return Theta(period=season or 1)


def standard_baselines():
    """{name: spec} of the classical baselines a forecast must beat: naive, seasonal naive,
    drift and Theta."""
    return {"naive": Naive(), "seasonal naive": seasonal_naive, "drift": Drift(),
            "theta": theta}


def model_specs(models):
    """[(name, spec)] of a forecaster, a callable season -> forecaster, a list of them or a
    dict {name: spec}. Raises TypeError for anything else, ValueError for repeated names."""
    if isinstance(models, dict):
        items = [(str(k), v) for k, v in models.items()]
    elif isinstance(models, (list, tuple)):
        items = [(_spec_name(m), m) for m in models]
    else:
        items = [(_spec_name(models), models)]
    if not items:
        raise ValueError("models: expected at least one model, got none")
    for name, spec in items:
        if not (hasattr(spec, "clone") or callable(spec)):
            raise TypeError(f"models: {name!r} is neither a forecaster nor a callable "
                            f"season -> forecaster, got {type(spec).__name__}")
    names = [n for n, _ in items]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"models: the name(s) {', '.join(map(repr, dup))} appear more than "
                         f"once; pass a dict {{name: model}}")
    return items


def _spec_name(m):
    if hasattr(m, "clone"):
        return m.name
    name = getattr(m, "__name__", None)
    if not name or name == "<lambda>":
        raise ValueError("models: name a callable model: pass a dict {name: callable}")
    return name


def is_global(spec):
    """Whether a model specification is a global model (fitted across all series at once)."""
    return getattr(spec, "is_global", False) is True


def fit_global(spec, trains, seasons, h, level=None):
    """[Prediction] (one per series) of a clone of the global model `spec` fitted once on
    `trains` (a list of 1-D arrays) with their seasonal periods `seasons` (a list; None where
    unknown, given to the model as 1: no season), forecasting `h` steps. Raises what the model raises; ValueError when it does
    not return one Prediction of h values per series."""
    model = spec.clone()
    model.fit(list(trains), season=[1 if p is None else int(p) for p in seasons],
              covariates=None)
    preds = list(model.predict(h, level=level))
    if len(preds) != len(trains):
        raise ValueError(f"{getattr(spec, 'name', 'a global model')}: predict returned "
                         f"{len(preds)} forecasts for {len(trains)} series")
    for p in preds:
        if np.shape(p.mean) != (h,):
            raise ValueError(f"{getattr(spec, 'name', 'a global model')}: a forecast of "
                             f"shape {np.shape(p.mean)}, expected ({h},)")
    return preds


def build_model(spec, season):
    """A fresh forecaster from a spec, for a series of seasonal period `season` (or None)."""
    if hasattr(spec, "clone"):
        return spec.clone()
    model = spec(season)
    if not hasattr(model, "fit") or not hasattr(model, "predict"):
        raise TypeError(f"a model callable returned {type(model).__name__}, not a forecaster")
    return model


def _cores():
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def n_workers(n_jobs, tasks):
    """Workers for `tasks` tasks: ``n_jobs`` None or 1 -> 1; -1 all cores, -2 all but one,
    ...; never more than the cores or the tasks, never fewer than 1."""
    if n_jobs is None:
        return 1
    n_jobs = _params.check(n_jobs, "n_jobs", _params.Int())
    if n_jobs == 0:
        raise ValueError("n_jobs must not be 0 (1 for one process, -1 for all cores), got 0")
    cores = _cores()
    want = n_jobs if n_jobs > 0 else cores + 1 + n_jobs
    return max(1, min(want, cores, max(int(tasks), 1)))


def parallel_map(func, items, n_jobs=1, progress=None):
    """[func(item) for item in items], over ``n_workers(n_jobs, len(items))`` joblib workers
    (in order); ``progress(done, total)`` after each item."""
    items = list(items)
    workers = n_workers(n_jobs, len(items))
    out = []
    if workers > 1:
        try:
            import joblib
        except ImportError:
            workers = 1
    if workers == 1:
        for i, item in enumerate(items, 1):
            out.append(func(item))
            if progress is not None:
                progress(i, len(items))
        return out
    gen = joblib.Parallel(n_jobs=workers, return_as="generator")(
        joblib.delayed(func)(item) for item in items)
    for i, res in enumerate(gen, 1):
        out.append(res)
        if progress is not None:
            progress(i, len(items))
    return out


def chunks(seq, workers, per_worker=4, at_least=1):
    """`seq` cut into about max(workers * per_worker, at_least) consecutive chunks (one with
    one worker unless `at_least` asks for more: progress is reported per chunk)."""
    seq = list(seq)
    k = max(1 if workers <= 1 else workers * per_worker, at_least)
    k = min(len(seq), k)
    size = -(-len(seq) // max(k, 1))
    return [seq[i:i + size] for i in range(0, len(seq), size)] if seq else []


# progress on long work: with one worker the series still come in this many chunks
PROGRESS_CHUNKS = 20

_FIT_ERRORS = (ValueError, RuntimeError, FloatingPointError, np.linalg.LinAlgError)


def _forecast_chunk(args):
    series, specs, h, level = args
    out = []
    for s in series:
        season = s.period()
        preds, errors = {}, {}
        for name, spec in specs:
            if is_global(spec):
                continue
            try:
                preds[name] = build_model(spec, season).fit(s.y).predict(h, level=level)
            except NotImplementedError:
                raise                      # asked of every fit (intervals): not a failure
            except _FIT_ERRORS as exc:
                errors[name] = str(exc) or type(exc).__name__
        out.append((s.uid, preds, errors))
    return out


def _global_forecasts(panel, specs, h, level, results):
    """Fit every global model of `specs` once on the whole of `panel` and add its forecasts
    (or the error, to every series) to `results` [(uid, preds, errors)]."""
    for name, spec in specs:
        if not is_global(spec):
            continue
        try:
            preds = fit_global(spec, [s.y for s in panel], [s.period() for s in panel], h,
                               level)
        except NotImplementedError:
            raise
        except _FIT_ERRORS as exc:
            for _, _, errs in results:
                errs[name] = str(exc) or type(exc).__name__
            continue
        for (_, got, _), p in zip(results, preds):
            got[name] = p


def forecast_panel(models, data, h, level=None, n_jobs=1, progress=None, **panel_kwargs):
    """Fit every model on every series of `data` (a ``Panel`` or anything ``read_panel``
    reads, with `panel_kwargs`; a global model once on all of them) and forecast `h` steps: the long format, with ``forecast``
    (and ``lo-L``/``hi-L``) for one model, or a column per model name ("name", "name-lo-80",
    ...) for several. A model that fails on a series leaves NaN there; the messages are in
    the frame's ``attrs["errors"]`` (pandas) or raised when every series failed."""
    h = _params.positive_int(h, "h")
    panel = data if isinstance(data, Panel) else read_panel(data, **panel_kwargs)
    specs = model_specs(models)
    results = run_forecasts(panel, specs, h, level, n_jobs, progress)
    single = len(specs) == 1
    blocks, errors = {}, {}
    for uid, preds, errs in results:
        cols = {}
        for name, _ in specs:
            if name in preds:
                for c, v in preds[name].to_dict().items():
                    cols[c if single else (name if c == "forecast" else f"{name}-{c}")] = v
            else:
                cols["forecast" if single else name] = np.full(h, np.nan)
        blocks[uid] = cols
        errors.update({(uid, name): e for name, e in errs.items()})
    if errors and len(errors) == len(results) * len(specs):
        (uid, name), msg = next(iter(errors.items()))
        raise ValueError(f"every fit failed; first: series {uid!r}, model {name!r}: {msg}")
    out = panel.to_long(blocks, h)
    if hasattr(out, "attrs"):
        out.attrs["errors"] = {f"{u!r} {n}": e for (u, n), e in errors.items()}
    return out


def run_forecasts(panel, specs, h, level=None, n_jobs=1, progress=None):
    """[(uid, {name: Prediction}, {name: error message})] per series of `panel` (in order):
    every spec of `specs` [(name, spec)] fitted on the whole series (local models over
    joblib workers, chunk by chunk, ``progress(done, total)`` after each) or once on the
    whole collection (global models) and forecasting `h` steps."""
    workers = n_workers(n_jobs, len(panel))
    parts = chunks(panel.series, workers, at_least=PROGRESS_CHUNKS if progress else 1)
    results = []
    if any(not is_global(sp) for _, sp in specs):
        results = [r for part in parallel_map(_forecast_chunk, [(c, specs, h, level)
                                                                for c in parts],
                                              n_jobs, progress) for r in part]
    else:
        results = [(s.uid, {}, {}) for s in panel.series]
    _global_forecasts(panel, specs, h, level, results)
    return results
