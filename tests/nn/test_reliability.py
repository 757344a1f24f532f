"""The model never silently holds a wrong state (issue 17): concurrent first calls build it
once (defect 6); fit never returns NaN or inf weights (defect 8); data and weights that mean
nothing are refused before training (defect 16)."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

from fastrnn import layers, optimizers
from fastrnn.nn.sequential import Sequential

THREADS = 20
TRIALS = 25


def unbuilt():
    return Sequential([layers.LSTM(3), layers.Dense(2)])


def test_concurrent_first_predict_builds_the_model_once():
    x = np.random.default_rng(0).standard_normal((4, 5, 2)).astype(np.float32)
    bad = []
    for trial in range(TRIALS):
        m = unbuilt()
        outs, errors = [None] * THREADS, []
        start = threading.Barrier(THREADS)

        def work(i, m=m, outs=outs, errors=errors, start=start):
            start.wait()
            try:
                outs[i] = m.predict(x, verbose=0)
            except Exception as exc:   # noqa: BLE001 - any failure is the finding
                errors.append(repr(exc))

        threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ok = (not errors and [len(l.weights) for l in m.layers] == [3, 2]
              and m.count_params() == 4 * (2 * 3 + 3 * 3 + 3) + 3 * 2 + 2
              and all(np.array_equal(o, outs[0]) for o in outs)
              and np.array_equal(m.predict(x, verbose=0), outs[0]) and m._flat_ok())
        if not ok:
            bad.append((trial, errors[:1]))
    assert not bad, f"{len(bad)} of {TRIALS} trials corrupted the model: {bad[:3]}"


def test_concurrent_first_call_of_an_unbuilt_layer_builds_it_once():
    x = np.ones((2, 3), np.float32)
    for _ in range(TRIALS):
        layer = layers.Dense(4)
        start = threading.Barrier(THREADS)
        outs = [None] * THREADS

        def work(i, layer=layer, start=start, outs=outs):
            start.wait()
            outs[i] = layer(x)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert layer.weight_names() == ["kernel", "bias"]
        assert all(np.array_equal(o, outs[0]) for o in outs)


def huge_lr_model(kind):
    stack = ([layers.LSTM(2, input_shape=(5, 1)), layers.Dense(1)] if kind == "lstm"
             else [layers.Dense(1, input_shape=(3,))])
    m = Sequential(stack)
    m.compile(optimizer=optimizers.Adam(learning_rate=1e39), loss="mse")
    rng = np.random.default_rng(1)
    x = rng.random((16, 5, 1)) if kind == "lstm" else rng.random((16, 3))
    return m, x, rng.random((16, 1))


@pytest.mark.parametrize("kind", ["lstm", "dense"])
@pytest.mark.parametrize("fused", [False, None])
@pytest.mark.parametrize("batch_size", [16, 4])
def test_fit_never_returns_non_finite_weights(kind, fused, batch_size):
    """Adam with lr=1e39: the last (here: the only) update makes the weights inf; no later
    loss would notice. fit must stop, warn and keep finite weights, on every path."""
    m, x, y = huge_lr_model(kind)
    before = m.get_weights()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = m.fit(x, y, epochs=1, batch_size=batch_size, verbose=0, fused=fused)
    assert all(np.isfinite(w).all() for w in m.get_weights())
    assert all(np.isfinite(s).all() for s in m.optimizer.state())
    msgs = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)
            and "fit stopped" in str(w.message)]
    assert len(msgs) == 1, [str(w.message) for w in caught]
    assert history.nonfinite is not None and m.stop_training
    if batch_size == 16:     # the one update was undone
        for a, b in zip(m.get_weights(), before):
            np.testing.assert_array_equal(a, b)
        assert m.optimizer.iterations == 0


def test_fused_path_checks_the_epochs_last_update():
    m, x, y = huge_lr_model("lstm")
    if not m.fused_training_plan(x, y, batch_size=16)[0]:
        pytest.skip("no fused trainer here")
    with pytest.warns(RuntimeWarning, match="from the start of this epoch"):
        m.fit(x, y, epochs=1, batch_size=16, verbose=0, fused=True)
    assert m.fused_fit_info["fused"]


def test_a_normal_fit_is_unchanged_by_the_checks():
    m = Sequential([layers.Dense(1, input_shape=(3,))])
    m.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(2).random((32, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = m.fit(x, x.sum(axis=1), epochs=3, verbose=0, fused=False)
    assert h.nonfinite is None and len(h.history["loss"]) == 3


@pytest.mark.parametrize("fused", [False, None])
def test_fit_refuses_sequences_without_time_steps(fused):
    m = Sequential([layers.LSTM(2, input_shape=(None, 1)), layers.Dense(1)])
    m.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match=r"x has no time steps \(shape \(4, 0, 1\)\)"):
        m.fit(np.zeros((4, 0, 1)), np.zeros((4, 1)), verbose=0, fused=fused)
    u = Sequential([layers.GRU(2), layers.Dense(1)])
    u.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="no time steps"):
        u.fit(np.zeros((4, 0, 1)), np.zeros((4, 1)), verbose=0)
    assert not u.built                     # refused before building anything


@pytest.mark.parametrize("fused", [False, None])
def test_sparse_labels_are_checked_on_all_of_y_before_training(fused):
    m = Sequential([layers.Dense(3, activation="softmax", input_shape=(2,))])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = m.get_weights()
    y = np.zeros(64, np.int64)
    y[50] = 7
    with pytest.raises(ValueError, match=r"class labels must be in \[0, 2\].*\[0, 7\]"):
        m.fit(np.random.rand(64, 2), y, batch_size=8, verbose=0, fused=fused)
    assert m.optimizer.iterations == 0
    for a, b in zip(m.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    y = y.astype(np.float64)
    y[50], y[20] = 0, 1.5
    with pytest.raises(ValueError, match="non-integer"):
        m.fit(np.random.rand(64, 2), y, batch_size=8, verbose=0, fused=fused)
    with pytest.raises(ValueError, match=r"validation_data\[1\]: y class labels"):
        m.fit(np.random.rand(8, 2), np.zeros(8, int), verbose=0,
              validation_data=(np.random.rand(4, 2), np.array([0, 1, 2, 3])))


def test_set_weights_checks_finiteness_in_the_layers_dtype():
    m = Sequential([layers.Dense(1, input_shape=(3,))])
    before = m.get_weights()
    with pytest.raises(ValueError, match="too large for float32"):
        m.set_weights([np.full((3, 1), 1e39), np.zeros(1)])
    for a, b in zip(m.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="must be finite numbers"):
        m.set_weights([np.full((3, 1), np.inf), np.zeros(1)])
    m64 = Sequential([layers.Dense(1, input_shape=(3,), dtype="float64")])
    m64.set_weights([np.full((3, 1), 1e39), np.zeros(1)])        # fine in float64
    assert m64.get_weights()[0][0, 0] == 1e39
