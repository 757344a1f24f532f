"""`fastrnn forecast --level 80 95`: the lo-/hi- columns printed and written (--output), the
bands of --plot with their legend, and the one-line errors of bad levels or paths."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from fastrnn import cli
from fastrnn.cli import tables
from fastrnn.forecasting import ConformalIntervals

from cli_helpers import FAST, one_line_error, run


def read_csv(path):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], np.array([[float(v) for v in r[1:]] for r in rows[1:]]), [r[0] for r in
                                                                                rows[1:]]


def test_levels_are_printed_and_written(capsys, tmp_path):
    out_csv = tmp_path / "fc.csv"
    rc, out, err = run(capsys, "forecast", *FAST, "--level", "95", "80", "--output",
                       str(out_csv))
    assert rc == 0, err
    assert "intervals: 80%, 95%, analytic" in out      # AR(9) is chosen on the sunspots
    assert "lo-80" in out and "hi-95" in out and f"output: {out_csv}" in out
    head, values, times = read_csv(out_csv)
    assert head == ["year", "forecast", "lo-80", "hi-80", "lo-95", "hi-95"]
    assert times == ["2009", "2010", "2011", "2012", "2013"]
    fc, lo80, hi80, lo95, hi95 = values.T
    assert np.all(lo95 < lo80) and np.all(lo80 < fc) and np.all(fc < hi80)
    assert np.all(hi80 < hi95)
    np.testing.assert_allclose(hi80 - fc, fc - lo80, rtol=1e-9)
    # the printed table shows the same numbers, rounded
    row = next(line for line in out.splitlines() if line.strip().startswith("2011"))
    np.testing.assert_allclose([float(v) for v in row.split()[1:]], values[2], atol=0.006)
    # the point forecast does not depend on --level
    rc, _, err = run(capsys, "forecast", *FAST, "--output", str(tmp_path / "plain.csv"))
    assert rc == 0, err
    head2, plain, _ = read_csv(tmp_path / "plain.csv")
    assert head2 == ["year", "forecast"]
    np.testing.assert_allclose(plain[:, 0], fc, rtol=1e-12)


def test_no_refit_levels_are_around_the_forecast_from_the_whole_series(capsys, tmp_path):
    path = tmp_path / "fc.csv"
    rc, _, err = run(capsys, "forecast", *FAST, "--no-refit", "--level", "80",
                       "--output", str(path))
    assert rc == 0, err
    rc, _, _ = run(capsys, "forecast", *FAST, "--no-refit", "--output",
                   str(tmp_path / "p.csv"))
    _, values, _ = read_csv(path)
    _, plain, _ = read_csv(tmp_path / "p.csv")
    np.testing.assert_allclose(values[:, 0], plain[:, 0], rtol=1e-12)
    assert np.all(values[:, 1] < values[:, 0]) and np.all(values[:, 2] > values[:, 0])


@pytest.mark.parametrize("bad", ["0", "100", "-5", "150"])
def test_levels_outside_0_100_are_one_line_errors(capsys, bad):
    rc, out, err = run(capsys, "forecast", *FAST, "--level", "80", bad)
    one_line_error(rc, err, "--level", "(0, 100)", "80 95")
    assert out == ""                        # refused before any work


def test_level_that_is_not_a_number_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["forecast", *FAST, "--level", "eighty"])
    assert exc.value.code == 2
    assert "--level" in capsys.readouterr().err


def test_bad_output_paths(capsys, tmp_path):
    rc, _, err = run(capsys, "forecast", *FAST, "--output", str(tmp_path / "fc.txt"))
    one_line_error(rc, err, "--output", ".csv")
    rc, _, err = run(capsys, "forecast", *FAST, "--output", str(tmp_path / "no" / "fc.csv"))
    one_line_error(rc, err, "--output: the directory", "does not exist")


def test_plot_has_a_band_per_level_in_the_legend(capsys, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    figures = []
    monkeypatch.setattr(plt, "close", figures.append)      # keep the figure to look at it
    png = tmp_path / "fc.png"
    rc, _, err = run(capsys, "forecast", *FAST, "--level", "80", "95", "--plot", str(png))
    assert rc == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ax = figures[0].axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "80% prediction interval" in labels and "95% prediction interval" in labels
    bands = ax.collections
    assert len(bands) == 2                                    # one shaded band per level
    _, values, _ = read_csv_from_run(capsys, tmp_path)
    # the 95% band (drawn first, lightest) spans the CSV's lo-95 .. hi-95
    ys = bands[0].get_paths()[0].vertices[:, 1]
    assert ys.min() == pytest.approx(values[:, 3].min()) and ys.max() == pytest.approx(
        values[:, 4].max())
    assert bands[0].get_alpha() < bands[1].get_alpha()
    monkeypatch.undo()
    plt.close("all")


def read_csv_from_run(capsys, tmp_path):
    path = tmp_path / "again.csv"
    rc, _, err = run(capsys, "forecast", *FAST, "--level", "80", "95", "--output", str(path))
    assert rc == 0, err
    return read_csv(path)


def test_interval_text_says_how():
    assert "analytic" in tables.interval_text("analytic", (80.0,))
    text = tables.interval_text(ConformalIntervals(n_windows=20, refit=False), (80.0, 95.0))
    assert text.startswith("intervals: 80%, 95%, conformal")
    assert "20 rolling origins 1 apart" in text and "fitted once" in text


def test_forecast_lines_with_bounds():
    lines = tables.forecast_lines(["a", "b"], [1.0, 2.0], "t", "y",
                                  {"lo-80": [0.5, 1.5], "hi-80": [1.5, 2.5]})
    assert lines[0].split() == ["t", "y", "lo-80", "hi-80"]
    assert lines[2].split() == ["b", "2.00", "1.50", "2.50"]
