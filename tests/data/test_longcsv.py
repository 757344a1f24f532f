"""Many series from one CSV file (fastrnn.data.longcsv), read without pandas and cleaned by
the long format's reader."""

from __future__ import annotations

import numpy as np
import pytest

from fastrnn.data.longcsv import read_long_csv

TEXT = """Region;Quarter;Trips;Price
b;2000 Q2;20;1
b;2000 Q1;10;1
a;2000 Q1;1;2
a;2000 Q2;NA;2
a;2000 Q3;3;2
"""


def write(tmp_path, text=TEXT):
    p = tmp_path / "long.csv"
    p.write_text(text)
    return str(p)


def test_columns_as_text_and_numbers(tmp_path):
    cols = read_long_csv(write(tmp_path), "region", "quarter", "trips", covariates=["Price"])
    assert list(cols) == ["Region", "Quarter", "Trips", "Price"]
    assert cols["Region"] == ["b", "b", "a", "a", "a"] and cols["Quarter"][0] == "2000 Q2"
    assert np.isnan(cols["Trips"][3]) and cols["Trips"][[0, 1, 2, 4]].tolist() == [20, 10, 1, 3]


def test_into_the_long_format_reader(tmp_path):
    from fastrnn.forecasting.panel import read_panel

    cols = read_long_csv(write(tmp_path), "Region", "Quarter", "Trips")
    with pytest.raises(ValueError, match=r"series 'a': 1 missing value\(s\)"):
        read_panel(cols, "Region", "Quarter", "Trips")
    p = read_panel(cols, "Region", "Quarter", "Trips", fill="interpolate")
    assert p["a"].y.tolist() == [1, 2, 3] and p["b"].y.tolist() == [10, 20]
    assert p.notes()[0] == "series 'b': rows were newest-first; sorted oldest-first"
    assert p.future(p["b"], 1) == ["2000 Q3"]


@pytest.mark.parametrize("text, kwargs, match", [
    (TEXT, {"id_columns": "State"}, r"no id column 'State'; columns: Region, Quarter, Trips"),
    (TEXT.replace("20;1", "x;1"), {}, r"line 2, column 'Trips': 'x' is not a number"),
    (TEXT.replace("b;2000 Q1", ";2000 Q1"), {}, r"line 3, column 'Region': missing"),
    (TEXT.replace(";2\n", "\n", 1), {"covariates": ["Price"]}, "line 4: 3 field"),
    ("Region;Quarter;Trips\n", {}, "no rows after the header"),
])
def test_errors_name_file_line_and_column(tmp_path, text, kwargs, match):
    args = {"id_columns": "Region", "time_column": "Quarter", "value_column": "Trips", **kwargs}
    with pytest.raises(ValueError, match=match) as err:
        read_long_csv(write(tmp_path, text), **args)
    assert "\n" not in str(err.value) and "long.csv" in str(err.value)
