"""The `fastrnn` command: forecast (report, CSV handling, one-line errors, --plot), info,
bench, demo, and `python -m fastrnn`."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from fastrnn.data import load_sunspots

from cli_helpers import FAST, one_line_error, run


def write(tmp_path, text, name="data.csv"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_forecast_shipped_series_report(capsys):
    rc, out, err = run(capsys, "forecast", *FAST)
    assert rc == 0, err
    assert "sunspots" in out and "public domain" in out
    assert "309 values, 1700 .. 2008" in out
    assert "ADF test on the training part" in out and "d=0: statistic -2.989" in out
    assert "differencing: none" in out and "season: period 11" in out
    for name in ("naive", "seasonal naive (s=11)", "AR(9)", "GRU(4) lags=4 epochs=3"):
        assert name in out
    for col in ("params", "log L", "AIC", "BIC", "MSE", "fit s"):
        assert col in out
    assert "chosen: " in out
    assert "forecast: 5 steps (recursive), refitted on all 309 values" in out
    for year in range(2009, 2014):
        assert f"  {year}  " in out
    assert err == ""          # --quiet: no progress


def test_forecast_progress_goes_to_stderr(capsys):
    rc, out, err = run(capsys, "forecast", *FAST[1:])
    assert rc == 0
    assert "[1/4]" in err and "[4/4]" in err and "GRU(4)" in err
    assert "[1/4]" not in out


def test_forecast_criterion_direct_and_csv(capsys, tmp_path):
    s = load_sunspots()
    rows = "\n".join(f"{y}-01-01,{v},{v * 2}" for y, v in zip(s.index[:200], s.values[:200]))
    p = write(tmp_path, "date,spots,double\n" + rows + "\n")
    rc, out, err = run(capsys, "forecast", p, "--column", "double", "--criterion", "aic",
                       "--direct", *FAST)
    assert rc == 0, err
    assert "column 'double' (time: 'date')" in out and "ranked by AIC" in out
    assert "direct 5-step outputs" in out
    assert "GRU(4) lags=4 h=5 epochs=3" in out
    assert "1900-01-01" in out and "1904-01-01" in out       # yearly dates continued


def test_forecast_csv_variants(capsys, tmp_path):
    x = 10 + np.sin(np.arange(80) / 3) + np.arange(80) * 0.01
    # no header, one column; positions as labels
    p = write(tmp_path, "\n".join(f"{v:.5f}" for v in x) + "\n", "plain.csv")
    rc, out, err = run(capsys, "forecast", p, *FAST)
    assert rc == 0, err
    assert "column 'column 1'" in out and "80 values, 0 .. 79" in out
    # semicolons, monthly dates continue by month
    months = np.arange("2015-01", "2021-08", dtype="datetime64[M]")[:80]
    p = write(tmp_path, "month;value\n" + "\n".join(f"{m}-01;{v:.4f}" for m, v in zip(months, x)),
              "semi.csv")
    rc, out, err = run(capsys, "forecast", p, *FAST, "--diff", "1")
    assert rc == 0, err
    assert "first differences, as given (--diff)" in out
    assert "2021-07-01" in out and "2021-08-01" in out and "2021-12-01" in out


@pytest.mark.parametrize("text,parts", [
    ("year,value\n2000,1\n2001,abc\n2002,3\n", ["line 3", "column 'value'", "'abc' is not a number"]),
    ("year,value\n2000,1\n2001,\n2002,3\n", ["line 3", "column 'value'", "missing value"]),
    ("year,value\n2000,1\n2001,NaN\n", ["line 3", "column 'value'", "missing value"]),
    ("year,value\n2000,1\n2001,inf\n", ["line 3", "'inf' is not a finite number"]),
    ("year,value\n2000,1\n2001\n", ["line 3", "1 field(s)"]),
    ("year,value\n" + "".join(f"{2000 + i},{i % 7 + i / 9}\n" for i in range(20)),
     ["column 'value' has 20 values", "too few for lags up to 4", "need at least 24"]),
    ("", ["the file is empty"]),
    ("year,value\n", ["has no values"]),
    ("year,value\n" + "".join(f"{2000 + i},5\n" for i in range(60)), ["is constant"]),
])
def test_bad_csv_one_line_errors(capsys, tmp_path, text, parts):
    p = write(tmp_path, text)
    rc, out, err = run(capsys, "forecast", p, *FAST)
    one_line_error(rc, err, p, *parts)


def test_missing_file_column_and_directory(capsys, tmp_path):
    rc, _, err = run(capsys, "forecast", str(tmp_path / "nope.csv"), *FAST)
    one_line_error(rc, err, "nope.csv", "no such file")
    p = write(tmp_path, "year,value\n2000,1\n")
    rc, _, err = run(capsys, "forecast", p, "--column", "price", *FAST)
    one_line_error(rc, err, p, "no column 'price'", "columns: year, value")
    rc, _, err = run(capsys, "forecast", str(tmp_path), *FAST)
    one_line_error(rc, err, "is a directory")
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00\x81garbage")
    rc, _, err = run(capsys, "forecast", str(tmp_path / "bin.csv"), *FAST)
    one_line_error(rc, err, "bin.csv")


def test_bad_options(capsys):
    rc, _, err = run(capsys, "forecast", *FAST, "--horizon", "0")
    one_line_error(rc, err, "--horizon")
    rc, _, err = run(capsys, "forecast", *FAST, "--lags", "240")
    one_line_error(rc, err, "too few for lags up to 240")
    rc, _, err = run(capsys, "forecast", *FAST, "--plot", "out.pdf")
    one_line_error(rc, err, ".png")


def test_plot_written(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "fc.png"
    rc, out, err = run(capsys, "forecast", *FAST, "--plot", str(png))
    assert rc == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"plot: {png}" in out


def test_plot_without_matplotlib(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    rc, out, err = run(capsys, "forecast", *FAST, "--plot", str(tmp_path / "x.png"))
    one_line_error(rc, err, "--plot needs matplotlib", "fastrnn[plot]")
    assert out == ""                  # refused before any work


def test_jobs_give_the_same_report(capsys):
    pytest.importorskip("joblib")
    rc, out1, _ = run(capsys, "forecast", *FAST)
    rc2, out2, _ = run(capsys, "forecast", *FAST, "--jobs", "2")
    assert rc == rc2 == 0

    def table(out):      # everything but the timings
        return [l.rsplit(None, 1)[0] for l in out.splitlines()
                if l[:4].strip().isdigit() or l.startswith("chosen")]

    assert table(out1) == table(out2)


def test_info(capsys):
    rc, out, _ = run(capsys, "info")
    assert rc == 0 and "backends built" in out and "default backend" in out


def test_bench_quick(capsys):
    rc, out, err = run(capsys, "bench", "--shapes", "infer-b1", "--cells", "gru", "--no-torch")
    assert rc == 0, err
    assert "infer-b1" in out and "agreement with the reference: OK" in out
    rc, out, err = run(capsys, "bench", "--backends", "cuda", "--shapes", "infer-b1")
    if "cuda" not in __import__("fastrnn").backends.available():
        one_line_error(rc, err, "'cuda' is not available")


def test_demo_kept(capsys):
    rc, out, _ = run(capsys, "demo", "--shapes", "infer-b1")
    assert rc == 0 and "agreement with the reference: OK" in out


def test_python_m_fastrnn(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-m", "fastrnn", "forecast", str(tmp_path / "x.csv")],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip() == f"fastrnn: error: {tmp_path / 'x.csv'}: no such file"
    r = subprocess.run([sys.executable, "-m", "fastrnn", "--version"], capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("fastrnn ")


def test_jobs_without_joblib_is_a_note(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "joblib", None)
    rc, out, err = run(capsys, "forecast", *FAST, "--jobs", "2")
    assert rc == 0
    assert err.strip() == ("fastrnn: note: joblib is not installed (pip install joblib): --jobs "
                           "ignored, the candidates run one after another")
    assert "on 1 job(s)" in out


def test_backend_option(capsys):
    import fastrnn

    rc, out, err = run(capsys, "forecast", *FAST, "--backend", "numpy")
    assert rc == 0, err
    assert "backend numpy" in out
    if "cuda" not in fastrnn.backends.available():
        rc, _, err = run(capsys, "forecast", *FAST, "--backend", "cuda")
        one_line_error(rc, err, "backend 'cuda' is not available here")
