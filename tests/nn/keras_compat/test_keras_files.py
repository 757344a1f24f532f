"""Keras 3 ``.keras`` files both ways: fastrnn writes what Keras loads (same predictions, and a
compiled model continues training as it would have), fastrnn reads what Keras writes;
unsupported layers are named. The Keras comparisons skip without Keras, the files without
h5py."""

from __future__ import annotations

import importlib.util
import json
import zipfile

import keras_oracle
import numpy as np
import pytest

import fastrnn
from fastrnn import layers, optimizers, regularizers
from fastrnn.nn.sequential import Sequential

needs_h5py = pytest.mark.skipif(importlib.util.find_spec("h5py") is None,
                                reason="h5py is not installed")


@pytest.fixture(scope="module")
def keras():
    return keras_oracle.load_keras()


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((20, 6, 3)).astype(np.float32),
            rng.standard_normal((20, 2)).astype(np.float32))


def _stack(opt="adam"):
    fastrnn.set_random_seed(0)
    m = Sequential([layers.Input((6, 3)),
                    layers.LSTM(4, return_sequences=True, kernel_regularizer=regularizers.l2(0.01)),
                    layers.Bidirectional(layers.GRU(3)), layers.Dropout(0.0),
                    layers.Dense(2, activation="tanh")])
    m.compile(optimizer=opt, loss="mse", metrics=["mae"])
    return m


@needs_h5py
def test_keras_file_round_trip_in_fastrnn(tmp_path):
    m = _stack()
    x, y = _data()
    m.fit(x, y, epochs=2, verbose=0)
    m.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        assert sorted(z.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        cfg = json.loads(z.read("config.json"))
    assert cfg["class_name"] == "Sequential"
    assert [s["class_name"] for s in cfg["config"]["layers"]] == [
        "InputLayer", "LSTM", "Bidirectional", "Dropout", "Dense"]
    again = fastrnn.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(again.predict(x, verbose=0), m.predict(x, verbose=0))
    assert again.optimizer.iterations == m.optimizer.iterations
    a = again.fit(x, y, epochs=1, shuffle=False, verbose=0).history["loss"]
    b = m.fit(x, y, epochs=1, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(a, b, rtol=1e-6)


def _write_keras_config(path, layer_specs):
    cfg = {"module": "keras", "class_name": "Sequential",
           "config": {"name": "s", "layers": layer_specs, "build_input_shape": [None, 4, 2]}}
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("config.json", json.dumps(cfg))
        z.writestr("metadata.json", "{}")
        z.writestr("model.weights.h5", b"")


def test_unsupported_layers_are_named(tmp_path):
    _write_keras_config(tmp_path / "c.keras", [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 4, 2]}},
        {"class_name": "Conv1D", "config": {"name": "conv"}},
        {"class_name": "Bidirectional", "config": {"layer": {"class_name": "ConvLSTM1D"}}},
        {"class_name": "GRU", "config": {"name": "g", "units": 2}}])
    with pytest.raises(ValueError, match=r"cannot load these Keras layers: 'conv' \(Conv1D\), "
                                         r"Bidirectional\(ConvLSTM1D\)"):
        fastrnn.load_model(tmp_path / "c.keras")
    with zipfile.ZipFile(tmp_path / "f.keras", "w") as z:
        z.writestr("config.json", json.dumps({"class_name": "Functional", "config": {}}))
        z.writestr("model.weights.h5", b"")
    with pytest.raises(ValueError, match="reads Keras Sequential models"):
        fastrnn.load_model(tmp_path / "f.keras")


@needs_h5py
def test_a_huge_declared_layer_is_refused_before_it_is_built(tmp_path):
    import time
    import tracemalloc

    m = Sequential([layers.Input((6, 3)), layers.LSTM(4), layers.Dense(2)])
    m.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        members = {n: z.read(n) for n in z.namelist()}
    cfg = json.loads(members["config.json"])
    lstm = next(s for s in cfg["config"]["layers"] if s["class_name"] == "LSTM")
    lstm["config"]["units"] = 4000      # 4000 x 16000 recurrent weights: 256 MB in float32
    members["config.json"] = json.dumps(cfg).encode()
    with zipfile.ZipFile(tmp_path / "huge.keras", "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    tracemalloc.start()
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"huge.keras.* is not a readable Keras 3 model file: "
                                         r"layer 'lstm.*': its kernel must have shape "
                                         r"\(3, 16000\), the file's has shape \(3, 16\)"):
        fastrnn.load_model(tmp_path / "huge.keras")
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 2.0 and peak < 20 << 20, (elapsed, peak)


@pytest.mark.parametrize("opt", ["adam", "rmsprop", "sgd_momentum", "rmsprop_centered"])
def test_fastrnn_file_loads_in_keras_and_trains_on(keras, tmp_path, opt):
    opt = {"sgd_momentum": optimizers.SGD(0.01, momentum=0.9),
           "rmsprop_centered": optimizers.RMSprop(momentum=0.5, centered=True)}.get(opt, opt)
    m = _stack(opt)
    x, y = _data()
    m.fit(x, y, epochs=2, verbose=0)
    m.save(tmp_path / "m.keras")
    k = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(k.predict(x, verbose=0), m.predict(x, verbose=0), atol=1e-6)
    want = k.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0).history["loss"]
    got = m.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_keras_file_loads_in_fastrnn(keras, tmp_path):
    x, y = _data()
    k = keras.Sequential([keras.Input((None, 3)), keras.layers.SimpleRNN(5, return_sequences=True),
                          keras.layers.Bidirectional(keras.layers.LSTM(4), merge_mode="sum"),
                          keras.layers.Dropout(0.2), keras.layers.Dense(2, activation="relu")])
    k.compile(optimizer="adam", loss="mae", metrics=["mse"])
    k.fit(x, y, epochs=2, verbose=0)
    k.save(tmp_path / "k.keras")
    m = fastrnn.load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(m.predict(x, verbose=0), k.predict(x, verbose=0), atol=1e-6)
    assert type(m.optimizer).__name__ == "Adam" and m.optimizer.iterations == 2
    assert m.loss.name == "mean_absolute_error" and m._metric_names == ["mse"]
    k.save_weights(tmp_path / "k.weights.h5")
    fresh = fastrnn.load_model(tmp_path / "k.keras", compile=False)
    assert fresh.optimizer is None
    fresh.load_weights(tmp_path / "k.weights.h5")
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), m.predict(x, verbose=0))
    m.save_weights(tmp_path / "m.weights.h5")
    k.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_allclose(k.predict(x, verbose=0), m.predict(x, verbose=0), atol=1e-6)
    conv = keras.Sequential([keras.Input((6, 3)), keras.layers.Conv1D(2, 2), keras.layers.GRU(2)])
    conv.save(tmp_path / "conv.keras")
    with pytest.raises(ValueError, match=r"'conv1d' \(Conv1D\)"):
        fastrnn.load_model(tmp_path / "conv.keras")
