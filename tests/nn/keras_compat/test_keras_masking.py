"""The Masking layer in a Sequential model (the Python path): the mask reaches the recurrent
layers, the state carries over masked steps, and a sequence output's loss averages over the
valid steps only (Keras's rule, per batch); against Keras where installed."""

from __future__ import annotations

import keras_oracle
import numpy as np
import pytest

from fastrnn import layers
from fastrnn.nn.sequential import Sequential


@pytest.fixture(scope="module")
def keras():
    return keras_oracle.load_keras()


def _x(seed=0):
    x = np.random.default_rng(seed).standard_normal((16, 6, 3))
    x[:5, 4:] = 0          # padded ends
    x[5:9, :2] = 0         # padded starts
    x[10, 2] = 0           # a hole
    return x


def _pair(rs):
    stack = [layers.Input((None, 3), dtype="float64"), layers.Masking(),
             layers.GRU(4, return_sequences=True), layers.LSTM(3, return_sequences=rs),
             layers.Dense(2)]
    return Sequential(stack)


@pytest.mark.parametrize("rs", [True, False])
def test_masked_model_gradients_and_loss(rs):
    m = _pair(rs)
    m.compile(optimizer="adam", loss="mse")
    x = _x()
    y = np.random.default_rng(1).standard_normal((16, 6, 2) if rs else (16, 2))
    loss, grads = m.loss_and_gradients(x, y)
    pred = m.predict(x, verbose=0)
    if rs:   # mean over the valid steps only
        valid = np.any(x != 0, -1)
        assert loss == pytest.approx(((pred - y) ** 2).mean(-1)[valid].mean(), rel=1e-10)
    else:
        assert loss == pytest.approx(((pred - y) ** 2).mean(), rel=1e-10)
    w = m.trainable_weights[1]          # the GRU's recurrent kernel
    for i in [(0, 0), (1, 5), (3, 11)]:
        old = w[i]
        w[i] = old + 1e-6
        up = m.loss_and_gradients(x, y)[0]
        w[i] = old - 1e-6
        down = m.loss_and_gradients(x, y)[0]
        w[i] = old
        assert grads[1][i] == pytest.approx((up - down) / 2e-6, rel=1e-5, abs=1e-9)
    h = m.fit(x, y, epochs=3, verbose=0)
    assert m.fused_fit_info["fused"]   # tests/nn/test_fused_masking.py: same as the Python path
    assert h.history["loss"][-1] < h.history["loss"][0]


def test_masked_steps_do_not_change_the_output():
    m = _pair(False)
    x = _x()
    x2 = x.copy()
    x2[:5, 4:] = 0.0
    base = m.predict(x[:5, :4], verbose=0)   # the valid prefix alone
    np.testing.assert_allclose(m.predict(x2[:5], verbose=0), base, rtol=1e-12)


def test_masking_must_be_first():
    m = Sequential([layers.Input((6, 3)), layers.Dense(3), layers.Masking(), layers.GRU(2)])
    with pytest.raises(ValueError, match="as the first layer"):
        m.predict(np.ones((2, 6, 3)), verbose=0)


@pytest.mark.parametrize("rs", [True, False])
def test_masking_matches_keras(keras, rs):
    x = _x().astype(np.float32)
    y = np.random.default_rng(1).standard_normal((16, 6, 2) if rs else (16, 2)).astype(np.float32)
    k = keras.Sequential([keras.Input((6, 3)), keras.layers.Masking(),
                          keras.layers.GRU(4, return_sequences=True),
                          keras.layers.LSTM(3, return_sequences=rs), keras.layers.Dense(2)])
    f = Sequential([layers.Input((6, 3)), layers.Masking(), layers.GRU(4, return_sequences=True),
                    layers.LSTM(3, return_sequences=rs), layers.Dense(2)])
    f.set_weights(k.get_weights())
    np.testing.assert_allclose(f.predict(x, verbose=0), k.predict(x, verbose=0), atol=1e-6)
    k.compile(optimizer="adam", loss="mse")
    f.compile(optimizer="adam", loss="mse")
    assert f.evaluate(x, y, batch_size=5, verbose=0) == pytest.approx(
        k.evaluate(x, y, batch_size=5, verbose=0), rel=1e-5)
    want = k.fit(x, y, epochs=3, batch_size=5, shuffle=False, verbose=0).history["loss"]
    got = f.fit(x, y, epochs=3, batch_size=5, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(got, want, rtol=1e-5)
