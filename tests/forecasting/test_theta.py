"""The Theta method and drift (fastrnn.forecasting.theta): each step of ``thetaf`` against an
independent computation, and both in the forecaster protocol."""

from __future__ import annotations

import numpy as np
import pytest

from fastrnn import _params
from fastrnn.forecasting.theta import (
    Drift,
    Theta,
    classical_decomposition,
    seasonality_test,
    ses_fit,
)


def seasonal_series(n=96, m=12, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return (100 + 0.5 * t) * (1 + 0.2 * np.sin(2 * np.pi * t / m)) + rng.normal(0, 2, n)


def test_the_forecast_is_the_hyndman_billah_formula():
    """With statsmodels' alpha, l_0 = its first adjusted value and its slope, the forecasts
    are statsmodels ThetaModel's (the same decomposition, SES and drift term), seasonal and
    not."""
    theta_mod = pytest.importorskip("statsmodels.tsa.forecasting.theta")
    for y, m in [(seasonal_series(), 12), (np.cumsum(np.ones(60)) + np.sin(np.arange(60)), 1)]:
        res = theta_mod.ThetaModel(y, period=m, deseasonalize=m > 1, use_test=False).fit()
        th = Theta(period=m, seasonal=m > 1).fit(y)
        th.alpha_ = float(res.params["alpha"])
        th.slope_ = float(res.params["b0"])
        th.level0_ = float(th._adjust(y)[0])
        np.testing.assert_allclose(th.forecast(y, 15), res.forecast(15).to_numpy(), rtol=1e-12)


def test_ses_minimises_the_squared_one_step_errors():
    optimize = pytest.importorskip("scipy.optimize")
    rng = np.random.default_rng(1)
    for y in (np.cumsum(rng.normal(size=80)) + 50, rng.normal(size=40), seasonal_series(50)):
        def sse(p, y=y):
            a, level, s = p[0], p[1], 0.0
            for v in y:
                s += (v - level) ** 2
                level += a * (v - level)
            return s
        alpha, level0 = ses_fit(y)
        assert 1e-4 <= alpha <= 0.9999
        best = optimize.minimize(sse, [0.5, y[0]], method="Nelder-Mead",
                                 bounds=[(1e-4, 0.9999), (None, None)],
                                 options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 10000})
        assert sse([alpha, level0]) <= best.fun * (1 + 1e-8) + 1e-12


def test_the_seasonality_test_is_thetaf_s():
    stattools = pytest.importorskip("statsmodels.tsa.stattools")
    for y, m in [(seasonal_series(), 12), (np.random.default_rng(2).normal(size=60), 4)]:
        r = stattools.acf(y, nlags=m, fft=False)[1:]
        stat = np.sqrt((1 + 2 * np.sum(r[:m - 1] ** 2)) / len(y))
        assert seasonality_test(y, m) == (abs(r[m - 1]) / stat > 1.6448536269514722)
    assert seasonality_test(seasonal_series(), 12)
    assert not seasonality_test(seasonal_series(24), 12)          # n <= 2m: never
    assert not seasonality_test(np.ones(50), 4) and not seasonality_test(seasonal_series(), 1)


@pytest.mark.parametrize("model", ["multiplicative", "additive"])
def test_classical_decomposition_is_rs_decompose(model):
    seasonal = pytest.importorskip("statsmodels.tsa.seasonal")
    for m in (4, 7, 12):
        y = seasonal_series(n=5 * m + 3, m=m)
        want = seasonal.seasonal_decompose(y, model=model, period=m).seasonal[:m]
        got = classical_decomposition(y, m, multiplicative=model == "multiplicative")
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="at least 2 periods"):
        classical_decomposition(np.ones(7), 4)


