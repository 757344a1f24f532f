"""The long format (fastrnn.forecasting.panel): frames, polars and single series in; the
hygiene of every series with its message; forecasts out on each series' own calendar."""

from __future__ import annotations

import numpy as np
import pytest

from fastrnn.forecasting.base import Prediction
from fastrnn.forecasting.panel import read_panel

pd = pytest.importorskip("pandas")


def frame():
    """Two quarterly series ending at different times; b is written newest-first."""
    a = pd.DataFrame({"unique_id": "a", "ds": ["2000 Q1", "2000 Q2", "2000 Q3", "2000 Q4"],
                      "y": [1.0, 2.0, 3.0, 4.0]})
    b = pd.DataFrame({"unique_id": "b", "ds": ["2001 Q2", "2001 Q1", "2000 Q4"],
                      "y": [30.0, 20.0, 10.0]})
    return pd.concat([a, b], ignore_index=True)


def test_frames_in_long_format_out_on_each_calendar():
    p = read_panel(frame())
    assert p.uids == ["a", "b"] and len(p) == 2
    assert p["b"].y.tolist() == [10, 20, 30] and p["b"].report.order == "newest-first"
    assert p.notes() == ["series 'b': rows were newest-first; sorted oldest-first"]
    assert [s.season for s in p] == [4, 4] and p.frequency.name == "Q"
    out = p.to_long({"a": Prediction(np.array([5.0, 6.0])), "b": np.array([40.0, 50.0])})
    assert list(out.columns) == ["unique_id", "ds", "forecast"]
    assert out["ds"].tolist() == ["2001 Q1", "2001 Q2", "2001 Q3", "2001 Q4"]
    assert out["forecast"].tolist() == [5, 6, 40, 50]
    assert "2 series, 7 rows, quarters like '2000 Q1', frequency Q, season 4" in p.summary()
    assert p.to_frame()["y"].tolist() == [1, 2, 3, 4, 10, 20, 30]


def test_levels_become_lo_and_hi_columns():
    p = read_panel(frame())
    pred = Prediction(np.array([1.0, 2.0]), lo={80: np.zeros(2), 95: -np.ones(2)},
                      hi={80: np.full(2, 3.0), 95: np.full(2, 4.0)})
    out = p.to_long({"a": pred})
    assert list(out.columns) == ["unique_id", "ds", "forecast", "lo-80", "hi-80", "lo-95",
                                 "hi-95"]
    with pytest.raises(ValueError, match=r"columns of lengths \[2\], expected 3"):
        p.to_long({"a": pred}, h=3)
    with pytest.raises(ValueError, match="no series 'zz'"):
        p.to_long({"zz": [1.0]})


def test_renamed_and_several_id_columns():
    df = frame().rename(columns={"unique_id": "Region", "ds": "Quarter", "y": "Trips"})
    df["Purpose"] = "Holiday"
    p = read_panel(df, id_col=["Region", "Purpose"], time_col="Quarter", target_col="Trips")
    assert p.uids == [("a", "Holiday"), ("b", "Holiday")]
    out = p.to_long({("b", "Holiday"): [1.0]})
    assert list(out.columns) == ["Region", "Purpose", "Quarter", "forecast"]
    assert out.iloc[0].tolist() == ["b", "Holiday", "2001 Q3", 1.0]


def test_single_series_numpy_list_and_pandas():
    p = read_panel(np.arange(5.0))
    assert p.uids == ["series"] and p["series"].season is None
    assert p["series"].season_source == "autocorrelation"
    out = p.to_long({"series": [9.0, 9.0]})
    assert out["ds"].tolist() == [5, 6]
    assert read_panel([1.0, 2.0, 3.0], ds=["2020-01", "2020-02", "2020-03"]).future(
        read_panel([1.0, 2.0, 3.0], ds=["2020-01", "2020-02", "2020-03"])["series"], 1) == [
        "2020-04"]
    s = pd.Series([1.0, 2.0, 3.0], index=pd.period_range("2020Q1", periods=3, freq="Q"),
                  name="gdp")
    p = read_panel(s)
    out = p.to_long({"gdp": [4.0]})
    assert p["gdp"].season == 4 and str(out["ds"].iloc[0]) == "2020Q4"
    s = pd.Series([1.0, 2.0], index=pd.date_range("2020-01-01", periods=2, freq="h",
                                                  tz="Europe/Paris"))
    p = read_panel(s)
    out = p.to_long({"series": [3.0]})
    assert p["series"].season == 24 and str(out["ds"].iloc[0]) == "2020-01-01 02:00:00+01:00"


def test_pandas_datetime_and_period_columns_come_back_as_they_went():
    df = pd.DataFrame({"unique_id": ["a"] * 3,
                       "ds": pd.date_range("2020-01-31", periods=3, freq="ME"), "y": [1, 2, 3]})
    out = read_panel(df).to_long({"a": [4.0]})
    assert out["ds"].dtype == df["ds"].dtype and str(out["ds"].iloc[0])[:10] == "2020-04-30"
    df["ds"] = df["ds"].dt.to_period("M")
    out = read_panel(df).to_long({"a": [4.0]})
    assert isinstance(out["ds"].dtype, pd.PeriodDtype) and str(out["ds"].iloc[0]) == "2020-04"


