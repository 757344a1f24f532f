"""What the ports of Keras's recurrent-layer tests share: the constant initialisers Keras's
cases use, and ``run_layer_test``, fastrnn's reading of Keras's ``testing.TestCase``
helper of that name (output shape, weight counts, regularisation terms, masking support, a
training call and the config round trip)."""

from __future__ import annotations

import numpy as np

from fastrnn import initializers

CONST = {"kernel_initializer": initializers.Constant(0.01),
         "recurrent_initializer": initializers.Constant(0.02),
         "bias_initializer": initializers.Constant(0.03)}

ATOL = RTOL = 1e-5     # Keras's assertAllClose in these tests (1e-6 default, 1e-5 given)


def close(got, want):
    np.testing.assert_allclose(np.asarray(got), np.asarray(want, np.float32), atol=ATOL, rtol=RTOL)


def run_layer_test(cls, init_kwargs, input_shape, expected_output_shape, call_kwargs=None,
                   expected_num_trainable_weights=None, expected_num_non_trainable_weights=None,
                   expected_num_losses=None, supports_masking=None):
    """Keras's checks that apply to fastrnn. (``expected_num_non_trainable_variables`` counts
    Keras's seed-generator state, which fastrnn does not have: not checked.)"""
    call_kwargs = call_kwargs or {}
    layer = cls(**init_kwargs)
    x = np.random.default_rng(0).random(input_shape).astype(np.float32)
    y = layer(x, **call_kwargs)
    assert y.shape == tuple(expected_output_shape)
    assert layer.compute_output_shape((None,) + tuple(input_shape[1:]))[1:] == y.shape[1:]
    if expected_num_trainable_weights is not None:
        assert len(layer.trainable_weights) == expected_num_trainable_weights
    if expected_num_non_trainable_weights is not None:
        assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights
    if expected_num_losses is not None:   # one penalty term per regularised weight
        assert sum(r is not None for r in layer.weight_regularizers()) == expected_num_losses
        assert layer.penalty() > 0
    if supports_masking:
        mask = np.ones(input_shape[:2], bool)
        np.testing.assert_allclose(layer(x, mask=mask), layer(x), rtol=1e-6)
    again = cls.from_config(layer.get_config())
    again.build((None,) + tuple(input_shape[1:]))
    again.set_weights(layer.get_weights())
    np.testing.assert_allclose(again(x), layer(x), rtol=1e-6)
    return layer
