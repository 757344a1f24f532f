"""The command line: every command's options, their defaults and what values they take.

Choices come from their tables (cells from fastrnn.cells, backends from the registry, shapes
from fastrnn.benchmarking), so a new cell or backend is offered without an edit here. Only
the form of a value is checked here; what it means for the series is checked by the commands.
"""

from __future__ import annotations

import argparse

from fastrnn import _params, backends, cells
from fastrnn._version import __version__
from fastrnn.benchmarking import STANDARD_SHAPES

__all__ = ["build_parser", "positive_int", "split_size"]

CRITERIA = ("mse", "aic", "bic")


def positive_int(s):
    """argparse type: an int >= 1."""
    try:
        return _params.positive_int(int(s), "value")
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive int, got {s}") from None


def split_size(s):
    """argparse type: a fraction in (0, 1) or a whole count >= 1 (as a float)."""
    v = float(s)
    if not (0 < v < 1 or (v >= 1 and v == int(v))):
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1) or a count, got {s}")
    return v


def _add_forecast(sub):
    fc = sub.add_parser("forecast", help="model selection and forecast for one series",
                        description="Choose among RNN candidates and baselines by AIC, BIC or "
                        "one-step MSE, and forecast. Without CSV: the shipped yearly sunspot "
                        "numbers 1700-2008 (NGDC/NOAA, public domain).")
    fc.add_argument("csv", nargs="?", help="a CSV file with a header, at most 100,000 values "
                    "(default: the shipped sunspots series); with --id-column a long-format "
                    "file of many series")
    fc.add_argument("--id-column", nargs="+", metavar="ID", default=None,
                    help="many series in the long format (one row per series and time): the "
                    "column(s) naming the series; the default forecaster for a collection "
                    "(cross-validated baselines, Theta, AR, the global RNN, combinations)")
    fc.add_argument("--windows", type=positive_int, default=3, help="with --id-column: "
                    "cross-validation windows per series (default 3)")
    fc.add_argument("--fill", choices=("interpolate", "ffill", "zero"), default=None,
                    help="with --id-column: how to fill missing values and calendar gaps "
                    "(default: they are an error)")
    fc.add_argument("--past-covariates", nargs="+", metavar="COL", default=None,
                    help="with --id-column: number columns observed with the values, unknown "
                    "ahead (read by the global RNN; the local models ignore covariates)")
    fc.add_argument("--future-covariates", nargs="+", metavar="COL", default=None,
                    help="with --id-column: number columns known ahead; their values over "
                    "the horizon come from --future")
    fc.add_argument("--static", nargs="+", metavar="COL", default=None,
                    help="with --id-column: number columns constant within each series")
    fc.add_argument("--future", metavar="FILE.csv", default=None,
                    help="with --future-covariates: a long-format CSV with the id and time "
                    "columns and the future covariates, --horizon rows per series (the "
                    "times after each series' end)")
    fc.add_argument("--column", help="the value column (default: the first that is not the "
                    "time column; with --id-column: y)")
    fc.add_argument("--time-column", help="the time column (default: the first column when it "
                    "is named like date/year/time or holds non-numbers; with --id-column: ds)")
    fc.add_argument("--horizon", type=int, default=10, help="steps to forecast (default 10, "
                    "at most 10000)")
    fc.add_argument("--direct", action="store_true", help="train the RNNs with --horizon "
                    "outputs (direct multi-step) instead of recursive one-step models")
    fc.add_argument("--head", choices=("point", "gaussian", "quantile"), default="point",
                    help="the RNNs' output head: point (MSE, the default), gaussian (a mean "
                    "and a scale per step, Gaussian NLL) or quantile (pinball loss on the "
                    "--level quantiles); with --level an RNN's intervals are its head's "
                    "(needs --direct for --horizon > 1)")
    fc.add_argument("--cells", nargs="+", default=list(cells.NAMES), choices=cells.NAMES)
    fc.add_argument("--units", nargs="+", type=positive_int, default=[8, 16])
    fc.add_argument("--lags", nargs="+", type=positive_int, default=[6, 12, 24])
    fc.add_argument("--layers", nargs="+", type=positive_int, default=[1])
    fc.add_argument("--epochs", nargs="+", type=positive_int, default=[100])
    fc.add_argument("--learning-rate", nargs="+", type=float, default=[0.01])
    fc.add_argument("--batch-size", nargs="+", type=positive_int, default=[32])
    fc.add_argument("--patience", type=positive_int, default=None,
                    help="early stopping on the last 15%% of the training windows")
    fc.add_argument("--criterion", choices=CRITERIA, default="mse")
    fc.add_argument("--test", type=split_size, default=0.2,
                    help="test part: a fraction or a count of the last values (default 0.2)")
    fc.add_argument("--diff", choices=["auto", "0", "1", "2"], default="auto",
                    help="order of differencing (default: by the ADF test)")
    fc.add_argument("--alpha", type=float, default=0.05, help="ADF test level, in (0, 1] "
                    "(default 0.05)")
    fc.add_argument("--season", type=positive_int, default=None,
                    help="seasonal period (default: detected; with --id-column: from the "
                    "frequency of the time column)")
    fc.add_argument("--refit-every", type=positive_int, default=None,
                    help="rolling-origin refit every R test steps for the MSE")
    fc.add_argument("--no-refit", action="store_true", help="forecast from the model fitted "
                    "on the training part (default: refit it on the whole series)")
    fc.add_argument("--backend", choices=backends.NAMES, default=None)
    fc.add_argument("--jobs", type=int, default=None, help="parallel jobs (joblib; -1: all "
                    "cores)")
    fc.add_argument("--threads", type=int, default=None, help="threads per fit (default 1 "
                    "unless OMP_NUM_THREADS is set)")
    fc.add_argument("--seed", type=int, default=0)
    fc.add_argument("--level", nargs="+", type=float, default=None, metavar="L",
                    help="prediction intervals at these levels in percent, e.g. 80 95 "
                    "(analytic for the baselines, conformal for the RNNs)")
    fc.add_argument("--output", metavar="OUT.csv", help="write the forecast as CSV: the time "
                    "column, forecast, and lo-L, hi-L per --level")
    fc.add_argument("--plot", metavar="FILE.png", help="write a PNG of history, test-period "
                    "predictions and forecast, with a band per --level (needs matplotlib)")
    fc.add_argument("--quiet", action="store_true", help="no progress lines")


