"""Time labels: read them, find their frequency, continue them.

    times = parse_times(["1998 Q1", "1998 Q2", "1998 Q3"])
    freq = times.frequency()          # Frequency(unit='month', step=3), .name == "Q"
    times.write(times.ticks[-1] + freq.step * np.arange(1, 3))   # ['1998 Q4', '1999 Q1']

Every label becomes an integer *tick* on the grid of a unit, so that sorting, duplicates, gaps
and the future are integer arithmetic:

    unit "month"   months since 1970-01: monthly, quarterly and yearly labels ("1959-01",
                   "1998 Jan", "1959M01", "1959Q1", "1959-Q1", "1998 Q1", "Q1 1998"), decimal
                   years (1950.0, 1959.25, R's ``time()``) and dates that all fall on the same
                   day of the month or all on month ends (end-of-quarter dates are quarterly)
    unit "day"     days since 1970-01-01: other dates (daily, weekly, ISO weeks "2020-W05")
    unit "bday"    business days (a column of dates with no weekend day that steps over one)
    unit "second"  seconds: labels with a time of day that is not always midnight
    unit "step"    integers, taken as steps ("1700", 3, ...): no calendar

The frequency of a series is its unit with the greatest common divisor of the steps between
its sorted ticks (months 1, 3, 12 are "M", "Q", "Y"; days 1 and 7 "D" and "W"; seconds 3600
"h"); a larger difference is a gap. The future labels are written the way the input wrote
them: "1998 Q1" continues "2018 Q1", an end-of-quarter date the next end of quarter,
dd/mm/yyyy as dd/mm/yyyy, datetime64 as datetime64 of the same unit, integers as integers.

Day/month order in dates such as 01/02/2020 is read from the column: a first field above 12
means day/month/year, a second field above 12 month/day/year; when no field tells, the order
under which the dates are evenly spaced (and not under the other) is taken; otherwise a
ValueError asks for ``dayfirst=`` or ``format=``.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

__all__ = ["UNITS", "Frequency", "TimeLabels", "parse_times"]

UNITS = ("month", "day", "bday", "second", "step")
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_FULL = ["january", "february", "march", "april", "may", "june", "july", "august",
         "september", "october", "november", "december"]
_MONTH_OF = {**{m: i for i, m in enumerate(_MONTHS)}, **{m: i for i, m in enumerate(_FULL)},
             "sept": 8}
_EPOCH_D = np.datetime64("1970-01-01", "D")

_RE = {
    "int": re.compile(r"[+-]?\d+"),
    "decimal": re.compile(r"[+-]?(\d+\.?\d*|\.\d+)"),
    "quarter": re.compile(r"(\d{4})(\s*[-/ ]?\s*)[Qq]([1-4])"),
    "quarter_first": re.compile(r"[Qq]([1-4])(\s*[-/ ]?\s*)(\d{4})"),
    "week": re.compile(r"(\d{4})(\s*-?\s*)[Ww](\d{1,2})"),
    "ym": re.compile(r"(\d{4})([-/])(\d{1,2})"),
    "yM": re.compile(r"(\d{4})M(\d{1,2})"),
    "year_name": re.compile(r"(\d{4})([\s-]+)([A-Za-z]{3,9})\.?"),
    "name_year": re.compile(r"([A-Za-z]{3,9})\.?([\s-]+)(\d{4})"),
    "date": re.compile(r"(\d{1,4})([-/.])(\d{1,2})\2(\d{1,4})"
                       r"(?:([T ])(\d{1,2}):(\d{2})(?::(\d{2}))?(\.\d+)?)?(Z)?"),
}


class Frequency(NamedTuple):
    """A regular grid: ``unit`` (one of ``UNITS``) and ``step`` (ticks between labels)."""

    unit: str
    step: int

    @property
    def name(self):
        """"Y", "Q", "M", "W", "D", "B", "h", "min", "s", "step" or a multiple ("6M", "30min",
        "2W", "step 5")."""
        u, k = self.unit, self.step
        if u == "month":
            return {1: "M", 3: "Q", 12: "Y"}.get(k, f"{k}M")
        if u == "day":
            return {1: "D", 7: "W"}.get(k) or (f"{k // 7}W" if k % 7 == 0 else f"{k}D")
        if u == "bday":
            return "B" if k == 1 else f"{k}B"
        if u == "second":
            for size, name in ((3600, "h"), (60, "min")):
                if k % size == 0:
                    return name if k == size else f"{k // size}{name}"
            return "s" if k == 1 else f"{k}s"
        return "step" if k == 1 else f"step {k}"


_ALIASES = {"Y": ("month", 12), "A": ("month", 12), "Q": ("month", 3), "M": ("month", 1),
            "W": ("day", 7), "D": ("day", 1), "B": ("bday", 1), "h": ("second", 3600),
            "H": ("second", 3600), "min": ("second", 60), "T": ("second", 60),
            "s": ("second", 1), "S": ("second", 1), "step": ("step", 1)}


def frequency_from_name(name, unit=None):
    """A ``Frequency`` from a name ("M", "Q", "QE", "MS", "W-SUN", "30min", "2h", "step", ...);
    ValueError when unknown or when it does not fit `unit` (the unit of the labels)."""
    text = str(name).strip()
    m = re.fullmatch(r"(\d*)\s*([A-Za-z]+)(?:-[A-Za-z]+)?", text)
    freq = None
    if m:
        mult, base = int(m.group(1) or 1), m.group(2)
        if base not in _ALIASES and base[-1:] in ("S", "E") and base[:-1] in ("M", "Q", "Y", "A"):
            base = base[:-1]                        # pandas' start/end anchors: MS, QE, YS
        if base in _ALIASES:
            u, k = _ALIASES[base]
            freq = Frequency(u, k * mult)
    if freq is None:
        raise ValueError(f"freq must be a frequency such as 'D', 'W', 'M', 'Q', 'Y', 'h', "
                         f"'30min', 'B' or 'step', got {name!r}")
    if unit is not None and freq.unit != unit:
        if not (unit == "second" and freq.unit == "day"):
            raise ValueError(f"freq={name!r} does not fit time labels on a {unit} grid")
        freq = Frequency("second", freq.step * 86400)
    return freq


@dataclass(frozen=True)
class _Style:
    """How the labels were written, to write new ticks the same way."""

    kind: str                      # int, decimal, quarter, week, ym, yM, month name, date,
    text: bool = True              # native, strptime
    sep: str = ""
    order: str = ""                # quarter/name: "yq"/"qy"; date: "ymd", "dmy", "mdy"
    pad: bool = True
    digits: int = 1                # decimal years
    case: str = "title"            # month names: title, upper, lower
    full: bool = False             # month names written out
    anchor: object = None          # month-grid dates: day of month (int) or "end"
    time: str = ""                 # date: "", "T" or " " before the time of day
    seconds: bool = False
    zulu: bool = False
    dtype: object = None           # native: the numpy dtype; strptime: the format
    fmt: str = ""


@dataclass(frozen=True)
class TimeLabels:
    """Parsed time labels: ``ticks`` (int64, one per label, in the given order) on the grid of
    ``unit``; ``describe`` says what they looked like. ``write(ticks)`` writes ticks back in
    the input's own form; ``frequency(ticks)`` is the grid of some of them (one series)."""

    ticks: np.ndarray
    unit: str
    describe: str
    style: _Style = field(repr=False)

    def frequency(self, ticks=None):
        """The ``Frequency`` of `ticks` (default: all): this unit and the greatest common
        divisor of the steps between the distinct sorted ticks; None with fewer than two."""
        t = np.unique(self.ticks if ticks is None else np.asarray(ticks, np.int64))
        if t.shape[0] < 2:
            return None
        return Frequency(self.unit, int(np.gcd.reduce(np.diff(t))))

    def write(self, ticks):
        """The labels of `ticks`, in the form of the input (a list of str for text labels, a
        NumPy array for numbers and datetime64)."""
        return _write(self.unit, self.style, np.asarray(ticks, np.int64))


