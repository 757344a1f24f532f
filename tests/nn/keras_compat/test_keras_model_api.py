"""Keras's smaller model API: activation None, Dropout noise_shape checks, history of a fit that
diverges, predict_on_batch / train_on_batch / test_on_batch, sample_weight and class_weight,
save_weights / load_weights and the callbacks ModelCheckpoint, ReduceLROnPlateau,
LearningRateScheduler, TerminateOnNaN, CSVLogger and LambdaCallback."""

from __future__ import annotations

import csv
import importlib.util
import warnings

import keras_oracle
import numpy as np
import pytest

import fastrnn
from fastrnn import callbacks, layers, optimizers
from fastrnn.nn.sequential import Sequential

HAVE_H5PY = importlib.util.find_spec("h5py") is not None


@pytest.fixture(scope="module")
def keras():
    return keras_oracle.load_keras()


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 5, 2)), rng.standard_normal((n, 1))


def _model(seed=0, loss="mse", metrics=None, out=1):
    fastrnn.set_random_seed(seed)
    m = Sequential([layers.Input((5, 2)), layers.LSTM(3), layers.Dense(out)])
    m.compile(optimizer="adam", loss=loss, metrics=metrics)
    return m


# -- small differences --------------------------------------------------------------------------
def test_activation_none_means_linear():
    d = layers.Dense(2, activation=None)
    x = np.ones((1, 3), np.float32)
    d.build((None, 3))
    np.testing.assert_allclose(d(x), x @ d.kernel)
    d.activation = "relu"
    assert d.activation.name == "relu"
    d.activation = None
    assert d.activation.name == "linear" and d.get_config()["activation"] == "linear"
    r = layers.SimpleRNN(2)
    r.activation = None
    assert r.activation == "linear"
    with pytest.raises(ValueError, match="activation must be one of"):
        r.activation = "swish"


def test_dropout_noise_shape_is_checked_at_construction_and_build():
    with pytest.raises(TypeError, match="noise_shape must be None or a tuple"):
        layers.Dropout(0.5, noise_shape=3)
    with pytest.raises(TypeError, match="noise_shape must be None or a tuple"):
        layers.Dropout(0.5, noise_shape=(None, "a"))
    with pytest.raises(ValueError, match="noise_shape entries must be positive"):
        layers.Dropout(0.5, noise_shape=(None, 0))
    with pytest.raises(ValueError, match="has 2 entries but its input"):
        Sequential([layers.Input((5, 2)), layers.Dropout(0.5, noise_shape=(None, 1))])
    with pytest.raises(ValueError, match="does not broadcast"):
        Sequential([layers.Input((5, 2)), layers.Dropout(0.5, noise_shape=(None, 3, 2))])
    d = layers.Dropout(0.5, noise_shape=(None, 1, 2), seed=0)
    y = d(np.ones((4, 5, 2)), training=True)
    np.testing.assert_array_equal(y, np.repeat(y[:, :1], 5, axis=1))


def test_history_keeps_the_epoch_a_fit_diverges_in():
    m = _model()
    m.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x, _ = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        h = m.fit(x, np.full((48, 1), 1e30), epochs=3, verbose=0)
    assert h.nonfinite == (0, 0)
    assert np.isnan(h.history["loss"]).all() and len(h.history["loss"]) == 1
    assert len(h.history["mae"]) == 1 and h.epoch == [0]


def test_predict_train_test_on_batch():
    m = _model(metrics=["mae"])
    x, y = _data()
    np.testing.assert_array_equal(m.predict_on_batch(x), m.predict(x, batch_size=48, verbose=0))
    before = m.evaluate(x, y, batch_size=48, verbose=0, return_dict=True)
    assert m.test_on_batch(x, y, return_dict=True) == pytest.approx(before)
    loss, mae = m.train_on_batch(x, y)
    assert loss == pytest.approx(before["loss"]) and mae == pytest.approx(before["mae"])
    assert m.optimizer.iterations == 1
    assert m.test_on_batch(x, y)[0] < before["loss"]


# -- sample weights -------------------------------------------------------------------------------
def test_sample_weight_is_keras_weighted_loss_and_metrics():
    m = _model(metrics=["mae"])
    x, y = _data()
    w = np.random.default_rng(1).uniform(0, 2, 48)
    p = m.predict(x, verbose=0)
    got = m.evaluate(x, y, sample_weight=w, batch_size=48, verbose=0, return_dict=True)
    assert got["loss"] == pytest.approx(((p - y)[:, 0] ** 2 * w).sum() / 48)   # / entries
    assert got["mae"] == pytest.approx((np.abs(p - y)[:, 0] * w).sum() / w.sum())
    h = m.fit(x, y, sample_weight=w, epochs=1, batch_size=48, shuffle=False, verbose=0)
    assert h.history["loss"][0] == pytest.approx(got["loss"])
    assert m.fused_fit_info["fused"]   # the compiled trainer takes the weights too
    with pytest.raises(ValueError, match="sample_weight has 3 samples but x has 48"):
        m.fit(x, y, sample_weight=w[:3], verbose=0)


