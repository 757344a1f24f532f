"""Time labels (fastrnn.data.timeaxis) and the seasonal period from their frequency
(fastrnn.timeseries.seasonal): every form read, its frequency, its continuation, and the
messages for what cannot be read."""

from __future__ import annotations

import numpy as np
import pytest

from fastrnn.data.timeaxis import Frequency, frequency_from_name, parse_times
from fastrnn.timeseries.seasonal import (
    period_from_frequency,
    seasonal_period,
)


def future(labels, h=3, **kw):
    t = parse_times(labels, **kw)
    f = t.frequency()
    return t, f, t.write(t.ticks.max() + f.step * np.arange(1, h + 1))


@pytest.mark.parametrize("labels, freq, nxt", [
    (["1959Q1", "1959Q2", "1959Q3", "1959Q4"], "Q", ["1960Q1", "1960Q2"]),
    (["1959-Q1", "1959-Q2", "1959-Q3"], "Q", ["1959-Q4", "1960-Q1"]),
    (["1998 Q1", "1998 Q2", "1998 Q3"], "Q", ["1998 Q4", "1999 Q1"]),
    (["Q3 1998", "Q4 1998"], "Q", ["Q1 1999", "Q2 1999"]),
    (["1959-03-31", "1959-06-30", "1959-09-30", "1959-12-31"], "Q", ["1960-03-31", "1960-06-30"]),
    (["1959-01-01", "1959-04-01", "1959-07-01"], "Q", ["1959-10-01", "1960-01-01"]),
    (["1998 Jan", "1998 Feb", "1998 Mar"], "M", ["1998 Apr", "1998 May"]),
    (["Nov 1998", "Dec 1998"], "M", ["Jan 1999", "Feb 1999"]),
    (["2020-11", "2020-12"], "M", ["2021-01", "2021-02"]),
    (["1959M11", "1959M12"], "M", ["1960M01", "1960M02"]),
    (["31/01/2020", "29/02/2020", "31/03/2020"], "M", ["30/04/2020", "31/05/2020"]),
    (["1991 W51", "1991 W52"], "W", ["1992 W01", "1992 W02"]),
    (["2020-01-04", "2020-01-11", "2020-01-18"], "W", ["2020-01-25", "2020-02-01"]),
    (["2020-01-30", "2020-01-31", "2020-02-01"], "D", ["2020-02-02", "2020-02-03"]),
    (["2014-01-02", "2014-01-03", "2014-01-06", "2014-01-07"], "B", ["2014-01-08", "2014-01-09"]),
    (["2020-01-01 22:00", "2020-01-01 23:00"], "h", ["2020-01-02 00:00", "2020-01-02 01:00"]),
    (["2011-12-31T23:00:00Z", "2011-12-31T23:30:00Z"], "30min",
     ["2012-01-01T00:00:00Z", "2012-01-01T00:30:00Z"]),
    (["1950.0", "1951.0", "1952.0"], "Y", ["1953.0", "1954.0"]),
    (["1959.000", "1959.083", "1959.167"], "M", ["1959.250", "1959.333"]),
    (["1700", "1701", "1702"], "step", ["1703", "1704"]),
])
def test_each_form_is_read_and_continued_as_written(labels, freq, nxt):
    _, f, fut = future(labels, h=2)
    assert f.name == freq
    assert list(fut) == nxt


def test_numbers_and_datetime64_stay_numbers_and_datetime64():
    _, f, fut = future(np.array([3, 5, 7]))
    assert f == Frequency("step", 2) and fut.tolist() == [9, 11, 13]
    _, f, fut = future(np.array([1950.0, 1950.25, 1950.5]))
    assert f.name == "Q" and fut.tolist() == [1950.75, 1951.0, 1951.25]
    a = np.array(["2020-01-01", "2020-02-01", "2020-03-01"], dtype="datetime64[ns]")
    _, f, fut = future(a, h=1)
    assert f.name == "M" and fut.dtype == a.dtype and str(fut[0])[:10] == "2020-04-01"


def test_day_and_month_order_from_the_column():
    # a first field above 12: day/month/year; a second above 12: month/day/year
    assert future(["13/01/2020", "14/01/2020"], h=1)[2] == ["15/01/2020"]
    assert future(["01/13/2020", "01/14/2020"], h=1)[2] == ["01/15/2020"]
    # no field above 12, but only day/month gives evenly spaced dates (monthly, on the 1st)
    labels = [f"01/{m:02d}/2020" for m in range(1, 13)] + ["01/01/2021"]
    t, f, _ = future(labels)
    assert f.name == "M" and t.style.order == "dmy"
    # evenly spaced both ways: an error asking for the order
    with pytest.raises(ValueError, match=r"dayfirst=True or dayfirst=False.*%d/%m/%Y"):
        parse_times(["01/02/2020", "01/03/2020", "01/04/2020"])
    assert future(["01/02/2020", "01/03/2020"], dayfirst=False)[1].name == "D"
    assert future(["01/02/2020", "01/03/2020"], dayfirst=True)[1].name == "M"
    with pytest.raises(ValueError, match="only as day/month/year.*only as month/day/year"):
        parse_times(["13/01/2020", "01/13/2020"])