def _add_bench(sub):
    bench = sub.add_parser("bench", help="time the backends against the reference and PyTorch")
    bench.add_argument("--backends", nargs="+", choices=backends.NAMES, default=None,
                       help="default: every available backend but numpy")
    bench.add_argument("--shapes", nargs="+", default=["infer-b1", "train-small"],
                       choices=list(STANDARD_SHAPES))
    bench.add_argument("--cells", nargs="+", choices=cells.NAMES, default=None)
    bench.add_argument("--threads", type=int, default=None, help="OMP_NUM_THREADS and torch "
                       "threads (default: as set)")
    bench.add_argument("--no-torch", action="store_true", help="skip PyTorch")

    demo = sub.add_parser("demo", help="time the compiled backend against the reference")
    demo.add_argument("--backend", choices=backends.NAMES, default=None)
    demo.add_argument("--shapes", nargs="+", default=["infer-b1", "train-small", "train-medium"],
                      choices=list(STANDARD_SHAPES))


def build_parser(description="fastrnn: fast RNNs for time series"):
    parser = argparse.ArgumentParser(prog="fastrnn", description=description)
    parser.add_argument("--version", action="version", version=f"fastrnn {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_forecast(sub)
    sub.add_parser("info", help="version, backends, threads, CPU features")
    _add_bench(sub)
    return parser
