"""bench/bench_forecasting.py: the validation split never reads the test part, the design
comparison varies one default at a time, and the forecast_collection row lines up with the
series it forecasts."""

from __future__ import annotations

import numpy as np
import pytest

from cli_helpers import load_bench


@pytest.fixture(scope="module")
def bench():
    return load_bench("bench_forecasting")


def test_validation_split_drops_the_test_part_and_too_short_series(bench):
    h = 3
    series = [("a", np.arange(20.0), 4), ("b", np.arange(6.0), 4), ("c", np.arange(7.0), 4)]
    got = bench.validation_split(series, h)
    assert [u for u, _, _ in got] == ["a", "c"]       # b has only h values left
    np.testing.assert_array_equal(got[0][1], np.arange(17.0))
    assert max(y.max() for _, y, _ in got) < 17       # no test value survives


def test_design_configs_change_one_default_at_a_time(bench):
    from fastrnn.forecasting.global_rnn import GlobalRNN
    configs = bench.design_configs(24, 12)
    base = GlobalRNN(24).get_params()
    assert configs["default"].get_params() == base
    assert {"input 36", "windows 32", "windows 128", "windows all", "season_window 24",
            "season_window all", "loss mae", "GRU(64)"} <= set(configs)
    assert "input 24" not in configs                   # h = max(h, 2m): the default itself
    for name, model in configs.items():
        changed = {k for k, v in model.get_params().items() if base[k] != v}
        assert len(changed) <= (2 if name == "GRU(64)" else 1), (name, changed)


def test_default_row_forecasts_every_series_in_order(bench):
    rng = np.random.default_rng(0)
    h, m = 4, 4
    t = np.arange(40)
    series = [(f"s{i}", 10 + i + np.sin(2 * np.pi * t / m) + rng.normal(0, 0.1, 40), m)
              for i in range(5)]
    res = bench.run_default(series, h, m, (80,))
    assert res.mean.shape == (5, h) and np.isfinite(res.mean).all()
    lo, hi = res.bounds[80]
    assert (lo <= res.mean).all() and (res.mean <= hi).all()
    # forecasts follow each series' level: the order of the rows is the order of the series
    assert np.all(np.diff(res.mean.mean(axis=1)) > 0)
    assert isinstance(res.chosen, str)


def test_seeds_rerun_the_default_row_and_print_its_spread(bench, monkeypatch, capsys):
    """--seeds reruns forecast_collection with each seed (the seed reaches it) and prints the
    min..max of its MASE and sMAPE; with fewer series than a global model needs the seed
    changes nothing, so the spread is exactly zero."""
    rng = np.random.default_rng(1)
    h, m = 4, 4
    t = np.arange(40)
    series = [(f"s{i}", 10 + i + np.sin(2 * np.pi * t / m) + rng.normal(0, 0.3, 40), m)
              for i in range(8)]          # 8 series x 3 windows: enough for 95%
    monkeypatch.setattr(bench, "load", lambda name: (series, h))
    monkeypatch.setattr(bench, "global_configs", lambda h, season: {})
    seen = []
    real = bench.run_default

    def spy(series, h, season, levels, seed=0):
        seen.append(seed)
        return real(series, h, season, levels, seed=seed)

    monkeypatch.setattr(bench, "run_default", spy)
    out = bench.run_collection("toy", [], [0, 3], 1, lambda s: None)
    assert seen == [0, 3]
    sp = out["seed_spread"]["fastrnn default (forecast_collection)"]
    assert sp["seeds"] == [0, 3] and len(sp["chose"]) == 2 and len(sp["coverage-80"]) == 2
    row = out["table"]["fastrnn default (forecast_collection)"]
    assert sp["mase"][0] == row["mase"] and sp["mase"][1] == pytest.approx(row["mase"])
    bench.print_table("toy", out)
    text = capsys.readouterr().out
    assert "seed spread of fastrnn default (forecast_collection) over seeds [0, 3]: MASE" in text
    assert "sMAPE" in text and "range 0.000" in text


def test_default_row_passes_forecast_collection_options(bench):
    """run_default(**options) reaches forecast_collection (bench/interval_windows.py varies
    interval_windows through it): more calibration windows change the bounds, not the
    point forecasts."""
    rng = np.random.default_rng(1)
    h, m = 4, 4
    t = np.arange(60)
    series = [(f"s{i}", 10 + i + np.sin(2 * np.pi * t / m) + rng.normal(0, 0.3 + i / 10, 60), m)
              for i in range(12)]
    a = bench.run_default(series, h, m, (80,), interval_windows=3)
    b = bench.run_default(series, h, m, (80,), interval_windows=6)
    np.testing.assert_allclose(a.mean, b.mean)
    assert not np.allclose(a.bounds[80][0], b.bounds[80][0])


def test_interval_windows_script_refuses_bad_windows(capsys):
    module = load_bench("interval_windows")
    with pytest.raises(SystemExit) as exc:
        module.main(["--windows", "3", "0"])
    assert exc.value.code == 2
    assert "--windows: expected integers >= 1, got [3, 0]" in capsys.readouterr().err
