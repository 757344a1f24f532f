"""Typed stubs of fastrnn.timeseries._kernels, the Cython hot loops (``_kernels.pyx``).

Used by ``fastrnn.timeseries.windows``, ``adf`` and ``smoothing`` only, which fall back to
NumPy when the module is absent. Arrays are C-contiguous; ``panel_windows`` and ``lag_matrix``
take float32 or float64 (one dtype per call), ``adf_many`` float64; index arrays are int64.
Outputs are written into the arrays passed in.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

_Real = NDArray[np.floating[Any]]
_Int64 = NDArray[np.int64]

def panel_windows(xin: _Real, yin: _Real, offsets: _Int64, counts: _Int64, lags: int,
                  horizon: int, stride: int, X: _Real, y: _Real, ids: _Int64) -> int:
    """Fill X (W, lags, Fx), y (W, horizon, Fy) and ids (W,) from the series of a panel;
    -> the number of windows written."""

def lag_matrix(x: _Real, maxlag: int, out: _Real) -> None:
    """out[t, j] = x[t + maxlag - j] for t < n - maxlag, j <= maxlag."""

def adf_many(X: NDArray[np.float64], ntrend: int, maxlag: int, method: int,
             stat: NDArray[np.float64], usedlag: _Int64, nobs: _Int64,
             icbest: NDArray[np.float64], status: _Int64, work: NDArray[np.float64]) -> None:
    """The ADF regression on every row of X (S, n); results in stat, usedlag, nobs, icbest and
    status (S,) each."""

def ses_sse(z: NDArray[np.float64], alphas: NDArray[np.float64], sse: NDArray[np.float64],
            level0: NDArray[np.float64]) -> None:
    """sse[k], level0[k]: SSE and least-squares l_0 of SES of z at alphas[k]."""
