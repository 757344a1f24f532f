"""The seasonal period of a series.

Today the period is read from the autocorrelation (``detect_period``). A period read from the
frequency of the time labels (12 for monthly, 4 quarterly, ...) belongs here too, beside it,
with the autocorrelation as the fallback for labels that carry no frequency.
"""

from __future__ import annotations

import numpy as np

__all__ = ["detect_period"]


def detect_period(x, d=0, max_period=None, min_period=2):
    """The seasonal period of x: the lag (in min_period..max_period) of the highest local
    maximum of the autocorrelation of the order-d differences, when that maximum is at least
    0.2 and above the 3/sqrt(n) band (stricter than the usual 2/sqrt(n), which white noise
    crosses somewhere among many lags); None when there is none. Default
    ``max_period = n // 3``."""
    z = np.asarray(x, np.float64)
    z = np.diff(z, d) if d else z
    z = z - z.mean()
    n = z.shape[0]
    hi = n // 3 if max_period is None else min(int(max_period), n - 2)
    if hi < min_period + 1 or not np.any(z):
        return None
    denom = float(z @ z)
    r = np.array([float(z[:n - k] @ z[k:]) / denom for k in range(hi + 2)])
    best, best_r = None, max(0.2, 3.0 / np.sqrt(n))
    for k in range(max(min_period, 2), hi + 1):
        if r[k] > r[k - 1] and r[k] >= r[k + 1] and r[k] > best_r:
            best, best_r = k, r[k]
    return best
