"""The default forecaster's conformal intervals (fastrnn.forecasting.auto, module docstring):
the calibration windows beyond the validation windows refit only what was chosen and are the
windows of a longer cross-validation, and the bounds from signed errors follow a bias of the
forecasts (each tail misses alpha/2) where a symmetric radius misses on one side only."""

from __future__ import annotations

import numpy as np
import pytest

from fastrnn.forecasting import accuracy
from fastrnn.forecasting.auto import (
    INTERVAL_WINDOWS,
    PERIOD_MIN_SERIES,
    _calibrate,
    forecast_collection,
    period_adjusted,
)
from fastrnn.forecasting.baselines import Naive
from fastrnn.forecasting.cv import cross_validate
from fastrnn.forecasting.intervals import conformal_offsets, conformal_radius
from fastrnn.forecasting.local import standard_baselines
from fastrnn.forecasting.theta import Drift

pd = pytest.importorskip("pandas")


def frame(ys):
    return pd.concat([pd.DataFrame({"unique_id": f"s{i}", "ds": np.arange(len(y)), "y": y})
                      for i, y in enumerate(ys)], ignore_index=True)


class Logged:
    """A local model that records the training lengths it is fitted on."""

    def __init__(self, inner, name, log):
        self.inner, self.name, self.log = inner, name, log

    def clone(self):
        return Logged(self.inner.clone(), self.name, self.log)

    def fit(self, y):
        self.log.append((self.name, len(y)))
        self.inner.fit(y)
        return self

    def predict(self, h, level=None):
        return self.inner.predict(h, level)


def test_conformal_offsets_ranks_and_limits():
    e = np.arange(1.0, 40.0)[:, None] - 20.0             # -19 .. 19, N = 39
    lo, hi = conformal_offsets(e, 95)                     # ranks floor(1) and ceil(39)
    assert lo[0] == -19.0 and hi[0] == 19.0
    lo, hi = conformal_offsets(e, 80)                     # floor(4) = 4, ceil(36) = 36
    assert lo[0] == -16.0 and hi[0] == 16.0
    lo, hi = conformal_offsets(e + 30.0, 80)              # all errors above 0: lower clipped
    assert lo[0] == 0.0 and hi[0] == 46.0
    with pytest.raises(ValueError, match="at least 39 errors"):
        conformal_offsets(e[:38], 95)
    with pytest.raises(ValueError, match="at least 9 errors"):
        conformal_offsets(e[:8], 80)


def test_older_windows_refit_only_the_chosen_and_are_a_longer_cross_validation():
    rng = np.random.default_rng(3)
    h, n = 4, 60
    ys = [50 + np.cumsum(rng.normal(0.3, 1 + i / 4, n)) for i in range(12)]
    log = []
    models = {"naive": Logged(Naive(), "naive", log), "drift": Logged(Drift(), "drift", log)}
    out, rep = forecast_collection(frame(ys), h, models=models, n_windows=3,
                                   interval_windows=6, level=[80, 95], max_combine=1)
    assert rep.windows["interval_windows"] == 6 and rep.windows["n_windows"] == 3
    chosen = rep.chosen
    other = "naive" if chosen == "drift" else "drift"
    # the older windows train on n - h - step (W - 1 - k) values, k = 0, 1, 2 of W = 6
    older = {n - h - h * (5 - k) for k in range(3)}
    assert older <= {m for name, m in log if name == chosen}
    assert not older & {m for name, m in log if name == other}
    # the bounds are those of a 6-window cross-validation of the chosen model (its errors
    # with the period effect taken out; the forecasts are in (series, window) order)
    cv = cross_validate({chosen: models[chosen], "seasonal naive":
                         standard_baselines()["seasonal naive"]}, frame(ys), h, 6)
    errs = np.array([(fc["actual"] - fc["models"][chosen].mean) / fc["scale"]
                     for fc in cv._forecasts])
    assert errs.shape == (12 * 6, h)
    mask = np.ones((12, 6), bool)
    adjusted = period_adjusted(errs.reshape(12, 6, h), mask)[mask]
    assert not np.allclose(adjusted, errs)        # 12 series >= PERIOD_MIN_SERIES: adjusted
    for lv in (80, 95):
        lo, hi = conformal_offsets(adjusted, lv)
        np.testing.assert_allclose(rep.offsets[lv][0], lo, rtol=1e-12)
        np.testing.assert_allclose(rep.offsets[lv][1], hi, rtol=1e-12)
    text = "\n".join(rep.lines())
    assert "signed errors on 6 window(s)" in text
    # without more windows than n_windows: the validation windows alone
    _, rep3 = forecast_collection(frame(ys), h, models=models, n_windows=3,
                                  interval_windows=2, level=[80], max_combine=1)
    assert rep3.windows["interval_windows"] == 3
    assert INTERVAL_WINDOWS == 8