# -- reading --------------------------------------------------------------------------------
def parse_times(labels, format=None, dayfirst=None, name="ds"):
    """Read time labels (a sequence or array of str, integers, decimal years or datetime64)
    into a :class:`TimeLabels`. ``format``: a ``strptime`` format for anything else;
    ``dayfirst``: True/False settles dd/mm against mm/dd. Raises ValueError with a one-line
    message naming `name` and the first label it cannot read."""
    a = np.asarray(labels)
    if a.ndim != 1:
        raise ValueError(f"{name}: expected one time label per row, got shape {a.shape}")
    if a.shape[0] == 0:
        raise ValueError(f"{name}: no time labels")
    if a.dtype == object:
        a = _from_objects(a, name)
    if np.issubdtype(a.dtype, np.datetime64):
        return _native_datetimes(a, name)
    if a.dtype == np.bool_:
        raise ValueError(f"{name}: expected time labels, got booleans")
    if np.issubdtype(a.dtype, np.integer):
        return TimeLabels(a.astype(np.int64), "step", "integer steps", _Style("int", text=False))
    if np.issubdtype(a.dtype, np.floating):
        return _numbers(a, name)
    if a.dtype.kind not in "US":
        raise ValueError(f"{name}: cannot read time labels of dtype {a.dtype}")
    uniq, first, inverse = np.unique(np.char.strip(a.astype(str)), return_index=True,
                                     return_inverse=True)
    seen = np.argsort(first, kind="stable")       # in order of appearance: messages show
    rank = np.empty_like(seen)                    # the column's own first label
    rank[seen] = np.arange(seen.shape[0])
    parsed = _strings([str(s) for s in uniq[seen]], format, dayfirst, name)
    return TimeLabels(parsed.ticks[rank[inverse.ravel()]], parsed.unit, parsed.describe,
                      parsed.style)


