"""Keras step masks in the kernels (issue 16): ``mask=`` of ``ops.<cell>_forward`` on every CPU
backend, the blend h_t = m h~_t + (1 - m) h_{t-1} (c likewise) forward and its exact gradients
backward, the errors for bad masks, the CUDA backend's refusal, and the recurrent layers running
a masked call through the kernels instead of the per-step Python loop.

Two independent references: the reference backend (``numpy``, its masked loop checked here by
finite differences) and a per-step loop written below from unmasked one-step calls and
``np.where``; every backend is compared with both.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BACKENDS, TOL, make_inputs, rel_err

from fastrnn import backends, layers, ops
from fastrnn.nn.layers import recurrent as _recurrent
from fastrnn.nn.layers import stepwise as _stepwise

CPU_BACKENDS = [b for b in BACKENDS if getattr(b, "values", (b,))[0] != "cuda"]
# (cell, reset_after): the GRU's two variants run different kernel code
VARIANTS = [("elman", True), ("lstm", True), ("gru", True), ("gru", False)]
VARIANT_IDS = ["elman", "lstm", "gru", "gru-cho"]
# (B, T, I, H): T = 0, T = 1, a narrow layer over many rows (the unmasked panel path), one wide
# enough to be split across threads
SHAPES = [(3, 0, 2, 4), (4, 1, 2, 3), (5, 7, 3, 6), (40, 6, 3, 4), (48, 9, 4, 33)]


def make_mask(kind, B, T, seed=1):
    """(B, T) bool masks with the cases that matter: rows all masked, leading and trailing
    masked steps, and random gaps."""
    rng = np.random.default_rng(seed)
    m = rng.random((B, T)) > 0.35
    if kind == "ones":
        return np.ones((B, T), bool)
    if kind == "zeros":
        return np.zeros((B, T), bool)
    if T > 0 and kind == "edges":
        m[0] = False                       # a sample with no valid step
        if B > 1:
            m[1, : max(1, T // 2)] = False  # leading masked steps
        if B > 2:
            m[2, -max(1, T // 2):] = False  # trailing masked steps
        if B > 3:
            m[3] = True
    return m


def _args(cell, inp, reset_after):
    a = [inp[k] for k in ("x", "W", "U", "b", "h0")]
    kw = {}
    if cell == "lstm":
        a.append(inp["c0"])
    if cell == "gru":
        kw["reset_after"] = reset_after
    return a, kw


def forward(cell, inp, backend, mask, reset_after=True):
    a, kw = _args(cell, inp, reset_after)
    return getattr(ops, f"{cell}_forward")(*a, mask=mask, backend=backend, **kw)


def backward(cell, cache, inp):
    kw = {"dh_seq": inp["dh_seq"], "dh_last": inp["dh_last"]}
    if cell == "lstm":
        kw["dc_last"] = inp["dc_last"]
    return list(getattr(ops, f"{cell}_backward")(cache, **kw))


def per_step_loop(cell, inp, mask, reset_after=True):
    """The masked recurrence from unmasked one-step calls of the reference backend: forward
    h_t = where(m, step(h_{t-1}), h_{t-1}); backward through each step's own cache, with a masked
    row's dh (and dc) handed to the step before. Returns (h_seq, h_last, c_last, grads)."""
    x = inp["x"]
    B, T, _ = x.shape
    lstm = cell == "lstm"
    h, c = inp["h0"], inp["c0"] if lstm else None
    caches, seq = [], np.zeros((B, T, inp["U"].shape[0]), x.dtype)
    for t in range(T):
        step = dict(inp, x=x[:, t:t + 1], h0=h, c0=c)
        r = forward(cell, step, "numpy", None, reset_after)
        caches.append(r.cache)
        m = mask[:, t:t + 1]
        h = np.where(m, r.h_last, h)
        if lstm:
            c = np.where(m, r.c_last, c)
        seq[:, t] = h
    dh, dc = inp["dh_last"].copy(), inp["dc_last"].copy() if lstm else None
    dx = np.zeros_like(x)
    dW, dU, db = (np.zeros_like(inp[k]) for k in ("W", "U", "b"))
    for t in reversed(range(T)):
        m = mask[:, t:t + 1].astype(x.dtype)
        dh = dh + inp["dh_seq"][:, t]
        kw = {"dh_seq": None, "dh_last": dh * m}
        if lstm:
            kw["dc_last"] = dc * m
        g = getattr(ops, f"{cell}_backward")(caches[t], **kw)
        dx[:, t] = g.dx[:, 0]
        dW, dU, db = dW + g.dW, dU + g.dU, db + g.db
        dh = g.dh0 + (1 - m) * dh
        if lstm:
            dc = g.dc0 + (1 - m) * dc
    grads = [dx, dW, dU, db, dh] + ([dc] if lstm else [])
    return seq, h, c, grads


