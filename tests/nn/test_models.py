"""Sequential: the issue's example and its LSTM/GRU variants, parameter counts, summary text,
get/set_weights in Keras order, Input, predictions for given weights, bad-input errors."""

from __future__ import annotations

import numpy as np
import pytest

from fastrnn import layers
from fastrnn.nn.sequential import Sequential
from fastrnn.layers import Input


def sig(a):
    return 1 / (1 + np.exp(-a))


def lecture_model(cell=layers.SimpleRNN):
    """The issue's example, verbatim apart from the import (and the cell class)."""
    return Sequential([
        cell(10, input_shape=(None, 1), return_sequences=True, activation="tanh"),
        cell(15, return_sequences=True), cell(20, return_sequences=True),
        layers.Dense(60, activation="relu"), layers.Dense(1, activation="linear")])


def rnn_p(I, H):
    return H * (I + H + 1)


def lstm_p(I, H):
    return 4 * H * (I + H + 1)


def gru_p(I, H, reset_after=True):
    return 3 * H * (I + H + (2 if reset_after else 1))


def dense_p(i, o):
    return i * o + o


@pytest.mark.parametrize("cell,f", [(layers.SimpleRNN, rnn_p), (layers.LSTM, lstm_p), (layers.GRU, gru_p)])
def test_issue_example_counts(cell, f):
    m = lecture_model(cell)
    want = [f(1, 10), f(10, 15), f(15, 20), dense_p(20, 60), dense_p(60, 1)]
    assert [l.count_params() for l in m.layers] == want
    assert m.count_params() == sum(want)
    if cell is layers.SimpleRNN:
        assert m.count_params() == 120 + 390 + 720 + 1260 + 61 == 2551
    assert m.output_shape == (None, None, 1)


@pytest.mark.parametrize("spec,want", [
    ([layers.LSTM(4, input_shape=(11, 4)), layers.Dense(1)], lstm_p(4, 4) + dense_p(4, 1)),
    ([layers.GRU(32, input_shape=(None, 3), reset_after=False), layers.Dense(8, activation="relu"),
      layers.Dense(2, activation="softmax")], gru_p(3, 32, False) + dense_p(32, 8) + dense_p(8, 2)),
    ([Input((None, 2)), layers.SimpleRNN(7, return_sequences=True), layers.Dropout(0.2),
      layers.LSTM(5), layers.Dense(3)], rnn_p(2, 7) + lstm_p(7, 5) + dense_p(5, 3)),
    ([layers.Dense(5, input_shape=(3,)), layers.Dense(1)], dense_p(3, 5) + dense_p(5, 1)),
    ([layers.GRU(64, input_shape=(24, 1)), layers.Dense(24)], gru_p(1, 64) + dense_p(64, 24)),
    ([layers.LSTM(50, input_shape=(None, 1), use_bias=False), layers.Dense(1, use_bias=False)],
     4 * 50 * 51 + 50),
])
def test_count_params_many_models(spec, want):
    assert Sequential(spec).count_params() == want


def test_summary_text(capsys):
    m = lecture_model()
    m.summary()
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith('Model: "sequential')
    assert "Layer (type)" in out and "Output Shape" in out and "Param #" in out
    rows = [l for l in lines if "(SimpleRNN)" in l or "(Dense)" in l]
    assert len(rows) == 5
    assert "(None, None, 10)" in rows[0] and rows[0].rstrip(" \u2502").endswith("120")
    assert "(None, None, 60)" in rows[3] and rows[3].rstrip(" \u2502").endswith("1,260")
    assert " Total params: 2,551 (9.96 KB)" in lines
    assert " Trainable params: 2,551 (9.96 KB)" in lines
    assert " Non-trainable params: 0 (0.00 B)" in lines
    # non-trainable layers and print_fn
    m2 = Sequential([layers.LSTM(4, input_shape=(11, 4), trainable=False), layers.Dense(1)])
    got = []
    m2.summary(print_fn=got.append)
    assert "(None, 11, 4)" not in got[0] and "(None, 4)" in got[0]
    assert " Non-trainable params: 144 (576.00 B)" in got[0]
    assert " Trainable params: 5 (20.00 B)" in got[0]
    # unbuilt model
    got = []
    Sequential([layers.LSTM(3), layers.Dense(1)]).summary(print_fn=got.append)
    assert "0 (unbuilt)" in got[0]


def test_layer_names_are_unique_like_keras():
    m = Sequential([layers.LSTM(3, input_shape=(None, 1), return_sequences=True), layers.LSTM(3),
                    layers.Dense(1)])
    names = [l.name for l in m.layers]
    assert len(set(names)) == 3
    assert names[0].startswith("lstm") and names[2].startswith("dense")
    with pytest.raises(ValueError, match="already in the model"):
        m.add(layers.Dense(1, name=names[2]))


