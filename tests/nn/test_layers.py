"""Layers: Keras weight layout and equations (an independent per-step NumPy computation and
PyTorch as oracles), finite-difference gradients, dropout rules, initialisers, errors."""

from __future__ import annotations

import numpy as np
import pytest

import fastrnn
from fastrnn import activations, initializers, layers
from fastrnn import cells

BACKENDS = [b for b in fastrnn.backends.available() if b != "cuda"]


def sig(a):
    return 1 / (1 + np.exp(-a))


ACT = {"tanh": np.tanh, "relu": lambda a: np.maximum(a, 0), "sigmoid": sig, "linear": lambda a: a}


# -- independent per-step computations with Keras's equations ----------------------------------
def np_simple_rnn(x, W, U, b, act="tanh", h=None):
    h = np.zeros((x.shape[0], U.shape[0])) if h is None else h
    out = []
    for t in range(x.shape[1]):
        h = ACT[act](x[:, t] @ W + h @ U + b)
        out.append(h)
    return np.stack(out, 1)


def np_lstm(x, W, U, b, act="tanh", h=None, c=None):
    H = U.shape[0]
    h = np.zeros((x.shape[0], H)) if h is None else h
    c = np.zeros((x.shape[0], H)) if c is None else c
    out = []
    for t in range(x.shape[1]):
        z = x[:, t] @ W + h @ U + b
        i, f, g, o = sig(z[:, :H]), sig(z[:, H:2 * H]), ACT[act](z[:, 2 * H:3 * H]), sig(z[:, 3 * H:])
        c = f * c + i * g
        h = o * ACT[act](c)
        out.append(h)
    return np.stack(out, 1), c


def np_gru(x, W, U, b, reset_after=True, h=None):
    H = U.shape[0]
    h = np.zeros((x.shape[0], H)) if h is None else h
    out = []
    for t in range(x.shape[1]):
        if reset_after:
            xi = x[:, t] @ W + b[0]
            hr = h @ U + b[1]
            z = sig(xi[:, :H] + hr[:, :H])
            r = sig(xi[:, H:2 * H] + hr[:, H:2 * H])
            hh = np.tanh(xi[:, 2 * H:] + r * hr[:, 2 * H:])
        else:
            xi = x[:, t] @ W + b
            z = sig(xi[:, :H] + h @ U[:, :H])
            r = sig(xi[:, H:2 * H] + h @ U[:, H:2 * H])
            hh = np.tanh(xi[:, 2 * H:] + (r * h) @ U[:, 2 * H:])
        h = z * h + (1 - z) * hh
        out.append(h)
    return np.stack(out, 1)


def rand_weights(layer, rng, scale=0.5):
    return [rng.standard_normal(w.shape) * scale for w in layer.get_weights()]


# -- parameter counts ---------------------------------------------------------------------------
@pytest.mark.parametrize("I,H", [(1, 1), (1, 10), (3, 7), (10, 15), (32, 64)])
def test_param_counts_match_keras_formulas(I, H):
    cases = [(layers.SimpleRNN(H), H * (I + H + 1)), (layers.LSTM(H), 4 * H * (I + H + 1)),
             (layers.GRU(H), 3 * H * (I + H + 2)), (layers.GRU(H, reset_after=False), 3 * H * (I + H + 1)),
             (layers.SimpleRNN(H, use_bias=False), H * (I + H)), (layers.LSTM(H, use_bias=False), 4 * H * (I + H))]
    for layer, want in cases:
        layer.build((None, None, I))
        assert layer.count_params() == want, layer
    d = layers.Dense(H)
    d.build((None, I))
    assert d.count_params() == I * H + H


def test_weight_shapes_and_order_are_keras():
    I, H = 3, 5
    for layer, shapes in [(layers.SimpleRNN(H), [(I, H), (H, H), (H,)]),
                          (layers.LSTM(H), [(I, 4 * H), (H, 4 * H), (4 * H,)]),
                          (layers.GRU(H), [(I, 3 * H), (H, 3 * H), (2, 3 * H)]),
                          (layers.GRU(H, reset_after=False), [(I, 3 * H), (H, 3 * H), (3 * H,)]),
                          (layers.GRU(H, use_bias=False), [(I, 3 * H), (H, 3 * H)])]:
        layer.build((None, 7, I))
        assert [w.shape for w in layer.get_weights()] == shapes
        assert [n for n, _, _ in layer._weights][:2] == ["kernel", "recurrent_kernel"]


