"""The performance targets of bench/TARGETS.md, as numbers the benchmark scripts print against.

One home: report.py, bench_numba.py, bench_fit.py, bench_timeseries.py and bench_cuda.py read
them from here (the standard shapes are fastrnn.benchmarking.STANDARD_SHAPES); a test
(tests/cli/test_bench_targets.py) checks that TARGETS.md states the same numbers. Scripts in
bench/ import this module as ``targets`` (bench/ is on sys.path both under pytest and when a
script runs).
"""

from __future__ import annotations

from fastrnn import cells

# PyTorch time / fastrnn time, per (shape, cell); shapes without an entry have none.
TORCH_RATIO = {
    **{("infer-b1", c): 40.0 for c in cells.NAMES},
    ("train-small", cells.ELMAN.name): 15.0,
    ("train-small", cells.LSTM.name): 5.0,
    ("train-small", cells.GRU.name): 10.0,
}

# infer-b1: the cpp call's time / an empty binding call's (bench/bench_cells.py "floor"), at most.
INFER_FLOOR_RATIO = 2.0

# The cpp backend's FLOP rate as a share of the machine's large-sgemm rate (same run), per
# shape, every cell.
SGEMM_SHARE = {"train-small": 0.65, "train-medium": 0.75, "train-large": 0.85}

# numba time / cpp time, at most, on these shapes.
NUMBA_WITHIN = 3.0
NUMBA_SHAPES = ("train-small", "train-medium")

# fit-seed: peer epoch time / fastrnn epoch time, every cell.
FIT_SEED = {"torch": 50.0, "keras": 250.0}

# ADF: statsmodels' adfuller time / fastrnn's at n = 100,000 with autolag="AIC", and the
# seconds for 1,000 series of 500 points.
ADF_RATIO = 20.0
ADF_PANEL_SECONDS = 0.1

# CUDA, against cuDNN in the same run.
CUDA_US_PER_STEP = 1.0        # forward, H <= 128 and B <= 64
CUDA_BACKWARD_RATIO = 2.0     # cuDNN / fastrnn, backward at H 129-256
CUDA_LARGE_RATIO = 1.0        # cuDNN / fastrnn at train-large


def torch_ratio(shape, cell):
    """The PyTorch / fastrnn target of (shape, cell), or None."""
    return TORCH_RATIO.get((shape, cell))


def sgemm_share(shape):
    """The target share of the sgemm rate at `shape` (0-1), or None."""
    return SGEMM_SHARE.get(shape)
