"""The seasonal period of a series.

The period comes from the frequency of the time labels when they have one
(``period_from_frequency``: 12 monthly, 4 quarterly, 52 weekly, 7 daily, 5 business days,
24 hourly, 1 yearly), and from the autocorrelation (``detect_period``) only for labels that
carry no calendar (integer steps, or none); ``seasonal_period`` applies that order, after a
period given by the caller.
"""

from __future__ import annotations

import math
import numbers
import re

import numpy as np

__all__ = ["detect_period", "period_from_frequency", "seasonal_period"]

# Base periods: one cycle of the next calendar unit up (a year of months, quarters or weeks;
# a week of days; a day of hours).
_WORDS = {"yearly": "Y", "annual": "Y", "quarterly": "Q", "monthly": "M", "weekly": "W",
          "daily": "D", "hourly": "h"}
_UNITS = {"Y": ("month", 12), "A": ("month", 12), "Q": ("month", 3), "M": ("month", 1),
          "W": ("day", 7), "D": ("day", 1), "B": ("bday", 1), "h": ("second", 3600),
          "H": ("second", 3600), "min": ("second", 60), "T": ("second", 60),
          "s": ("second", 1), "S": ("second", 1)}


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


def _unit_step(freq):
    """(unit, step) of a frequency name ("M", "QE", "W-SUN", "30min", "2h", ...), None for
    integer steps; ValueError when unknown."""
    text = str(getattr(freq, "name", None) or getattr(freq, "freqstr", None) or freq).strip()
    text = _WORDS.get(text.lower(), text)
    if text.lower().startswith("step"):
        return None
    m = re.fullmatch(r"(\d*)\s*([A-Za-z]+)(?:-[A-Za-z]+)?", text)
    base = m.group(2) if m else ""
    if base not in _UNITS and base[-1:] in ("S", "E") and base[:-1] in ("M", "Q", "Y", "A"):
        base = base[:-1]                            # pandas' anchors: MS, QE, YS, ...
    if base not in _UNITS:
        raise ValueError(f"freq must be a frequency such as 'D', 'W', 'M', 'Q', 'Y', 'h', "
                         f"'B', 'step' or observations per cycle (12, 52.18), got {freq!r}")
    unit, step = _UNITS[base]
    return unit, step * int(m.group(1) or 1)


def period_from_frequency(freq):
    """The seasonal period of labels of frequency `freq`: "Y" 1, "Q" 4, "M" 12, "W" 52 (a
    year of weeks, 52.18 rounded down), "D" 7, "B" 5, "h" 24, and multiples where they
    divide the cycle ("6M" 2, "2W" 26, "30min" 48); None for integer steps ("step") and for
    grids without a whole cycle ("3D"). A number is read as R's ``frequency()``, the
    observations per cycle, rounded down (52.18 -> 52). Accepts pandas' aliases (MS, QE,
    W-SUN, ...) and ``fastrnn.data``'s ``Frequency``."""
    if isinstance(freq, numbers.Real) and not isinstance(freq, bool):
        if not math.isfinite(freq) or freq < 1:
            raise ValueError(f"freq must be at least 1 observation per cycle, got {freq!r}")
        return math.floor(float(freq) + 1e-9)
    us = _unit_step(freq)
    if us is None:
        return None
    unit, step = us
    if unit == "month":
        return 1 if step >= 12 else 12 // step if 12 % step == 0 else None
    if unit == "day":
        if step == 1:
            return 7
        return 52 // (step // 7) if step % 7 == 0 and 52 % (step // 7) == 0 else None
    if unit == "bday":
        return 5 if step == 1 else None
    return 86400 // step if step % 60 == 0 and 86400 % step == 0 else None


def seasonal_period(x=None, freq=None, season=None, d=0):
    """The seasonal period to use: `season` when given (a positive int); else the period of
    `freq` (``period_from_frequency``) when the labels have a calendar; else, for integer
    steps or no labels, ``detect_period(x, d)`` (None without `x`). None: no seasonality."""
    if season is not None:
        if isinstance(season, bool) or not isinstance(season, numbers.Integral) or season < 1:
            raise ValueError(f"season must be a positive int or None, got {season!r}")
        return int(season)
    if freq is not None and _unit_step(freq) is not None:
        return period_from_frequency(freq)
    return None if x is None else detect_period(x, d)
