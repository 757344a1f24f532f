"""Training: optimiser updates vs hand formulas, losses and regularisers vs Keras's
definitions, whole-model gradients vs finite differences, a forecasting run, callbacks,
validation split, progress output, reproducibility and the non-finite-loss guard."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from fastrnn import callbacks, layers, losses, optimizers, regularizers
from fastrnn.layers import Input
from fastrnn.nn.seeding import set_random_seed
from fastrnn.nn.sequential import Sequential


# -- optimisers: one or two steps equal the formulas --------------------------------------------
def _two_steps(opt, w0, gs):
    w = w0.copy()
    for g in gs:
        opt.apply([w], [g.copy()])
    return w


W0 = np.array([0.5, -1.0, 2.0])
G1, G2 = np.array([0.1, -0.2, 0.3]), np.array([-0.4, 0.05, 0.2])


def test_sgd_plain_momentum_nesterov():
    np.testing.assert_allclose(_two_steps(optimizers.SGD(0.1), W0, [G1]), W0 - 0.1 * G1)
    # momentum 0.9: m1 = -lr g1, m2 = 0.9 m1 - lr g2; w += m each step
    m1 = -0.1 * G1
    m2 = 0.9 * m1 - 0.1 * G2
    np.testing.assert_allclose(_two_steps(optimizers.SGD(0.1, momentum=0.9), W0, [G1, G2]), W0 + m1 + m2)
    # nesterov: w += momentum * m - lr g
    want = W0 + (0.9 * m1 - 0.1 * G1) + (0.9 * m2 - 0.1 * G2)
    np.testing.assert_allclose(_two_steps(optimizers.SGD(0.1, momentum=0.9, nesterov=True), W0, [G1, G2]), want)


def test_adam_keras_defaults_and_formula():
    opt = optimizers.get("adam")
    assert (opt.learning_rate, opt.beta_1, opt.beta_2, opt.epsilon) == (0.001, 0.9, 0.999, 1e-7)
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    m = v = np.zeros(3)
    w = W0.copy()
    for t, g in enumerate([G1, G2], start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps)
    np.testing.assert_allclose(_two_steps(optimizers.Adam(learning_rate=lr), W0, [G1, G2]), w, rtol=1e-12)


def test_rmsprop_keras_defaults_and_formula():
    opt = optimizers.get("rmsprop")
    assert (opt.learning_rate, opt.rho, opt.momentum, opt.epsilon) == (0.001, 0.9, 0.0, 1e-7)
    lr, rho, eps = 0.01, 0.9, 1e-7
    v = np.zeros(3)
    w = W0.copy()
    for g in [G1, G2]:
        v = rho * v + (1 - rho) * g * g
        w = w - lr * g / np.sqrt(v + eps)
    np.testing.assert_allclose(_two_steps(optimizers.RMSprop(lr), W0, [G1, G2]), w, rtol=1e-12)
    # with momentum
    v, mom, w = np.zeros(3), np.zeros(3), W0.copy()
    for g in [G1, G2]:
        v = rho * v + (1 - rho) * g * g
        mom = 0.5 * mom + lr * g / np.sqrt(v + eps)
        w = w - mom
    np.testing.assert_allclose(_two_steps(optimizers.RMSprop(lr, momentum=0.5), W0, [G1, G2]), w, rtol=1e-12)


def test_gradient_clipping():
    g = np.array([3.0, 4.0])  # norm 5
    np.testing.assert_allclose(_two_steps(optimizers.SGD(1.0, clipnorm=1.0), np.zeros(2), [g]), -g / 5)
    np.testing.assert_allclose(_two_steps(optimizers.SGD(1.0, clipvalue=3.5), np.zeros(2), [g]), [-3.0, -3.5])
    a, b = np.zeros(1), np.zeros(1)
    optimizers.SGD(1.0, global_clipnorm=1.0).apply([a, b], [np.array([3.0]), np.array([4.0])])
    np.testing.assert_allclose([a[0], b[0]], [-0.6, -0.8])
    with pytest.raises(ValueError, match="only one of clipnorm, clipvalue"):
        optimizers.Adam(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="learning_rate must be"):
        optimizers.SGD(learning_rate=-1)


# -- losses: Keras's definitions and their gradients ----------------------------------------------
def _fd_grad(f, p, eps=1e-6):
    g = np.zeros_like(p)
    for idx in np.ndindex(p.shape):
        old = p[idx]
        p[idx] = old + eps
        fp = f(p)
        p[idx] = old - eps
        fm = f(p)
        p[idx] = old
        g[idx] = (fp - fm) / (2 * eps)
    return g


LOSS_CASES = {
    "mse": (lambda y, p: np.mean((y - p) ** 2), "reg"),
    "mae": (lambda y, p: np.mean(np.abs(y - p)), "reg"),
    "binary_crossentropy": (lambda y, p: np.mean(-(y * np.log(np.clip(p, 1e-7, 1 - 1e-7))
                                                   + (1 - y) * np.log(1 - np.clip(p, 1e-7, 1 - 1e-7)))), "prob"),
    "categorical_crossentropy": (lambda y, p: np.mean(-(y * np.log(np.clip(p / p.sum(-1, keepdims=True),
                                                                           1e-7, 1 - 1e-7))).sum(-1)), "onehot"),
}


def _targets(kind, rng, shape):
    if kind == "reg":
        return rng.standard_normal(shape), rng.standard_normal(shape)
    if kind == "prob":
        return (rng.random(shape) > 0.5).astype(float), rng.uniform(0.05, 0.95, shape)
    p = rng.uniform(0.1, 1.0, shape)
    y = np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])]
    return y, p / p.sum(-1, keepdims=True)


@pytest.mark.parametrize("name", list(LOSS_CASES))
@pytest.mark.parametrize("shape", [(6, 3), (4, 5, 3)])
def test_losses_match_keras_formula_and_gradient(name, shape):
    rng = np.random.default_rng(0)
    ref, kind = LOSS_CASES[name]
    y, p = _targets(kind, rng, shape)
    loss = losses.get(name)
    v, g = loss.value_and_grad(y, p)
    assert v == pytest.approx(ref(y, p), rel=1e-12)
    np.testing.assert_allclose(g, _fd_grad(lambda q: loss(y, q), p.copy()), rtol=1e-5, atol=1e-8)


def test_loss_details():
    # y of shape (B,) for an output (B, 1); aliases; MSE of 1-D regression
    assert losses.get("mean_squared_error")(np.array([1.0, 2.0]), np.array([[0.0], [0.0]])) == 2.5
    # BCE clips probabilities at 1e-7: log(1e-7) for a confident wrong answer
    assert losses.get("binary_crossentropy")(np.array([[1.0]]), np.array([[0.0]])) == pytest.approx(-np.log(1e-7))
    # from_logits forms equal the probability forms on sigmoid/softmax outputs
    rng = np.random.default_rng(1)
    z = rng.standard_normal((5, 4))
    y = np.eye(4)[rng.integers(0, 4, 5)]
    sm = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    assert losses.CategoricalCrossentropy(from_logits=True)(y, z) == pytest.approx(
        losses.get("categorical_crossentropy")(y, sm), rel=1e-10)
    labels = y.argmax(-1)
    assert losses.get("sparse_categorical_crossentropy")(labels, sm) == pytest.approx(
        losses.get("categorical_crossentropy")(y, sm), rel=1e-12)
    yb = (rng.random((5, 4)) > 0.5).astype(float)
    assert losses.BinaryCrossentropy(from_logits=True)(yb, z) == pytest.approx(
        losses.get("binary_crossentropy")(yb, 1 / (1 + np.exp(-z))), rel=1e-8)
    for l in (losses.CategoricalCrossentropy(from_logits=True), losses.BinaryCrossentropy(from_logits=True)):
        yy = y if isinstance(l, losses.CategoricalCrossentropy) else yb
        np.testing.assert_allclose(l.value_and_grad(yy, z)[1], _fd_grad(lambda q: l(yy, q), z.copy()),
                                   rtol=1e-5, atol=1e-8)
    with pytest.raises(ValueError, match=r"class labels must be in \[0, 3\]"):
        losses.get("sparse_categorical_crossentropy")(np.array([4, 0, 0, 0, 0]), sm)


# -- regularisers ----------------------------------------------------------------------------------
def test_regularizers_keras_definitions():
    w = np.array([[1.0, -2.0], [0.5, 0.0]])
    assert regularizers.l2(0.01)(w) == pytest.approx(0.01 * 5.25)   # no factor 1/2
    assert regularizers.l1(0.1)(w) == pytest.approx(0.1 * 3.5)
    assert regularizers.l1_l2(l1=0.1, l2=0.01)(w) == pytest.approx(0.35 + 0.0525)
    assert regularizers.get("l2").l2 == 0.01 and regularizers.get("l1").l1 == 0.01
    np.testing.assert_allclose(regularizers.l1_l2(0.1, 0.01).gradient(w),
                               0.1 * np.sign(w) + 0.02 * w)


def test_penalty_is_part_of_the_loss():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((8, 5, 2)), rng.standard_normal((8, 1))
    m = Sequential([layers.LSTM(3, input_shape=(None, 2), kernel_regularizer=regularizers.l2(0.05),
                                recurrent_regularizer="l1"), layers.Dense(1, bias_regularizer=regularizers.l1_l2(0.1, 0.2))])
    m.compile(optimizer="sgd", loss="mse")
    W, U, b, K, c = m.get_weights()
    pen = 0.05 * (W.astype(float) ** 2).sum() + 0.01 * np.abs(U.astype(float)).sum() + 0.1 * np.abs(c).sum() + 0.2 * (c ** 2).sum()
    plain = np.mean((m.predict(x, verbose=0) - y) ** 2)
    assert m.evaluate(x, y, verbose=0) == pytest.approx(plain + pen, rel=1e-5)


# -- whole-model gradients: float64 finite differences ---------------------------------------------
MODEL_CASES = {
    "mse": (lambda: [layers.LSTM(3, return_sequences=True, kernel_regularizer=regularizers.l2(0.1)),
                     layers.GRU(3, recurrent_regularizer=regularizers.l1_l2(0.01, 0.02)), layers.Dense(2)], "reg"),
    "mae": (lambda: [layers.SimpleRNN(3, return_sequences=True), layers.LSTM(2, return_sequences=True),
                     layers.Dense(2, activation="tanh", kernel_regularizer="l2")], "seq"),
    "binary_crossentropy": (lambda: [layers.GRU(3, reset_after=False, return_sequences=True), layers.SimpleRNN(3),
                                     layers.Dense(2, activation="sigmoid", bias_regularizer="l2")], "prob"),
    "categorical_crossentropy": (lambda: [layers.LSTM(4, return_sequences=True, go_backwards=True), layers.GRU(3),
                                          layers.Dense(3, activation="softmax")], "onehot"),
    "sparse_categorical_crossentropy": (lambda: [layers.SimpleRNN(3, return_sequences=True, activation="relu"),
                                                 layers.LSTM(3), layers.Dense(8, activation="elu"),
                                                 layers.Dense(3, activation="softmax")], "labels"),
}


@pytest.mark.parametrize("loss", list(MODEL_CASES))
def test_model_gradients_finite_differences(loss):
    rng = np.random.default_rng(3)
    make, kind = MODEL_CASES[loss]
    m = Sequential([Input((5, 2), dtype="float64")] + make())
    m.compile(optimizer="sgd", loss=loss)
    for w in m.weights:
        w[...] = rng.standard_normal(w.shape) * 0.5
    x = rng.standard_normal((4, 5, 2))
    out = m.output_shape
    if kind == "reg":
        y = rng.standard_normal((4, 2))
    elif kind == "seq":
        y = rng.standard_normal((4, 5, 2))
    elif kind == "prob":
        y = (rng.random((4, 2)) > 0.5).astype(float)
    elif kind == "onehot":
        y = np.eye(3)[rng.integers(0, 3, 4)]
    else:
        y = rng.integers(0, 3, 4)
    assert out[-1] == (3 if kind in ("onehot", "labels") else 2)
    value, grads = m.loss_and_gradients(x, y)
    for w, g in zip(m.trainable_weights, grads):
        num = _fd_grad(lambda _: m.loss_and_gradients(x, y)[0], w)
        np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-7)


# -- a forecasting run -----------------------------------------------------------------------------
def sine_windows(n=400, T=11, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n + T + 1)
    s = np.sin(0.3 * t) + 0.5 * np.sin(0.05 * t) + 0.05 * rng.standard_normal(t.size)
    X = np.stack([s[i:i + T] for i in range(n)])[..., None]
    y = s[T:T + n]
    return X, y


@pytest.mark.parametrize("cell", [layers.SimpleRNN, layers.LSTM, layers.GRU])
def test_training_reduces_loss_and_beats_naive_forecast(cell):
    set_random_seed(0)
    X, y = sine_windows()
    m = Sequential([cell(16, input_shape=(None, 1)), layers.Dense(1)])
    m.compile(optimizer=optimizers.Adam(learning_rate=0.01), loss="mse", metrics=["mae"])
    h = m.fit(X[:300], y[:300], epochs=15, batch_size=32, verbose=0, validation_data=(X[300:], y[300:]))
    assert set(h.history) == {"loss", "mae", "val_loss", "val_mae"}
    assert len(h.history["loss"]) == 15
    assert h.history["loss"][-1] < 0.2 * h.history["loss"][0]
    naive = np.mean((X[300:, -1, 0] - y[300:]) ** 2)
    test_mse = m.evaluate(X[300:], y[300:], verbose=0)[0]
    assert test_mse == pytest.approx(h.history["val_loss"][-1], rel=1e-5)
    assert test_mse < 0.5 * naive, (test_mse, naive)


def test_issue_example_trains_sequence_to_sequence():
    set_random_seed(1)
    X, _ = sine_windows(200, T=12)
    Xs, ys = X[:, :-1], X[:, 1:]
    m = Sequential([
        layers.SimpleRNN(10, input_shape=(None, 1), return_sequences=True, activation="tanh"),
        layers.SimpleRNN(15, return_sequences=True), layers.SimpleRNN(20, return_sequences=True),
        layers.Dense(60, activation="relu"), layers.Dense(1, activation="linear")])
    m.compile(optimizer="adam", loss="mean_squared_error")
    h = m.fit(Xs, ys, epochs=8, batch_size=32, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert m.predict(Xs[:5], verbose=0).shape == (5, 11, 1)


def test_classification_with_accuracy():
    set_random_seed(2)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 8, 2))
    labels = (X[:, :, 0].sum(1) > 0).astype(int) + (X[:, :, 1].sum(1) > 2)
    m = Sequential([layers.GRU(8, input_shape=(8, 2)), layers.Dense(3, activation="softmax")])
    m.compile(optimizer=optimizers.RMSprop(0.01), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
    h = m.fit(X, labels, epochs=20, verbose=0)
    assert h.history["accuracy"][-1] > 0.8
    loss, acc = m.evaluate(X, labels, verbose=0)
    assert acc == pytest.approx(np.mean(m.predict(X, verbose=0).argmax(1) == labels))


# -- fit mechanics -----------------------------------------------------------------------------------
def small_model(seed=0, **kw):
    set_random_seed(seed)
    m = Sequential([layers.LSTM(4, input_shape=(None, 1), **kw), layers.Dense(1)])
    m.compile(optimizer="adam", loss="mse")
    return m


def test_reproducible_with_a_seed():
    X, y = sine_windows(120)
    runs = []
    for _ in range(2):
        m = small_model(7, dropout=0.2, recurrent_dropout=0.1)
        h = m.fit(X, y, epochs=3, batch_size=16, verbose=0)
        runs.append((h.history["loss"], m.get_weights()))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)


def test_validation_split_takes_the_last_fraction():
    X, y = sine_windows(100)
    m = small_model()
    w = m.get_weights()
    h = m.fit(X, y, epochs=1, batch_size=10, validation_split=0.25, shuffle=False, verbose=0)
    # val_loss is evaluated after the epoch on the last 25 samples
    assert h.history["val_loss"][0] == pytest.approx(m.evaluate(X[75:], y[75:], verbose=0), rel=1e-6)
    # training used the first 75 only: same result as fitting on them directly
    m2 = small_model()
    m2.set_weights(w)
    h2 = m2.fit(X[:75], y[:75], epochs=1, batch_size=10, shuffle=False, verbose=0)
    assert h2.history["loss"] == pytest.approx(h.history["loss"], rel=1e-6)


def test_batch_size_default_32_and_epoch_loss_is_sample_weighted():
    X, y = sine_windows(70)
    m = small_model()
    seen = []
    cb = callbacks.LambdaCallback(on_batch_end=lambda b, logs: seen.append(b))
    m.fit(X, y, epochs=1, verbose=0, callbacks=[cb])
    assert seen == [0, 1, 2]  # 70 samples -> 32, 32, 6
    # with SGD lr tiny, the epoch loss ~ the sample-weighted mean of the initial batch losses
    m = small_model()
    m.compile(optimizer=optimizers.SGD(learning_rate=1e-12), loss="mse")
    h = m.fit(X, y, epochs=1, shuffle=False, verbose=0)
    assert h.history["loss"][0] == pytest.approx(m.evaluate(X, y, verbose=0), rel=1e-5)


def test_progress_output_like_keras(capsys):
    X, y = sine_windows(64)
    m = small_model()
    m.fit(X, y, epochs=2, validation_split=0.25, verbose=1)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Epoch 1/2" and out[2] == "Epoch 2/2"
    assert out[1].startswith("2/2 ") and " - loss: " in out[1] and " - val_loss: " in out[1]
    m.fit(X, y, epochs=1, verbose=2)
    line = capsys.readouterr().out.splitlines()[1]
    assert line.startswith("2/2 - ") and "loss: " in line
    m.fit(X, y, epochs=2, verbose=0)
    m.predict(X, verbose=0), m.evaluate(X, y, verbose=0)
    assert capsys.readouterr().out == ""


def test_early_stopping_restores_best_weights():
    X, y = sine_windows(100)
    m = small_model()
    snapshots = []
    record = callbacks.LambdaCallback(on_epoch_end=lambda e, logs: snapshots.append(m.get_weights()))
    # a made-up monitored value: best at epoch 1, never better afterwards
    fake = [5.0, 1.0, 2.0, 3.0, 4.0, 0.5, 0.1]

    class Inject(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["score"] = fake[epoch]

    es = callbacks.EarlyStopping(monitor="score", patience=2, restore_best_weights=True)
    h = m.fit(X, y, epochs=7, verbose=0, callbacks=[Inject(), record, es])
    assert len(h.history["loss"]) == 4  # epochs 0..3; stops when 2 epochs bring no improvement
    assert es.stopped_epoch == 3 and es.best_epoch == 1
    for a, b in zip(m.get_weights(), snapshots[1]):
        np.testing.assert_array_equal(a, b)
    # min_delta: improvements smaller than it do not count
    fake[:] = [1.0, 0.99, 0.98, 0.97, 0.96, 0.95, 0.94]
    es = callbacks.EarlyStopping(monitor="score", patience=1, min_delta=0.05)
    h = small_model().fit(X, y, epochs=7, verbose=0, callbacks=[Inject(), es])
    assert len(h.history["loss"]) == 2


def test_early_stopping_on_val_loss_runs():
    X, y = sine_windows(100)
    m = small_model()
    es = callbacks.EarlyStopping(monitor="val_loss", patience=0, restore_best_weights=True)
    h = m.fit(X, y, epochs=30, verbose=0, validation_split=0.2,
              callbacks=[es], batch_size=50)
    best = int(np.argmin(h.history["val_loss"]))
    assert es.best_epoch == best
    assert m.evaluate(X[80:], y[80:], verbose=0) == pytest.approx(h.history["val_loss"][best], rel=1e-5)


def test_non_finite_loss_stops_and_keeps_last_good_weights():
    X, y = sine_windows(64)
    m = small_model()
    m.compile(optimizer=optimizers.SGD(learning_rate=1e30), loss="mse")
    before = m.get_weights()
    states = []
    rec = callbacks.LambdaCallback(on_batch_end=lambda b, logs: states.append(m.get_weights()))
    with pytest.warns(RuntimeWarning, match=r"fit stopped at epoch \d+, batch \d+: .*(nan|inf|NaN)"):
        h = m.fit(X, y, epochs=5, batch_size=8, verbose=0, callbacks=[rec])
    assert m.stop_training and h.nonfinite is not None
    for w in m.get_weights():
        assert np.isfinite(w).all()
    # the weights in place are the last ones that gave a finite loss: those before the last update
    good = states[-2] if len(states) >= 2 else before
    for a, b in zip(m.get_weights(), good):
        np.testing.assert_array_equal(a, b)
    # a loss that is NaN from the start: no update at all
    m = small_model()
    before = m.get_weights()
    m.compile(optimizer="adam", loss="mse")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        h = m.fit(X, np.full(64, 1e30), epochs=2, verbose=0)
    for a, b in zip(m.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert list(h.history) == ["loss"] and np.isnan(h.history["loss"]).all()


def test_float64_data_with_float32_model():
    X, y = sine_windows(64)
    assert X.dtype == np.float64
    m = small_model()
    h = m.fit(X, y, epochs=1, verbose=0)
    assert np.isfinite(h.history["loss"][0])
    assert m.weights[0].dtype == np.float32


def test_sgd_step_of_a_model_equals_the_formula():
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((6, 4, 2)), rng.standard_normal((6, 1))
    m = Sequential([Input((4, 2), dtype="float64"), layers.GRU(3), layers.Dense(1)])
    m.compile(optimizer=optimizers.SGD(0.1, momentum=0.9), loss="mse")
    w0 = m.get_weights()
    _, g = m.loss_and_gradients(x, y)
    m.fit(x, y, epochs=1, batch_size=6, shuffle=False, verbose=0)
    for a, b, gg in zip(m.get_weights(), w0, g):
        np.testing.assert_allclose(a, b - 0.1 * gg, rtol=1e-12, atol=1e-14)


def test_clipnorm_in_fit_is_per_weight_array_like_keras():
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((6, 4, 2)), rng.standard_normal((6, 1)) * 10
    m = Sequential([Input((4, 2), dtype="float64"), layers.LSTM(3), layers.Dense(1)])
    m.compile(optimizer=optimizers.SGD(0.1, clipnorm=0.01), loss="mse")
    w0 = m.get_weights()
    _, g = m.loss_and_gradients(x, y)
    m.fit(x, y, epochs=1, batch_size=6, shuffle=False, verbose=0)
    for a, b, gg in zip(m.get_weights(), w0, g):
        n = np.sqrt((gg ** 2).sum())
        np.testing.assert_allclose(a, b - 0.1 * gg * min(1.0, 0.01 / n), rtol=1e-12, atol=1e-14)


def _keras():
    """Keras 3 as an oracle when installed (any backend; torch when neither TF nor JAX is)."""
    import importlib.util
    import os
    if importlib.util.find_spec("tensorflow") is None and importlib.util.find_spec("jax") is None:
        os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras
    except ImportError as exc:  # not installed (or broken): these comparisons are optional
        pytest.skip(f"keras is not importable: {exc}")
    return keras


@pytest.mark.parametrize("name", ["mse", "mae", "binary_crossentropy", "categorical_crossentropy",
                                  "sparse_categorical_crossentropy"])
@pytest.mark.parametrize("from_logits", [False, True])
def test_losses_match_keras_when_installed(name, from_logits):
    keras = _keras()
    if from_logits and name in ("mse", "mae"):
        pytest.skip("no logits form")
    rng = np.random.default_rng(4)
    kind = {"mse": "reg", "mae": "reg", "binary_crossentropy": "prob"}.get(name, "onehot")
    y, p = _targets(kind, rng, (6, 5, 4))
    p = p.astype(np.float32)
    if kind != "reg":
        p[0, 0, 0] = 0.0  # exercise the clipping
    if from_logits:
        p = rng.standard_normal(p.shape).astype(np.float32)
    if name.startswith("sparse"):
        y = y.argmax(-1)
    kw = {"from_logits": True} if from_logits else {}
    kl = keras.losses.get({"class_name": {"mse": "MeanSquaredError", "mae": "MeanAbsoluteError",
                                          "binary_crossentropy": "BinaryCrossentropy",
                                          "categorical_crossentropy": "CategoricalCrossentropy",
                                          "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy"}[name],
                           "config": kw})
    want = float(keras.ops.convert_to_numpy(kl(y.astype(np.float32) if not name.startswith("sparse") else y, p)))
    ours = losses.get({"class_name": type(losses.get(name)).__name__, "config": kw}) if kw else losses.get(name)
    assert ours(y, p) == pytest.approx(want, rel=1e-5, abs=1e-6)
