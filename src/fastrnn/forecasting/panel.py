"""Many series in, many forecasts out: the long format.

    panel = read_panel(df, id_col="unique_id", time_col="ds", target_col="y")
    for s in panel:                 # one Series per id, cleaned, oldest first
        s.y, s.season, s.report
    panel.to_long({s.uid: model.clone().fit(s.y).predict(h) for s in panel})

One row per (series, time): an id column (or several, such as Region, State, Purpose), a
time column (dates, months "1998 Jan", quarters "1998 Q1", weeks, decimal years, integer
steps: ``fastrnn.data.timeaxis``), a value column, and optional covariates. In: a pandas
DataFrame, a polars DataFrame (when polars is installed), a mapping of columns, or a single
series (a 1-D NumPy array or list: integer steps; a pandas Series: its index is the time).
Out (``to_long``): the same library's frame with the id column(s), the time column continuing
each series' own calendar, ``forecast`` and ``lo-L``/``hi-L`` per level.

Each series is cleaned by ``fastrnn.data.hygiene.clean_series`` (sorted oldest-first and
said to be, duplicates an error or an explicit ``duplicates=``, leading missing values
dropped, missing values and calendar gaps an error or filled by an explicit ``fill=``); every
note is in ``panel.notes()``. Its seasonal period is ``season=`` when given, else the one of
its frequency (12 monthly, 4 quarterly, ...); for integer steps it is left to the
autocorrelation of the training values (``Series.period``).

Future-known covariates over the horizon come in a second frame of the same long format
(``read_future(panel, future, h, columns)``: every series, exactly its next h times, no
missing value).

Errors are ValueError (TypeError for a wrong kind of input) with one line naming the column.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from fastrnn import _params
from fastrnn.data.hygiene import clean_series
from fastrnn.data.timeaxis import frequency_from_name, parse_times
from fastrnn.timeseries.seasonal import detect_period, period_from_frequency

__all__ = ["Panel", "Series", "read_future", "read_panel"]


@dataclass(eq=False)
class Series:
    """One cleaned series: ``uid`` (its id; a tuple for several id columns), ``y`` (float64
    (n,), oldest first), ``ticks`` (int64 (n,), its times), ``frequency`` (or None),
    ``season`` (given or from the frequency; None when neither knows), ``report`` (what the
    cleaning did) and ``covariates`` ({column: float64 (n,)}) and ``static`` ({column: value})."""

    uid: object
    y: np.ndarray
    ticks: np.ndarray
    frequency: object
    season: int | None
    season_source: str
    report: object
    covariates: dict = field(default_factory=dict)
    static: dict = field(default_factory=dict)

    def period(self, x=None):
        """The seasonal period for training values `x` (default: all of ``y``): ``season``
        when known, else the autocorrelation's (``detect_period``) for integer steps."""
        if self.season is not None or self.season_source != "autocorrelation":
            return self.season
        return detect_period(self.y if x is None else x)

    def __len__(self):
        return self.y.shape[0]


def _name(uid):
    return f"series {uid!r}"


class _Frame:
    """Columns of the input, whatever library it came from, as NumPy arrays."""

    def __init__(self, data, name="data"):
        mod = type(data).__module__.split(".")[0]
        if mod == "pandas" and hasattr(data, "columns"):
            self.library, self.names = "pandas", [str(c) for c in data.columns]
            self._get = lambda c: data[c]
        elif mod == "polars" and hasattr(data, "columns"):
            self.library, self.names = "polars", list(data.columns)
            self._get = lambda c: data[c]
        elif isinstance(data, dict):
            self.library, self.names = "dict", [str(c) for c in data]
            self._get = lambda c: data[c]
        else:
            raise TypeError(f"{name} must be a pandas or polars DataFrame, a mapping of columns "
                            f"or a 1-D array, got {type(data).__name__}")
        self.name = name
        self.data = data
        self.rows = None

    def has(self, c):
        return c in self.names

    def require(self, c, what):
        if c not in self.names:
            raise ValueError(f"{self.name}: no column {c!r} ({what}); columns: "
                             f"{', '.join(self.names)}")

    def values(self, c):
        col = self._get(c)
        if self.library == "pandas":
            import pandas as pd

            dt = col.dtype
            if isinstance(dt, pd.PeriodDtype):
                self.period_freq = dt.freq
                return col.dt.start_time.to_numpy()
            if isinstance(dt, pd.DatetimeTZDtype):
                self.tz = dt.tz
                return col.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
            if isinstance(dt, pd.CategoricalDtype):
                return col.astype(object).to_numpy()
            if (pd.api.types.is_numeric_dtype(dt) and not pd.api.types.is_bool_dtype(dt)
                    and (col.hasnans or pd.api.types.is_extension_array_dtype(dt))):
                return col.to_numpy(dtype=np.float64, na_value=np.nan)
            return col.to_numpy()
        if self.library == "polars":
            return col.to_numpy()
        a = np.asarray(col)
        if a.ndim != 1:
            raise ValueError(f"{self.name}: column {c!r} must be 1-D, got shape {a.shape}")
        return a