def _from_objects(a, name):
    """Object arrays: all str -> str array; dates/datetimes -> datetime64; numbers -> float."""
    kinds = {type(v) for v in a}
    if all(issubclass(k, str) for k in kinds):
        return a.astype(str)
    if all(issubclass(k, (_dt.date, np.datetime64)) for k in kinds):
        try:
            return a.astype("datetime64[us]")
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name}: cannot read the dates ({exc})") from None
    bad = next((v for v in a if v is None or (isinstance(v, float) and math.isnan(v))), "")
    if bad != "" or any(v is None for v in a):
        raise ValueError(f"{name}: missing time labels (first: {bad!r}); every row needs one")
    try:
        return a.astype(np.float64)
    except (TypeError, ValueError):
        first = next(v for v in a if not isinstance(v, str))
        raise ValueError(f"{name}: mixed time labels ({type(first).__name__} {first!r} among "
                         f"others); use one kind") from None


def _numbers(a, name):
    if not np.all(np.isfinite(a)):
        i = int(np.flatnonzero(~np.isfinite(a))[0])
        raise ValueError(f"{name}: time label {i} is {a[i]} (missing); every row needs one")
    if np.all((a >= 1000) & (a < 3000)):
        months = (a - 1970.0) * 12.0
        r = np.round(months)
        if np.all(np.abs(months - r) < 0.05):
            return TimeLabels(r.astype(np.int64), "month", "decimal years",
                              _Style("decimal", text=False, digits=_digits_for(r)))
    if np.all(a == np.round(a)):
        return TimeLabels(a.astype(np.int64), "step", "integer steps", _Style("int", text=False))
    raise ValueError(f"{name}: numbers such as {a[np.flatnonzero(a != np.round(a))[0]]!r} are "
                     f"neither integer steps nor decimal years on a monthly grid")


def _digits_for(month_ticks):
    """Decimals a decimal year needs to tell its months apart (1 yearly, 2 quarterly, 3)."""
    rem = set(np.unique(np.asarray(month_ticks) % 12).tolist())
    return 1 if rem <= {0} else 2 if rem <= {0, 3, 6, 9} else 3


