"""GlobalRNN: one network over a collection (fastrnn.forecasting.global_rnn)."""

import pickle

import numpy as np
import pytest

from fastrnn import backends
from fastrnn.forecasting.base import Prediction
from fastrnn.forecasting.global_rnn import GlobalRNN

H = 4


def collection(n_series=24, seed=0, lengths=(30, 60), period=4):
    """Series sharing one seasonal shape at different levels, with noise."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_series):
        n = int(rng.integers(*lengths))
        t = np.arange(n)
        level = rng.uniform(5, 50)
        out.append(level * (1 + 0.3 * np.sin(2 * np.pi * t / period))
                   + rng.normal(0, 0.02 * level, n))
    return out


def rel_err(preds, ys):
    """Mean over series of the MAE of the last len(forecast) values over the series' mean."""
    return np.mean([np.abs(p.mean - y[-len(p.mean):]).mean() / y.mean()
                    for p, y in zip(preds, ys)])


def mae_vs(model, series, h, **fit):
    train = [y[:-h] for y in series]
    preds = model.fit(train, **fit).predict()
    return np.mean([np.abs(p.mean - y[-h:]).mean() / np.abs(y).mean()
                    for p, y in zip(preds, series)])


def test_protocol_and_shapes():
    series = collection()
    model = GlobalRNN(H, input_size=8, units=8, epochs=2)
    assert model.is_global is True
    assert model.fit(series, season=4) is model
    preds = model.predict()
    assert len(preds) == len(series)
    assert all(isinstance(p, Prediction) and p.mean.shape == (H,) for p in preds)
    assert all(np.isfinite(p.mean).all() for p in preds)
    assert model.predict(h=2)[0].mean.shape == (2,)
    with pytest.raises(ValueError, match="h must be an int in \\[1, 4\\]"):
        model.predict(h=5)
    twin = model.clone()
    assert twin.get_params() == model.get_params() and twin.members_ is None
    assert "GlobalLSTM(8)" in model.name
    # per-series seasons
    model.fit(series, season=[4] * len(series))


def test_fused_path_is_used():
    if backends.fused_trainer()[0] is None:
        pytest.skip("no compiled fused trainer in this build")
    model = GlobalRNN(H, input_size=8, units=8, epochs=1, n_seeds=2).fit(collection(), 4)
    assert model.fit_path_ == "fused"
    assert all(info["fused"] for info in model.fit_info_) and len(model.fit_info_) == 2


