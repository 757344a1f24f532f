"""Timing of model selection on the shipped sunspots series (the work of `fastrnn forecast`).

pytest-benchmark suite (benchmarks are disabled by the project's pytest config by default):

    OMP_NUM_THREADS=1 python -m pytest bench/bench_selection.py --benchmark-enable

One run, printed (sequential, joblib workers, per-candidate fit times):

    OMP_NUM_THREADS=1 python bench/bench_selection.py

Count before you code: one candidate of the default grid (cell of 8-16 units, lags 6-24,
~230 windows, batch 32, 100 epochs) is ~800 training steps of a (32, lags, 1) batch: a few
hundred kFLOP each, so per-step overhead (Python + kernel calls, ~0.1-0.3 ms) is the cost,
about 0.1-0.5 s per candidate; 18 candidates -> a few seconds on one core.
"""

from __future__ import annotations

import sys
import time

import pytest

from fastrnn import cells
from fastrnn.data import load_sunspots
from fastrnn.forecasting import grid, select

DEFAULT_GRID = dict(cells=cells.NAMES, units=(8, 16), lags=(6, 12, 24))


def _run(n_jobs=None, **kw):
    x = load_sunspots().values
    return select(x, grid(**(kw or DEFAULT_GRID)), n_jobs=n_jobs, seed=0)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_select_sunspots_default_grid(benchmark, n_jobs):
    benchmark.group = "select-sunspots"
    benchmark.extra_info["n_jobs"] = n_jobs
    sel = benchmark.pedantic(_run, kwargs={"n_jobs": n_jobs}, rounds=1, iterations=1)
    assert len(sel.records) == 21


def main(argv):
    for n_jobs in (1, 2):
        t = time.perf_counter()
        sel = _run(n_jobs)
        wall = time.perf_counter() - t
        fits = sum(r["fit_s"] for r in sel.records)
        print(f"n_jobs={n_jobs}: {wall:.2f} s wall, {fits:.2f} s of fits, best "
              f"{sel.records[0]['model']} (MSE {sel.records[0]['mse']:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