def _native_datetimes(a, name):
    if np.any(np.isnat(a)):
        raise ValueError(f"{name}: {int(np.isnat(a).sum())} missing time label(s) (NaT); "
                         f"every row needs one")
    sec = a.astype("datetime64[s]").astype(np.int64)
    style = {"kind": "native", "text": False, "dtype": a.dtype}
    if np.all(sec % 86400 == 0):
        return _day_grid(sec // 86400, "dates", style)
    return TimeLabels(sec, "second", "date-times", _Style(**style))


def _day_grid(days, what, style):
    """Dates (days since 1970): on the month grid when they share a day of the month (up to
    28) or are all month ends, business days when no weekend day is among them but they step
    over one, else days."""
    days = np.asarray(days, np.int64)
    d = days.astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    dom = (d - months.astype("datetime64[D]")).astype(np.int64) + 1
    month_end = (d + 1).astype("datetime64[M]") != months
    uniq_dom = np.unique(dom)
    anchor = None
    if np.all(month_end) and not (uniq_dom.shape[0] == 1 and uniq_dom[0] <= 28):
        anchor = "end"
    elif uniq_dom.shape[0] == 1 and uniq_dom[0] <= 28:
        anchor = int(uniq_dom[0])
    if anchor is not None:
        ticks = months.astype(np.int64)
        word = "month ends" if anchor == "end" else f"day {anchor} of the month"
        return TimeLabels(ticks, "month", f"{what} ({word})", _Style(**style, anchor=anchor))
    weekday = (days + 3) % 7                        # 1970-01-01 was a Thursday; Monday = 0
    u = np.unique(days)
    if u.shape[0] > 2 and not np.any(weekday >= 5):
        steps = np.diff(u)
        fri = ((u[:-1] + 3) % 7 == 4) & (steps == 3)
        if np.any(fri) and int(np.gcd.reduce(steps)) == 1:
            ticks = np.busday_count(_EPOCH_D, d).astype(np.int64)
            return TimeLabels(ticks, "bday", f"{what} (business days)", _Style(**style))
    return TimeLabels(days, "day", what, _Style(**style))


def _strings(uniq, format, dayfirst, name):
    if format is not None:
        return _strptime(uniq, format, name)
    first = uniq[0]
    if all(_RE["int"].fullmatch(s) for s in uniq):
        return TimeLabels(np.array([int(s) for s in uniq], np.int64), "step", "integer steps",
                          _Style("int"))
    if all(_RE["decimal"].fullmatch(s) for s in uniq):
        parsed = _numbers(np.array([float(s) for s in uniq]), name)
        digits = max(len(s.split(".")[1]) if "." in s else 0 for s in uniq)
        return TimeLabels(parsed.ticks, parsed.unit, parsed.describe,
                          _Style("decimal", digits=max(digits, 1))) if parsed.unit == "month" \
            else TimeLabels(parsed.ticks, "step", "integer steps", _Style("int"))
    for kind in ("quarter", "quarter_first", "week", "yM", "ym", "year_name", "name_year",
                 "date"):
        if _RE[kind].fullmatch(first):
            return _family(kind, uniq, dayfirst, name)
    raise ValueError(f"{name}: cannot read {first!r} as a time label (dates such as "
                     f"2020-01-31 or 31/01/2020, months 2020-01 or 2020 Jan, quarters 2020 Q1, "
                     f"weeks 2020 W05, decimal years 2020.0 or integers); pass format= for "
                     f"anything else")


def _matches(kind, uniq, name):
    out = []
    for s in uniq:
        m = _RE[kind].fullmatch(s)
        if m is None:
            raise ValueError(f"{name}: time label {s!r} is not written like {uniq[0]!r}; "
                             f"use one form for the whole column")
        out.append(m.groups())
    return out


def _check_months(months, uniq, name):
    bad = [s for s, m in zip(uniq, months) if not 0 <= m < 12]
    if bad:
        raise ValueError(f"{name}: {bad[0]!r} has no month between 1 and 12")


def _family(kind, uniq, dayfirst, name):
    g = _matches(kind, uniq, name)
    if kind in ("quarter", "quarter_first"):
        pairs = [(int(a), int(c)) if kind == "quarter" else (int(c), int(a)) for a, _, c in g]
        ticks = np.array([(yy - 1970) * 12 + 3 * (qq - 1) for yy, qq in pairs], np.int64)
        lower = "q" in "".join(uniq)
        style = _Style("quarter", sep=g[0][1], order="yq" if kind == "quarter" else "qy",
                       case="lower" if lower else "upper")
        return TimeLabels(ticks, "month", f"quarters like {uniq[0]!r}", style)
    if kind == "week":
        days = []
        for (yy, _, ww), s in zip(g, uniq):
            try:
                days.append((_dt.date.fromisocalendar(int(yy), int(ww), 1)
                             - _dt.date(1970, 1, 1)).days)
            except ValueError:
                raise ValueError(f"{name}: {s!r} is not an ISO week") from None
        style = _Style("week", sep=g[0][1], case="lower" if "w" in uniq[0] else "upper",
                       pad=len(g[0][2]) == 2)
        return TimeLabels(np.array(days, np.int64), "day", f"ISO weeks like {uniq[0]!r}", style)
    if kind in ("ym", "yM"):
        ym = [(int(t[0]), int(t[-1]) - 1) for t in g]
        _check_months([m for _, m in ym], uniq, name)
        ticks = np.array([(yy - 1970) * 12 + mm for yy, mm in ym], np.int64)
        style = _Style(kind, sep=g[0][1] if kind == "ym" else "M",
                       pad=any(len(t[-1]) == 2 for t in g))
        return TimeLabels(ticks, "month", f"months like {uniq[0]!r}", style)
    if kind in ("year_name", "name_year"):
        ticks, words = [], []
        for t, s in zip(g, uniq):
            yy, word = (t[0], t[2]) if kind == "year_name" else (t[2], t[0])
            m = _MONTH_OF.get(word.lower())
            if m is None:
                raise ValueError(f"{name}: {s!r}: {word!r} is not a month name")
            ticks.append((int(yy) - 1970) * 12 + m)
            words.append(word)
        w = words[0]
        style = _Style("month name", sep=g[0][1], order="yq" if kind == "year_name" else "qy",
                       full=len(w) > 3 and w.lower() in _FULL,
                       case="upper" if w.isupper() else "lower" if w.islower() else "title")
        return TimeLabels(np.array(ticks, np.int64), "month", f"months like {uniq[0]!r}", style)
    return _dates(g, uniq, dayfirst, name)


def _dates(g, uniq, dayfirst, name):
    a = np.array([int(t[0]) for t in g])
    b = np.array([int(t[2]) for t in g])
    c = np.array([int(t[3]) for t in g])
    ymd = len(g[0][0]) == 4
    if ymd:
        y, m, d, order = a, b, c, "ymd"
    elif len(g[0][3]) != 4:
        raise ValueError(f"{name}: {uniq[0]!r}: the year must have four digits; pass format=")
    else:
        order = _day_month_order(a, b, c, dayfirst, uniq, g[0][1], name)
        y, m, d = (c, b, a) if order == "dmy" else (c, a, b)
    _check_months(m - 1, uniq, name)
    months = ((y - 1970) * 12 + (m - 1)).astype("datetime64[M]")
    days = months.astype("datetime64[D]") + (d - 1)
    bad = np.flatnonzero((days.astype("datetime64[M]") != months) | (d < 1))
    if bad.size:
        raise ValueError(f"{name}: {uniq[bad[0]]!r} is not a date (read as {order})")
    days = days.astype(np.int64)
    t0 = g[0]
    day_month = (2, 3) if ymd else (0, 2)
    style = {"kind": "date", "sep": t0[1], "order": order, "zulu": bool(t0[9]),
             "pad": not any(len(t[k]) == 1 for t in g for k in day_month)}
    if any(t[5] for t in g):
        sec = np.array([int(t[5] or 0) * 3600 + int(t[6] or 0) * 60 + int(t[7] or 0)
                        for t in g], np.int64)
        if np.any(sec):
            frac = [t for t in g if t[8] and float(t[8]) != 0]
            if frac:
                raise ValueError(f"{name}: fractions of a second are not supported "
                                 f"({uniq[g.index(frac[0])]!r}); pass format=")
            return TimeLabels(days * 86400 + sec, "second", f"date-times like {uniq[0]!r}",
                              _Style(**style, time=t0[4] or " ", seconds=any(t[7] for t in g)))
        style.update(time=t0[4] or "", seconds=bool(t0[7]))
    return _day_grid(days, f"dates like {uniq[0]!r}", style)


def _regular(y, m, d):
    """Whether these dates are evenly spaced (in months when they share a day, else days)."""
    months = ((y - 1970) * 12 + (m - 1)).astype("datetime64[M]")
    days = months.astype("datetime64[D]") + (d - 1)
    if np.any((days.astype("datetime64[M]") != months) | (m < 1) | (m > 12) | (d < 1)):
        return False
    t = np.unique(months.astype(np.int64) if np.unique(d).shape[0] == 1
                  else days.astype(np.int64))
    return t.shape[0] > 2 and np.unique(np.diff(t)).shape[0] == 1


def _day_month_order(a, b, c, dayfirst, uniq, sep, name):
    if dayfirst is not None:
        return "dmy" if dayfirst else "mdy"
    first_big, second_big = np.any(a > 12), np.any(b > 12)
    if first_big and second_big:
        i = int(np.flatnonzero(a > 12)[0])
        j = int(np.flatnonzero(b > 12)[0])
        raise ValueError(f"{name}: {uniq[i]!r} reads only as day/month/year and {uniq[j]!r} "
                         f"only as month/day/year; use one order")
    if first_big or second_big:
        return "dmy" if first_big else "mdy"
    dmy, mdy = _regular(c, b, a), _regular(c, a, b)
    if dmy != mdy:
        return "dmy" if dmy else "mdy"
    raise ValueError(f"{name}: dates such as {uniq[0]!r} read as day/month/year and as "
                     f"month/day/year alike; pass dayfirst=True or dayfirst=False (or "
                     f"format='%d{sep}%m{sep}%Y')")


def _strptime(uniq, format, name):
    out = []
    for s in uniq:
        try:
            out.append(_dt.datetime.strptime(s, format))
        except ValueError:
            raise ValueError(f"{name}: {s!r} does not match format={format!r}") from None
    a = np.array(out, dtype="datetime64[s]")
    parsed = _native_datetimes(a, name)
    style = _Style("strptime", anchor=parsed.style.anchor, fmt=format)
    return TimeLabels(parsed.ticks, parsed.unit, f"times in format {format!r}", style)


# -- writing --------------------------------------------------------------------------------
def _to_datetime64(unit, style, ticks):
    """Ticks as datetime64[s]."""
    if unit == "month":
        months = ticks.astype("datetime64[M]")
        if style.anchor == "end":
            days = (months + 1).astype("datetime64[D]") - 1
        else:
            days = months.astype("datetime64[D]") + (int(style.anchor or 1) - 1)
        return days.astype("datetime64[s]")
    if unit == "day":
        return ticks.astype("datetime64[D]").astype("datetime64[s]")
    if unit == "bday":
        return np.busday_offset(_EPOCH_D, ticks).astype("datetime64[s]")
    return ticks.astype("datetime64[s]")


def _write(unit, st, ticks):
    if st.kind == "int":
        return [str(int(t)) for t in ticks] if st.text else ticks.copy()
    if st.kind == "decimal":
        values = np.round(1970.0 + ticks / 12.0, st.digits)
        return [f"{v:.{st.digits}f}" for v in values] if st.text else values
    if st.kind == "quarter":
        q = "Q" if st.case == "upper" else "q"
        return [f"{1970 + t // 12}{st.sep}{q}{t % 12 // 3 + 1}" if st.order == "yq"
                else f"{q}{t % 12 // 3 + 1}{st.sep}{1970 + t // 12}" for t in ticks.tolist()]
    if st.kind in ("ym", "yM"):
        return [f"{1970 + t // 12}{st.sep}{t % 12 + 1:0{2 if st.pad else 1}d}"
                for t in ticks.tolist()]
    if st.kind == "month name":
        words = _FULL if st.full else _MONTHS
        out = []
        for t in ticks.tolist():
            w = words[t % 12]
            w = w.upper() if st.case == "upper" else w if st.case == "lower" else w.title()
            y = 1970 + t // 12
            out.append(f"{y}{st.sep}{w}" if st.order == "yq" else f"{w}{st.sep}{y}")
        return out
    if st.kind == "week":
        w = "W" if st.case == "upper" else "w"
        out = []
        for t in ticks.tolist():
            iso = (_dt.date(1970, 1, 1) + _dt.timedelta(days=t)).isocalendar()
            out.append(f"{iso[0]}{st.sep}{w}{iso[1]:0{2 if st.pad else 1}d}")
        return out
    stamps = _to_datetime64(unit, st, ticks)
    if st.kind == "native":
        return stamps.astype(st.dtype)
    dts = stamps.astype(_dt.datetime).tolist()
    if st.kind == "strptime":
        return [v.strftime(st.fmt) for v in dts]
    return [_date_text(v, st) for v in dts]


def _date_text(v, st):
    p = 2 if st.pad else 1
    dd, mm = f"{v.day:0{p}d}", f"{v.month:0{p}d}"
    s = st.sep
    date = {"ymd": f"{v.year:04d}{s}{mm}{s}{dd}", "dmy": f"{dd}{s}{mm}{s}{v.year:04d}",
            "mdy": f"{mm}{s}{dd}{s}{v.year:04d}"}[st.order]
    if st.time:
        date += f"{st.time}{v.hour:02d}:{v.minute:02d}" + (f":{v.second:02d}" if st.seconds
                                                            else "")
    return date + ("Z" if st.zulu else "")
