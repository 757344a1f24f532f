"""Prediction intervals (fastrnn.forecasting.intervals and the protocol's level=): the
levels, the analytic bounds of the baselines against hand formulas and statsmodels, and the
conformal bounds against hand calculations."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pytest

from fastrnn import cells, forecasting
from fastrnn._params import ParameterError
from fastrnn.forecasting import AR, Naive, Prediction, RNNForecaster, SeasonalNaive
from fastrnn.forecasting.baselines import drift_sd, psi_weights
from fastrnn.forecasting.intervals import (
    ConformalIntervals,
    check_levels,
    conformal_radius,
    conformal_scores,
    window_cutoffs,
)

Z = {lv: NormalDist().inv_cdf(0.5 + lv / 200) for lv in (80, 95)}


def ar2(n=300, seed=0, c=0.5, phi=(0.5, -0.3)):
    rng = np.random.default_rng(seed)
    e = rng.normal(size=n)
    z = np.zeros(n)
    for t in range(2, n):
        z[t] = c + phi[0] * z[t - 1] + phi[1] * z[t - 2] + e[t]
    return z


# -- levels -------------------------------------------------------------------------------

def test_levels_are_sorted_unique_percentages():
    assert check_levels(None) == ()
    assert check_levels(80) == (80.0,)
    assert check_levels([95, 80, 80.0]) == (80.0, 95.0)
    assert check_levels(np.array([50.5])) == (50.5,)


@pytest.mark.parametrize("bad", [0, 100, -5, 120, float("nan"), [80, 100]])
def test_levels_outside_0_100_are_refused(bad):
    with pytest.raises(ValueError, match=r"level must be a number in \(0, 100\)"):
        check_levels(bad)


@pytest.mark.parametrize("bad", ["80", True, [80, "95"]])
def test_levels_of_the_wrong_kind_are_refused(bad):
    with pytest.raises(ParameterError, match="level must be"):
        check_levels(bad)
    with pytest.raises(ValueError):
        Naive().fit(np.arange(10.0)).predict(3, level=bad)


def test_prediction_columns_are_the_long_formats():
    p = Naive().fit(np.arange(10.0) ** 1.5).predict(3, level=[95, 80])
    assert p.levels == (80.0, 95.0)
    assert list(p.to_dict()) == ["forecast", "lo-80", "hi-80", "lo-95", "hi-95"]
    assert p.lo[80].shape == p.hi[95].shape == (3,)
    assert np.all(p.lo[95] < p.lo[80]) and np.all(p.hi[80] < p.hi[95])


# -- analytic intervals ---------------------------------------------------------------------

Y = np.array([3.0, 5.0, 4.0, 8.0, 7.0, 9.0, 12.0, 10.0, 13.0, 15.0])


def test_naive_bounds_are_sigma_sqrt_h():
    e = np.diff(Y)
    sigma = np.sqrt(np.mean(e ** 2))
    p = Naive().fit(Y).predict(4, level=[80, 95])
    for lv in (80, 95):
        half = Z[lv] * sigma * np.sqrt([1, 2, 3, 4])
        np.testing.assert_allclose(p.lo[lv], 15.0 - half, rtol=1e-12)
        np.testing.assert_allclose(p.hi[lv], 15.0 + half, rtol=1e-12)


def test_seasonal_naive_bounds_grow_once_per_season():
    m = 3
    e = Y[m:] - Y[:-m]
    sigma = np.sqrt(np.mean(e ** 2))
    p = SeasonalNaive(m).fit(Y).predict(7, level=95)
    k = np.array([0, 0, 0, 1, 1, 1, 2])          # floor((h - 1) / m)
    np.testing.assert_allclose(p.hi[95] - p.mean, Z[95] * sigma * np.sqrt(k + 1), rtol=1e-12)
    np.testing.assert_allclose(p.mean, [10.0, 13.0, 15.0, 10.0, 13.0, 15.0, 10.0])


def test_drift_sd_is_sigma_sqrt_h_one_plus_h_over_T():
    d = np.diff(Y)
    T = len(d)
    sigma = np.sqrt(np.sum((d - d.mean()) ** 2) / (T - 1))
    h = np.arange(1, 6)
    np.testing.assert_allclose(drift_sd(Y, 5), sigma * np.sqrt(h * (1 + h / T)), rtol=1e-12)
    with pytest.raises(ValueError, match="at least 3 values"):
        drift_sd([1.0, 2.0], 3)


def test_psi_weights_of_ar1_and_random_walk():
    np.testing.assert_allclose(psi_weights([0.6], 0, 5), 0.6 ** np.arange(5))
    np.testing.assert_allclose(psi_weights([], 1, 4), np.ones(4))
    # ARIMA(1,1,0): psi_j = sum_{i<=j} phi^i
    np.testing.assert_allclose(psi_weights([0.5], 1, 4), [1, 1.5, 1.75, 1.875])


@pytest.mark.parametrize("p", [1, 2, 4])
def test_ar_intervals_equal_statsmodels_autoreg(p):
    from statsmodels.tsa.ar_model import AutoReg

    z = ar2()
    ours = AR(p=p).fit(z).predict(8, level=[80, 95])
    res = AutoReg(z, lags=p, trend="c").fit()
    theirs = res.get_prediction(start=len(z), end=len(z) + 7)
    np.testing.assert_allclose(ours.mean, theirs.predicted_mean, rtol=1e-9)
    for lv in (80, 95):
        ci = theirs.conf_int(alpha=1 - lv / 100)
        np.testing.assert_allclose(ours.lo[lv], ci[:, 0], rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(ours.hi[lv], ci[:, 1], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("d", [1, 2])
def test_arima_p_d_0_intervals_are_on_the_levels_as_statsmodels_arima(d):
    """The bounds of a differenced AR integrate the psi-weights of phi(B)(1 - B)^d: equal to
    statsmodels' ARIMA(2, d, 0) (Kalman filter) at the same parameters."""
    from statsmodels.tsa.arima.model import ARIMA

    y = ar2(seed=3)
    for _ in range(d):
        y = np.cumsum(y)
    m = AR(p=2, diff=d).fit(y)
    ours = m.predict(10, level=95)
    c, phi1, phi2 = m.coef_
    trend = "t" if d == 1 else "n"
    # d = 2: statsmodels has no constant there; the widths do not depend on it
    params = ([c / (1 - phi1 - phi2)] if d == 1 else []) + [phi1, phi2, m.sigma2_]
    res = ARIMA(y, order=(2, d, 0), trend=trend).smooth(params)
    fc = res.get_forecast(10)
    ci = fc.conf_int(alpha=0.05)
    np.testing.assert_allclose(ours.hi[95] - ours.mean, ci[:, 1] - fc.predicted_mean,
                               rtol=1e-8)
    if d == 1:
        np.testing.assert_allclose(ours.mean, fc.predicted_mean, rtol=1e-9)
        np.testing.assert_allclose(ours.lo[95], ci[:, 0], rtol=1e-9)


