"""`fastrnn forecast`: read one series, select among RNN candidates and baselines, forecast.

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

from fastrnn import _params, backends, data, forecasting
from fastrnn._version import __version__
from fastrnn.cli import tables
from fastrnn.cli._common import CLIError, check_available, set_threads
from fastrnn.cli.plot import have_matplotlib, plot_forecast


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
    _params.positive_int(args.horizon, "--horizon")
    if args.jobs is not None and args.jobs == 0:
        raise CLIError("--jobs must not be 0 (use 1, N, or -1 for all cores)")


def _prepare_backend(args):
    """Threads first (the compiled core reads OMP_NUM_THREADS when it loads), then the
    backend asked for must be able to run here."""
    threads = args.threads
    if threads is None and "OMP_NUM_THREADS" not in os.environ:
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
    values, labels, column, time_column = data.read_series_csv(path, args.column,
                                                               args.time_column)
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
    _print_series(s, sp)
    candidates = forecasting.grid(cells=args.cells, units=args.units, lags=args.lags,
                                  layers=args.layers, epochs=args.epochs,
                                  learning_rate=args.learning_rate, batch_size=args.batch_size,
                                  horizon=args.horizon if args.direct else 1,
                                  patience=args.patience)
    jobs = _jobs(args)
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


def _forecast(args, s, sel):
    fc = np.asarray(sel.forecast(args.horizon, refit=not args.no_refit), np.float64)
    labels, future = _future_labels(s, args.horizon)
    best = sel.best_record["model"]
    kind = "direct" if getattr(sel.models[best], "horizon", 1) > 1 else "recursive"
    refit = (f"refitted on all {len(s.values)} values" if not args.no_refit
             else "fitted on the training part")
    print(f"forecast: {args.horizon} steps ({kind}), {refit}")
    print("\n".join(tables.forecast_lines(labels, fc, s.time_column, s.column)))
    if args.plot:
        plot_forecast(args.plot, sel, s.values, s.times if future is not None else None, fc,
                      future, s.column, best)
        print(f"plot: {args.plot}")


def run_forecast(args):
    t_start = time.perf_counter()
    _check_options(args)
    _prepare_backend(args)
    series = _read(args)
    split = _split(args, series)
    selection = _select(args, series, split, t_start)
    _print_selection(args, series, split, selection)
    _forecast(args, series, selection)
    print(f"done in {time.perf_counter() - t_start:.1f} s")
    return 0