def test_theta_decides_seasonality_and_decomposition():
    y = seasonal_series()
    th = Theta(period=12).fit(y)
    assert th.seasonal_ and th.multiplicative_ and th.n_params == 3 + 11
    assert th.name == "theta (s=12)" and th.describe()["lags"] == 12
    assert not Theta(period=12, seasonal=False).fit(y).seasonal_
    noise = np.random.default_rng(3).normal(size=60) + 10
    assert not Theta(period=12).fit(noise).seasonal_
    shifted = Theta(period=12).fit(y - 150)                  # values <= 0: additive
    assert shifted.seasonal_ and not shifted.multiplicative_
    np.testing.assert_allclose(shifted.predict(5).mean,
                               Theta(period=12, decomposition="additive").fit(y).predict(5).mean
                               - 150, rtol=1e-6)
    # the seasonal forecast repeats the pattern: it beats the non-seasonal one here
    test = seasonal_series(n=108)[96:]
    err = [np.mean(np.abs(Theta(period=12, seasonal=s).fit(y).predict(12).mean - test))
           for s in (True, False)]
    assert err[0] < err[1] / 2


def test_theta_in_the_forecaster_protocol():
    y = seasonal_series()
    th = Theta(period=12).fit(y)
    np.testing.assert_allclose(th.predict(6).mean, th.forecast(y, 6))
    one = th.predict_one_step(y, 1)
    want = [th.forecast(y[:i], 1)[0] for i in range(1, len(y))]
    np.testing.assert_allclose(one, want, rtol=1e-12)
    assert th.residuals().shape == (len(y) - 1,)
    c = th.clone()
    assert c.get_params() == {"period": 12, "seasonal": "auto",
                              "decomposition": "multiplicative", "alpha_bounds": (1e-4, 0.9999)}
    assert repr(c) == ("Theta(period=12, seasonal='auto', decomposition='multiplicative', "
                       "alpha_bounds=(0.0001, 0.9999))")
    with pytest.raises(RuntimeError, match="not fitted"):
        c.forecast(y, 2)
    with pytest.raises(ValueError, match="too few"):
        Theta().fit([1.0, 2.0])
    with pytest.raises(_params.ParameterError, match="seasonal must be 'auto', True or False"):
        Theta(seasonal=1)
    with pytest.raises(ValueError, match="period must be a positive int"):
        Theta(period=0)
    with pytest.raises(ValueError, match="decomposition must be one of"):
        Theta(decomposition="log")
    with pytest.raises(ValueError, match=r"alpha_bounds must be a number in \(0, 1\)"):
        Theta(alpha_bounds=(0.0, 0.5))
    with pytest.raises(ValueError, match="low < high"):
        Theta(alpha_bounds=(0.5, 0.1))
    with pytest.raises(_params.ParameterError, match="a pair"):
        Theta(alpha_bounds=0.5)


def test_alpha_bounds_are_kept():
    rng = np.random.default_rng(4)
    noise = rng.normal(size=60) + 10                     # white noise: alpha wants to be ~0
    assert Theta().fit(noise).alpha_ < 0.05
    assert Theta(alpha_bounds=(0.1, 0.99)).fit(noise).alpha_ == pytest.approx(0.1)


def test_theta_is_half_the_drift_of_a_straight_line():
    """On an exact line SES with alpha -> 1 follows it; the forecast continues it at half the
    slope from the last value plus the half slope carried by (1 - (1 - alpha)^n)/alpha ~ 1."""
    y = 3.0 + 2.0 * np.arange(30)
    f = Theta().fit(y).predict(3).mean
    np.testing.assert_allclose(f, y[-1] + 1.0 * np.arange(1, 4), rtol=1e-3)


def test_drift():
    y = np.array([1.0, 3.0, 4.0, 7.0])
    d = Drift().fit(y)
    np.testing.assert_allclose(d.predict(3).mean, 7 + 2 * np.arange(1, 4))
    np.testing.assert_allclose(d.predict_one_step(y, 2), [3 + 2, 4 + 1.5])
    assert (d.name, d.n_params, d.min_history) == ("drift", 1, 2)
    with pytest.raises(ValueError, match="too few"):
        Drift().fit([1.0])
    with pytest.raises(ValueError, match="at least 2 past values"):
        d.predict_one_step(y, 1)
