"""`fastrnn forecast FILE.csv --id-column ID [ID ...]`: many series in the long format through
the default forecaster for a collection (``fastrnn.forecasting.auto``).

Covariates: ``--past-covariates``, ``--future-covariates`` and ``--static`` name number columns
of the file (read by the global RNN; the local models ignore them), and ``--future FILE.csv``
holds the future-known ones over the horizon: the same id and time columns, ``--horizon`` rows
per series, the times after each series' end.

The steps: read the long CSV (``fastrnn.data.read_long_csv``: ids and times as text) into a
panel (``read_panel``: sorted, duplicates and gaps reported, the seasonal period from the
frequency); print what the cleaning did; cross-validate, choose and forecast, with progress on
stderr; print the report (models, windows, validation accuracy of each, the choice); write
--output (the long format with lo-/hi- columns) and --plot (a grid of a few series), or print
the first forecasts.
"""

from __future__ import annotations

import sys
import time
import warnings

from fastrnn import data, forecasting
from fastrnn._version import __version__
from fastrnn.cli import tables
from fastrnn.cli._common import CLIError
from fastrnn.cli.plot import plot_collection
from fastrnn.forecasting.auto import forecast_collection
from fastrnn.forecasting.panel import read_future

MAX_NOTES = 10        # hygiene lines printed; the rest are counted
SHOWN_SERIES = 3      # series whose forecasts are printed without --output
PROGRESS_EVERY_S = 1.0


COVARIATE_OPTIONS = (("past_covariates", "--past-covariates"),
                     ("future_covariates", "--future-covariates"), ("static", "--static"),
                     ("future", "--future"))


def check_options(args):
    """The covariate options alone (called by ``fastrnn.cli.forecast`` before any work)."""
    given = [opt for attr, opt in COVARIATE_OPTIONS if getattr(args, attr, None)]
    if given and not args.id_column:
        raise CLIError(f"{given[0]} needs --id-column: covariates are read for many series "
                       f"in the long format")
    if getattr(args, "future_covariates", None) and not getattr(args, "future", None):
        raise CLIError("--future-covariates needs --future FILE.csv: their values over the "
                       "horizon (the id and time columns, --horizon rows per series)")
    if getattr(args, "future", None) and not getattr(args, "future_covariates", None):
        raise CLIError("--future needs --future-covariates: the columns of the file to read")


def _covariate_names(args):
    """(past, future, static) column names as given (empty tuples without them)."""
    return tuple(tuple(getattr(args, attr, None) or ()) for attr, _ in COVARIATE_OPTIONS[:3])


def _read(args):
    """The panel of the CSV file (with its covariate columns), and (past, future, static)
    covariate names as the file's header spells them."""
    if args.csv is None:
        raise CLIError("--id-column needs a CSV file in the long format (one row per series "
                       "and time)")
    time_col = args.time_column or "ds"
    value_col = args.column or "y"
    kinds = _covariate_names(args)
    extra = [c for names in kinds for c in names]
    cols = data.read_long_csv(args.csv, args.id_column, time_col, value_col, covariates=extra)
    names = list(cols)
    if len(names) != len(args.id_column) + 2 + len(extra):
        raise CLIError(f"{args.csv}: --id-column, --time-column, --column and the covariate "
                       f"options must name different columns, got "
                       f"{', '.join([*args.id_column, time_col, value_col, *extra])}")
    k = len(args.id_column)
    ids, time_name, value_name = names[:k], names[k], names[k + 1]
    spelled, at = [], k + 2              # the header's own spelling, kind by kind
    for group in kinds:
        spelled.append(tuple(names[at:at + len(group)]))
        at += len(group)
    past, future, static = spelled
    try:
        panel = forecasting.read_panel(cols, id_col=ids if len(ids) > 1 else ids[0],
                                       time_col=time_name, target_col=value_name,
                                       season=args.season, fill=args.fill,
                                       covariates=past + future, static=static)
    except ValueError as exc:
        raise CLIError(f"{args.csv}: {exc}") from None
    return panel, (past, future, static)


def _read_future(args, panel, future_cols):
    """The --future file as columns named like the data's (positions, not spellings), checked
    against the panel now, before any fitting."""
    ids = args.id_column
    try:
        cols = data.read_long_csv(args.future, ids, args.time_column or "ds", future_cols[0],
                                  covariates=future_cols[1:])
        if len(cols) != len(ids) + 1 + len(future_cols):
            raise ValueError("--id-column, --time-column and --future-covariates must name "
                             "different columns")
        named = dict(zip([*panel.id_cols, panel.time_col, *future_cols], cols.values()))
        read_future(panel, named, args.horizon, future_cols, name=f"--future {args.future}")
    except ValueError as exc:
        msg = str(exc)
        raise CLIError(msg if msg.startswith("--future") else
                       f"--future {args.future}: {msg}") from None
    return named


def _progress(args, t_start):
    """Progress lines on stderr (none with --quiet)."""
    if args.quiet:
        return None
    words = {"validation": "cross-validating", "forecast": "forecasting"}
    last = [0.0]

    def progress(stage, done, total):
        now = time.perf_counter()
        if done == total or now - last[0] >= PROGRESS_EVERY_S:   # a line a second at most
            last[0] = now
            print(f"  {words.get(stage, stage)}: {done}/{total} parts ({now - t_start:.0f} s)",
                  file=sys.stderr, flush=True)
    return progress


def _print_notes(panel):
    notes = panel.notes()
    for line in notes[:MAX_NOTES]:
        print(f"note: {line}")
    if len(notes) > MAX_NOTES:
        print(f"note: ... and {len(notes) - MAX_NOTES} more")


def run_forecast_many(args, t_start):
    """The many-series command (module docstring); its options were checked by
    ``fastrnn.cli.forecast``."""
    panel, (past, future, static) = _read(args)
    future_values = _read_future(args, panel, future) if future else None
    print(f"fastrnn {__version__} forecast: {args.csv}, {len(panel)} series in the long "
          f"format")
    _print_notes(panel)
    if past or future or static:
        said = "; ".join(f"{what} {', '.join(cols)}" for what, cols in (
            ("past", past), ("future-known", future), ("static", static)) if cols)
        print(f"covariates: {said} (read by the global RNN; the local models ignore them)")
    jobs = args.jobs if args.jobs is not None else 1
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            fc, report = forecast_collection(
                panel, args.horizon, level=args.level or None, n_windows=args.windows,
                n_jobs=jobs, seed=args.seed, progress=_progress(args, t_start),
                past_covariates=past, future_covariates=future, static=static,
                future=future_values)
    except ValueError as exc:
        raise CLIError(f"{args.csv}: {exc}") from None
    for w in caught:            # ours as notes (covariates no candidate reads); others as they were
        if issubclass(w.category, UserWarning) and "covariates" in str(w.message):
            print(f"note: {w.message}")
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    print("\n".join(report.lines()))
    columns = fc if isinstance(fc, dict) else {c: fc[c].tolist() for c in fc.columns}
    if args.output:
        tables.write_long_csv(args.output, columns)
        print(f"output: {args.output} ({len(panel)} series x {args.horizon} steps)")
    else:
        print(f"forecast: {args.horizon} steps; the first {min(SHOWN_SERIES, len(panel))} "
              f"series (--output writes all)")
        print("\n".join(tables.long_lines(columns, SHOWN_SERIES * args.horizon)))
    if args.plot:
        plot_collection(args.plot, panel, columns, report)
        print(f"plot: {args.plot}")
    print(f"done in {time.perf_counter() - t_start:.1f} s")
    return 0


__all__ = ["check_options", "run_forecast_many"]
