"""One series made fit to forecast: in time order, one value per time, no holes, and a report
of everything that was done to it.

    times = parse_times(labels)
    ticks, y, cols, report = clean_series(times.ticks, values, times=times, fill="interpolate")

In order, each step with its message (``SeriesReport.notes()``):

1. Order. Rows are sorted oldest-first (stable); a series written newest-first is reversed
   and said to be, so that it is never forecast backwards.
2. Duplicates. Two rows with the same time are an error naming the times, unless
   ``duplicates=`` is an explicit choice: "first", "last", "mean" or "sum" (of the values
   present).
3. Leading and trailing missing values (the series starts later or ends earlier than the
   table) are dropped and counted; its calendar is its own.
4. Gaps. On the series' frequency (the greatest common step of its times, or the one given),
   every absent time is a gap: a row with a missing value is inserted there.
5. Missing values (inside the series and in the gaps) are an error that counts them and
   names the first, unless ``fill=`` says how to fill them: "interpolate" (linear in
   time between the neighbours), "ffill" (the last value before) or "zero".

Extra columns (covariates) go through the same steps beside the values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fastrnn.data.timeaxis import Frequency

__all__ = ["DUPLICATES", "FILLS", "SeriesReport", "clean_series"]

FILLS = ("interpolate", "ffill", "zero")
DUPLICATES = ("error", "first", "last", "mean", "sum")


@dataclass(frozen=True)
class SeriesReport:
    """What ``clean_series`` found and did to one series."""

    name: str
    rows: int                 # rows given
    n: int                    # values after cleaning
    frequency: object         # fastrnn.data.Frequency, or None (fewer than two times)
    order: str                # "ascending", "newest-first" or "unordered"
    duplicates: int           # rows merged into another (0 unless duplicates= chose how)
    leading_missing: int      # missing values before the first value, dropped
    trailing_missing: int     # missing values after the last value, dropped
    missing: int              # missing values among the rows kept
    gaps: int                 # times absent from the frequency's grid, inserted
    fill: str | None          # how missing values and gaps were filled
    start: str = ""           # the first and last time, as written
    end: str = ""
    duplicates_how: str = "error"

    def notes(self):
        """One line per thing done to the series (none when it was clean)."""
        out = []
        if self.order == "newest-first":
            out.append(f"{self.name}: rows were newest-first; sorted oldest-first")
        elif self.order == "unordered":
            out.append(f"{self.name}: rows were out of time order; sorted")
        if self.duplicates:
            out.append(f"{self.name}: {self.duplicates} duplicate row(s) merged "
                       f"(duplicates={self.duplicates_how!r})")
        if self.leading_missing:
            out.append(f"{self.name}: {self.leading_missing} leading missing value(s) dropped "
                       f"(the series starts at {self.start})")
        if self.trailing_missing:
            out.append(f"{self.name}: {self.trailing_missing} trailing missing value(s) dropped"
                       f" (the series ends at {self.end})")
        if self.missing or self.gaps:
            out.append(f"{self.name}: {self.missing} missing value(s) and {self.gaps} calendar "
                       f"gap(s) filled by fill={self.fill!r}")
        return out


def _order(ticks):
    d = np.diff(ticks)
    if np.all(d >= 0):
        return "ascending", np.arange(ticks.shape[0])
    if np.all(d <= 0):
        return "newest-first", np.arange(ticks.shape[0])[::-1].copy()
    return "unordered", np.argsort(ticks, kind="stable")


def _merge(ticks, arrays, how):
    """One row per time: `how` in first/last/mean/sum over the rows of each time (missing
    values left out; a time with none stays missing)."""
    uniq, first, counts = np.unique(ticks, return_index=True, return_counts=True)
    if how == "first":
        return uniq, [a[first] for a in arrays]
    if how == "last":
        return uniq, [a[first + counts - 1] for a in arrays]
    group = np.repeat(np.arange(uniq.shape[0]), counts)
    out = []
    for a in arrays:
        ok = np.isfinite(a)
        total = np.bincount(group, weights=np.where(ok, a, 0.0), minlength=uniq.shape[0])
        n = np.bincount(group, weights=ok.astype(np.float64), minlength=uniq.shape[0])
        with np.errstate(invalid="ignore", divide="ignore"):
            v = total / n if how == "mean" else total
        out.append(np.where(n > 0, v, np.nan))
    return uniq, out


def _fill(a, how):
    miss = ~np.isfinite(a)
    if not miss.any():
        return a
    if how == "zero":
        return np.where(miss, 0.0, a)
    ok = np.flatnonzero(~miss)
    if ok.size == 0:
        return a
    pos = np.arange(a.shape[0])
    if how == "interpolate":
        return np.interp(pos, ok, a[ok])
    last = np.maximum.accumulate(np.where(miss, -1, pos))     # ffill
    return np.where(last >= 0, a[np.maximum(last, 0)], np.nan)


def _labels(times, ticks, k=3):
    if times is None or len(ticks) == 0:
        return [str(int(t)) for t in ticks[:k]]
    return [str(v) for v in list(times.write(np.asarray(ticks[:k], np.int64)))]


def clean_series(ticks, values, *, times=None, frequency=None, fill=None, duplicates="error",
                 name="series", columns=None):
    """Sort, merge duplicates, drop leading and trailing missing values, insert the calendar's gaps and
    fill missing values of one series (see the module's docstring).

    ticks      int64 (n,): its times on their grid (rows of ``TimeLabels.ticks``)
    values     float (n,): its values, NaN for missing
    times      the ``TimeLabels`` the ticks come from: their unit, and how messages write
               times (None: integer steps, written as numbers)
    frequency  a ``Frequency`` (None: the greatest common step of the times)
    fill       None (missing values are an error), "interpolate", "ffill" or "zero"
    duplicates "error", "first", "last", "mean" or "sum"
    name       the series, as messages should call it
    columns    {name: float (n,)} extra columns treated like the values

    Returns (ticks (m,), values (m,), columns, SeriesReport). Raises ValueError."""
    if fill not in (None, *FILLS):
        raise ValueError(f"fill must be None, 'interpolate', 'ffill' or 'zero', got {fill!r}")
    if duplicates not in DUPLICATES:
        raise ValueError(f"duplicates must be 'error', 'first', 'last', 'mean' or 'sum', got "
                         f"{duplicates!r}")
    ticks = np.asarray(ticks, np.int64)
    y = np.asarray(values, np.float64)
    if ticks.shape != y.shape or ticks.ndim != 1:
        raise ValueError(f"{name}: {ticks.shape[0]} times for {y.shape[0]} values")
    if y.shape[0] == 0:
        raise ValueError(f"{name}: no rows")
    names = list(columns or {})
    arrays = [y] + [np.asarray(columns[c], np.float64) for c in names]
    rows = y.shape[0]

    order, idx = _order(ticks)
    ticks, arrays = ticks[idx], [a[idx] for a in arrays]

    merged = 0
    same = ticks[1:] == ticks[:-1]
    if same.any():
        uniq, counts = np.unique(ticks, return_counts=True)
        dup = uniq[counts > 1]
        if duplicates == "error":
            shown = ", ".join(f"{lbl} ({c} rows)" for lbl, c in
                              zip(_labels(times, dup), counts[counts > 1][:3]))
            raise ValueError(f"{name}: {dup.shape[0]} time(s) with more than one row: {shown}"
                             f"{' ...' if dup.shape[0] > 3 else ''}; keep one row per time or "
                             f"pass duplicates='first', 'last', 'mean' or 'sum'")
        merged = int(same.sum())
        ticks, arrays = _merge(ticks, arrays, duplicates)

    ok = np.isfinite(arrays[0])
    if not ok.any():
        raise ValueError(f"{name}: no values (all {rows} missing)")
    lead = int(np.argmax(ok))
    stop = ok.shape[0] - int(np.argmax(ok[::-1]))
    trail = ok.shape[0] - stop
    ticks, arrays = ticks[lead:stop], [a[lead:stop] for a in arrays]
    holes = np.flatnonzero(~np.isfinite(arrays[0]))
    missing = int(holes.size)
    first_missing = ticks[holes[0]] if missing else None

    gaps = 0
    if frequency is None and ticks.shape[0] >= 2:
        frequency = Frequency(times.unit if times is not None else "step",
                              int(np.gcd.reduce(np.diff(ticks))))
    if frequency is not None:
        step = int(frequency.step)
        off = ticks - ticks[0]
        if np.any(off % step):
            bad = ticks[np.flatnonzero(off % step)[0]]
            raise ValueError(f"{name}: time {_labels(times, [bad])[0]} is not on the "
                             f"{frequency.name} grid that starts at "
                             f"{_labels(times, ticks[:1])[0]}")
        pos = off // step
        full = int(pos[-1]) + 1
        gaps = full - ticks.shape[0]
        if gaps:
            grown = []
            for a in arrays:
                b = np.full(full, np.nan)
                b[pos] = a
                grown.append(b)
            arrays = grown
            first_gap = ticks[np.flatnonzero(np.diff(pos) > 1)[0]] + step
            ticks = ticks[0] + step * np.arange(full, dtype=np.int64)

    if (missing or gaps) and fill is None:
        where = []
        if missing:
            where.append(f"first missing at {_labels(times, [first_missing])[0]}")
        if gaps:
            where.append(f"first gap at {_labels(times, [first_gap])[0]}")
        raise ValueError(f"{name}: {missing} missing value(s) and {gaps} calendar gap(s) "
                         f"on its {frequency.name if frequency else ''} grid"
                         f" ({'; '.join(where)}); fill them with fill='interpolate', "
                         f"'ffill' or 'zero', or clean the data first")
    arrays = [_fill(a, fill) if fill else a for a in arrays]
    for c, a in zip(names, arrays[1:]):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name}: column {c!r} has missing values; pass fill= or fill "
                             f"them first")
    start, end = _labels(times, ticks[:1])[0], _labels(times, ticks[-1:])[0]
    report = SeriesReport(name, rows, int(ticks.shape[0]), frequency, order, merged, lead,
                          trail, missing, gaps, fill if (missing or gaps) else None, start, end,
                          duplicates_how=duplicates)
    return ticks, arrays[0], dict(zip(names, arrays[1:])), report
