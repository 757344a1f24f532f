"""fastrnn.timeseries windowing, splits, scalers and differencing."""

import numpy as np
import pytest

from fastrnn import timeseries as ts

BACKENDS = ["numpy"] + (["compiled"] if ts.compiled() else [])


def naive_windows(a, lags, horizon, stride, xcols, tcols):
    X, y = [], []
    for s in range(0, a.shape[0] - lags - horizon + 1, stride):
        X.append(a[s:s + lags][:, xcols])
        y.append(a[s + lags:s + lags + horizon][:, tcols])
    return np.array(X), np.array(y)


# --------------------------------------------------------------------------- make_windows
@pytest.mark.parametrize("lags,horizon,stride", [(1, 1, 1), (5, 1, 1), (5, 3, 2), (7, 2, 5),
                                                 (19, 1, 1)])
def test_layout_1d(lags, horizon, stride):
    x = np.arange(20.0) * 1.5
    X, y = ts.make_windows(x, lags, horizon, stride)
    Xn, yn = naive_windows(x[:, None], lags, horizon, stride, [0], [0])
    assert X.shape == (len(Xn), lags, 1) and y.shape == (len(Xn), horizon)
    assert len(Xn) == ts.n_windows(20, lags, horizon, stride)
    np.testing.assert_array_equal(X, Xn)
    np.testing.assert_array_equal(y, yn[:, :, 0])
    # row i of X is x_i..x_{i+lags-1}, target starts at x_{i+lags}
    i = len(X) - 1
    assert X[i, 0, 0] == x[i * stride] and y[i, 0] == x[i * stride + lags]


@pytest.mark.parametrize("target,exog,include_target,xcols,tcols,ydim", [
    (None, None, True, [0, 1, 2, 3], [0, 1, 2, 3], 3),
    (0, None, True, [0, 1, 2, 3], [0], 2),
    ([1, 3], None, True, [0, 1, 2, 3], [1, 3], 3),
    (2, [0], True, [2, 0], [2], 2),
    (2, [0, 3], False, [0, 3], [2], 2),
    ([3, 1], [0], True, [3, 1, 0], [3, 1], 3),
    (1, None, False, [0, 2, 3], [1], 2),
    (None, [0], True, [1, 2, 3, 0], [1, 2, 3], 3),
    (-1, None, True, [0, 1, 2, 3], [3], 2),
])
def test_layout_2d_columns(target, exog, include_target, xcols, tcols, ydim):
    a = np.arange(120.0).reshape(30, 4) ** 1.1
    X, y = ts.make_windows(a, 6, 2, 3, target=target, exog=exog,
                           include_target=include_target)
    Xn, yn = naive_windows(a, 6, 2, 3, xcols, tcols)
    np.testing.assert_array_equal(X, Xn)
    assert y.ndim == ydim
    np.testing.assert_array_equal(y, yn if ydim == 3 else yn[:, :, 0])


def test_views_and_copies():
    a = np.random.default_rng(0).standard_normal((50, 3))
    X, y = ts.make_windows(a, 8, 2)
    assert np.shares_memory(X, a) and np.shares_memory(y, a)
    assert not X.flags.writeable and not y.flags.writeable
    with pytest.raises(ValueError):
        X[0, 0, 0] = 1.0
    X1, y1 = ts.make_windows(a, 8, 2, target=[0, 2])  # evenly spaced columns: still views
    assert np.shares_memory(X1, a) and np.shares_memory(y1, a)
    X2, y2 = ts.make_windows(a, 8, 2, target=1)
    assert np.shares_memory(y2, a) and y2.shape == (41, 2)
    Xc, yc = ts.make_windows(a, 8, 2, copy=True)
    assert not np.shares_memory(Xc, a) and Xc.flags.writeable and Xc.flags.c_contiguous
    assert yc.flags.writeable and yc.flags.c_contiguous
    np.testing.assert_array_equal(Xc, X)
    Xc[0, 0, 0] = 123.0
    assert a[0, 0] != 123.0
    Xd, _ = ts.make_windows(a, 8, 2, dtype=np.float32)
    assert Xd.dtype == np.float32


