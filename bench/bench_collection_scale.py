"""How `forecast_collection` scales: a synthetic collection of many series (default 10,000 of
100 quarterly values: seasonal random walks) through the default forecaster for a collection
with the classical baselines (naive, seasonal naive, drift, Theta), on joblib and optionally on
a Dask LocalCluster, with the wall time of each stage.

    PYTHONPATH=src python bench/bench_collection_scale.py --series 10000 --length 100 --jobs 2
    PYTHONPATH=src python bench/bench_collection_scale.py --series 10000 --dask

Wall times on a shared machine are provisional; the Dask run must agree with the joblib one
(same choice and forecasts), which is checked.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from fastrnn.forecasting.auto import forecast_collection
from fastrnn.forecasting.local import standard_baselines
from fastrnn.forecasting.panel import read_panel


def collection(n_series, n, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    scale = rng.uniform(1, 50, (n_series, 1))
    y = 1000 + scale * (5 * np.sin(2 * np.pi * t / 4)[None, :]
                        + np.cumsum(rng.normal(0, 1, (n_series, n)), axis=1))
    return {"unique_id": np.repeat(np.arange(n_series), n), "ds": np.tile(t, n_series),
            "y": y.ravel()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=10_000)
    ap.add_argument("--length", type=int, default=100)
    ap.add_argument("--horizon", type=int, default=8)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--dask", action="store_true", help="also on a 2-worker LocalCluster")
    args = ap.parse_args()
    data = collection(args.series, args.length)
    tracemalloc.start()
    t0 = time.perf_counter()
    panel = read_panel(data, season=4)
    t_read = time.perf_counter() - t0
    stages = {}

    def progress(stage, done, total):
        stages[stage] = time.perf_counter() - t0

    fc, rep = forecast_collection(panel, args.horizon, level=[80, 95], n_jobs=args.jobs,
                                  models=standard_baselines(), progress=progress)
    wall = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{args.series} series x {args.length} values, h={args.horizon}, jobs={args.jobs}: "
          f"read {t_read:.1f} s, validation done at {stages.get('validation', 0):.1f} s, "
          f"forecasts at {stages.get('forecast', 0):.1f} s, total {wall:.1f} s; peak traced "
          f"memory {peak / 2**20:.0f} MiB; chosen {rep.chosen}")
    print("\n".join(rep.lines()[1:]))
    if args.dask:
        import joblib
        from dask import distributed

        with distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                      dashboard_address=None) as cluster, \
                distributed.Client(cluster), joblib.parallel_backend("dask"):
            t1 = time.perf_counter()
            fc2, rep2 = forecast_collection(panel, args.horizon, level=[80, 95], n_jobs=2,
                                            models=standard_baselines())
            t_dask = time.perf_counter() - t1
        same = rep2.chosen == rep.chosen and all(
            np.array_equal(np.asarray(fc[c]), np.asarray(fc2[c])) for c in fc)
        print(f"dask LocalCluster (2 processes): {t_dask:.1f} s; identical to joblib: {same}")


if __name__ == "__main__":
    main()
