"""Bidirectional wrappers and go_backwards recurrent layers in the fused trainer: a seeded fit
gives the weights and the loss history of the Python path (``fit(fused=False)``, the
reference), for every cell, stacked, with ``dropout=``, under a Masking layer's step mask, with
a sequence output or one vector, and for every merge mode."""

from __future__ import annotations

import numpy as np
import pytest

from fastrnn import backends, layers
from fastrnn.nn.sequential import Sequential
from fused_parity import TOL, check_same, fit_both, padded_x

pytestmark = pytest.mark.skipif(backends.fused_trainer()[0] is None,
                                reason="no compiled trainer here")

CELLS = ["SimpleRNN", "LSTM", "GRU"]


def _x(dtype, n=37, masked=False):
    if masked:
        return padded_x(dtype, n)
    return np.random.default_rng(0).standard_normal((n, 6, 3)).astype(dtype)


def _y(dtype, rs, units=2, n=37):
    shape = (n, 6, units) if rs else (n, units)
    return np.random.default_rng(1).standard_normal(shape).astype(dtype)


# -- go_backwards ------------------------------------------------------------------------------
def _backwards_model(dtype, cell, rs, dropout=0.0, masking=False, zero_output=False):
    C = getattr(layers, cell)
    head = [layers.Masking()] if masking else []
    return Sequential([layers.Input((6, 3), dtype=dtype), *head,
                       C(4, return_sequences=True, go_backwards=True, dropout=dropout, seed=3,
                         zero_output_for_mask=zero_output),
                       C(3, return_sequences=rs, go_backwards=True, dropout=dropout,
                         zero_output_for_mask=zero_output),
                       layers.Dense(2)])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("rs", [True, False])
def test_fused_go_backwards_fit_equals_python_path(dtype, cell, rs):
    x, y = _x(dtype), _y(dtype, rs)
    ref, got = fit_both(lambda: _backwards_model(dtype, cell, rs, dropout=0.25), x, y)
    check_same(ref, got, dtype)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("rs", [True, False])
@pytest.mark.parametrize("zero_output", [False, True])
def test_fused_go_backwards_under_a_mask_equals_python_path(cell, rs, zero_output):
    x, y = _x("float64", masked=True), _y("float64", rs)
    ref, got = fit_both(lambda: _backwards_model("float64", cell, rs, 0.25, True, zero_output),
                         x, y)
    check_same(ref, got, "float64")


def test_go_backwards_changes_the_fused_result():
    """The same model reading forwards trains differently: the reversal is used."""
    x, y = _x("float64"), _y("float64", True)
    back = fit_both(lambda: _backwards_model("float64", "GRU", True), x, y, epochs=1)[1]
    fwd = fit_both(lambda: Sequential([layers.Input((6, 3), dtype="float64"),
                                        layers.GRU(4, return_sequences=True),
                                        layers.GRU(3, return_sequences=True),
                                        layers.Dense(2)]), x, y, epochs=1)[1]
    assert back[0]["fused"] and fwd[0]["fused"]
    assert abs(back[1][0] - fwd[1][0]) > 1e-6


# -- Bidirectional -----------------------------------------------------------------------------
def _bidi_model(dtype, cell, rs, merge="concat", dropout=0.0, masking=False, zero_output=False,
                seed=None):
    C = getattr(layers, cell)
    head = [layers.Masking()] if masking else []
    return Sequential([layers.Input((6, 3), dtype=dtype), *head,
                       layers.Bidirectional(C(4, return_sequences=True, dropout=dropout,
                                              seed=seed, zero_output_for_mask=zero_output),
                                            merge_mode=merge),
                       layers.Bidirectional(C(3, return_sequences=rs, dropout=dropout,
                                              zero_output_for_mask=zero_output),
                                            merge_mode=merge),
                       layers.Dense(2)])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("rs", [True, False])
@pytest.mark.parametrize("merge", ["concat", "sum", "mul", "ave"])
def test_fused_bidirectional_fit_equals_python_path(dtype, cell, rs, merge):
    x, y = _x(dtype), _y(dtype, rs)
    ref, got = fit_both(lambda: _bidi_model(dtype, cell, rs, merge, dropout=0.25), x, y)
    check_same(ref, got, dtype)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("rs", [True, False])
