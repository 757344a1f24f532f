"""Masking models in the fused trainer: a seeded fit gives the weights and the loss history of
the Python path (``fit(fused=False)``, the reference), for every cell, stacked, with
``dropout=``, ``zero_output_for_mask``, a sequence output (whose loss the mask weighs, per batch)
or one vector, sample weights and a mask_value other than 0."""

from __future__ import annotations

import numpy as np
import pytest

from fastrnn import backends, layers
from fastrnn.nn.sequential import Sequential
from fused_parity import check_same, fit_both, padded_x

pytestmark = pytest.mark.skipif(backends.fused_trainer()[0] is None,
                                reason="no compiled trainer here")


def _x(dtype, mask_value=0.0, n=37):
    return padded_x(dtype, n, mask_value)


def _model(dtype, cell, rs, zero_output=False, dropout=0.0, mask_value=0.0, head=()):
    C = getattr(layers, cell)
    return Sequential([layers.Input((6, 3), dtype=dtype), layers.Masking(mask_value),
                       C(4, return_sequences=True, dropout=dropout, seed=3,
                         zero_output_for_mask=zero_output),
                       C(3, return_sequences=rs, zero_output_for_mask=zero_output),
                       *head, layers.Dense(2)])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cell", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("rs", [True, False])
@pytest.mark.parametrize("zero_output", [False, True])
def test_fused_masked_fit_equals_python_path(dtype, cell, rs, zero_output):
    x = _x(dtype)
    y = np.random.default_rng(1).standard_normal((37, 6, 2) if rs else (37, 2)).astype(dtype)
    ref, got = fit_both(lambda: _model(dtype, cell, rs, zero_output, dropout=0.25), x, y)
    check_same(ref, got, dtype)


def test_the_mask_changes_the_fused_result():
    """Without the mask (the same layers, no Masking) the fit differs: the mask is used."""
    x = _x("float64")
    y = np.random.default_rng(1).standard_normal((37, 6, 2))
    masked = fit_both(lambda: _model("float64", "LSTM", True), x, y)[1]
    plain = Sequential([layers.Input((6, 3), dtype="float64"),
                        layers.LSTM(4, return_sequences=True, seed=3),
                        layers.LSTM(3, return_sequences=True), layers.Dense(2)])
    plain.compile(optimizer="adam", loss="mse")
    plain.predict(x[:1], verbose=0)
    plain.set_weights(masked[2])
    assert not np.allclose(plain.predict(x, verbose=0),
                           _predict_with(masked[2], x), atol=1e-3)


def _predict_with(weights, x):
    m = _model("float64", "LSTM", True)
    m.predict(x[:1], verbose=0)
    m.set_weights(weights)
    return m.predict(x, verbose=0)


@pytest.mark.parametrize("rs", [True, False])
def test_zero_output_for_mask_matters_on_the_fused_path(rs):
    x = _x("float64")
    y = np.random.default_rng(1).standard_normal((37, 6, 2) if rs else (37, 2))
    a = fit_both(lambda: _model("float64", "GRU", rs, zero_output=False), x, y)[1]
    b = fit_both(lambda: _model("float64", "GRU", rs, zero_output=True), x, y)[1]
    assert a[0]["fused"] and b[0]["fused"]
    assert not np.allclose(a[1], b[1], rtol=1e-8)


@pytest.mark.parametrize("rs", [True, False])
def test_fused_masked_fit_with_sample_weight(rs):
    x = _x("float64")
    y = np.random.default_rng(1).standard_normal((37, 6, 2) if rs else (37, 2))
    sw = np.random.default_rng(2).uniform(0.0, 2.0, 37)
    ref, got = fit_both(lambda: _model("float64", "LSTM", rs), x, y, sample_weight=sw)
    check_same(ref, got, "float64")


def test_fused_masked_fit_with_a_nonzero_mask_value():
    """The mask is that of the Masking layer's input (Keras's rule), on both paths."""
    x = _x("float64", mask_value=-1.0)
    y = np.random.default_rng(1).standard_normal((37, 6, 2))
    ref, got = fit_both(lambda: _model("float64", "GRU", True, mask_value=-1.0), x, y)
    check_same(ref, got, "float64")
    # the masked steps do not count: the padded ends change nothing in the valid outputs
    m = Sequential([layers.Input((None, 3), dtype="float64"), layers.Masking(-1.0),
                    layers.GRU(3)])
    x2 = x.copy()
    x2[:5, 4:] = -1.0
    np.testing.assert_allclose(m.predict(x2[:5], verbose=0), m.predict(x[:5, :4], verbose=0),
                               rtol=1e-12)


def test_fused_masked_fit_with_dense_and_dropout_between():
    """Dense and Dropout layers on sequences pass the mask on to the next recurrent layer and to
    the output."""
    x = _x("float64")
    y = np.random.default_rng(1).standard_normal((37, 6, 2))

    def make():
        return Sequential([layers.Input((6, 3), dtype="float64"), layers.Masking(),
                           layers.Dense(5, activation="tanh"), layers.Dropout(0.2, seed=4),
                           layers.SimpleRNN(4, return_sequences=True), layers.Dense(2)])
    ref, got = fit_both(make, x, y)
    check_same(ref, got, "float64")


def test_fit_seed_like_masked_model_is_fused():
    x = _x("float32", n=200)
    y = np.random.default_rng(1).standard_normal((200, 1)).astype(np.float32)

    def make():
        return Sequential([layers.Input((6, 3)), layers.Masking(), layers.LSTM(4),
                           layers.Dense(1)])
    ref, got = fit_both(make, x, y)
    check_same(ref, got, "float32")


def test_masking_not_first_stays_an_error():
    m = Sequential([layers.Input((6, 3)), layers.Dense(3), layers.Masking(), layers.GRU(2)])
    m.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="as the first layer"):
        m.fit(np.ones((4, 6, 3), np.float32), np.ones((4, 2), np.float32), verbose=0)


def test_the_core_takes_masking_only_first():
    trainer_cls = backends.fused_trainer()[1]
    dense = {"kind": "dense", "steps": 6, "in": 3, "units": 3, "w": 0, "b": 9}
    masking = {"kind": "masking", "steps": 6, "in": 3, "units": 3, "mask_value": 0.0}
    trainer_cls("float64", [masking, dense], [(0, 9, 0.0, 0.0), (9, 3, 0.0, 0.0)], 12,
                "mean_squared_error", False, 4)
    with pytest.raises(ValueError, match="must be the first layer"):
        trainer_cls("float64", [dense, masking], [(0, 9, 0.0, 0.0), (9, 3, 0.0, 0.0)], 12,
                    "mean_squared_error", False, 4)
