"""Each layer answers for itself whether and how it runs in the compiled trainer
(``Layer.fused_spec``); these checks need no compiled core."""

from __future__ import annotations

import pytest

from fastrnn import cells, layers, regularizers
from fastrnn.nn.layers import FusedSpec, NotFused


def test_dense_spec_offsets_and_penalties():
    d = layers.Dense(3, activation="tanh", kernel_regularizer=regularizers.L2(0.1))
    d.build((None, 4))
    fs = d.fused_spec((None, 4), [10, 22], "numpy")
    assert isinstance(fs, FusedSpec)
    assert fs.spec == {"steps": 1, "in": 4, "units": 3, "kind": "dense",
                       "dense_activation": "tanh", "w": 10, "b": 22}
    assert fs.arrays == [(10, 12, 0.0, 0.1), (22, 3, 0.0, 0.0)]
    assert fs.noise is None


@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.LSTM, layers.GRU])
def test_recurrent_spec_reads_the_cell_table(cls):
    layer = cls(5, dropout=0.25, return_sequences=True, use_bias=False, backend="numpy")
    layer.build((None, 7, 2))
    fs = layer.fused_spec((None, 7, 2), [0, 40], "numpy")
    cell = cls.cell
    assert fs.spec["kind"] == cell.name and cell is cells.by_keras_class(cls.__name__)
    assert (fs.spec["w"], fs.spec["u"], fs.spec["b"]) == (0, 40, -1)
    assert fs.spec["steps"] == 7 and fs.spec["in"] == 2 and fs.spec["units"] == 5
    assert fs.spec["dropout"] is True and fs.noise == (2, 0.25)
    assert [a[1] for a in fs.arrays] == [2 * 5 * cell.gates, 5 * 5 * cell.gates]


def test_dropout_spec_draws_one_mask_entry_per_input_value():
    d = layers.Dropout(0.5)
    fs = d.fused_spec((None, 6, 3), [], "numpy")
    assert fs.spec["kind"] == "dropout" and fs.noise == (18, 0.5) and fs.arrays == []


class _Sub(layers.Dense):
    pass


@pytest.mark.parametrize("make, shape, why", [
    (lambda: _Sub(2), (None, 3), "layer '.*' \\(_Sub\\) has no fused implementation"),
    (lambda: layers.Dense(2, trainable=False), (None, 3), "is not trainable"),
    (lambda: layers.Dense(2, kernel_regularizer=regularizers.Regularizer()), (None, 3),
     "regularizer Regularizer has no fused implementation"),
    (lambda: layers.Dropout(0.2, noise_shape=(None, 1, 3)), (None, 4, 3), "noise_shape"),
    (lambda: layers.LSTM(2, backend="numpy"), (None, 4, 3), "runs on the 'numpy' backend"),
    (lambda: layers.LSTM(2, recurrent_dropout=0.1, backend="numpy"), (None, 4, 3),
     "recurrent_dropout"),
    (lambda: layers.Bidirectional(layers.GRU(2), merge_mode=None), (None, 4, 3),
     "merge_mode=None"),
])
def test_a_layer_says_why_it_is_not_fused(make, shape, why):
    layer = make()
    layer.build(shape)
    offsets = list(range(len(layer.trainable_weights)))
    trainer = "cpp" if "backend" in why else "numpy"
    with pytest.raises(NotFused, match=why):
        layer.fused_spec(shape, offsets, trainer)


def test_the_base_layer_is_not_fused():
    with pytest.raises(NotFused, match="no fused implementation"):
        layers.Layer().fused_spec((None, 3), [], "cpp")
