"""Keras 3's ``keras/src/layers/rnn/simple_rnn_test.py`` (3.15.1), ported: the same cases and
expected arrays, through fastrnn's layers (``unroll=True`` cases kept: it has no effect)."""

from __future__ import annotations

import numpy as np
import pytest
from keras_port import CONST, close, run_layer_test

from fastrnn import layers


def test_basics():
    run_layer_test(layers.SimpleRNN, {"units": 3, "dropout": 0.5, "recurrent_dropout": 0.5},
                   (3, 2, 4), (3, 3), call_kwargs={"training": True},
                   expected_num_trainable_weights=3, expected_num_non_trainable_weights=0,
                   supports_masking=True)
    run_layer_test(layers.SimpleRNN, {"units": 3, "return_sequences": True,
                                      "bias_regularizer": "l1", "kernel_regularizer": "l2",
                                      "recurrent_regularizer": "l2"},
                   (3, 2, 4), (3, 2, 3), expected_num_losses=3,
                   expected_num_trainable_weights=3, expected_num_non_trainable_weights=0,
                   supports_masking=True)


SEQ = np.arange(24).reshape((2, 3, 4)).astype("float32")
SEQ2 = np.arange(24).reshape((2, 4, 3)).astype("float32")
MASK = np.array([[True, True, False, True], [True, False, False, True]])


@pytest.mark.parametrize("kw,want", [
    ({}, [[0.405432] * 4, [0.73605347] * 4]),
    ({"unroll": True}, [[0.405432] * 4, [0.73605347] * 4]),
    ({"go_backwards": True}, [[0.11144729] * 4, [0.5528889] * 4]),
    ({"go_backwards": True, "unroll": True}, [[0.11144729] * 4, [0.5528889] * 4]),
])
def test_correctness(kw, want):
    close(layers.SimpleRNN(4, **CONST, **kw)(SEQ), want)


def test_statefulness():
    layer = layers.SimpleRNN(4, stateful=True, **CONST)
    layer(SEQ)
    close(layer(SEQ), [[0.40559256] * 4, [0.7361247] * 4])
    layer.reset_state()
    layer(SEQ)
    close(layer(SEQ), [[0.40559256] * 4, [0.7361247] * 4])


def test_pass_initial_state():
    initial_state = np.arange(8).reshape((2, 4)).astype("float32")
    close(layers.SimpleRNN(4, **CONST)(SEQ2, initial_state=initial_state),
          [[0.33621645] * 4, [0.6262637] * 4])
    close(layers.SimpleRNN(4, go_backwards=True, **CONST)(SEQ2, initial_state=initial_state),
          [[0.07344437] * 4, [0.43043602] * 4])


def test_masking():
    close(layers.SimpleRNN(4, unroll=True, **CONST)(SEQ2, mask=MASK),
          [[0.32951632] * 4, [0.61799484] * 4])
    out = layers.SimpleRNN(2, return_sequences=True, **CONST)(SEQ2, mask=MASK)
    close(out[0], [[0.0599281] * 2, [0.15122814] * 2, [0.15122814] * 2, [0.32394567] * 2])
    close(out[1], [[0.3969304] * 2, [0.3969304] * 2, [0.3969304] * 2, [0.608085] * 2])
    out = layers.SimpleRNN(2, return_sequences=True, zero_output_for_mask=True, **CONST)(
        SEQ2, mask=MASK)
    close(out[0], [[0.0599281] * 2, [0.15122814] * 2, [0.0] * 2, [0.32394567] * 2])
    close(out[1], [[0.3969304] * 2, [0.0] * 2, [0.0] * 2, [0.608085] * 2])
    close(layers.SimpleRNN(4, go_backwards=True, **CONST)(SEQ2, mask=MASK),
          [[0.07376196] * 4, [0.43645123] * 4])