def test_analytic_is_the_default_where_a_model_has_it():
    assert Naive().fit(Y).interval_method() == "analytic"
    assert AR(p=1).interval_method() == "analytic"
    theta = forecasting.Theta(1)
    assert isinstance(theta.interval_method(), ConformalIntervals)
    with pytest.raises(ValueError, match="no analytic intervals"):
        theta.set_intervals("analytic").fit(Y).predict(2, level=80)


# -- conformal intervals --------------------------------------------------------------------

def test_conformal_radius_is_the_corrected_rank():
    scores = np.arange(1.0, 20.0)[::-1, None] * [1.0, 2.0]        # 19 windows, 2 steps
    # 80%: rank ceil(20 * 0.8) = 16; 95%: ceil(20 * 0.95) = 19 (the largest)
    np.testing.assert_array_equal(conformal_radius(scores, 80), [16.0, 32.0])
    np.testing.assert_array_equal(conformal_radius(scores, 95), [19.0, 38.0])
    # 50% of 4: rank ceil(5 * 0.5) = 3
    np.testing.assert_array_equal(conformal_radius([[4.0], [1.0], [3.0], [2.0]], 50), [3.0])
    with pytest.raises(ValueError, match="at level 95 need at least 19 calibration windows, "
                                         "got 18"):
        conformal_radius(scores[:18], 95)
    with pytest.raises(ValueError, match="at least 4 calibration windows, got 3"):
        conformal_radius(scores[:3], 80)


def test_windows_are_those_of_cross_validation():
    from fastrnn.forecasting.cv import window_cutoffs as cv_cutoffs

    for n, h, w, step in [(100, 8, 5, 1), (80, 4, 3, 4), (30, 6, 20, 2)]:
        assert window_cutoffs(n, h, w, step) == cv_cutoffs(n, h, w, step)
    assert window_cutoffs(20, 3, 3, 2) == [13, 15, 17]


def test_conformal_scores_of_the_naive_forecast_by_hand():
    y = np.array([1.0, 4.0, 2.0, 7.0, 5.0, 6.0, 3.0, 8.0])
    s = conformal_scores(Naive(), y, h=2, n_windows=3, step=1)
    # windows train on 4, 5, 6 values; forecast the last training value twice
    expect = [[abs(5 - 7), abs(6 - 7)], [abs(6 - 5), abs(3 - 5)], [abs(3 - 6), abs(8 - 6)]]
    np.testing.assert_array_equal(s, expect)
    m = Naive().set_intervals(ConformalIntervals(n_windows=3)).fit(y)
    p = m.predict(2, level=50)        # rank ceil(4 * 0.5) = 2 of each column
    np.testing.assert_array_equal(p.hi[50] - p.mean, [2.0, 2.0])
    np.testing.assert_array_equal(p.mean - p.lo[50], [2.0, 2.0])


