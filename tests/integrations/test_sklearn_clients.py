"""fastrnn.sklearn.RNNRegressor as the regressor of real forecasting frameworks: skforecast's
recursive forecaster and sktime's reduction forecaster (each test is skipped where its package
is not installed).

Both frameworks turn a series into a table of lags and call the regressor's fit and predict;
they differ in the column order (skforecast: lag_1, lag_2, ... newest first; sktime: oldest
first), which ``step_order`` tells the estimator. With the matching ``step_order`` both feed the
network the same sequences, so the two frameworks must produce the same forecasts."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")
pd = pytest.importorskip("pandas")

from fastrnn.sklearn import RNNRegressor

LAGS, STEPS = 12, 24


def seasonal_series(n=240, seed=0):
    """A monthly-looking series: a 12-step cycle plus noise, with a date index."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = 10 + 3 * np.sin(2 * np.pi * t / 12) + 0.3 * rng.standard_normal(n)
    return pd.Series(values, index=pd.period_range("2000-01", periods=n, freq="M"), name="y")


def regressor(step_order):
    return RNNRegressor(cell="GRU", units=16, epochs=80, step_order=step_order, random_state=0)


def check_forecast(pred, y_train, y_test):
    pred = np.asarray(pred, np.float64)
    assert pred.shape == (STEPS,) and np.isfinite(pred).all()
    mae = np.mean(np.abs(pred - y_test.to_numpy()))
    flat = np.mean(np.abs(y_train.mean() - y_test.to_numpy()))
    # the cycle has amplitude 3 and noise 0.3: tracking it recursively over two cycles gives
    # an error near the noise level, far below that of a flat forecast (about 1.9)
    assert mae < 0.6 and mae < flat / 3, (mae, flat)


def skforecast_forecast(y_train):
    recursive = pytest.importorskip("skforecast.recursive")
    forecaster = recursive.ForecasterRecursive(regressor("newest_first"), lags=LAGS)
    forecaster.fit(y=y_train.reset_index(drop=True))
    return forecaster, np.asarray(forecaster.predict(steps=STEPS))


def sktime_forecast(y_train):
    reduce = pytest.importorskip("sktime.forecasting.compose")
    forecaster = reduce.make_reduction(regressor("oldest_first"), window_length=LAGS,
                                       strategy="recursive")
    forecaster.fit(y_train)
    return forecaster, np.asarray(forecaster.predict(fh=np.arange(1, STEPS + 1)))


def test_skforecast_recursive_forecaster():
    y = seasonal_series()
    y_train, y_test = y[:-STEPS], y[-STEPS:]
    forecaster, pred = skforecast_forecast(y_train)
    check_forecast(pred, y_train, y_test)
    fitted = forecaster.estimator
    assert isinstance(fitted, RNNRegressor) and fitted.n_features_in_ == LAGS
    assert fitted.fit_info_["fused"], fitted.fit_info_
    # the first step is the network on the last LAGS values, newest first
    last = y_train.to_numpy()[-LAGS:][::-1][None, :]
    np.testing.assert_allclose(pred[0], fitted.predict(last)[0], rtol=1e-12)


def test_sktime_reduction_forecaster():
    y = seasonal_series()
    y_train, y_test = y[:-STEPS], y[-STEPS:]
    forecaster, pred = sktime_forecast(y_train)
    check_forecast(pred, y_train, y_test)
    fitted = forecaster.estimator_
    assert isinstance(fitted, RNNRegressor) and fitted.n_features_in_ == LAGS
    last = y_train.to_numpy()[-LAGS:][None, :]
    np.testing.assert_allclose(pred[0], fitted.predict(last)[0], rtol=1e-12)


def test_both_frameworks_train_the_same_network():
    y_train = seasonal_series()[:-STEPS]
    _, a = skforecast_forecast(y_train)
    _, b = sktime_forecast(y_train)
    np.testing.assert_allclose(a, b, rtol=1e-5)
