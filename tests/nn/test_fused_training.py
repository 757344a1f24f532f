"""Fused training (fastrnn.backends._core.Trainer, csrc/train/) against the Python path.

For the same seed, ``fit`` through the core and ``fit(fused=False)`` must leave the same
weights, optimiser state and iteration count, report the same history, and stop at the same
non-finite batch with the same weights, for every supported combination of cell, optimiser,
loss, regulariser, stacking / return_sequences, Dense activation, dropout and dtype. Models the
core does not support must fall back to the Python path and say why. Tolerances: the one
table of conftest (float64 1e-10, float32 1e-4, relative to max(|w|, 1)); float64 results
agree to ~1e-14 in practice, float32 to ~1e-6.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from conftest import TOL, rel_err

import fastrnn
from fastrnn import callbacks, layers, losses, optimizers, regularizers
from fastrnn.nn.seeding import set_random_seed
from fastrnn.nn.sequential import Sequential
from fastrnn import cells

core = pytest.importorskip("fastrnn.backends._core")
if not hasattr(core, "Trainer"):
    pytest.skip("this build of fastrnn.backends._core has no Trainer", allow_module_level=True)

DTYPES = [np.float64, np.float32]
N, T, I = 70, 5, 3          # 70 samples: batches of 16 leave a last batch of 6
CELLS = {
    "elman": lambda **kw: layers.SimpleRNN(**kw),
    "lstm": lambda **kw: layers.LSTM(**kw),
    "gru": lambda **kw: layers.GRU(**kw),
    "gru_v1": lambda **kw: layers.GRU(reset_after=False, **kw),
}
OPTIMIZERS = {
    "sgd": lambda: optimizers.SGD(0.05),
    "sgd_momentum": lambda: optimizers.SGD(0.05, momentum=0.9),
    "sgd_nesterov": lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "adam": lambda: optimizers.Adam(0.01),
    "rmsprop": lambda: optimizers.RMSprop(0.01),
    "rmsprop_centered_momentum": lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
}


def _data(out="regression", seed=0, dtype=np.float64, steps=T, features=I, n=N, classes=3):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, steps, features)).astype(dtype)
    if out == "regression":
        y = x[:, -1, :1] * 0.5 + rng.standard_normal((n, 1)) * 0.1
    elif out == "binary":
        y = (x[:, -1, :1] > 0).astype(np.float64)
    elif out == "onehot":
        y = np.eye(classes)[rng.integers(0, classes, n)]
    elif out == "labels":
        y = rng.integers(0, classes, n)
    return x, y


def _fit_both(build, x, y, epochs=1, batch_size=16, **fit_kw):
    """Fit two models built identically from the same seeds: fused, then the Python path."""
    runs = []
    for fused in (True, False):
        set_random_seed(123)
        model = build()
        set_random_seed(7)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            hist = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0,
                             fused=fused, **fit_kw)
        runs.append((model, hist, [str(w.message) for w in caught],
                     fastrnn.nn.seeding.generator().bit_generator.state))
    (nat, hn, wn, gn), (py, hp, wp, gp) = runs
    if hp.nonfinite is None:  # the global generator was advanced identically (shuffles, masks)
        assert gn == gp
    assert nat.fused_fit_info["fused"] is True, nat.fused_fit_info
    assert py.fused_fit_info == {"fused": False, "reason": "fit(fused=False) was passed"}
    return nat, py, hn, hp, wn, wp


def _assert_same(nat, py, hn, hp, dtype):
    tol = TOL[np.dtype(dtype).type]
    for a, b in zip(nat.get_weights(), py.get_weights()):
        assert a.dtype == b.dtype == dtype
        assert rel_err(a, b) < tol, rel_err(a, b)
    assert nat.optimizer.iterations == py.optimizer.iterations
    for a, b in zip(nat.optimizer.state(), py.optimizer.state()):
        assert rel_err(a, b) < tol
    assert hn.history.keys() == hp.history.keys()
    for k in hp.history:
        np.testing.assert_allclose(hn.history[k], hp.history[k], rtol=tol * 10, atol=tol)
    assert hn.nonfinite == hp.nonfinite


def _model(layer_list, dtype, optimizer="adam", loss="mse", metrics=None):
    def build():
        m = Sequential([layers.Input((T, I), dtype=np.dtype(dtype).name)] + layer_list())
        opt = OPTIMIZERS[optimizer]() if isinstance(optimizer, str) and optimizer in OPTIMIZERS \
            else (optimizer() if callable(optimizer) else optimizer)
        m.compile(optimizer=opt, loss=loss, metrics=metrics)
        return m
    return build


# -- cells x optimisers x dtypes ----------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("opt", list(OPTIMIZERS))
@pytest.mark.parametrize("cell", list(CELLS))
def test_one_epoch_matches_python_path(cell, opt, dtype):
    x, y = _data(dtype=dtype)
    build = _model(lambda: [CELLS[cell](units=6), layers.Dense(1)], dtype, optimizer=opt)
    nat, py, hn, hp, _, _ = _fit_both(build, x, y)
    _assert_same(nat, py, hn, hp, dtype)
    # and the weights did move
    set_random_seed(123)
    assert rel_err(build().get_weights()[0], nat.get_weights()[0]) > 1e-4


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cell", list(cells.NAMES))
def test_several_epochs_with_validation_and_metrics(cell, dtype):
    x, y = _data(dtype=dtype, n=90)
    build = _model(lambda: [CELLS[cell](units=5, activation="relu" if cell == "elman" else "tanh"),
                            layers.Dense(1)], dtype, metrics=["mae", "rmse"])
    nat, py, hn, hp, _, _ = _fit_both(build, x, y, epochs=3, batch_size=20, validation_split=0.2)
    _assert_same(nat, py, hn, hp, dtype)
    assert set(hn.history) == {"loss", "mae", "rmse", "val_loss", "val_mae", "val_rmse"}


@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("batch_size", [1, 7, 70, 500])
def test_batch_sizes_and_shuffle(batch_size, shuffle):
    x, y = _data()
    build = _model(lambda: [layers.LSTM(4), layers.Dense(1)], np.float64, optimizer="sgd_momentum")
    nat, py, hn, hp, _, _ = _fit_both(build, x, y, epochs=2, batch_size=batch_size,
                                      shuffle=shuffle)
    _assert_same(nat, py, hn, hp, np.float64)


# -- losses -------------------------------------------------------------------------------------
LOSSES = {
    "mse": ("regression", lambda: layers.Dense(1), "mse"),
    "mae": ("regression", lambda: layers.Dense(1), "mae"),
    "bce": ("binary", lambda: layers.Dense(1, activation="sigmoid"), "binary_crossentropy"),
    "bce_logits": ("binary", lambda: layers.Dense(1),
                   losses.BinaryCrossentropy(from_logits=True)),
    "cce": ("onehot", lambda: layers.Dense(3, activation="softmax"), "categorical_crossentropy"),
    "cce_logits": ("onehot", lambda: layers.Dense(3),
                   losses.CategoricalCrossentropy(from_logits=True)),
    "cce_unnormalised": ("onehot", lambda: layers.Dense(3, activation="sigmoid"),
                         "categorical_crossentropy"),
    "sparse": ("labels", lambda: layers.Dense(3, activation="softmax"),
               "sparse_categorical_crossentropy"),
    "sparse_logits": ("labels", lambda: layers.Dense(3),
                      losses.SparseCategoricalCrossentropy(from_logits=True)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("cell", list(cells.NAMES))
def test_losses(cell, loss, dtype):
    kind, head, loss_obj = LOSSES[loss]
    x, y = _data(kind, dtype=dtype)
    metrics = ["accuracy"] if kind != "regression" else ["mse"]
    build = _model(lambda: [CELLS[cell](units=6), head()], dtype, loss=loss_obj, metrics=metrics)
    nat, py, hn, hp, _, _ = _fit_both(build, x, y, epochs=2)
    _assert_same(nat, py, hn, hp, dtype)


def test_probabilities_at_the_clip_bounds():
    """BCE on probabilities that saturate (the clip's zero-gradient region) agrees too."""
    x, y = _data("binary")
    x = x * 40.0
    build = _model(lambda: [layers.SimpleRNN(4, activation="linear"),
                            layers.Dense(1, activation="sigmoid",
                                         kernel_initializer="ones")], np.float64,
                   loss="binary_crossentropy")
    nat, py, hn, hp, _, _ = _fit_both(build, x, y)
    _assert_same(nat, py, hn, hp, np.float64)


# -- architecture: stacking, sequences out, Dense activations, biases ---------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_stacked_cells_with_return_sequences(dtype):
    x, y = _data(dtype=dtype)
    build = _model(lambda: [layers.LSTM(5, return_sequences=True),
                            layers.GRU(4, return_sequences=True, activation="relu"),
                            layers.SimpleRNN(3),
                            layers.Dense(4, activation="tanh"), layers.Dense(1)], dtype)
    nat, py, hn, hp, _, _ = _fit_both(build, x, y, epochs=2)
    _assert_same(nat, py, hn, hp, dtype)


@pytest.mark.parametrize("loss", ["mse", "sparse_categorical_crossentropy"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_sequence_to_sequence(dtype, loss):
    """return_sequences into a Dense that acts on every step; targets per step."""
    x, _ = _data(dtype=dtype)
    rng = np.random.default_rng(3)
    if loss == "mse":
        y, head = rng.standard_normal((N, T, 2)), lambda: layers.Dense(2)
    else:
        y, head = rng.integers(0, 3, (N, T)), lambda: layers.Dense(3, activation="softmax")
    build = _model(lambda: [layers.GRU(6, return_sequences=True),
                            layers.Dense(5, activation="elu"), head()], dtype, loss=loss)
    nat, py, hn, hp, _, _ = _fit_both(build, x, y, epochs=2)
    _assert_same(nat, py, hn, hp, dtype)


@pytest.mark.parametrize("activation", ["linear", "relu", "sigmoid", "tanh", "softmax",
                                        "leaky_relu", "elu"])
def test_dense_activations(activation):
    x, y = _data()
    build = _model(lambda: [layers.LSTM(5), layers.Dense(6, activation=activation),
                            layers.Dense(1)], np.float64)
    nat, py, hn, hp, _, _ = _fit_both(build, x, y, epochs=2)
    _assert_same(nat, py, hn, hp, np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_only_model_on_2d_input(dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, 6)).astype(dtype)
    y = x @ rng.standard_normal((6, 2))

    def build():
        m = Sequential([layers.Input((6,), dtype=np.dtype(dtype).name),
                        layers.Dense(8, activation="relu"), layers.Dropout(0.3),
                        layers.Dense(2)])
        m.compile(optimizer="rmsprop", loss="mse")
        return m
    nat, py, hn, hp, _, _ = _fit_both(build, x, y, epochs=2)
    _assert_same(nat, py, hn, hp, dtype)


@pytest.mark.parametrize("cell", ["elman", "lstm", "gru", "gru_v1"])
def test_layers_without_bias(cell):
    x, y = _data()
    build = _model(lambda: [CELLS[cell](units=4, use_bias=False),
                            layers.Dense(1, use_bias=False)], np.float64)
    nat, py, hn, hp, _, _ = _fit_both(build, x, y, epochs=2)
    _assert_same(nat, py, hn, hp, np.float64)


# -- regularisers and clipping ------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reg", ["l1", "l2", "l1_l2"])
@pytest.mark.parametrize("cell", list(cells.NAMES))
def test_regularizers(cell, reg, dtype):
    make = {"l1": lambda: regularizers.L1(0.01), "l2": lambda: regularizers.L2(0.02),
            "l1_l2": lambda: regularizers.L1L2(0.01, 0.02)}[reg]
    x, y = _data(dtype=dtype)
    build = _model(lambda: [CELLS[cell](units=5, kernel_regularizer=make(),
                                        recurrent_regularizer=make(), bias_regularizer=make()),
                            layers.Dense(1, kernel_regularizer=make(), bias_regularizer=make())],
                   dtype)
    nat, py, hn, hp, _, _ = _fit_both(build, x, y, epochs=2)
    _assert_same(nat, py, hn, hp, dtype)


@pytest.mark.parametrize("clip", [{"clipnorm": 0.05}, {"clipvalue": 0.01},
                                  {"global_clipnorm": 0.05}])
@pytest.mark.parametrize("opt", ["sgd", "adam", "rmsprop"])
def test_gradient_clipping(opt, clip):
    x, y = _data()
    cls = {"sgd": optimizers.SGD, "adam": optimizers.Adam, "rmsprop": optimizers.RMSprop}[opt]
    build = _model(lambda: [layers.LSTM(4), layers.Dense(1)], np.float64,
                   optimizer=lambda: cls(0.05, **clip))
    nat, py, hn, hp, _, _ = _fit_both(build, x, y, epochs=2)
    _assert_same(nat, py, hn, hp, np.float64)


def test_learning_rate_changed_by_a_callback():
    x, y = _data()

    def halve(epoch, logs):
        model.optimizer.learning_rate = 0.02 / (epoch + 1)

    out = []
    for fused in (True, False):
        set_random_seed(1)
        model = _model(lambda: [layers.GRU(4), layers.Dense(1)], np.float64,
                       optimizer=lambda: optimizers.Adam(0.02))()
        model.fit(x, y, epochs=3, verbose=0, fused=fused,
                  callbacks=[callbacks.LambdaCallback(on_epoch_begin=halve)])
        assert model.fused_fit_info["fused"] is fused
        out.append(model.get_weights())
    for a, b in zip(*out):
        assert rel_err(a, b) < 1e-10


# -- dropout: the same masks on both paths ------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seeded", [False, True])
def test_dropout_masks_match_python_path(seeded, dtype):
    """Input dropout of the cells and Dropout layers (on sequences and on vectors), drawn from
    the global generator or from the layers' own: the core gets exactly the Python path's masks."""
    x, y = _data(dtype=dtype)
    s = (lambda k: {"seed": k}) if seeded else (lambda k: {})
    build = _model(lambda: [layers.LSTM(6, dropout=0.3, return_sequences=True, **s(1)),
                            layers.Dropout(0.25, **s(2)),
                            layers.GRU(5, dropout=0.2, **s(3)),
                            layers.Dropout(0.4),
                            layers.Dense(1)], dtype)
    nat, py, hn, hp, _, _ = _fit_both(build, x, y, epochs=3, batch_size=16)
    _assert_same(nat, py, hn, hp, dtype)


def test_dropout_changes_training_and_is_reproducible():
    x, y = _data()
    res = []
    for rate in (0.0, 0.5, 0.5):
        set_random_seed(5)
        m = _model(lambda: [layers.SimpleRNN(4, dropout=rate), layers.Dense(1)], np.float32)()
        m.fit(x, y, epochs=2, verbose=0)
        assert m.fused_fit_info["fused"]
        res.append(m.get_weights())
    assert any(not np.array_equal(a, b) for a, b in zip(res[0], res[1]))
    assert all(np.array_equal(a, b) for a, b in zip(res[1], res[2]))


def test_fused_fit_is_reproducible_bitwise():
    x, y = _data(dtype=np.float32)
    out = []
    for _ in range(2):
        set_random_seed(9)
        m = _model(lambda: [layers.LSTM(5, dropout=0.2), layers.Dense(1)], np.float32)()
        h = m.fit(x, y, epochs=3, verbose=0)
        out.append((m.get_weights(), h.history["loss"]))
    assert all(np.array_equal(a, b) for a, b in zip(out[0][0], out[1][0]))
    assert out[0][1] == out[1][1]


# -- dispatch: what falls back, and why ---------------------------------------------------------
class _MyDense(layers.Dense):
    pass


class _BatchLogger(callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        pass


class _MyLoss(losses.MeanSquaredError):
    pass


FALLBACKS = {
    "recurrent_dropout": (lambda: [layers.LSTM(4, recurrent_dropout=0.2), layers.Dense(1)],
                          {}, "recurrent_dropout"),
    "bidirectional_numpy_half": (lambda: [layers.Bidirectional(layers.GRU(4, backend="numpy")),
                                          layers.Dense(1)], {}, "'numpy' backend"),
    "numpy_backend": (lambda: [layers.LSTM(4, backend="numpy"), layers.Dense(1)], {},
                      "'numpy' backend"),
    "custom_layer": (lambda: [layers.LSTM(4), _MyDense(1)], {}, "no fused implementation"),
    "noise_shape": (lambda: [layers.LSTM(4, return_sequences=True),
                             layers.Dropout(0.2, noise_shape=(None, 1, 4)), layers.SimpleRNN(2),
                             layers.Dense(1)], {}, "noise_shape"),
    "non_trainable": (lambda: [layers.LSTM(4, trainable=False), layers.Dense(1)], {},
                      "not trainable"),
    "batch_callback": (lambda: [layers.LSTM(4), layers.Dense(1)],
                       {"callbacks": [_BatchLogger()]}, "on_train_batch_end"),
    "lambda_batch_callback": (lambda: [layers.LSTM(4), layers.Dense(1)],
                              {"callbacks": [callbacks.LambdaCallback(
                                  on_batch_begin=lambda b, logs: None)]},
                              "on_train_batch_begin"),
}


@pytest.mark.parametrize("case", list(FALLBACKS))
def test_unsupported_models_fall_back_and_say_why(case):
    make_layers, fit_kw, why = FALLBACKS[case]
    x, y = _data()
    set_random_seed(0)
    m = _model(make_layers, np.float64)()
    m.fit(x, y, epochs=1, verbose=0, **fit_kw)
    assert m.fused_fit_info["fused"] is False
    assert why in m.fused_fit_info["reason"], m.fused_fit_info["reason"]
    with pytest.raises(ValueError, match="cannot train in the compiled core"):
        m.fit(x, y, epochs=1, verbose=0, fused=True, **fit_kw)


def test_custom_loss_and_optimizer_fall_back():
    x, y = _data()

    class MyAdam(optimizers.Adam):
        pass

    for opt, loss, why in (("adam", _MyLoss(), "loss _MyLoss"),
                           (MyAdam(), "mse", "optimizer MyAdam")):
        m = Sequential([layers.LSTM(3, input_shape=(T, I)), layers.Dense(1)])
        m.compile(optimizer=opt, loss=loss)
        m.fit(x, y, verbose=0)
        assert not m.fused_fit_info["fused"] and why in m.fused_fit_info["reason"]


def test_supported_model_reports_fused_and_plan_helper():
    x, y = _data()
    m = _model(lambda: [layers.LSTM(4), layers.Dense(1)], np.float32)()
    assert m.fused_training_plan(x, y) == (True, m.fused_training_plan(x, y)[1])
    m.fit(x, y, verbose=0)
    assert m.fused_fit_info["fused"] is True
    m2 = _model(lambda: [layers.LSTM(4, recurrent_dropout=0.2), layers.Dense(1)], np.float32)()
    ok, why = m2.fused_training_plan(x, y)
    assert not ok and "recurrent_dropout" in why
    with pytest.raises(ValueError, match="fused must be"):
        m.fit(x, y, verbose=0, fused="yes")


def test_early_stopping_and_epoch_callbacks_on_fused_path():
    x, y = _data()
    seen = []
    m = _model(lambda: [layers.GRU(4), layers.Dense(1)], np.float64,
               optimizer=lambda: optimizers.SGD(1e-9))()
    h = m.fit(x, y, epochs=20, verbose=0, validation_split=0.2,
              callbacks=[callbacks.EarlyStopping(patience=1, min_delta=1.0),
                         callbacks.LambdaCallback(
                             on_epoch_end=lambda e, logs: seen.append(m.get_weights()[0].copy()))])
    assert m.fused_fit_info["fused"]
    assert len(h.history["loss"]) == 2 == len(seen)


def test_sparse_labels_are_checked_before_training():
    x, _ = _data()
    y = np.zeros(N, int)
    y[-1] = 3   # the Python path would find it only in the batch that holds the last sample
    m = _model(lambda: [layers.LSTM(4), layers.Dense(3, activation="softmax")], np.float64,
               loss="sparse_categorical_crossentropy")()
    w0 = m.get_weights()
    with pytest.raises(ValueError, match=r"class labels must be in \[0, 2\]"):
        m.fit(x, y, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(w0, m.get_weights()))


# -- non-finite losses and gradients ------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_nonfinite_loss_mid_fit_keeps_last_good_weights(dtype):
    """A relu Elman with a huge learning rate blows up after a few updates: both paths stop
    at the same batch, undo the last update and warn the same way."""
    x, y = _data(dtype=dtype)
    build = _model(lambda: [layers.SimpleRNN(8, activation="relu"), layers.Dense(1)], dtype,
                   optimizer=lambda: optimizers.SGD(1e6 if dtype == np.float32 else 1e150))
    nat, py, hn, hp, wn, wp = _fit_both(build, x, y, epochs=3)
    assert hp.nonfinite is not None and hn.nonfinite == hp.nonfinite
    assert nat.stop_training and py.stop_training
    assert wn == wp and "the weights from before the last update" in wn[0]
    for w in nat.get_weights():
        assert np.isfinite(w).all()
    _assert_same(nat, py, hn, hp, dtype)


def test_nonfinite_loss_at_the_first_batch_changes_nothing():
    x, y = _data(dtype=np.float32)
    build = _model(lambda: [layers.LSTM(3), layers.Dense(1)], np.float32)

    def huge():
        m = build()
        k, b = m.layers[1].get_weights()
        m.layers[1].set_weights([k * 0 + 3e38, b])
        return m
    nat, py, hn, hp, wn, wp = _fit_both(huge, x, y)
    assert hn.nonfinite == hp.nonfinite == (0, 0)
    assert wn == wp and "the weights it had before fit" in wn[0]
    _assert_same(nat, py, hn, hp, np.float32)
    assert nat.optimizer.iterations == 0


def test_nonfinite_gradient_is_not_applied():
    """Finite loss, overflowing gradient (float32, a huge first Dense kernel): both paths
    stop without applying that update."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, 4)).astype(np.float32)
    y = np.zeros((N, 1), np.float32)

    def build():
        m = Sequential([layers.Input((4,)), layers.Dense(3, kernel_initializer="ones"),
                        layers.Dense(1, kernel_initializer="ones")])
        m.layers[1].set_weights([np.full((3, 1), 3e38, np.float32), np.zeros(1, np.float32)])
        m.layers[0].set_weights([np.full((4, 3), 1e-37, np.float32), np.zeros(3, np.float32)])
        m.compile(optimizer="sgd", loss="mse")
        return m
    nat, py, hn, hp, wn, wp = _fit_both(build, x, y)
    assert hp.nonfinite == (0, 0) and hn.nonfinite == (0, 0)
    assert wn == wp and "gradient contains NaN or inf" in wn[0]
    _assert_same(nat, py, hn, hp, np.float32)


# -- the binding rejects bad input --------------------------------------------------------------
def _trainer(dtype="float64", **over):
    spec = dict(kind="lstm", steps=T, units=4, w=0, u=I * 16, b=I * 16 + 64)
    spec["in"] = I
    spec.update(over)
    n_params = I * 16 + 64 + 16
    dense = dict(kind="dense", steps=1, units=1, w=n_params, b=n_params + 4)
    dense["in"] = 4
    return core.Trainer(dtype, [spec, dense], [(0, n_params + 5, 0.0, 0.0)], n_params + 5,
                        "mean_squared_error", False, 16), n_params + 5


def test_binding_validates_the_plan():
    with pytest.raises(ValueError, match="outside the parameter vector"):
        core.Trainer("float64", [dict(kind="dense", steps=1, units=2, w=0, b=8, **{"in": 4})],
                     [], 9, "mean_squared_error", False, 4)
    with pytest.raises(ValueError, match="does not match the previous layer"):
        core.Trainer("float64", [dict(kind="dense", steps=1, units=2, w=0, **{"in": 4}),
                                 dict(kind="dense", steps=1, units=1, w=8, **{"in": 3})],
                     [], 20, "mean_squared_error", False, 4)
    with pytest.raises(ValueError, match="layer kind must be one of"):
        core.Trainer("float64", [dict(kind="conv", **{"in": 1})], [], 1, "mean_squared_error",
                     False, 4)
    with pytest.raises(ValueError, match="loss must be one of"):
        _trainer()[0].__class__("float64", [dict(kind="dense", steps=1, units=1, w=0,
                                                 **{"in": 1})], [], 1, "hinge", False, 4)
    with pytest.raises(TypeError, match="dtype must be"):
        core.Trainer("float16", [], [], 0, "mean_squared_error", False, 4)


def test_binding_validates_epoch_arguments():
    tr, P = _trainer()
    rng = np.random.default_rng(0)
    params = rng.standard_normal(P) * 0.1
    slots = [np.zeros(P), np.zeros(P)]
    x = rng.standard_normal((20, T, I))
    y = rng.standard_normal((20, 1))
    adam = {"kind": "adam", "learning_rate": 0.01}
    res = tr.epoch(params, slots, x, y, None, None, adam, 0, 16, None)
    assert res["batches"] == 2 and res["samples"] == 20 and res["iterations"] == 2
    assert res["stop"] == "" and np.isfinite(res["loss_sum"])
    bad = [
        (TypeError, "params must have dtype float64",
         dict(params=params.astype(np.float32))),
        (ValueError, "params must be a writeable C-contiguous",
         dict(params=np.zeros(2 * P)[::2])),
        (ValueError, "params must have", dict(params=np.zeros(P + 1))),
        (ValueError, "needs 2 slot arrays", dict(slots=slots[:1])),
        (ValueError, "numbers per sample", dict(x=rng.standard_normal((20, T, I + 1)))),
        (TypeError, "x must have dtype float64", dict(x=x.astype(np.float32))),
        (ValueError, "y must have 1 numbers per sample", dict(y=np.zeros((20, 2)))),
        (ValueError, r"order values must be in \[0, 19\]", dict(order=np.arange(1, 21))),
        (ValueError, "order must have 20 entries", dict(order=np.arange(19))),
        (TypeError, "order must hold integers", dict(order=np.arange(20.0))),
        (ValueError, "masks must have one entry per layer", dict(masks=[None])),
        (ValueError, "takes no dropout mask", dict(masks=[np.ones((20, I)), None])),
        (ValueError, r"batch_size must be in \[1, 16\]", dict(batch_size=17)),
        (ValueError, "pred must have", dict(pred=np.zeros(19))),
        (ValueError, "optimizer kind must be one of", dict(optimizer={"kind": "adagrad"})),
        (ValueError, "iterations must be", dict(iterations=-1)),
    ]
    base = dict(params=params, slots=slots, x=x, y=y, order=None, masks=None, optimizer=adam,
                iterations=0, batch_size=16, pred=None)
    for exc, msg, change in bad:
        before = params.copy()
        with pytest.raises(exc, match=msg):
            tr.epoch(**{**base, **change})
        np.testing.assert_array_equal(params, before)


def test_binding_checks_labels_and_masks():
    P = 4 * 3 + 3
    tr = core.Trainer("float32", [dict(kind="dropout", steps=1, units=4, dropout=True,
                                       **{"in": 4}),
                                  dict(kind="dense", steps=1, units=3, w=0, b=12,
                                       dense_activation="softmax", **{"in": 4})],
                      [(0, P, 0.0, 0.0)], P, "sparse_categorical_crossentropy", False, 8)
    params = np.full(P, 0.1, np.float32)
    x = np.ones((10, 4), np.float32)
    sgd = {"kind": "sgd", "learning_rate": 0.1}
    with pytest.raises(ValueError, match=r"class labels\) values must be in \[0, 2\]"):
        tr.epoch(params, [], x, np.array([0, 1, 2, 3, 0, 1, 2, 0, 1, 2]), None, None, sgd, 0, 8,
                 None)
    with pytest.raises(ValueError, match=r"masks\[0\] must have 40 entries"):
        tr.epoch(params, [], x, np.zeros(10, np.int64), None, [np.ones((10, 3), np.float32),
                                                               None], sgd, 0, 8, None)
    res = tr.epoch(params, [], x, np.zeros(10, np.int64), None,
                   [np.ones((10, 4), np.float32), None], sgd, 0, 8, np.zeros((10, 3), np.float32))
    assert res["batches"] == 2
