"""Keras 3's ``keras/src/layers/rnn/gru_test.py`` (3.15.1), ported: the same cases and expected
arrays, through fastrnn's layers. Backend-specific cases (TensorFlow's symbolic batch size,
torch's cuDNN dispatch) have no fastrnn reading and are left out."""

from __future__ import annotations

import numpy as np
import pytest
from keras_port import CONST, close, run_layer_test

from fastrnn import layers


def test_basics():
    for kw in ({"units": 3, "dropout": 0.5}, {"units": 3, "dropout": 0.5, "recurrent_dropout": 0.5}):
        run_layer_test(layers.GRU, kw, (3, 2, 4), (3, 3), call_kwargs={"training": True},
                       expected_num_trainable_weights=3, expected_num_non_trainable_weights=0,
                       supports_masking=True)
    run_layer_test(layers.GRU, {"units": 3, "return_sequences": True, "bias_regularizer": "l1",
                                "kernel_regularizer": "l2", "recurrent_regularizer": "l2"},
                   (3, 2, 4), (3, 2, 3), expected_num_losses=3,
                   expected_num_trainable_weights=3, expected_num_non_trainable_weights=0,
                   supports_masking=True)


SEQ72 = np.arange(72).reshape((3, 6, 4)).astype("float32")
SEQ = np.arange(24).reshape((2, 3, 4)).astype("float32")
SEQ2 = np.arange(24).reshape((2, 4, 3)).astype("float32")
PLAIN = [[0.5217289] * 3, [0.6371659] * 3, [0.39384964] * 3]


@pytest.mark.parametrize("implementation", [1, 2])
@pytest.mark.parametrize("kw,want", [
    ({}, PLAIN),
    ({"go_backwards": True}, [[0.24406259] * 3, [0.611516] * 3, [0.3928808] * 3]),
    ({"unroll": True}, PLAIN),
    ({"reset_after": False}, [[0.51447755] * 3, [0.6426879] * 3, [0.40208298] * 3]),
    ({"use_bias": False}, [[0.49988455] * 3, [0.64701194] * 3, [0.4103359] * 3]),
])
def test_correctness(implementation, kw, want):
    close(layers.GRU(3, implementation=implementation, **CONST, **kw)(SEQ72), want)


def test_statefulness():
    layer = layers.GRU(4, stateful=True, **CONST)
    layer(SEQ)
    close(layer(SEQ), [[0.29542392] * 4, [0.5885018] * 4])
    layer.reset_state()
    layer(SEQ)
    close(layer(SEQ), [[0.29542392] * 4, [0.5885018] * 4])


INIT = np.arange(4).reshape((2, 2)).astype("float32")
FWD = [[0.23774096, 0.33508456], [0.83659905, 1.0227708]]
BWD = [[0.13486053, 0.23261218], [0.78257304, 0.9691353]]


def test_pass_initial_state():
    close(layers.GRU(2, **CONST)(SEQ2, initial_state=INIT), FWD)
    close(layers.GRU(2, go_backwards=True, **CONST)(SEQ2, initial_state=INIT), BWD)


def test_pass_return_state():
    for kw, want in (({}, FWD), ({"go_backwards": True}, BWD)):
        output, state = layers.GRU(2, return_state=True, **CONST, **kw)(SEQ2, initial_state=INIT)
        close(output, want)
        close(output, state)


def test_masking():
    mask = np.array([[True, True, False, True], [True, False, False, True]])
    close(layers.GRU(2, unroll=True, **CONST)(SEQ2, mask=mask),
          [[0.19393763] * 2, [0.30818558] * 2])
    out = layers.GRU(2, return_sequences=True, **CONST)(SEQ2, mask=mask)
    close(out[0], [[0.03606692] * 2, [0.09497581] * 2, [0.09497581] * 2, [0.19393763] * 2])
    close(out[1], [[0.16051409] * 2, [0.16051409] * 2, [0.16051409] * 2, [0.30818558] * 2])
    out = layers.GRU(2, return_sequences=True, zero_output_for_mask=True, **CONST)(SEQ2, mask=mask)
    close(out[0], [[0.03606692] * 2, [0.09497581] * 2, [0.0] * 2, [0.19393763] * 2])
    close(out[1], [[0.16051409] * 2, [0.0] * 2, [0.0] * 2, [0.30818558] * 2])
    close(layers.GRU(2, go_backwards=True, **CONST)(SEQ2, mask=mask),
          [[0.11669192] * 2, [0.28380975] * 2])


def test_legacy_implementation_argument():
    layer = layers.GRU(3, **CONST)
    config = layer.get_config()
    config["implementation"] = 0  # Keras's legacy value
    close(layers.GRU.from_config(config)(SEQ72), PLAIN)
