"""The `fastrnn forecast` command never hangs, never shows a traceback and refuses what it
cannot do before doing any work (issue 17, defects 7 and 16): a huge --horizon, a --plot
that cannot be written, candidates or inputs larger than memory, /dev/zero, an --alpha that
is no level, and MemoryError / OSError from anywhere."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from fastrnn import cli
from fastrnn.cli import forecast as forecast_cmd

from cli_helpers import FAST, one_line_error


def run(capsys, *argv):
    t = time.perf_counter()
    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err, time.perf_counter() - t


def refused_up_front(capsys, *argv, parts=(), seconds=2.0):
    rc, out, err, took = run(capsys, "forecast", *argv)
    one_line_error(rc, err, *parts)
    assert out == "", "the error must come before any report"
    assert took < seconds, f"{took:.1f} s"


def test_huge_horizon_is_refused_not_run(capsys):
    refused_up_front(capsys, *FAST, "--horizon", "1000000000",
                     parts=["--horizon must be an int in [1, 10000]", "1000000000"])


def test_largest_horizon_runs(capsys):
    rc, out, err, _ = run(capsys, "forecast", *FAST[:-2], "--horizon", "10000", "--no-refit")
    assert rc == 0, err
    assert "forecast: 10000 steps" in out


@pytest.mark.parametrize("alpha", ["7", "nan", "0", "-0.1", "inf"])
def test_alpha_must_be_a_level(capsys, alpha):
    refused_up_front(capsys, *FAST, "--alpha", alpha, parts=["--alpha must be a number in (0, 1]"])


def test_plot_into_a_missing_directory_is_refused_before_any_work(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    refused_up_front(capsys, *FAST, "--plot", str(tmp_path / "no" / "such" / "fc.png"),
                     parts=["--plot", "does not exist"])


def test_plot_onto_a_directory_is_refused_before_any_work(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    (tmp_path / "fc.png").mkdir()
    refused_up_front(capsys, *FAST, "--plot", str(tmp_path / "fc.png"),
                     parts=["--plot", "is a directory"])


def test_candidates_larger_than_memory_are_refused_before_allocating(capsys):
    refused_up_front(capsys, "--quiet", "--cells", "gru", "--units", "100000", "--lags", "4",
                     parts=["GRU(100000)", "parameters", "of memory are available",
                            "fewer --units"])


def test_dev_zero_fails_on_its_first_line(capsys):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero here")
    refused_up_front(capsys, "/dev/zero", *FAST, parts=["/dev/zero", "NUL bytes"])


def test_a_series_longer_than_the_command_reads_is_refused(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(forecast_cmd, "MAX_VALUES", 1000)
    p = tmp_path / "long.csv"
    p.write_text("t,v\n" + "".join(f"{i},{i % 13}\n" for i in range(1001)))
    refused_up_front(capsys, str(p), *FAST, parts=["more than 1,000 values", "'v'"])
    noise = np.random.default_rng(0).standard_normal(1000)
    p.write_text("t,v\n" + "".join(f"{i},{v:.6f}\n" for i, v in enumerate(noise)))
    rc, _, err, _ = run(capsys, "forecast", str(p), *FAST)
    assert rc == 0, err


def test_a_file_larger_than_the_command_reads_is_refused(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(forecast_cmd, "MAX_CSV_CHARS", 10_000)
    p = tmp_path / "big.csv"
    p.write_text("t,v\n" + "".join(f"{i},{i % 13}.000000000\n" for i in range(2000)))
    refused_up_front(capsys, str(p), *FAST, parts=["larger than the 10,000 characters"])


def test_a_line_without_end_is_refused(capsys, tmp_path):
    p = tmp_path / "one.csv"
    p.write_text("1," * (1 << 20))
    refused_up_front(capsys, str(p), *FAST, parts=["line 1", "longer than"])


@pytest.mark.parametrize("exc,parts", [
    (MemoryError(), ["out of memory"]),
    (OSError(28, "No space left on device", "/tmp/fc.png"), ["/tmp/fc.png",
                                                               "No space left on device"]),
    (PermissionError(13, "Permission denied"), ["Permission denied"]),
])
def test_memory_and_os_errors_are_one_line(capsys, monkeypatch, exc, parts):
    def boom(args):
        raise exc
    monkeypatch.setattr(forecast_cmd, "run_forecast", boom)
    rc, _, err, _ = run(capsys, "forecast")
    one_line_error(rc, err, *parts)


def test_jobs_beyond_the_cores_run_on_the_cores(capsys):
    pytest.importorskip("joblib")
    from fastrnn.forecasting.workers import usable_cores

    rc, out, err, _ = run(capsys, "forecast", *FAST, "--jobs", "100000")
    assert rc == 0, err
    workers = min(usable_cores(), 4)          # 1 candidate + 3 baselines
    assert f"on {workers} job(s)" in out