def _numbers(a, col, what):
    """A column as float64 (NaN for missing); errors name the column."""
    if a.dtype == object:
        try:
            a = np.array([np.nan if v is None else v for v in a], dtype=np.float64)
        except (TypeError, ValueError):
            bad = next(v for v in a if not isinstance(v, (int, float, np.number, type(None))))
            raise ValueError(f"column {col!r} ({what}) must hold numbers, got {bad!r}") from None
    if a.dtype.kind not in "biuf":
        raise ValueError(f"column {col!r} ({what}) must hold numbers, got dtype {a.dtype}")
    a = a.astype(np.float64)
    inf = np.flatnonzero(np.isinf(a))
    if inf.size:
        raise ValueError(f"column {col!r} ({what}): {a[inf[0]]} at position {inf[0]} "
                         f"({inf.size} infinite value(s)); only finite numbers or missing")
    return a


def _missing_ids(a):
    """Positions of the missing ids in one id column."""
    if a.dtype.kind == "f":
        return np.flatnonzero(np.isnan(a))
    if a.dtype.kind != "O":
        return np.empty(0, np.int64)
    return np.array([i for i, v in enumerate(a) if v is None or type(v).__name__ == "NAType"
                     or (isinstance(v, float) and np.isnan(v))], np.int64)