def test_signed_bounds_follow_a_bias_where_a_symmetric_radius_does_not():
    """Random walks with drift forecast by the naive (which ignores the drift: its errors
    at step j are N(j mu, j sigma^2), biased upwards). The bounds from signed errors miss
    about alpha/2 above and alpha/2 below on values never seen, and score a lower MSIS; a
    symmetric radius of |errors| from the same windows covers as much but misses almost
    only above. The drift (0.4 sd a step) is small enough that each step's signed quantiles
    straddle 0 (a stronger one clips the lower bound at the forecast, ``conformal_offsets``)."""
    rng = np.random.default_rng(6)
    h, n, S = 6, 70, 200
    sds = rng.uniform(0.5, 5.0, S)
    ys = [1000 + np.cumsum(rng.normal(0.4 * sd, sd, n + h)) for sd in sds]
    train = [y[:n] for y in ys]
    out, rep = forecast_collection(frame(train), h, models={"naive": Naive()},
                                   level=[80, 95], max_combine=1)
    assert rep.chosen == "naive" and rep.windows["interval_windows"] == INTERVAL_WINDOWS
    test = np.array([y[n:] for y in ys])
    f = out["forecast"].to_numpy().reshape(S, h)
    q = np.array([accuracy.mase_scale(y, 1) for y in train])
    # the symmetric radius of the same calibration errors, by hand
    scaled = []
    cv = cross_validate({"naive": Naive()}, frame(train), h, INTERVAL_WINDOWS)
    for fc in cv._forecasts:
        scaled.append(np.abs(fc["actual"] - fc["models"]["naive"].mean) / fc["scale"])
    for lv in (80, 95):
        half = (100 - lv) / 200
        lo = out[f"lo-{lv}"].to_numpy().reshape(S, h)
        hi = out[f"hi-{lv}"].to_numpy().reshape(S, h)
        above, below = np.mean(test > hi), np.mean(test < lo)
        assert abs(above - half) < 0.04 and abs(below - half) < 0.04, (lv, above, below)
        r = conformal_radius(np.array(scaled), lv)
        slo, shi = f - r * q[:, None], f + r * q[:, None]
        s_above, s_below = np.mean(test > shi), np.mean(test < slo)
        assert abs(s_above + s_below - 2 * half) < 0.05                 # covers as much
        assert s_below < 0.25 * (s_above + s_below), (lv, s_above, s_below)
        msis = np.mean([accuracy.msis(test[i], lo[i], hi[i], train[i], lv) for i in range(S)])
        s_msis = np.mean([accuracy.msis(test[i], slo[i], shi[i], train[i], lv)
                          for i in range(S)])
        assert msis < 0.9 * s_msis, (lv, msis, s_msis)


