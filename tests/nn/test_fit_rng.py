"""``Sequential.build(rng=)`` and ``Sequential.fit(rng=)``: reproducible, thread-safe draws that
leave the library's global generator alone."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from fastrnn import layers
from fastrnn.nn import seeding
from fastrnn.nn.sequential import Sequential


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((40, 6, 2)).astype(np.float32)
    y = x[:, -2:, 0].copy()
    return x, y


def _model(fused_ok=True):
    # no input_shape: fit(rng=) builds the model, so the initial weights come from rng too
    m = Sequential([layers.LSTM(5, dropout=0.2, return_sequences=True), layers.Dropout(0.3),
                    layers.GRU(3), layers.Dense(2)])
    m.compile(optimizer="adam", loss="mse")
    return m


def _global_state():
    return seeding.generator().bit_generator.state


@pytest.mark.parametrize("fused", [False, None])
def test_two_fits_with_the_same_int_seed_are_identical(fused):
    x, y = _data()
    before = _global_state()
    a, b = _model(), _model()
    ha = a.fit(x, y, epochs=3, batch_size=16, verbose=0, fused=fused, rng=7)
    hb = b.fit(x, y, epochs=3, batch_size=16, verbose=0, fused=fused, rng=7)
    assert ha.history["loss"] == hb.history["loss"]
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert _global_state() == before            # nothing drew from the global generator
    c = _model()
    hc = c.fit(x, y, epochs=3, batch_size=16, verbose=0, fused=fused, rng=8)
    assert hc.history["loss"] != ha.history["loss"]
    # after the fit, the layers draw their noise from the global generator again
    assert all(layer._fit_rng is None for layer in a.layers)


def test_generator_and_int_seed_give_the_same_fit():
    x, y = _data(1)
    a, b = _model(), _model()
    ha = a.fit(x, y, epochs=2, verbose=0, rng=np.random.default_rng(3))
    hb = b.fit(x, y, epochs=2, verbose=0, rng=3)
    assert ha.history["loss"] == hb.history["loss"]
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_a_generator_is_drawn_from_and_advanced():
    x, y = _data(2)
    gen = np.random.default_rng(5)
    state = gen.bit_generator.state
    _model().fit(x, y, epochs=1, verbose=0, rng=gen)
    assert gen.bit_generator.state != state


def test_build_rng_sets_the_initial_weights_and_spares_the_global_generator():
    before = _global_state()
    a, b = _model(), _model()
    a.build((None, 6, 2), rng=11)
    b.build((None, 6, 2), rng=np.random.default_rng(11))
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert _global_state() == before
    c = _model()
    c.build((None, 6, 2), rng=12)
    assert not np.array_equal(c.get_weights()[0], a.get_weights()[0])


def test_build_rng_matches_the_global_generator_seeded_alike():
    """rng=s draws what set_random_seed-then-build would draw (same order of draws)."""
    a = _model()
    a.build((None, 6, 2), rng=np.random.default_rng(21))
    saved = seeding._rng
    try:
        seeding._rng = np.random.default_rng(21)
        b = _model()
        b.build((None, 6, 2))
    finally:
        seeding._rng = saved
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_a_layer_seed_wins_over_rng():
    a = Sequential([layers.SimpleRNN(4, seed=1), layers.Dense(1)])
    b = Sequential([layers.SimpleRNN(4, seed=1), layers.Dense(1)])
    a.build((None, 3, 2), rng=1)
    b.build((None, 3, 2), rng=2)
    np.testing.assert_array_equal(a.layers[0].kernel, b.layers[0].kernel)
    assert not np.array_equal(a.layers[1].kernel, b.layers[1].kernel)


def test_concurrent_fits_are_reproducible():
    x, y = _data(3)

    def run(seed):
        m = _model()
        h = m.fit(x, y, epochs=2, verbose=0, rng=seed)
        return h.history["loss"], m.get_weights()

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(run, [4, 4, 4, 4]))
    for loss, ws in results[1:]:
        assert loss == results[0][0]
        for wa, wb in zip(ws, results[0][1]):
            np.testing.assert_array_equal(wa, wb)


@pytest.mark.parametrize("bad", ["7", 1.5, True, object(), np.random.RandomState(0)])
def test_a_bad_rng_raises_type_error_naming_it(bad):
    x, y = _data()
    m = _model()
    with pytest.raises(TypeError, match="rng"):
        m.fit(x, y, epochs=1, verbose=0, rng=bad)
    with pytest.raises(TypeError, match="rng"):
        _model().build((None, 6, 2), rng=bad)


def test_a_negative_seed_raises_value_error():
    with pytest.raises(ValueError, match="rng"):
        _model().build((None, 6, 2), rng=-1)
