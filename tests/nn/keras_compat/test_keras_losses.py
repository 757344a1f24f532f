"""Keras 3's shape rules, sample weights and reductions of every fastrnn loss, and the course
program whose (batch, 1) prediction is broadcast against a (batch, 11) target, on the Python
and the fused training paths (checked against Keras itself where it is installed)."""

from __future__ import annotations

import keras_oracle
import numpy as np
import pytest

import fastrnn
from fastrnn import layers, losses
from fastrnn.nn.sequential import Sequential

REG, PROB, ONEHOT, LABELS = "reg", "prob", "onehot", "labels"


@pytest.fixture(scope="module")
def keras():
    return keras_oracle.load_keras()

# (loss, y shape, p shape, kind, Keras accepts it)
CASES = [
    ("mse", (6, 11), (6, 1), REG, True),       # the course program: broadcast, mean over 11
    ("mse", (6, 1), (6, 3), REG, True),
    ("mse", (6,), (6, 1), REG, True),
    ("mse", (6, 11, 1), (6, 1), REG, True),    # y squeezed to (6, 11), then broadcast
    ("mse", (6, 5), (6, 5, 1), REG, True),     # p squeezed
    ("mse", (6, 5, 3), (6, 5, 1), REG, True),
    ("mse", (6, 5, 3), (6, 1), REG, False),
    ("mae", (6, 11), (6, 1), REG, True),
    ("mae", (6, 1), (6, 4), REG, True),
    ("mae", (6, 4), (6, 3), REG, False),
    ("binary_crossentropy", (6, 11), (6, 1), PROB, False),   # no broadcasting
    ("binary_crossentropy", (6,), (6, 1), PROB, True),
    ("binary_crossentropy", (6, 5), (6, 5, 1), PROB, True),
    ("binary_crossentropy", (6, 3), (6, 3), PROB, True),
    ("categorical_crossentropy", (6, 3), (6, 3), ONEHOT, True),
    ("categorical_crossentropy", (6, 1), (6, 3), ONEHOT, False),
    ("sparse_categorical_crossentropy", (6,), (6, 3), LABELS, True),
    ("sparse_categorical_crossentropy", (6, 1), (6, 3), LABELS, True),
    ("sparse_categorical_crossentropy", (6, 5), (6, 5, 3), LABELS, True),
    ("sparse_categorical_crossentropy", (6, 5, 1), (6, 5, 3), LABELS, True),
    ("sparse_categorical_crossentropy", (6, 2), (6, 3), LABELS, False),
]


def _data(kind, yshape, pshape, seed=0):
    rng = np.random.default_rng(seed)
    if kind == REG:
        return rng.standard_normal(yshape), rng.standard_normal(pshape)
    if kind == PROB:
        return (rng.random(yshape) > 0.5).astype(float), rng.uniform(0.05, 0.95, pshape)
    p = rng.uniform(0.1, 1.0, pshape)
    p /= p.sum(-1, keepdims=True)
    if kind == ONEHOT:
        return np.eye(yshape[-1])[rng.integers(0, yshape[-1], yshape[:-1])], p
    return rng.integers(0, pshape[-1], yshape), p


def _reference(name, y, p):
    """The Keras formulas written out on the broadcast arrays (the rules under test)."""
    y, p = losses.squeeze_or_expand(np.asarray(y, float), p)
    if name == "mse":
        return np.mean(np.mean((y - p) ** 2, axis=-1))
    if name == "mae":
        return np.mean(np.mean(np.abs(y - p), axis=-1))
    q = np.clip(p, 1e-7, 1 - 1e-7)
    return np.mean(np.mean(-(y * np.log(q) + (1 - y) * np.log(1 - q)), axis=-1))


def _fd_grad(f, p, h=1e-6):
    g = np.zeros_like(p)
    for i in np.ndindex(p.shape):
        old = p[i]
        p[i] = old + h
        up = f(p)
        p[i] = old - h
        down = f(p)
        p[i] = old
        g[i] = (up - down) / (2 * h)
    return g