def test_a_strptime_format_for_anything_else():
    _, f, fut = future(["2020.01.03", "2020.01.04"], format="%Y.%m.%d", h=1)
    assert f.name == "D" and fut == ["2020.01.05"]
    with pytest.raises(ValueError, match="does not match format"):
        parse_times(["2020.01.03", "x"], format="%Y.%m.%d")


@pytest.mark.parametrize("labels, match", [
    (["foo", "bar"], "cannot read 'foo' as a time label"),
    (["1998 Q1", "1998-01"], "is not written like"),
    (["2020-02-30", "2020-03-01"], "is not a date"),
    (["2020-13", "2020-12"], "no month between 1 and 12"),
    (["1998 Foo", "1998 Jan"], "not a month name"),
    (["1/2/20", "1/3/20"], "four digits"),
    ([], "no time labels"),
    ([1.5, 2.25], "neither integer steps nor decimal years"),
    (np.array(["2020-01-01", "NaT"], dtype="datetime64[D]"), "missing time label"),
    (np.array([1.0, np.nan]), "missing"),
])
def test_unreadable_labels_say_which(labels, match):
    with pytest.raises(ValueError, match=match):
        parse_times(labels, name="ds")


def test_object_columns_of_strings_and_dates():
    import datetime as dt

    t = parse_times(np.array(["2020 Q1", "2020 Q2"], dtype=object))
    assert t.frequency().name == "Q"
    t = parse_times(np.array([dt.date(2020, 1, 31), dt.date(2020, 2, 29)], dtype=object))
    assert t.frequency().name == "M" and t.style.anchor == "end"


def test_frequency_names():
    assert frequency_from_name("QE") == Frequency("month", 3)
    assert frequency_from_name("W-SUN") == Frequency("day", 7)
    assert frequency_from_name("30min") == Frequency("second", 1800)
    assert frequency_from_name("D", unit="second") == Frequency("second", 86400)
    with pytest.raises(ValueError, match="freq must be a frequency"):
        frequency_from_name("fortnightly")
    with pytest.raises(ValueError, match="does not fit"):
        frequency_from_name("M", unit="day")
    assert Frequency("day", 14).name == "2W" and Frequency("second", 7200).name == "2h"


@pytest.mark.parametrize("freq, period", [
    ("Y", 1), ("Q", 4), ("M", 12), ("W", 52), ("D", 7), ("B", 5), ("h", 24), ("30min", 48),
    ("6M", 2), ("2W", 26), ("3D", None), ("step", None), ("MS", 12), ("QE", 4), ("W-SAT", 52),
    ("Q-DEC", 4), ("YE", 1), (52.18, 52), (12, 12), ("monthly", 12), (Frequency("month", 3), 4),
])
def test_period_from_frequency(freq, period):
    assert period_from_frequency(freq) == period


def test_seasonal_period_order_of_sources():
    rng = np.random.default_rng(0)
    x = np.sin(2 * np.pi * np.arange(120) / 10) + 0.1 * rng.standard_normal(120)
    assert seasonal_period(x, freq="M") == 12            # the calendar wins
    assert seasonal_period(x, freq="step") == 10         # integer steps: autocorrelation
    assert seasonal_period(x) == 10
    assert seasonal_period(x, freq="M", season=3) == 3   # given wins over all
    assert seasonal_period(None, freq="step") is None
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="season must be a positive int"):
            seasonal_period(x, season=bad)
    with pytest.raises(ValueError, match="freq must be"):
        period_from_frequency("fortnightly")
    with pytest.raises(ValueError, match="at least 1"):
        period_from_frequency(0.5)


def test_real_series_get_the_period_of_their_calendar():
    """Monthly El Nino (whose autocorrelation peaks at lag 48), read through its decimal-year
    labels, gets 12; weekly CO2 (Saturdays) 52 and quarterly US inflation 4."""
    datasets = pytest.importorskip("statsmodels.datasets")
    e = datasets.elnino.load_pandas().data
    years = np.repeat(e["YEAR"].to_numpy(), 12) + np.tile(np.arange(12) / 12, len(e))
    x = e.iloc[:, 1:].to_numpy().ravel()
    t = parse_times([f"{v:.3f}" for v in years])
    assert seasonal_period(x, freq=t.frequency()) == 12
    co2 = datasets.co2.load_pandas().data
    t = parse_times(co2.index.to_numpy())
    assert t.frequency().name == "W" and seasonal_period(freq=t.frequency()) == 52
    m = datasets.macrodata.load_pandas().data
    labels = [f"{int(y)}Q{int(q)}" for y, q in zip(m["year"], m["quarter"])]
    assert seasonal_period(m["infl"].to_numpy(), freq=parse_times(labels).frequency()) == 4
