"""`fastrnn forecast FILE.csv --id-column ...`: many series in the long format end to end
(quarterly "1998 Q1" dates, several id columns), the --output columns, the report, --plot,
hygiene notes and the one-line errors of bad input."""

from __future__ import annotations

import csv

import numpy as np
import pytest


from cli_helpers import one_line_error, run


IDS = ["Region", "State", "Purpose"]


def write_long(path, n_series=6, n=32, newest_first=False, drop=None, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_series):
        level = 100 + 40 * i
        for k in range(n):
            y = level * (1 + 0.25 * np.sin(2 * np.pi * k / 4)) + rng.normal(0, 2)
            rows.append([f"R{i % 3}", f"S{i // 3}", "Holiday" if i % 2 else "Business",
                         f"{1998 + k // 4} Q{k % 4 + 1}", f"{y:.3f}"])
    if newest_first:
        rows = rows[::-1]
    if drop is not None:
        del rows[drop]
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([*IDS, "Quarter", "Trips"])
        w.writerows(rows)
    return path


MANY = ["--id-column", *IDS, "--time-column", "Quarter", "--column", "Trips", "--horizon",
        "4"]


def test_many_series_end_to_end(capsys, tmp_path):
    src = write_long(tmp_path / "t.csv", n_series=8)   # 24 windows: enough for 95%
    out_csv = tmp_path / "fc.csv"
    rc, out, err = run(capsys, "forecast", src, *MANY, "--level", "80", "95", "--output",
                       out_csv, "--jobs", "2")
    assert rc == 0, err
    with open(out_csv, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == [*IDS, "Quarter", "forecast", "lo-80", "hi-80", "lo-95", "hi-95"]
    assert len(rows) == 1 + 8 * 4
    assert rows[1][:4] == ["R0", "S0", "Business", "2006 Q1"]       # 32 quarters from 1998
    assert [r[3] for r in rows[1:5]] == ["2006 Q1", "2006 Q2", "2006 Q3", "2006 Q4"]
    vals = np.array([[float(v) for v in r[4:]] for r in rows[1:]])
    f, lo80, hi80, lo95, hi95 = vals.T
    assert np.all(lo95 <= lo80) and np.all(lo80 <= f) and np.all(f <= hi80)
    assert np.all(hi80 <= hi95)
    # the report: data, models, windows, validation accuracy of each, the choice
    for part in ("8 series in the long format", "quarters like '1998 Q1'", "season 4",
                 "models compared: naive, seasonal naive, drift, theta, ar",
                 "3 window(s) of 4 steps", "MASE", "sMAPE", "<- chosen", "chosen: ",
                 "validation coverage", f"output: {out_csv}"):
        assert part in out, part


def test_summary_without_output_and_progress(capsys, tmp_path):
    src = write_long(tmp_path / "t.csv", n_series=4)
    rc, out, err = run(capsys, "forecast", src, *MANY)
    assert rc == 0, err
    assert "forecast: 4 steps; the first 3 series" in out
    assert "Region" in out and "2006 Q1" in out
    assert "cross-validating" in err and "forecasting" in err     # progress on stderr
    rc, out, err = run(capsys, "forecast", src, *MANY, "--quiet")
    assert rc == 0 and err == ""


def test_default_column_names(capsys, tmp_path):
    src = tmp_path / "d.csv"
    with open(src, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["unique_id", "ds", "y"])
        for uid in ("a", "b", "c"):
            for k in range(30):
                w.writerow([uid, k, 10 + (k % 5) + 0.1 * k])
    out_csv = tmp_path / "o.csv"
    rc, _, err = run(capsys, "forecast", src, "--id-column", "unique_id", "--horizon", "3",
                       "--output", out_csv, "--quiet")
    assert rc == 0, err
    with open(out_csv, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["unique_id", "ds", "forecast"]
    assert [r[1] for r in rows[1:4]] == ["30", "31", "32"]


def test_hygiene_notes(capsys, tmp_path):
    src = write_long(tmp_path / "t.csv", n_series=3, newest_first=True)
    rc, out, err = run(capsys, "forecast", src, *MANY, "--quiet")
    assert rc == 0, err
    assert "note: series ('R0', 'S0', 'Business'): rows were newest-first; sorted" in out
    gap = write_long(tmp_path / "g.csv", n_series=3, drop=10)
    rc, out, err = run(capsys, "forecast", gap, *MANY, "--quiet")
    one_line_error(rc, err, "g.csv", "calendar gap", "fill=")
    rc, out, err = run(capsys, "forecast", gap, *MANY, "--quiet", "--fill", "interpolate")
    assert rc == 0, err
    assert "1 calendar gap(s) filled by fill='interpolate'" in out


def test_plot(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    src = write_long(tmp_path / "t.csv", n_series=5)
    png = tmp_path / "p.png"
    rc, out, err = run(capsys, "forecast", src, *MANY, "--level", "80", "--plot", png,
                       "--quiet")
    assert rc == 0, err
    assert png.stat().st_size > 10_000 and f"plot: {png}" in out


def test_bad_input_is_one_line(capsys, tmp_path):
    src = write_long(tmp_path / "t.csv", n_series=2)
    rc, _, err = run(capsys, "forecast", src, "--id-column", "Nope", "--time-column",
                     "Quarter", "--column", "Trips")
    one_line_error(rc, err, "no id column 'Nope'", "columns: Region")
    rc, _, err = run(capsys, "forecast", src, *MANY[:-2], "--horizon", "0")
    one_line_error(rc, err, "--horizon")
    rc, _, err = run(capsys, "forecast", tmp_path / "missing.csv", *MANY)
    one_line_error(rc, err, "no such file")
    rc, _, err = run(capsys, "forecast", src, *MANY, "--level", "120")
    one_line_error(rc, err, "--level")
    rc, _, err = run(capsys, "forecast", src, *MANY, "--output", tmp_path / "x.txt")
    one_line_error(rc, err, "--output", ".csv")
    dup = tmp_path / "dup.csv"
    with open(src) as fh:
        text = fh.read().splitlines()
    with open(dup, "w") as fh:
        fh.write("\n".join(text + [text[1]]) + "\n")
    rc, _, err = run(capsys, "forecast", dup, *MANY)
    one_line_error(rc, err, "more than one row", "duplicates=")
    bad = tmp_path / "bad.csv"
    with open(bad, "w") as fh:
        fh.write("Region,State,Purpose,Quarter,Trips\nA,B,C,1998 Q1,lots\n")
    rc, _, err = run(capsys, "forecast", bad, *MANY)
    one_line_error(rc, err, "line 2", "'lots' is not a number")
    rc, _, err = run(capsys, "forecast", *MANY)
    one_line_error(rc, err, "--id-column needs a CSV file")
    short = write_long(tmp_path / "s.csv", n_series=2, n=5)
    rc, _, err = run(capsys, "forecast", short, *MANY, "--quiet")
    one_line_error(rc, err, "no validation window")
    rc, _, err = run(capsys, "forecast", src, *MANY, "--quiet", "--level", "95")
    one_line_error(rc, err, "level 95", "too few for a conformal interval", "n_windows")