def _assert_close(got, want, dtype, what):
    err = rel_err(got, want)
    assert err <= TOL[dtype], f"{what}: relative error {err:.3g} > {TOL[dtype]:g}"


# -- every backend against the reference and the per-step loop -------------------------------

@pytest.mark.parametrize("kind", ["random", "edges", "zeros"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_masked_forward_and_backward_match_both_references(backend, variant, dtype, shape, kind):
    cell, ra = variant
    B, T, I, H = shape
    inp64 = make_inputs(cell, B, T, I, H, np.float64, seed=3, reset_after=ra)
    inp = {k: v.astype(dtype) for k, v in inp64.items()}
    mask = make_mask(kind, B, T)
    want = forward(cell, inp64, "numpy", mask, ra)
    want_g = backward(cell, want.cache, inp64)
    loop_seq, loop_h, loop_c, loop_g = per_step_loop(cell, inp64, mask, ra)
    # the two references agree with each other ...
    np.testing.assert_allclose(want.h_seq, loop_seq, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(want.h_last, loop_h, rtol=1e-12, atol=1e-12)
    for a, b in zip(want_g, loop_g):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-11)
    # ... and the backend agrees with them
    got = forward(cell, inp, backend, mask, ra)
    assert got.h_seq.dtype == dtype
    _assert_close(got.h_seq, want.h_seq, dtype, "h_seq")
    _assert_close(got.h_last, want.h_last, dtype, "h_last")
    if cell == "lstm":
        _assert_close(got.c_last, want.c_last, dtype, "c_last")
        _assert_close(got.c_last, loop_c, dtype, "c_last (loop)")
    names = ["dx", "dW", "dU", "db", "dh0", "dc0"]
    for name, g, w in zip(names, backward(cell, got.cache, inp), want_g):
        assert g.dtype == dtype and g.shape == w.shape, name
        _assert_close(g, w, dtype, name)


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_masked_steps_carry_the_states_and_take_no_gradient(backend, variant):
    """The blend itself, read off the results: a masked step repeats the state before it, a
    sample with no valid step ends in h0 (and c0) with dh0 = dh_last + sum of its dh_seq, and
    what a masked step's input does cannot matter (dx = 0 there)."""
    cell, ra = variant
    B, T = 5, 6
    inp = make_inputs(cell, B, T, 3, 4, np.float64, seed=5, reset_after=ra)
    mask = make_mask("edges", B, T)
    r = forward(cell, inp, backend, mask, ra)
    prev = np.concatenate([inp["h0"][:, None], r.h_seq[:, :-1]], axis=1)
    np.testing.assert_array_equal(r.h_seq[~mask], prev[~mask])
    np.testing.assert_array_equal(r.h_last[0], inp["h0"][0])
    if cell == "lstm":
        np.testing.assert_array_equal(r.c_last[0], inp["c0"][0])
    g = ops.Gradients(*backward(cell, r.cache, inp))
    np.testing.assert_array_equal(g.dx[~mask], 0)
    np.testing.assert_allclose(g.dh0[0], inp["dh_last"][0] + inp["dh_seq"][0].sum(0),
                               rtol=1e-12)
    if cell == "lstm":
        np.testing.assert_allclose(g.dc0[0], inp["dc_last"][0], rtol=1e-12)
    # the inputs of masked steps are not read
    x2 = inp["x"].copy()
    x2[~mask] = 1e3
    r2 = forward(cell, dict(inp, x=x2), backend, mask, ra)
    np.testing.assert_array_equal(r2.h_seq, r.h_seq)


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_an_all_valid_mask_gives_the_unmasked_results(backend, variant):
    cell, ra = variant
    inp = make_inputs(cell, 6, 5, 3, 7, np.float64, seed=2, reset_after=ra)
    plain, masked = forward(cell, inp, backend, None, ra), forward(cell, inp, backend,
                                                                    np.ones((6, 5), np.uint8), ra)
    np.testing.assert_allclose(masked.h_seq, plain.h_seq, rtol=1e-13, atol=1e-14)
    for a, b in zip(backward(cell, masked.cache, inp), backward(cell, plain.cache, inp)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_uint8_masks_and_bool_masks_agree_and_the_cache_keeps_its_own_copy(backend):
    inp = make_inputs("lstm", 4, 5, 2, 3, np.float64, seed=4)
    mask = make_mask("edges", 4, 5)
    as_bytes = mask.astype(np.uint8) * 7          # any nonzero value marks a valid step
    r1, r2 = forward("lstm", inp, backend, mask), forward("lstm", inp, backend, as_bytes)
    np.testing.assert_array_equal(r1.h_seq, r2.h_seq)
    want = backward("lstm", r1.cache, inp)
    as_bytes[:] = 1                               # editing the caller's mask changes nothing
    for a, b in zip(backward("lstm", r2.cache, inp), want):
        np.testing.assert_array_equal(a, b)


# -- the reference's masked loop against finite differences ----------------------------------

@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_reference_masked_gradients_match_finite_differences(variant):
    cell, ra = variant
    B, T, I, H = 3, 5, 2, 3
    inp = make_inputs(cell, B, T, I, H, np.float64, seed=9, reset_after=ra, scale=1.0)
    mask = make_mask("edges", B, T, seed=2)
    mask[1, 3] = False                            # a gap between valid steps
    wrt = ["x", "W", "U", "b", "h0"] + (["c0"] if cell == "lstm" else [])

    def loss(d):
        r = forward(cell, d, "numpy", mask, ra)
        total = np.sum(r.h_seq * inp["dh_seq"]) + np.sum(r.h_last * inp["dh_last"])
        if cell == "lstm":
            total += np.sum(r.c_last * inp["dc_last"])
        return total

    r = forward(cell, inp, "numpy", mask, ra)
    grads = dict(zip(["dx", "dW", "dU", "db", "dh0", "dc0"], backward(cell, r.cache, inp)))
    eps = 1e-6
    for name in wrt:
        num = np.zeros_like(inp[name])
        for idx in np.ndindex(inp[name].shape):
            up, down = {k: v.copy() for k, v in inp.items()}, {k: v.copy() for k, v in inp.items()}
            up[name][idx] += eps
            down[name][idx] -= eps
            num[idx] = (loss(up) - loss(down)) / (2 * eps)
        np.testing.assert_allclose(grads["d" + name], num, rtol=1e-6, atol=1e-8, err_msg=name)


# -- bad masks ---------------------------------------------------------------------------------

BAD_SHAPES = [((3, 5), "(3, 5)"), ((4, 4), "(4, 4)"), ((4,), "(4,)"), ((4, 5, 1), "(4, 5, 1)")]


@pytest.mark.parametrize("bad", BAD_SHAPES, ids=lambda b: b[1])
@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_a_mask_of_the_wrong_shape_is_a_value_error_naming_it(backend, bad):
    shape, text = bad
    inp = make_inputs("gru", 4, 5, 2, 3, np.float64)
    with pytest.raises(ValueError) as info:
        forward("gru", inp, backend, np.ones(shape, bool))
    msg = str(info.value)
    assert msg.startswith("mask must have shape (B, T) = (4, 5)") and f"got {text}" in msg, msg


@pytest.mark.parametrize("dtype", [np.float64, np.int64, np.int8, np.uint16])
@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_a_mask_of_the_wrong_dtype_is_an_error_naming_it(backend, dtype):
    """ValueError as the issue asks, and a TypeError as every wrong dtype is (ParameterError)."""
    inp = make_inputs("elman", 4, 5, 2, 3, np.float64)
    with pytest.raises(ValueError) as info:
        forward("elman", inp, backend, np.ones((4, 5), dtype))
    assert isinstance(info.value, TypeError)
    msg = str(info.value)
    assert msg == (f"mask must be a bool or uint8 array of shape (B, T) = (4, 5), got dtype "
                   f"{np.dtype(dtype)}"), msg


def test_the_compiled_binding_validates_the_mask_itself():
    core = pytest.importorskip("fastrnn.backends._core")
    inp = make_inputs("lstm", 2, 3, 2, 4, np.float64)
    args = [inp[k] for k in ("x", "W", "U", "b", "h0", "c0")] + ["tanh", "sigmoid"]
    with pytest.raises(ValueError, match=r"mask must have shape \(B, T\) = \(2, 3\), got \(3, 2\)"):
        core.lstm_forward(*args, mask=np.ones((3, 2), bool))
    with pytest.raises(ValueError, match="mask must be a bool or uint8 array"):
        core.lstm_forward(*args, mask=np.ones((2, 3), np.float32))
    _h_seq, _, _, saved = core.lstm_forward(*args, mask=np.ones((2, 3), bool))
    assert len(saved) == 9 and saved[-1].dtype == np.uint8
    damaged = saved[:-1] + (saved[-1][:, :2],)
    with pytest.raises(ValueError, match="cache mask is damaged"):
        core.lstm_backward(damaged, None, None, None, "tanh")


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_a_damaged_mask_in_the_cache_is_a_cache_error(backend):
    inp = make_inputs("elman", 3, 4, 2, 3, np.float64)
    r = forward("elman", inp, backend, make_mask("edges", 3, 4))
    saved = r.cache.saved
    if isinstance(saved, dict):
        r.cache.saved = {**saved, "mask": saved["mask"][:, :2]}
    else:
        r.cache.saved = saved[:-1] + (saved[-1].astype(np.int64),)
    with pytest.raises(ValueError, match="cache"):
        backward("elman", r.cache, inp)


# -- the CUDA backend takes no masks -----------------------------------------------------------

def test_cuda_refuses_a_mask_and_says_so():
    assert backends.capabilities("numpy")["masks"] is True
    try:
        from fastrnn.backends import cuda
    except ImportError as exc:   # not built (no nvcc at build time): nothing to refuse
        pytest.skip(f"the CUDA backend is not built: {exc}")
    assert cuda.CAPABILITIES["masks"] is False
    inp = make_inputs("elman", 2, 3, 2, 3, np.float64)
    with pytest.raises(ValueError, match="mask must be None on the 'cuda' backend"):
        cuda.elman_forward(inp["x"], inp["W"], inp["U"], inp["b"], None, "tanh",
                           mask=np.ones((2, 3), bool))


def test_a_layer_on_a_backend_without_masks_falls_back_to_the_per_step_path(monkeypatch):
    """What a masked layer does on the CUDA backend, simulated on the CPU: the per-step path."""
    x, mask = _layer_inputs()
    monkeypatch.setattr(_recurrent.Recurrent, "_kernels_take_masks", lambda self: False)
    calls = _count_stepwise(monkeypatch)
    layers.LSTM(3, seed=1)(x, mask=mask)
    assert calls == {"run": 1, "backward": 0}


# -- the layers: masked calls run in the kernels -----------------------------------------------

def _layer_inputs(B=6, T=7, I=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((B, T, I))
    return x, make_mask("edges", B, T)


def _count_stepwise(monkeypatch):
    calls = {"run": 0, "backward": 0}
    run, back = _stepwise.run, _stepwise.backward

    def counted_run(*a, **k):
        calls["run"] += 1
        return run(*a, **k)

    def counted_back(*a, **k):
        calls["backward"] += 1
        return back(*a, **k)

    monkeypatch.setattr(_stepwise, "run", counted_run)
    monkeypatch.setattr(_stepwise, "backward", counted_back)
    return calls


def _run_layer(make, x, mask, dy_seed=1, initial_state=None, training=False):
    layer = make()
    out = layer(x, training=training, mask=mask, initial_state=initial_state)
    first = out[0] if isinstance(out, list) else out
    dy = np.random.default_rng(dy_seed).standard_normal(first.shape)
    dx = layer.backward(dy)
    return out, dx, [g.copy() for g in layer.grads]


LAYERS = {
    "SimpleRNN": lambda **k: layers.SimpleRNN(4, seed=3, **k),
    "LSTM": lambda **k: layers.LSTM(4, seed=3, **k),
    "GRU": lambda **k: layers.GRU(4, seed=3, **k),
    "GRU-cho": lambda **k: layers.GRU(4, seed=3, reset_after=False, **k),
}
OPTIONS = [{}, {"return_sequences": True}, {"return_sequences": True, "zero_output_for_mask": True},
           {"zero_output_for_mask": True}, {"return_sequences": True, "go_backwards": True},
           {"return_state": True}]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(o) or "last")
@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_masked_layers_run_in_the_kernels_and_match_the_per_step_path(monkeypatch, backend, name,
                                                                      options):
    x, mask = _layer_inputs()
    h0 = np.random.default_rng(7).standard_normal((x.shape[0], 4))
    init = [h0, 0.5 * h0] if name == "LSTM" else [h0]

    def make():
        return LAYERS[name](backend=backend, dtype="float64", **options)

    calls = _count_stepwise(monkeypatch)
    for state in (None, init):        # with an initial state the leading outputs still are zeros
        out, dx, grads = _run_layer(make, x, mask, initial_state=state)
        assert calls == {"run": 0, "backward": 0}
        with monkeypatch.context() as m:
            m.setattr(_recurrent.Recurrent, "_kernels_take_masks", lambda self: False)
            old_out, old_dx, old_grads = _run_layer(make, x, mask, initial_state=state)
        assert calls["run"] == 1 and calls["backward"] == 1
        calls.update(run=0, backward=0)
        outs = out if isinstance(out, list) else [out]
        old_outs = old_out if isinstance(old_out, list) else [old_out]
        for a, b in zip(outs, old_outs):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dx, old_dx, rtol=1e-10, atol=1e-12)
        for a, b in zip(grads, old_grads):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_recurrent_dropout_still_takes_the_per_step_path(monkeypatch):
    x, mask = _layer_inputs()
    calls = _count_stepwise(monkeypatch)
    layer = layers.SimpleRNN(4, recurrent_dropout=0.3, seed=2)
    layer(x, training=True, mask=mask)
    assert calls["run"] == 1
    layer(x, training=False, mask=mask)            # inference has no dropout: the kernels
    assert calls["run"] == 1


def test_a_masking_model_trains_without_the_per_step_path(monkeypatch):
    import fastrnn
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 8, 2))
    x[:, :3] = 0.0                                  # leading padding, as Masking expects
    x[::3, -2:] = 0.0
    y = rng.standard_normal((32, 1))
    calls = _count_stepwise(monkeypatch)
    model = fastrnn.Sequential([layers.Masking(0.0, input_shape=(8, 2)), layers.LSTM(4, seed=1),
                                layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    hist = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert calls == {"run": 0, "backward": 0}
    assert np.isfinite(hist.history["loss"]).all()
