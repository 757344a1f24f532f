"""save / load_model: one file at exactly the given path, identical predictions, optimiser
state, and clear errors for missing, corrupted, truncated and foreign files."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest

from fastrnn import layers, optimizers, regularizers
from fastrnn.layers import Input
from fastrnn.nn.saving import load_model
from fastrnn.nn.seeding import set_random_seed
from fastrnn.nn.sequential import Sequential
from fastrnn.nn.saving import load_model as saving_load_model


def make_model():
    set_random_seed(3)
    m = Sequential([Input((None, 2)), layers.LSTM(5, return_sequences=True, dropout=0.1,
                                                   kernel_regularizer=regularizers.l2(0.01)),
                    layers.GRU(4, reset_after=False, go_backwards=True), layers.Dropout(0.2),
                    layers.Dense(3, activation="relu"), layers.Dense(1)])
    m.compile(optimizer=optimizers.Adam(learning_rate=0.005, clipnorm=1.0), loss="mae", metrics=["mse"])
    return m


def data(n=64):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 7, 2)), rng.standard_normal((n, 1))


def test_round_trip_identical_predictions_and_config(tmp_path):
    m = make_model()
    X, y = data()
    m.fit(X, y, epochs=2, verbose=0)
    path = tmp_path / "my model.weird-ext"
    m.save(path)
    assert os.listdir(tmp_path) == ["my model.weird-ext"]  # exactly one file, at that name
    r = load_model(path)
    assert load_model is not None and saving_load_model is not None
    np.testing.assert_array_equal(r.predict(X, verbose=0), m.predict(X, verbose=0))
    assert [type(l).__name__ for l in r.layers] == [type(l).__name__ for l in m.layers]
    assert [l.name for l in r.layers] == [l.name for l in m.layers]
    assert r.layers[1].go_backwards and not r.layers[1].reset_after
    assert r.layers[0].kernel_regularizer.l2 == 0.01 and r.layers[0].dropout == 0.1
    assert r.count_params() == m.count_params()
    assert isinstance(r.optimizer, optimizers.Adam) and r.optimizer.learning_rate == 0.005
    assert r.optimizer.clipnorm == 1.0 and r.loss.name == "mean_absolute_error"
    assert r.evaluate(X, y, verbose=0) == m.evaluate(X, y, verbose=0)


def test_optimizer_state_round_trips_so_training_continues_identically(tmp_path):
    X, y = data()
    m = make_model()
    m.fit(X, y, epochs=1, verbose=0)
    m.save(tmp_path / "m.npz")
    r = load_model(tmp_path / "m.npz")
    assert r.optimizer.iterations == m.optimizer.iterations == 2
    for a, b in zip(r.optimizer.state(), m.optimizer.state()):
        np.testing.assert_array_equal(a, b)
    for model in (m, r):
        set_random_seed(9)
        model.fit(X, y, epochs=1, verbose=0)
    for a, b in zip(r.get_weights(), m.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_uncompiled_and_float64_models(tmp_path):
    m = Sequential([layers.SimpleRNN(3, input_shape=(None, 1), dtype="float64"), layers.Dense(1, dtype="float64")])
    m.save(tmp_path / "a")
    r = load_model(tmp_path / "a")
    assert r.optimizer is None and r.dtype == np.float64
    x = np.random.rand(4, 6, 1)
    np.testing.assert_array_equal(r.predict(x, verbose=0), m.predict(x, verbose=0))


def test_bad_files_give_clear_errors(tmp_path):
    m = make_model()
    good = tmp_path / "good.npz"
    m.save(good)
    raw = good.read_bytes()
    with pytest.raises(FileNotFoundError, match="no such model file"):
        load_model(tmp_path / "missing.npz")
    (tmp_path / "text").write_text("hello")
    with pytest.raises(ValueError, match="not a zip/npz archive"):
        load_model(tmp_path / "text")
    (tmp_path / "trunc").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="not a readable fastrnn model file"):
        load_model(tmp_path / "trunc")
    np.savez(tmp_path / "foreign.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="no 'fastrnn_model.json' entry"):
        load_model(tmp_path / "foreign.npz")
    bad = bytearray(raw)
    i = raw.find(b"weight_00001") + 200
    bad[i:i + 16] = b"\xff" * 16
    (tmp_path / "flipped").write_bytes(bytes(bad))
    with pytest.raises(ValueError, match="not a readable fastrnn model file"):
        load_model(tmp_path / "flipped")


def test_loading_never_executes_or_unpickles(tmp_path):
    """A header naming an unknown class is refused; object arrays are refused by allow_pickle=False."""
    m = Sequential([layers.Dense(1, input_shape=(2,))])
    m.save(tmp_path / "m")
    with zipfile.ZipFile(tmp_path / "m") as z:
        header = json.loads(np.load(z.open("fastrnn_model.json.npy")).tobytes())
    header["model"]["config"]["layers"][0]["class_name"] = "os.system"
    arrays = {"fastrnn_model.json": np.frombuffer(json.dumps(header).encode(), np.uint8),
              "weight_00000": np.zeros((2, 1), np.float32), "weight_00001": np.zeros(1, np.float32)}
    with open(tmp_path / "evil", "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(ValueError, match="unknown layer class 'os.system'"):
        load_model(tmp_path / "evil")
    arrays["weight_00000"] = np.array([object()], dtype=object)
    arrays["fastrnn_model.json"] = np.frombuffer(json.dumps({**header, "model": {"class_name": "Sequential", "config": m.get_config()}}).encode(), np.uint8)
    with open(tmp_path / "pickled", "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(ValueError, match="not a readable fastrnn model file"):
        load_model(tmp_path / "pickled")


def test_save_overwrites_atomically(tmp_path):
    m = make_model()
    p = tmp_path / "m.npz"
    m.save(p)
    first = p.read_bytes()
    m.fit(*data(), epochs=1, verbose=0)
    m.save(p)
    assert p.read_bytes() != first and os.listdir(tmp_path) == ["m.npz"]