# -- forward outputs for given weights --------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("act", ["tanh", "relu", "sigmoid", "linear"])
def test_simple_rnn_forward_matches_numpy(backend, act):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6, 3))
    layer = layers.SimpleRNN(5, activation=act, return_sequences=True, dtype="float64", backend=backend)
    layer.build((None, None, 3))
    w = rand_weights(layer, rng)
    layer.set_weights(w)
    np.testing.assert_allclose(layer(x), np_simple_rnn(x, *w, act=act), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_lstm_forward_return_state_and_sequences(backend):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 5, 2))
    layer = layers.LSTM(4, return_sequences=True, return_state=True, dtype="float64", backend=backend)
    layer.build((None, None, 2))
    w = rand_weights(layer, rng)
    layer.set_weights(w)
    seq, h, c = layer(x)
    want_seq, want_c = np_lstm(x, *w)
    np.testing.assert_allclose(seq, want_seq, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h, want_seq[:, -1], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c, want_c, rtol=1e-10, atol=1e-12)
    # return_sequences=False gives the last output only
    last = layers.LSTM(4, dtype="float64", backend=backend)
    last.build((None, None, 2))
    last.set_weights(w)
    np.testing.assert_allclose(last(x), want_seq[:, -1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_forward_matches_numpy(backend, reset_after):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 7, 3))
    layer = layers.GRU(4, reset_after=reset_after, return_sequences=True, dtype="float64", backend=backend)
    layer.build((None, None, 3))
    w = rand_weights(layer, rng)
    layer.set_weights(w)
    np.testing.assert_allclose(layer(x), np_gru(x, *w, reset_after=reset_after), rtol=1e-10, atol=1e-12)


def test_go_backwards_returns_reversed_sequence():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 5, 3))
    fw = layers.SimpleRNN(4, return_sequences=True, dtype="float64")
    bw = layers.SimpleRNN(4, return_sequences=True, go_backwards=True, dtype="float64")
    fw.build((None, None, 3)), bw.build((None, None, 3))
    bw.set_weights(fw.get_weights())
    # Keras: process x[:, ::-1] and return that sequence of outputs as it comes (not re-reversed)
    np.testing.assert_allclose(bw(x), fw(x[:, ::-1]), rtol=1e-12)


def test_use_bias_false_means_zero_bias():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 4, 3))
    nb = layers.LSTM(3, use_bias=False, return_sequences=True, dtype="float64")
    nb.build((None, None, 3))
    W, U = rand_weights(nb, rng)
    nb.set_weights([W, U])
    np.testing.assert_allclose(nb(x), np_lstm(x, W, U, np.zeros(12))[0], rtol=1e-10, atol=1e-12)


def test_initial_state():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 4, 3))
    h0, c0 = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    layer = layers.LSTM(3, return_sequences=True, dtype="float64")
    layer.build((None, None, 3))
    w = layer.get_weights()
    np.testing.assert_allclose(layer(x, initial_state=[h0, c0]), np_lstm(x, *w, h=h0, c=c0)[0],
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("act", ["linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu"])
def test_dense_2d_and_3d(act):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 5, 4))
    d = layers.Dense(6, activation=act, dtype="float64")
    d.build((None, None, 4))
    W, b = rand_weights(d, rng)
    d.set_weights([W, b])
    a = x @ W + b
    want = {"linear": a, "relu": np.maximum(a, 0), "sigmoid": sig(a), "tanh": np.tanh(a),
            "softmax": np.exp(a) / np.exp(a).sum(-1, keepdims=True),
            "leaky_relu": np.where(a > 0, a, 0.2 * a), "elu": np.where(a > 0, a, np.exp(a) - 1)}[act]
    np.testing.assert_allclose(d(x), want, rtol=1e-12, atol=1e-14)  # per time step on 3-D input
    np.testing.assert_allclose(d(x[:, 2]), want[:, 2], rtol=1e-12, atol=1e-14)


# -- PyTorch as an oracle (weights copied with fastrnn.interop) ---------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("cell", list(cells.NAMES))
def test_layer_reproduces_pytorch_module(cell):
    torch = pytest.importorskip("torch")
    from fastrnn import interop
    torch.manual_seed(0)
    mod = {"elman": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](
        3, 5, batch_first=True).double()
    x = np.random.default_rng(7).standard_normal((4, 6, 3))
    want = mod(torch.from_numpy(x))[0].detach().numpy()
    layer = {"elman": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}[cell](
        5, return_sequences=True, dtype="float64")
    layer.build((None, None, 3))
    layer.set_weights(interop.from_torch(cell, mod.state_dict()))
    np.testing.assert_allclose(layer(x), want, rtol=1e-10, atol=1e-12)


