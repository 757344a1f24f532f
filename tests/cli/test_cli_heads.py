"""`fastrnn forecast --head gaussian|quantile`: the RNN candidates are built with that head,
and with --level the chosen RNN's intervals are the head's own (the numbers of
``RNNForecaster.predict``), not conformal ones; the one-line errors of what cannot work."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from fastrnn import forecasting
from fastrnn.forecasting.rnn import HEADS

from cli_helpers import FAST, run


def read_csv(path):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], np.array([[float(v) for v in r[1:]] for r in rows[1:]])


@pytest.fixture
def rnn_only(monkeypatch):
    """select without the baselines (so that an RNN is chosen); the selection is kept."""
    real = forecasting.select
    seen = []

    def select(*args, **kwargs):
        sel = real(*args, **{**kwargs, "baselines": False})
        seen.append(sel)
        return sel

    monkeypatch.setattr(forecasting, "select", select)
    return seen


def test_the_choices_are_the_forecasters_heads():
    from fastrnn.cli.parser import build_parser

    parser = build_parser()
    args = parser.parse_args(["forecast", "--head", "quantile"])
    assert args.head == "quantile"
    assert parser.parse_args(["forecast"]).head == "point"
    for head in HEADS:
        parser.parse_args(["forecast", "--head", head])


@pytest.mark.parametrize("head", ["gaussian", "quantile"])
def test_level_uses_the_heads_intervals(capsys, tmp_path, rnn_only, head):
    path = tmp_path / "fc.csv"
    rc, out, err = run(capsys, "forecast", *FAST, "--direct", "--head", head, "--level", "80",
                       "95", "--output", str(path))
    assert rc == 0, err
    assert f"{head} head" in out and f"intervals: 80%, 95%, from the network's {head} head" \
        in out
    sel = rnn_only[0]
    best = sel.models[sel.best_record["model"]]
    assert best.head == head and best.horizon == 5
    assert best.head_levels == (80.0, 95.0)         # the quantile head learns the levels asked
    head_row, values = read_csv(path)
    assert head_row == ["year", "forecast", "lo-80", "hi-80", "lo-95", "hi-95"]
    # the same numbers as the forecaster's own head intervals after a refit on the series
    again = best.clone().fit(sel._x).predict(5, level=[80, 95])
    np.testing.assert_allclose(values[:, 0], again.mean, rtol=1e-6)
    for i, lv in enumerate((80, 95)):
        np.testing.assert_allclose(values[:, 1 + 2 * i], again.lo[lv], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(values[:, 2 + 2 * i], again.hi[lv], rtol=1e-6, atol=1e-6)
    fc, lo80, hi80, lo95, hi95 = values.T
    assert np.all(lo95 <= lo80) and np.all(lo80 <= hi80) and np.all(hi80 <= hi95)
    if head == "gaussian":                        # mean -+ z sigma
        np.testing.assert_allclose(hi80 - fc, fc - lo80, rtol=1e-5)
        np.testing.assert_allclose((hi95 - fc) / (hi80 - fc), 1.959964 / 1.281552, rtol=1e-4)
    # a point head on the same settings gets conformal bounds: different numbers
    rc, out, err = run(capsys, "forecast", *FAST, "--direct", "--level", "80", "95",
                       "--output", str(tmp_path / "point.csv"))
    assert rc == 0, err
    assert "conformal" in out
    _, point = read_csv(tmp_path / "point.csv")
    assert not np.allclose(point[:, 1:], values[:, 1:])


def test_quantile_head_learns_the_levels_asked(capsys, tmp_path, rnn_only):
    rc, out, err = run(capsys, "forecast", *FAST, "--direct", "--head", "quantile",
                       "--level", "90", "--output", str(tmp_path / "q.csv"))
    assert rc == 0, err
    sel = rnn_only[0]
    assert all(m.head_levels == (90.0,) for m in sel.models.values())
    head_row, values = read_csv(tmp_path / "q.csv")
    assert head_row == ["year", "forecast", "lo-90", "hi-90"]
    assert np.all(values[:, 1] <= values[:, 0]) and np.all(values[:, 0] <= values[:, 2])


def test_head_without_level_forecasts(capsys, rnn_only):
    rc, out, err = run(capsys, "forecast", *FAST, "--head", "gaussian")
    assert rc == 0, err
    assert all(m.head == "gaussian" for m in rnn_only[0].models.values())
    assert "lo-80" not in out


@pytest.mark.parametrize("extra,parts", [
    (["--head", "gaussian", "--level", "80"], ["--head gaussian with --level", "--direct"]),
    (["--head", "quantile", "--id-column", "unique_id"], ["--head quantile", "--id-column"]),
])
def test_what_cannot_work_is_a_one_line_error(capsys, extra, parts):
    rc, out, err = run(capsys, "forecast", *FAST, *extra)
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fastrnn: error: "), err
    for p in parts:
        assert p in lines[0], (p, lines[0])