def test_get_set_weights_keras_order_and_predictions_for_given_weights():
    """Weights set in Keras's order give the output of an independent NumPy computation."""
    rng = np.random.default_rng(0)
    m = Sequential([Input((None, 2), dtype="float64"), layers.GRU(4, return_sequences=True),
                    layers.LSTM(3), layers.Dense(2, activation="tanh")])
    shapes = [w.shape for w in m.get_weights()]
    assert shapes == [(2, 12), (4, 12), (2, 12), (4, 12), (3, 12), (12,), (3, 2), (2,)]
    ws = [rng.standard_normal(s) * 0.5 for s in shapes]
    m.set_weights(ws)
    for a, b in zip(m.get_weights(), ws):
        np.testing.assert_array_equal(a, b)
    x = rng.standard_normal((5, 6, 2))
    # GRU (reset_after) then LSTM then Dense, per step
    W, U, b = ws[:3]
    h = np.zeros((5, 4))
    seq = []
    for t in range(6):
        xi, hr = x[:, t] @ W + b[0], h @ U + b[1]
        z, r = sig(xi[:, :4] + hr[:, :4]), sig(xi[:, 4:8] + hr[:, 4:8])
        h = z * h + (1 - z) * np.tanh(xi[:, 8:] + r * hr[:, 8:])
        seq.append(h)
    W, U, b = ws[3:6]
    h, c = np.zeros((5, 3)), np.zeros((5, 3))
    for t in range(6):
        a = seq[t] @ W + h @ U + b
        c = sig(a[:, 3:6]) * c + sig(a[:, :3]) * np.tanh(a[:, 6:9])
        h = sig(a[:, 9:]) * np.tanh(c)
    want = np.tanh(h @ ws[6] + ws[7])
    np.testing.assert_allclose(m.predict(x, verbose=0), want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(m(x), want, rtol=1e-10, atol=1e-12)
    # per-layer get_weights slices the model list
    assert len(m.layers[1].get_weights()) == 3
    with pytest.raises(ValueError, match="has 8 weight arrays, got 7"):
        m.set_weights(ws[:-1])
    with pytest.raises(ValueError, match=r"shape \(2, 12\) cannot be set from an array of shape \(12, 2\)"):
        m.set_weights([ws[0].T] + ws[1:])


def test_input_and_deferred_build():
    a = Sequential([Input(shape=(None, 3)), layers.LSTM(4), layers.Dense(1)])
    b = Sequential([layers.LSTM(4, input_shape=(None, 3)), layers.Dense(1)])
    assert a.count_params() == b.count_params() == lstm_p(3, 4) + 5
    c = Sequential([layers.LSTM(4), layers.Dense(1)])
    assert not c.built
    out = c.predict(np.zeros((2, 5, 3)), verbose=0)  # built from the data, as Keras does
    assert out.shape == (2, 1) and c.built and c.count_params() == a.count_params()
    d = Sequential()
    d.add(layers.SimpleRNN(2, input_shape=(7, 1)))
    d.add(layers.Dense(1))
    assert d.output_shape == (None, 1)
    assert d.pop().name.startswith("dense") and len(d.layers) == 1
    # predictions are float32 by default; float64 input is cast, not truncated
    assert a.predict(np.random.rand(3, 9, 3), verbose=0).dtype == np.float32


def test_predict_batching_is_invisible():
    m = Sequential([layers.LSTM(5, input_shape=(None, 2)), layers.Dense(3)])
    x = np.random.default_rng(1).standard_normal((70, 4, 2))
    np.testing.assert_allclose(m.predict(x, batch_size=7, verbose=0), m.predict(x, batch_size=70, verbose=0),
                               rtol=1e-6)


def test_backend_option_runs_every_layer_on_it():
    x = np.random.default_rng(2).standard_normal((3, 5, 2))
    a = Sequential([layers.GRU(4, input_shape=(None, 2)), layers.Dense(1)], backend="numpy")
    assert a.layers[0].backend == "numpy"
    b = Sequential([layers.GRU(4, input_shape=(None, 2)), layers.Dense(1)])
    b.set_weights(a.get_weights())
    np.testing.assert_allclose(a.predict(x, verbose=0), b.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_bad_input_errors_name_the_argument():
    m = Sequential([layers.LSTM(4, input_shape=(None, 4)), layers.Dense(1)])
    m.compile(optimizer="adam", loss="mse")
    X, y = np.zeros((10, 11, 4)), np.zeros((10, 1))
    with pytest.raises(ValueError, match=r"x must have shape \(samples, any, 4\) .*got \(10, 11, 3\)"):
        m.fit(np.zeros((10, 11, 3)), y, verbose=0)
    with pytest.raises(ValueError, match="y has 9 samples but x has 10"):
        m.fit(X, y[:9], verbose=0)
    with pytest.raises(ValueError, match=r"y must match the model's output shape \(samples, 1\).*got \(10, 3, 2\)"):
        m.fit(X, np.zeros((10, 3, 2)), verbose=0)
    with pytest.raises(ValueError, match="x contains NaN"):
        m.predict(np.full((2, 3, 4), np.nan), verbose=0)
    with pytest.raises(TypeError, match="x must hold numbers"):
        m.predict(np.array([["a"]]), verbose=0)
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        m.fit(X, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        m.fit(X, y, validation_split=1.5, verbose=0)
    with pytest.raises(ValueError, match=r"optimizer must be one of 'sgd', 'adam', 'rmsprop'"):
        m.compile(optimizer="adamw", loss="mse")
    with pytest.raises(ValueError, match=r"loss must be one of 'mse', .*'sparse_categorical_crossentropy'"):
        m.compile(optimizer="adam", loss="hinge")
    with pytest.raises(ValueError, match="metrics entries must be among"):
        m.compile(optimizer="adam", loss="mse", metrics=["f1"])
    with pytest.raises(RuntimeError, match="must be compiled first"):
        Sequential([layers.Dense(1, input_shape=(2,))]).fit(np.zeros((2, 2)), np.zeros(2))
    r = Sequential([layers.SimpleRNN(3, input_shape=(None, 1)), layers.Dense(1)])
    with pytest.raises(ValueError, match=r"add the feature axis with x\[\.\.\., None\]"):
        r.predict(np.zeros((4, 10)), verbose=0)
    with pytest.raises(ValueError, match="return_state=True"):
        Sequential([layers.LSTM(3, input_shape=(None, 1), return_state=True)])
    with pytest.raises(ValueError, match="share one dtype"):
        Sequential([layers.LSTM(3, input_shape=(None, 1), dtype="float64"), layers.Dense(1, dtype="float32")])


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


def test_issue_model_matches_keras_when_installed():
    """Keras itself as the oracle (skipped without Keras; not a CI requirement)."""
    keras = _keras()
    for kcell, fcell in [(keras.layers.SimpleRNN, layers.SimpleRNN), (keras.layers.LSTM, layers.LSTM),
                         (keras.layers.GRU, layers.GRU)]:
        k = keras.Sequential([keras.Input((None, 1)), kcell(10, return_sequences=True), kcell(15, return_sequences=True),
                              kcell(20, return_sequences=True), keras.layers.Dense(60, activation="relu"),
                              keras.layers.Dense(1)])
        f = lecture_model(fcell)
        assert f.count_params() == k.count_params()
        f.set_weights(k.get_weights())
        x = np.random.default_rng(0).standard_normal((4, 9, 1)).astype(np.float32)
        np.testing.assert_allclose(f.predict(x, verbose=0), k.predict(x, verbose=0), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("opt", ["adam", "sgd", "rmsprop"])
def test_training_steps_match_keras_when_installed(opt):
    """Same weights, same data order: fastrnn's fit follows Keras's fit step by step."""
    keras = _keras()
    rng = np.random.default_rng(1)
    X = rng.standard_normal((48, 6, 3)).astype(np.float32)
    y = rng.standard_normal((48, 1)).astype(np.float32)
    k = keras.Sequential([keras.Input((6, 3)), keras.layers.LSTM(4, return_sequences=True),
                          keras.layers.GRU(3, kernel_regularizer=keras.regularizers.l2(0.01)),
                          keras.layers.Dense(1)])
    kopt = {"adam": keras.optimizers.Adam(0.01), "sgd": keras.optimizers.SGD(0.05, momentum=0.9),
            "rmsprop": keras.optimizers.RMSprop(0.01)}[opt]
    k.compile(optimizer=kopt, loss="mse")
    from fastrnn import optimizers, regularizers
    f = Sequential([layers.LSTM(4, input_shape=(6, 3), return_sequences=True),
                    layers.GRU(3, kernel_regularizer=regularizers.l2(0.01)), layers.Dense(1)])
    fopt = {"adam": optimizers.Adam(0.01), "sgd": optimizers.SGD(0.05, momentum=0.9),
            "rmsprop": optimizers.RMSprop(0.01)}[opt]
    f.compile(optimizer=fopt, loss="mse")
    f.set_weights(k.get_weights())
    kh = k.fit(X, y, epochs=3, batch_size=16, shuffle=False, verbose=0, validation_split=0.25)
    fh = f.fit(X, y, epochs=3, batch_size=16, shuffle=False, verbose=0, validation_split=0.25)
    np.testing.assert_allclose(fh.history["loss"], kh.history["loss"], rtol=2e-4)
    np.testing.assert_allclose(fh.history["val_loss"], kh.history["val_loss"], rtol=2e-4)
    for a, b in zip(f.get_weights(), k.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)


def test_summary_is_keras_text_when_installed():
    keras = _keras()
    k = keras.Sequential([keras.Input((None, 1)), keras.layers.SimpleRNN(10, return_sequences=True, name="r"),
                          keras.layers.LSTM(15, return_sequences=True, name="l"),
                          keras.layers.GRU(5, name="g"), keras.layers.Dense(1, name="d")], name="m")
    f = Sequential([Input((None, 1)), layers.SimpleRNN(10, return_sequences=True, name="r"),
                    layers.LSTM(15, return_sequences=True, name="l"), layers.GRU(5, name="g"),
                    layers.Dense(1, name="d")], name="m")
    got_k, got_f = [], []
    k.summary(print_fn=lambda s, **kw: got_k.append(s))
    f.summary(print_fn=got_f.append)
    assert "\n".join(got_f).strip() == "\n".join(got_k).strip()
