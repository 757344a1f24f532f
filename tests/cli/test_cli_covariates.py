"""`fastrnn forecast FILE.csv --id-column ... --future-covariates COL --future FILE.csv`:
covariates of a long CSV reach the global RNN end to end, and bad covariate options or a bad
--future file are one-line errors."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from fastrnn.forecasting import auto
from fastrnn.forecasting.global_rnn import GlobalRNN

from cli_helpers import one_line_error, run


H = 4


def write_promo(tmp_path, n_series=8, n=40, h=H, seed=0, future_rows=None):
    """A long CSV (id, t, sales, promo, visits, size) where a known-ahead promo drives the
    sales, and the --future file (id, t, promo) of the h steps after each series' end."""
    rng = np.random.default_rng(seed)
    rows, fut = [], []
    for i in range(n_series):
        level = rng.uniform(20, 40)
        promo = (rng.random(n + h) < 0.3).astype(int)
        y = level + 5.0 * promo + rng.normal(0, 0.5, n + h)
        for t in range(n):
            rows.append([f"s{i}", t, f"{y[t]:.3f}", promo[t], f"{y[t] + rng.normal():.3f}",
                         int(level // 10)])
        fut.extend([f"s{i}", t, promo[t]] for t in range(n, n + h))
    if future_rows is not None:
        fut = future_rows(fut)
    src, future = tmp_path / "sales.csv", tmp_path / "future.csv"
    with open(src, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["store", "t", "sales", "Promo", "visits", "size"])
        w.writerows(rows)
    with open(future, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["store", "t", "promo"])
        w.writerows(fut)
    return src, future


MANY = ["--id-column", "store", "--time-column", "t", "--column", "sales", "--horizon",
        str(H), "--quiet"]


@pytest.fixture
def small_default(monkeypatch):
    """The default candidates with a global RNN for 8 series and a short training, so that
    the command runs in seconds (the same code path as the real defaults)."""
    monkeypatch.setattr(auto, "GLOBAL_MIN_SERIES", 5)
    monkeypatch.setattr(auto, "GlobalRNN", lambda h, seed=0: GlobalRNN(
        h, seed=seed, steps=300, units=16))


def test_future_covariate_end_to_end(capsys, tmp_path, small_default):
    src, future = write_promo(tmp_path)
    out_csv = tmp_path / "fc.csv"
    rc, out, err = run(capsys, "forecast", src, *MANY, "--future-covariates", "promo",
                       "--past-covariates", "visits", "--static", "size", "--future", future,
                       "--output", out_csv)
    assert rc == 0, err
    assert "covariates: past visits; future-known Promo; static size (read by the global " \
           "RNN; the local models ignore them)" in out
    chosen = next(line for line in out.splitlines() if line.startswith("chosen: "))
    assert "GlobalLSTM" in chosen, out                 # the promo makes the network win
    with open(out_csv) as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 8 * H and list(rows[0]) == ["store", "t", "forecast"]
    assert [r["t"] for r in rows[:H]] == ["40", "41", "42", "43"]
    # the forecast follows the future file: promo on everywhere raises it
    _, on = write_promo(tmp_path, future_rows=lambda fut: [[u, t, 1] for u, t, _ in fut])
    rc, _, err = run(capsys, "forecast", src, *MANY, "--future-covariates", "promo",
                     "--past-covariates", "visits", "--static", "size", "--future", on,
                     "--output", tmp_path / "on.csv")
    assert rc == 0, err
    with open(tmp_path / "on.csv") as fh:
        raised = np.array([float(r["forecast"]) for r in csv.DictReader(fh)])
    base = np.array([float(r["forecast"]) for r in rows])
    assert raised.mean() > base.mean() + 1.0


def test_covariates_without_a_global_candidate_are_a_note(capsys, tmp_path):
    src, future = write_promo(tmp_path, n_series=3)
    rc, out, err = run(capsys, "forecast", src, *MANY, "--future-covariates", "promo",
                       "--future", future)
    assert rc == 0, err
    assert "note: covariates (future Promo) are read by global models only" in out
    assert "Warning" not in err


@pytest.mark.parametrize("extra, parts", [
    (["--future-covariates", "promo"], ["--future-covariates needs --future FILE.csv"]),
    (["--future", "f.csv"], ["--future needs --future-covariates"]),
    (["--past-covariates", "sales"], ["must name different columns"]),
    (["--past-covariates", "price"], ["no column 'price'", "columns: store, t, sales"]),
    (["--future-covariates", "promo", "--future", "nowhere.csv"],
     ["--future nowhere.csv: nowhere.csv: no such file"]),
])
def test_bad_covariate_options(capsys, tmp_path, monkeypatch, extra, parts):
    src, _ = write_promo(tmp_path, n_series=3)
    monkeypatch.chdir(tmp_path)
    rc, _, err = run(capsys, "forecast", src, *MANY, *extra)
    one_line_error(rc, err, *parts)


def test_covariate_options_need_id_column(capsys, tmp_path):
    src, _ = write_promo(tmp_path, n_series=3)
    rc, _, err = run(capsys, "forecast", src, "--static", "size")
    one_line_error(rc, err, "--static needs --id-column")


@pytest.mark.parametrize("edit, parts", [
    (lambda fut: [r for r in fut if r[0] != "s1"], ["no rows for 1 of the 3 series",
                                                    "first 's1'"]),
    (lambda fut: fut[1:], ["series 's0': expected its 4 times after its end (40 .. 43), "
                           "got 3 row(s) (41 .. 43)"]),
    (lambda fut: [[u, t, "" if k == 2 else p] for k, (u, t, p) in enumerate(fut)],
     ["series 's0': column 'Promo' has 1 missing value(s), first at 42"]),
    (lambda fut: [[u, t, "on"] for u, t, _ in fut], ["column 'promo'", "'on' is not a number"]),
])
def test_bad_future_file(capsys, tmp_path, edit, parts):
    src, future = write_promo(tmp_path, n_series=3, future_rows=edit)
    rc, _, err = run(capsys, "forecast", src, *MANY, "--future-covariates", "promo",
                     "--future", future)
    one_line_error(rc, err, f"--future {future}: ", *parts)