# -- gradients: finite differences in float64 ---------------------------------------------------
def _fd_check(layer, x, rng, training=False, eps=1e-6):
    """d sum(R * layer(x)) by the layer's backward vs central differences (weights and x)."""
    state = layer._rng.bit_generator.state if getattr(layer, "_rng", None) is not None else None
    y = layer.forward(x, training=training)
    R = rng.standard_normal(y.shape)
    dx = layer.backward(R)
    grads = [g.copy() for g in layer.grads]

    def f():
        if state is not None:
            layer._rng.bit_generator.state = state  # same dropout masks
        return float((R * layer.forward(x, training=training)).sum())

    for w, g in zip(layer.weights, grads):
        num = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            old = w[idx]
            w[idx] = old + eps
            fp = f()
            w[idx] = old - eps
            fm = f()
            w[idx] = old
            num[idx] = (fp - fm) / (2 * eps)
        np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-8)
    num = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        fp = f()
        x[idx] = old - eps
        fm = f()
        x[idx] = old
        num[idx] = (fp - fm) / (2 * eps)
    np.testing.assert_allclose(dx, num, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("make", [
    lambda: layers.SimpleRNN(3, return_sequences=True, dtype="float64"),
    lambda: layers.SimpleRNN(3, go_backwards=True, dtype="float64"),
    lambda: layers.LSTM(3, dtype="float64"),
    lambda: layers.LSTM(3, return_sequences=True, use_bias=False, dtype="float64"),
    lambda: layers.GRU(3, return_sequences=True, dtype="float64"),
    lambda: layers.GRU(3, reset_after=False, go_backwards=True, dtype="float64"),
    lambda: layers.Dense(3, activation="softmax", dtype="float64"),
    lambda: layers.Dense(2, activation="elu", dtype="float64"),
], ids=["rnn-seq", "rnn-back", "lstm", "lstm-nobias", "gru", "gru-cho-back", "dense-softmax",
        "dense-elu"])
def test_layer_gradients_finite_differences(make):
    rng = np.random.default_rng(8)
    layer = make()
    x = rng.standard_normal((2, 4, 2))
    layer.build((None, None, 2))
    layer.set_weights(rand_weights(layer, rng))
    _fd_check(layer, x, rng)


@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.LSTM])
def test_dropout_and_recurrent_dropout_gradients(cls):
    rng = np.random.default_rng(9)
    layer = cls(3, return_sequences=True, dropout=0.3, recurrent_dropout=0.4, seed=11, dtype="float64")
    layer.build((None, None, 2))
    layer.set_weights(rand_weights(layer, rng))
    _fd_check(layer, rng.standard_normal((3, 4, 2)), rng, training=True)


# -- dropout rules ------------------------------------------------------------------------------
def test_recurrent_dropout_matches_keras_rule():
    """Keras: h_{t-1} * m enters the recurrent product only; one mask per sequence; the carry of
    the LSTM is not masked; inputs get one mask per sequence (the same for every step)."""
    rng = np.random.default_rng(10)
    x = rng.standard_normal((3, 5, 2))
    layer = layers.LSTM(4, return_sequences=True, dropout=0.25, recurrent_dropout=0.5, seed=3,
                        dtype="float64")
    layer.build((None, None, 2))
    W, U, b = layer.get_weights()
    got = layer(x, training=True)
    # replay the masks: the layer's generator state after building is what forward used
    layer2 = layers.LSTM(4, return_sequences=True, dropout=0.25, recurrent_dropout=0.5, seed=3,
                         dtype="float64")
    layer2.build((None, None, 2))
    state = layer2._rng.bit_generator.state
    m_rng = np.random.default_rng()
    m_rng.bit_generator.state = state
    in_mask = (m_rng.random((3, 2)) >= 0.25) / 0.75
    rec_mask = (m_rng.random((3, 4)) >= 0.5) / 0.5
    H = 4
    h, c = np.zeros((3, H)), np.zeros((3, H))
    want = []
    for t in range(5):
        z = (x[:, t] * in_mask) @ W + (h * rec_mask) @ U + b
        i, f, g, o = sig(z[:, :H]), sig(z[:, H:2 * H]), np.tanh(z[:, 2 * H:3 * H]), sig(z[:, 3 * H:])
        c = f * c + i * g
        h = o * np.tanh(c)
        want.append(h)
    np.testing.assert_allclose(got, np.stack(want, 1), rtol=1e-10, atol=1e-12)


def test_dropout_only_in_training():
    rng = np.random.default_rng(12)
    x = rng.standard_normal((64, 6, 3))
    for layer in [layers.Dropout(0.5, seed=1), layers.LSTM(4, dropout=0.5, seed=1),
                  layers.SimpleRNN(4, recurrent_dropout=0.5, seed=1)]:
        a, b = layer(x), layer(x)
        np.testing.assert_array_equal(a, b)  # inference: deterministic, no dropout
        assert not np.allclose(layer(x, training=True), a)
    d = layers.Dropout(0.5, seed=2)
    y = d(np.ones((1000, 10), np.float32), training=True)
    assert set(np.unique(y)) <= {0.0, 2.0}  # inverted dropout: survivors scaled by 1/(1-rate)
    assert abs(y.mean() - 1) < 0.05
    # input dropout on an RNN: one mask per sequence, the same at every time step
    lay = layers.SimpleRNN(2, dropout=0.5, seed=5, return_sequences=True, dtype="float64")
    lay.build((None, None, 3))
    lay.set_weights([np.eye(3, 2), np.zeros((2, 2)), np.zeros(2)])  # linear read of x (tanh)
    xs = np.ones((8, 4, 3)) * 0.1
    out = lay(xs, training=True)
    np.testing.assert_allclose(out, np.repeat(out[:, :1], 4, axis=1))


