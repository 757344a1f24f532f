"""fastrnn.forecasting: differencing offsets and inversion, recursive and direct multi-step
forecasts of the RNN forecaster (scaling and differencing inverted), time indices."""

from __future__ import annotations

import numpy as np
import pytest

from fastrnn import forecasting as F
from fastrnn.data import load_sunspots
from fastrnn.forecasting import RNNForecaster

SUN = load_sunspots().values


@pytest.mark.parametrize("d", [0, 1, 2, 3])
def test_level_offset_makes_one_step_errors_equal(d):
    rng = np.random.default_rng(d)
    x = np.cumsum(rng.standard_normal(40)) + 5
    idx = np.arange(d, 40)
    dz = np.diff(x, d) if d else x
    # the true difference plus the offset gives back the level exactly
    np.testing.assert_allclose(dz + F.level_offset(x, d, idx), x[idx], rtol=1e-12, atol=1e-12)
    # and the offset only uses the past: changing x_i does not change o_i
    y = x.copy()
    y[idx[-1]] += 100.0
    assert F.level_offset(y, d, idx[-1:])[0] == pytest.approx(F.level_offset(x, d, idx[-1:])[0])


@pytest.mark.parametrize("d", [0, 1, 2])
def test_undifference_continues_the_series(d):
    rng = np.random.default_rng(4)
    x = np.cumsum(np.cumsum(rng.standard_normal(30)))
    full = x.copy()
    head, tail = full[:24], full[24:]
    dz_tail = (np.diff(full, d) if d else full)[24 - d:]
    np.testing.assert_allclose(F.undifference(head, dz_tail, d), tail, rtol=1e-10)


def _manual_recursive(f, x, steps):
    z = np.diff(x, f.diff) if f.diff else x
    buf = list((z[-f.lags:] - f.mean_) / f.scale_)
    out = []
    while len(out) < steps:
        inp = np.asarray(buf[-f.lags:], np.float32)[None, :, None]
        p = f.model_.predict(inp, verbose=0)[0]
        take = list(p[:min(f.horizon, steps - len(out))])
        out += take
        buf += take
    dz = np.asarray(out, np.float64) * f.scale_ + f.mean_
    return F.undifference(x, dz, f.diff)


@pytest.mark.parametrize("diff", [0, 1])
def test_recursive_forecast_inverts_scaling_and_differencing(diff):
    x = 1000.0 + SUN[:150]                       # far from zero: scaling must be undone
    f = RNNForecaster("gru", 6, lags=8, epochs=20, diff=diff, seed=0).fit(x)
    fc = f.forecast(x, 12)
    np.testing.assert_allclose(fc, _manual_recursive(f, x, 12), rtol=1e-5)
    assert fc.shape == (12,) and np.all(np.abs(fc - 1000) < 400)
    # one step of the forecast = the one-step prediction of the next value
    nxt = f.predict_one_step(np.r_[x, 0.0], len(x))[0]
    assert fc[0] == pytest.approx(nxt, rel=1e-5)


def test_direct_forecast_uses_all_outputs_in_blocks():
    x = SUN[:200]
    f = RNNForecaster("lstm", 6, lags=10, horizon=4, epochs=10, seed=1).fit(x)
    assert f.model_.output_shape[-1] == 4
    fc = f.forecast(x, 10)                       # blocks 4 + 4 + 2
    np.testing.assert_allclose(fc, _manual_recursive(f, x, 10), rtol=1e-5)
    z = ((x[-10:] - f.mean_) / f.scale_).astype(np.float32)[None, :, None]
    first = f.model_.predict(z, verbose=0)[0] * f.scale_ + f.mean_
    np.testing.assert_allclose(fc[:4], first, rtol=1e-5)
    # one-step predictions use the first output
    p = f.predict_one_step(SUN[:220], 200)
    assert p.shape == (20,) and np.all(np.isfinite(p))


def test_rnn_learns_a_sine_better_than_naive():
    t = np.arange(300)
    x = 5 + 3 * np.sin(2 * np.pi * t / 20)
    f = RNNForecaster("gru", 8, lags=20, epochs=60, seed=0).fit(x[:250])
    fc = f.forecast(x[:250], 20)
    assert np.mean((fc - x[250:270]) ** 2) < 0.1 * np.mean((x[249] - x[250:270]) ** 2)


def test_forecast_function_keeps_the_index():
    pd = pytest.importorskip("pandas")
    s = load_sunspots(as_frame=True).iloc[:200]
    f = RNNForecaster("elman", 4, lags=5, epochs=5, seed=0).fit(s.to_numpy())
    out = F.forecast(f, s, 3)
    assert isinstance(out, pd.Series) and list(out.index) == [1900, 1901, 1902]
    assert out.name == "sunspots"
    arr = F.forecast(f, s.to_numpy(), 3)
    assert isinstance(arr, np.ndarray)
    np.testing.assert_allclose(arr, out.to_numpy())
    with pytest.raises(ValueError, match="steps"):
        F.forecast(f, s, 0)


def test_future_index_kinds():
    pd = pytest.importorskip("pandas")
    months = pd.date_range("2020-01-01", periods=6, freq="MS")
    fut = F.future_index(months, 3)
    assert list(fut) == list(pd.date_range("2020-07-01", periods=3, freq="MS"))
    days = pd.DatetimeIndex(["2021-01-01", "2021-01-02", "2021-01-03"])
    assert list(F.future_index(days, 2).strftime("%Y-%m-%d")) == ["2021-01-04", "2021-01-05"]
    per = pd.period_range("2001Q1", periods=4, freq="Q")
    assert [str(p) for p in F.future_index(per, 2)] == ["2002Q1", "2002Q2"]
    assert list(F.future_index(pd.Index([1990, 1995, 2000]), 2)) == [2005, 2010]
    assert F.future_index(pd.Index([1, 2, 4]), 2) is None
    assert F.future_index(pd.Index(["a", "b"]), 2) is None


def test_future_index_numpy():
    assert list(F.future_index(np.array([3, 5, 7]), 2)) == [9, 11]
    m = np.array(["2020-11-01", "2020-12-01", "2021-01-01"], dtype="datetime64[D]")
    assert [str(v) for v in F.future_index(m, 2)] == ["2021-02-01", "2021-03-01"]
    d = np.array(["2020-01-01", "2020-01-08"], dtype="datetime64[D]")
    assert [str(v) for v in F.future_index(d, 1)] == ["2020-01-15"]
    assert F.future_index(np.array([1.5, 2.5]), 1) is None
    assert F.future_index(None, 3) is None


def test_as_series_validation():
    with pytest.raises(ValueError, match="1-D"):
        F.as_series(np.zeros((3, 2)))
    with pytest.raises(TypeError, match="numbers"):
        F.as_series(["a", "b"])
    with pytest.raises(ValueError, match="value 2 is nan"):
        F.as_series([1.0, 2.0, np.nan])
    x, idx = F.as_series([1, 2, 3])
    assert x.dtype == np.float64 and idx is None
