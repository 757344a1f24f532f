"""One series cleaned (fastrnn.data.hygiene): order, duplicates, leading and trailing missing
values, gaps and fills, each with its message."""

from __future__ import annotations

import numpy as np
import pytest

from fastrnn.data.hygiene import clean_series
from fastrnn.data.timeaxis import parse_times

Q = ["1998 Q1", "1998 Q2", "1998 Q3", "1998 Q4", "1999 Q1"]


def clean(labels, y, **kw):
    t = parse_times(labels)
    return clean_series(t.ticks, np.asarray(y, float), times=t, name="s", **kw)


def test_a_clean_series_is_untouched():
    _, y, _, rep = clean(Q, [1, 2, 3, 4, 5])
    assert y.tolist() == [1, 2, 3, 4, 5] and rep.notes() == [] and rep.frequency.name == "Q"
    assert (rep.start, rep.end, rep.n, rep.rows) == ("1998 Q1", "1999 Q1", 5, 5)


def test_newest_first_is_reversed_and_said():
    _, y, _, rep = clean(Q[::-1], [5, 4, 3, 2, 1])
    assert y.tolist() == [1, 2, 3, 4, 5] and rep.order == "newest-first"
    assert rep.notes() == ["s: rows were newest-first; sorted oldest-first"]
    _, y, _, rep = clean([Q[1], Q[0], Q[2]], [2, 1, 3])
    assert y.tolist() == [1, 2, 3] and rep.order == "unordered"
    assert "out of time order" in rep.notes()[0]


def test_duplicates_are_an_error_or_an_explicit_choice():
    labels = [Q[0], Q[1], Q[1], Q[2], Q[2], Q[2]]
    y = [1, 2, 4, 5, np.nan, 7]
    with pytest.raises(ValueError, match=r"s: 2 time\(s\) with more than one row: 1998 Q2 "
                                         r"\(2 rows\), 1998 Q3 \(3 rows\); .*duplicates="):
        clean(labels, y)
    want = {"first": [1, 2, 5], "last": [1, 4, 7], "mean": [1, 3, 6], "sum": [1, 6, 12]}
    for how, expected in want.items():
        _, got, _, rep = clean(labels, y, duplicates=how)
        assert got.tolist() == expected, how
        assert rep.duplicates == 3 and f"duplicates={how!r}" in rep.notes()[0]
    with pytest.raises(ValueError, match="duplicates must be"):
        clean(Q, [1, 2, 3, 4, 5], duplicates="max")


def test_leading_missing_values_are_dropped_and_counted():
    _, y, _, rep = clean(Q, [np.nan, np.nan, 3, 4, 5])
    assert y.tolist() == [3, 4, 5] and rep.leading_missing == 2 and rep.start == "1998 Q3"
    assert rep.notes() == ["s: 2 leading missing value(s) dropped (the series starts at 1998 Q3)"]
    with pytest.raises(ValueError, match=r"s: no values \(all 2 missing\)"):
        clean(Q[:2], [np.nan, np.nan])


def test_gaps_and_missing_values_need_an_explicit_fill():
    labels = [Q[0], Q[1], Q[3], Q[4]]             # 1998 Q3 absent
    y = [1, np.nan, 4, 5]
    with pytest.raises(ValueError, match=r"s: 1 missing value\(s\) and 1 calendar gap\(s\) on "
                                         r"its Q grid \(first missing at 1998 Q2; first gap at "
                                         r"1998 Q3\); fill them with fill="):
        clean(labels, y)
    want = {"interpolate": [1, 2, 3, 4, 5], "ffill": [1, 1, 1, 4, 5], "zero": [1, 0, 0, 4, 5]}
    for how, expected in want.items():
        ticks, got, _, rep = clean(labels, y, fill=how)
        assert got.tolist() == expected, how
        assert (rep.missing, rep.gaps, rep.n) == (1, 1, 5)
        assert rep.notes() == [f"s: 1 missing value(s) and 1 calendar gap(s) filled by fill={how!r}"]
    assert parse_times(Q).write(ticks) == Q
    with pytest.raises(ValueError, match="fill must be"):
        clean(labels, y, fill="mean")


def test_trailing_missing_values_are_dropped_and_counted():
    _, y, _, rep = clean(Q, [np.nan, 2, 3, np.nan, np.nan])
    assert y.tolist() == [2, 3] and (rep.leading_missing, rep.trailing_missing) == (1, 2)
    assert rep.notes()[1] == "s: 2 trailing missing value(s) dropped (the series ends at 1998 Q3)"


def test_extra_columns_follow_the_values():
    t = parse_times([Q[2], Q[0], Q[1]])
    _, y, cols, _ = clean_series(t.ticks, [3.0, 1.0, 2.0], times=t,
                                 columns={"price": [30.0, 10.0, 20.0]})
    assert y.tolist() == [1, 2, 3] and cols["price"].tolist() == [10, 20, 30]
    with pytest.raises(ValueError, match="column 'price' has missing values"):
        clean_series(t.ticks, [3.0, 1.0, 2.0], times=t, columns={"price": [30, np.nan, 20]})


def test_an_explicit_frequency_and_times_off_its_grid():
    from fastrnn.data.timeaxis import Frequency

    t = parse_times(["2020-01", "2020-04", "2020-10"])
    _, y, _, rep = clean_series(t.ticks, [1.0, 2.0, 4.0], times=t, fill="interpolate",
                                frequency=Frequency("month", 3))
    assert y.tolist() == [1, 2, 3, 4] and rep.gaps == 1
    with pytest.raises(ValueError, match="2020-02 is not on the Q grid"):
        t = parse_times(["2020-01", "2020-02"])
        clean_series(t.ticks, [1.0, 2.0], times=t, frequency=Frequency("month", 3))


def test_integer_steps_without_labels():
    _, y, _, rep = clean_series(np.array([0, 2, 6]), [1.0, 2.0, 4.0], fill="interpolate")
    assert y.tolist() == [1, 2, 3, 4] and rep.frequency.name == "step 2" and rep.gaps == 1
