"""Keras 3's ``keras/src/layers/rnn/lstm_test.py`` (3.15.1), ported: the same cases and expected
arrays, through fastrnn's layers. (Keras's torch-only ``test_stateful_backward`` checks a
torch in-place bug; its fastrnn reading — a backward pass through a stateful layer — is kept.)"""

from __future__ import annotations

import numpy as np
import pytest
from keras_port import CONST, close, run_layer_test

from fastrnn import layers


def test_basics():
    for kw in ({"units": 3, "dropout": 0.5}, {"units": 3, "dropout": 0.5, "recurrent_dropout": 0.5}):
        run_layer_test(layers.LSTM, kw, (3, 2, 4), (3, 3), call_kwargs={"training": True},
                       expected_num_trainable_weights=3, expected_num_non_trainable_weights=0,
                       supports_masking=False)
    run_layer_test(layers.LSTM, {"units": 3, "return_sequences": True, "bias_regularizer": "l1",
                                 "kernel_regularizer": "l2", "recurrent_regularizer": "l2"},
                   (3, 2, 4), (3, 2, 3), expected_num_losses=3,
                   expected_num_trainable_weights=3, expected_num_non_trainable_weights=0)


SEQ72 = np.arange(72).reshape((3, 6, 4)).astype("float32")
SEQ = np.arange(24).reshape((2, 3, 4)).astype("float32")
SEQ2 = np.arange(24).reshape((2, 4, 3)).astype("float32")


@pytest.mark.parametrize("implementation", [1, 2])
@pytest.mark.parametrize("kw,want", [
    ({}, [[0.6288687] * 3, [0.86899155] * 3, [0.9460773] * 3]),
    ({"go_backwards": True}, [[0.35622165] * 3, [0.74789524] * 3, [0.8872726] * 3]),
    ({"unroll": True}, [[0.6288687] * 3, [0.86899155] * 3, [0.9460773] * 3]),
    ({"unit_forget_bias": False}, [[0.57019705] * 3, [0.8661914] * 3, [0.9459622] * 3]),
    ({"use_bias": False}, [[0.54986924] * 3, [0.86226785] * 3, [0.9443936] * 3]),
])
def test_correctness(implementation, kw, want):
    close(layers.LSTM(3, implementation=implementation, **CONST, **kw)(SEQ72), want)


def test_statefulness():
    layer = layers.LSTM(4, stateful=True, **CONST)
    layer(SEQ)
    close(layer(SEQ), [[0.3124785] * 4, [0.6863672] * 4])
    layer.reset_state()
    layer(SEQ)
    close(layer(SEQ), [[0.3124785] * 4, [0.6863672] * 4])


def test_pass_initial_state():
    initial_state = [np.arange(4).reshape((2, 2)).astype("float32")] * 2
    close(layers.LSTM(2, **CONST)(SEQ2, initial_state=initial_state),
          [[0.20574439, 0.3558822], [0.64930826, 0.66276]])
    close(layers.LSTM(2, go_backwards=True, **CONST)(SEQ2, initial_state=initial_state),
          [[0.13281618, 0.2790356], [0.5839337, 0.5992567]])


def test_masking():
    mask = np.array([[True, True, True, False], [True, True, False, False]])
    close(layers.LSTM(2, unroll=True, **CONST)(SEQ2, mask=mask),
          [[0.11755939] * 2, [0.28556206] * 2])
    out = layers.LSTM(2, return_sequences=True, **CONST)(SEQ2, mask=mask)
    close(out[0], [[0.01588910] * 2, [0.05552048] * 2, [0.11755939] * 2, [0.11755939] * 2])
    close(out[1], [[0.14185596] * 2, [0.28556206] * 2, [0.28556206] * 2, [0.28556206] * 2])
    out = layers.LSTM(2, return_sequences=True, zero_output_for_mask=True, **CONST)(SEQ2, mask=mask)
    close(out[0], [[0.01588910] * 2, [0.05552048] * 2, [0.11755939] * 2, [0.0] * 2])
    close(out[1], [[0.14185596] * 2, [0.28556206] * 2, [0.0] * 2, [0.0] * 2])
    backwards_mask = np.array([[False, True, True, True], [False, False, True, True]])
    close(layers.LSTM(2, go_backwards=True, **CONST)(SEQ2, mask=backwards_mask),
          [[0.15341201] * 2, [0.3844719] * 2])


def test_stateful_backward():
    layer = layers.LSTM(5, stateful=True)
    layer.build((None, 3, 4))
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    for _ in range(2):   # the second call starts from the carried state
        y = layer.forward(x, training=True)
        dx = layer.backward(np.ones_like(y))
        assert np.isfinite(dx).all() and all(np.isfinite(g).all() for g in layer.grads)