def test_class_weight_is_sample_weight_from_labels():
    x, _ = _data()
    labels = np.random.default_rng(2).integers(0, 3, 48)
    cw = {0: 1.0, 1: 3.0}
    runs = []
    for kw in ({"class_weight": cw}, {"sample_weight": np.array([cw.get(c, 1.0) for c in labels])}):
        m = _model(loss="sparse_categorical_crossentropy", out=3)
        runs.append(m.fit(x, labels, epochs=2, shuffle=False, verbose=0, **kw).history["loss"])
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-12)
    onehot = np.eye(3)[labels]
    m = _model(loss="categorical_crossentropy", out=3)
    assert m.fit(x, onehot, class_weight=cw, epochs=2, shuffle=False, verbose=0).history[
        "loss"] == pytest.approx(runs[0], rel=1e-6)
    with pytest.raises(ValueError, match="cannot `class_weight` and `sample_weight`"):
        m.fit(x, onehot, class_weight=cw, sample_weight=np.ones(48), verbose=0)


def test_sample_weight_split_and_validation_data_weights():
    m = _model()
    x, y = _data()
    w = np.r_[np.ones(36), np.zeros(12)]
    h = m.fit(x, y, sample_weight=w, validation_split=0.25, epochs=1, verbose=0)
    assert h.history["val_loss"][0] == 0.0      # the split weights go with the split data
    h = m.fit(x, y, validation_data=(x, y, np.zeros(48)), epochs=1, verbose=0)
    assert h.history["val_loss"][0] == 0.0


def test_sample_weight_matches_keras(keras):
    m = _model()
    x, y = _data()
    w = np.random.default_rng(1).uniform(0, 2, 48)
    k = keras.Sequential([keras.Input((5, 2)), keras.layers.LSTM(3), keras.layers.Dense(1)])
    k.set_weights(m.get_weights())
    k.compile(optimizer="adam", loss="mse")
    want = k.fit(x, y, sample_weight=w, epochs=3, batch_size=16, shuffle=False, verbose=0)
    got = m.fit(x, y, sample_weight=w, epochs=3, batch_size=16, shuffle=False, verbose=0)
    np.testing.assert_allclose(got.history["loss"], want.history["loss"], rtol=1e-4)


# -- weights files -------------------------------------------------------------------------------
def test_save_and_load_weights_npz(tmp_path):
    m, x = _model(), _data()[0]
    m.save_weights(tmp_path / "w.any")
    other = _model(seed=5)
    assert not np.allclose(other.predict(x, verbose=0), m.predict(x, verbose=0))
    other.load_weights(tmp_path / "w.any")
    np.testing.assert_array_equal(other.predict(x, verbose=0), m.predict(x, verbose=0))
    with pytest.raises(FileExistsError):
        m.save_weights(tmp_path / "w.any", overwrite=False)
    wrong = Sequential([layers.Input((5, 2)), layers.LSTM(4), layers.Dense(1)])
    with pytest.raises(ValueError, match=r"layer '.*' \(LSTM\) expects weights of shapes"):
        wrong.load_weights(tmp_path / "w.any")
    with pytest.warns(RuntimeWarning, match="skipping"):
        wrong.load_weights(tmp_path / "w.any", skip_mismatch=True)
    m.save(tmp_path / "model.npz")
    with pytest.raises(ValueError, match="not a fastrnn weights file"):
        m.load_weights(tmp_path / "model.npz")


@pytest.mark.skipif(not HAVE_H5PY, reason="h5py is not installed")
def test_keras_weights_h5_round_trip(tmp_path):
    m, x = _model(), _data()[0]
    m.save_weights(tmp_path / "m.weights.h5")
    other = _model(seed=5)
    other.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_array_equal(other.predict(x, verbose=0), m.predict(x, verbose=0))