@pytest.mark.parametrize("zero_output", [False, True])
def test_fused_bidirectional_under_a_mask_equals_python_path(cell, rs, zero_output):
    x, y = _x("float64", masked=True), _y("float64", rs)
    ref, got = fit_both(lambda: _bidi_model("float64", cell, rs, "concat", 0.25, True,
                                             zero_output), x, y)
    check_same(ref, got, "float64")


def test_fused_bidirectional_with_seeded_halves_and_a_backward_layer():
    """Seeded halves draw their dropout masks from their own generators; an explicit
    backward_layer (other units, no dropout) merges by concat."""
    dtype = "float64"

    def make():
        return Sequential([layers.Input((6, 3), dtype=dtype),
                           layers.Bidirectional(
                               layers.LSTM(4, return_sequences=True, dropout=0.3, seed=7),
                               backward_layer=layers.GRU(2, return_sequences=True,
                                                         go_backwards=True)),
                           layers.Bidirectional(layers.SimpleRNN(3, dropout=0.2, seed=11)),
                           layers.Dense(2)])
    x, y = _x(dtype), _y(dtype, False)
    ref, got = fit_both(make, x, y)
    check_same(ref, got, dtype)


def test_bidirectional_halves_both_count_in_the_fused_result():
    """Zeroing the backward half's kernels changes the fused fit: both halves are used."""
    x, y = _x("float64"), _y("float64", False)
    full = fit_both(lambda: _bidi_model("float64", "LSTM", False, "sum"), x, y, epochs=1)
    assert full[1][0]["fused"] is True
    m = _bidi_model("float64", "LSTM", False, "sum")
    m.compile(optimizer="adam", loss="mse")
    m.predict(x[:1], verbose=0)
    w = [a.copy() for a in full[0][2]]
    m.set_weights(w)
    before = m.predict(x, verbose=0)
    bw = m.layers[0].backward_layer
    bw.set_weights([np.zeros_like(a) for a in bw.get_weights()])
    assert np.abs(m.predict(x, verbose=0) - before).max() > 1e-6


def test_merge_mode_none_is_not_fused():
    from fastrnn.nn.layers.base import NotFused
    layer = layers.Bidirectional(layers.LSTM(2), merge_mode=None)
    layer.build((None, 4, 3))
    with pytest.raises(NotFused, match="merge_mode=None"):
        layer.fused_spec((None, 4, 3), list(range(6)), "cpp")


# -- stateful ----------------------------------------------------------------------------------
def _stateful_model(dtype, cell, rs, dropout=0.0, bidirectional=False, go_backwards=False):
    C = getattr(layers, cell)

    def rec(units, seqs, **kw):
        layer = C(units, return_sequences=seqs, stateful=True, dropout=dropout,
                  go_backwards=go_backwards, **kw)
        return layers.Bidirectional(layer) if bidirectional else layer
    return Sequential([layers.Input((6, 3), batch_size=8, dtype=dtype),
                       rec(4, True, seed=3), rec(3, rs), layers.Dense(2)])


def _stateful_units(model):
    return [u for layer in model.layers for u in getattr(layer, "_children", (layer,))
            if getattr(u, "stateful", False)]


def _fit_stateful_both(make, x, y, epochs=3, reset_between=False, **fit_kw):
    """(info, history, weights, states) of the Python path and of the fused path from the same
    initial weights, fit seed and states; each fit is run twice (epochs each), the states
    carried from the first into the second (or reset between them)."""
    out, w0 = [], None
    for fused in (False, None):
        m = make()
        m.compile(optimizer="adam", loss="mse")
        if w0 is None:
            w0 = m.get_weights()
        else:
            m.set_weights(w0)
        hist = []
        for k in range(2):
            h = m.fit(x, y, epochs=epochs, batch_size=8, verbose=0, fused=fused, rng=5 + k,
                      **fit_kw)
            hist += h.history["loss"]
            if reset_between:
                m.reset_states()
        states = [s.copy() for u in _stateful_units(m) for s in u.states]
        out.append((m.fused_fit_info, hist, m.get_weights(), states))
    return out