@pytest.mark.parametrize("name,yshape,pshape,kind,ok", CASES)
def test_shape_rules_values_and_gradients(name, yshape, pshape, kind, ok):
    y, p = _data(kind, yshape, pshape)
    loss = losses.get(name)
    if not ok:
        with pytest.raises(ValueError):
            loss(y, p)
        return
    v, g = loss.value_and_grad(y, p)
    assert g.shape == p.shape
    if kind in (REG, PROB):
        assert v == pytest.approx(_reference(name, y, p), rel=1e-12)
    if name != "mae":   # |.| is not differentiable at the broadcast ties FD might hit
        np.testing.assert_allclose(g, _fd_grad(lambda q: loss(y, q), p.copy()), rtol=1e-5, atol=1e-8)


def test_course_broadcast_is_the_mean_over_targets():
    # Keras: (batch, 1) against (batch, 11) is mean_j (y_j - p)^2 per sample
    y = np.arange(22.0).reshape(2, 11)
    p = np.array([[1.0], [2.0]])
    want = np.mean([np.mean((y[0] - 1.0) ** 2), np.mean((y[1] - 2.0) ** 2)])
    assert losses.get("mean_squared_error")(y, p) == pytest.approx(want)
    _, g = losses.get("mse").value_and_grad(y, p)
    np.testing.assert_allclose(g[:, 0], 2 * (p[:, 0] - y.mean(1)) / 2)


@pytest.mark.parametrize("wshape,ok", [((6,), False), ((6, 1), True), ((6, 5), True)])
def test_sample_weight_rules_for_per_step_losses(wshape, ok):
    y, p = _data(REG, (6, 5, 2), (6, 5, 2))
    w = np.random.default_rng(1).uniform(0, 2, wshape)
    loss = losses.get("mse")
    if not ok:   # Keras: (6, 5) * (6,) does not broadcast
        with pytest.raises(ValueError, match="sample_weight of shape"):
            loss(y, p, sample_weight=w)
        return
    per = ((y - p) ** 2).mean(-1)
    want = (per * w).sum() / per.size           # divided by the entries, not by sum(w)
    v, g = loss.value_and_grad(y, p, sample_weight=w)
    assert v == pytest.approx(want, rel=1e-12)
    np.testing.assert_allclose(g, _fd_grad(lambda q: loss(y, q, sample_weight=w), p.copy()),
                               rtol=1e-5, atol=1e-8)


def test_reductions_and_config():
    y, p = _data(REG, (4, 3), (4, 3))
    w = np.array([1.0, 0.0, 2.0, 1.0])
    per = ((y - p) ** 2).mean(-1)
    assert losses.MeanSquaredError(reduction="sum")(y, p) == pytest.approx(per.sum())
    assert losses.MeanSquaredError(reduction="mean_with_sample_weight")(y, p, w) == pytest.approx(
        (per * w).sum() / w.sum())
    np.testing.assert_allclose(losses.MeanSquaredError(reduction=None)(y, p), per)
    with pytest.raises(ValueError, match="reduction must be one of"):
        losses.MeanSquaredError(reduction="avg")
    with pytest.raises(ValueError, match="training needs a scalar reduction"):
        losses.MeanSquaredError(reduction="none").value_and_grad(y, p)
    bce = losses.BinaryCrossentropy(label_smoothing=0.2, name="b")
    again = losses.get(losses.serialize(bce))
    assert (again.label_smoothing, again.get_config()["name"]) == (0.2, "b")
    yb, pb = _data(PROB, (4, 3), (4, 3))
    assert bce(yb, pb) == pytest.approx(losses.get("binary_crossentropy")(yb * 0.8 + 0.1, pb))


def test_fused_target_tiles_or_routes():
    out = (5, 1)
    y = np.random.default_rng(0).standard_normal((5, 11))
    yf, off, why = losses.fused_target(losses.get("mse"), y, out, np.float64)
    np.testing.assert_allclose(yf[:, 0], y.mean(1))
    assert off == pytest.approx(((y - y.mean(1, keepdims=True)) ** 2).mean(1).sum()) and not why
    yf, off, why = losses.fused_target(losses.get("mae"), y, out, np.float64)
    assert yf is None and "mean_absolute_error" in why
    yf, off, why = losses.fused_target(losses.get("mae"), y[:, :1], (5, 3), np.float64)
    assert yf.shape == (5, 3) and off == 0 and np.all(yf == y[:, :1])