def _first_appearance(a):
    """(codes (n,), the distinct values in order of first appearance) of one array, by
    sorting (no Python loop over the rows); TypeError for values that do not compare."""
    uniq, first, inverse = np.unique(a, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty(order.shape[0], np.int64)
    rank[order] = np.arange(order.shape[0])
    return rank[inverse.ravel()], uniq[order]


def _item(v):
    return v.item() if hasattr(v, "item") else v


def _factorize(arrays, cols):
    """(codes (n,), uids in order of first appearance) of one or more id columns."""
    for a, c in zip(arrays, cols):
        missing = _missing_ids(a)
        if missing.size:
            raise ValueError(f"column {c!r} (id_col): {missing.size} missing id(s), first at "
                             f"position {missing[0]}")
    try:
        parts = [_first_appearance(a) for a in arrays]
    except TypeError:       # mixed kinds of ids (3 and "3"): one by one
        return _factorize_slowly(arrays)
    codes, _ = parts[0]
    for c, vals in parts[1:]:
        codes = codes * len(vals) + c                  # one code per combination seen
        codes, _ = _first_appearance(codes)
    first = np.unique(codes, return_index=True)[1]     # codes are in order of appearance
    if len(arrays) == 1:
        return codes, [_item(v) for v in parts[0][1][parts[0][0][first]]]
    cols = [vals[c[first]] for c, vals in parts]
    return codes, [tuple(_item(v) for v in row) for row in zip(*cols)]


def _factorize_slowly(arrays):
    keys = zip(*arrays) if len(arrays) > 1 else arrays[0]
    index, codes = {}, np.empty(len(arrays[0]), np.int64)
    for i, k in enumerate(keys):
        k = tuple(_item(v) for v in k) if len(arrays) > 1 else _item(k)
        codes[i] = index.setdefault(k, len(index))
    return codes, list(index)


class Panel:
    """A collection of cleaned series (``read_panel``), iterable in the order the ids first
    appear, and the door back to the long format (``to_long``)."""

    def __init__(self, series, times, id_cols, time_col, target_col, frame_info):
        self.series = series
        self.times = times
        self.id_cols = id_cols
        self.time_col = time_col
        self.target_col = target_col
        self._info = frame_info
        self._by_uid = {s.uid: s for s in series}
        freqs = Counter(s.frequency for s in series if s.frequency is not None)
        self.frequency = freqs.most_common(1)[0][0] if freqs else None

    def __len__(self):
        return len(self.series)

    def __iter__(self):
        return iter(self.series)

    def __getitem__(self, uid):
        return self._by_uid[uid]

    @property
    def uids(self):
        return [s.uid for s in self.series]

    def notes(self):
        """Every line the cleaning reported, series by series."""
        return [line for s in self.series for line in s.report.notes()]

    def summary(self):
        """One line: series, rows, frequency, where the seasonal period came from, and the
        counts of what the cleaning did."""
        n = len(self.series)
        rows = sum(s.report.rows for s in self.series)
        freq = self.frequency.name if self.frequency is not None else "none"
        seasons = Counter((s.season, s.season_source) for s in self.series)
        season = "; ".join(f"season {p} ({src}) for {k}" if len(seasons) > 1 else
                           f"season {p} ({src})" for (p, src), k in seasons.most_common(3))
        counts = []
        for what, attr in (("sorted", "order"), ("with duplicates merged", "duplicates"),
                           ("with leading or trailing missing values dropped", "edges"),
                           ("with missing values or gaps filled", "gaps")):
            if attr == "order":
                k = sum(s.report.order != "ascending" for s in self.series)
            elif attr == "gaps":
                k = sum((s.report.gaps + s.report.missing) > 0 for s in self.series)
            elif attr == "edges":
                k = sum((s.report.leading_missing + s.report.trailing_missing) > 0
                        for s in self.series)
            else:
                k = sum(getattr(s.report, attr) > 0 for s in self.series)
            if k:
                counts.append(f"{k} {what}")
        return (f"{n} series, {rows} rows, {self.times.describe}, frequency {freq}, {season}"
                + (f"; {', '.join(counts)}" if counts else ""))

    # -- the long format out ----------------------------------------------------------------
    def future_ticks(self, s, h):
        """The ticks of the `h` times after series `s` (its frequency, else the panel's)."""
        freq = s.frequency or self.frequency
        if freq is None:
            raise ValueError(f"{_name(s.uid)}: its calendar cannot be continued (fewer than "
                             f"two times and no other series to learn the frequency from); "
                             f"pass freq=")
        return s.ticks[-1] + freq.step * np.arange(1, h + 1, dtype=np.int64)

    def future(self, s, h):
        """The labels of the `h` times after series `s`, written like the input's."""
        return self.times.write(self.future_ticks(s, h))

    def to_long(self, predictions, h=None):
        """The long format of forecasts: `predictions` maps a series' uid to a
        ``Prediction`` (or an array of point forecasts, or a dict of columns of equal length).
        Returns a frame of the input's library (pandas for a mapping or a NumPy series, when
        installed; else a dict of columns) with the id column(s), the time column continuing
        each series' calendar, then ``forecast``, ``lo-L``, ``hi-L``, ... in that order."""
        ids, times, cols = [[] for _ in self.id_cols], [], {}
        cache = {}
        k = 0
        for uid, pred in predictions.items():
            s = self._by_uid.get(uid)
            if s is None:
                raise ValueError(f"to_long: no series {uid!r} in this panel")
            block = pred.to_dict() if hasattr(pred, "to_dict") else (
                dict(pred) if isinstance(pred, dict) else {"forecast": pred})
            block = {c: np.asarray(v, np.float64).ravel() for c, v in block.items()}
            n = {v.shape[0] for v in block.values()}
            if len(n) != 1 or (h is not None and n != {h}):
                raise ValueError(f"to_long: {_name(uid)}: columns of lengths {sorted(n)}"
                                 + (f", expected {h}" if h is not None else ""))
            n = n.pop()
            key = (int(s.ticks[-1]), s.frequency, n)
            if key not in cache:
                cache[key] = list(self.future(s, n))
            times.extend(cache[key])
            parts = uid if len(self.id_cols) > 1 else (uid,)
            for lst, v in zip(ids, parts):
                lst.extend([v] * n)
            for c, v in block.items():
                if c not in cols:
                    cols[c] = [np.full(k, np.nan)]
                cols[c].append(v)
            for c, parts in cols.items():
                if c not in block:
                    parts.append(np.full(n, np.nan))
            k += n
        out = {c: v for c, v in zip(self.id_cols, ids)}
        out[self.time_col] = self._time_column(times)
        for c, parts in cols.items():
            out[c] = np.concatenate(parts) if parts else np.empty(0)
        return self._frame(out)

    def to_frame(self):
        """The cleaned series in the long format (id column(s), time, target)."""
        ids, ticks, ys = [[] for _ in self.id_cols], [], []
        for s in self.series:
            parts = s.uid if len(self.id_cols) > 1 else (s.uid,)
            for lst, v in zip(ids, parts):
                lst.extend([v] * len(s))
            ticks.append(s.ticks)
            ys.append(s.y)
        out = {c: v for c, v in zip(self.id_cols, ids)}
        all_ticks = np.concatenate(ticks) if ticks else np.empty(0, np.int64)
        out[self.time_col] = self._time_column(list(self.times.write(all_ticks)))
        out[self.target_col] = np.concatenate(ys) if ys else np.empty(0)
        return self._frame(out)

    def _time_column(self, labels):
        info = self._info
        if not labels or isinstance(labels[0], str):
            return labels
        a = np.asarray(labels)
        if info.get("library") == "pandas" and np.issubdtype(a.dtype, np.datetime64):
            import pandas as pd

            idx = pd.DatetimeIndex(a)
            if info.get("period_freq") is not None:
                return pd.Series(idx.to_period(info["period_freq"]))
            if info.get("tz") is not None:
                return pd.Series(idx.tz_localize("UTC").tz_convert(info["tz"]))
        return a

    def _frame(self, cols):
        lib = self._info.get("library")
        if lib == "polars":
            import polars as pl

            return pl.DataFrame({c: (v.to_numpy() if hasattr(v, "to_numpy") else v)
                                 for c, v in cols.items()})
        if lib == "dict":
            return cols
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - pandas is optional
            return cols
        return pd.DataFrame({c: (v.to_numpy() if hasattr(v, "to_numpy") and
                                 not hasattr(v, "dt") else v) for c, v in cols.items()})


def _single(data, ds, target_col, time_col):
    """A single series as a mapping of columns: its values, and its times (the pandas index,
    `ds`, or integer steps 0..n-1)."""
    name = "series"
    info = {"library": "numpy"}
    if type(data).__module__.split(".")[0] == "pandas":          # a pandas Series
        import pandas as pd

        name = data.name if data.name is not None else "series"
        if ds is None:
            idx = data.index
            if isinstance(idx, pd.PeriodIndex):
                info["period_freq"] = idx.freq
                ds = idx.to_timestamp(how="start").to_numpy()
            elif isinstance(idx, pd.DatetimeIndex) and idx.tz is not None:
                info["tz"] = idx.tz
                ds = idx.tz_convert("UTC").tz_localize(None).to_numpy()
            elif not isinstance(idx, pd.RangeIndex):
                ds = idx.to_numpy()
        info["library"] = "pandas"
        data = data.to_numpy(dtype=np.float64, na_value=np.nan)
    y = np.asarray(data)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"data: a single series must be 1-D, got shape {y.shape}")
    if ds is None:
        ds = np.arange(y.shape[0], dtype=np.int64)
    ds = np.asarray(ds)
    if ds.shape != y.shape:
        raise ValueError(f"ds: {ds.shape[0]} time labels for {y.shape[0]} values")
    cols = {"unique_id": np.full(y.shape[0], str(name), dtype=object), time_col: ds,
            target_col: y}
    return cols, info


