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

Covariates (``Covariates``: the names of a panel's covariate columns, by kind) reach global
models only; local models are fitted on the values alone and ignore them. ``past`` columns
are observed with the values and unknown ahead; ``future`` columns are known ahead, so a
forecast needs their values over the horizon (``future=``, read by ``panel.read_future``);
``static`` columns hold one number per series. In a validation window the past columns are
cut at the window's origin and the future ones at origin + h (their own history stands for
the values a user would have known ahead then), so nothing later is seen.

Parallel runs use joblib (optional: without it, one after another) over chunks of series;
``n_jobs`` follows joblib (-1: all cores) but never starts more workers than cores or tasks,
and the results do not depend on it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from fastrnn import _params
from fastrnn.forecasting.baselines import Naive, SeasonalNaive
from fastrnn.forecasting.panel import Panel, read_future, read_panel
from fastrnn.forecasting.theta import Drift, Theta

__all__ = [
    "Covariates",
    "build_model",
    "fit_global",
    "forecast_panel",
    "is_global",
    "model_specs",
    "n_workers",
    "parallel_map",
    "read_with_covariates",
    "run_forecasts",
    "standard_baselines",
    "warn_unused",
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


def fit_global(spec, trains, seasons, h, level=None, covariates=None):
    """[Prediction] (one per series) of a clone of the global model `spec` fitted once on
    `trains` (a list of 1-D arrays) with their seasonal periods `seasons` (a list; None where
    unknown, given to the model as 1: no season) and `covariates` (None, or the dict of
    ``Covariates.arrays``), forecasting `h` steps. Raises what the model raises; ValueError
    when it does not return one Prediction of h values per series."""
    model = spec.clone()
    model.fit(list(trains), season=[1 if p is None else int(p) for p in seasons],
              covariates=covariates)
    preds = list(model.predict(h, level=level))
    if len(preds) != len(trains):
        raise ValueError(f"{getattr(spec, 'name', 'a global model')}: predict returned "
                         f"{len(preds)} forecasts for {len(trains)} series")
    for p in preds:
        if np.shape(p.mean) != (h,):
            raise ValueError(f"{getattr(spec, 'name', 'a global model')}: a forecast of "
                             f"shape {np.shape(p.mean)}, expected ({h},)")
    return preds


def _names(value, what):
    """A tuple of column names from one name or a sequence of them."""
    if value is None:
        return ()
    names = (value,) if isinstance(value, str) else value
    try:
        names = tuple(names)
    except TypeError:
        raise TypeError(f"{what}: expected a column name or a list of them, got "
                        f"{type(value).__name__}") from None
    for c in names:
        if not isinstance(c, str):
            raise TypeError(f"{what}: expected column names (str), got {c!r}")
    dup = sorted({c for c in names if names.count(c) > 1})
    if dup:
        raise ValueError(f"{what}: {dup[0]!r} is named more than once")
    return names


@dataclass(frozen=True)
class Covariates:
    """The covariate columns a global model reads, by kind (module docstring): ``past``,
    ``future`` and ``static``, each a tuple of column names of the panel's series
    (``Series.covariates`` for past and future, ``Series.static`` for static)."""

    past: tuple = ()
    future: tuple = ()
    static: tuple = ()

    @classmethod
    def of(cls, past_covariates=(), future_covariates=(), static=()):
        """From the arguments of the many-series functions (a name or a list each); a column
        may be of one kind only."""
        kinds = {"past_covariates": _names(past_covariates, "past_covariates"),
                 "future_covariates": _names(future_covariates, "future_covariates"),
                 "static": _names(static, "static")}
        seen = {}
        for what, names in kinds.items():
            for c in names:
                if c in seen:
                    raise ValueError(f"{what}: {c!r} is also in {seen[c]}; a column is "
                                     f"past-observed, future-known or static, one of them")
                seen[c] = what
        return cls(*kinds.values())

    def __bool__(self):
        return bool(self.past or self.future or self.static)

    @property
    def columns(self):
        """The past and future columns (``read_panel(covariates=...)``)."""
        return self.past + self.future

    def describe(self):
        """One phrase: the columns by kind ("" without any)."""
        return "; ".join(f"{what} {', '.join(names)}" for what, names in (
            ("past", self.past), ("future", self.future), ("static", self.static)) if names)

    def check(self, panel):
        """ValueError unless every series of `panel` carries the columns, the static ones
        as numbers (a network reads them: categories must be encoded first)."""
        for what, names, where in (("past_covariates", self.past, "covariates"),
                                   ("future_covariates", self.future, "covariates"),
                                   ("static", self.static, "static")):
            for c in names:
                for s in panel.series:
                    carried = getattr(s, where)
                    if c not in carried:
                        raise ValueError(f"{what}: the panel carries no column {c!r} "
                                         f"(read_panel({where}=...) carries: "
                                         f"{', '.join(carried) or 'none'})")
        for c in self.static:
            for s in panel.series:
                v = s.static[c]
                if not (isinstance(v, (int, float, np.number, np.bool_))
                        and np.isfinite(float(v))):
                    raise ValueError(f"static: column {c!r} must hold finite numbers (the "
                                     f"network reads them), got {v!r} for series {s.uid!r}; "
                                     f"encode categories as numbers, one column each")

    def read_future(self, panel, future, h):
        """{uid: (h, len(future columns))} of `future` (``panel.read_future``), or None
        without future columns; ValueError when one is given without the other."""
        if not self.future:
            if future is not None:
                raise ValueError("future: given, but no future_covariates name its columns; "
                                 "pass future_covariates=[...] or leave future out")
            return None
        if future is None:
            raise ValueError(f"future: future_covariates {', '.join(self.future)} need their "
                             f"values over the horizon: pass future= (the id and time "
                             f"columns and {', '.join(self.future)}, {h} rows per series), "
                             f"got None")
        return read_future(panel, future, h, self.future)

    def arrays(self, series, cuts=None, h=0, future=None):
        """The ``covariates`` dict of ``GlobalRNN.fit`` for `series` (a list of ``Series``)
        trained on their first `cuts` values (None: all): past (cut, Fp) each; future
        (cut + h, Ff) each, the values after the cut from the series' own history, or, with
        `cuts` None, the whole series followed by ``future[uid]`` (h, Ff); static (N, Fs).
        None without covariates."""
        if not self:
            return None
        cuts = [len(s) for s in series] if cuts is None else list(cuts)
        out = {}
        if self.past:
            out["past"] = [np.column_stack([s.covariates[c][:cut] for c in self.past])
                           for s, cut in zip(series, cuts)]
        if self.future:
            if future is None:
                out["future"] = [np.column_stack([s.covariates[c][:cut + h]
                                                  for c in self.future])
                                 for s, cut in zip(series, cuts)]
            else:
                out["future"] = [np.vstack([np.column_stack([s.covariates[c][:cut]
                                                             for c in self.future]),
                                            future[s.uid]])
                                 for s, cut in zip(series, cuts)]
        if self.static:
            out["static"] = np.array([[float(s.static[c]) for c in self.static]
                                      for s in series], np.float64)
        return out


def read_with_covariates(data, cov, **panel_kwargs):
    """`data` as a ``Panel`` carrying the columns of `cov` (a ``Covariates``): a Panel is
    checked, anything else read by ``read_panel`` with them."""
    if not isinstance(data, Panel):
        given = _names(panel_kwargs.pop("covariates", ()), "covariates")
        stat = _names(panel_kwargs.pop("static", ()), "static")
        data = read_panel(data, covariates=tuple(dict.fromkeys(given + cov.columns)),
                          static=tuple(dict.fromkeys(stat + cov.static)), **panel_kwargs)
    cov.check(data)
    return data


def warn_unused(cov, specs, why=""):
    """A warning when covariates are given but no model of `specs` is global."""
    if cov and not any(is_global(sp) for _, sp in specs):
        import warnings

        warnings.warn(f"covariates ({cov.describe()}) are read by global models only and no "
                      f"candidate is one{why}: every model forecasts from the values alone",
                      UserWarning, stacklevel=3)


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


def _global_forecasts(panel, specs, h, level, results, covariates=None, future=None):
    """Fit every global model of `specs` once on the whole of `panel` (with `covariates`, a
    ``Covariates``, and the future ones' values `future` {uid: (h, Ff)}) and add its
    forecasts (or the error, to every series) to `results` [(uid, preds, errors)]."""
    cov = None
    for name, spec in specs:
        if not is_global(spec):
            continue
        if cov is None and covariates:
            cov = covariates.arrays(panel.series, None, h, future)
        try:
            preds = fit_global(spec, [s.y for s in panel], [s.period() for s in panel], h,
                               level, cov)
        except NotImplementedError:
            raise
        except _FIT_ERRORS as exc:
            for _, _, errs in results:
                errs[name] = str(exc) or type(exc).__name__
            continue
        for (_, got, _), p in zip(results, preds):
            got[name] = p


def forecast_panel(models, data, h, level=None, n_jobs=1, progress=None, *,
                   past_covariates=(), future_covariates=(), static=(), future=None,
                   **panel_kwargs):
    """Fit every model on every series of `data` (a ``Panel`` or anything ``read_panel``
    reads, with `panel_kwargs`; a global model once on all of them) and forecast `h` steps: the long format, with ``forecast``
    (and ``lo-L``/``hi-L``) for one model, or a column per model name ("name", "name-lo-80",
    ...) for several. A model that fails on a series leaves NaN there; the messages are in
    the frame's ``attrs["errors"]`` (pandas) or raised when every series failed.

    past_covariates, future_covariates, static   covariate columns (names) for the global
    models (``Covariates``; local models ignore them); `future` holds the future ones' values
    over the horizon (``panel.read_future``: the data's id and time columns, h rows per
    series)."""
    h = _params.positive_int(h, "h")
    cov = Covariates.of(past_covariates, future_covariates, static)
    panel = read_with_covariates(data, cov, **panel_kwargs)
    fut = cov.read_future(panel, future, h)
    specs = model_specs(models)
    warn_unused(cov, specs)
    results = run_forecasts(panel, specs, h, level, n_jobs, progress, cov, fut)
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


def run_forecasts(panel, specs, h, level=None, n_jobs=1, progress=None, covariates=None,
                  future=None):
    """[(uid, {name: Prediction}, {name: error message})] per series of `panel` (in order):
    every spec of `specs` [(name, spec)] fitted on the whole series (local models over
    joblib workers, chunk by chunk, ``progress(done, total)`` after each) or once on the
    whole collection (global models, with `covariates` (a ``Covariates``) and `future`
    {uid: (h, Ff)} their future values) and forecasting `h` steps."""
    workers = n_workers(n_jobs, len(panel))
    parts = chunks(panel.series, workers, at_least=PROGRESS_CHUNKS if progress else 1)
    results = []
    if any(not is_global(sp) for _, sp in specs):
        results = [r for part in parallel_map(_forecast_chunk, [(c, specs, h, level)
                                                                for c in parts],
                                              n_jobs, progress) for r in part]
    else:
        results = [(s.uid, {}, {}) for s in panel.series]
    _global_forecasts(panel, specs, h, level, results, covariates, future)
    return results
