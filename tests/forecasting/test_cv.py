"""Rolling-origin cross-validation over a collection (fastrnn.forecasting.cv), the accuracy
metrics (accuracy), and the many-series runner and forecast (local)."""

from __future__ import annotations

import numpy as np
import pytest

from fastrnn import _params
from fastrnn.forecasting import accuracy
from fastrnn.forecasting.base import Forecaster, Prediction
from fastrnn.forecasting.baselines import AR, Naive, SeasonalNaive
from fastrnn.forecasting.cv import cross_validate, window_cutoffs
from fastrnn.forecasting.local import (
    forecast_panel,
    model_specs,
    n_workers,
    standard_baselines,
)
from fastrnn.forecasting.theta import Theta

pd = pytest.importorskip("pandas")


def collection(n_series=6, n=40, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_series):
        t = np.arange(n)
        y = 50 + i + 0.3 * t + 5 * np.sin(2 * np.pi * t / 4) + rng.normal(0, 1, n)
        ds = [f"{2000 + k // 4} Q{k % 4 + 1}" for k in range(n)]
        rows.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": y}))
    return pd.concat(rows, ignore_index=True)


# -- metrics --------------------------------------------------------------------------------
def test_point_metrics_by_hand():
    a, f = np.array([2.0, 4.0, 0.0]), np.array([1.0, 5.0, 0.0])
    assert accuracy.mae(a, f) == pytest.approx(2 / 3)
    assert accuracy.rmse(a, f) == pytest.approx(np.sqrt(2 / 3))
    assert accuracy.smape(a, f) == pytest.approx(200 / 3 * (1 / 3 + 1 / 9))   # 0/0 counts 0
    assert np.isnan(accuracy.mape(a, f))                                       # an actual is 0
    assert accuracy.mape([2.0, 4.0], [1.0, 5.0]) == pytest.approx(100 * (0.5 + 0.25) / 2)
    train = np.array([1.0, 2.0, 4.0, 7.0, 8.0])
    assert accuracy.mase_scale(train) == pytest.approx((1 + 2 + 3 + 1) / 4)
    assert accuracy.mase_scale(train, 2) == pytest.approx((3 + 5 + 4) / 3)
    assert accuracy.mase_scale(train, 12) == accuracy.mase_scale(train, 1)     # n <= s
    assert accuracy.mase(a, f, train) == pytest.approx((2 / 3) / 1.75)
    assert np.isnan(accuracy.mase(a, f, np.ones(5)))                           # q = 0
    with pytest.raises(ValueError, match="same length"):
        accuracy.mae([1.0], [1.0, 2.0])


def test_interval_metrics_by_hand():
    a = np.array([1.0, 5.0, 10.0])
    lo, hi = np.array([0.0, 6.0, 8.0]), np.array([2.0, 7.0, 9.0])
    assert accuracy.coverage(a, lo, hi) == pytest.approx(1 / 3)
    train = np.array([0.0, 1.0, 3.0])                                          # q = 1.5
    alpha = 0.2
    want = ((2 + 1 + 1) + 2 / alpha * (6 - 5) + 2 / alpha * (10 - 9)) / 3 / 1.5
    assert accuracy.msis(a, lo, hi, train, 80) == pytest.approx(want)
    pred = Prediction(a.copy(), lo={80: lo}, hi={80: hi})
    got = accuracy.evaluate(a, pred, train)
    assert got["coverage-80"] == pytest.approx(1 / 3) and got["msis-80"] == pytest.approx(want)
    assert got["mase"] == 0 and set(accuracy.POINT_METRICS) <= set(got)
    plain = accuracy.evaluate(a, a + 1.0, train)                   # an array of forecasts
    assert plain["mae"] == 1 and "coverage-80" not in plain
    with pytest.raises(ValueError, match="level must be a percentage"):
        accuracy.msis(a, lo, hi, train, 100)


# -- windows --------------------------------------------------------------------------------
def test_window_cutoffs():
    assert window_cutoffs(20, 2, 3, 2) == [14, 16, 18]
    assert window_cutoffs(20, 4, 2, 1, holdout=4) == [11, 12]


def test_windows_by_hand():
    y = np.arange(20, dtype=float) ** 1.5
    data = pd.DataFrame({"unique_id": ["a"] * 20, "ds": np.arange(20), "y": y})
    cv = cross_validate(Naive(), data, h=2, n_windows=3, step=2)
    fc = cv.forecasts()
    assert list(fc.columns) == ["unique_id", "ds", "cutoff", "y", "naive"]
    assert fc["ds"].tolist() == [14, 15, 16, 17, 18, 19]
    assert fc["cutoff"].tolist() == [13, 13, 15, 15, 17, 17]
    assert fc["naive"].tolist() == [y[13]] * 2 + [y[15]] * 2 + [y[17]] * 2
    assert fc["y"].tolist() == y[14:].tolist()
    want = []
    for cut in (14, 16, 18):
        want.append(np.mean(np.abs(y[cut:cut + 2] - y[cut - 1]))
                    / np.mean(np.abs(np.diff(y[:cut]))))
    per = cv.per_series()
    assert per["mase"].iloc[0] == pytest.approx(np.mean(want))
    assert per["windows"].iloc[0] == 3 and per["failed"].iloc[0] == 0
    assert cv.summary()["mase"].iloc[0] == pytest.approx(np.mean(want))


