"""The forecaster protocol (fastrnn.forecasting.base): fit(y) / predict(h, level=None) /
residuals(), the room for intervals (level= refused until they exist), and the package's
public names."""

from __future__ import annotations

import numpy as np
import pytest

from fastrnn import cells, forecasting, timeseries
from fastrnn.data import load_sunspots
from fastrnn.forecasting import AR, Naive, Prediction, RNNForecaster, SeasonalNaive

SUN = load_sunspots().values


def _models():
    return [Naive(), SeasonalNaive(11), AR(max_lag=10),
            RNNForecaster(cells.ELMAN.name, 4, lags=5, epochs=2, seed=0)]


@pytest.mark.parametrize("f", _models(), ids=lambda f: type(f).__name__)
def test_predict_is_the_forecast_after_the_fitted_series(f):
    y = SUN[:150]
    f.fit(y)
    p = f.predict(7)
    assert isinstance(p, Prediction) and len(p) == 7 and p.levels == ()
    np.testing.assert_array_equal(p.mean, f.forecast(y, 7))
    assert list(p.to_dict()) == ["forecast"]
    # in-sample one-step residuals, each from the true past
    t0 = f.min_history
    np.testing.assert_allclose(f.residuals(), y[t0:] - f.predict_one_step(y, t0))
    np.testing.assert_allclose(f.residuals(40), y[40:] - f.predict_one_step(y, 40))


@pytest.mark.parametrize("level", [80, [80, 95], 0.9])
def test_levels_give_ordered_bounds_everywhere(level):
    f = Naive().fit(SUN[:50])
    pred = f.predict(3, level=level)
    levels = sorted(set(np.atleast_1d(level).tolist()))
    assert pred.levels == tuple(levels) or list(pred.levels) == levels
    for lv in levels:
        assert np.all(pred.lo[lv] < pred.mean) and np.all(pred.mean < pred.hi[lv])
    via = forecasting.forecast(f, SUN[:50], 3, level=level)
    np.testing.assert_allclose(via.mean, pred.mean)
    sel = forecasting.select(SUN, [], baselines=True)
    chosen = sel.forecast(3, level=level)
    np.testing.assert_allclose(chosen.mean, sel.forecast(3))
    for lv in levels:
        assert np.all(chosen.lo[lv] < chosen.mean) and np.all(chosen.mean < chosen.hi[lv])
    assert f.predict(3, level=None).mean.shape == (3,)


def test_protocol_errors():
    with pytest.raises(RuntimeError, match="not fitted"):
        Naive().predict(3)
    with pytest.raises(RuntimeError, match="not fitted"):
        AR().residuals()
    with pytest.raises(ValueError, match="h must be a positive int, got 0"):
        Naive().fit(SUN[:20]).predict(0)
    with pytest.raises(ValueError, match="y: value 2 is nan"):
        Naive().fit([1.0, 2.0, np.nan])


def test_cells_come_from_the_cell_table():
    assert forecasting.CELLS == cells.NAMES
    for cell in cells.CELLS:
        f = RNNForecaster(cell.keras_class, 3, lags=2)          # any spelling the table knows
        assert f.cell == cell.name and f.describe()["cell"] == cell.title
        assert f.name.startswith(f"{cell.title}(3)")
    assert [f.cell for f in forecasting.grid(units=4, lags=3)] == list(cells.NAMES)
    with pytest.raises(ValueError, match="units must be a positive int, got 0"):
        RNNForecaster(units=0)
    with pytest.raises(ValueError, match="dropout must be"):
        RNNForecaster(dropout=1.0)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        RNNForecaster(optimizer="adagrad")


def test_public_names():
    for name in forecasting.__all__:
        assert getattr(forecasting, name) is not None, name
    for name in ("gaussian_loglik", "aic", "bic", "information_criteria", "one_step_mse",
                 "out_of_sample_mse", "detect_period", "choose_diff", "Naive", "SeasonalNaive",
                 "AR", "RNNForecaster", "grid", "select", "Selection", "CELLS", "level_offset",
                 "undifference", "future_index", "forecast", "as_series"):
        assert name in forecasting.__all__, name
    # the seasonal period and the differencing helpers live in timeseries
    assert forecasting.detect_period is timeseries.detect_period
    assert forecasting.level_offset is timeseries.level_offset
    assert forecasting.undifference is timeseries.undifference