def read_panel(data, id_col="unique_id", time_col="ds", target_col="y", *, ds=None,
               fill=None, duplicates="error", freq=None, season=None, format=None,
               dayfirst=None, covariates=(), static=()):
    """The series of `data` in the long format, validated and cleaned: a :class:`Panel`.

    data        pandas/polars DataFrame or mapping of columns (one row per series and time),
                or one series (1-D array or list; pandas Series: its index is the time)
    id_col      the id column, a list of them (the id is then a tuple), or None: one series
    time_col    the time column (``fastrnn.data.parse_times`` reads it; ``format=`` and
                ``dayfirst=`` go there)
    target_col  the value column (numbers; missing values allowed, see ``fill``)
    ds          time labels of a single series given as an array (default 0..n-1)
    fill        None (missing values and calendar gaps are an error), "interpolate",
                "ffill" or "zero"
    duplicates  "error", "first", "last", "mean" or "sum" for rows sharing (id, time)
    freq        the frequency ("D", "W", "M", "Q", "Y", "h", "B", ...; default: inferred
                per series)
    season      the seasonal period for every series (default: from the frequency)
    covariates  columns carried beside the values (numbers, cleaned the same way)
    static      columns constant within each series (any values), kept per series
    """
    info = {"format": format, "dayfirst": dayfirst}   # read_future parses times the same way
    season = _params.check(season, "season", _params.Int(1, none_ok=True))
    if isinstance(data, (np.ndarray, list, tuple)) or (
            type(data).__module__.split(".")[0] == "pandas" and getattr(data, "ndim", 0) == 1):
        data, single = _single(data, ds, target_col, time_col)
        info.update(single)
        id_col = "unique_id"
    elif ds is not None:
        raise ValueError("ds= is for a single series given as an array; a frame has its "
                         "time column (time_col=)")
    frame = _Frame(data)
    info.setdefault("library", frame.library)
    id_cols = () if id_col is None else (id_col,) if isinstance(id_col, str) else tuple(id_col)
    for c, what in [(c, "id_col") for c in id_cols] + [(time_col, "time_col"),
                                                       (target_col, "target_col")]:
        frame.require(c, what)
    for c in (*covariates, *static):
        frame.require(c, "covariates" if c in covariates else "static")
    y = _numbers(frame.values(target_col), target_col, "target_col")
    if y.shape[0] == 0:
        raise ValueError(f"data: no rows (column {target_col!r} is empty)")
    raw_times = frame.values(time_col)
    for attr in ("period_freq", "tz"):
        if getattr(frame, attr, None) is not None:
            info[attr] = getattr(frame, attr)
    times = parse_times(raw_times, format=format, dayfirst=dayfirst, name=f"column {time_col!r}")
    given_freq = frequency_from_name(freq, unit=times.unit) if freq is not None else None
    if id_cols:
        codes, uids = _factorize([frame.values(c) for c in id_cols], id_cols)
    else:
        codes, uids = np.zeros(y.shape[0], np.int64), ["series"]
        id_cols = ("unique_id",)
    covs = {c: _numbers(frame.values(c), c, "covariates") for c in covariates}
    stat = {c: frame.values(c) for c in static}
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uids) + 1))
    series = []
    for k, uid in enumerate(uids):
        rows = order[bounds[k]:bounds[k + 1]]
        name = _name(uid)
        statics = {}
        for c, a in stat.items():
            vals = a[rows]
            if any(v != vals[0] for v in vals[1:]):
                raise ValueError(f"{name}: static column {c!r} changes within the series "
                                 f"({vals[0]!r}, then others)")
            statics[c] = vals[0].item() if hasattr(vals[0], "item") else vals[0]
        ticks, values, cols, report = clean_series(
            times.ticks[rows], y[rows], times=times, frequency=given_freq, fill=fill,
            duplicates=duplicates, name=name, columns={c: a[rows] for c, a in covs.items()})
        f = report.frequency
        if season is not None:
            p, src = season, "given"
        elif f is not None and f.unit != "step":
            p, src = period_from_frequency(f), "from the frequency"
        elif times.unit == "step":
            p, src = None, "autocorrelation"
        else:
            p, src = None, "none"
        series.append(Series(uid, values, ticks, f, p, src, report, cols, statics))
    return Panel(series, times, id_cols, time_col, target_col, info)


