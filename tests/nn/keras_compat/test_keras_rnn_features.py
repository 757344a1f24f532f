"""Keras's recurrent-layer features on the Python path: stateful layers, ``implementation=``,
GRU recurrent dropout (Keras 3's per-gate rule), masks, weight constraints,
OrthogonalRegularizer, regularizer configs, activity regularisation and Bidirectional; each
checked against formulas / finite differences, and against Keras itself where installed."""

from __future__ import annotations

import keras_oracle
import numpy as np
import pytest

import fastrnn
from fastrnn import constraints, initializers, layers, regularizers
from fastrnn.nn.sequential import Sequential


@pytest.fixture(scope="module")
def keras():
    return keras_oracle.load_keras()


CELLS = [layers.SimpleRNN, layers.LSTM, layers.GRU]
CONST = {"kernel_initializer": initializers.Constant(0.01),
         "recurrent_initializer": initializers.Constant(0.02),
         "bias_initializer": initializers.Constant(0.03)}


def _fd_check(layer, x, seed=None, rtol=1e-5, **call_kw):
    """backward() against central differences of sum(forward * R); `seed` resets the layer's
    generator before every call (the same dropout masks each time)."""
    rng = np.random.default_rng(0)

    def run(xx):
        if seed is not None:
            layer._rng = np.random.default_rng(seed)
        return layer.forward(xx, **call_kw)

    y = run(x)
    R = rng.standard_normal(y.shape)
    dx = layer.backward(R)
    grads = [g.copy() for g in layer.grads]
    h = 1e-6
    for w, g in zip(layer.trainable_weights + [x], grads + [dx]):
        fd = np.zeros_like(w)
        for i in list(np.ndindex(w.shape))[::max(1, w.size // 25)]:
            old = w[i]
            w[i] = old + h
            up = (run(x) * R).sum()
            w[i] = old - h
            down = (run(x) * R).sum()
            w[i] = old
            fd[i] = (up - down) / (2 * h)
            assert g[i] == pytest.approx(fd[i], rel=rtol, abs=1e-7), (type(layer).__name__, i)


def _built(cls, units=3, features=2, **kw):
    layer = cls(units, dtype="float64", **kw)
    layer.build((None, None, features))
    rng = np.random.default_rng(1)
    layer.set_weights([rng.standard_normal(w.shape) * 0.5 for w in layer.get_weights()])
    return layer


# -- masks (per-step; the state carries over masked steps) --------------------------------------
@pytest.mark.parametrize("cls", CELLS)
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("zero_output", [False, True])
def test_mask_gradients(cls, return_sequences, zero_output):
    layer = _built(cls, return_sequences=return_sequences, zero_output_for_mask=zero_output)
    x = np.random.default_rng(2).standard_normal((3, 5, 2))
    mask = np.array([[1, 1, 0, 1, 0], [0, 1, 1, 1, 1], [1, 0, 0, 0, 1]], bool)
    _fd_check(layer, x, mask=mask)


def test_mask_all_true_is_the_whole_sequence_path():
    layer = _built(layers.LSTM, return_sequences=True)
    x = np.random.default_rng(3).standard_normal((2, 4, 2))
    np.testing.assert_allclose(layer(x, mask=np.ones((2, 4), bool)), layer(x), rtol=1e-12)
    with pytest.raises(ValueError, match=r"mask for layer .* must have shape \(2, 4\)"):
        layer(x, mask=np.ones((2, 3), bool))


# -- recurrent dropout -------------------------------------------------------------------------
@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_recurrent_dropout_gradients(reset_after):
    layer = _built(layers.GRU, dropout=0.3, recurrent_dropout=0.4, reset_after=reset_after,
                   return_sequences=True)
    x = np.random.default_rng(4).standard_normal((3, 4, 2))
    _fd_check(layer, x, seed=11, training=True)


def test_gru_recurrent_dropout_is_keras3_rule():
    """Keras 3 (implementation 1): one mask per gate block for the inputs and for h_{t-1};
    the update z h_{t-1} + (1 - z) hh uses the unmasked h_{t-1}."""
    layer = _built(layers.GRU, units=3, dropout=0.25, recurrent_dropout=0.5)
    x = np.random.default_rng(5).standard_normal((4, 3, 2))
    layer._rng = np.random.default_rng(9)
    got = layer(x, training=True)
    g = np.random.default_rng(9)
    m_in = [(g.random((4, 2)) >= 0.25) / 0.75 for _ in range(3)]
    m_h = [(g.random((4, 3)) >= 0.5) / 0.5 for _ in range(3)]
    W, U, b = layer.get_weights()
    H = 3

    def sig(a):
        return 1 / (1 + np.exp(-a))

    h = np.zeros((4, H))
    for t in range(3):
        xt = x[:, t]
        z = sig((xt * m_in[0]) @ W[:, :H] + b[0, :H] + (h * m_h[0]) @ U[:, :H] + b[1, :H])
        r = sig((xt * m_in[1]) @ W[:, H:2 * H] + b[0, H:2 * H] + (h * m_h[1]) @ U[:, H:2 * H]
                + b[1, H:2 * H])
        hh = np.tanh((xt * m_in[2]) @ W[:, 2 * H:] + b[0, 2 * H:]
                     + r * ((h * m_h[2]) @ U[:, 2 * H:] + b[1, 2 * H:]))
        h = z * h + (1 - z) * hh
    np.testing.assert_allclose(got, h, rtol=1e-12)
    np.testing.assert_array_equal(layer(x), layer(x))     # inference: no dropout


def test_gru_recurrent_dropout_trains_on_the_python_path():
    m = Sequential([layers.Input((5, 2)), layers.GRU(3, recurrent_dropout=0.3), layers.Dense(1)])
    m.compile(optimizer="adam", loss="mse")
    x, y = np.random.default_rng(0).standard_normal((40, 5, 2)), np.zeros((40, 1))
    h = m.fit(x, y, epochs=3, verbose=0, rng=0)
    assert not m.fused_fit_info["fused"] and "recurrent_dropout" in m.fused_fit_info["reason"]
    assert h.history["loss"][-1] < h.history["loss"][0]


# -- stateful ----------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", CELLS)
def test_stateful_carries_and_resets(cls):
    x = np.random.default_rng(6).standard_normal((2, 6, 3))
    ref = cls(4, return_sequences=True, **CONST)
    whole = ref(x)
    layer = cls(4, stateful=True, return_sequences=True, **CONST)
    a, b = layer(x[:, :3]), layer(x[:, 3:])
    np.testing.assert_allclose(np.concatenate([a, b], 1), whole, rtol=1e-5, atol=1e-6)
    layer.reset_states()
    np.testing.assert_allclose(layer(x[:, :3]), a, rtol=1e-6)
    layer.reset_state()
    with pytest.raises(ValueError, match="holds states for batches of 2 samples, got 1"):
        layer(x[:1, :3])
        layer(x[:1, :3])
    with pytest.raises(AttributeError, match="not stateful"):
        ref.reset_states()


def test_stateful_model_fit_and_reset_states():
    m = Sequential([layers.Input((4, 2), batch_size=8), layers.LSTM(3, stateful=True),
                    layers.Dense(1)])
    m.compile(optimizer="adam", loss="mse")
    x, y = np.random.default_rng(0).standard_normal((32, 4, 2)), np.zeros((32, 1))
    m.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    # tests/nn/test_fused_wrappers.py: the fused path carries the states as the Python path does
    assert m.fused_fit_info["fused"] == (fastrnn.backends.fused_trainer()[0] is not None)
    assert np.abs(m.layers[0].states[0]).sum() > 0
    m.reset_states()
    assert np.abs(m.layers[0].states[0]).sum() == 0


# -- implementation= ----------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [layers.LSTM, layers.GRU])
def test_implementation_argument_same_maths(cls):
    x = np.arange(72, dtype=np.float32).reshape(3, 6, 4)
    outs = [cls(3, implementation=i, **CONST)(x) for i in (0, 1, 2)]
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[1], outs[2])
    assert cls(3, implementation=1).get_config()["units"] == 3
    with pytest.raises(ValueError, match="implementation must be one of"):
        cls(3, implementation=3)


# -- constraints, regularizers ------------------------------------------------------------------
def test_constraints_follow_keras_formulas_and_apply_after_updates():
    w = np.array([[3.0, -0.1], [4.0, 0.2]])
    np.testing.assert_allclose(constraints.MaxNorm(2)(w), w * np.array([2 / (5 + 1e-7),
                                                                        1.0 / (1e-7 + np.hypot(0.1, 0.2)) * np.hypot(0.1, 0.2)]))
    np.testing.assert_allclose(constraints.NonNeg()(w), np.maximum(w, 0))
    np.testing.assert_allclose(np.linalg.norm(constraints.UnitNorm()(w), axis=0), 1, rtol=1e-6)
    mm = constraints.MinMaxNorm(1.0, 2.0, rate=0.5)(w)
    n = np.linalg.norm(w, axis=0)
    np.testing.assert_allclose(np.linalg.norm(mm, axis=0),
                               (0.5 * np.clip(n, 1, 2) + 0.5 * n) * n / (n + 1e-7))
    assert isinstance(constraints.get("non_neg"), constraints.NonNeg)
    assert constraints.get({"class_name": "MaxNorm", "config": {"max_value": 3}}).max_value == 3
    m = Sequential([layers.Input((4, 2)),
                    layers.SimpleRNN(3, recurrent_constraint="non_neg",
                                     kernel_constraint=constraints.MaxNorm(0.5)),
                    layers.Dense(1, bias_constraint="non_neg")])
    m.compile(optimizer="sgd", loss="mse")
    m.fit(np.random.default_rng(0).standard_normal((16, 4, 2)), np.full((16, 1), -5.0), epochs=2,
          verbose=0)
    assert not m.fused_fit_info["fused"] and "constraint" in m.fused_fit_info["reason"]
    assert (m.layers[0].recurrent_kernel >= 0).all() and (m.layers[1].bias >= 0).all()
    assert (np.linalg.norm(m.layers[0].kernel, axis=0) <= 0.5 + 1e-6).all()
    cfg = m.layers[0].get_config()
    assert cfg["recurrent_constraint"] == {"class_name": "NonNeg", "config": {}}
    again = layers.SimpleRNN.from_config(cfg)
    assert isinstance(again.recurrent_constraint, constraints.NonNeg)


def test_regularizer_identifiers_follow_keras3():
    assert (regularizers.get("l1l2").l1, regularizers.get("l1l2").l2) == (0.0, 0.0)
    with pytest.raises(ValueError, match="'l1_l2' is not a Keras 3 identifier"):
        regularizers.get("l1_l2")
    assert isinstance(regularizers.get("L1"), regularizers.L1)
    assert isinstance(regularizers.get("orthogonal_regularizer"), regularizers.OrthogonalRegularizer)
    r = regularizers.L1L2.from_config({"l1": 0.1, "l2": 0.2})
    assert (r.l1, r.l2) == (0.1, 0.2)
    assert regularizers.L1L2(l1=None).l1 == 0.0
    o = regularizers.OrthogonalRegularizer.from_config({"factor": 0.3, "mode": "columns"})
    assert o.get_config() == {"factor": 0.3, "mode": "columns"}
    with pytest.raises(ValueError, match="mode must be one of"):
        regularizers.OrthogonalRegularizer(mode="diagonal")


@pytest.mark.parametrize("mode", ["rows", "columns"])
def test_orthogonal_regularizer_value_and_gradient(mode):
    r = regularizers.OrthogonalRegularizer(0.1, mode)
    w = np.random.default_rng(0).standard_normal((4, 6))
    u = w / np.linalg.norm(w, axis=1 if mode == "rows" else 0, keepdims=True)
    p = u @ u.T if mode == "rows" else u.T @ u
    n = p.shape[0]
    assert r(w) == pytest.approx(0.1 * 0.5 * (np.abs(p).sum() - np.trace(np.abs(p))) / (n * (n - 1) / 2))
    g = r.gradient(w)
    for i in np.ndindex(w.shape):
        a, b = w.copy(), w.copy()
        a[i] += 1e-6
        b[i] -= 1e-6
        assert g[i] == pytest.approx((r(a) - r(b)) / 2e-6, rel=1e-5, abs=1e-9)
    m = Sequential([layers.Input((3, 4)), layers.LSTM(2, kernel_regularizer=r), layers.Dense(1)])
    m.compile(optimizer="adam", loss="mse")
    m.fit(np.ones((8, 3, 4)), np.zeros((8, 1)), verbose=0)
    assert "OrthogonalRegularizer" in m.fused_fit_info["reason"]


def test_activity_regularizer_adds_penalty_per_batch_size():
    m = Sequential([layers.Input((3, 2)),
                    layers.SimpleRNN(4, activity_regularizer=regularizers.l2(0.1)),
                    layers.Dense(1, activity_regularizer="l1", dtype="float64")])
    m.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).standard_normal((6, 3, 2))
    y = np.zeros((6, 1))
    h = m.layers[0](x)
    out = m.layers[1](h)
    want = np.mean(out ** 2) + 0.1 * (h ** 2).sum() / 6 + 0.01 * np.abs(out).sum() / 6
    assert m.evaluate(x, y, verbose=0) == pytest.approx(want, rel=1e-10)
    loss, grads = m.loss_and_gradients(x, y)
    assert loss == pytest.approx(want, rel=1e-10)
    k = m.layers[0].kernel
    i = (0, 1)
    old = k[i]
    k[i] = old + 1e-6
    up = m.evaluate(x, y, verbose=0)
    k[i] = old - 1e-6
    down = m.evaluate(x, y, verbose=0)
    k[i] = old
    assert grads[0][i] == pytest.approx((up - down) / 2e-6, rel=1e-5)
    m.fit(x, y, verbose=0)
    assert "activity_regularizer" in m.fused_fit_info["reason"]