def test_make_windows_errors():
    x = np.arange(10.0)
    with pytest.raises(ValueError, match=r"series: expected at least lags \+ horizon = 11.*got 10"):
        ts.make_windows(x, 10)
    with pytest.raises(ValueError, match="lags must be a positive int, got 0"):
        ts.make_windows(x, 0)
    with pytest.raises(TypeError, match="horizon"):
        ts.make_windows(x, 2, horizon=1.5)
    with pytest.raises(ValueError, match="stride"):
        ts.make_windows(x, 2, stride=0)
    with pytest.raises(ValueError, match=r"series: expected a 1-D .* got shape \(2, 5, 1\)"):
        ts.make_windows(x.reshape(2, 5, 1), 2)
    with pytest.raises(ValueError, match="target: column 3 is out of range"):
        ts.make_windows(x.reshape(5, 2), 2, target=3)
    with pytest.raises(ValueError, match="exog: columns \\[0\\] are also target"):
        ts.make_windows(x.reshape(5, 2), 2, target=0, exog=[0])
    with pytest.raises(TypeError, match="series: expected a numeric"):
        ts.make_windows(np.array(list("abcdef")), 2)


# --------------------------------------------------------------------------- panels
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_panel_windows(backend, dtype):
    rng = np.random.default_rng(1)
    lengths = [30, 5, 12, 0, 9, 17]
    series = [rng.standard_normal((n, 3)).astype(dtype) for n in lengths]
    pw = ts.make_panel_windows(series, 4, 2, 3, target=[0, 2], backend=backend)
    Xs, ys, ids, t = [], [], [], []
    for i, s in enumerate(series):
        if len(s) < 6:
            continue
        X, y = ts.make_windows(s, 4, 2, 3, target=[0, 2])
        Xs.append(X)
        ys.append(y)
        ids += [i] * len(X)
        t += list(range(4, 4 + 3 * len(X), 3))
    np.testing.assert_array_equal(pw.X, np.concatenate(Xs))
    np.testing.assert_array_equal(pw.y, np.concatenate(ys))
    np.testing.assert_array_equal(pw.ids, ids)
    np.testing.assert_array_equal(pw.t, t)
    assert pw.X.dtype == dtype and pw.X.flags.c_contiguous
    # the target at t is the series value at t
    for w in range(len(pw.ids)):
        np.testing.assert_array_equal(pw.y[w, 0], series[pw.ids[w]][pw.t[w], [0, 2]])


@pytest.mark.skipif(not ts.compiled(), reason="compiled kernels not built")
def test_panel_compiled_equals_numpy_1d_and_int():
    rng = np.random.default_rng(2)
    series = [rng.integers(0, 100, size=n) for n in rng.integers(1, 40, size=50)]
    a = ts.make_panel_windows(series, 3, 1, backend="compiled")
    b = ts.make_panel_windows(series, 3, 1, backend="numpy")
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert a.y.ndim == 2 and a.X.dtype == np.float64


def test_panel_errors():
    with pytest.raises(ValueError, match="series_list: expected at least one"):
        ts.make_panel_windows([], 2)
    with pytest.raises(ValueError, match=r"series_list\[1\]: expected 2 column"):
        ts.make_panel_windows([np.ones((5, 2)), np.ones((5, 3))], 2)
    with pytest.raises(ValueError, match="backend"):
        ts.make_panel_windows([np.ones(5)], 2, backend="gpu")


@pytest.mark.parametrize("backend", BACKENDS)
def test_lag_matrix(backend):
    x = np.arange(12.0) ** 2
    L = ts.lag_matrix(x, 3)
    assert L.shape == (9, 4) and np.shares_memory(L, x) and not L.flags.writeable
    for t in range(9):
        np.testing.assert_array_equal(L[t], [x[t + 3], x[t + 2], x[t + 1], x[t]])
    Lc = ts.lag_matrix(x, 3, copy=True, backend=backend)
    np.testing.assert_array_equal(Lc, L)
    assert Lc.flags.c_contiguous and Lc.flags.writeable
    sm_tsatools = pytest.importorskip("statsmodels.tsa.tsatools")
    ref = sm_tsatools.lagmat(x, 3, trim="both", original="in")
    np.testing.assert_array_equal(L, ref)
    with pytest.raises(ValueError, match="maxlag = 12"):
        ts.lag_matrix(x, 12)


# --------------------------------------------------------------------------- splits
def test_split_sizes_and_order():
    tr, va, te = ts.split_indices(100, val=0.2, test=0.1, gap=3)
    assert (tr.start, tr.stop, va.start, va.stop, te.start, te.stop) == (0, 64, 67, 87, 90, 100)
    tr, va, te = ts.split_indices(50, val=10, test=0)
    assert (tr.stop, va.start, va.stop, te.start, te.stop) == (40, 40, 50, 50, 50)
    a = np.arange(100)
    p = ts.train_val_test_split(a, val=0.2, test=0.1, gap=3)
    assert [len(q) for q in p] == [64, 20, 10]
    assert p[0].max() < p[1].min() - 3 and p[1].max() < p[2].min() - 3
    with pytest.raises(ValueError, match="nothing left for training"):
        ts.split_indices(10, val=0.5, test=0.5)
    with pytest.raises(ValueError, match="test: expected a fraction in"):
        ts.split_indices(10, test=1.5)
    with pytest.raises(ValueError, match=r"arrays\[1\]: expected first dimension 10"):
        ts.train_val_test_split(np.ones(10), np.ones(9))