# -- the course program --------------------------------------------------------------------
def _course(seed=0, n=200):
    rng = np.random.default_rng(seed)
    X, y = rng.random((n, 11, 4)), rng.random((n, 11))
    fastrnn.set_random_seed(seed)     # the model builds at construction (input_shape=)
    model = Sequential([layers.SimpleRNN(4, input_shape=(11, 4)), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mean_squared_error")
    return model, X, y


def test_course_program_trains_on_both_paths():
    a, X, y = _course()
    b, _, _ = _course()
    ha = a.fit(X, y, epochs=4, batch_size=32, shuffle=False, verbose=0, fused=False)
    hb = b.fit(X, y, epochs=4, batch_size=32, shuffle=False, verbose=0)
    assert ha.history["loss"][-1] < ha.history["loss"][0]
    if fastrnn.backends.fused_trainer()[0] is None:
        pytest.skip("no compiled trainer here")
    assert b.fused_fit_info["fused"], b.fused_fit_info
    np.testing.assert_allclose(hb.history["loss"], ha.history["loss"], rtol=1e-4)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-3, atol=1e-5)
    # mae cannot broadcast this way in the core: the Python path runs, and says why
    c, _, _ = _course()
    c.compile(optimizer="adam", loss="mae")
    c.fit(X, y, epochs=1, verbose=0)
    assert not c.fused_fit_info["fused"] and "broadcast" in c.fused_fit_info["reason"]


def test_course_program_matches_keras(keras):
    model, X, y = _course(n=320)
    k = keras.Sequential([keras.Input((11, 4)), keras.layers.SimpleRNN(4), keras.layers.Dense(1)])
    k.set_weights(model.get_weights())
    k.compile(optimizer="adam", loss="mean_squared_error")
    want = k.fit(X, y, epochs=5, batch_size=32, shuffle=False, verbose=0).history["loss"]
    for fused in (False, None):
        m, _, _ = _course(n=320)
        got = m.fit(X, y, epochs=5, batch_size=32, shuffle=False, verbose=0, fused=fused)
        np.testing.assert_allclose(got.history["loss"], want, rtol=2e-4)
    np.testing.assert_allclose(m.predict(X, verbose=0), k.predict(X, verbose=0), rtol=1e-3,
                               atol=1e-5)


@pytest.mark.parametrize("name,yshape,pshape,kind,ok", CASES)
def test_rules_match_keras(keras, name, yshape, pshape, kind, ok):
    y, p = _data(kind, yshape, pshape)
    cls = {"mse": "MeanSquaredError", "mae": "MeanAbsoluteError",
           "binary_crossentropy": "BinaryCrossentropy",
           "categorical_crossentropy": "CategoricalCrossentropy",
           "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy"}[name]
    kl = keras.losses.get({"class_name": cls, "config": {}})
    try:
        want = float(keras.ops.convert_to_numpy(kl(y, p.astype(np.float32))))
    except Exception:  # noqa: BLE001  (Keras raises its backend's error types)
        want = None
    assert (want is not None) == ok, "Keras's verdict differs from the table"
    if ok:
        assert losses.get(name)(y, p.astype(np.float32)) == pytest.approx(want, rel=1e-5)


@pytest.mark.parametrize("wshape", [(6,), (6, 1), (6, 5)])
def test_sample_weight_matches_keras(keras, wshape):
    y, p = _data(REG, (6, 5, 2), (6, 5, 2))
    w = np.random.default_rng(1).uniform(0, 2, wshape).astype(np.float32)
    try:
        want = float(keras.ops.convert_to_numpy(
            keras.losses.MeanSquaredError()(y, p.astype(np.float32), sample_weight=w)))
    except Exception:  # noqa: BLE001  (Keras raises its backend's error types)
        with pytest.raises(ValueError):
            losses.get("mse")(y, p, sample_weight=w)
        return
    assert losses.get("mse")(y, p, sample_weight=w) == pytest.approx(want, rel=1e-5)
