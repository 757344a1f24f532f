"""The `fastrnn` command.

    fastrnn forecast [CSV]  model selection and forecast for one series: the ADF test and the
                            differencing chosen, RNN candidates and baselines (naive, seasonal
                            naive, AR(p)) ranked by AIC, BIC and one-step MSE, the chosen model
                            and its forecast (default series: yearly sunspots, shipped)
    fastrnn info            version, backends built and available, threads, CPU features
    fastrnn bench           quick timing of the backends against the NumPy reference (and
                            PyTorch when installed) on the standard shapes
    fastrnn demo            the compiled backend against the reference, with an agreement check

Presentation only: the parser (parser.py), one module per command (forecast.py, info.py,
bench.py), the report's tables (tables.py) and the chart (plot.py). The work is done by
fastrnn.forecasting, fastrnn.data and fastrnn.benchmarking; their ValueErrors and
RuntimeErrors, and any MemoryError or OSError, become one-line messages and exit status 2
here (130 for Ctrl-C).
"""

from __future__ import annotations

import importlib
import sys

from fastrnn.cli._common import CLIError
from fastrnn.cli.parser import build_parser

__all__ = ["main", "build_parser", "CLIError"]

# command -> the module whose run_<command>(args) does it (imported only when chosen, so that
# `fastrnn info` does not load the forecasting wing)
_COMMANDS = {"forecast": "fastrnn.cli.forecast", "info": "fastrnn.cli.info",
             "bench": "fastrnn.cli.bench", "demo": "fastrnn.cli.bench"}


def main(argv=None):
    args = build_parser(__doc__.split("\n\n")[0]).parse_args(argv)
    try:
        module = importlib.import_module(_COMMANDS[args.command])
        return getattr(module, f"run_{args.command}")(args)
    except (CLIError, ValueError, RuntimeError) as exc:
        print(f"fastrnn: error: {exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print("fastrnn: error: out of memory (try fewer or smaller candidates: --units, "
              "--layers, --lags, --jobs; or a shorter series)", file=sys.stderr)
        return 2
    except OSError as exc:   # a disk that fills up, a file that vanishes, ...
        what = f"{exc.filename}: " if exc.filename else ""
        print(f"fastrnn: error: {what}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fastrnn: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