def test_period_adjusted_maps_every_window_to_the_mean_median_and_spread():
    rng = np.random.default_rng(11)
    S, K, h = 40, 5, 3
    shift = rng.normal(0, 2, (K, h))
    scale = rng.uniform(0.5, 3.0, K)
    e = shift[None] + scale[None, :, None] * rng.standard_t(4, (S, K, h))
    mask = np.ones((S, K), bool)
    mask[:7, 1] = False                      # window 1 has 33 series, the others 40
    out = period_adjusted(e, mask)
    counts = mask.sum(axis=0)
    med = np.array([np.median(e[mask[:, k], k], axis=0) for k in range(K)])
    spread = np.array([np.mean(np.abs(e[mask[:, k], k] - med[k])) for k in range(K)])
    m_all = counts @ med / counts.sum()
    d_all = counts @ spread / counts.sum()
    for k in range(K):
        got = out[mask[:, k], k]
        np.testing.assert_allclose(np.median(got, axis=0), m_all, atol=1e-12)
        np.testing.assert_allclose(np.mean(np.abs(got - m_all)), d_all, rtol=1e-12)
        # within a window the order of the errors is kept (an increasing affine map)
        assert np.array_equal(np.argsort(got, axis=0), np.argsort(e[mask[:, k], k], axis=0))
    np.testing.assert_array_equal(out[~mask], e[~mask])     # outside the mask: unchanged
    # a window with too few series is pooled as it is, and is left out of the means
    small = mask.copy()
    small[PERIOD_MIN_SERIES - 1:, 2] = False
    out2 = period_adjusted(e, small)
    np.testing.assert_array_equal(out2[small[:, 2], 2], e[small[:, 2], 2])
    kept = [k for k in range(K) if k != 2]
    m_kept = counts[kept] @ med[kept] / counts[kept].sum()
    np.testing.assert_allclose(np.median(out2[small[:, 0], 0], axis=0), m_kept, atol=1e-12)
    # identical windows: nothing to take out
    same = np.repeat(e[:, :1], K, axis=1)
    np.testing.assert_allclose(period_adjusted(same, np.ones((S, K), bool)), same,
                               rtol=1e-12, atol=1e-12)
    # fewer than two windows to measure: unchanged
    np.testing.assert_array_equal(period_adjusted(e[:, :1], mask[:, :1]), e[:, :1])


def test_shocks_shared_by_a_period_do_not_widen_the_bounds_of_an_average_period():
    """Calibration errors (S series, K windows, h steps, on the MASE scale) made of a shock
    shared by every series of a window (+-1.5 a step in turn, mean 0, plus a spread that
    moves by window) and each series' own noise; the period to forecast has no shock and the
    mean spread. Pooled as they are, the windows' opposite biases give 80% bounds that cover
    far more than 80% of that period's errors; with each window's period effect taken out
    (``_calibrate``) they cover 80% within 2 points, and they are narrower."""
    rng = np.random.default_rng(5)
    S, K, h = 300, INTERVAL_WINDOWS, 6
    steps = np.sqrt(np.arange(1, h + 1))
    shock = np.where(np.arange(K) % 2 == 0, 1.5, -1.5)[:, None] * np.arange(1, h + 1)
    spread = rng.uniform(0.7, 1.3, K)
    spread *= 1.0 / spread.mean()
    errors = shock[None] + spread[None, :, None] * steps * rng.normal(0, 1, (S, K, h))
    mask = np.ones((S, K), bool)
    offsets, coverage, msis = _calibrate(errors, np.zeros_like(errors), np.ones((S, K)),
                                         mask, (80,))
    lo, hi = offsets[80]
    new = steps * rng.normal(0, 1, (20000, h))      # the next period: no shock, mean spread
    cover = np.mean((new >= lo) & (new <= hi))
    assert abs(cover - 0.80) < 0.02, cover
    rlo, rhi = conformal_offsets(errors[mask], 80)
    assert np.mean((new >= rlo) & (new <= rhi)) > 0.95
    assert np.all(hi - lo < rhi - rlo)
    # the cross-fitted coverage scores each window's errors as they are (shock included)
    assert 0.0 < coverage[80] < 0.8 and np.isfinite(msis[80])
