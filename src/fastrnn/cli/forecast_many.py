"""`fastrnn forecast FILE.csv --id-column ID [ID ...]`: many series in the long format through
the default forecaster for a collection (``fastrnn.forecasting.auto``).

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

from fastrnn import data, forecasting
from fastrnn._version import __version__
from fastrnn.cli import tables
from fastrnn.cli._common import CLIError
from fastrnn.cli.plot import plot_collection
from fastrnn.forecasting.auto import forecast_collection

MAX_NOTES = 10        # hygiene lines printed; the rest are counted
SHOWN_SERIES = 3      # series whose forecasts are printed without --output
PROGRESS_EVERY_S = 1.0


def _read(args):
    """The panel of the CSV file, and the names of its id, time and value columns."""
    if args.csv is None:
        raise CLIError("--id-column needs a CSV file in the long format (one row per series "
                       "and time)")
    time_col = args.time_column or "ds"
    value_col = args.column or "y"
    cols = data.read_long_csv(args.csv, args.id_column, time_col, value_col)
    names = list(cols)
    if len(names) != len(args.id_column) + 2:
        raise CLIError(f"{args.csv}: --id-column, --time-column and --column must name "
                       f"different columns, got {', '.join(args.id_column)}, {time_col}, "
                       f"{value_col}")
    ids, time_name, value_name = names[:-2], names[-2], names[-1]
    try:
        panel = forecasting.read_panel(cols, id_col=ids if len(ids) > 1 else ids[0],
                                       time_col=time_name, target_col=value_name,
                                       season=args.season, fill=args.fill)
    except ValueError as exc:
        raise CLIError(f"{args.csv}: {exc}") from None
    return panel


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
    panel = _read(args)
    print(f"fastrnn {__version__} forecast: {args.csv}, {len(panel)} series in the long "
          f"format")
    _print_notes(panel)
    jobs = args.jobs if args.jobs is not None else 1
    try:
        fc, report = forecast_collection(panel, args.horizon, level=args.level or None,
                                         n_windows=args.windows, n_jobs=jobs, seed=args.seed,
                                         progress=_progress(args, t_start))
    except ValueError as exc:
        raise CLIError(f"{args.csv}: {exc}") from None
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


__all__ = ["run_forecast_many"]