def test_holdout_is_never_seen():
    data = collection(2, 24)
    cv = cross_validate(Naive(), data, h=4, n_windows=2, step=4, holdout=4)
    fc = cv.forecasts()
    assert fc["ds"].tolist()[-1] == "2004 Q4"                 # 24 values end at 2005 Q4
    assert sorted(set(fc["cutoff"])) == ["2002 Q4", "2003 Q4"]


def test_a_collection_and_its_seasons():
    data = collection()
    cv = cross_validate(standard_baselines(), data, h=4, n_windows=2)
    s = cv.summary()
    assert s["model"].tolist() == ["naive", "seasonal naive", "drift", "theta"]
    assert s["series"].tolist() == [6] * 4 and s["failed"].tolist() == [0] * 4
    # seasonal data, period 4 from the quarters: the seasonal models win
    by = dict(zip(s["model"], s["mase"]))
    assert by["seasonal naive"] < by["naive"] and by["theta"] < by["naive"]
    assert cv.best() in ("theta", "seasonal naive")
    assert len(cv.per_series()) == 6 * 4 and cv.errors() == []


def test_n_jobs_does_not_change_the_result():
    data = collection(5)
    one = cross_validate(standard_baselines(), data, h=4, n_windows=2, n_jobs=1)
    two = cross_validate(standard_baselines(), data, h=4, n_windows=2, n_jobs=2)
    strip = [{k: v for k, v in r.items() if k != "fit_s"} for r in one.records]
    assert strip == [{k: v for k, v in r.items() if k != "fit_s"} for r in two.records]
    calls = []
    cross_validate(Naive(), data, h=4, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1][0] == calls[-1][1]


def test_failures_are_recorded_not_raised():
    data = collection(2, 12)
    cv = cross_validate({"sn": SeasonalNaive(4), "theta": Theta(period=4)}, data, h=4,
                        n_windows=4)
    errs = cv.errors()
    assert errs and all("too short" in e[3] for e in errs)     # window 1 trains on 0 values
    s = cv.summary()
    assert s["failed"].tolist() == [4, 4] and s["series"].tolist() == [2, 2]


class Banded(Forecaster):
    """The naive forecast with a band of +-1 at every level (to test interval scores)."""

    name, n_params, min_history, max_history = "banded", 0, 1, 1

    def get_params(self):
        return {}

    def _fit(self, x):
        pass

    def predict_one_step(self, x, start):
        return np.asarray(x)[start - 1:-1]

    def forecast(self, x, steps):
        return np.full(steps, float(np.asarray(x)[-1]))

    def predict(self, h, level=None):
        mean = self.forecast(self.y_, h)
        return Prediction(mean, lo={lv: mean - 1 for lv in level or ()},
                          hi={lv: mean + 1 for lv in level or ()})


def test_levels_add_coverage_and_msis():
    cv = cross_validate(Banded(), collection(2), h=4, level=[80, 95])
    s = cv.summary()
    assert {"coverage-80", "msis-80", "coverage-95", "msis-95"} <= set(s.columns)
    assert "banded-lo-80" in cv.forecasts().columns

    class NoBands(Banded):
        def predict(self, h, level=None):
            if level is not None:
                raise NotImplementedError("no intervals here")
            return super().predict(h)

    # a model that cannot give intervals stops the run: it is not a failure of one window
    with pytest.raises(NotImplementedError, match="no intervals here"):
        cross_validate(NoBands(), collection(2), h=4, level=[80])


# -- the runner -----------------------------------------------------------------------------
def test_workers_are_capped():
    assert n_workers(None, 10) == 1 and n_workers(1, 10) == 1
    assert n_workers(-1, 1) == 1 and n_workers(64, 3) <= 3
    assert n_workers(10_000, 10_000) == n_workers(-1, 10_000)       # never above the cores
    with pytest.raises(ValueError, match="n_jobs must not be 0"):
        n_workers(0, 5)
    with pytest.raises(_params.ParameterError, match="n_jobs must be an int"):
        n_workers("2", 5)


def test_model_specs():
    assert [n for n, _ in model_specs([Naive(), SeasonalNaive(4)])] == [
        "naive", "seasonal naive (s=4)"]
    with pytest.raises(ValueError, match="name a callable"):
        model_specs([lambda s: Naive()])
    with pytest.raises(ValueError, match="'naive' appear more than once"):
        model_specs([Naive(), Naive()])
    with pytest.raises(TypeError, match="neither a forecaster nor a callable"):
        model_specs({"x": 3})
    with pytest.raises(ValueError, match="at least one model"):
        model_specs({})


def test_forecast_panel_long_format():
    data = collection(3)
    one = forecast_panel(Naive(), data, 2)
    assert list(one.columns) == ["unique_id", "ds", "forecast"]
    assert one["ds"].tolist()[:2] == ["2010 Q1", "2010 Q2"]
    many = forecast_panel({"naive": Naive(), "ar": AR(p=8)}, collection(3, 10), 2)
    assert list(many.columns) == ["unique_id", "ds", "naive", "ar"]
    assert many["ar"].isna().all() and "ar" in next(iter(many.attrs["errors"]))
    with pytest.raises(ValueError, match="every fit failed"):
        forecast_panel(AR(p=8), collection(2, 10), 2)