# -- initialisers --------------------------------------------------------------------------------
def test_default_initialisers_follow_keras():
    fastrnn.nn.seeding.set_random_seed(0)
    layer = layers.LSTM(16)
    layer.build((None, None, 8))
    W, U, b = layer.get_weights()
    limit = np.sqrt(6 / (8 + 64))  # glorot_uniform with fan_out = 4H
    assert np.abs(W).max() <= limit and np.abs(W).max() > 0.8 * limit
    # orthogonal (H, 4H): orthonormal rows
    np.testing.assert_allclose(U @ U.T, np.eye(16), atol=1e-5)
    # unit_forget_bias: f block ones, the rest zeros
    np.testing.assert_array_equal(b, np.r_[np.zeros(16), np.ones(16), np.zeros(32)])
    g = layers.GRU(4)
    g.build((None, None, 2))
    np.testing.assert_array_equal(g.get_weights()[2], np.zeros((2, 12)))
    assert W.dtype == np.float32


def test_initialiser_objects_and_seed():
    a = layers.SimpleRNN(5, seed=42, kernel_initializer=initializers.RandomNormal(stddev=1.0))
    b = layers.SimpleRNN(5, seed=42, kernel_initializer="random_normal")
    a.build((None, None, 3)), b.build((None, None, 3))
    assert a.get_weights()[0].std() > 5 * b.get_weights()[0].std()
    c = layers.SimpleRNN(5, seed=42, kernel_initializer="random_normal")
    c.build((None, None, 3))
    for u, v in zip(b.get_weights(), c.get_weights()):
        np.testing.assert_array_equal(u, v)  # same seed, same weights


# -- errors ----------------------------------------------------------------------------------------
def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="activation must be one of .*'tanh'.*got 'swish'"):
        layers.LSTM(4, activation="swish")
    with pytest.raises(ValueError, match="activation must be one of .*'softmax'"):
        layers.Dense(4, activation="gelu")
    with pytest.raises(ValueError, match="recurrent_activation"):
        layers.GRU(4, recurrent_activation="hard_sigmoid")
    with pytest.raises(ValueError, match="units must be a positive int"):
        layers.SimpleRNN(0)
    with pytest.raises(ValueError, match=r"dropout must be .*in \[0, 1\)"):
        layers.LSTM(3, dropout=1.5)
    with pytest.raises(ValueError, match="kernel_initializer must be one of"):
        layers.LSTM(3, kernel_initializer="lecun_magic")
    with pytest.raises(ValueError, match="backend must be one of"):
        layers.LSTM(3, backend="tpu")
    lay = layers.LSTM(3)
    lay.build((None, None, 2))
    with pytest.raises(ValueError, match="expects 2 features per time step"):
        lay(np.zeros((1, 4, 5)))
    with pytest.raises(ValueError, match="3-D input"):
        layers.GRU(3)(np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"weight 'recurrent_kernel' must have shape \(3, 12\), got \(3, 3\)"):
        lay.set_weights([np.zeros((2, 12)), np.zeros((3, 3)), np.zeros(12)])
    with pytest.raises(ValueError, match="expects 3 weight arrays"):
        lay.set_weights([np.zeros((2, 12))])
    with pytest.raises(ValueError, match="activation must be one of"):
        activations.get("nope")


# -- Keras itself, when installed ----------------------------------------------------------------
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


def test_matches_keras_when_installed():
    keras = _keras()
    rng = np.random.default_rng(13)
    x = rng.standard_normal((3, 6, 2)).astype(np.float32)
    for kcls, fcls, kw in [(keras.layers.SimpleRNN, layers.SimpleRNN, {}),
                           (keras.layers.LSTM, layers.LSTM, {}),
                           (keras.layers.GRU, layers.GRU, {}),
                           (keras.layers.GRU, layers.GRU, {"reset_after": False})]:
        k = kcls(5, return_sequences=True, **kw)
        want = keras.ops.convert_to_numpy(k(x))
        f = fcls(5, return_sequences=True, **kw)
        f.build((None, None, 2))
        f.set_weights(k.get_weights())
        np.testing.assert_allclose(f(x), want, rtol=1e-4, atol=1e-5)