def test_conformal_errors_are_on_the_levels_of_a_differenced_model():
    """ARIMA(1,1,0): each window's error is |actual level - forecast level| (the model
    undifferences), never a sum of bounds of differences."""
    y = np.cumsum(ar2(120, seed=5))
    model = AR(p=1, diff=1)
    s = conformal_scores(model, y, h=3, n_windows=4, step=2)
    for i, c in enumerate(window_cutoffs(len(y), 3, 4, 2)):
        f = AR(p=1, diff=1).fit(y[:c]).forecast(y[:c], 3)
        np.testing.assert_allclose(s[i], np.abs(y[c:c + 3] - f), rtol=1e-12)


def test_refit_false_fits_once_on_the_first_window():
    y = ar2(100, seed=1)
    s = conformal_scores(AR(p=2), y, h=2, n_windows=5, step=3, refit=False)
    cuts = window_cutoffs(100, 2, 5, 3)
    m = AR(p=2).fit(y[:cuts[0]])
    for i, c in enumerate(cuts):
        np.testing.assert_allclose(s[i], np.abs(y[c:c + 2] - m.forecast(y[:c], 2)))


def test_conformal_is_cached_per_fit_and_kept_by_clone():
    calls = []

    class Counting(Naive):
        def _fit(self, x):
            calls.append(len(x))

    method = ConformalIntervals(n_windows=5)
    m = Counting().set_intervals(method).fit(np.arange(30.0) ** 1.3)
    m.predict(3, level=80)
    m.predict(3, level=[60, 70])
    assert len(calls) == 1 + 5          # the fit, then one calibration for both predictions
    assert m.clone().intervals is method
    m.fit(np.arange(30.0))
    m.predict(3, level=80)
    assert len(calls) == 1 + 5 + 1 + 5


def test_too_short_for_the_windows_says_so():
    with pytest.raises(ValueError, match="conformal intervals: .*too short"):
        forecasting.Theta(1).fit(np.arange(6.0)).predict(8, level=80)
    with pytest.raises(ValueError, match="need at least 19 calibration windows"):
        forecasting.Theta(1).set_intervals(ConformalIntervals(n_windows=10)).fit(
            ar2(60)).predict(4, level=95)


def test_bad_interval_settings_are_refused():
    with pytest.raises(ParameterError, match="intervals must be None, 'analytic' or a "
                                             "ConformalIntervals"):
        Naive().set_intervals("conformal")
    with pytest.raises(ValueError, match="n_windows must be a positive int"):
        ConformalIntervals(n_windows=0)
    with pytest.raises(ParameterError, match="refit must be True or False"):
        ConformalIntervals(refit="yes")


def test_rnn_forecasters_get_conformal_intervals_by_default():
    y = ar2(160, seed=2) * 10 + 50
    f = RNNForecaster(cells.ELMAN.name, 4, lags=5, epochs=3, seed=0, diff=1)
    assert f.interval_method() == ConformalIntervals(n_windows=20, step=1, refit=False)
    p = f.fit(y).predict(4, level=[80, 95])
    np.testing.assert_allclose(p.hi[80] - p.mean, p.mean - p.lo[80], rtol=1e-12)
    assert np.all(p.hi[95] >= p.hi[80]) and np.all(p.hi[80] > p.mean)
    np.testing.assert_array_equal(p.mean, f.forecast(y, 4))
    # the radii are the corrected quantiles of the level-scale window errors
    s = f.conformal_scores(4, f.interval_method())
    np.testing.assert_allclose(p.hi[95] - p.mean, conformal_radius(s, 95))
    with pytest.raises(ValueError, match="no analytic intervals"):
        f.set_intervals("analytic").predict(4, level=80)


def test_calendar_forecast_with_levels():
    pd = pytest.importorskip("pandas")
    idx = pd.period_range("2000-01", periods=len(Y), freq="M")
    m = Naive().fit(Y)
    out = forecasting.forecast(m, pd.Series(Y, index=idx), 3, level=[80])
    assert list(out.columns) == ["forecast", "lo-80", "hi-80"]
    assert str(out.index[0]) == "2000-11"
    p = forecasting.forecast(m, Y, 3, level=80)
    assert isinstance(p, Prediction) and p.levels == (80.0,)


def test_cross_validation_scores_the_baselines_intervals():
    """Every standard baseline makes intervals (analytic, or conformal for theta and drift),
    so cross-validation reports coverage and MSIS for each."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(4)
    rows = [{"unique_id": f"s{i}", "ds": t, "y": float(v)} for i in range(3)
            for t, v in enumerate(50 + np.cumsum(rng.normal(size=70)))]
    cv = forecasting.cross_validate(forecasting.standard_baselines(), pd.DataFrame(rows),
                                    h=4, n_windows=2, level=[80, 95])
    summary = cv.summary().set_index("model")
    assert {"coverage-80", "coverage-95", "msis-80", "msis-95"} <= set(summary.columns)
    assert not cv.errors()
    assert summary[["coverage-80", "msis-95"]].notna().all().all()