def _in(name, func, *args, **kwargs):
    """func(...) with its ValueError's message prefixed by `name` (the argument at fault)."""
    try:
        return func(*args, **kwargs)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def read_future(panel, future, h, columns, name="future"):
    """The future-known covariates of every series of `panel` over its next `h` steps:
    {uid: float64 (h, len(columns))}, rows in time order, columns in the order of `columns`.

    future   a frame of the data's kind (pandas/polars DataFrame, mapping of columns) in the
             long format of the data: its id column(s) (optional when the panel holds one
             series), its time column (read like the data's, ``format=`` and ``dayfirst=``
             of ``read_panel`` included) and the `columns`
    The checks, each a one-line ValueError naming `name` (TypeError for another kind of
    input): every column present, numbers with no missing value, every series of the panel
    present and no other, and each series' rows exactly the `h` times after its end on its
    own calendar (``Panel.future_ticks``)."""
    columns = tuple(columns)
    h = _params.positive_int(h, "h")
    frame = _Frame(future, name=name)
    id_cols = list(panel.id_cols)
    if len(panel) == 1 and not any(frame.has(c) for c in id_cols):
        id_cols = []                       # one series: its rows need no id
    for c in id_cols:
        frame.require(c, "id_col")
    frame.require(panel.time_col, "time_col")
    for c in columns:
        frame.require(c, "future_covariates")
    raw = np.asarray(frame.values(panel.time_col))
    if raw.shape[0] == 0:
        raise ValueError(f"{name}: no rows; expected {h} per series (the {h} times after "
                         f"each series' end)")
    vals = np.column_stack([_in(name, _numbers, frame.values(c), c, "future_covariates")
                            for c in columns]) if columns else np.zeros((raw.shape[0], 0))
    if id_cols:
        codes, uids = _in(name, _factorize, [frame.values(c) for c in id_cols], id_cols)
    else:
        codes, uids = np.zeros(raw.shape[0], np.int64), [panel.series[0].uid]
    unknown = [u for u in uids if u not in panel._by_uid]
    if unknown:
        raise ValueError(f"{name}: {len(unknown)} series not in the data, first "
                         f"{unknown[0]!r}; expected the data's series only")
    given = set(uids)
    absent = [s.uid for s in panel.series if s.uid not in given]
    if absent:
        raise ValueError(f"{name}: no rows for {len(absent)} of the {len(panel)} series, "
                         f"first {absent[0]!r}; expected {h} rows per series (the {h} "
                         f"times after its end)")
    # the data's labels and the future's read together, so that both land on one grid and an
    # ambiguous short future (01/02 alone: day or month first?) is read as the data was
    expected = np.stack([panel.future_ticks(s, h) for s in panel.series])       # (N, h)
    known = np.unique(np.concatenate([s.ticks for s in panel.series] + [expected.ravel()]))
    written = np.asarray(panel.times.write(known))
    both = np.concatenate([written.astype(object), raw.astype(object)]) if (
        written.dtype != raw.dtype) else np.concatenate([written, raw])
    info = panel._info
    joint = parse_times(both, format=info.get("format"), dayfirst=info.get("dayfirst"),
                        name=f"{name}: column {panel.time_col!r}").ticks
    want = joint[:known.shape[0]][np.searchsorted(known, expected)]             # (N, h)
    got = joint[known.shape[0]:]
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uids) + 1))
    pos = {s.uid: i for i, s in enumerate(panel.series)}
    out = {}
    for k, uid in enumerate(uids):
        rows = order[bounds[k]:bounds[k + 1]]
        rows = rows[np.argsort(got[rows], kind="stable")]
        s, exp = panel._by_uid[uid], want[pos[uid]]
        if rows.shape[0] != h or np.any(got[rows] != exp):
            lbl = panel.times.write(panel.future_ticks(s, h)[[0, -1]])
            dup = np.flatnonzero(np.diff(got[rows]) == 0)
            why = (f"; {raw[rows[dup[0]]]} appears more than once" if dup.size else "")
            raise ValueError(f"{name}: {_name(uid)}: expected its {h} times after its end "
                             f"({lbl[0]} .. {lbl[-1]}), got {rows.shape[0]} row(s) "
                             f"({raw[rows[0]]} .. {raw[rows[-1]]}){why}")
        v = vals[rows]
        bad = ~np.isfinite(v)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise ValueError(f"{name}: {_name(uid)}: column {columns[c]!r} has "
                             f"{int(bad[:, c].sum())} missing value(s), first at "
                             f"{raw[rows[r]]}; future covariates need every value of the "
                             f"horizon")
        out[uid] = v
    return out