def _check_same_states(ref, got, dtype):
    check_same(ref, got, dtype)
    tol = TOL[dtype]
    assert len(got[3]) == len(ref[3]) > 0
    for a, b in zip(got[3], ref[3]):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("rs", [True, False])
@pytest.mark.parametrize("shuffle", [True, False])
def test_fused_stateful_fit_equals_python_path(dtype, cell, rs, shuffle):
    x, y = _x(dtype, n=40), _y(dtype, rs, n=40)
    ref, got = _fit_stateful_both(lambda: _stateful_model(dtype, cell, rs, dropout=0.25), x, y,
                                  shuffle=shuffle)
    _check_same_states(ref, got, dtype)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bidirectional, go_backwards", [(True, False), (False, True)])
def test_fused_stateful_bidirectional_and_backwards_equal_python_path(cell, bidirectional,
                                                                     go_backwards):
    x, y = _x("float64", n=40), _y("float64", False, n=40)
    ref, got = _fit_stateful_both(
        lambda: _stateful_model("float64", cell, False, 0.25, bidirectional, go_backwards), x, y)
    _check_same_states(ref, got, "float64")


def test_fused_stateful_reset_states_between_fits_equals_python_path():
    x, y = _x("float64", n=40), _y("float64", True, n=40)
    ref, got = _fit_stateful_both(lambda: _stateful_model("float64", "LSTM", True), x, y,
                                  reset_between=True)
    _check_same_states(ref, got, "float64")
    assert all(np.abs(s).sum() == 0 for s in got[3])   # reset after the last fit


def test_fused_stateful_one_batch_and_validation_equal_python_path():
    """n below batch_size (one batch of n: the states get n rows) and a validation split (the
    evaluation between epochs moves the states on the Python path: the fused one reads them)."""
    dtype = "float64"

    def make():
        return Sequential([layers.Input((6, 3), dtype=dtype),
                           layers.GRU(3, stateful=True), layers.Dense(2)])
    x, y = _x(dtype, n=40), _y(dtype, False, n=40)
    ref, got = _fit_stateful_both(make, x[:6], y[:6])
    _check_same_states(ref, got, dtype)
    assert got[3][0].shape == (6, 3)
    ref, got = _fit_stateful_both(make, x, y, validation_split=0.2)
    _check_same_states(ref, got, dtype)


def test_the_carried_states_change_the_fused_result():
    """The same fit with the states reset before every epoch differs: they are carried."""
    from fastrnn import callbacks

    class Reset(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.model.reset_states()
    x, y = _x("float64", n=40), _y("float64", False, n=40)
    carried = _fit_stateful_both(lambda: _stateful_model("float64", "LSTM", False), x, y)[1]
    reset = _fit_stateful_both(lambda: _stateful_model("float64", "LSTM", False), x, y,
                               callbacks=[Reset()])[1]
    assert carried[0]["fused"] and reset[0]["fused"]
    assert abs(carried[1][-1] - reset[1][-1]) > 1e-8


def test_stateful_fits_the_python_path_refuses_are_not_fused():
    """A last partial batch, or held states of another batch size: the Python path's error."""
    x, y = _x("float64", n=37), _y("float64", False, n=37)
    m = _stateful_model("float64", "GRU", False)
    m.compile(optimizer="adam", loss="mse")
    ok, why = m.fused_training_plan(x, y, batch_size=8)
    assert not ok and "last batch of 5" in why
    with pytest.raises(ValueError, match="holds states for batches of 8"):
        m.fit(x, y, batch_size=8, epochs=1, verbose=0)
    m2 = _stateful_model("float64", "GRU", False)
    m2.compile(optimizer="adam", loss="mse")
    m2.predict(x[:4], batch_size=4, verbose=0)
    ok, why = m2.fused_training_plan(x[:32], y[:32], batch_size=8)
    assert not ok and "holds states for batches of 4" in why