def test_training_length_in_steps_and_the_decay_schedule():
    series = collection()            # 24 series of 26..59 training windows with L=8, h=4
    model = GlobalRNN(H, input_size=8, units=8, steps=30, batch_size=64).fit(series, 4)
    windows = sum(min(64, len(y) - 8 - H + 1) for y in series)
    per_epoch = -(-windows // 64)
    assert len(model.members_[0][1].history.epoch) == max(1, round(30 / per_epoch))
    lr = GlobalRNN(H, learning_rate=0.01, decay=0.1)._schedule(8)
    assert [lr(e, None) for e in (0, 3, 4, 5, 6, 7)] == pytest.approx(
        [0.01, 0.01, 0.001, 0.001, 0.0001, 0.0001])


def test_reproducible_with_a_seed():
    series = collection()
    a = GlobalRNN(H, input_size=8, units=8, epochs=3, seed=5).fit(series, 4).predict()
    b = GlobalRNN(H, input_size=8, units=8, epochs=3, seed=5).fit(series, 4).predict()
    c = GlobalRNN(H, input_size=8, units=8, epochs=3, seed=6).fit(series, 4).predict()
    assert all(np.array_equal(x.mean, y.mean) for x, y in zip(a, b))
    assert not all(np.allclose(x.mean, y.mean) for x, y in zip(a, c))


@pytest.mark.parametrize("seasonality, normalize", [
    ("deseasonalize", "mean"), ("none", "mean"), ("deseasonalize", "last"),
    ("deseasonalize", "diff"), ("position", "mean")])
def test_per_window_normalisation_is_scale_invariant(seasonality, normalize):
    series = collection()
    kw = {"input_size": 8, "units": 8, "epochs": 3, "seasonality": seasonality,
          "normalize": normalize}
    a = GlobalRNN(H, **kw).fit(series, 4).predict()
    b = GlobalRNN(H, **kw).fit([1000 * y for y in series], 4).predict()
    for x, y in zip(a, b):
        np.testing.assert_allclose(y.mean, 1000 * x.mean, rtol=1e-4)


def test_learns_a_shared_pattern_better_than_naive():
    series = collection(n_series=40)
    # no deseasonalising: the network itself must learn the shared seasonal shape
    model = GlobalRNN(H, input_size=8, units=16, epochs=40, seasonality="none",
                      learning_rate=1e-2)
    err = mae_vs(model, series, H, season=4)
    naive = np.mean([np.abs(y[-H - 1] - y[-H:]).mean() / np.abs(y).mean() for y in series])
    assert err < 0.4 * naive, (err, naive)


def test_ensemble_is_the_median_of_its_members():
    series = collection()
    model = GlobalRNN(H, units=8, epochs=2, n_seeds=2, input_sizes=[6, 8]).fit(series, 4)
    assert [L for L, _ in model.members_] == [6, 6, 8, 8]
    singles = [GlobalRNN(H, input_size=L, units=8, epochs=2, seed=s).fit(series, 4).predict()
               for L in (6, 8) for s in (0, 1)]
    want = np.median([[p.mean for p in one] for one in singles], axis=0)
    got = np.array([p.mean for p in model.predict()])
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_recursive_strategy():
    series = collection()
    model = GlobalRNN(H, input_size=8, units=8, epochs=20, strategy="recursive",
                      learning_rate=1e-2)
    err = mae_vs(model, series, H, season=4)
    naive = np.mean([np.abs(y[-H - 1] - y[-H:]).mean() / np.abs(y).mean() for y in series])
    assert [m.layers[-1].units for _, m in model.members_] == [1]
    assert err < naive


def test_pickles_with_its_weights():
    series = collection()
    model = GlobalRNN(H, units=8, epochs=2, input_sizes=[6, 8]).fit(series, 4)
    twin = pickle.loads(pickle.dumps(model))
    for a, b in zip(model.predict(), twin.predict()):
        np.testing.assert_array_equal(a.mean, b.mean)


def test_short_series_are_padded_and_forecast():
    series = collection()
    series[0] = series[0][:3]     # shorter than the window and than h: no training window
    series[1] = series[1][:7]     # shorter than input_size + h: one padded window
    model = GlobalRNN(H, input_size=8, units=8, epochs=2).fit(series, 4)
    preds = model.predict()
    assert preds[0].mean.shape == (H,) and np.isfinite(preds[0].mean).all()
    with pytest.raises(ValueError, match="no series has more than h=4 values"):
        GlobalRNN(H, input_size=8, epochs=1).fit([np.ones(3), np.ones(4)], 1)


def test_intervals_conformal_over_the_collection():
    series = collection(n_series=30)
    preds = GlobalRNN(H, input_size=8, units=8, epochs=5).fit(series, 4).predict(
        level=[80, 95])
    for p in preds:
        assert p.levels == (80.0, 95.0)
        assert (p.lo[95] <= p.lo[80]).all() and (p.lo[80] <= p.mean).all()
        assert (p.mean <= p.hi[80]).all() and (p.hi[80] <= p.hi[95]).all()


def _future_data(seed=0, n_series=30, n=50):
    """y_t = level (1 + 0.5 c_t), c_t a random 0/1 known in advance."""
    rng = np.random.default_rng(seed)
    ys, cs = [], []
    for _ in range(n_series):
        c = rng.integers(0, 2, n + H).astype(float)
        ys.append(rng.uniform(5, 50) * (1 + 0.5 * c[:n]))
        cs.append(c)
    return ys, cs


def test_future_covariates_inform_the_forecast():
    ys, cs = _future_data()
    series = [y[:-H] for y in ys]
    fut = [c[:len(y) + H] for c, y in zip(cs, series)]    # known through the test horizon
    kw = {"input_size": 8, "units": 16, "epochs": 40, "learning_rate": 1e-2,
          "seasonality": "none"}
    plain = GlobalRNN(H, **kw).fit(series).predict()
    with_c = GlobalRNN(H, **kw).fit(series, covariates={"future": fut}).predict()
    assert rel_err(with_c, ys) < 0.5 * rel_err(plain, ys), (rel_err(with_c, ys), rel_err(plain, ys))


def test_past_covariates_inform_the_forecast():
    # y_t = level (1 + 0.5 c_{t-1}): the last observed covariate says the next value
    rng = np.random.default_rng(1)
    ys, cs = [], []
    for _ in range(30):
        c = rng.integers(0, 2, 51).astype(float)
        ys.append(rng.uniform(5, 50) * (1 + 0.5 * c[:-1]))
        cs.append(c[1:])       # c_t observed with y_t, so it drives y_{t+1}
    kw = {"input_size": 6, "units": 16, "epochs": 40, "learning_rate": 1e-2,
          "seasonality": "none"}
    series, past = [y[:-1] for y in ys], [c[:-1] for c in cs]
    plain = GlobalRNN(1, **kw).fit(series).predict()
    with_c = GlobalRNN(1, **kw).fit(series, covariates={"past": past}).predict()
    assert rel_err(with_c, ys) < 0.5 * rel_err(plain, ys), (rel_err(with_c, ys), rel_err(plain, ys))


def test_static_covariates_inform_the_forecast():
    # a one-value window says nothing of the trend; the static flag says its direction
    rng = np.random.default_rng(2)
    ys, flags = [], []
    for i in range(40):
        flag = i % 2
        growth = 1.04 if flag else 1 / 1.04
        ys.append(rng.uniform(5, 50) * growth ** np.arange(30) * (1 + rng.normal(0, 0.01, 30)))
        flags.append(flag)
    kw = {"input_size": 1, "units": 16, "epochs": 40, "learning_rate": 1e-2,
          "seasonality": "none"}
    series = [y[:-H] for y in ys]
    a = GlobalRNN(H, **kw).fit(series).predict()
    b = GlobalRNN(H, **kw).fit(series, covariates={"static": np.array(flags)}).predict()
    assert rel_err(b, ys) < 0.5 * rel_err(a, ys), (rel_err(b, ys), rel_err(a, ys))


@pytest.mark.parametrize("call, error, message", [
    (lambda: GlobalRNN(0), ValueError, "h must be a positive int, got 0"),
    (lambda: GlobalRNN(4, loss="huber"), ValueError, "loss must be one of"),
    (lambda: GlobalRNN(4, input_sizes=[]), ValueError, "input_sizes must be a non-empty"),
    (lambda: GlobalRNN(4).fit(np.ones(20)), TypeError, "series must be a list of 1-D"),
    (lambda: GlobalRNN(4).fit([]), ValueError, "at least one series"),
    (lambda: GlobalRNN(4).fit([np.ones(20), np.ones((3, 2))]), ValueError,
     r"series\[1\]: expected a 1-D series, got shape \(3, 2\)"),
    (lambda: GlobalRNN(4).fit([np.r_[1.0, np.nan, 2.0]]), ValueError,
     r"series\[0\]: value 1 is nan"),
    (lambda: GlobalRNN(4).fit([np.ones(20)] * 2, season=[4]), ValueError,
     "season: expected an int or 2 ints"),
    (lambda: GlobalRNN(4).fit([np.ones(20)], season=0), ValueError,
     "season must be a positive int"),
    (lambda: GlobalRNN(4).fit([np.ones(20)], covariates={"futur": []}), ValueError,
     r"unknown kind\(s\) \['futur'\]"),
    (lambda: GlobalRNN(4).fit([np.ones(20)], covariates={"future": [np.ones(20)]}),
     ValueError, r"covariates\['future'\]\[0\]: expected shape \(24,\) or \(24, F\), got"),
    (lambda: GlobalRNN(4).fit([np.ones(20)], covariates={"static": np.ones((2, 1))}),
     ValueError, r"covariates\['static'\]: expected shape \(1,\)"),
    (lambda: GlobalRNN(4, strategy="recursive").fit([np.ones(20)],
                                                   covariates={"past": [np.ones(20)]}),
     ValueError, "strategy='recursive' takes static covariates only"),
    (lambda: GlobalRNN(4).predict(), RuntimeError, "is not fitted"),
])
def test_bad_input_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
