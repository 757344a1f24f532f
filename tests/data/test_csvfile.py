"""fastrnn.data.read_series_csv: what it reads, and that it refuses with a ValueError (the CLI
turns it into its one-line error)."""

from __future__ import annotations

import numpy as np
import pytest

from fastrnn import data


def write(tmp_path, text, name="data.csv"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_header_time_column_and_values(tmp_path):
    p = write(tmp_path, "year;flow\n1871;1120\n1872;1160\n1873;963\n")
    s = data.read_series_csv(p)
    assert isinstance(s, data.SeriesCSV)
    assert s.column == "flow" and s.time_column == "year" and s.labels == ["1871", "1872", "1873"]
    np.testing.assert_array_equal(s.values, [1120, 1160, 963])
    assert data.parse_time(s.labels).dtype == np.int64


def test_positions_and_dates(tmp_path):
    p = write(tmp_path, "1.5,2\n2.5,3\n")
    s = data.read_series_csv(p, column="2")
    assert s.column == "column 2" and s.labels is None and list(s.values) == [2.0, 3.0]
    assert data.parse_time(["2020-01-01", "2020-02-01"]).dtype.kind == "M"
    assert data.parse_time(["a", "b"]) is None and data.parse_time(None) is None


def test_shipped_file_reads_like_the_loader():
    s = data.read_series_csv(data.path("sunspots"))
    ds = data.load_sunspots()
    np.testing.assert_array_equal(s.values, ds.values)
    np.testing.assert_array_equal(data.parse_time(s.labels), ds.index)


@pytest.mark.parametrize("text,match", [
    ("", "the file is empty"),
    ("year,value\n2000,1\n2001,x\n", r"line 3, column 'value': 'x' is not a number"),
    ("year,value\n2000,\n", "missing value"),
])
def test_refusals_are_value_errors(tmp_path, text, match):
    with pytest.raises(ValueError, match=match):
        data.read_series_csv(write(tmp_path, text))


def test_missing_file_and_column(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        data.read_series_csv(str(tmp_path / "nope.csv"))
    with pytest.raises(ValueError, match="no column 'price'; columns: year, value"):
        data.read_series_csv(write(tmp_path, "year,value\n2000,1\n"), column="price")