def test_no_leakage_across_split_of_windows():
    T, lags, horizon = 200, 12, 3
    times = np.arange(T, dtype=float)
    X, y = ts.make_windows(times, lags, horizon)
    (Xtr, Xva, Xte), (ytr, yva, yte) = ts.train_val_test_split(
        X, y, val=0.2, test=0.2, gap=lags + horizon - 1)
    # every time step touched by a training window (inputs or targets) comes before every
    # time step touched by a validation window, and likewise validation -> test
    assert max(Xtr.max(), ytr.max()) < min(Xva.min(), yva.min())
    assert max(Xva.max(), yva.max()) < min(Xte.min(), yte.min())
    # one step less of gap would leak
    (Xtr2, Xva2, _), (ytr2, _, _) = ts.train_val_test_split(
        X, y, val=0.2, test=0.2, gap=lags + horizon - 2)
    assert ytr2.max() >= Xva2.min()


def test_scaler_fit_on_train_only_and_roundtrip():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((300, 3)) * [1.0, 10.0, 0.1] + [0.0, 50.0, -3.0]
    a[200:] += 100.0  # a shift in the later part must not influence the fitted statistics
    train, val, test = ts.train_val_test_split(a, val=0.2, test=0.2)
    for sc in (ts.StandardScaler(), ts.MinMaxScaler(feature_range=(-1, 1))):
        z = sc.fit(train).transform(a)
        if isinstance(sc, ts.StandardScaler):
            np.testing.assert_allclose(sc.mean_, train.mean(axis=0))
            np.testing.assert_allclose(z[: len(train)].mean(axis=0), 0, atol=1e-12)
            np.testing.assert_allclose(z[: len(train)].std(axis=0), 1, rtol=1e-12)
        else:
            np.testing.assert_allclose(z[: len(train)].min(axis=0), -1, atol=1e-12)
            np.testing.assert_allclose(z[: len(train)].max(axis=0), 1, atol=1e-12)
            assert (z[len(train) + len(val):] > 1).all()  # test part is outside the train range
        np.testing.assert_allclose(sc.inverse_transform(z), a, rtol=1e-12, atol=1e-12)
        # windows (W, lags, F) transform per feature too
        X, _ = ts.make_windows(a, 5)
        np.testing.assert_allclose(sc.transform(X)[3], z[3:8], rtol=1e-12, atol=1e-12)


def test_scaler_1d_constant_and_errors():
    sc = ts.StandardScaler().fit(np.full(10, 4.0))
    np.testing.assert_array_equal(sc.transform(np.full(3, 4.0)), 0.0)
    mm = ts.MinMaxScaler().fit(np.arange(5.0))
    np.testing.assert_allclose(mm.transform(np.arange(5.0)), [0, 0.25, 0.5, 0.75, 1])
    with pytest.raises(RuntimeError, match="fit"):
        ts.StandardScaler().transform(np.ones(3))
    with pytest.raises(ValueError, match="expected 1 feature"):
        mm.transform(np.ones((3, 2)))
    with pytest.raises(ValueError, match="finite"):
        ts.StandardScaler().fit(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="feature_range"):
        ts.MinMaxScaler(feature_range=(1, 0))


@pytest.mark.parametrize("d", [0, 1, 2, 3])
def test_difference_roundtrip(d):
    rng = np.random.default_rng(d)
    x = np.cumsum(np.cumsum(rng.standard_normal((60, 2)), axis=0), axis=0)
    dx = ts.difference(x, d)
    assert dx.shape == (60 - d, 2)
    np.testing.assert_array_equal(dx, np.diff(x, n=d, axis=0))
    np.testing.assert_allclose(ts.inverse_difference(dx, x[:d]), x, rtol=1e-12, atol=1e-9)
    x1 = x[:, 0]
    np.testing.assert_allclose(ts.inverse_difference(ts.difference(x1, d), x1[:d]), x1,
                               atol=1e-9)
    # forecasting: continue from the last d values
    if d:
        future = np.diff(x1[-d - 5:], n=d)  # differences of the last 5 steps
        np.testing.assert_allclose(ts.inverse_difference(future, x1[-d - 5:-5])[d:], x1[-5:],
                                   atol=1e-9)


def test_difference_errors():
    with pytest.raises(ValueError, match="d must be an int >= 0"):
        ts.difference(np.arange(5.0), -1)
    with pytest.raises(ValueError, match="more than d = 5"):
        ts.difference(np.arange(5.0), 5)