# -- Bidirectional ------------------------------------------------------------------------------
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_gradients_and_training(merge_mode, return_sequences):
    layer = layers.Bidirectional(layers.LSTM(3, return_sequences=return_sequences),
                                 merge_mode=merge_mode, dtype="float64")
    layer.build((None, 4, 2))
    x = np.random.default_rng(7).standard_normal((3, 4, 2))
    _fd_check(layer, x)
    m = Sequential([layers.Input((4, 2)), layers.Bidirectional(layers.GRU(3), merge_mode=merge_mode),
                    layers.Dense(1)])
    m.compile(optimizer="adam", loss="mse")
    h = m.fit(np.tile(x, (8, 1, 1)), np.ones((24, 1)), epochs=5, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert len(m.get_weights()) == 8 and m.layers[0].output_shape[-1] == (6 if merge_mode == "concat" else 3)


def test_bidirectional_config_round_trip_and_errors(tmp_path):
    m = Sequential([layers.Input((4, 2)), layers.Bidirectional(layers.SimpleRNN(3)), layers.Dense(1)])
    m.save(tmp_path / "b.npz")
    again = fastrnn.load_model(tmp_path / "b.npz")
    x = np.ones((2, 4, 2), np.float32)
    np.testing.assert_array_equal(again.predict(x, verbose=0), m.predict(x, verbose=0))
    with pytest.raises(TypeError, match="needs a recurrent layer"):
        layers.Bidirectional(layers.Dense(3))
    with pytest.raises(ValueError, match="merge_mode must be one of"):
        layers.Bidirectional(layers.GRU(2), merge_mode="max")


@pytest.mark.parametrize("cls", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
def test_bidirectional_matches_keras(keras, cls, merge_mode):
    x = np.random.default_rng(0).standard_normal((5, 6, 3)).astype(np.float32)
    for rs in (False, True):
        k = keras.Sequential([keras.Input((6, 3)), keras.layers.Bidirectional(
            getattr(keras.layers, cls)(4, return_sequences=rs), merge_mode=merge_mode)])
        f = Sequential([layers.Input((6, 3)), layers.Bidirectional(
            getattr(layers, cls)(4, return_sequences=rs), merge_mode=merge_mode)])
        f.set_weights(k.get_weights())
        np.testing.assert_allclose(f.predict(x, verbose=0), k.predict(x, verbose=0), atol=1e-5)


def test_orthogonal_regularizer_matches_keras(keras):
    w = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    for mode in ("rows", "columns"):
        # a backend tensor: Keras's NumPy branch of normalize() mishandles axis=0
        t = keras.ops.convert_to_tensor(w)
        want = float(keras.ops.convert_to_numpy(keras.regularizers.OrthogonalRegularizer(0.2, mode)(t)))
        assert regularizers.OrthogonalRegularizer(0.2, mode)(w) == pytest.approx(want, rel=1e-5)


def test_constraints_match_keras(keras):
    w = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    for ours, theirs in [(constraints.MaxNorm(1.5), keras.constraints.MaxNorm(1.5)),
                         (constraints.MinMaxNorm(0.5, 1.0, 0.7), keras.constraints.MinMaxNorm(0.5, 1.0, 0.7)),
                         (constraints.UnitNorm(axis=1), keras.constraints.UnitNorm(axis=1)),
                         (constraints.NonNeg(), keras.constraints.NonNeg())]:
        np.testing.assert_allclose(ours(w), keras.ops.convert_to_numpy(theirs(w)), rtol=1e-5)