def test_polars_in_polars_out():
    pl = pytest.importorskip("polars")
    import datetime as dt

    df = pl.DataFrame({"unique_id": ["a", "a", "a"],
                       "ds": [dt.date(2020, 1, 1), dt.date(2020, 1, 8), dt.date(2020, 1, 15)],
                       "y": [1.0, None, 3.0]})
    p = read_panel(df, fill="interpolate")
    assert p["a"].y.tolist() == [1, 2, 3] and p["a"].season == 52
    out = p.to_long({"a": [4.0]})
    assert isinstance(out, pl.DataFrame) and out["ds"].to_list() == [dt.date(2020, 1, 22)]


def test_a_mapping_of_columns():
    out = read_panel({"unique_id": ["x", "x"], "ds": [1, 2], "y": [1.0, 2.0]}).to_long(
        {"x": [3.0]})
    assert isinstance(out, dict) and list(out["ds"]) == [3]


@pytest.mark.parametrize("kwargs, data, match", [
    ({"time_col": "date"}, None, r"data: no column 'date' \(time_col\); columns: unique_id, ds, y"),
    ({"id_col": "Region"}, None, r"no column 'Region' \(id_col\)"),
    ({"covariates": ["price"]}, None, r"no column 'price' \(covariates\)"),
    ({}, {"unique_id": ["a"], "ds": [1], "y": ["x"]}, r"column 'y' \(target_col\) must hold"),
    ({}, {"unique_id": ["a", "a"], "ds": [1, 2], "y": [1.0, np.inf]}, r"'y' \(target_col\): inf"),
    ({}, {"unique_id": ["a", None], "ds": [1, 2], "y": [1.0, 2.0]}, r"\(id_col\): 1 missing"),
    ({}, {"unique_id": [], "ds": [], "y": []}, "no rows"),
    ({}, {"unique_id": ["a", "a"], "ds": ["x", "y"], "y": [1.0, 2.0]}, "'ds': cannot read 'x'"),
    ({"ds": [1, 2]}, None, "ds= is for a single series"),
    ({"season": 0}, None, "season must be a positive int or None, got 0"),
    ({"fill": "mean"}, None, "fill must be None"),
    ({"freq": "fortnightly"}, None, "freq must be a frequency"),
])
def test_bad_input_one_line_naming_the_column(kwargs, data, match):
    with pytest.raises(ValueError, match=match) as err:
        read_panel(frame() if data is None else data, **kwargs)
    assert "\n" not in str(err.value)


def test_not_a_frame():
    with pytest.raises(TypeError, match="data must be a pandas or polars DataFrame"):
        read_panel(42)


def test_duplicates_and_gaps_name_the_series():
    df = pd.concat([frame(), frame().iloc[[1]]], ignore_index=True)
    with pytest.raises(ValueError, match=r"series 'a': 1 time\(s\) with more than one row: "
                                         r"2000 Q2 \(2 rows\)"):
        read_panel(df)
    assert read_panel(df, duplicates="mean")["a"].y.tolist() == [1, 2, 3, 4]
    gap = frame().drop(index=[1]).reset_index(drop=True)
    with pytest.raises(ValueError, match=r"series 'a': 0 missing value\(s\) and 1 calendar "
                                         r"gap\(s\) on its Q grid \(first gap at 2000 Q2\)"):
        read_panel(gap)
    p = read_panel(gap, fill="interpolate")
    assert p["a"].y.tolist() == [1, 2, 3, 4] and p.to_frame()["ds"].tolist()[:2] == [
        "2000 Q1", "2000 Q2"]


def test_season_freq_covariates_and_static():
    df = frame()
    df["price"] = np.arange(len(df), dtype=float)
    df["kind"] = df["unique_id"].map({"a": "toys", "b": "food"})
    p = read_panel(df, season=2, covariates=["price"], static=["kind"])
    assert p["a"].season == 2 and p["a"].season_source == "given"
    assert p["b"].covariates["price"].tolist() == [6, 5, 4] and p["b"].static == {"kind": "food"}
    df.loc[0, "kind"] = "other"
    with pytest.raises(ValueError, match="static column 'kind' changes within"):
        read_panel(df, static=["kind"])
    monthly = pd.DataFrame({"unique_id": "m", "ds": ["2020-01", "2020-04", "2020-07"],
                            "y": [1.0, 2.0, 3.0]})
    assert read_panel(monthly)["m"].season == 4
    assert read_panel(monthly, freq="M", fill="zero")["m"].y.tolist() == [1, 0, 0, 2, 0, 0, 3]


def test_integer_steps_take_the_period_of_the_autocorrelation():
    t = np.arange(120)
    y = 10 + np.sin(2 * np.pi * t / 10)
    s = read_panel({"unique_id": ["x"] * 120, "ds": t, "y": y})["x"]
    assert s.season is None and s.period() == 10 and s.period(y[:60]) == 10


def test_the_development_collections_read_clean():
    pytest.importorskip("tsdata")
    from tsdata import fpp3
    p = read_panel(fpp3.raw["tourism"], ["Region", "State", "Purpose"], "Quarter", "Trips")
    assert len(p) == 304 and {len(s) for s in p} == {80} and {s.season for s in p} == {4}
    assert p.future(p.series[0], 2) == ["2018 Q1", "2018 Q2"] and p.notes() == []
    p = read_panel(fpp3.raw["us_employment"], "Series_ID", "Month", "Employed")
    assert len(p) == 148 and {s.season for s in p} == {12}
    assert sum(s.report.leading_missing > 0 for s in p) == 126
    short = p["CEU4245210001"]
    assert short.report.trailing_missing == 21 and short.report.end == "2017 Dec"
    assert p.future(short, 1) == ["2018 Jan"]
    assert "126 with leading or trailing missing values dropped" in p.summary()