def test_without_h5py_keras_files_say_so(tmp_path, monkeypatch):
    import builtins
    real = builtins.__import__

    def no_h5py(name, *a, **kw):
        if name == "h5py":
            raise ImportError("no h5py")
        return real(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", no_h5py)
    m = _model()
    for call in (lambda: m.save_weights(tmp_path / "a.weights.h5"),
                 lambda: m.save(tmp_path / "a.keras")):
        with pytest.raises(ImportError, match="need h5py"):
            call()


def test_legacy_h5_is_refused(tmp_path):
    m = _model()
    with pytest.raises(ValueError, match="legacy HDF5"):
        m.save(tmp_path / "m.h5")
    (tmp_path / "old.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    with pytest.raises(ValueError, match="legacy Keras HDF5"):
        fastrnn.load_model(tmp_path / "old.h5")


# -- callbacks ------------------------------------------------------------------------------------
def test_model_checkpoint_best_only_and_formatting(tmp_path):
    m = _model()
    x, y = _data()
    ck = callbacks.ModelCheckpoint(str(tmp_path / "ck-{epoch:02d}-{loss:.3f}.npz"), monitor="loss",
                                   save_best_only=True)
    h = m.fit(x, y, epochs=3, verbose=0, callbacks=[ck])
    assert m.fused_fit_info["fused"] == (fastrnn.backends.fused_trainer()[0] is not None)
    names = sorted(p.name for p in tmp_path.iterdir())
    want = [f"ck-{e + 1:02d}-{v:.3f}.npz" for e, v in enumerate(h.history["loss"])
            if v == min(h.history["loss"][:e + 1])]
    assert names == sorted(want)
    again = fastrnn.load_model(tmp_path / names[-1])
    assert len(again.get_weights()) == len(m.get_weights())
    wo = callbacks.ModelCheckpoint(str(tmp_path / "w.bin"), save_weights_only=True, save_freq=2)
    m.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[wo])
    assert not m.fused_fit_info["fused"]          # save_freq=int: a per-batch hook
    m.load_weights(tmp_path / "w.bin")
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.ModelCheckpoint("x", save_freq="often")


def test_reduce_lr_on_plateau_and_scheduler():
    m = _model()
    x, y = _data()
    m.optimizer.learning_rate = 0.01
    r = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=1e9,
                                    min_lr=0.002)
    h = m.fit(x, y, epochs=4, verbose=0, callbacks=[r])
    # logged before the epoch's reduction; the first epoch always improves on "no best yet"
    assert h.history["learning_rate"] == [0.01, 0.01, 0.005, 0.0025]
    assert m.optimizer.learning_rate == 0.002                     # floored at min_lr
    with pytest.raises(ValueError, match="factor >= 1.0"):
        callbacks.ReduceLROnPlateau(factor=1.0)
    s = callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    h = m.fit(x, y, epochs=3, verbose=0, callbacks=[s])
    assert h.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.1 / 3])
    old = callbacks.LearningRateScheduler(lambda epoch: 0.001)
    m.fit(x, y, epochs=1, verbose=0, callbacks=[old])
    assert m.optimizer.learning_rate == 0.001
    with pytest.raises(ValueError, match="should be a float"):
        m.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.LearningRateScheduler(lambda e: "x")])
    with pytest.raises(ValueError, match="automatically determine"):
        callbacks.ReduceLROnPlateau(monitor="my_score")


def test_terminate_on_nan_csv_logger_lambda(tmp_path):
    m = _model()
    x, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.fit(x, np.full((48, 1), 1e30), verbose=0, callbacks=[callbacks.TerminateOnNaN()])
        with pytest.raises(RuntimeError, match="NaN or Inf loss encountered"):
            m.fit(x, np.full((48, 1), 1e30), verbose=0,
                  callbacks=[callbacks.TerminateOnNaN(raise_error=True)])
    log = tmp_path / "log.csv"
    m = _model(metrics=["mae"])
    m.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.CSVLogger(str(log))])
    rows = list(csv.reader(log.open()))
    assert rows[0] == ["epoch", "loss", "mae", "val_loss", "val_mae"]
    assert [r[0] for r in rows[1:]] == ["0", "1"] and rows[1][3] == "NA"
    m.fit(x, y, epochs=1, initial_epoch=0, verbose=0, callbacks=[callbacks.CSVLogger(str(log), append=True)])
    assert len(log.read_text().splitlines()) == 4
    seen = []
    lam = callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(("e", e)),
                                   on_train_batch_end=lambda b, logs: seen.append(("b", b)))
    m.fit(x, y, epochs=1, batch_size=24, verbose=0, callbacks=[lam])
    assert seen == [("b", 0), ("b", 1), ("e", 0)] and not m.fused_fit_info["fused"]
    old = callbacks.LambdaCallback(on_batch_end=lambda b, logs: seen.append(("old", b)))
    m.fit(x, y, epochs=1, batch_size=48, verbose=0, callbacks=[old])
    assert seen[-1] == ("old", 0)
    assert callbacks.batch_hook(callbacks.LambdaCallback(on_epoch_end=print)) is None


def test_optimizer_learning_rate_changes_reach_the_fused_path():
    if fastrnn.backends.fused_trainer()[0] is None:
        pytest.skip("no compiled trainer here")
    x, y = _data()
    runs = []
    for fused in (True, False):
        m = _model()
        m.compile(optimizer=optimizers.SGD(0.1), loss="mse")
        s = callbacks.LearningRateScheduler(lambda e, lr: 0.05 * (e + 1))
        runs.append(m.fit(x, y, epochs=3, shuffle=False, verbose=0, fused=fused,
                          callbacks=[s]).history["loss"])
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-5)
