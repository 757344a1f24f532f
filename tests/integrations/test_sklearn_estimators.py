"""fastrnn.sklearn against scikit-learn's own estimator checks, and the behaviour those checks
do not cover: sequences (3-D X), the step order of lag columns, argument errors, pickling."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastrnn import _params, cells
from fastrnn.sklearn import RNNClassifier, RNNRegressor


@parametrize_with_checks([RNNRegressor(), RNNClassifier()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def lagged(n=400, p=8, seed=0):
    """A noisy AR(2) series cut into (n, p) windows of lags, oldest first, and the next value."""
    rng = np.random.default_rng(seed)
    z = np.zeros(n + p + 50)
    for t in range(2, len(z)):
        z[t] = 1.2 * z[t - 1] - 0.5 * z[t - 2] + 0.1 * rng.standard_normal()
    z = z[50:]
    X = np.lib.stride_tricks.sliding_window_view(z[:-1], p)[:n]
    return np.ascontiguousarray(X), z[p:p + n]


@pytest.mark.parametrize("cell", [c.keras_class for c in cells.CELLS])
def test_every_cell_learns_an_autoregression(cell):
    X, y = lagged()
    reg = RNNRegressor(cell=cell, units=16, epochs=60, random_state=0).fit(X[:300], y[:300])
    assert reg.fit_info_["fused"], reg.fit_info_
    # least squares on the lags is the best predictor of an AR(2) (R^2 0.67 out of sample here)
    best = LinearRegression().fit(X[:300], y[:300]).score(X[300:], y[300:])
    assert reg.score(X[300:], y[300:]) > best - 0.08
    assert reg.predict(X[300:]).dtype == np.float64


def test_newest_first_columns_are_the_same_sequences_reversed():
    X, y = lagged()
    a = RNNRegressor(epochs=5, random_state=1).fit(X, y)
    b = RNNRegressor(epochs=5, step_order="newest_first", random_state=1).fit(X[:, ::-1], y)
    np.testing.assert_allclose(a.predict(X), b.predict(X[:, ::-1]), rtol=1e-6, atol=1e-9)
    assert a.model_.input_shape == (None, X.shape[1], 1)


def test_sequences_and_two_d_lags_agree():
    X, y = lagged()
    a = RNNRegressor(epochs=3, random_state=2).fit(X, y)
    b = RNNRegressor(epochs=3, random_state=2).fit(X[:, :, None], y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X[:, :, None]))
    assert b.input_shape_ == (X.shape[1], 1) and b.n_features_in_ == X.shape[1]


def test_sequences_of_several_features_and_their_shape_is_checked():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((200, 6, 3))
    y = X[:, -1, 0] - X[:, -2, 2]
    reg = RNNRegressor(cell="LSTM", epochs=40, random_state=0).fit(X, y)
    assert reg.score(X, y) > 0.7
    with pytest.raises(ValueError, match=r"sequences of shape \(6, 2\)"):
        reg.predict(X[:, :, :2])
    with pytest.raises(ValueError, match="2 dimensions .* or 3"):
        reg.fit(X[..., None], y)


def test_multi_output_regression():
    X, y = lagged()
    Y = np.stack([y, -2 * y + 1], axis=1)
    reg = RNNRegressor(epochs=30, random_state=0).fit(X, Y)
    assert reg.predict(X).shape == (len(X), 2)
    assert reg.score(X, Y) > LinearRegression().fit(X, Y).score(X, Y) - 0.08


def test_classifier_on_string_labels_and_probabilities():
    X, y = lagged()
    labels = np.where(y > np.median(y), "up", "down")
    clf = RNNClassifier(epochs=30, random_state=0).fit(X, labels)
    assert list(clf.classes_) == ["down", "up"]
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert clf.score(X, labels) > 0.8
    assert set(clf.predict(X)) <= {"down", "up"}


def test_random_state_fixes_the_fit_and_none_varies():
    X, y = lagged(n=100)
    a, b = (RNNRegressor(epochs=3, dropout=0.2, random_state=7).fit(X, y) for _ in range(2))
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    c, d = (RNNRegressor(epochs=3, random_state=None).fit(X, y) for _ in range(2))
    assert not np.array_equal(c.predict(X), d.predict(X))


def test_early_stopping_restores_the_best_epoch():
    X, y = lagged()
    reg = RNNRegressor(epochs=500, patience=3, learning_rate=0.05, random_state=0).fit(X, y)
    assert reg.n_iter_ < 500 and len(reg.loss_curve_) == reg.n_iter_
    with pytest.raises(ValueError, match="validation_fraction"):
        RNNRegressor(patience=2, validation_fraction=0.01).fit(X[:20], y[:20])


@pytest.mark.parametrize("name, value, error", [
    ("units", 0, ValueError), ("units", "8", _params.ParameterError), ("epochs", -1, ValueError),
    ("optimizer", "adagrad", ValueError), ("step_order", "backwards", ValueError),
    ("dropout", 1.0, ValueError), ("cell", "transformer", ValueError),
    ("dtype", "float16", ValueError), ("backend", "tpu", ValueError)])
def test_bad_arguments_raise_at_fit_naming_the_argument(name, value, error):
    X, y = lagged(n=20)
    reg = RNNRegressor(**{name: value})  # constructing never raises (scikit-learn's contract)
    with pytest.raises(error, match=name if name not in ("cell", "backend") else "must be one of"):
        reg.fit(X, y)


def test_pickle_clone_pipeline_and_grid_search():
    X, y = lagged(n=200)
    reg = RNNRegressor(epochs=5, dtype="float32", random_state=0).fit(X, y)
    back = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(back.predict(X), reg.predict(X))
    assert back.model_.dtype == np.float32 and back.predict(X).dtype == np.float64
    assert not hasattr(clone(reg), "model_")
    pipe = make_pipeline(StandardScaler(), RNNRegressor(epochs=5, random_state=0)).fit(X, y)
    assert pipe.predict(X).shape == y.shape
    grid = GridSearchCV(RNNRegressor(epochs=5, random_state=0),
                        {"units": [4, 8], "cell": ["GRU", "SimpleRNN"]}, cv=2).fit(X, y)
    assert set(grid.best_params_) == {"units", "cell"}
