"""`fastrnn forecast`: read one series, select among RNN candidates and baselines, forecast.
With --id-column, many series (``fastrnn.cli.forecast_many``).

The steps, in order: refuse bad options before any work; read the series (fastrnn.data); split
it and check that the training part is long enough for the lags asked; build the grid and run
the selection (fastrnn.forecasting), with progress on stderr; print the ADF test, the ranked
table and the choice; forecast, print it and optionally plot it.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

from fastrnn import _params, backends, cells, data, forecasting
from fastrnn._version import __version__
from fastrnn.backends import _threading
from fastrnn.cli import _common, tables
from fastrnn.cli._common import CLIError, check_available, set_threads
from fastrnn.cli.plot import have_matplotlib, plot_forecast
from fastrnn.forecasting.workers import worker_count

# What one run may ask for: the recursive forecast runs one network call per step; the
# selection fits every candidate on every window and its regressions grow faster than the
# series (the ADF and AR designs are n x ~12 (n/100)^(1/4)); longer series: the library
MAX_HORIZON = 10_000
MAX_VALUES = 100_000
MAX_CSV_CHARS = 64 << 20
_HORIZON = _params.Int(1, MAX_HORIZON)
_ALPHA = _params.Real(0, 1, closed="right")


@dataclass
class Series:
    """The series as read, with where it came from."""

    values: np.ndarray
    labels: list | None      # the time column's text, or None
    times: np.ndarray | None  # the labels parsed (int64 or datetime64), or None
    column: str
    time_column: str | None
    path: str
    source: str

    def label(self, i):
        return self.labels[i] if self.labels is not None else str(i)


@dataclass
class Split:
    n_test: int
    n_train: int
    diff: int | None  # None: chosen by the ADF test


def _check_options(args):
    """Everything about the options alone, so that a mistake costs no fitting."""
    if args.plot:
        if not have_matplotlib():
            raise CLIError("--plot needs matplotlib, which is not installed: pip install "
                           "'fastrnn[plot]' (or matplotlib)")
        if not args.plot.lower().endswith(".png"):
            raise CLIError(f"--plot: expected a .png file name, got {args.plot!r}")
        _check_writable(args.plot)
    if args.output:
        if not args.output.lower().endswith(".csv"):
            raise CLIError(f"--output: expected a .csv file name, got {args.output!r}")
        _check_writable(args.output, "--output")
    args.level = _levels(args.level)
    _params.check(args.horizon, "--horizon", _HORIZON)
    _params.check(args.alpha, "--alpha", _ALPHA)
    if args.jobs is not None and args.jobs == 0:
        raise CLIError("--jobs must not be 0 (use 1, N, or -1 for all cores)")
    _check_head(args)
    from fastrnn.cli.forecast_many import check_options

    check_options(args)            # the covariate options, before any reading


def _check_head(args):
    """--head: the single-series RNN candidates only; its intervals come from the network's
    outputs, one per step, so more steps than one need --direct (an output per step)."""
    head = getattr(args, "head", "point")
    if head == "point":
        return
    if args.id_column:
        raise CLIError(f"--head {head}: the head of the single-series RNN candidates; with "
                       f"--id-column the default forecaster's intervals are conformal")
    if args.level and args.horizon > 1 and not args.direct:
        raise CLIError(f"--head {head} with --level: the head's intervals reach as many steps "
                       f"as the network has outputs (1 without --direct), got --horizon "
                       f"{args.horizon}; add --direct (or use --horizon 1)")


def _levels(levels):
    """--level as a sorted tuple of percentages (() without it); CLIError for one outside
    (0, 100)."""
    for v in levels or ():
        if not 0 < v < 100:
            raise CLIError(f"--level: levels are percentages in (0, 100), e.g. --level 80 95; "
                           f"got {v:g}")
    return forecasting.check_levels(levels)


def _check_writable(path, option="--plot"):
    """CLIError unless a file can be written at `path` (checked before any work, so that a
    typo in a directory name does not cost the whole run)."""
    suffix = os.path.splitext(path)[1] or ".png"
    if os.path.isdir(path):
        raise CLIError(f"{option}: {path!r} is a directory; give a file name ending in "
                       f"{suffix}")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise CLIError(f"{option}: the directory {parent!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK) or (os.path.exists(path)
                                                     and not os.access(path, os.W_OK)):
        raise CLIError(f"{option}: {path!r} cannot be written (permission denied)")


def _fit_bytes(f, n_train):
    """A generous estimate of the memory one RNN candidate's fit takes: its parameters about
    twelve times over (weights, flat vector, gradients, Adam's slots, the backups of a step,
    early stopping's best weights, the initialisers' float64 draws), the activations of a
    batch of 1024 windows (prediction), and the windows themselves."""
    gates = cells.get(f.cell).gates
    acts = max(f.batch_size, 1024) * f.lags * (gates + 3) * f.units * f.layers * 4 * 2
    return f.n_params * 4 * 12 + acts + n_train * (f.lags + f.horizon) * 4 * 4


def _check_memory(candidates, workers, n):
    """CLIError when the largest candidate's fit, on every worker at once, or the selection's
    regressions on the n values would not fit in the memory available (before allocating)."""
    avail = _common.available_memory()
    if avail is None or not candidates:
        return
    worst = max(candidates, key=lambda f: _fit_bytes(f, n))
    lag = max(max(f.lags for f in candidates), math.ceil(12 * (n / 100) ** 0.25))
    need = _fit_bytes(worst, n) * (workers or 1) + n * (lag + 4) * 8 * 4
    if need > avail:
        size = _common.readable_bytes
        raise CLIError(f"the largest candidate, {worst.name} ({worst.n_params:,} parameters), "
                       f"needs about {size(need)} to train on {workers or 1} job(s) and {n} "
                       f"values; {size(avail)} of memory are available: use fewer --units, "
                       "--layers or --jobs")


def _prepare_backend(args):
    """Threads first (numba reads its pool size when it starts), then the backend asked for
    must be able to run here."""
    threads = args.threads
    if threads is None and not any(name in os.environ for name in _threading.ENVIRONMENT):
        threads = 1   # forecasting sizes: one thread per fit is fastest (and parallel jobs)
    set_threads(threads)
    if args.backend is not None:
        check_available([args.backend])


def _read(args):
    if args.csv is None:
        path = data.path("sunspots")
        source = f"shipped series 'sunspots' ({data.NAMES['sunspots'][1]})"
    else:
        path = source = args.csv
    values, labels, column, time_column = data.read_series_csv(
        path, args.column, args.time_column, max_rows=MAX_VALUES, max_bytes=MAX_CSV_CHARS)
    n = len(values)
    if n < 3:
        raise CLIError(f"{path}: column {column!r} has {n} value(s); too few for a forecast")
    if np.ptp(values) == 0:
        raise CLIError(f"{path}: column {column!r} is constant ({values[0]:g}); nothing to "
                       f"forecast")
    return Series(values, labels, data.parse_time(labels), column, time_column, path, source)


def _split(args, s):
    """The test and training sizes; CLIError when the training part is too short for the
    largest lag (with room for differencing, the outputs and a few windows to fit on)."""
    n = len(s.values)
    test = args.test if args.test < 1 else int(args.test)
    n_test = max(int(round(test * n)) if isinstance(test, float) else int(test), 1)
    m = n - n_test
    diff = None if args.diff == "auto" else int(args.diff)
    max_lag = max(args.lags)
    need_train = max(max_lag + (diff if diff is not None else 2)
                     + (args.horizon if args.direct else 1) + 7,
                     max_lag + 12, 20)
    if m < need_train:
        raise CLIError(f"{s.path}: column {s.column!r} has {n} values, {m} for training after a "
                       f"test part of {n_test}: too few for lags up to {max_lag} (need at least "
                       f"{need_train + n_test} values; try smaller --lags)")
    return Split(n_test, m, diff)


def _jobs(args):
    """--jobs, or None with a note when joblib is missing."""
    if args.jobs in (None, 1):
        return args.jobs
    try:
        import joblib  # noqa: F401
    except ImportError:
        print("fastrnn: note: joblib is not installed (pip install joblib): --jobs ignored, "
              "the candidates run one after another", file=sys.stderr)
        return None
    return args.jobs


def _words(values, f=str):
    return " ".join(f(v) for v in values)


def _print_series(s, sp):
    n = len(s.values)
    print(f"fastrnn {__version__} forecast: {s.source}")
    print(f"series: column {s.column!r}" + (f" (time: {s.time_column!r})" if s.time_column else "")
          + f", {n} values, {s.label(0)} .. {s.label(n - 1)}")
    print(f"split:  training {s.label(0)} .. {s.label(sp.n_train - 1)} ({sp.n_train} values), "
          f"test {s.label(sp.n_train)} .. {s.label(n - 1)} ({sp.n_test} values)")


def _print_plan(args, n_candidates, jobs):
    backend = args.backend or backends.default()
    print(f"fitting {n_candidates} RNN candidates (cells {_words(args.cells)}; units "
          f"{_words(args.units)}; lags {_words(args.lags)}; layers {_words(args.layers)}; "
          f"{_words(args.epochs)} epochs, Adam lr {_words(args.learning_rate, lambda v: f'{v:g}')}"
          f", batch {_words(args.batch_size)}"
          + (f", direct {args.horizon}-step outputs" if args.direct else "")
          + (f", {args.head} head" if getattr(args, "head", "point") != "point" else "")
          + f"; backend {backend}) and the baselines on {jobs or 1} job(s), seed {args.seed}",
          flush=True)


def _progress(args, t_start):
    """The per-candidate progress line (stderr), or nothing with --quiet."""
    def progress(done, total, rec):
        if args.quiet:
            return
        what = f"MSE {rec['mse']:.4g}" if math.isfinite(rec["mse"]) else (rec["error"] or "failed")
        fit = rec["fit_s"] if math.isfinite(rec["fit_s"]) else 0.0
        print(f"  [{done:>{len(str(total))}}/{total}] {rec['model']:<30} {what:<16} "
              f"fit {fit:.2f} s  ({time.perf_counter() - t_start:.0f} s)", file=sys.stderr,
              flush=True)
    return progress


def _select(args, s, sp, t_start):
    candidates = forecasting.grid(cells=args.cells, units=args.units, lags=args.lags,
                                  layers=args.layers, epochs=args.epochs,
                                  learning_rate=args.learning_rate, batch_size=args.batch_size,
                                  horizon=args.horizon if args.direct else 1,
                                  patience=args.patience, head=args.head,
                                  head_levels=args.level or (80, 95))
    jobs = _jobs(args)
    if jobs is not None:   # the workers select will start: at most the cores and the models
        jobs = worker_count(jobs, len(candidates) + 3)
    _check_memory(candidates, jobs, len(s.values))
    _print_series(s, sp)
    _print_plan(args, len(candidates), jobs)
    try:
        return forecasting.select(s.values, candidates, criterion=args.criterion, test=sp.n_test,
                                  diff=sp.diff, alpha=args.alpha, season=args.season,
                                  refit_every=args.refit_every, n_jobs=jobs, seed=args.seed,
                                  backend=args.backend, progress=_progress(args, t_start))
    except (ValueError, RuntimeError) as exc:
        raise CLIError(f"{s.path}: column {s.column!r}: {exc}") from None


def _print_selection(args, s, sp, sel):
    print()
    print("\n".join(tables.adf_lines(sel, sp.diff is None, args.alpha)))
    if sel.period:
        how = "given" if args.season else "detected from the autocorrelation"
        print(f"season: period {sel.period} ({how}) for the seasonal naive baseline")
    else:
        print("season: none detected (no seasonal naive baseline; --season N sets one)")
    print()
    how = ""
    if args.criterion == "mse":
        how = (" (forecasts from the true past" + (f", refitted every {args.refit_every} steps"
                                                   if args.refit_every else "") + ")")
    print(f"{len(sel.records)} models ranked by {tables.CRITERION_TEXT[args.criterion]}{how}.")
    print(f"AIC = -2 ln L + 2k, BIC = -2 ln L + k ln n: Gaussian ln L of the in-sample one-step "
          f"residuals\n(n = {sel.n_train - sel.t0}, from {s.label(sel.t0)}), k = parameters. "
          f"MSE on the {sp.n_test} test values. All in the series' units.")
    print(tables.format_table(sel))
    print()
    print("\n".join(tables.choice_lines(sel, args.criterion)))


def _future_labels(s, horizon):
    """(labels of the forecast steps, their time values or None)."""
    future = forecasting.future_index(s.times, horizon) if s.times is not None else None
    if future is not None:
        return [str(v) for v in future], future
    if s.labels is not None:
        return [f"+{h}" for h in range(1, horizon + 1)], None
    n = len(s.values)
    return [str(n + h) for h in range(horizon)], None


def _predict(args, s, sel):
    """The chosen model's forecast as a ``Prediction`` (with the bounds of --level), and the
    words saying how its intervals were made."""
    if not args.level:
        fc = np.asarray(sel.forecast(args.horizon, refit=not args.no_refit), np.float64)
        return forecasting.Prediction(fc), ""
    model = sel.models[sel.best_record["model"]]
    fitted = model.clone().fit(s.values) if not args.no_refit else model
    fc = np.asarray(fitted.forecast(s.values, args.horizon), np.float64)
    try:
        pred = fitted.with_intervals(fc, args.level)
    except ValueError as exc:
        raise CLIError(f"--level: {exc}") from None
    if getattr(fitted, "head", "point") != "point" and fitted.intervals is None:
        what = ", ".join(f"{lv:g}%" for lv in args.level)
        learned = ("a mean and a scale per step (Gaussian NLL), bounds mean -+ z sigma"
                   if fitted.head == "gaussian" else
                   "the 0.5 -+ L/200 quantiles per step (pinball loss)")
        return pred, f"intervals: {what}, from the network's {fitted.head} head: {learned}"
    return pred, tables.interval_text(fitted.interval_method(), args.level)


def _forecast(args, s, sel):
    pred, how = _predict(args, s, sel)
    fc = pred.mean
    labels, future = _future_labels(s, args.horizon)
    best = sel.best_record["model"]
    kind = "direct" if getattr(sel.models[best], "horizon", 1) > 1 else "recursive"
    refit = (f"refitted on all {len(s.values)} values" if not args.no_refit
             else "fitted on the training part")
    print(f"forecast: {args.horizon} steps ({kind}), {refit}")
    if how:
        print(how)
    columns = pred.to_dict()
    print("\n".join(tables.forecast_lines(labels, fc, s.time_column, s.column,
                                          {k: v for k, v in columns.items()
                                           if k != "forecast"})))
    if args.output:
        tables.write_forecast_csv(args.output, s.time_column or "step", labels, columns)
        print(f"output: {args.output}")
    if args.plot:
        bands = {lv: (pred.lo[lv], pred.hi[lv]) for lv in pred.levels}
        plot_forecast(args.plot, sel, s.values, s.times if future is not None else None, fc,
                      future, s.column, best, bands=bands)
        print(f"plot: {args.plot}")


def run_forecast(args):
    t_start = time.perf_counter()
    _check_options(args)
    _prepare_backend(args)
    if args.id_column:
        from fastrnn.cli.forecast_many import run_forecast_many

        return run_forecast_many(args, t_start)
    series = _read(args)
    split = _split(args, series)
    selection = _select(args, series, split, t_start)
    _print_selection(args, series, split, selection)
    _forecast(args, series, selection)
    print(f"done in {time.perf_counter() - t_start:.1f} s")
    return 0
