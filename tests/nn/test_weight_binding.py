"""Explicit weight binding: the model hands each layer views of its flat parameter vector
(``weight_shapes()`` / ``bind_weights(views)``), so a layer that holds another one can pass the
views on and its child trains through the model."""

from __future__ import annotations

import numpy as np
import pytest

from fastrnn import layers
from fastrnn.nn.layers import Layer
from fastrnn.nn.sequential import Sequential


class Wrapper(Layer):
    """A minimal wrapper (the shape of a future Bidirectional): all its weights are its child's."""

    def __init__(self, inner, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner

    def build(self, input_shape, dtype=None, rng=None):
        self.inner.build(input_shape, dtype, rng)
        self.dtype, self.input_shape, self.built = self.inner.dtype, tuple(input_shape), True

    @property
    def weights(self):
        return self.inner.weights

    @property
    def trainable_weights(self):
        return self.inner.trainable_weights if self.trainable else []

    def weight_shapes(self):
        return self.inner.weight_shapes()

    def bind_weights(self, views):
        self.inner.bind_weights(views)

    def set_weights(self, weights):
        self.inner.set_weights(weights)

    def penalty(self):
        return self.inner.penalty()

    def set_fit_rng(self, rng):
        self.inner.set_fit_rng(rng)

    def compute_output_shape(self, input_shape):
        return self.inner.compute_output_shape(input_shape)

    def forward(self, x, training=False):
        return self.inner.forward(x, training=training)

    def backward(self, dy):
        dx = self.inner.backward(dy)
        self.grads = self.inner.grads
        return dx


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((48, 7, 2)).astype(np.float32)
    y = (x[:, :, 0].sum(axis=1, keepdims=True) * 0.3).astype(np.float32)
    return x, y


@pytest.mark.parametrize("cell", [layers.SimpleRNN, layers.LSTM, layers.GRU])
def test_the_child_of_a_wrapper_lives_in_the_flat_vector_and_trains(cell):
    x, y = _data()
    inner = cell(5)
    m = Sequential([Wrapper(inner, name="wrapper"), layers.Dense(1)])
    m.build((None, 7, 2), rng=1)
    assert m._flat_ok()
    for w in inner.weights:
        assert w.base is m._flat                      # the child's arrays are the model's memory
    np.testing.assert_array_equal(m._flat, np.concatenate([w.ravel() for w in m.weights]))
    saved = m._flat[0]
    m._flat[0] = 0.125                                # one memory: a write shows in the child
    assert inner.kernel.flat[0] == 0.125
    m._flat[0] = saved

    before = [w.copy() for w in inner.weights]
    m.compile(optimizer="adam", loss="mse")
    h = m.fit(x, y, epochs=8, batch_size=16, verbose=0, rng=2)
    assert not m.fused_fit_info["fused"]
    assert "layer 'wrapper' (Wrapper) has no fused implementation" in m.fused_fit_info["reason"]
    assert all(not np.array_equal(a, b) for a, b in zip(before, inner.weights))
    assert h.history["loss"][-1] < h.history["loss"][0]
    for w in inner.weights:
        assert w.base is m._flat

    # the wrapper trains exactly as the bare layer does
    plain = Sequential([cell(5), layers.Dense(1)])
    plain.build((None, 7, 2), rng=1)
    plain.compile(optimizer="adam", loss="mse")
    hp = plain.fit(x, y, epochs=8, batch_size=16, verbose=0, fused=False, rng=2)
    assert hp.history["loss"] == h.history["loss"]
    for a, b in zip(plain.get_weights(), m.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_bind_weights_copies_values_and_checks_the_views():
    layer = layers.LSTM(3)
    layer.build((None, 4, 2))
    values = layer.get_weights()
    assert layer.weight_shapes() == [(2, 12), (3, 12), (12,)]
    views = [np.zeros(s, np.float32) for s in layer.weight_shapes()]
    layer.bind_weights(views)
    for v, w, val in zip(views, layer.weights, values):
        assert w is v
        np.testing.assert_array_equal(v, val)
    with pytest.raises(ValueError, match="has 3 trainable weight arrays, got 2 views"):
        layer.bind_weights(views[:2])
    with pytest.raises(ValueError, match=r"a view of shape \(12, 2\) cannot hold a weight of "
                                         r"shape \(2, 12\)"):
        layer.bind_weights([views[0].T] + views[1:])


def test_a_non_trainable_layer_binds_nothing():
    m = Sequential([layers.LSTM(3, trainable=False), layers.Dense(1)])
    m.build((None, 4, 2))
    assert m.layers[0].weight_shapes() == []
    assert m._flat.size == 3 + 1
